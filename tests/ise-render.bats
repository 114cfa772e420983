#!/usr/bin/env bats
# ise-render: the offline engine, and the LLM path against the fake server.
load helper
load fake

setup_file() {
	export TUPLES=$BATS_FILE_TMPDIR/tuples.jsonl
	ise-persona -n 500 | ise-sample -n 1000 >"$TUPLES"
	head -n 20 "$TUPLES" >"$BATS_FILE_TMPDIR/t20.jsonl"
	export T20=$BATS_FILE_TMPDIR/t20.jsonl
	# a reply that passes the checks: 100 words in the first person
	export GOOD="I run the night shift at a clinic in Lagos and need help today. $(for i in $(seq 86); do printf 'word%d ' "$i"; done)thanks."
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	unset OPENAI_BASE_URL OPENAI_API_KEY
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || fake_stop
}

@test "offline: says so once, adds the intent, the slot values and the engine, keeps every field" {
	run -0 --separate-stderr ise-render "$T20"
	assert_equal "$stderr" "ise-render: no endpoint configured (OPENAI_BASE_URL or --base-url): offline engine"
	assert_equal "${#lines[@]}" 20
	# input fields byte for byte, then the added ones
	paste -d '\n' "$T20" <(printf '%s\n' "${lines[@]}") | awk 'NR % 2 { want = substr($0, 1, length($0) - 1); next }
		index($0, want) != 1 { print "changed: " NR; bad = 1 } END { exit bad }'
	echo "$output" | jq -e -s 'all(.[]; .engine == "offline" and (.natural_language_intent | length) > 0 and
		(.task_params | keys) == ([.tasks[].id] | sort))'
}

@test "offline intents: 90-160 words, concrete numbers in at least 95%, all distinct" {
	ise-render --offline "$TUPLES" >out.jsonl
	run -0 jq -s -c '[.[].natural_language_intent] | {
		n: length,
		min: (map(split(" ") | length) | min), max: (map(split(" ") | length) | max),
		numbers: (map(select(test("[0-9]"))) | length),
		distinct: (unique | length)}' out.jsonl
	echo "$output"
	echo "$output" | jq -e '.n == 1000 and .min >= 90 and .max <= 160 and .numbers >= 950 and .distinct == 1000'
}

@test "offline: each task's filled request reaches the intent" {
	ise-render --offline "$T20" >out.jsonl
	run -0 jq -r -n --slurpfile cat "$ROOT/share/ise/catalog.json" '
		($cat[0].tasks | map({key: .id, value: .}) | from_entries) as $T |
		inputs | . as $r | .tasks[] | .id as $t | $r.task_params[$t] as $p |
		[$T[$t].slots | to_entries[] | select(.value.type == "int") | .key] as $ints |
		$ints[] as $k | select(($r.natural_language_intent | contains($p[$k])) | not) |
		"\($r.id) \($t) \($k)=\($p[$k])"' out.jsonl
	assert_output ""
}

@test "same seed, same intents; records do not depend on their neighbours" {
	a=$(ise-render --offline -s 5 "$T20")
	assert_equal "$(ise-render --offline --seed 5 "$T20")" "$a"
	[ "$a" != "$(ise-render --offline -s 6 "$T20")" ]
	# halves rendered apart join up to the whole
	b=$( (head -n 7 "$T20" | ise-render --offline -s 5; tail -n +8 "$T20" | ise-render --offline -s 5) )
	assert_equal "$b" "$a"
	assert_equal "$(ise-render --offline -s 5 -j 4 "$T20")" "$a"
}

