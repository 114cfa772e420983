#!/bin/sh
# shard.sh: run one stage of the recipe in pieces with GNU parallel, locally
# or on the hosts of an sshloginfile, and resume it when it was stopped.
# Each piece is an ise program run with -o DIR/out.K --resume, so a rerun
# keeps every record a piece finished.  Prints the pieces' records in input
# order and exits as one ise program would: 0, 1 when some records were
# rejected (the others are written), or the worst status of a piece (and
# then prints nothing).
#
#   shard.sh -j SHARDS [-S SSHLOGINFILE] -d DIR pipe INPUT COMMAND...
#       cuts INPUT into pieces of whole lines (about 4 a shard, so that slow
#       records even out), DIR/in.K, and runs COMMAND -o DIR/out.K --resume
#       DIR/in.K for each; '{}' in COMMAND is the piece's K (for side files).
#   shard.sh -j SHARDS [-S SSHLOGINFILE] -d DIR count N COMMAND...
#       runs COMMAND -n COUNT --start START -o DIR/out.K --resume for SHARDS
#       ranges that make up 0 to N-1 (ise-sample's sharding).
#
# DIR is made on the first run; the pieces it records are kept by later runs
# whatever their SHARDS (remove DIR to start again).  DIR/joblog is parallel's
# log of the last run.  Over ssh the hosts must see the same files at the same
# paths (a shared file system) and have the programs there: give COMMAND and
# every file as absolute paths.
set -u
shards=1 sshlogin='' dir=''
while getopts j:S:d: opt; do
	case $opt in
	j) shards=$OPTARG ;;
	S) sshlogin=$OPTARG ;;
	d) dir=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ] || [ -z "$dir" ]; then
	echo "usage: shard.sh -j SHARDS [-S SSHLOGINFILE] -d DIR pipe INPUT | count N COMMAND..." >&2
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
case $mode in
pipe | count) ;;
*)
	echo "shard.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

# The pieces: DIR/pieces holds a line a piece, "K" (pipe) or "K COUNT START"
# (count), and is written last, so a DIR without it is remade.
# Pieces of an older input, or of another N, are remade.
if [ ! -s "$dir/pieces" ] || [ "$(cat "$dir/mode" 2>/dev/null)" != "$mode $arg" ] ||
	{ [ "$mode" = pipe ] && [ "$arg" -nt "$dir/pieces" ]; }; then
	rm -rf "$dir" && mkdir -p "$dir" || exit 3
	n=$((shards * 4))
	if [ "$mode" = pipe ]; then
		split -n "l/$n" -d -a 5 "$arg" "$dir/in." || exit 3
		(cd "$dir" && ls in.*) | sed 's/^in\.//' >"$dir/pieces.new"
	else
		n=$shards
		awk -v n="$arg" -v s="$n" 'BEGIN {
			per = int((n + s - 1) / s)
			for (k = 0; k < s; k++) {
				c = n - k * per
				if (c > 0) printf "%05d %d %d\n", k, (c > per ? per : c), k * per
			}
		}' >"$dir/pieces.new"
	fi || exit 3
	echo "$mode $arg" >"$dir/mode" && mv "$dir/pieces.new" "$dir/pieces" || exit 3
fi

# the options go before -q, which makes what follows the command
set -- --keep-order -j "$shards" --joblog "$dir/joblog" ${sshlogin:+--sshloginfile "$sshlogin"} "$@"
if [ "$mode" = pipe ]; then
	parallel -q "$@" -o "$dir/out.{}" --resume "$dir/in.{}" <"$dir/pieces"
else
	parallel --colsep ' ' -q "$@" -n '{2}' --start '{3}' -o "$dir/out.{1}" --resume <"$dir/pieces"
fi
status=$?
# parallel's own status counts failed pieces; the joblog has each one's.
worst=$(awk -F '\t' -v st="$status" 'NR > 1 {
		if ($8 != 0) worst = 3
		else if ($7 > worst) worst = $7
	}
	END { if (NR < 2 || (st > 100 && !worst)) worst = 3; print worst + 0 }' "$dir/joblog" 2>/dev/null)
[ "${worst:-3}" -le 1 ] || exit "${worst:-3}"
while read -r k _; do
	cat "$dir/out.$k" || exit 3
done <"$dir/pieces"
exit "$worst"
