#!/bin/sh
# make demo: run the pipeline as far as it exists today, offline, in seconds,
# and say where everything went.  Output goes to demo-out/ (ignored by git).
set -eu
cd "$(dirname "$0")/.."
out=demo-out
bin=bin
mkdir -p "$out"
rm -f "$out"/*.jsonl "$out"/*.json

echo "ise demo: offline engine, seed 1"
"$bin"/ise-persona --offline -n 200 -o "$out/personas.jsonl"
echo "  ise-persona -n 200                 -> $out/personas.jsonl ($(wc -l <"$out/personas.jsonl") personas)"
"$bin"/ise-sample -p "$out/personas.jsonl" -n 500 -o "$out/tuples.jsonl"
echo "  ise-sample -p personas.jsonl -n 500 -> $out/tuples.jsonl ($(wc -l <"$out/tuples.jsonl") intent tuples)"
"$bin"/ise-sample -p "$out/personas.jsonl" --space -o "$out/space.json"
echo "  ise-sample --space                 -> $out/space.json"
"$bin"/ise-render --offline -o "$out/intents.jsonl" "$out/tuples.jsonl"
echo "  ise-render < tuples.jsonl          -> $out/intents.jsonl ($(wc -l <"$out/intents.jsonl") intents, offline engine)"
for stage in ise-dedup ise-vendi ise-sim; do
	[ -x "$bin/$stage" ] || echo "  ($stage: not built yet)"
done
if command -v jq >/dev/null 2>&1; then
	echo
	echo "one tuple:"
	head -n 1 "$out/tuples.jsonl" | jq -c '{id, persona: (.persona.name + ", " + .persona.role + " (" + .persona.industry + ")"), domains, tasks: [.tasks[].name], tools, complexity}'
	echo "complexity shares:"
	jq -r .complexity "$out/tuples.jsonl" | sort | uniq -c | sed 's/^/ /'
	echo "its intent:"
	head -n 1 "$out/intents.jsonl" | jq -r .natural_language_intent | fold -s -w 78 | sed 's/^/  /'
	echo "sampling space: $(jq -r '"\(.total) (10^\(.log10_total)) = \(.personas) personas x \(.task_sets) task sets x \(.complexities) complexities"' "$out/space.json")"
fi
echo
echo "done: see $out/"
