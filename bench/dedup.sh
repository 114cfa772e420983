#!/bin/sh
# ise-dedup speed: 50,000 intents of about 100 words with planted duplicates
# (tests/gen_dupes.py: exact copies, normalised variants, word edits), beside
# a numpy MinHash deduplicator written for the purpose (bench/peer_dedup.py,
# same method, same parameters) on the same file.  Target: under 2 seconds
# on this 2-core machine.  Both must keep the same records.
. "$(dirname "$0")/lib.sh"
n=50000
corpus=$out/dedup-corpus.jsonl
if [ ! -s "$corpus" ] || [ tests/gen_dupes.py -nt "$corpus" ] ||
	[ "$(wc -l <"$corpus")" -ne $n ]; then
	python3 tests/gen_dupes.py gen -n $n --seed 7 --words 100 >"$corpus"
fi
bytes=$(wc -c <"$corpus")

cores=$(getconf _NPROCESSORS_ONLN)
all=$(best 3 bin/ise-dedup -q "$corpus")
one=$(best 3 taskset -c 0 bin/ise-dedup -q "$corpus")
bin/ise-dedup -q --dupes "$out/dedup-dupes.jsonl" --summary "$out/dedup-summary.json" "$corpus" \
	>"$out/dedup-kept.jsonl"

echo "ise-dedup: $n intents, $bytes bytes (exact pass, then MinHash 128 perm, 5-gram words, t=0.7)"
awk -v n=$n -v b="$bytes" -v a="$all" -v o="$one" -v c="$cores" 'BEGIN {
	printf "  ise-dedup, %d cores   %6.2f s  %8.0f records/s  %6.1f MB/s\n", c, a, n / a, b / a / 1e6
	printf "  ise-dedup, 1 core    %6.2f s  %8.0f records/s\n", o, n / o
}'
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import numpy' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
	echo "  numpy reference      skipped: numpy is not installed (apt-get install python3-numpy)"
else
	s=$(now)
	"$py" bench/peer_dedup.py "$corpus" --kept "$out/peer-dedup-kept.txt" >"$out/peer-dedup.json"
	peer=$(echo "$s $(now)" | awk '{print $2 - $1}')
	awk -v p="$peer" -v a="$all" -v o="$one" -v n=$n 'BEGIN {
		printf "  numpy reference      %6.2f s  %8.0f records/s   ratio %.1fx faster (%.1fx on 1 core)\n", p, n / p, p / a, p / o
	}'
	jq -r .id "$out/dedup-kept.jsonl" | sort >"$out/dedup-kept.ids"
	sort "$out/peer-dedup-kept.txt" >"$out/peer-dedup-kept.ids"
	differ=$(comm -3 "$out/dedup-kept.ids" "$out/peer-dedup-kept.ids" | wc -l)
	echo "  agree: kept $(wc -l <"$out/dedup-kept.ids") / $(jq .kept "$out/peer-dedup.json"), records kept by only one: $differ"
fi
python3 tests/gen_dupes.py score "$corpus" "$out/dedup-kept.jsonl" "$out/dedup-dupes.jsonl" |
	jq -r '"  quality: precision \(.precision), recall exact \(.recall.exact) normalised \(.recall.variant), " +
		"edits at J >= 0.7 \(.recall_at_threshold) (\(.edits_at_threshold))"'
jq -r '"  removed: \(.rules.exact) exact, \(.rules.normalized) normalized, \(.rules.minhash) minhash; " +
	"LSH \(.minhash.bands) x \(.minhash.rows), \(.minhash.pairs_verified) pairs verified"' "$out/dedup-summary.json"
awk -v a="$all" 'BEGIN { printf "  target: under 2 s -> %s\n", (a < 2 ? "met" : "NOT met") }'
