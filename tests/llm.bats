#!/usr/bin/env bats
# lib/llm against the fake server, through tests/unit/llm_probe: reply
# shapes of every server, reasoning, errors, retries, the cache, JSON mode.
load helper
load fake

setup_file() {
	fake_start
}

teardown_file() {
	fake_stop
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	fake_reset
	export ISE_MODEL=test-model
	REQ='{"messages":[{"role":"user","content":"hello"}]}'
}

@test "a text reply; the request carries model, sampling, max_tokens, no stream, the key as a bearer" {
	fake_tape '{"reply":{"content":"  hi there \n"}}'
	probe
	assert_equal "$status" 0
	assert_equal "$(field .content)" "hi there"
	assert_equal "$(field .finish_reason)" "stop"
	assert_equal "$(field .usage_estimated)" "false"
	run -0 jq -c '.body | {model, temperature, top_p, max_tokens, stream}' "$FAKE_LOG"
	assert_output '{"model":"test-model","temperature":0.7,"top_p":0.95,"max_tokens":2048,"stream":false}'
	run -0 jq -r '[.auth_present, .auth_scheme] | @tsv' "$FAKE_LOG"
	assert_output $'true\tBearer'
}

@test "tool calls in every shape: string, object, no id, invalid JSON, two at once, content null" {
	fake_tape '{"reply":{"content":null,"tool_calls":[{"name":"exec","arguments":{"command":"ls"}},{"name":"read","arguments_obj":{"path":"a b"},"no_id":true},{"name":"write","arguments_raw":"{\"path\":"}]}}'
	probe
	assert_equal "$status" 0
	assert_equal "$(field .content)" ""
	assert_equal "$(field '.tool_calls | length')" 3
	assert_equal "$(field '.tool_calls[0].function.arguments | fromjson | tojson')" '{"command":"ls"}'
	# no id is made up here: the conversation knows which ids are taken
	assert_equal "$(field '.tool_calls[1] | has("id")')" false
	assert_equal "$(field '[.tool_calls[0,2].id] | unique | length')" 2
	assert_equal "$(field '.tool_calls[1].function.arguments')" '{"path":"a b"}'
	assert_equal "$(field '.tool_calls[2].function.arguments')" '{"path":'
	assert_equal "$(field '[.tool_calls[].type] | unique | .[0]')" "function"
}

@test "tool calls are found whatever finish_reason says, and an empty array is no call" {
	fake_tape '{"reply":{"tool_calls":[{"name":"exec","arguments":{"command":"id"}}],"finish_reason":"stop"}}
{"reply":{"content":"done","tool_calls":[],"finish_reason":"tool_calls"}}'
	probe
	assert_equal "$(field '.tool_calls[0].function.name')" "exec"
	probe
	assert_equal "$(field '.tool_calls')" "null"
	assert_equal "$(field .content)" "done"
}

@test "reasoning from reasoning_content, reasoning, inline <think> and a lone </think>" {
	fake_tape '{"reply":{"content":"answer","reasoning_content":"because A"}}
{"reply":{"content":"answer","reasoning":"because B"}}
{"reply":{"content":"<think>because C</think>\n\nanswer"}}
{"reply":{"content":"because D</think>answer"}}'
	for want in A B C D; do
		probe
		assert_equal "$(field .content)" "answer"
		assert_equal "$(field .reasoning)" "because $want"
	done
}

@test "missing usage is estimated and marked" {
	fake_tape '{"reply":{"content":"twelve chars"},"no_usage":true}'
	probe
	assert_equal "$(field .usage_estimated)" "true"
	assert_equal "$(field .completion_tokens)" 3
}

@test "429 with Retry-After: 1 is retried after at least a second with the same body" {
	fake_tape '{"status":429,"error_style":"openai","error_message":"slow down","error_code":"rate_limit_exceeded","headers":{"Retry-After":"1"}}
{"reply":{"content":"ok"}}'
	probe
	assert_equal "$status" 0
	assert_equal "$(jq -s length "$FAKE_LOG")" 2
	run -0 jq -s '.[1].t - .[0].t >= 1' "$FAKE_LOG"
	assert_output true
	assert_equal "$(jq -c .body "$FAKE_LOG" | sort -u | wc -l)" 1
}

