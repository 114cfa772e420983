#!/usr/bin/env bats
# examples/: the make-driven recipe, its report, and sharding with GNU
# parallel (SHARDS=N), which must give the records of one process.
load helper
load fake

setup_file() {
	export EX="$ROOT/examples"
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || fake_stop
	[ -z "${SSHD_PID:-}" ] || kill "$SSHD_PID" 2>/dev/null || true
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

# Two JSON Lines files hold the same records, whatever their order (after
# the jq filter $3, if given).
assert_same_records() {
	[ -s "$1" ] || fail "$1 is empty"
	diff <(jq -cS "${3:-.}" "$1" | sort) <(jq -cS "${3:-.}" "$2" | sort)
}

# A fake model for every stage: personas for ise-persona (model "writer"),
# echoes for ise-render's intents (one word each, hence --words 1-5), and a
# simulated user ("sim") who asks for a file that the agent ("agent") makes
# with one command and shows.  Each trajectory takes 4 requests.  The tape
# is the server's --tape file, which fake_reset reloads.
model_start() {
	fake_start --echo "$@"
	{
		ise-persona --offline -n 6 | jq -c '{name, role, industry, expertise, experience_level,
			communication_style, work_context, common_goals, tools_preference}' |
			jq -cs '{match: {model: "writer", last_user_re: "Create [0-9]+ realistic"},
				reply: {content: ({personas: .} | tojson)}, repeat: -1}'
		user_turn 1 "Put the word hello in notes/hi.txt and show it to me."
		user_done "the file is there"
		agent_calls hello '[{"name":"exec","arguments":{"command":"mkdir -p notes && echo hello >notes/hi.txt && cat notes/hi.txt"}}]'
		agent_says "Done: notes/hi.txt says hello."
	} >"$FAKE_DIR/tape.jsonl"
	fake_reset # loads it, as every fake_reset will
	export ISE_MODEL=writer ISE_USER_MODEL=sim ISE_AGENT_MODEL=agent
}

# The recipe on that model: 6 personas, 6 intents.  Its agent runs one
# command whatever it is asked, so the tasks' checks are off.
model_recipe() {
	recipe N=6 PERSONAS=6 RENDERFLAGS="--words 1-5" SIMFLAGS="--no-timings --verify=off" "$@"
}

# Requests the fake server got for a model.
model_requests() {
	jq -s --arg m "$1" '[.[] | select(.body.model == $m)] | length' "$FAKE_LOG"
}

# model_recipe_stopped OUT ARGS...: start the recipe in a session of its own
# and stop all of it (make, parallel, ise-sim) with SIGTERM once two
# trajectories are kept, as a user's ^C or a scheduler would.
model_recipe_stopped() {
	local out=$1 pid i
	shift
	setsid make -s --no-print-directory -C "$EX" OUT="$out" N=6 PERSONAS=6 \
		RENDERFLAGS="--words 1-5" SIMFLAGS="--no-timings --verify=off" "$@" >"$out.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		[ "$(cat "$out/trajectories.jsonl.part" "$out"/trajectories.jsonl.d/out.* 2>/dev/null | wc -l)" -lt 2 ] || break
		kill -0 "$pid" 2>/dev/null || fail "the recipe ended before it was stopped: $(cat "$out.log")"
		sleep 0.05
	done
	kill -TERM -- -"$pid"
	wait "$pid" || true
	[ ! -e "$out/trajectories.jsonl" ] || fail "the recipe finished before it was stopped"
}

