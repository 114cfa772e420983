#!/usr/bin/env bats
# Batch files: --emit-requests writes the OpenAI batch input format,
# --responses finishes the records from the output format (vllm run-batch,
# the Batch API), against replies the fake server really gave.
load helper
load fake

setup_file() {
	export T40=$BATS_FILE_TMPDIR/t40.jsonl
	export T1000=$BATS_FILE_TMPDIR/t1000.jsonl
	ise-persona --offline -n 500 | ise-sample -n 1000 >"$T1000"
	head -n 40 "$T1000" >"$T40"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	unset OPENAI_BASE_URL OPENAI_API_KEY ISE_MODEL
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || fake_stop
}

# answer REQUESTS > RESULTS: each request's body sent to the fake server, the
# replies wrapped as vllm run-batch wraps them
answer() {
	python3 "$BATS_TEST_DIRNAME/batch_answer.py" "$OPENAI_BASE_URL" <"$1"
}

# is_batch_input FILE: every line is exactly {custom_id, method, url, body}
# as the batch input format documents it, custom_ids unique
is_batch_input() {
	jq -e -s 'length > 0 and all(.[]; (keys == ["body", "custom_id", "method", "url"]) and
		(.custom_id | type) == "string" and .method == "POST" and .url == "/v1/chat/completions" and
		(.body | type) == "object" and (.body.model | type) == "string" and
		(.body.messages | type) == "array") and (map(.custom_id) | unique | length) == length' "$1"
}

@test "render: --emit-requests, --responses with replies missing, failed and refused, again, as online" {
	fake_start --echo
	# one tuple's first reply fails the checks (too many words), as a model's might
	name=$(jq -r .persona.name "$T40" | sort | uniq -u | head -n 1)
	bad=$(jq -r --arg n "$name" 'select(.persona.name == $n) | .id' "$T40")
	jq -cn --arg n "$name" '{match: {contains: $n}, reply: {content: "one two three four five six seven"}}' \
		>"$FAKE_DIR/tape.jsonl"
	fake_reset
	run -0 --separate-stderr ise-render --model m1 --words 1-5 --emit-requests req1.jsonl "$T40"
	assert_equal "$stderr" "ise-render: 40 requests written to 'req1.jsonl'"
	assert_output ""
	is_batch_input req1.jsonl
	assert_equal "$(jq -r .custom_id req1.jsonl | head -n 1)" "$(head -n 1 "$T40" | jq -r '.id + "#1"')"
	assert_equal "$(fake_requests)" 0
	answer req1.jsonl >raw1.jsonl
	# of 40: one reply lost, one HTTP 500, one error object, one refused by the checks
	ids=($(jq -r .id "$T40" | grep -vxF "$bad" | head -n 3))
	jq -c --arg a "${ids[0]}#1" --arg b "${ids[1]}#1" --arg c "${ids[2]}#1" '
		select(.custom_id != $a) |
		if .custom_id == $b then .response = {status_code: 500, request_id: "r",
			body: {error: {message: "internal error", type: "server_error"}}}
		elif .custom_id == $c then .response = null | .error = {code: "batch_expired",
			message: "This line could not be executed before the batch expired."}
		else . end' raw1.jsonl >res1.jsonl
	run -1 --separate-stderr ise-render --model m1 --words 1-5 --responses res1.jsonl \
		--rejects rej.jsonl -o out.jsonl "$T40"
	assert_equal "$(wc -l <out.jsonl)" 36
	assert_equal "$(jq -r .id rej.jsonl | sort)" "$(printf '%s\n' "${ids[@]}" "$bad" | sort)"
	[[ $stderr == *"${ids[0]}#1: no reply in the output files"* ]] || fail "$stderr"
	[[ $stderr == *"${ids[1]}#1: HTTP 500: internal error (server_error)"* ]] || fail "$stderr"
	[[ $stderr == *"${ids[2]}#1: request failed: This line could not be executed before the batch expired."* ]] || fail "$stderr"
	[[ $stderr == *"ise-render: $bad#1: reply refused: "* ]] || fail "$stderr"
	[[ $stderr == *"$bad#2: no reply in the output files"* ]] || fail "$stderr"
	# the rest: the failed ones as they were, the refused one at its next seed
	run -0 ise-render --model m1 --words 1-5 --emit-requests req2.jsonl --responses res1.jsonl \
		--resume -o out.jsonl "$T40"
	is_batch_input req2.jsonl
	assert_equal "$(jq -r .custom_id req2.jsonl | sort)" \
		"$( (printf '%s#1\n' "${ids[@]}"; echo "$bad#2") | sort)"
	assert_equal "$(jq -s 'map(.body.seed) | unique | length' req1.jsonl req2.jsonl)" 41
	answer req2.jsonl >res2.jsonl
	run -0 ise-render --model m1 --words 1-5 -j 4 --responses res1.jsonl --responses res2.jsonl \
		--resume -o out.jsonl "$T40"
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 40
	assert_equal "$(wc -l <out.jsonl)" 40
	# the online path, the same replies: the same records
	fake_reset
	ise-render --model m1 --words 1-5 "$T40" 2>/dev/null >online.jsonl
	cmp <(jq -cS . online.jsonl | sort) <(jq -cS . out.jsonl | sort)
	assert_equal "$(jq -r --arg b "$bad" 'select(.id == $b) | .render.attempts' out.jsonl)" 2
}

