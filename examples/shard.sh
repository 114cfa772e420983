#!/bin/sh
# shard.sh: run one stage of the recipe in SHARDS pieces with GNU parallel,
# locally or on the hosts of an sshloginfile, and exit as one ise program
# would: 0, 1 when some records were rejected (the others are written), or
# the worst status of a piece.  Output order is input order.
#
#   shard.sh -j SHARDS [-S SSHLOGINFILE] -l JOBLOG pipe INPUT COMMAND...
#       cuts INPUT into blocks of whole lines (about 4 a shard, so that slow
#       records even out) and feeds each to COMMAND on its standard input;
#       '{#}' in COMMAND is the block's number (for per-block side files).
#   shard.sh -j SHARDS [-S SSHLOGINFILE] -l JOBLOG count N COMMAND...
#       runs COMMAND -n COUNT --start START for SHARDS ranges that make up
#       0 to N-1 (ise-sample's sharding).
#
# Over ssh the hosts must see the same files at the same paths (a shared file
# system) and have the programs there: give COMMAND and files as absolute paths.
set -u
shards=1 sshlogin='' joblog=''
while getopts j:S:l: opt; do
	case $opt in
	j) shards=$OPTARG ;;
	S) sshlogin=$OPTARG ;;
	l) joblog=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ] || [ -z "$joblog" ]; then
	echo "usage: shard.sh -j SHARDS [-S SSHLOGINFILE] -l JOBLOG pipe INPUT | count N COMMAND..." >&2
	exit 2
fi
case $shards in
'' | *[!0-9]*) shards=0 ;;
esac
if [ "$shards" -lt 1 ]; then
	echo "shard.sh: SHARDS must be a positive number" >&2
	exit 2
fi
if ! parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
	echo "shard.sh: SHARDS needs GNU parallel ('make deps' installs it)" >&2
	exit 3
fi
mode=$1 arg=$2
shift 2
# parallel with the options every mode shares; the command comes last.
run() {
	if [ -n "$sshlogin" ]; then
		parallel --keep-order -j "$shards" --joblog "$joblog" --sshloginfile "$sshlogin" "$@"
	else
		parallel --keep-order -j "$shards" --joblog "$joblog" "$@"
	fi
}
rm -f "$joblog"
case $mode in
pipe)
	size=$(wc -c <"$arg") || exit 3
	block=$((size / (shards * 4) + 1))
	[ "$block" -le 16777216 ] || block=16777216
	run --pipe --block "$block" -q "$@" <"$arg"
	;;
count)
	awk -v n="$arg" -v s="$shards" 'BEGIN {
		per = int((n + s - 1) / s)
		for (k = 0; k < s; k++) {
			c = n - k * per
			print (c > per ? per : c < 0 ? 0 : c), k * per
		}
	}' | run --colsep ' ' -q "$@" -n '{1}' --start '{2}'
	;;
*)
	echo "shard.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac
status=$?
# parallel's own status counts failed pieces; the joblog has each one's.
[ -s "$joblog" ] || exit 3
awk -F '\t' -v st="$status" 'NR > 1 {
		if ($8 != 0) worst = 3
		else if ($7 > worst) worst = $7
	}
	END { if (NR < 1 || (st > 100 && !worst)) worst = 3; exit worst }' "$joblog"
