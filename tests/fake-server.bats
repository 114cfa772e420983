#!/usr/bin/env bats
# The fake OpenAI-compatible server itself (tests/fake_openai.py), driven
# with curl, so the client suites can trust what it sends and records.
load helper
load fake

setup_file() {
	fake_start
	export MAIN_PID=$FAKE_PID
}

teardown_file() {
	fake_stop
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	fake_reset
}

# A test that started a server of its own stops it.
teardown() {
	if [ "${FAKE_PID:-}" != "$MAIN_PID" ]; then fake_stop; fi
}

# post PATH JSON [curl args...]: print the HTTP status; the body goes to
# ./body and the response headers to ./headers.  curl's status is kept.
post() {
	local path=$1 data=$2
	shift 2
	curl --noproxy '*' -sS -o body -D headers -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $OPENAI_API_KEY" \
		--data-binary "$data" "$@" "$FAKE_URL$path"
}

# chat_body USER_TEXT [MODEL]: a chat request with a system and a user message.
chat_body() {
	jq -cn --arg u "$1" --arg m "${2:-fake-model}" \
		'{model: $m, temperature: 0, messages: [{role: "system", content: "sys"}, {role: "user", content: $u}]}'
}

chat() {
	post /v1/chat/completions "$(chat_body "$@")"
}

@test "the port file holds the port; /health and /v1/models answer" {
	run -0 cat "$FAKE_DIR/port"
	assert_output --regexp '^[0-9]+$'
	assert_equal "$FAKE_URL" "http://127.0.0.1:$output"
	assert_equal "$OPENAI_BASE_URL" "$FAKE_URL/v1"
	run -0 curl -sS --noproxy '*' "$FAKE_URL/health"
	assert_output '{"status": "ok"}'
	run -0 curl -sS --noproxy '*' "$OPENAI_BASE_URL/models"
	run -0 jq -e '.object == "list" and .data[0].object == "model" and (.data[0].id | type) == "string"' <<<"$output"
}

@test "echo: a full chat.completion whose content is the sha256 of the canonical messages" {
	fake_start --echo
	run -0 chat "hello wörld"
	assert_output 200
	want=$(chat_body "hello wörld" | jq -jcS .messages | sha256sum | cut -c1-16)
	run -0 jq -e --arg w "$want" '
		(.id | type) == "string" and .object == "chat.completion" and (.created | type) == "number" and
		.model == "fake-model" and (.choices | length) == 1 and .choices[0].index == 0 and
		.choices[0].message == {role: "assistant", content: $w} and .choices[0].finish_reason == "stop" and
		.usage == {prompt_tokens: 4, completion_tokens: 4, total_tokens: 8}' body
	# the same messages, the same reply; others, another
	run -0 chat "hello wörld" other-model
	run -0 jq -e --arg w "$want" '.choices[0].message.content == $w and .model == "other-model"' body
	run -0 chat "hello world"
	run -0 jq -e --arg w "$want" '.choices[0].message.content != $w and (.choices[0].message.content | test("^[0-9a-f]{16}$"))' body
}

@test "echo: ECHO_JSON: replies with that JSON text exactly" {
	fake_start --echo
	run -0 chat 'Reply as told. ECHO_JSON: {"completed": false, "query":"ls -l /tmp", "reason": "x"} and more'
	assert_output 200
	run -0 jq -j '.choices[0].message.content' body
	assert_output '{"completed": false, "query":"ls -l /tmp", "reason": "x"}'
	# not JSON after the marker: the rest of the message, as is
	run -0 chat 'ECHO_JSON: {"completed": fal'
	run -0 jq -j '.choices[0].message.content' body
	assert_output '{"completed": fal'
	# only the last user message counts
	run -0 post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"ECHO_JSON: 1"},{"role":"assistant","content":"1"},{"role":"user","content":"again"}]}'
	run -0 jq -e '.choices[0].message.content | test("^[0-9a-f]{16}$")' body
}