@test "llm: one request per tuple, persona and tasks in the prompt, a seed, usage in the record" {
	fake_start
	fake_tape "$(jq -cn --arg c "$GOOD" '{reply: {content: $c}, repeat: -1}')"
	run -0 --separate-stderr ise-render --model m1 "$T20"
	[[ $stderr == "ise-render: 20 requests (0 cached, 0 retried), "*" prompt + "*" completion tokens" ]] || fail "$stderr"
	echo "$output" | jq -e -s 'all(.[]; .engine == "llm" and .render.model == "m1" and .render.attempts == 1
		and .render.usage.prompt_tokens > 0 and (.natural_language_intent | startswith("I run")))'
	assert_equal "$(fake_requests)" 20
	run -0 jq -s -e --slurpfile t "$T20" '[range(0; 20) as $i | .[$i].body as $b |
		($b.messages | map(.role)) == ["system", "user"] and ($b.seed | type) == "number" and
		($b.messages[1].content | contains($t[$i].persona.name) and contains($t[$i].tasks[0].name))] | all' "$FAKE_LOG"
}

@test "llm: a reply that fails the checks is asked again with a new seed; one that never passes is rejected" {
	fake_start
	fake_tape "$(jq -cn --arg c "$GOOD" '{reply: {content: "Sure, here is the request you asked for."}},
		{reply: {content: "```\n\($c)\n```"}}, {reply: {content: $c}}, {reply: {content: "too short"}, repeat: -1}')"
	run -1 --separate-stderr ise-render --attempts 3 --rejects rej.jsonl <(head -n 2 "$T20")
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq .render.attempts <<<"${lines[0]}")" 3
	assert_equal "$(jq -s 'map(.body.seed) | unique | length' "$FAKE_LOG")" 6
	[[ ${stderr_lines[0]} == "ise-render: /dev/fd/"*":2: no acceptable intent after 3 attempts: too short" ]] || fail "$stderr"
	assert_equal "$(jq -r '[.id, .render_error, .last_reply] | @tsv' rej.jsonl)" "$(sed -n 2p "$T20" | jq -r .id)	too short	too short"
}

@test "llm: a key a server echoes in a successful reply reaches neither --rejects nor the cache" {
	fake_start
	fake_tape "$(jq -cn --arg k "$OPENAI_API_KEY" '{reply: {content: "your key \($k) is fine"}, repeat: -1}')"
	run -1 --separate-stderr ise-render --attempts 2 --rejects rej.jsonl --cache c <(head -n 1 "$T20")
	[[ $stderr != *"$OPENAI_API_KEY"* ]]
	assert_equal "$(jq -r .last_reply rej.jsonl)" "your key [api key] is fine"
	! grep -r -- "$OPENAI_API_KEY" rej.jsonl c || fail "the key was written"
	[ -n "$(ls c)" ]
}

@test "llm: -j 8 keeps input order; --unordered gives the same set" {
	fake_start --echo --latency-ms 30
	head -n 200 "$TUPLES" >t200.jsonl
	ise-render --words 1-5 -j 1 t200.jsonl >one.jsonl 2>/dev/null
	fake_reset
	ise-render --words 1-5 -j 8 t200.jsonl >eight.jsonl 2>/dev/null
	cmp one.jsonl eight.jsonl
	ise-render --words 1-5 -j 8 --unordered t200.jsonl >any.jsonl 2>/dev/null
	cmp <(sort one.jsonl) <(sort any.jsonl)
	run -0 fake_stats
	[ "$(jq .peak_inflight <<<"$output")" -ge 4 ]
}

# busy_server STATUS [RETRY_AFTER]: a server that serves 8 requests at once
# and refuses more with STATUS; t400.jsonl and eight.jsonl, the records of
# today's -j 8 (which never meets a refusal), for the run to compare with.
busy_server() {
	fake_start --echo --latency-ms 30 --max-inflight 8 --over-inflight-status "$1" \
		${2:+--over-inflight-retry-after "$2"}
	head -n 400 "$TUPLES" >t400.jsonl
	ise-render --words 1-5 -j 8 --fixed-jobs t400.jsonl >eight.jsonl 2>/dev/null
	fake_reset
}

