#!/usr/bin/env bats
# The fuzz targets (fuzz/fuzz_*.c) replayed under the normal build: every
# seed of the committed corpora, and every input that once crashed one
# (tests/fixtures/fuzz/TARGET/), must run to the end.  make fuzz runs them
# under libFuzzer; a crash it finds goes to tests/fixtures/fuzz/TARGET/.
load helper

replay() {
	local t=$1 dirs=("$ROOT/fuzz/corpus/$1")
	[ -d "$ROOT/tests/fixtures/fuzz/$t" ] && dirs+=("$ROOT/tests/fixtures/fuzz/$t")
	run -0 "$ISE_TESTPROGS/$t" "${dirs[@]}"
	[[ $output =~ ([0-9]+)\ inputs$ ]] || fail "no count: $output"
	((BASH_REMATCH[1] >= 20)) || fail "only ${BASH_REMATCH[1]} inputs for $t"
}

@test "every fuzz target has a replay driver and a seed corpus" {
	local src t
	for src in "$ROOT"/fuzz/fuzz_*.c; do
		t=$(basename "$src" .c)
		[ -x "$ISE_TESTPROGS/$t" ] || fail "$t is not built (make check builds it)"
		[ -d "$ROOT/fuzz/corpus/$t" ] || fail "$t has no fuzz/corpus/$t"
	done
	for t in "$ROOT"/tests/fixtures/fuzz/*/; do
		[ -d "$t" ] || continue
		[ -f "$ROOT/fuzz/$(basename "$t").c" ] || fail "fixtures for no target: $t"
	done
}

@test "fuzz_jsonl: the reader and the writer on the corpus and past crashes" {
	replay fuzz_jsonl
}

@test "fuzz_records: the record validators on the corpus and past crashes" {
	replay fuzz_records
}

@test "fuzz_exec: ise-exec's requests on the corpus and past crashes" {
	replay fuzz_exec
}

@test "fuzz_simuser: the simulator's JSON on the corpus and past crashes" {
	replay fuzz_simuser
}


@test "fuzz_export: ise-export's exporter on the corpus and past crashes" {
	replay fuzz_export
}

@test "fuzz_npy: the .npy reader and writer on the corpus and past crashes" {
	replay fuzz_npy
}
