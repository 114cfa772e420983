#!/bin/sh
# make demo: run the pipeline as far as it exists today, offline, in seconds,
# and say where everything went.  Output goes to demo-out/ (ignored by git).
set -eu
cd "$(dirname "$0")/.."
out=demo-out
bin=bin
mkdir -p "$out"
rm -f "$out"/*.jsonl "$out"/*.json "$out"/sim.log

echo "ise demo: offline engine, seed 1"
"$bin"/ise-persona --offline -n 200 -o "$out/personas.jsonl"
echo "  ise-persona -n 200                 -> $out/personas.jsonl ($(wc -l <"$out/personas.jsonl") personas)"
"$bin"/ise-sample -p "$out/personas.jsonl" -n 500 -o "$out/tuples.jsonl"
echo "  ise-sample -p personas.jsonl -n 500 -> $out/tuples.jsonl ($(wc -l <"$out/tuples.jsonl") intent tuples)"
"$bin"/ise-sample -p "$out/personas.jsonl" --space -o "$out/space.json"
echo "  ise-sample --space                 -> $out/space.json"
"$bin"/ise-render --offline -o "$out/intents.jsonl" "$out/tuples.jsonl"
echo "  ise-render < tuples.jsonl          -> $out/intents.jsonl ($(wc -l <"$out/intents.jsonl") intents, offline engine)"
for stage in ise-dedup ise-vendi; do
	[ -x "$bin/$stage" ] || echo "  ($stage: not built yet)"
done
# Real trajectories: a scripted user and agent, every tool call run in a
# sandbox (namespaces as root, bubblewrap otherwise, else rlimits only).
iso=
if [ "$(id -u)" -ne 0 ] && ! command -v bwrap >/dev/null 2>&1; then
	iso="--isolation rlimit"
	echo "  (not root and no bwrap: the sandbox runs with rlimits only)"
fi
head -n 40 "$out/intents.jsonl" >"$out/sim-intents.jsonl"
status=0
# shellcheck disable=SC2086 # $iso is empty or two words
"$bin"/ise-sim $iso -j 8 --rejects "$out/rejects.jsonl" -o "$out/trajectories.jsonl" \
	"$out/sim-intents.jsonl" 2>"$out/sim.log" || status=$?
[ "$status" -le 1 ] || { cat "$out/sim.log" >&2; exit "$status"; }
echo "  ise-sim < 40 intents               -> $out/trajectories.jsonl ($(wc -l <"$out/trajectories.jsonl") kept, $(wc -l <"$out/rejects.jsonl") in rejects.jsonl, offline engine, tools run for real)"
"$bin"/ise-audit -o "$out/audited.jsonl" "$out/trajectories.jsonl"
"$bin"/ise-audit --summary --rejects "$out/rejects.jsonl" -o "$out/summary.json" "$out/trajectories.jsonl"
echo "  ise-audit < trajectories.jsonl     -> $out/audited.jsonl, $out/summary.json"
if command -v jq >/dev/null 2>&1; then
	echo
	echo "one tuple:"
	head -n 1 "$out/tuples.jsonl" | jq -c '{id, persona: (.persona.name + ", " + .persona.role + " (" + .persona.industry + ")"), domains, tasks: [.tasks[].name], tools, complexity}'
	echo "complexity shares:"
	jq -r .complexity "$out/tuples.jsonl" | sort | uniq -c | sed 's/^/ /'
	echo "its intent:"
	head -n 1 "$out/intents.jsonl" | jq -r .natural_language_intent | fold -s -w 78 | sed 's/^/  /'
	echo "its trajectory, the user's side and the tools that ran:"
	head -n 1 "$out/trajectories.jsonl" | jq -r '.messages[] |
		if .role == "user" then "  user: " + .content
		elif .tool_calls then "    -> " + ([.tool_calls[].function | .name + " " + (.arguments | fromjson | (.command // .path // .url // .action // "") | tostring | split("\n")[0] | .[0:60])] | join("; "))
		else empty end'
	echo "corpus: $(jq -r '"\(.trajectories) trajectories, \(.user_turns.mean) user turns and \(.tool_calls.mean) tool calls on average, completion rate \(.completion.rate)"' "$out/summary.json")"
	echo "role drift flags: $(jq -s '[.[].audit.role_drift | length] | add' "$out/audited.jsonl")"
	echo "sampling space: $(jq -r '"\(.total) (10^\(.log10_total)) = \(.personas) personas x \(.task_sets) task sets x \(.complexities) complexities"' "$out/space.json")"
fi
echo
echo "done: see $out/"