# persona_tape N B: a tape that answers each of the batches of ise-persona
# -n N --batch B by its own words, B new personas each
persona_tape() {
	ise-persona -n "$1" --batch "$2" --model m --emit-requests all.jsonl 2>/dev/null
	jq -c --argjson b "$2" '{n: (.custom_id | ltrimstr("personas-") | tonumber),
		c: (.body.messages[1].content | tojson | .[1:-1])} |
		{match: {contains: .c}, repeat: -1, reply: {content: ({personas: [range($b) as $k |
		{name: "Name \(.n)-\($k)", role: "Role \(.n)", industry: "Industry", expertise: ["a b", "c d", "e f"],
		experience_level: "Senior", communication_style: "Direct", work_context: "Works in Lima, Peru.",
		common_goals: ["ship"], tools_preference: ["Excel", "SAP", "Jira"]}]} | tojson)}}' all.jsonl \
		>"$FAKE_DIR/tape.jsonl"
	fake_reset
}

@test "persona: batches named personas-N, a failed one asked again as it was, the pool as online -j 1" {
	fake_start
	persona_tape 12 2
	run -0 --separate-stderr ise-persona -n 6 --batch 2 --model m --emit-requests req1.jsonl
	assert_equal "$stderr" "ise-persona: 3 requests written to 'req1.jsonl'"
	is_batch_input req1.jsonl
	assert_equal "$(jq -r .custom_id req1.jsonl | tr '\n' ,)" "personas-1,personas-2,personas-3,"
	jq -e -s 'all(.[]; .body.response_format.type == "json_schema")' req1.jsonl
	answer req1.jsonl | jq -c 'if .custom_id == "personas-2" then .response.status_code = 503 |
		.response.body = {error: {message: "busy"}} else . end' >res1.jsonl
	run -1 --separate-stderr ise-persona -n 6 --batch 2 --model m --responses res1.jsonl -o out.jsonl
	assert_equal "$(wc -l <out.jsonl)" 4
	[[ $stderr == *"personas-2: HTTP 503: busy"* ]] || fail "$stderr"
	[[ $stderr == *"only 4 of 6 distinct personas"* ]] || fail "$stderr"
	run -0 ise-persona -n 6 --batch 2 --model m --emit-requests req2.jsonl --responses res1.jsonl \
		--resume -o out.jsonl
	assert_equal "$(jq -r .custom_id req2.jsonl | tr '\n' ,)" "personas-2,personas-4,"
	assert_equal "$(jq -c 'select(.custom_id == "personas-2")' req2.jsonl)" \
		"$(jq -c 'select(.custom_id == "personas-2")' req1.jsonl)"
	answer req2.jsonl >res2.jsonl
	run -0 ise-persona -n 6 --batch 2 --model m --responses res1.jsonl --responses res2.jsonl \
		--resume -o out.jsonl
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 6
	ise-persona -n 6 --batch 2 --model m -j 1 2>/dev/null >online.jsonl
	assert_equal "$(jq -r .name out.jsonl | sort)" "$(jq -r .name online.jsonl | sort)"
	# read in one go, the output files give the online pool record for record
	ise-persona -n 6 --batch 2 --model m --responses res1.jsonl --responses res2.jsonl >fresh.jsonl
	cmp online.jsonl fresh.jsonl
}

