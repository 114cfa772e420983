#!/bin/sh
# make bench: figures for the speed targets, each beside a peer run in the
# same invocation (absolute times on shared machines are noisy; ratios less).
. "$(dirname "$0")/lib.sh"
bin/ise-persona -n 1000 -o "$out/personas.jsonl"

n=50000
ise=$(best 5 taskset -c 0 bin/ise-sample -p "$out/personas.jsonl" -n $n -o "$out/tuples.jsonl")
peer=$(best 3 taskset -c 0 python3 bench/peer_sample.py "$out/personas.jsonl" share/ise/catalog.json $n "$out/peer.jsonl")
bytes=$(wc -c <"$out/tuples.jsonl")
echo "ise-sample: $n records on one core"
awk -v t="$ise" -v p="$peer" -v n=$n -v b="$bytes" 'BEGIN {
	printf "  ise-sample         %.3f s  %9.0f records/s  %6.1f MB/s\n", t, n / t, b / t / 1e6
	printf "  python3 reference  %.3f s  %9.0f records/s\n", p, n / p
	printf "  ratio              %.1fx faster   target: well under 1 s -> %s\n", p / t, (t < 0.5 ? "met" : "NOT met")
}'
sh bench/audit.sh
sh bench/render.sh
