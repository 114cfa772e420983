#!/bin/sh
# ise-export throughput: 4,000 generated trajectories of realistic size
# (bench/gen_trajectories.py: about 60 messages and 56 KB each, 225 MB in
# all) to the openai and sharegpt formats on one core, beside jq doing the
# same conversion in the same run (bench/export-openai.jq,
# bench/export-sharegpt.jq).  Target: at least 100 MB/s on one core.  Wall
# time on a shared machine counts the waits for the CPU too, so the CPU time
# (user + system) is shown beside it and decides the target.
. "$(dirname "$0")/lib.sh"
n=4000
corpus=$out/export-trajectories.jsonl
if [ ! -s "$corpus" ] || [ bench/gen_trajectories.py -nt "$corpus" ] ||
	[ "$(wc -l <"$corpus")" -ne $n ]; then
	python3 bench/gen_trajectories.py $n 1 >"$corpus"
fi
bytes=$(wc -c <"$corpus")

cpu() { # best CPU time (user + system, seconds) of $1 runs of the rest
	runs=$1
	shift
	t=
	for _ in $(seq "$runs"); do
		c=$( ("$@" >/dev/null 2>&1; times) | tail -n 1 |
			awk '{ split($1, u, "m"); split($2, s, "m"); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
		t=$(echo "$c ${t:-999999}" | awk '{print ($1 < $2 ? $1 : $2)}')
	done
	echo "$t"
}

echo "ise-export: $n trajectories, $bytes bytes, on one core (wall / CPU seconds)"
for f in openai sharegpt; do
	wall=$(best 3 taskset -c 0 sh -c "bin/ise-export -f $f '$corpus' 2>/dev/null; [ \$? -le 1 ]")
	cpu=$(cpu 3 taskset -c 0 bin/ise-export -f $f "$corpus")
	jqwall=$(best 1 taskset -c 0 jq -c -f bench/export-$f.jq "$corpus")
	bin/ise-export -f $f "$corpus" 2>/dev/null | head -n 200 | jq -cS . >"$out/export-$f.ise"
	head -n 200 "$corpus" | jq -c -f bench/export-$f.jq | jq -cS . >"$out/export-$f.jq"
	awk -v f=$f -v b="$bytes" -v w="$wall" -v c="$cpu" -v j="$jqwall" 'BEGIN {
		printf "  %-8s ise-export %6.2f s %6.1f MB/s   CPU %6.2f s %6.1f MB/s\n", f, w, b / w / 1e6, c, b / c / 1e6
		printf "  %-8s jq         %6.2f s %6.1f MB/s   ratio %.1fx faster (wall)\n", "", j, b / j / 1e6, j / w
		printf "  %-8s target: 100 MB/s on one core (CPU time) -> %s\n", "", (b / c / 1e6 >= 100 ? "met" : "NOT met")
	}'
	echo "           agree: $(cmp -s "$out/export-$f.ise" "$out/export-$f.jq" && echo "the first 200 samples are the same" ||
		echo "the first 200 samples DIFFER")"
done