@test "echo: embeddings are deterministic unit vectors of --embed-dim, in input order" {
	fake_start --echo --embed-dim 5
	run -0 post /v1/embeddings '{"model":"emb","input":["alpha","beta","alpha"]}'
	assert_output 200
	run -0 jq -e '
		.object == "list" and .model == "emb" and (.data | length) == 3 and
		([.data[].index] == [0, 1, 2]) and all(.data[]; .object == "embedding" and (.embedding | length) == 5) and
		all(.data[]; ([.embedding[] | . * .] | add) as $n | $n > 0.9999 and $n < 1.0001) and
		.data[0].embedding == .data[2].embedding and .data[0].embedding != .data[1].embedding and
		.usage == {prompt_tokens: 5, total_tokens: 5}' body
	cp body first
	run -0 post /v1/embeddings '{"model":"emb","input":"alpha"}'
	run -0 jq -e --slurpfile f first '(.data | length) == 1 and .data[0].embedding == $f[0].data[0].embedding' body
	# a request's dimensions wins
	run -0 post /v1/embeddings '{"model":"emb","input":["alpha"],"dimensions":3}'
	run -0 jq -e '(.data[0].embedding | length) == 3' body
}

@test "tape: a text reply is a full chat.completion, model echoed, usage about chars/4" {
	fake_tape '{"reply":{"content":"Hello there, friend!"}}'
	run -0 chat "0123456789abcdef" my-model
	assert_output 200
	run -0 jq -e '
		.object == "chat.completion" and .model == "my-model" and
		.choices[0].message == {role: "assistant", content: "Hello there, friend!"} and
		.choices[0].finish_reason == "stop" and
		.usage == {prompt_tokens: 5, completion_tokens: 5, total_tokens: 10}' body
}

@test "tape: reasoning_content, reasoning, finish_reason, no_usage, usage as given" {
	fake_tape '{"reply":{"content":"<think>x</think>{\"a\":1}","reasoning_content":"because","finish_reason":"stop"}}
{"reply":{"content":"ok","reasoning":"thought"},"no_usage":true}
{"reply":{"content":"{\"completed\":false,\"query\":\"","finish_reason":"length","no_usage":true}}
{"reply":{"content":"x","usage":{"prompt_tokens":7,"completion_tokens":100,"total_tokens":107}}}'
	chat a
	run -0 jq -e '.choices[0].message == {role: "assistant", content: "<think>x</think>{\"a\":1}", reasoning_content: "because"} and
		.choices[0].finish_reason == "stop" and (.usage.completion_tokens > 0)' body
	chat b
	run -0 jq -e '.choices[0].message == {role: "assistant", content: "ok", reasoning: "thought"} and (has("usage") | not)' body
	chat c
	run -0 jq -e '.choices[0].finish_reason == "length" and .choices[0].message.content == "{\"completed\":false,\"query\":\"" and (has("usage") | not)' body
	chat d
	run -0 jq -e '.usage == {prompt_tokens: 7, completion_tokens: 100, total_tokens: 107}' body
}

@test "tape: tool calls get string arguments, call_<n> ids, null content, finish_reason tool_calls" {
	fake_tape '{"reply":{"tool_calls":[{"name":"exec","arguments":{"cmd":"ls -l"}},{"name":"read","arguments":{"path":"/tmp/a b"}}]}}
{"reply":{"content":"running it","tool_calls":[{"name":"exec","arguments":{}}]}}'
	run -0 chat "list files"
	assert_output 200
	run -0 jq -e '
		.choices[0].finish_reason == "tool_calls" and .choices[0].message.content == null and
		(.choices[0].message | has("content")) and
		.choices[0].message.tool_calls == [
			{id: "call_1", type: "function", function: {name: "exec", arguments: "{\"cmd\": \"ls -l\"}"}},
			{id: "call_2", type: "function", function: {name: "read", arguments: "{\"path\": \"/tmp/a b\"}"}}] and
		(.choices[0].message.tool_calls[0].function.arguments | fromjson) == {cmd: "ls -l"}' body
	run -0 chat again
	run -0 jq -e '.choices[0].message.content == "running it" and .choices[0].message.tool_calls[0].id == "call_3" and
		.choices[0].message.tool_calls[0].function.arguments == "{}"' body
}