@test "batch files: usage errors and bad output lines" {
	run -2 ise-render --emit-requests r.jsonl "$T40"
	[[ $output == *"--emit-requests needs --model (or ISE_MODEL)"* ]] || fail "$output"
	run -2 ise-render --offline --model m --emit-requests r.jsonl "$T40"
	run -2 ise-render --model m --emit-requests r.jsonl -o out.jsonl "$T40"
	run -2 ise-persona --model m --emit-requests r.jsonl "$T40"
	head -n 2 "$T40" >t2.jsonl
	ise-render --model m --words 1-5 --emit-requests r.jsonl t2.jsonl 2>/dev/null
	printf '%s\n' '{"custom_id": 5}' 'not json' >bad.jsonl
	run -1 --separate-stderr ise-render --model m --words 1-5 --responses bad.jsonl t2.jsonl
	[[ $stderr == *"bad.jsonl:1: output line without a string 'custom_id'"* ]] || fail "$stderr"
	[[ $stderr == *"bad.jsonl:2:1: invalid JSON"* ]] || fail "$stderr"
	assert_output ""
}

# batch_state OUT: the state file's batches, one line each: id status finished
batch_state() {
	jq -r '.batches[] | "\(.id) \(.status) \(.finished // false)"' "$1.batch.json"
}

# wait_for FILE PATTERN: until FILE holds a line matching PATTERN (10 s)
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "wait_for: no '$2' in $1: $(cat "$1")" >&2
	return 1
}

# killed_mid_batch COMMAND...: run COMMAND (a --batch run with --progress)
# with its stderr in err1, and kill -9 it once its batch has run part of
# its requests
killed_mid_batch() {
	local pid
	"$@" 2>err1 &
	pid=$!
	wait_for err1 "in_progress, [1-9][0-9]* completed"
	kill -9 "$pid"
	wait "$pid" || true
}

@test "--batch: 1,000 tuples, the run killed while the batch runs, the rerun reattaches: one batch, as online" {
	fake_start --echo --batch-step-ms 3
	killed_mid_batch ise-render --model m --words 1-5 --batch --batch-poll 0.1 --progress -o out.jsonl "$T1000"
	[ ! -s out.jsonl ]
	run -0 batch_state out.jsonl
	[[ $output == "batch-fake-"*" in_progress false" ]] || fail "$output"
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.1 --progress -o out.jsonl "$T1000"
	[[ $stderr == "ise-render: batch batch-fake-"*" reattached for 'out.jsonl.batch-1.requests.jsonl'"* ]] || fail "$stderr"
	[[ $stderr == *"completed, 1000 completed, 0 failed of 1000"* ]] || fail "$stderr"
	assert_equal "$(fake_requests /v1/batches)" 1
	assert_equal "$(fake_requests /v1/files)" 1
	assert_equal "$(fake_requests /v1/chat/completions)" 0
	assert_equal "$(wc -l <out.jsonl)" 1000
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 1000
	ise-render --model m --words 1-5 -j 4 "$T1000" 2>/dev/null >online.jsonl
	cmp <(jq -cS . online.jsonl | sort) <(jq -cS . out.jsonl | sort)
	# done is done: a third run sends nothing
	run -0 ise-render --model m --words 1-5 --batch --batch-poll 0.1 -o out.jsonl "$T1000"
	assert_equal "$(fake_requests /v1/batches)" 1
	assert_equal "$(wc -l <out.jsonl)" 1000
}

