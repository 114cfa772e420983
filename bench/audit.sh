#!/bin/sh
# ise-audit throughput: 20,000 generated trajectories of realistic size
# (bench/gen_trajectories.py: about 60 messages and 56 KB each, 1.1 GB in
# all), on one core, beside two peers on the same file: a Python pass doing
# the same checks (bench/peer_audit.py) and jq -c, which only parses and
# prints.  Target: at least 100 MB/s on one core.
. "$(dirname "$0")/lib.sh"
n=20000
corpus=$out/trajectories.jsonl
if [ ! -s "$corpus" ] || [ bench/gen_trajectories.py -nt "$corpus" ] ||
	[ "$(wc -l <"$corpus")" -ne $n ]; then
	python3 bench/gen_trajectories.py $n 1 >"$corpus"
fi
bytes=$(wc -c <"$corpus")

summary=$(best 3 taskset -c 0 bin/ise-audit --summary "$corpus")
records=$(best 3 taskset -c 0 bin/ise-audit "$corpus")
s=$(now)
taskset -c 0 python3 bench/peer_audit.py share/ise/role-drift.txt "$corpus" >"$out/peer-audit.json"
python=$(echo "$s $(now)" | awk '{print $2 - $1}')
jq=$(best 1 taskset -c 0 jq -c . "$corpus")
bin/ise-audit --summary "$corpus" >"$out/audit-summary.json"

echo "ise-audit: $n trajectories, $bytes bytes, on one core"
awk -v n=$n -v b="$bytes" -v s="$summary" -v r="$records" -v p="$python" -v j="$jq" 'BEGIN {
	printf "  ise-audit --summary  %7.2f s  %7.1f MB/s  %8.0f trajectories/s\n", s, b / s / 1e6, n / s
	printf "  ise-audit (records)  %7.2f s  %7.1f MB/s  %8.0f trajectories/s\n", r, b / r / 1e6, n / r
	printf "  python3 same checks  %7.2f s  %7.1f MB/s   ratio %.1fx faster (records)\n", p, b / p / 1e6, p / r
	printf "  jq -c . (parse+print)%7.2f s  %7.1f MB/s   ratio %.1fx faster (records)\n", j, b / j / 1e6, j / r
	printf "  target: 100 MB/s on one core -> %s\n", (b / r / 1e6 >= 100 && b / s / 1e6 >= 100 ? "met" : "NOT met")
}'
# the two passes agree on what they both count
jq -r -n --slurpfile a "$out/audit-summary.json" --slurpfile p "$out/peer-audit.json" '
	"  agree: drift turns \($a[0].flags.role_drift.turns)/\($p[0].drift_turns), " +
	"stagnant \($a[0].flags.stagnation.trajectories)/\($p[0].stagnation), " +
	"intact calls \($a[0].flags.integrity.intact_calls)/\($p[0].intact), " +
	"with secrets \($a[0].flags.secrets.trajectories)/\($p[0].secrets)"'
