#!/bin/sh
# report.sh OUT: write OUT/report.md's text to standard output from what the
# recipe (examples/Makefile) made in OUT: the paper's Table 3 figures for this
# corpus beside the paper's, the Vendi figures, lexical diversity, the flag
# rates, the tools, and the plots when there are any.  Needs jq.
set -eu
out=${1:?usage: report.sh OUT}
cd "$out"

# jq with the helpers every figure below uses: fixed decimals, percentages,
# and a dash for what is missing.
q() {
	jq -r "def f(d): if . == null then \"-\" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
		def pct: if . == null then \"-\" else (. * 100 | f(2)) + \"%\" end; $1" "$2"
}
lines() { wc -l <"$1" | tr -d ' '; }

echo "# ise corpus report"
echo
echo "Made by \`make -C examples\` ($(sed -n 1p settings 2>/dev/null)), engine:" \
	"$(jq -r .engine intents.jsonl | sort -u | tr '\n' ' ')(the offline engine's figures" \
	"describe the recipe, not a model)."
echo
echo "## The pipeline"
echo
echo "| stage | records | file |"
echo "|---|---:|---|"
echo "| ise-persona | $(lines personas.jsonl) | personas.jsonl |"
echo "| ise-sample | $(lines tuples.jsonl) | tuples.jsonl |"
echo "| ise-render | $(lines intents.jsonl) | intents.jsonl |"
echo "| ise-dedup | $(lines unique.jsonl) kept, $(q '"\(.removed) removed (\(.rules.exact) exact, \(.rules.normalized) normalised, \(.rules.minhash) near)"' dedup.json) | unique.jsonl, dupes.jsonl |"
echo "| ise-sim | $(lines trajectories.jsonl) kept, $(lines rejects.jsonl) rejected | trajectories.jsonl, rejects.jsonl |"
echo "| ise-audit | $(lines audited.jsonl) | audited.jsonl, summary.json |"
echo
echo "## Table 3: the corpus"
echo
echo "Intents are the unique ones; the paper's figures are for its 43,956 intents and"
echo "23,132 released trajectories, made with real models. Tokens are estimated as"
echo "bytes / 4 (ise-audit(1))."
echo
echo "| | this corpus | ISE paper |"
echo "|---|---:|---:|"
jq -rs 'length as $n | def mean(f): if $n == 0 then "-" else (map(f) | add / $n * 100 | round / 100 | tostring) end;
	"| Intents | \($n) | 43,956 |",
	"| Domains per intent | \(mean(.domains | length)) | 2.35 |",
	"| Tasks per intent | \(mean(.tasks | length)) | 4.40 |",
	"| Tools per intent | \(mean(.tools | length)) | 3.18 |"' unique.jsonl
q '"| Trajectories | \(.trajectories) | 23,132 |",
	"| Completion rate | \(.completion.rate | pct) | - |",
	"| User turns: mean / median / max | \(.user_turns.mean | f(2)) / \(.user_turns.median) / \(.user_turns.max) | 8.12 / 8 / 23 |",
	"| Trajectories with 6 to 10 user turns | \(.user_turns.share_6_10 | pct) | 91.1% |",
	"| Dialogue turns: mean / max | \(.dialogue_turns.mean | f(2)) / \(.dialogue_turns.max) | 68.24 / 565 |",
	"| Tool calls per trajectory: mean / max | \(.tool_calls.mean | f(2)) / \(.tool_calls.max) | 29.26 / - |",
	"| Unique tools per trajectory | \(.unique_tools.mean | f(2)) | 4.69 |",
	"| Reasoning blocks per trajectory | \(.reasoning_blocks.mean | f(2)) | 33.62 |",
	"| Tokens per trajectory | \(.tokens.mean | f(0)) | 50.5k |"' summary.json
