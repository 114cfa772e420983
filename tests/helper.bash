# Shared setup for every bats suite: the built programs first on PATH,
# bats-support and bats-assert, and a few fixtures.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PATH="$ROOT/bin:$PATH"
export LC_ALL=C

# Every program in bin/, so suite-wide tests cover programs added later.
programs() {
	local p
	for p in "$ROOT"/bin/ise-*; do basename "$p"; done
}

# A small persona pool, made once per suite.
pool() {
	local f="$BATS_FILE_TMPDIR/pool.jsonl"
	[ -s "$f" ] || ise-persona -n "${1:-200}" -o "$f"
	echo "$f"
}

# How each program runs as a filter over standard input with valid records:
# conventions.bats runs every program in bin/ this way, and fails for a
# program that has no entry here.
filter_args() {
	case $1 in
	ise-persona) echo "-" ;;
	ise-sample) echo "-n 5 -" ;;
	*) return 1 ;;
	esac
}

# N (default 20) valid input records for that filter, distinct.
filter_input() {
	case $1 in
	ise-persona | ise-sample) ise-persona -n "${2:-20}" ;;
	*) return 1 ;;
	esac
}

# Compare two JSON Lines files record by record, key order ignored.
assert_same_json() {
	diff <(jq -cS . "$1") <(jq -cS . "$2")
}