# creates: how many POST /v1/batches the fake server's log holds
creates() {
	jq -s '[.[] | select(.method == "POST" and .path == "/v1/batches")] | length' "$FAKE_LOG"
}

# new_batch FILE_ID [METADATA [curl options...]]: a batch created by hand, its id
new_batch() {
	jq -cn --arg f "$1" --argjson m "${2:-null}" '{input_file_id: $f, endpoint: "/v1/chat/completions",
		completion_window: "24h"} + if $m then {metadata: $m} else {} end' |
		fake_curl -H 'Content-Type: application/json' --data-binary @- "${@:3}" "$OPENAI_BASE_URL/batches" | jq -r .id
}

@test "--batch: killed after the server made the batch, before its id was saved: the rerun finds it by its key" {
	fake_start --echo --batch-create-hang 1 --batch-list-page 2
	ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40" 2>err1 &
	pid=$!
	wait_for "$FAKE_LOG" '"POST", "path": "/v1/batches"'
	kill -9 "$pid"
	wait "$pid" || true
	# the key was saved before the create, the id never came back
	key=$(jq -r '.batches[0].key' out.jsonl.batch.json)
	[[ $key =~ ^[0-9a-f]{32}$ ]] || fail "key '$key'"
	assert_equal "$(jq -r '.batches[0].id // "none"' out.jsonl.batch.json)" none
	made=$(jq -r 'select(.method == "POST" and .path == "/v1/batches") | .body.metadata | tojson' "$FAKE_LOG")
	assert_equal "$made" "{\"ise_key\":\"$key\"}"
	# newer batches of the same file, one with another key: the batch is on the second page of 2
	file=$(jq -r '.batches[0].input_file_id' out.jsonl.batch.json)
	new_batch "$file" >/dev/null
	new_batch "$file" '{"ise_key": "0123456789abcdef0123456789abcdef"}' >/dev/null
	new_batch "$file" '{"note": "x"}' >/dev/null
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	assert_equal "$stderr" "ise-render: batch batch-fake-2 reattached for 'out.jsonl.batch-1.requests.jsonl'"
	assert_equal "$(creates)" 4 # the three by hand
	assert_equal "$(jq -r '.batches[0].id' out.jsonl.batch.json)" batch-fake-2
	assert_equal "$(jq -r 'select(.method == "GET" and .path == "/v1/batches") | .path' "$FAKE_LOG" | wc -l)" 2
	assert_equal "$(wc -l <out.jsonl)" 40
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 40
}

@test "--batch: a key the server never got is looked for only down to the batches older than its file" {
	fake_start --echo --batch-create-hang 1 --batch-list-page 2
	# ten batches of another file, made before this run's upload (the
	# first one's create hangs, and is made all the same)
	printf '%s\n' '{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {}}' >old.jsonl
	old=$(fake_curl -F purpose=batch -F file=@old.jsonl "$OPENAI_BASE_URL/files" | jq -r .id)
	for i in $(seq 10); do
		new_batch "$old" '{"ise_key": "an older run"}' --max-time "$((i == 1 ? 1 : 10))" >/dev/null || true
	done
	sleep 1.1 # created_at is in seconds
	fake_reset # this run's create hangs
	ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40" 2>err1 &
	pid=$!
	wait_for "$FAKE_LOG" '"POST", "path": "/v1/batches"'
	kill -9 "$pid"
	wait "$pid" || true
	# as if the create had never reached the server: its key is not the state's
	jq '.batches[0].key = "0123456789abcdef0123456789abcdef"' out.jsonl.batch.json >state.json
	mv state.json out.jsonl.batch.json
	file=$(jq -r '.batches[0].input_file_id' out.jsonl.batch.json)
	: >"$FAKE_LOG"
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	[[ $stderr == *"ise-render: batch batch-fake-"*" created for 'out.jsonl.batch-1.requests.jsonl'"* ]] || fail "$stderr"
	# the first page (the hung batch, then the newest older one) is the last read
	assert_equal "$(jq -r 'select(.method == "GET") | .path' "$FAKE_LOG" |
		grep -e '^/v1/batches$' -e "^/v1/files/$file\$" | tr '\n' ' ')" "/v1/files/$file /v1/batches "
	assert_equal "$(creates)" 1
	assert_equal "$(wc -l <out.jsonl)" 40
}