echo
echo "## Diversity of the intents"
echo
q '"Embedder \(.embedder) (\(.dim) dimensions, cosine kernel), \(.n) intents. The paper'"'"'s figures",
	"(all-mpnet-base-v2) are on another scale: compare runs of this recipe with each other.",
	"",
	"| Vendi Score | q = 0 | q = 1 | q = 2 | q = inf |",
	"|---|---:|---:|---:|---:|",
	"| whole pool (\(.n)) | \(.vendi["0"] | f(2)) | \(.vendi["1"] | f(2)) | \(.vendi["2"] | f(2)) | \(.vendi["inf"] | f(2)) |",
	(.bootstrap // empty | "| \(.draws) draws of \(.size), mean ± sd | \(.mean["0"] | f(2)) ± \(.sd["0"] | f(2)) | \(.mean["1"] | f(2)) ± \(.sd["1"] | f(2)) | \(.mean["2"] | f(2)) ± \(.sd["2"] | f(2)) | \(.mean["inf"] | f(2)) ± \(.sd["inf"] | f(2)) |"),
	"| paper: 43,956 intents; 30 draws of 500 | | 61.57; 51.27 ± 1.49 | | |",
	"",
	"Scaling curve (nested random prefixes; paper: 40.67 at 200 to 61.57 at 43,956):",
	"",
	"| intents | q = 1 | q = 2 |",
	"|---:|---:|---:|",
	(.curve[] | "| \(.n) | \(.vendi["1"] | f(2)) | \(.vendi["2"] | f(2)) |")' diversity.json
echo
echo "Per slice (a slice holds the intents with that value; an intent is in the slice"
echo "of each of its domains). The draws are of the smallest slice's size, so that"
echo "slices compare; the paper's slices at 500 were 51.40 to 51.60, Tech alone 41.61."
echo
echo "| by | slice | intents | Vendi q = 1 | draws: mean ± sd |"
echo "|---|---|---:|---:|---:|"
q '"| \(.by) | \(.slice) | \(.n) | \(.vendi["1"] | f(2)) | \(.bootstrap // null | if . then "\(.mean["1"] | f(2)) ± \(.sd["1"] | f(2)) (\(.draws) of \(.size))" else "-" end) |"' slices.jsonl
echo
q '.lexical | "Lexical diversity (texts lowercased and split at white space, the first \(.k) tokens",
	"of \(.texts) texts of at least \(.k) tokens; Self-BLEU on the whole texts, higher is",
	"more repetitive):",
	"",
	"| distinct-1 | distinct-2 | distinct-3 | distinct-4 | Self-BLEU-2 | Self-BLEU-3 | Self-BLEU-4 | Self-BLEU-5 |",
	"|---:|---:|---:|---:|---:|---:|---:|---:|",
	"| \(.distinct["1"] | f(4)) | \(.distinct["2"] | f(4)) | \(.distinct["3"] | f(4)) | \(.distinct["4"] | f(4)) | \(.self_bleu["2"] | f(4)) | \(.self_bleu["3"] | f(4)) | \(.self_bleu["4"] | f(4)) | \(.self_bleu["5"] | f(4)) |"' diversity.json
echo
echo "## Flags (ise-audit)"
echo
echo "| check | trajectories | share | ISE paper |"
echo "|---|---:|---:|---:|"
q '.flags | "| role drift | \(.role_drift.trajectories) | \(.role_drift.share | pct) | - |",
	"| role drift, of user turns | \(.role_drift.turns) turns | \(.role_drift.turn_share | pct) | 0.02% |",
	"| stagnation | \(.stagnation.trajectories) | \(.stagnation.share | pct) | 0.91% |",
	"| broken tool calls | \(.integrity.trajectories) | \(.integrity.share | pct) | - |",
	"| intact tool calls | \(.integrity.intact_calls) of \(.integrity.calls) calls | \(.integrity.intact_share | pct) | 99.96% |",
	"| secrets | \(.secrets.trajectories) | \(.secrets.share | pct) | - |",
	"| no drift and no stagnation | \(.no_drift_or_stagnation.trajectories) | \(.no_drift_or_stagnation.share | pct) | 98.9% |",
	"| clean (no flag) | \(.clean.trajectories) | \(.clean.share | pct) | - |"' summary.json
echo
echo "## Tools"
echo
echo "| tool | calls | share |"
echo "|---|---:|---:|"
q '.tools[:10][] | "| \(.tool) | \(.calls) | \(.share | pct) |"' summary.json
echo
echo "Most frequent runs of three calls:"
echo
echo "| trigram | count | share |"
echo "|---|---:|---:|"
q '.trigrams.top[:5][] | "| \(.tools | join(" → ")) | \(.count) | \(.share | pct) |"' summary.json
echo
echo "## Plots"
echo
if [ -f plots/vendi-curve.png ]; then
	for p in "vendi-curve:The Vendi scaling curve" "user-turns:User turns per trajectory" \
		"tool-cooccurrence:Tool co-occurrence" "domains:Domain shares" \
		"complexity:Complexity shares" "pca:PCA of the intent embeddings, by first domain"; do
		name=${p%%:*}
		echo "![${p#*:}](plots/$name.png) ([SVG](plots/$name.svg))"
		echo
	done
else
	echo "No plots: gnuplot is not installed (\`make deps\` installs it). The data of"
	echo "each is in plots/*.tsv."
	echo
fi
awk 'NR == 1 { e = $2; sub(/,$/, "", e)
	printf "The first two principal components of the %s intent embeddings (%s) explain\n", $3, e
	printf "%.1f%% and %.1f%% of their variance.\n", $6 * 100, $7 * 100; exit }' plots/pca.tsv