@test "no retry for insufficient_quota, a Retry-After past the cap, 400s or 401" {
	fake_tape '{"status":429,"error_style":"openai","error_message":"You exceeded your current quota","error_code":"insufficient_quota"}'
	probe
	assert_equal "$status" 3
	[[ $(field .error) == *"HTTP 429: You exceeded your current quota"* ]]
	fake_reset
	fake_tape '{"status":429,"error_style":"openai","error_message":"later","headers":{"Retry-After":"121"}}'
	probe
	assert_equal "$status" 3
	[[ $(field .error) == *"past --retry-after-cap"* ]]
	for style in openai vllm_old vllm_new llamacpp ollama_native; do
		fake_reset
		fake_tape "{\"status\":400,\"error_style\":\"$style\",\"error_message\":\"bad thing $style\"}"
		probe
		assert_equal "$status" 1
		[[ $(field .error) == *"HTTP 400: bad thing $style"* ]] || fail "$style: $(field .error)"
		assert_equal "$(fake_requests)" 1
	done
	fake_reset
	fake_tape '{"status":401,"error_style":"openai","error_message":"Incorrect API key provided: sk-test-SECRET-do-not-leak"}'
	probe
	assert_equal "$status" 3
	[[ $(field .error) == *"Incorrect API key provided: [api key]"* ]]
	assert_equal "$(fake_requests)" 1
}

@test "5xx, a loading llama-server, a dropped connection and a malformed body are retried" {
	fake_tape '{"status":500,"error_style":"openai","error_message":"boom"}
{"status":503,"error_style":"llamacpp","error_message":"Loading model"}
{"drop":true}
{"status":200,"raw":"{\"choices\":["}
{"reply":{"content":"finally"}}'
	probe
	assert_equal "$status" 0
	assert_equal "$(field .content)" "finally"
	# libcurl itself re-sends once when a reused connection was dropped
	[ "$(fake_requests)" -ge 5 ]
	[[ $stderr =~ [45]\ requests\ \(0\ cached,\ [34]\ retried\) ]] || fail "$stderr"
}

@test "an endpoint that stays down is fatal after the retries, with the reason" {
	fake_tape '{"status":502,"error_style":"html","repeat":-1}'
	PROBE_RETRIES=2 probe
	assert_equal "$status" 3
	[[ $(field .error) == *"HTTP 502: "*"(after 3 tries)"* ]] || fail "$(field .error)"
	assert_equal "$(fake_requests)" 3
	run --separate-stderr env OPENAI_BASE_URL=http://127.0.0.1:9/v1 PROBE_RETRIES=1 "$ISE_TESTPROGS/llm_probe" <<<"$REQ"
	assert_equal "$status" 3
	[[ $(field .error) == *"(after 2 tries)"* ]]
}

@test "a hanging server meets the timeout" {
	fake_tape '{"hang":true}'
	PROBE_TIMEOUT=1 PROBE_RETRIES=0 probe
	assert_equal "$status" 3
	[[ $(field .error) == *"imed out"* ]] || fail "$(field .error)"
}

@test "the cache: a hit costs no request; read-only misses fail clearly" {
	fake_tape '{"reply":{"content":"stored"}}'
	PROBE_CACHE=$PWD/cache probe
	assert_equal "$(field .cached)" "false"
	PROBE_CACHE=$PWD/cache probe
	assert_equal "$(field .content)" "stored"
	assert_equal "$(field .cached)" "true"
	assert_equal "$(fake_requests)" 1
	[ "$(find cache -name '*.json' | wc -l)" -eq 1 ]
	! grep -rq SECRET cache
	REQ='{"messages":[{"role":"user","content":"other"}]}'
	PROBE_CACHE=$PWD/cache PROBE_CACHE_RO=1 probe
	assert_equal "$status" 1
	[[ $(field .error) == *"is not in the cache (--cache-mode ro)"* ]]
	assert_equal "$(fake_requests)" 1
}