@test "tape: arguments_raw verbatim, arguments_obj as an object without id, an empty tool_calls" {
	fake_tape '{"reply":{"tool_calls":[{"name":"exec","arguments_raw":"{\"cmd\":"}]}}
{"reply":{"tool_calls":[{"name":"exec","arguments_obj":{"cmd":"ls"},"no_id":true}]}}
{"reply":{"content":"","tool_calls":[],"finish_reason":"tool_calls"}}
{"reply":{"tool_calls":[{"name":"exec","id":"abc","arguments":{"a":1}}],"finish_reason":"stop"}}'
	chat a
	run -0 jq -e '.choices[0].message.tool_calls[0].function.arguments == "{\"cmd\":"' body
	chat b
	run -0 jq -e '.choices[0].message.tool_calls == [{type: "function", function: {name: "exec", arguments: {cmd: "ls"}}}]' body
	chat c
	run -0 jq -e '.choices[0].message == {role: "assistant", content: "", tool_calls: []} and .choices[0].finish_reason == "tool_calls"' body
	chat d
	run -0 jq -e '.choices[0].message.tool_calls[0].id == "abc" and .choices[0].finish_reason == "stop"' body
}

@test "tape: json is the body verbatim, raw is sent as is with its status" {
	fake_tape '{"json":{"choices":[{"message":{"role":"assistant","content":"hi"}}],"timings":{"cache_n":3}}}
{"raw":"{\"choices\":[","status":200}
{"raw":"not json at all","status":502}'
	run -0 chat a
	assert_output 200
	run -0 jq -cS . body
	assert_output '{"choices":[{"message":{"content":"hi","role":"assistant"}}],"timings":{"cache_n":3}}'
	run -0 chat b
	assert_output 200
	assert_equal "$(cat body)" '{"choices":['
	run -0 chat c
	assert_output 502
	assert_equal "$(cat body)" 'not json at all'
}

@test "tape: each error_style has its status and the body shape of LLM-PROTOCOL 1.7" {
	fake_tape '{"match":{"last_user_re":"^openai$"},"error_style":"openai","error_message":"bad thing"}
{"match":{"last_user_re":"^quota$"},"error_style":"openai","error_message":"You exceeded your current quota","error_code":"insufficient_quota"}
{"match":{"last_user_re":"^vllm_new$"},"error_style":"vllm_new","error_message":"too long"}
{"match":{"last_user_re":"^vllm_old$"},"error_style":"vllm_old","error_message":"old","status":404}
{"match":{"last_user_re":"^llamacpp$"},"error_style":"llamacpp","error_message":"no"}
{"match":{"last_user_re":"^ctx$"},"error_style":"llamacpp","error_type":"exceed_context_size_error","error_message":"ctx"}
{"match":{"last_user_re":"^ollama$"},"error_style":"ollama_native"}
{"match":{"last_user_re":"^ollama500$"},"error_style":"ollama_native","status":500,"error_message":"model crashed"}
{"match":{"last_user_re":"^plain$"},"status":401}'
	run -0 chat openai
	assert_output 400
	run -0 jq -e '. == {error: {message: "bad thing", type: "invalid_request_error", param: null, code: null}}' body
	run -0 chat quota
	assert_output 429
	run -0 jq -e '. == {error: {message: "You exceeded your current quota", type: "insufficient_quota", param: null, code: "insufficient_quota"}}' body
	run -0 chat vllm_new
	assert_output 400
	run -0 jq -e '. == {error: {message: "too long", type: "BadRequestError", param: null, code: 400}}' body
	run -0 chat vllm_old
	assert_output 404
	run -0 jq -e '. == {object: "error", message: "old", type: "NotFoundError", param: null, code: 404}' body
	run -0 chat llamacpp
	assert_output 400
	run -0 jq -e '. == {error: {code: 400, message: "no", type: "invalid_request_error"}}' body
	run -0 chat ctx
	assert_output 400
	run -0 jq -e '.error.type == "exceed_context_size_error" and .error.code == 400 and (.error.n_prompt_tokens | type) == "number" and (.error.n_ctx | type) == "number"' body
	run -0 chat ollama
	assert_output 503
	run -0 jq -e '. == {error: "server busy, please try again. maximum pending requests exceeded"}' body
	run -0 chat ollama500
	assert_output 500
	run -0 jq -e '. == {error: "model crashed"}' body
	run -0 chat plain
	assert_output 401
	run -0 jq -e '.error.message | type == "string"' body
}