@test "--batch: a create that times out is looked for before it is sent again; one batch" {
	fake_start --echo --batch-create-hang 1
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 --timeout 1 \
		--retries 2 -o out.jsonl "$T40"
	[[ $stderr == *"ise-render: batch batch-fake-2 created for 'out.jsonl.batch-1.requests.jsonl'"* ]] || fail "$stderr"
	assert_equal "$(creates)" 1
	assert_equal "$(jq -r 'select(.path == "/v1/batches") | .method' "$FAKE_LOG" | tr '\n' ,)" "POST,GET,"
	assert_equal "$(wc -l <out.jsonl)" 40
}

@test "--batch: the poll lines only with --progress; the batch id always" {
	fake_start --echo
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	assert_equal "$stderr" "ise-render: 40 requests written to 'out.jsonl.batch-next.requests.jsonl'
ise-render: batch $(jq -r '.batches[0].id' out.jsonl.batch.json) created for 'out.jsonl.batch-1.requests.jsonl'"
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 --progress \
		-o out2.jsonl "$T40"
	id=$(jq -r '.batches[0].id' out2.jsonl.batch.json)
	[[ $stderr == *"ise-render: batch $id created for 'out2.jsonl.batch-1.requests.jsonl'"* ]] || fail "$stderr"
	[[ $stderr == *"ise-render: batch $id: completed, 40 completed, 0 failed of 40"* ]] || fail "$stderr"
}

@test "--batch: a key the server echoes reaches neither the downloaded files nor the records" {
	fake_start --echo
	name=$(jq -r .persona.name "$T40" | sort | uniq -u | head -n 1)
	jq -cn --arg n "$name" --arg k "$OPENAI_API_KEY" '{match: {contains: $n}, status: 500,
		error_message: "bad key \($k)"}, {reply: {content: "key \($k) ok"}, repeat: -1}' | fake_tape -
	run -1 --separate-stderr ise-render --model m --words 1-9 --batch --batch-poll 0.05 \
		--rejects rej.jsonl -o out.jsonl "$T40"
	assert_equal "$(wc -l <out.jsonl)" 39
	assert_equal "$(jq -r .response.body.error.message out.jsonl.batch-1.errors.jsonl)" "bad key [api key]"
	grep -q '"key \[api key\] ok"' out.jsonl.batch-1.output.jsonl || fail "$(head -c 600 out.jsonl.batch-1.output.jsonl)"
	run -1 grep -l -- "${OPENAI_API_KEY:0:8}" out.jsonl* rej.jsonl
	[[ $stderr != *"$OPENAI_API_KEY"* ]] || fail "$stderr"
}

@test "--batch: an expired batch gives what it did; the rerun sends only the rest" {
	fake_start --echo --batch-expire-after 30
	run -1 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 --progress -o out.jsonl "$T40"
	[[ $stderr == *"expired, 30 completed, 0 failed of 40"* ]] || fail "$stderr"
	[[ $stderr == *"#1: request failed: This line could not be executed before the batch expired. (batch_expired)"* ]] || fail "$stderr"
	assert_equal "$(wc -l <out.jsonl)" 30
	assert_equal "$(wc -l <out.jsonl.batch-1.errors.jsonl)" 10
	run -0 ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	assert_equal "$(fake_requests /v1/batches)" 2
	assert_equal "$(wc -l <out.jsonl.batch-2.requests.jsonl)" 10
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 40
	assert_equal "$(wc -l <out.jsonl)" 40
}