@test "JSON mode steps down from json_schema to json_object to text, and reads fenced JSON" {
	fake_tape '{"status":400,"error_style":"vllm_new","error_message":"json_schema not supported"}
{"status":400,"error_style":"vllm_new","error_message":"response_format not supported"}
{"reply":{"content":"Here you go:\n```json\n{\"completed\": false, \"query\": \"next\"}\n```"}}'
	PROBE_JSON=1 probe
	assert_equal "$status" 0
	assert_equal "$(jq -c .json <<<"$output")" '{"completed":false,"query":"next"}'
	run -0 jq -r '.body.response_format.type // "none"' "$FAKE_LOG"
	assert_output $'json_schema\njson_object\nnone'
	fake_reset
	fake_tape '{"reply":{"content":"{\"completed\": tr","finish_reason":"length"}}'
	PROBE_JSON=1 probe
	assert_equal "$status" 1
	[[ $(field .error) == *"cut at the token limit (--max-tokens 2048), so its text is incomplete: raise --max-tokens"* ]]
}

@test "Retry-After rules: seconds, milliseconds, an HTTP date, junk, past the cap" {
	d() { "$ISE_TESTPROGS/llm_probe" --delay "$1" "$2"; }
	assert_equal "$(d - 20)" "20.000"
	assert_equal "$(d - 0)" "0.500"
	assert_equal "$(d - -10)" "0.500"
	assert_equal "$(d - 120)" "120.000"
	assert_equal "$(d - 121)" "-1.000"
	assert_equal "$(d - inf)" "0.500"
	assert_equal "$(d - nan)" "0.500"
	assert_equal "$(d - garbage)" "0.500"
	assert_equal "$(d 1500 20)" "1.500"
	when=$(date -u -d '+20 seconds' '+%a, %d %b %Y %H:%M:%S GMT')
	run d - "$when"
	# The date has one-second resolution and the clock moves on while the
	# probe starts: anything from 18 to 20 seconds is right.
	awk -v v="$output" 'BEGIN { exit !(v >= 18 && v <= 20) }' || fail "$output"
}

@test "embeddings: one batched request, vectors in input order, the same text the same vector" {
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{}}'
	run -0 "$ISE_TESTPROGS/llm_probe" --embed <<<'["alpha", "beta", "alpha"]'
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[0]}" "${lines[2]}"
	[ "${lines[0]}" != "${lines[1]}" ]
	assert_equal "$(wc -w <<<"${lines[0]}")" 8
	run -0 jq -c '[.path, .body.input]' "$FAKE_LOG"
	assert_output '["/v1/embeddings",["alpha","beta","alpha"]]'
}

# ---- real servers' shapes: errors that mean something for the run ----

@test "response_format steps down only on an error about response_format, on that client only" {
	# a context overflow (vLLM's words) fails that request; the next asks json_schema again
	fake_tape '{"status":400,"error_style":"vllm_new","error_message":"This model'"'"'s maximum context length is 4096 tokens. However, you requested 2048 output tokens and your prompt contains at least 3000 input tokens, for a total of at least 5048 tokens."}
{"reply":{"content":"{\"a\":1}"}}'
	PROBE_JSON=1 PROBE_REPEAT=2 probe
	assert_equal "$(jq -r .status <<<"${lines[0]}")" rejected
	assert_equal "$(jq -r .context_exceeded <<<"${lines[0]}")" true
	assert_equal "$(jq -r .format_refused <<<"${lines[0]}")" false
	assert_equal "$(jq -r .status <<<"${lines[1]}")" ok
	run -0 jq -r '.body.response_format.type // "none"' "$FAKE_LOG"
	assert_output $'json_schema\njson_schema'
	# (a sampling value the model refuses is fatal: see the next test)
	# TGI refuses OpenAI's response_format with a 422: that steps down, and stays down
	fake_reset
	fake_tape '{"status":422,"raw":"{\"error\":\"Failed to deserialize the JSON body into the target type: response_format: unknown variant `json_schema`, expected one of `json`, `regex` at line 1 column 80\",\"error_type\":\"validation\"}"}
{"reply":{"content":"{\"a\":1}"},"repeat":2}'
	PROBE_JSON=1 PROBE_REPEAT=2 probe
	assert_equal "$status" 0
	run -0 jq -r '.body.response_format.type // "none"' "$FAKE_LOG"
	assert_output $'json_schema\njson_object\njson_object'
	# a plain 400 that is not about the format does not step down
	fake_reset
	fake_tape '{"status":400,"error_style":"openai","error_message":"Invalid '"'"'messages[1].content'"'"': string too long."}
{"reply":{"content":"{\"a\":1}"}}'
	PROBE_JSON=1 PROBE_REPEAT=2 probe
	run -0 jq -r '.body.response_format.type // "none"' "$FAKE_LOG"
	assert_output $'json_schema\njson_schema'
}

