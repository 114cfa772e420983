#!/bin/sh
# make demo: the examples/ recipe (examples/Makefile) at a tiny size, offline,
# in seconds, then a look at what it made and where everything went.  Output
# goes to demo-out/ (ignored by git), afresh each time.
set -eu
cd "$(dirname "$0")/.."
out=demo-out
n=${DEMO_N:-24}
rm -rf "$out"

echo "ise demo: make -f examples/Makefile N=$n OUT=$out (offline engine, seed 1)"
# The recipe's own lines say what each stage made; the sandbox isolation is
# chosen there (namespaces as root, bubblewrap otherwise, else rlimits only).
make -s --no-print-directory -f examples/Makefile N="$n" PERSONAS=100 OUT="$out"
if command -v jq >/dev/null 2>&1; then
	echo
	echo "one tuple:"
	head -n 1 "$out/tuples.jsonl" | jq -c '{id, persona: (.persona.name + ", " + .persona.role + " (" + .persona.industry + ")"), domains, tasks: [.tasks[].name], tools, complexity}'
	echo "its intent:"
	head -n 1 "$out/intents.jsonl" | jq -r .natural_language_intent | fold -s -w 78 | sed 's/^/  /'
	echo "its trajectory, the user's side and the tools that ran:"
	head -n 1 "$out/trajectories.jsonl" | jq -r '.messages[] |
		if .role == "user" then "  user: " + .content
		elif .tool_calls then "    -> " + ([.tool_calls[].function | .name + " " + (.arguments | fromjson | (.command // .path // .url // .action // "") | tostring | split("\n")[0] | .[0:60])] | join("; "))
		else empty end'
	echo "corpus: $(jq -r '"\(.trajectories) trajectories, \(.user_turns.mean) user turns and \(.tool_calls.mean) tool calls on average, completion rate \(.completion.rate)"' "$out/summary.json")"
	echo "diversity: $(jq -r '"Vendi Score \(.vendi["1"] * 100 | round / 100) of \(.n) intents (\(.embedder)), distinct-2 \(.lexical.distinct["2"] * 1000 | round / 1000)"' "$out/diversity.json")"
	echo "role drift flags: $(jq -r '.flags.role_drift.trajectories' "$out/summary.json")"
	echo "verified by their tasks' checks: $(jq -r 'if .verification then "\(.verification.verified) of \(.verification.trajectories) trajectories with checks (rate \(.verification.verified_rate))" else "no trajectory has checks" end' "$out/summary.json")"
	echo "training files: $(wc -l <"$out/export/train.jsonl" | tr -d ' ') train and $(wc -l <"$out/export/validation.jsonl" | tr -d ' ') validation samples in $out/export/ (LLaMA-Factory's sharegpt, its dataset_info.json, a dataset card)"
	echo "sampling space: $(bin/ise-sample -p "$out/personas.jsonl" --space | jq -r '"\(.total) (10^\(.log10_total)) = \(.personas) personas x \(.task_sets) task sets x \(.complexities) complexities"')"
fi
echo
echo "done: see $out/ and $out/report.md"