@test "--batch: a request the server fails lands in the error file, is reported, and is sent again" {
	fake_start --echo
	name=$(jq -r .persona.name "$T40" | sort | uniq -u | head -n 1)
	bad=$(jq -r --arg n "$name" 'select(.persona.name == $n) | .id' "$T40")
	fake_tape "$(jq -cn --arg n "$name" '{match: {contains: $n}, status: 500, error_message: "boom"}')"
	run -1 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 \
		--rejects rej.jsonl -o out.jsonl "$T40"
	[[ $stderr == *"$bad#1: HTTP 500: boom"* ]] || fail "$stderr"
	assert_equal "$(jq -r .custom_id out.jsonl.batch-1.errors.jsonl)" "$bad#1"
	assert_equal "$(jq -r .response.status_code out.jsonl.batch-1.errors.jsonl)" 500
	assert_equal "$(jq -r .id rej.jsonl)" "$bad"
	assert_equal "$(wc -l <out.jsonl)" 39
	run -0 ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	assert_equal "$(jq -r .custom_id out.jsonl.batch-2.requests.jsonl)" "$bad#1"
	assert_equal "$(wc -l <out.jsonl)" 40
}

@test "--batch-cancel: the batch is cancelled, what it did is kept, a rerun sends the rest" {
	fake_start --echo --batch-step-ms 100
	killed_mid_batch ise-render --model m --words 1-5 --batch --batch-poll 0.05 --progress -o out.jsonl "$T40"
	run -1 --separate-stderr ise-render --model m --words 1-5 --batch-cancel --batch-poll 0.05 --progress -o out.jsonl "$T40"
	[[ $stderr == *"cancel asked"* ]] || fail "$stderr"
	[[ $stderr == *": cancelled, "* ]] || fail "$stderr"
	done1=$(wc -l <out.jsonl)
	[ "$done1" -gt 0 ] && [ "$done1" -lt 40 ]
	run -0 batch_state out.jsonl
	[[ $output == *" cancelled true" ]] || fail "$output"
	run -0 ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	assert_equal "$(wc -l <out.jsonl.batch-2.requests.jsonl)" "$((40 - done1))"
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 40
	assert_equal "$(wc -l <out.jsonl)" 40
}

@test "persona --batch-api: one batch, killed while it runs, the rerun reattaches; the pool as online" {
	fake_start --batch-step-ms 300
	persona_tape 12 2
	killed_mid_batch ise-persona -n 12 --batch 2 --model m --batch-api --batch-poll 0.1 --progress -o out.jsonl
	[ ! -s out.jsonl ]
	run -0 batch_state out.jsonl
	[[ $output == "batch-fake-"*" in_progress false" ]] || fail "$output"
	run -0 --separate-stderr ise-persona -n 12 --batch 2 --model m --batch-api --batch-poll 0.1 -o out.jsonl
	[[ $stderr == "ise-persona: batch batch-fake-"*" reattached"* ]] || fail "$stderr"
	assert_equal "$(creates)" 1
	assert_equal "$(fake_requests /v1/chat/completions)" 0
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 12
	ise-persona -n 12 --batch 2 --model m -j 1 2>/dev/null >online.jsonl
	assert_equal "$(jq -r .name out.jsonl | sort)" "$(jq -r .name online.jsonl | sort)"
	# done is done: a third run sends nothing
	run -0 ise-persona -n 12 --batch 2 --model m --batch-api --batch-poll 0.1 -o out.jsonl
	assert_equal "$(creates)" 1
	assert_equal "$(wc -l <out.jsonl)" 12
	# --batch-api, not --batch, names the Batch API here: --batch N is per request
	run -2 --separate-stderr ise-persona -n 12 --model m --batch-api
	assert_equal "$stderr" "ise-persona: --batch-api needs -o FILE: its state is kept beside it
Try 'ise-persona --help' for more information."
}