@test "tape: an html error is text/html; /health can be scripted (llama.cpp loading)" {
	fake_tape '{"error_style":"html","error_message":"upstream down"}
{"match":{"path":"/health"},"status":503,"error_style":"llamacpp","error_message":"Loading model"}'
	run -0 chat x
	assert_output 502
	run -0 grep -i '^content-type: text/html' headers
	run -0 grep -c '<h1>502 Bad Gateway</h1>' body
	run ! jq . body
	run -0 curl -sS --noproxy '*' -w ' %{http_code}' "$FAKE_URL/health"
	assert_output '{"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}} 503'
	# the tape entry for /health is spent: the server is healthy again
	run -0 curl -sS --noproxy '*' -w ' %{http_code}' "$FAKE_URL/health"
	assert_output '{"status": "ok"} 200'
}

@test "tape: status and headers are sent as given (429 with Retry-After)" {
	fake_tape '{"status":429,"headers":{"Retry-After":"1","x-should-retry":"true"},"error_style":"openai","error_code":"rate_limit_exceeded","error_message":"slow down"}
{"status":200,"headers":{"retry-after-ms":"250"},"reply":{"content":"fine"}}'
	run -0 chat x
	assert_output 429
	run -0 grep -i '^retry-after: 1' headers
	run -0 grep -i '^x-should-retry: true' headers
	run -0 jq -e '.error.code == "rate_limit_exceeded" and .error.type == "requests"' body
	run -0 chat x
	assert_output 200
	run -0 grep -i '^retry-after-ms: 250' headers
}

@test "tape: delay_ms holds the reply back" {
	fake_tape '{"delay_ms":400,"reply":{"content":"late"}}'
	run -0 post /v1/chat/completions "$(chat_body x)" -w '%{time_total}'
	awk -v t="$output" 'BEGIN { exit !(t >= 0.4 && t < 2) }'
	run -0 jq -r '.choices[0].message.content' body
	assert_output late
	assert_equal "$(jq -s -c 'map(.status)' "$FAKE_LOG")" '[200]'
}

@test "tape: FIFO, repeat N, repeat -1, then 'fake: tape exhausted'" {
	fake_tape '{"reply":{"content":"one"}}
{"reply":{"content":"two"},"repeat":2}
{"reply":{"content":"three"}}'
	for want in one two two three; do
		run -0 chat x
		assert_output 200
		assert_equal "$(jq -r '.choices[0].message.content' body)" "$want"
	done
	run -0 chat x
	assert_output 500
	run -0 jq -e '. == {error: {message: "fake: tape exhausted"}}' body
	fake_tape '{"reply":{"content":"forever"},"repeat":-1}'
	for _ in 1 2 3 4 5; do
		run -0 chat x
		assert_output 200
	done
	run -0 jq -e '.tape_left == -1' <<<"$(fake_stats)"
}