@test "misconfiguration is fatal at once, with the server's message and what fixes it" {
	check() { # TAPE WORDS...: one request, exit 3, the message holds every word
		fake_reset
		fake_tape "$1"
		shift
		probe
		assert_equal "$status" 3
		for w in "$@"; do
			[[ $(field .error) == *"$w"* ]] || fail "no '$w' in: $(field .error)"
		done
		assert_equal "$(fake_requests /v1/chat/completions)" 1
	}
	check '{"status":400,"error_style":"vllm_new","error_message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set"}' \
		'HTTP 400: "auto" tool choice requires' 'to fix: start vLLM with --enable-auto-tool-choice --tool-call-parser'
	# old llama.cpp builds say it with a 500, which is otherwise retried
	check '{"status":500,"error_style":"llamacpp","error_message":"tools param requires --jinja flag","repeat":-1}' \
		'tools param requires --jinja flag' 'to fix: start llama-server with --jinja'
	check '{"status":400,"error_style":"openai","error_message":"Unsupported value: '"'"'temperature'"'"' does not support 0.7 with this model. Only the default (1) value is supported.","error_param":"temperature","error_code":"unsupported_value"}' \
		"Unsupported value: 'temperature'" 'to fix: give --temperature none'
	check '{"status":400,"error_style":"openai","error_message":"Unsupported parameter: '"'"'max_tokens'"'"' is not supported with this model. Use '"'"'max_completion_tokens'"'"' instead.","error_code":"unsupported_parameter"}' \
		'to fix: give --max-tokens-field max_completion_tokens'
	check '{"status":400,"error_style":"openai","error_message":"registry.ollama.ai/library/gemma:2b does not support tools","error_type":"api_error"}' \
		'does not support tools' 'to fix: choose a model that supports tool calls'
	# a model the server does not serve: say which it does
	check '{"status":404,"error_style":"vllm_new","error_message":"The model `qwen3` does not exist.","error_type":"NotFoundError"}' \
		'The model `qwen3` does not exist' 'to fix: give --model one of the models the server serves (it serves: fake-model)'
	check '{"status":404,"error_style":"ollama_native","error_message":"model \"qwen3\" not found, try pulling it first"}' \
		'not found, try pulling it first' 'it serves: fake-model'
	# --max-tokens alone over the window is a setting, not a long prompt
	check '{"status":400,"error_style":"vllm_new","error_message":"'"'"'max_tokens'"'"' or '"'"'max_completion_tokens'"'"' is too large: 2048. This model'"'"'s maximum context length is 1024 tokens and your request has 30 input tokens (2048 > 1024 - 30)."}' \
		'to fix: lower --max-tokens'
}

