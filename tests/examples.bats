#!/usr/bin/env bats
# examples/: the make-driven recipe, its report, and sharding with GNU
# parallel (SHARDS=N), which must give the records of one process.
load helper

setup_file() {
	export EX="$ROOT/examples"
}

setup() {
	unset OPENAI_BASE_URL OPENAI_API_KEY ISE_MODEL ISE_USER_BASE_URL ISE_USER_API_KEY \
		ISE_USER_MODEL ISE_AGENT_BASE_URL ISE_AGENT_API_KEY ISE_AGENT_MODEL SHARDS SSHLOGIN
}

need_parallel() {
	parallel --version 2>/dev/null | grep -q 'GNU parallel' || skip "GNU parallel not installed"
}

# The recipe, quietly, into a directory of this test.
recipe() {
	make -s --no-print-directory -C "$EX" PERSONAS=30 "$@"
}

# Two JSON Lines files hold the same records, whatever their order.
assert_same_records() {
	[ -s "$1" ] || fail "$1 is empty"
	diff <(jq -cS . "$1" | sort) <(jq -cS . "$2" | sort)
}

# Pieces a sharded stage ran in, from its joblog.
pieces() {
	tail -n +2 "$1" | wc -l
}

@test "SHARDS=3 gives the tuples and intents of one process" {
	need_parallel
	a=$BATS_TEST_TMPDIR/one b=$BATS_TEST_TMPDIR/sharded
	run -0 recipe N=9 OUT="$a" "$a/intents.jsonl"
	run -0 recipe N=9 OUT="$b" SHARDS=3 "$b/intents.jsonl"
	assert_output --partial "$b/intents.jsonl (9 lines)"
	[ "$(pieces "$b/tuples.jsonl.joblog")" -eq 3 ]
	[ "$(pieces "$b/intents.jsonl.joblog")" -gt 1 ]
	assert_same_records "$a/tuples.jsonl" "$b/tuples.jsonl"
	assert_same_records "$a/intents.jsonl" "$b/intents.jsonl"
	# and in the same order: shards are concatenated in input order
	cmp "$a/intents.jsonl" "$b/intents.jsonl"
}

@test "SHARDS=2 over an sshloginfile gives the trajectories and audits of one process" {
	need_parallel
	a=$BATS_TEST_TMPDIR/one b=$BATS_TEST_TMPDIR/sharded
	mkdir -p "$a" "$b"
	# one-task intents whose plans print the same bytes every run, as the
	# recipe's unique.jsonl, taken as it is (-o: not remade)
	filter_input ise-sim 6 >"$a/unique.jsonl" 2>/dev/null
	cp "$a/unique.jsonl" "$b/unique.jsonl"
	echo ":" >"$BATS_TEST_TMPDIR/hosts" # the local machine, as parallel(1) names it
	run -0 recipe OUT="$a" SIMFLAGS=--no-timings -o "$a/unique.jsonl" "$a/audited.jsonl"
	run -0 recipe OUT="$b" SIMFLAGS=--no-timings SHARDS=2 SSHLOGIN="$BATS_TEST_TMPDIR/hosts" \
		-o "$b/unique.jsonl" "$b/audited.jsonl"
	assert_output --partial "$b/trajectories.jsonl (6 kept, 0 rejected"
	[ "$(pieces "$b/trajectories.jsonl.joblog")" -gt 1 ]
	[ "$(pieces "$b/audited.jsonl.joblog")" -gt 1 ]
	assert_same_records "$a/trajectories.jsonl" "$b/trajectories.jsonl"
	assert_same_records "$a/audited.jsonl" "$b/audited.jsonl"
	[ ! -s "$b/rejects.jsonl" ]
}

@test "the sharding helper exits as one ise program would" {
	need_parallel
	cd "$BATS_TEST_TMPDIR"
	seq 1 20 | sed 's/.*/{"id":"&"}/' >in.jsonl
	run -0 sh "$EX/shard.sh" -j 2 -l log pipe in.jsonl cat
	assert_equal "$output" "$(cat in.jsonl)"
	# a piece that rejected records: 1, the records of the others kept
	run -1 sh "$EX/shard.sh" -j 2 -l log pipe in.jsonl sh -c 'cat; exit 1'
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 20
	run -3 sh "$EX/shard.sh" -j 2 -l log pipe in.jsonl sh -c 'cat >/dev/null; exit 3'
	run -0 sh "$EX/shard.sh" -j 3 -l log count 7 printf '%s %s %s %s\n'
	assert_output "-n 3 --start 0
-n 3 --start 3
-n 1 --start 6"
	run -2 sh "$EX/shard.sh" -j 0 -l log count 7 true
}

@test "make -C examples N=8 runs end to end, writes report.md, and picks up where it stopped" {
	out=$BATS_TEST_TMPDIR/run
	run -0 recipe N=8 OUT="$out"
	assert_output --partial "$out/trajectories.jsonl ("
	assert_output --partial "report: $out/report.md"
	for f in personas tuples intents unique trajectories audited; do
		[ -s "$out/$f.jsonl" ] || fail "no $f.jsonl"
	done
	jq -e '.trajectories > 0' "$out/summary.json"
	jq -e '.vendi["1"] > 1 and (.curve | length) > 0 and .lexical.distinct["2"] > 0' "$out/diversity.json"
	run -0 cat "$out/report.md"
	assert_output --partial "## Table 3: the corpus"
	assert_output --partial "| User turns: mean / median / max |"
	assert_output --partial "| whole pool (8) |"
	assert_output --partial "| complexity |"
	assert_output --partial "| distinct-1 |"
	assert_output --partial "| stagnation |"
	refute_output --partial "null"
	# the PCA helper: a line a record, two finite numbers and a domain
	[ "$(grep -vc '^#' "$out/plots/pca.tsv")" -eq "$(wc -l <"$out/unique.jsonl")" ]
	awk -F '\t' '!/^#/ && !($1 + 0 == $1 && $2 + 0 == $2 && $3 != "") { exit 1 }' "$out/plots/pca.tsv"
	if command -v gnuplot >/dev/null; then
		for p in vendi-curve user-turns tool-cooccurrence domains complexity pca; do
			[ "$(head -c 4 "$out/plots/$p.png" | tail -c 3)" = PNG ] || fail "$p.png is no PNG"
			grep -q '<svg' "$out/plots/$p.svg" || fail "$p.svg is no SVG"
			grep -qF "(plots/$p.png)" "$out/report.md" || fail "report.md does not show $p"
		done
	fi
	# nothing to do the second time
	run -0 recipe N=8 OUT="$out"
	assert_output "report: $out/report.md"
	# a stage cut short: its partial output is resumed, later stages remade
	head -n 3 "$out/intents.jsonl" >"$out/intents.jsonl.part"
	cp "$out/intents.jsonl" "$BATS_TEST_TMPDIR/intents.jsonl"
	rm "$out/intents.jsonl"
	run -0 recipe N=8 OUT="$out"
	assert_output --partial "render     $out/intents.jsonl (8 lines)"
	assert_output --partial "report: $out/report.md"
	refute_output --partial "persona "
	cmp "$out/intents.jsonl" "$BATS_TEST_TMPDIR/intents.jsonl"
	# another N remakes everything
	run -0 recipe N=6 OUT="$out" "$out/tuples.jsonl"
	assert_output --partial "$out/tuples.jsonl (6 lines)"
}
