#!/usr/bin/env bats
# What a reply means, with the fake server wording its replies as real
# servers do (the "shape" entries of tests/fake_openai.py: vLLM with and
# without its parsers, llama-server's reasoning formats, SGLang without a
# tool parser, TGI): reasoning apart from answers, cut replies, text tool
# calls, call ids, reasoning sent back.  Through lib/llm (tests/unit/
# llm_probe), ise-sim, ise-render, ise-persona and ise-audit.  Whatever a
# shape, nothing is kept that the model did not really answer.
load helper
load fake

setup_file() {
	export INTENTS=$BATS_FILE_TMPDIR/intents.jsonl
	ise-persona -n 60 2>/dev/null | ise-sample -n 3 | ise-render --offline >"$INTENTS" 2>/dev/null
	head -n 1 "$INTENTS" >"$BATS_FILE_TMPDIR/one.jsonl"
	export ONE=$BATS_FILE_TMPDIR/one.jsonl
	export TUPLE=$BATS_FILE_TMPDIR/tuple.jsonl
	ise-persona -n 60 2>/dev/null | ise-sample -n 1 >"$TUPLE"
	# an intent that passes ise-render's checks: 100 words in the first person
	export GOOD="I run the night shift at a clinic in Lagos and need help today. $(for i in $(seq 86); do printf 'word%d ' "$i"; done)thanks."
	# what must never reach a kept record: it is only ever reasoning, or cut
	export DRAFT='Okay, I need to reply. Draft: {"completed": true, "query": "INVENTED", "reason": "INVENTED", "is_success": true} INVENTED'
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

probe() {
	run --separate-stderr "$ISE_TESTPROGS/llm_probe" <<<"$REQ"
}

field() {
	jq -r "$1" <<<"$output"
}

# The two roles of ise-sim on the one server, told apart by model name.
sim() {
	ise-sim --user-model sim --agent-model agent --verify=off --no-timings "$@"
}

# A tape entry: shape NAME, then jq assignments (reasoning, text, ...).
shape() {
	jq -cn --arg s "$1" --arg draft "$DRAFT" "{shape: \$s} + (${2:-{\}})"
}

@test "1: an unclosed <think> is reasoning, cut at --max-tokens; no JSON is taken from it (vLLM, llama-server none)" {
	for s in vllm-think-unclosed llamacpp-none; do
		fake_reset
		fake_tape "$(shape $s '{reasoning: $draft, cut: true, repeat: 2}')"
		probe
		assert_equal "$status" 0
		assert_equal "$(field .content)" ""
		assert_equal "$(field .reasoning)" "$DRAFT"
		assert_equal "$(field .finish_reason)" length
		[[ $(field .problem) == "the reply was cut at the token limit (--max-tokens 2048) while the model was still reasoning ("*" characters of reasoning, no answer): raise --max-tokens"* ]] || fail "$s: $output"
		PROBE_JSON=1 probe
		assert_equal "$status" 1
		assert_equal "$(field .json)" null
		[[ $(field .error) == *"still reasoning"*"raise --max-tokens"* ]] || fail "$s: $output"
	done
}

@test "1: cut after the reasoning parser (vLLM's fix, llama-server deepseek), or cut text whose JSON parses, is no answer" {
	for s in vllm-reasoning-cut llamacpp-deepseek-cut; do
		fake_reset
		fake_tape "$(shape $s '{reasoning: $draft}')"
		PROBE_JSON=1 probe
		assert_equal "$status" 1
		assert_equal "$(field .json)" null
		[[ $(field .error) == *"cut at the token limit (--max-tokens 2048) while the model was still reasoning"* ]] || fail "$s: $output"
	done
	fake_reset
	fake_tape '{"reply":{"content":"{\"completed\": true, \"query\": \"\", \"reason\": \"x\"} and then","finish_reason":"length"}}'
	PROBE_JSON=1 probe
	assert_equal "$status" 1
	assert_equal "$(field .json)" null
	[[ $(field .error) == *"cut at the token limit (--max-tokens 2048), so its text is incomplete: raise --max-tokens"* ]] || fail "$output"
}

@test "2: an answer the server put in reasoning_content (thinking off, deepseek_r1 parser) is not taken, and the message says why" {
	fake_tape "$(shape vllm-answer-in-reasoning '{text: "{\"completed\": false, \"query\": \"INVENTED\", \"reason\": \"r\"}"}')"
	PROBE_JSON=1 probe
	assert_equal "$status" 1
	assert_equal "$(field .json)" null
	[[ $(field .error) == "the reply holds reasoning only ("*" characters) and no answer, and an answer is never taken from reasoning"*"--reasoning-parser qwen3"* ]] || fail "$output"
}

@test "7: reasoning given both in a field and inline (llama-server deepseek-legacy), or in both fields (vLLM), is stored once" {
	fake_tape "$(shape llamacpp-deepseek-legacy '{reasoning: "Let me think about it.", text: "The answer."}')
$(shape vllm-both-reasoning '{reasoning: "Let me think about it.", text: "The answer."}')"
	for s in legacy both; do
		probe
		assert_equal "$status" 0
		assert_equal "$(field .content)" "The answer."
		assert_equal "$(field .reasoning)" "Let me think about it."
	done
}

@test "3: tool-call markup in text: Hermes/Qwen, Qwen3-Coder XML typed by the schema, Mistral both ways, Llama JSON" {
	export PROBE_TOOLS='[{"type":"function","function":{"name":"exec","parameters":{"type":"object","properties":{"command":{"type":"string"},"timeout":{"type":"integer"},"background":{"type":"boolean"}}}}},{"type":"function","function":{"name":"read","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}}]'
	tc() { run -0 "$ISE_TESTPROGS/llm_probe" --text-calls; }
	calls='[.calls[].function | [.name, (.arguments | fromjson)]]'
	tc <<<$'I will look.\n\n<tool_call>\n{"name": "exec", "arguments": {"command": "ls -la"}}\n</tool_call>\n<tool_call>\n{"name": "read", "arguments": {"path": "a b"}}\n</tool_call>'
	assert_equal "$(field '[.format, .rest] | @tsv')" $'hermes\tI will look.'
	assert_equal "$(field "$calls | tojson")" '[["exec",{"command":"ls -la"}],["read",{"path":"a b"}]]'
	tc <<<$'<tool_call>\n<function=exec>\n<parameter=command>\nfor f in *; do\n  echo "$f"\ndone\n</parameter>\n<parameter=timeout>\n30\n</parameter>\n<parameter=background>\nfalse\n</parameter>\n</function>\n</tool_call>'
	assert_equal "$(field '[.format, .rest] | @tsv')" "qwen3_coder	"
	assert_equal "$(field "$calls | tojson")" '[["exec",{"command":"for f in *; do\n  echo \"$f\"\ndone","timeout":30,"background":false}]]'
	tc <<<'Sure. [TOOL_CALLS][{"name": "exec", "arguments": {"command": "ls"}}, {"name": "read", "arguments": {"path": "x"}}]'
	assert_equal "$(field '[.format, .rest] | @tsv')" $'mistral\tSure.'
	assert_equal "$(field "$calls | tojson")" '[["exec",{"command":"ls"}],["read",{"path":"x"}]]'
	tc <<<'[TOOL_CALLS]exec[ARGS]{"command": "ls"}[TOOL_CALLS]read[ARGS]{"path": "x"}'
	assert_equal "$(field "[.format, ($calls)] | tojson")" '["mistral",[["exec",{"command":"ls"}],["read",{"path":"x"}]]]'
	tc <<<'<|python_tag|>{"name": "exec", "parameters": {"command": "ls"}}; {"name": "read", "parameters": {"path": "x"}}'
	assert_equal "$(field "[.format, ($calls)] | tojson")" '["llama_json",[["exec",{"command":"ls"}],["read",{"path":"x"}]]]'
	# JSON that is an answer, not a call: no tool by that name, or no arguments
	for text in '{"name": "Ada", "parameters": {"age": 3}}' '{"name": "exec"}' 'Done: the <b>files</b> are listed.'; do
		tc <<<"$text"
		assert_equal "$output" '{"format":""}'
	done
	# markup a server's parser gave up on
	tc <<<$'<tool_call>\n{"name": "exec", "arguments": {"command": "ls"\n</tool_call>'
	assert_equal "$(field '[.format, .calls, .error] | tojson')" '["hermes",null,"a <tool_call> block is not a JSON object with a \"name\" and its \"arguments\""]'
}

@test "1: ise-sim: a simulator cut inside <think> never ends a trajectory with the draft it was thinking about" {
	fake_tape "$(shape vllm-think-unclosed '{match: {model: "sim"}, reasoning: $draft, repeat: -1}')"
	run -1 --separate-stderr sim --rejects rej.jsonl "$ONE"
	assert_output ""
	[[ $stderr == *"(simulator_error): no usable simulator reply after 3 tries: the reply was cut at the token limit (--max-tokens 2048) while the model was still reasoning"* ]] || fail "$stderr"
	jq -e '.failure == "simulator_error" and .user_turns == 0 and .simulator == []' rej.jsonl
	# the model was told what went wrong, the person what to change
	jq -e -s '.[1].body.messages[-1].content | contains("it was cut off before it was complete")' "$FAKE_LOG"
}

@test "1: ise-render never keeps a reply cut at --max-tokens, nor an intent from reasoning" {
	fake_tape "$(shape vllm-think-unclosed '{reasoning: $draft, repeat: 1}')
$(jq -cn --arg c "$GOOD" '{reply: {content: $c, finish_reason: "length"}, repeat: 1}')
$(shape vllm-answer-in-reasoning '{text: env.GOOD, repeat: 1}')"
	run -1 --separate-stderr ise-render --model m --attempts 3 --rejects rej.jsonl "$TUPLE"
	assert_output ""
	[[ $stderr == *"no acceptable intent after 3 attempts: the reply holds reasoning only"* ]] || fail "$stderr"
	assert_equal "$(fake_requests)" 3
	jq -e '.render_error | startswith("the reply holds reasoning only")' rej.jsonl
}

@test "1: ise-persona keeps no persona from a batch cut at --max-tokens, even one that parses" {
	fake_tape "$(jq -cn '{reply: {content: ({personas: [{name: "Ada Obi", role: "Nurse", industry: "Healthcare",
		expertise: ["a b", "c d", "e f"], experience_level: "Senior", communication_style: "Direct",
		work_context: "Works at a port in Mombasa, Kenya.", common_goals: ["ship on time"],
		tools_preference: ["Excel", "SAP", "Jira"]}]} | tojson), finish_reason: "length"}, repeat: -1}')"
	run -1 --separate-stderr ise-persona -n 1 --batch 1 --budget 2 --model m
	assert_output ""
	[[ $stderr == *"batch 1: the reply was cut at the token limit (--max-tokens 2048), so its text is incomplete: raise --max-tokens"* ]] || fail "$stderr"
}
