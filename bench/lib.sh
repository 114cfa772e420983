# bench/lib.sh: how every bench script starts, sourced first thing with
#   . "$(dirname "$0")/lib.sh"
# Strict mode, the repository root as the working directory, bench/out (in
# $out) for what a run leaves behind, and the timers.
set -eu
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"

now() { date +%s.%N; }
best() { # best wall time in seconds of $1 runs of the rest, output discarded
	runs=$1; shift
	t=
	for _ in $(seq "$runs"); do
		s=$(now)
		"$@" >/dev/null
		e=$(now)
		t=$(echo "$s $e ${t:-999999}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
	done
	echo "$t"
}