@test "tape: match by last_user_re, model, contains and path; an entry that does not fit is left alone" {
	fake_tape '{"match":{"last_user_re":"STEP [2-3]"},"reply":{"content":"step"},"repeat":2}
{"match":{"model":"sim"},"reply":{"content":"sim"}}
{"match":{"contains":"needle"},"reply":{"content":"found"}}
{"match":{"path":"/v1/embeddings"},"reply":{}}
{"match":{"path":"/v1/chat/completions"},"reply":{"content":"any"}}'
	c() {
		chat "$@" >/dev/null
		jq -r '.choices[0].message.content' body
	}
	assert_equal "$(c "this is STEP 3")" step
	assert_equal "$(c "hi" sim)" sim
	assert_equal "$(c "a needle here")" found
	assert_equal "$(c "STEP 2")" step
	assert_equal "$(c "STEP 2")" any
	# the last user message only: an earlier user turn does not match
	fake_tape '{"match":{"last_user_re":"^first$"},"reply":{"content":"no"}}
{"reply":{"content":"yes"}}'
	post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"a"},{"role":"user","content":"second"}]}' >/dev/null
	assert_equal "$(jq -r '.choices[0].message.content' body)" yes
	# contains sees the messages as JSON, the system prompt included
	fake_tape '{"match":{"contains":"\"role\":\"system\""},"reply":{"content":"sys"}}'
	assert_equal "$(c x)" sys
	# an embeddings reply from the tape: echo vectors, default --embed-dim 8
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{}}'
	run -0 post /v1/embeddings '{"model":"e","input":["a"]}'
	run -0 jq -e '(.data[0].embedding | length) == 8' body
}

@test "drop: curl sees an empty reply (52), and the server answers afterwards" {
	fake_tape '{"drop":true}
{"reply":{"content":"after"}}'
	run -52 chat x
	run -0 chat x
	assert_output 200
	assert_equal "$(jq -r '.choices[0].message.content' body)" after
	run -0 jq -s -c 'map([.status, .fault])' "$FAKE_LOG"
	assert_output '[[0,"drop"],[200,null]]'
}

@test "hang: curl --max-time 1 times out (28), the server answers afterwards" {
	fake_tape '{"hang":true}
{"reply":{"content":"after"}}'
	run -28 post /v1/chat/completions "$(chat_body x)" --max-time 1
	run -0 chat x
	assert_output 200
	assert_equal "$(jq -r '.choices[0].message.content' body)" after
	run -0 jq -s -c 'map([.status, .fault])' "$FAKE_LOG"
	assert_output '[[0,"hang"],[200,null]]'
	# the hung handler notices the client went away
	for _ in $(seq 20); do
		[ "$(fake_stats | jq .inflight)" = 0 ] && break
		sleep 0.1
	done
	run -0 jq -e '.inflight == 0' <<<"$(fake_stats)"
}

@test "the log: a line per request with seq, t, method, path, auth, body, model, status; never the key" {
	fake_tape '{"reply":{"content":"a"},"repeat":-1}'
	chat "first" m1 >/dev/null
	curl -sS --noproxy '*' -o /dev/null -H "api-key: $OPENAI_API_KEY" "$OPENAI_BASE_URL/models"
	curl -sS --noproxy '*' -o /dev/null -H 'Content-Type: application/json' -d 'not json' "$OPENAI_BASE_URL/chat/completions"
	curl -sS --noproxy '*' -o /dev/null "$FAKE_URL/no/such/route"
	run -0 jq -s -e --argjson b "$(chat_body first m1)" '
		length == 4 and ([.[].seq] == [1, 2, 3, 4]) and all(.[]; (.t | type) == "number") and
		(.[0] | .method == "POST" and .path == "/v1/chat/completions" and .auth_present == true and
			.auth_scheme == "Bearer" and .body == $b and .model == "m1" and .status == 200 and
			(.body_sha256 | test("^[0-9a-f]{64}$")) and .headers_subset["content-type"] == "application/json") and
		(.[1] | .method == "GET" and .path == "/v1/models" and .auth_present == true and .auth_scheme == null and
			.body == null and .status == 200) and
		(.[2] | .body == null and .model == null and .status == 400 and .auth_present == false) and
		(.[3] | .status == 404) and
		(.[0].t <= .[3].t)' "$FAKE_LOG"
	run -1 grep -r SECRET "$FAKE_DIR"
	run -1 grep -r "$OPENAI_API_KEY" "$FAKE_DIR"
	# control requests are neither logged nor counted
	fake_stats >/dev/null
	assert_equal "$(fake_requests)" 4
	assert_equal "$(fake_requests /v1/models)" 1
}