@test "--temperature none and --top-p none leave them out; --extra-body adds fields and replaces ise's" {
	fake_tape '{"reply":{"content":"ok"},"repeat":2}'
	PROBE_TEMPERATURE_NONE=1 probe
	assert_equal "$status" 0
	run -0 jq -c '.body | [has("temperature"), has("top_p"), .max_tokens]' "$FAKE_LOG"
	assert_output '[false,false,2048]'
	fake_reset
	fake_tape '{"reply":{"content":"ok"}}'
	PROBE_EXTRA_BODY='{"chat_template_kwargs":{"enable_thinking":false},"top_k":20,"temperature":0.6}' probe
	assert_equal "$status" 0
	run -0 jq -c '.body | [.chat_template_kwargs, .top_k, .temperature, .top_p]' "$FAKE_LOG"
	assert_output '[{"enable_thinking":false},20,0.6,0.95]'
}

@test "a loading llama-server is waited for (GET /health), with a progress line, up to the wait" {
	fake_tape '{"reply":{"content":"loaded"}}'
	fake_shape '{"loading_s":1.5}'
	PROBE_WAIT=20 probe
	assert_equal "$status" 0
	assert_equal "$(field .content)" loaded
	[[ $stderr == *"$FAKE_URL: waiting for the server: HTTP 503: Loading model (unavailable_error)"*"(0 s of --wait 20)"* ]] || fail "$stderr"
	[[ $stderr == *"$FAKE_URL: ready after "[12]" s"* ]] || fail "$stderr"
	# it looked at /health (llama-server's /v1/models answers while it loads) and posted again
	[ "$(fake_requests /health)" -ge 1 ]
	assert_equal "$(fake_requests /v1/models)" 0
	assert_equal "$(jq -s '[.[] | select(.path == "/v1/chat/completions")] | map(.status)' "$FAKE_LOG" | jq -c .)" '[503,200]'
	# past the wait: fatal, saying so
	fake_reset
	fake_shape '{"loading_s":30}'
	PROBE_WAIT=1 PROBE_RETRIES=0 probe
	assert_equal "$status" 3
	[[ $(field .error) == *"HTTP 503: Loading model"*"(not ready after --wait 1 s)"* ]] || fail "$(field .error)"
}

@test "503 from a busy server is retried with backoff up to the wait, whatever --retries says" {
	fake_tape '{"status":503,"error_style":"ollama_native","repeat":2}
{"reply":{"content":"served"}}'
	PROBE_WAIT=30 PROBE_RETRIES=0 probe
	assert_equal "$status" 0
	assert_equal "$(field .content)" served
	assert_equal "$(fake_requests /v1/chat/completions)" 3
	# without a wait, --retries alone counts, as for any 5xx
	fake_reset
	fake_tape '{"status":503,"error_style":"ollama_native","repeat":-1}'
	PROBE_RETRIES=1 probe
	assert_equal "$status" 3
	[[ $(field .error) == *"server busy, please try again"*"(after 2 tries)"* ]] || fail "$(field .error)"
}

@test "501 (llama-server without --embeddings) is not retried, and names the flag" {
	fake_shape '{"no_embeddings":true}'
	PROBE_WAIT=30 run --separate-stderr "$ISE_TESTPROGS/llm_probe" --embed <<<'["alpha"]'
	assert_equal "$status" 1
	[[ $output == *"HTTP 501: This server does not support embeddings"*"to fix: start llama-server with --embeddings"* ]] || fail "$output"
	assert_equal "$(fake_requests /v1/embeddings)" 1
}

@test "embeddings without index fields keep the input order; base64 replies decode" {
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	run -0 "$ISE_TESTPROGS/llm_probe" --embed <<<'["alpha", "beta", "gamma"]'
	want=$output
	fake_shape '{"embed_no_index":true}'
	run -0 "$ISE_TESTPROGS/llm_probe" --embed <<<'["alpha", "beta", "gamma"]'
	assert_equal "$output" "$want"
	jq -e -s '.[-1].status == 200' "$FAKE_LOG"
	fake_shape '{"embed_base64":true}'
	run -0 "$ISE_TESTPROGS/llm_probe" --embed <<<'["alpha", "beta", "gamma"]'
	assert_equal "$output" "$want"
}