# adapts: -j 64 against the busy server gives the records of -j 8 byte for
# byte; the server refuses under 5% of the records (20 of 400, where -j 64
# without the gate has most of its first 64 refused: see --fixed-jobs
# below), each refusal a retry; the last progress line shows the limit,
# lowered near the server's 8 and never above -j.  quick: the retries
# wait for no backoff.
adapts() {
	run -0 --separate-stderr ise-render --words 1-5 -j 64 --progress t400.jsonl
	cmp eight.jsonl <(printf '%s\n' "${lines[@]}")
	local refused
	refused=$(fake_stats | jq .rejected_inflight)
	echo "refused: $refused"
	[ "$refused" -lt 20 ]
	assert_equal "$(fake_requests /v1/chat/completions)" $((400 + refused))
	[[ $stderr == *"$((400 + refused)) requests (0 cached, $refused retried)"* ]] || fail "$stderr"
	[[ ${stderr_lines[-2]} =~ ^ise-render:\ 400\ done.*,\ jobs\ limited\ to\ ([0-9]+)\ of\ 64$ ]] || fail "$stderr"
	[ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le 12 ]
	# a refused request goes again, ahead of the new ones, once the
	# lowered limit has room, not after a backoff (0.375 s at the least):
	# three in four within 0.3 s
	[ "${1-}" = quick ] || return 0
	run -0 jq -s -c '[.[] | select(.path == "/v1/chat/completions")] | . as $r |
		[range(length) as $i | select($r[$i].fault == "inflight") | $r[$i] as $x |
			first($r[$i + 1:][] | select(.body_sha256 == $x.body_sha256)) | .t - $x.t] |
		[length, (map(select(. < 0.3)) | length)]' "$FAKE_LOG"
	[[ $output =~ ^\[([0-9]+),([0-9]+)\]$ ]] && [ $((4 * BASH_REMATCH[2])) -ge $((3 * BASH_REMATCH[1])) ] || fail "refused, retried within 0.3 s: $output"
}

@test "llm: -j 64 against a server that takes 8 at once and answers 429 above: the records of -j 8, few refusals" {
	busy_server 429
	adapts quick
}

@test "llm: the same with 503 (Ollama's full queue): the limit comes down as for 429" {
	busy_server 503
	adapts quick
}

@test "llm: the same with 429 and Retry-After: every job still waits it out" {
	busy_server 429 0.2
	adapts
	# after a refusal no request starts for 0.2 s: the log has gaps of
	# 0.15 s or more between two requests (one a pause, without a pause none)
	run -0 jq -s '[.[] | select(.path == "/v1/chat/completions")] | [range(1; length) as $i |
		select(.[$i].t - .[$i - 1].t >= 0.15)] | length' "$FAKE_LOG"
	[ "$output" -ge 2 ]
}

@test "llm: -j never exceeded: a server with room for 8 gets at most 4 from -j 4, and no lowered limit shows" {
	fake_start --echo --latency-ms 30 --max-inflight 8 --over-inflight-status 429
	head -n 200 "$TUPLES" >t200.jsonl
	run -0 --separate-stderr ise-render --words 1-5 -j 4 --progress t200.jsonl
	assert_equal "${#lines[@]}" 200
	run -0 jq -e '.peak_served <= 4 and .rejected_inflight == 0' <<<"$(fake_stats)"
	[[ $stderr != *"jobs limited"* ]] || fail "$stderr"
}

@test "llm: --fixed-jobs sends -j at once as before, busy server or not" {
	fake_start --echo --latency-ms 30 --max-inflight 8 --over-inflight-status 429
	head -n 32 "$TUPLES" >t32.jsonl
	ise-render --words 1-5 -j 8 --fixed-jobs t32.jsonl >eight.jsonl 2>/dev/null
	fake_reset
	run -0 --separate-stderr ise-render --words 1-5 -j 32 --fixed-jobs --retries 10 --progress t32.jsonl
	cmp eight.jsonl <(printf '%s\n' "${lines[@]}")
	# the first 32 go together, and most are refused
	[ "$(fake_stats | jq .rejected_inflight)" -ge 12 ]
	[[ $stderr != *"jobs limited"* ]] || fail "$stderr"
	# where the gate, on, has a few refused while it finds the level
	fake_reset
	ise-render --words 1-5 -j 32 t32.jsonl | cmp eight.jsonl -
	[ "$(fake_stats | jq .rejected_inflight)" -le 12 ]
}