@test "stats, fake_requests and reset" {
	# an entry without match.path serves embeddings too (echo vectors)
	fake_tape '{"reply":{"content":"a"},"repeat":3}'
	chat x >/dev/null
	chat y >/dev/null
	run -0 post /v1/embeddings '{"input":"a"}'
	run -0 jq -e '.requests == 3 and .peak_inflight == 1 and .rejected_rpm == 0 and .rejected_inflight == 0 and .tape_left == 0' <<<"$(fake_stats)"
	assert_equal "$(fake_requests)" 3
	assert_equal "$(fake_requests /v1/chat/completions)" 2
	assert_equal "$(fake_requests /v1/embeddings)" 1
	fake_reset
	run -0 jq -e '.requests == 0 and .peak_inflight == 0' <<<"$(fake_stats)"
	assert_equal "$(fake_requests)" 0
	# reset reloads the --tape file (empty here), dropping a posted tape
	run -0 chat x
	assert_output 500
	assert_equal "$(jq -r .seq "$FAKE_LOG")" 1
}

@test "fake_tape takes a file, a string or stdin; a bad tape is refused and the old one kept" {
	printf '%s\n' '# a comment' '' '{"reply":{"content":"file"}}' >t.jsonl
	fake_tape t.jsonl
	chat x >/dev/null
	assert_equal "$(jq -r '.choices[0].message.content' body)" file
	echo '{"reply":{"content":"stdin"}}' | fake_tape -
	chat x >/dev/null
	assert_equal "$(jq -r '.choices[0].message.content' body)" stdin
	fake_tape '[{"reply":{"content":"array"}}]'
	run ! fake_tape '{"reply":'
	run ! fake_tape '{"match":{"last_user_re":"("}}'
	chat x >/dev/null
	assert_equal "$(jq -r '.choices[0].message.content' body)" array
}

@test "--rpm 2: the third request in the window is 429 with Retry-After: 1 and x-ratelimit headers" {
	fake_start --echo --rpm 2
	run -0 chat a
	assert_output 200
	run -0 grep -i '^x-ratelimit-limit-requests: 2' headers
	run -0 chat b
	assert_output 200
	run -0 chat c
	assert_output 429
	run -0 grep -i '^retry-after: 1' headers
	run -0 grep -i '^x-ratelimit-remaining-requests: 0' headers
	run -0 grep -i '^x-ratelimit-reset-requests: [0-9.]*s' headers
	run -0 jq -e '.error.code == "rate_limit_exceeded"' body
	run -0 jq -e '.rejected_rpm == 1 and .requests == 3' <<<"$(fake_stats)"
	# models and health are not limited
	run -0 curl -sS --noproxy '*' -f "$OPENAI_BASE_URL/models"
}

# over_inflight STATUS: with a fake that takes one request at a time and
# answers in 700 ms, chat a goes first, in the background (its pid in
# $first, its status to a.code), and chat b, sent meanwhile, is refused
# with STATUS
over_inflight() {
	chat a >a.code &
	first=$!
	sleep 0.25
	run -0 chat b
	assert_output "$1"
}

@test "--max-inflight 1: a second concurrent request is 503 Ollama-style; peak_inflight counts it" {
	fake_start --echo --max-inflight 1 --latency-ms 700
	over_inflight 503
	run -0 jq -e '. == {error: "server busy, please try again. maximum pending requests exceeded"}' body
	wait "$first"
	assert_equal "$(cat a.code)" 200
	run -0 jq -e '.peak_inflight == 2 and .rejected_inflight == 1 and .requests == 2' <<<"$(fake_stats)"
	run -0 chat c
	assert_output 200
}