@test "--batch: usage errors" {
	run -2 ise-render --model m --batch "$T40"
	[[ $output == *"--batch needs -o FILE"* ]] || fail "$output"
	run -2 ise-render --model m --batch -o out.jsonl "$T40"
	[[ $output == *"--batch needs an endpoint"* ]] || fail "$output"
	run -2 env OPENAI_BASE_URL=http://127.0.0.1:9/v1 ise-render --model m --batch --responses x -o out.jsonl "$T40"
	run -2 env OPENAI_BASE_URL=http://127.0.0.1:9/v1 ise-render --model m --batch --batch-max-requests 0 -o out.jsonl "$T40"
}

@test "--batch: an endpoint that stays down is fatal, exit 3, the key not shown; the state keeps the batch to send" {
	run -3 --separate-stderr env OPENAI_BASE_URL=http://127.0.0.1:9/v1 OPENAI_API_KEY=sk-SECRET-x \
		ise-render --model m --words 1-5 --batch --retries 0 -o out.jsonl "$T40"
	[[ $stderr == *"POST http://127.0.0.1:9/v1/files: "*"(rerun to go on with the batch)"* ]] || fail "$stderr"
	[[ $stderr != *SECRET* ]] || fail "$stderr"
	assert_equal "$(jq -r '.batches[] | [.requests, (.id // "none")] | @tsv' out.jsonl.batch.json)" "out.jsonl.batch-1.requests.jsonl	none"
	assert_equal "$(wc -l <out.jsonl.batch-1.requests.jsonl)" 40
	# once it is up, the same command sends that batch
	fake_start --echo
	run -0 ise-render --model m --words 1-5 --batch --batch-poll 0.05 -o out.jsonl "$T40"
	assert_equal "$(fake_requests /v1/batches)" 1
	assert_equal "$(wc -l <out.jsonl)" 40
}

@test "--batch: requests over --batch-max-requests or --batch-max-bytes go out as several batches" {
	fake_start --echo
	run -0 --separate-stderr ise-render --model m --words 1-5 --batch --batch-poll 0.05 \
		--batch-max-requests 15 -o out.jsonl "$T40"
	assert_equal "$(fake_requests /v1/batches)" 3
	assert_equal "$(wc -l <out.jsonl.batch-3.requests.jsonl)" 10
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 40
	bytes=$(head -n 1 out.jsonl.batch-1.requests.jsonl | wc -c)
	run -0 ise-render --model m --words 1-5 --batch --batch-poll 0.05 \
		--batch-max-bytes "$((bytes * 25 / 2))" -o out2.jsonl "$T40"
	assert_equal "$(jq -s length out2.jsonl.batch.json | head -n 1)" 1
	[ "$(jq '.batches | length' out2.jsonl.batch.json)" -ge 4 ]
	cmp <(sort out.jsonl) <(sort out2.jsonl)
}