@test "llm: the cache makes a rerun free and identical" {
	fake_start --echo
	ise-render --words 1-5 --cache c "$T20" >a.jsonl 2>/dev/null
	assert_equal "$(fake_requests)" 20
	run -0 --separate-stderr ise-render --words 1-5 --cache c "$T20"
	assert_equal "$output" "$(cat a.jsonl)"
	assert_equal "$(fake_requests)" 20
	[[ $stderr == *"20 requests (20 cached, 0 retried)"* ]]
	fake_stop
	run -1 --separate-stderr ise-render --words 1-5 --cache empty --cache-mode ro --base-url http://127.0.0.1:9/v1 <(head -n 1 "$T20")
	[[ $stderr == *"is not in the cache (--cache-mode ro)"* ]]
}

@test "llm: 10% of requests failing transiently still gives every record" {
	fake_start --echo --fail-rate 0.1 --fail-seed 3
	head -n 300 "$TUPLES" >t300.jsonl
	run -0 --separate-stderr ise-render --words 1-5 -j 8 t300.jsonl
	assert_equal "${#lines[@]}" 300
	[[ $stderr =~ \(0\ cached,\ ([0-9]+)\ retried\) ]] && [ "${BASH_REMATCH[1]}" -ge 15 ]
}

@test "llm: a dead endpoint ends with exit 3 after the retries, every finished record written" {
	fake_start
	fake_tape "$(jq -cn --arg c "$GOOD" '{reply: {content: $c}, repeat: 5}, {status: 503, error_style: "ollama_native", error_message: "server busy", repeat: -1}')"
	# --wait 0: a busy server (503) gets only the retries, as other 5xx do
	run -3 --separate-stderr ise-render --retries 1 --wait 0 -o out.jsonl "$T20"
	assert_equal "$(wc -l <out.jsonl)" 5
	[[ $stderr == *"HTTP 503: server busy (after 2 tries)"* ]] || fail "$stderr"
	[[ $stderr != *SECRET* ]]
}

@test "llm: kill -9 mid-run, then --resume: every id once, no finished id asked again" {
	fake_start --echo --latency-ms 40
	head -n 400 "$TUPLES" >t400.jsonl
	ise-render --words 1-5 -j 4 -o out.jsonl t400.jsonl 2>/dev/null &
	pid=$!
	sleep 1.5
	kill -9 "$pid"
	wait "$pid" || true
	done1=$(wc -l <out.jsonl)
	[ "$done1" -gt 0 ] && [ "$done1" -lt 400 ]
	asked1=$(fake_requests)
	run -0 ise-render --words 1-5 -j 4 -o out.jsonl --resume t400.jsonl
	assert_equal "$(wc -l <out.jsonl)" 400
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 400
	# the rerun asked only for what was not written
	assert_equal "$(($(fake_requests) - asked1))" "$((400 - done1))"
	ise-render --words 1-5 -j 8 t400.jsonl 2>/dev/null | sort >all.jsonl
	cmp <(sort out.jsonl) all.jsonl
}

@test "llm: --rpm spaces requests for all jobs together; the key never leaves the header" {
	fake_start --echo
	start=$(date +%s.%N)
	run -0 --separate-stderr ise-render --words 1-5 --rpm 240 -j 4 <(head -n 5 "$T20")
	elapsed=$(echo "$start $(date +%s.%N)" | awk '{print $2 - $1}')
	awk -v e="$elapsed" 'BEGIN { exit !(e >= 1.0) }' || fail "5 requests at 240/min took only $elapsed s"
	! grep -q SECRET "$FAKE_LOG"
	[[ $output$stderr != *SECRET* ]]
}