@test "--over-inflight-status 429: the refusal is OpenAI's rate limit, with the Retry-After asked for; GETs pass" {
	fake_start --echo --max-inflight 1 --over-inflight-status 429 --over-inflight-retry-after 0.5 --latency-ms 700
	over_inflight 429
	run -0 jq -e '.error.code == "rate_limit_exceeded" and .error.type == "requests"' body
	run -0 grep -i '^retry-after: 0.5' headers
	# a busy server still answers these
	run -0 curl -sS --noproxy '*' -f "$FAKE_URL/health"
	run -0 curl -sS --noproxy '*' -f "$OPENAI_BASE_URL/models"
	wait "$first"
	assert_equal "$(cat a.code)" 200
	run -0 jq -e '.rejected_inflight == 1 and .peak_served == 1 and .requests == 4' <<<"$(fake_stats)"
	assert_equal "$(jq -s -c 'map(select(.path == "/v1/chat/completions")) | map([.status, .fault])' "$FAKE_LOG")" '[[200,null],[429,"inflight"]]'
}

@test "--latency-ms delays every reply" {
	fake_start --echo --latency-ms 300
	run -0 post /v1/chat/completions "$(chat_body x)" -w '%{time_total}'
	awk -v t="$output" 'BEGIN { exit !(t >= 0.3 && t < 2) }'
	run -0 curl -sS --noproxy '*' -o /dev/null -w '%{time_total}' "$OPENAI_BASE_URL/models"
	awk -v t="$output" 'BEGIN { exit !(t >= 0.3 && t < 2) }'
}

# 200 chat requests in one curl; prints each status (000: dropped), one a line.
# A connection each: curl silently re-sends a request whose reused
# connection closed without a reply, which would hide the drops.
burst() {
	curl --noproxy '*' -s -H 'Connection: close' -H 'Content-Type: application/json' --data-binary "$(chat_body x)" \
		-o "$BATS_TEST_TMPDIR/r#1" -w '%{http_code}\n' "$OPENAI_BASE_URL/chat/completions?n=[1-200]" || true
}

@test "--fail-rate 0.3: about 30% fail as 500, 503 and drops in turn; the same seed, the same pattern" {
	fake_start --echo --fail-rate 0.3 --fail-seed 7
	burst >p1
	assert_equal "$(wc -l <p1)" 200
	fails=$(grep -vc '^200$' p1)
	[ "$fails" -ge 40 ] && [ "$fails" -le 80 ] || fail "$fails of 200 failed"
	# the failures alternate 500, 503, drop
	run -0 sh -c "grep -v '^200$' p1 | head -n 6 | tr '\n' ' '"
	assert_output '500 503 000 500 503 000 '
	run -0 jq -e --argjson n "$fails" '.injected_failures == $n and .requests == 200' <<<"$(fake_stats)"
	assert_equal "$(jq -s '[.[] | select(.fault == "injected")] | length' "$FAKE_LOG")" "$fails"
	fake_reset
	burst >p2
	run -0 cmp p1 p2
	fake_stop
	fake_start --echo --fail-rate 0.3 --fail-seed 8
	burst >p3
	run -1 cmp -s p1 p3
}

@test "SIGTERM ends the server within 2 s even with a hanging request open" {
	fake_start
	fake_tape '{"hang":true}'
	post /v1/chat/completions "$(chat_body x)" --max-time 10 >code 2>/dev/null &
	local cpid=$!
	for _ in $(seq 40); do
		[ "$(fake_stats | jq .inflight)" = 1 ] && break
		sleep 0.05
	done
	run -0 jq -e '.inflight == 1' <<<"$(fake_stats)"
	start=$(date +%s%N)
	kill -TERM "$FAKE_PID"
	for _ in $(seq 40); do
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	run -1 kill -0 "$FAKE_PID"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$elapsed" -lt 2000 ] || fail "took $elapsed ms"
	# the client is let go, not left to its own timeout
	run wait "$cpid"
	[ "$status" -ne 0 ] && [ "$status" -ne 28 ] || fail "curl status $status"
	[ "$(($(date +%s%N) - start))" -lt 3000000000 ]
}