# sshd_start: a real sshd on a free port of 127.0.0.1 that lets root in with
# a key of this test only, and $SSHD_DIR/hosts, a parallel(1) sshloginfile
# that reaches it.  Its log, $SSHD_DIR/log, has a line a login.
sshd_start() {
	[ "$(id -u)" -eq 0 ] || skip "a test sshd needs root"
	[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || skip "openssh-server not installed"
	local d=$BATS_TEST_TMPDIR/sshd port i
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/id"
	cp "$d/id.pub" "$d/authorized_keys"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$d/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$port
		HostKey $d/host_key
		PidFile none
		AuthorizedKeysFile $d/authorized_keys
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		LogLevel INFO
	EOF
	/usr/sbin/sshd -D -f "$d/sshd_config" -E "$d/log" &
	SSHD_PID=$!
	SSHD_DIR=$d
	echo "ssh -p $port -i $d/id -o BatchMode=yes -o StrictHostKeyChecking=no" \
		"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1" >"$d/hosts"
	for ((i = 0; i < 100; i++)); do
		# shellcheck disable=SC2046 # the login line is words
		$(cat "$d/hosts") true 2>/dev/null && return 0
		sleep 0.05
	done
	fail "sshd did not let us in: $(cat "$d/log")"
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

@test "SHARDS=2 over ssh (a real sshd) gives the trajectories and audits of one process" {
	need_parallel
	sshd_start
	a=$BATS_TEST_TMPDIR/one b=$BATS_TEST_TMPDIR/sharded
	mkdir -p "$a" "$b"
	# one-task intents whose plans print the same bytes every run, as the
	# recipe's unique.jsonl, taken as it is (-o: not remade)
	filter_input ise-sim 6 >"$a/unique.jsonl" 2>/dev/null
	cp "$a/unique.jsonl" "$b/unique.jsonl"
	run -0 recipe OUT="$a" SIMFLAGS=--no-timings -o "$a/unique.jsonl" "$a/audited.jsonl"
	logins=$(grep -c 'Accepted publickey for root' "$SSHD_DIR/log")
	run -0 recipe OUT="$b" SIMFLAGS=--no-timings SHARDS=2 SSHLOGIN="$SSHD_DIR/hosts" \
		-o "$b/unique.jsonl" "$b/audited.jsonl"
	assert_output --partial "$b/trajectories.jsonl (6 kept, 0 rejected"
	[ "$(pieces "$b/trajectories.jsonl.joblog")" -gt 1 ]
	[ "$(pieces "$b/audited.jsonl.joblog")" -gt 1 ]
	# every piece ran through sshd, as its joblog's host says
	awk -F '\t' 'FNR > 1 && $2 !~ /root@127\.0\.0\.1/ { exit 1 }' "$b/trajectories.jsonl.joblog" "$b/audited.jsonl.joblog"
	[ "$(grep -c 'Accepted publickey for root' "$SSHD_DIR/log")" -gt "$logins" ]
	assert_same_records "$a/trajectories.jsonl" "$b/trajectories.jsonl"
	assert_same_records "$a/audited.jsonl" "$b/audited.jsonl"
	[ ! -s "$b/rejects.jsonl" ]
}

@test "the sharding helper exits as one ise program would, and resumes its pieces" {
	need_parallel
	cd "$BATS_TEST_TMPDIR"
	filter_input ise-render 20 >t.jsonl
	ise-render --offline t.jsonl >one.jsonl
	run -0 sh "$EX/shard.sh" -j 2 -d d pipe t.jsonl ise-render --offline
	assert_equal "$output" "$(cat one.jsonl)"
	assert_equal "$(cat d/pieces | wc -l)" 8
	# stopped: a piece cut in the middle of a line, another not begun; a
	# rerun with other SHARDS finishes the same pieces
	head -c 1000 d/out.00002 >cut && mv cut d/out.00002
	rm d/out.00005
	run -0 --separate-stderr sh "$EX/shard.sh" -j 3 -d d pipe t.jsonl ise-render --offline
	assert_equal "$output" "$(cat one.jsonl)"
	assert_equal "$(pieces d/joblog)" 8
	[[ $stderr == *"d/out.00002: cutting a torn last line"* ]] || fail "$stderr"
	# a newer input is cut again
	head -n 10 one.jsonl >one10.jsonl
	head -n 10 t.jsonl >t10.jsonl && mv t10.jsonl t.jsonl && touch -d '+1 min' t.jsonl
	run -0 sh "$EX/shard.sh" -j 2 -d d pipe t.jsonl ise-render --offline
	assert_equal "$output" "$(cat one10.jsonl)"
	# a piece that rejected records: 1, the records of every piece kept
	sed -i '4s/.*/{"id":"bad"}/' t.jsonl
	run -1 --separate-stderr sh "$EX/shard.sh" -j 2 -d d pipe t.jsonl ise-render --offline
	assert_equal "${#lines[@]}" 9
	run -3 sh "$EX/shard.sh" -j 2 -d d3 pipe t.jsonl sh -c 'exit 3'
	assert_output ""
	# counts: ranges of one long run
	filter_input ise-sample 10 >p.jsonl
	run -0 sh "$EX/shard.sh" -j 3 -d c count 7 ise-sample -p p.jsonl
	assert_equal "$output" "$(ise-sample -p p.jsonl -n 7)"
	assert_equal "$(cat c/pieces)" "00000 3 0
00001 3 3
00002 1 6"
	run -2 sh "$EX/shard.sh" -j 0 -d c count 7 true
}

@test "make -C examples N=8 runs end to end, writes report.md, and picks up where it stopped" {
	out=$BATS_TEST_TMPDIR/run
	run -0 recipe N=8 OUT="$out"
	assert_output --partial "$out/trajectories.jsonl ("
	assert_output --partial "report: $out/report.md"
	assert_output --partial "export     $out/export/ ("
	for f in personas tuples intents unique trajectories audited; do
		[ -s "$out/$f.jsonl" ] || fail "no $f.jsonl"
	done
	jq -e '.trajectories > 0' "$out/summary.json"
	# the offline engine's trajectories are verified by their tasks' checks,
	# and replay from their setups with nothing but times and pids changed
	jq -e -s 'length > 0 and all(.[]; .verification.verified)' "$out/trajectories.jsonl"
	run -0 ise-exec --replay "$out/trajectories.jsonl"
	jq -e -s --argjson n "$(wc -l <"$out/trajectories.jsonl")" 'length == $n and
		all(.[].replay; .diverged == null and .verification.verified)' <<<"$output"
	jq -e '.vendi["1"] > 1 and (.curve | length) > 0 and .lexical.distinct["2"] > 0' "$out/diversity.json"
	run -0 cat "$out/report.md"
	assert_output --partial "## Table 3: the corpus"
	assert_output --partial "| User turns: mean / median / max |"
	assert_output --partial "| whole pool (8) |"
	assert_output --partial "| complexity |"
	assert_output --partial "| distinct-1 |"
	assert_output --partial "| stagnation |"
	refute_output --partial "null"
	# the training files: every clean trajectory in one split, the
	# loader's entries, a card that names both files
	[ "$(cat "$out/export/train.jsonl" "$out/export/validation.jsonl" | wc -l)" -eq \
		"$(jq -s 'map(select(.audit.flags == [])) | length' "$out/audited.jsonl")" ]
	jq -e '.ise_train.file_name == "train.jsonl" and .ise_validation.formatting == "sharegpt"' \
		"$out/export/dataset_info.json"
	grep -qx '    path: "validation.jsonl"' "$out/export/README.md"
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

@test "with a model server: every stage asks the model; stopped, it resumes and asks only for what it lacks" {
	model_start --latency-ms 100
	out=$BATS_TEST_TMPDIR/run
	model_recipe_stopped "$out" JOBS=1
	run -0 model_recipe OUT="$out" JOBS=1
	assert_output --partial "sim        $out/trajectories.jsonl (6 kept, 0 rejected"
	refute_output --partial "render "
	assert_output --partial "report: $out/report.md"
	assert_equal "$(jq -r .id "$out/trajectories.jsonl" | sort -u | wc -l)" 6
	jq -e -s 'all(.[]; .engine == "llm")' "$out/personas.jsonl"
	jq -e -s 'all(.[]; .engine == "llm" and .render.model == "writer")' "$out/intents.jsonl"
	jq -e -s 'all(.[]; .engine == "llm" and .status == "completed" and .models == {user: "sim", agent: "agent"} and
		(.messages | map(select(.role == "tool"))[0].content) == "hello\n")' "$out/trajectories.jsonl"
	grep -qF "| Trajectories | 6 | 23,132 |" "$out/report.md" || fail "$(cat "$out/report.md")"
	# one batch of personas, an intent each, and the trajectories' 24
	# requests plus at most the one cut off in flight
	assert_equal "$(model_requests writer)" 7
	n=$(($(model_requests sim) + $(model_requests agent)))
	[ "$n" -ge 24 ] && [ "$n" -le 25 ] || fail "$n requests for 6 trajectories"
	# played again from the cache: no request, the same trajectories
	cp "$out/trajectories.jsonl" "$BATS_TEST_TMPDIR/first.jsonl"
	rm "$out/trajectories.jsonl"
	fake_reset
	run -0 model_recipe OUT="$out" JOBS=1
	# (ise-sim still asks the server, by GET, whether it is ready and for its window)
	assert_equal "$(fake_requests /v1/chat/completions)" 0
	cmp "$BATS_TEST_TMPDIR/first.jsonl" "$out/trajectories.jsonl"
}

@test "with a model server and SHARDS=2: stopped, the pieces resume, and the records are one process's" {
	need_parallel
	model_start --latency-ms 50
	a=$BATS_TEST_TMPDIR/one b=$BATS_TEST_TMPDIR/sharded
	run -0 model_recipe OUT="$a" "$a/audited.jsonl"
	fake_reset
	model_recipe_stopped "$b" JOBS=1 SHARDS=2 "$b/audited.jsonl"
	[ -s "$b/trajectories.jsonl.d/pieces" ]
	run -0 model_recipe OUT="$b" JOBS=1 SHARDS=2 "$b/audited.jsonl"
	assert_output --partial "sim        $b/trajectories.jsonl (6 kept, 0 rejected"
	refute_output --partial "render "
	[ ! -e "$b/trajectories.jsonl.d" ]
	for f in personas tuples intents; do
		assert_same_records "$a/$f.jsonl" "$b/$f.jsonl"
	done
	# but for the ids the server gave the tool calls, in the order it was asked
	for f in trajectories audited; do
		assert_same_records "$a/$f.jsonl" "$b/$f.jsonl" \
			'del(.messages[].tool_calls?[]?.id, .messages[].tool_call_id?)'
	done
	# at most one request cut off in flight in each of the two pieces running
	n=$(($(model_requests sim) + $(model_requests agent)))
	[ "$n" -ge 24 ] && [ "$n" -le 26 ] || fail "$n requests for 6 trajectories"
}