@test "fake server: Files and Batches as the API serves them, over time, output out of order, expiry, cancel" {
	fake_start --echo --batch-step-ms 200 --batch-expire-after 4
	for i in 1 2 3 4 5 6; do
		jq -cn --arg i "$i" '{custom_id: "r\($i)", method: "POST", url: "/v1/chat/completions",
			body: {model: "m", messages: [{role: "user", content: "say \($i)"}]}}'
	done >req.jsonl
	file=$(fake_curl -F purpose=batch -F file=@req.jsonl "$OPENAI_BASE_URL/files" | jq -r .id)
	run -22 fake_curl -F purpose=fine-tune -F file=@req.jsonl "$OPENAI_BASE_URL/files"
	batch=$(jq -cn --arg f "$file" '{input_file_id: $f, endpoint: "/v1/chat/completions", completion_window: "24h"}' |
		fake_curl -H 'Content-Type: application/json' --data-binary @- "$OPENAI_BASE_URL/batches")
	assert_equal "$(jq -r .status <<<"$batch")" validating
	id=$(jq -r .id <<<"$batch")
	seen=
	for ((i = 0; i < 100; i++)); do
		b=$(fake_curl "$OPENAI_BASE_URL/batches/$id")
		seen="$seen $(jq -r .status <<<"$b")"
		[ "$(jq -r .status <<<"$b")" = expired ] && break
		sleep 0.05
	done
	[[ $seen == *" in_progress"*" expired" ]] || fail "$seen"
	assert_equal "$(jq -c .request_counts <<<"$b")" '{"total":6,"completed":4,"failed":0}'
	fake_curl "$OPENAI_BASE_URL/files/$(jq -r .output_file_id <<<"$b")/content" >out.jsonl
	assert_equal "$(jq -r .custom_id out.jsonl | tr '\n' ,)" "r4,r3,r2,r1,"
	jq -e -s 'all(.[]; .response.status_code == 200 and .response.body.object == "chat.completion" and .error == null)' out.jsonl
	fake_curl "$OPENAI_BASE_URL/files/$(jq -r .error_file_id <<<"$b")/content" >err.jsonl
	assert_equal "$(jq -r '[.custom_id, .error.code] | @tsv' err.jsonl | sort | tr '\n' ,)" "r5	batch_expired,r6	batch_expired,"
	run -22 fake_curl "$OPENAI_BASE_URL/batches/nope"
	# a cancelled batch: what ran, and the rest as cancelled
	id=$(jq -cn --arg f "$file" '{input_file_id: $f, endpoint: "/v1/chat/completions", completion_window: "24h"}' |
		fake_curl -H 'Content-Type: application/json' --data-binary @- "$OPENAI_BASE_URL/batches" | jq -r .id)
	sleep 0.2
	assert_equal "$(fake_curl -X POST "$OPENAI_BASE_URL/batches/$id/cancel" | jq -r .status)" cancelling
	for ((i = 0; i < 100; i++)); do
		b=$(fake_curl "$OPENAI_BASE_URL/batches/$id")
		[ "$(jq -r .status <<<"$b")" = cancelled ] && break
		sleep 0.05
	done
	fake_curl "$OPENAI_BASE_URL/files/$(jq -r .error_file_id <<<"$b")/content" | jq -e -s 'length >= 2 and all(.[]; .error.code == "batch_cancelled")'
	assert_equal "$(fake_requests /v1/chat/completions)" 0
}

@test "fake server: batches listed newest first a page at a time, with their metadata" {
	fake_start --echo
	printf '%s\n' '{"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}' >req.jsonl
	file=$(fake_curl -F purpose=batch -F file=@req.jsonl "$OPENAI_BASE_URL/files" | jq -r .id)
	b1=$(new_batch "$file" '{"ise_key": "k1"}')
	b2=$(new_batch "$file")
	b3=$(new_batch "$file" '{"a": "1", "b": "2"}')
	page=$(fake_curl "$OPENAI_BASE_URL/batches?limit=2")
	assert_equal "$(jq -c '[.object, [.data[].id], .has_more, .first_id, .last_id]' <<<"$page")" \
		"[\"list\",[\"$b3\",\"$b2\"],true,\"$b3\",\"$b2\"]"
	assert_equal "$(jq -c '[.data[].metadata]' <<<"$page")" '[{"a":"1","b":"2"},null]'
	page=$(fake_curl "$OPENAI_BASE_URL/batches?limit=2&after=$b2")
	assert_equal "$(jq -c '[[.data[].id], .has_more, .data[0].metadata]' <<<"$page")" "[[\"$b1\"],false,{\"ise_key\":\"k1\"}]"
	assert_equal "$(fake_curl "$OPENAI_BASE_URL/batches/$b1" | jq -c .metadata)" '{"ise_key":"k1"}'
	assert_equal "$(fake_curl "$OPENAI_BASE_URL/batches" | jq '.data | length')" 3
	run -22 fake_curl "$OPENAI_BASE_URL/batches?limit=101"
	for meta in '{"n": 1}' "$(jq -cn '[range(17) | {key: "k\(.)", value: "v"}] | from_entries')"; do
		run -22 fake_curl -H 'Content-Type: application/json' --data-binary "$(jq -cn --arg f "$file" \
			--argjson m "$meta" '{input_file_id: $f, endpoint: "/v1/chat/completions", completion_window: "24h",
			metadata: $m}')" "$OPENAI_BASE_URL/batches"
	done
}