# get PATH: print the HTTP status; the body goes to ./body.
get() {
	curl --noproxy '*' -sS -o body -w '%{http_code}' "$FAKE_URL$1"
}

@test "shapes: a loading llama-server answers 503 on /health and POSTs, /v1/models at once; {} ends it" {
	fake_tape '{"reply":{"content":"hi"},"repeat":-1}'
	fake_shape '{"loading_s":30}'
	assert_equal "$(get /health)" 503
	assert_equal "$(jq -c . body)" '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}'
	assert_equal "$(chat hello)" 503
	assert_equal "$(get /v1/models)" 200
	fake_shape '{}'
	assert_equal "$(get /health)" 200
	assert_equal "$(chat hello)" 200
}

@test "shapes: vLLM's max_model_len and llama-server's per-slot n_ctx, each refusing a prompt over it" {
	fake_tape '{"reply":{"content":"hi"},"repeat":-1}'
	fake_shape '{"max_model_len":100,"served_model":"Qwen/Qwen3-8B"}'
	assert_equal "$(get /v1/models)" 200
	jq -e '.data == [{id: "Qwen/Qwen3-8B", object: "model", created: 0, owned_by: "vllm", root: "Qwen/Qwen3-8B", parent: null, max_model_len: 100}]' body
	assert_equal "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"short"}],"max_tokens":10}')" 200
	jq -e '.usage.prompt_tokens == 10' body # (messages and tools as compact JSON) / 4, rounded up
	assert_equal "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"short"}],"max_tokens":95}')" 400
	jq -e '.error.message | startswith("This model'"'"'s maximum context length is 100 tokens. However, you requested 95 output tokens and your prompt contains at least 10 input tokens")' body
	fake_shape '{"n_ctx":200,"parallel":4}'
	assert_equal "$(get /props)" 200
	jq -e '.default_generation_settings.n_ctx == 50 and .total_slots == 4' body
	big=$(printf 'x%.0s' $(seq 300))
	assert_equal "$(post /v1/chat/completions "{\"messages\":[{\"role\":\"user\",\"content\":\"$big\"}]}")" 400
	jq -e '.error | .type == "exceed_context_size_error" and .n_ctx == 50 and .n_prompt_tokens == 83 and .code == 400' body
	fake_shape '{}'
	assert_equal "$(get /props)" 404
}

@test "shapes: TEI's limits, embeddings without index or in base64, and a server without embeddings" {
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	fake_shape '{"embed_max_chars":5,"embed_too_long_status":422,"embed_max_batch":2}'
	assert_equal "$(post /v1/embeddings '{"input":["abc","toolong"]}')" 422
	assert_equal "$(jq -c '[.code, .type]' body)" '[422,"Validation"]'
	jq -e '.message | startswith("Input validation error: `inputs` must have less than")' body
	assert_equal "$(post /v1/embeddings '{"input":["a","b","c"]}')" 422
	assert_equal "$(jq -r .message body)" "batch size 3 > maximum allowed batch size 2"
	fake_shape '{"embed_no_index":true,"embed_base64":true}'
	assert_equal "$(post /v1/embeddings '{"input":["a","b"]}')" 200
	jq -e '.data | length == 2 and all(has("index") | not) and all(.embedding | type == "string")' body
	# the vector is the same, as little-endian float32
	fake_shape '{}'
	assert_equal "$(post /v1/embeddings '{"input":["a"],"encoding_format":"base64"}')" 200
	b64=$(jq -r '.data[0].embedding' body)
	post /v1/embeddings '{"input":["a"]}' >/dev/null
	python3 -c 'import base64, json, struct, sys
v = struct.unpack("<8f", base64.b64decode(sys.argv[1]))
w = json.load(open("body"))["data"][0]["embedding"]
sys.exit(0 if all(abs(a - b) < 1e-6 for a, b in zip(v, w)) else 1)' "$b64"
	fake_shape '{"no_embeddings":true}'
	assert_equal "$(post /v1/embeddings '{"input":["a"]}')" 501
	assert_equal "$(jq -r .error.type body)" not_supported_error
}