@test "a 200 that carries an error object keeps the server's message, and counts as its status" {
	fake_tape '{"status":200,"json":{"error":{"message":"upstream provider timed out","code":504}}}
{"reply":{"content":"second try"}}'
	probe
	assert_equal "$status" 0
	assert_equal "$(field .content)" "second try"
	fake_reset
	fake_tape '{"status":200,"json":{"error":{"message":"Provider returned error","code":502}},"repeat":-1}'
	PROBE_RETRIES=1 probe
	assert_equal "$status" 3
	[[ $(field .error) == *"HTTP 200 carrying an error: Provider returned error"*"(after 2 tries)"* ]] || fail "$(field .error)"
	fake_reset
	fake_tape '{"status":200,"json":{"error":{"message":"Invalid request: bad role","code":400}}}'
	probe
	assert_equal "$status" 1
	[[ $(field .error) == *"Invalid request: bad role"* ]] || fail "$(field .error)"
}

@test "the reply's model is kept: the name the server says answered" {
	fake_tape '{"reply":{"content":"hi","model":"Qwen/Qwen3-8B"}}'
	probe
	assert_equal "$(field .model)" Qwen/Qwen3-8B
}

@test "a server not listening yet (vLLM while it loads) is waited for, up to the wait" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	echo '{"reply":{"content":"up now"}}' >tape.jsonl
	(sleep 1.5 && exec python3 "$FAKE_PY" --port "$port" --tape tape.jsonl) </dev/null >/dev/null 2>&1 3>&- &
	late=$!
	OPENAI_BASE_URL=http://127.0.0.1:$port/v1 PROBE_WAIT=20 PROBE_RETRIES=0 probe
	kill "$late" 2>/dev/null || true
	wait "$late" 2>/dev/null || true
	assert_equal "$status" 0
	assert_equal "$(field .content)" "up now"
	[[ $stderr == *"http://127.0.0.1:$port: waiting for the server: "*"onnect"* ]] || fail "$stderr"
	[[ $stderr == *"ready after"* ]] || fail "$stderr"
}

@test "a prompt over the context window is its record's failure, with the sizes each server gives" {
	check() { # TAPE WINDOW PROMPT
		fake_reset
		fake_tape "$1"
		probe
		assert_equal "$status" 1
		assert_equal "$(field '[.context_exceeded, .context_window, .context_prompt] | tostring')" "[true,$2,$3]"
	}
	check '{"status":400,"error_style":"vllm_new","error_message":"This model'"'"'s maximum context length is 16384 tokens. However, you requested 1024 output tokens and your prompt contains at least 15361 input tokens, for a total of at least 16385 tokens."}' 16384 15361
	check '{"status":400,"error_style":"vllm_old","error_message":"This model'"'"'s maximum context length is 4096 tokens. However, you requested 5000 tokens (3000 in the messages, 2000 in the completion). Please reduce the length of the messages or completion."}' 4096 3000
	check '{"status":400,"error_style":"vllm_new","error_message":"The decoder prompt (length 40000) is longer than the maximum model length of 32768. Make sure that `max_model_len` is no smaller than the number of text tokens."}' 32768 40000
	check '{"status":400,"error_style":"llamacpp","error_type":"exceed_context_size_error","error_message":"request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it","n_prompt_tokens":5000,"n_ctx":4096}' 4096 5000
	check '{"status":400,"error_style":"openai","error_message":"The input (9000 tokens) is longer than the model'"'"'s context length (8192 tokens)."}' 8192 9000
	check '{"status":422,"raw":"{\"error\":\"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`\",\"error_type\":\"validation\"}"}' 4096 4000
	check '{"status":400,"error_style":"openai","error_message":"This model'"'"'s maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.","error_code":"context_length_exceeded"}' 128000 130000
	# a wrong base URL is no bad record either
	fake_reset
	REQ='{"messages":[{"role":"user","content":"x"}]}'
	run --separate-stderr env OPENAI_BASE_URL="$FAKE_URL/v2" "$ISE_TESTPROGS/llm_probe" <<<"$REQ"
	assert_equal "$status" 3
	[[ $(field .error) == *"fake: no route POST /v2/chat/completions"*"to fix: check the base URL"* ]] || fail "$(field .error)"
}