@test "llm: after a 429 every job pauses for its Retry-After, then all records arrive" {
	fake_start --echo
	fake_tape '{"status":429,"error_style":"openai","error_message":"slow down","error_code":"rate_limit_exceeded","headers":{"Retry-After":"1"}}'
	run -0 --separate-stderr ise-render --words 1-5 -j 4 <(head -n 8 "$T20")
	assert_equal "${#lines[@]}" 8
	# between a 429 and the second it asked for, nobody sends anything
	run -0 jq -s -r '(map(select(.status == 429)) | .[0].t) as $t |
		[.[] | select(.t > $t + 0.05 and .t < $t + 0.95)] | length' "$FAKE_LOG"
	assert_output 0
	[ "$(jq -s 'map(select(.status == 429)) | length' "$FAKE_LOG")" -ge 1 ]
}

@test "the end of a short input never loses the last record's wake-up (a race that hung 1 run in ~100)" {
	head -n 3 "$T20" >t3.jsonl
	for i in $(seq 300); do
		timeout 10 ise-render --offline -j 2 <t3.jsonl >/dev/null || fail "run $i: exit $?"
	done
}

@test "llm: --tpm holds requests back once the minute's tokens are reserved" {
	fake_start --echo
	# each request reserves about 1000 tokens (its body / 4, plus --max-tokens);
	# 60000 a minute lets about 60 go at once, then about one a second
	head -n 70 "$TUPLES" >t70.jsonl
	start=$(date +%s.%N)
	run -0 --separate-stderr ise-render --words 1-5 --max-tokens 1 --tpm 60000 -j 8 t70.jsonl
	elapsed=$(echo "$start $(date +%s.%N)" | awk '{print $2 - $1}')
	assert_equal "${#lines[@]}" 70
	awk -v e="$elapsed" 'BEGIN { exit !(e >= 2 && e < 25) }' || fail "took $elapsed s"
	start=$(date +%s.%N)
	run -0 --separate-stderr ise-render --words 1-5 --max-tokens 1 -j 8 t70.jsonl
	elapsed=$(echo "$start $(date +%s.%N)" | awk '{print $2 - $1}')
	awk -v e="$elapsed" 'BEGIN { exit !(e < 2) }' || fail "without --tpm it took $elapsed s"
}

@test "llm: render.model is the model the server says answered, with or without --model" {
	fake_start
	fake_tape "$(jq -cn --arg c "$GOOD" '{reply: {content: $c, model: "Qwen/Qwen3-8B"}, repeat: -1}')"
	run -0 --separate-stderr ise-render <(head -n 2 "$T20")
	echo "$output" | jq -e -s 'length == 2 and all(.[]; .render.model == "Qwen/Qwen3-8B")'
	run -0 --separate-stderr ise-render --model qwen3 <(head -n 2 "$T20")
	echo "$output" | jq -e -s 'all(.[]; .render.model == "Qwen/Qwen3-8B")'
}

@test "llm: a misconfigured server stops the run at the first record, exit 3, saying what to change" {
	fake_start
	fake_tape '{"status":400,"error_style":"openai","error_message":"Unsupported value: '"'"'temperature'"'"' does not support 0.7 with this model. Only the default (1) value is supported.","error_param":"temperature","error_code":"unsupported_value","repeat":-1}'
	run -3 --separate-stderr ise-render -o out.jsonl "$T20"
	[[ $stderr == *"to fix: give --temperature none"* ]] || fail "$stderr"
	assert_equal "$(fake_requests /v1/chat/completions)" 1
	# and with it the run goes through, sampling left to the model
	fake_reset
	fake_tape "$(jq -cn --arg c "$GOOD" '{reply: {content: $c}, repeat: -1}')"
	run -0 --separate-stderr ise-render --temperature none --top-p none <(head -n 2 "$T20")
	jq -e -s 'all(.[]; .body | (has("temperature") or has("top_p")) | not)' "$FAKE_LOG"
}
