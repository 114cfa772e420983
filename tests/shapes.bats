#!/usr/bin/env bats
# What a reply means, with the fake server wording its replies as real
# servers do (the "reply_shape" tape entries of tests/fake_openai.py: vLLM
# with and without its parsers, llama-server's reasoning formats, SGLang
# without a tool parser, TGI): reasoning apart from answers, cut replies,
# text tool calls, call ids, reasoning sent back.  Through lib/llm (tests/unit/
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

# The two roles of ise-sim on the one server, told apart by model name.
sim() {
	ise-sim --user-model sim --agent-model agent --verify=off --no-timings "$@"
}

# A tape entry: reply_shape NAME, then jq assignments (reasoning, text, ...).
shape() {
	jq -cn --arg s "$1" --arg draft "$DRAFT" "{reply_shape: \$s} + (${2:-{\}})"
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
	jq -e -s 'map(select(.body.model == "sim"))[1].body.messages[-1].content | contains("it was cut off before it was complete")' "$FAKE_LOG"
}

@test "1: ise-sim: an agent reply cut at --max-tokens, inside <think> or in its text, is never the final answer" {
	fake_tape "$(user_turn 1 "List the files.")
$(user_done)
$(shape llamacpp-none '{match: {model: "agent"}, reasoning: $draft, cut: true, repeat: -1}')"
	run -1 --separate-stderr sim --rejects rej.jsonl "$ONE"
	assert_output ""
	[[ $stderr == *"(agent_error): the agent's reply was unusable twice: the reply was cut at the token limit (--max-tokens 2048) while the model was still reasoning"* ]] || fail "$stderr"
	assert_equal "$(jq -s 'map(select(.body.model == "agent")) | length' "$FAKE_LOG")" 2
	fake_reset
	fake_tape "$(user_turn 1 "List the files.")
$(user_done)
$(jq -cn '{match: {model: "agent"}, reply: {content: "The files are a.txt, b.t", finish_reason: "length"}, repeat: -1}')"
	run -1 --separate-stderr sim --max-tokens 64 --rejects rej.jsonl "$ONE"
	[[ $stderr == *"(agent_error): the agent's reply was unusable twice: the reply was cut at the token limit (--max-tokens 64), so its text is incomplete: raise --max-tokens"* ]] || fail "$stderr"
}

@test "2: ise-sim: reasoning without an answer, from the agent or the simulator, says what happened and what to change" {
	fake_tape "$(user_turn 1 "List the files.")
$(user_done)
$(shape vllm-answer-in-reasoning '{match: {model: "agent"}, text: "INVENTED answer", repeat: -1}')"
	run -1 --separate-stderr sim --rejects rej.jsonl "$ONE"
	[[ $stderr == *"(agent_error): the agent's reply was unusable twice: the reply holds reasoning only (15 characters) and no answer"*"--reasoning-parser qwen3"* ]] || fail "$stderr"
	fake_reset
	fake_tape "$(shape vllm-answer-in-reasoning '{match: {model: "sim"}, text: "{\"completed\": true, \"query\": \"\", \"reason\": \"INVENTED\", \"is_success\": true}", repeat: -1}')"
	run -1 --separate-stderr sim --sim-attempts 2 --rejects rej.jsonl "$ONE"
	[[ $stderr == *"(simulator_error): no usable simulator reply after 2 tries: the reply holds reasoning only"* ]] || fail "$stderr"
	jq -e -s 'map(select(.body.model == "sim"))[1].body.messages[-1].content | contains("it held only your reasoning and no answer")' "$FAKE_LOG"
}

@test "3: ise-sim: tool calls a server left as text run as real calls (every format), or fail with --text-tool-calls fail" {
	for f in hermes:sglang qwen3_coder:vllm mistral:llamacpp mistral_v11:sglang llama_json:vllm; do
		fake_reset
		fake_tape "$(user_turn 1 "Print a greeting.")
$(user_done)
$(jq -cn --arg f "${f%:*}" --arg s "${f#*:}" '{match: {model: "agent", last_role: "user"}, reply_shape: "text-tool-calls",
	format: $f, server: $s, text: "I will print it.", calls: [{name: "exec", arguments: {command: "echo from-\($f)"}}], repeat: -1}')
$(agent_says "It printed the greeting.")"
		run -0 --separate-stderr sim "$ONE"
		r=$output
		jq -e --arg f "${f%:*}" '.total_steps == 1 and .status == "completed" and
			.messages[2].tool_calls[0].function == {name: "exec", arguments: "{\"command\":\"echo from-\($f)\"}"} and
			.messages[3].content == "from-\($f)\n" and .messages[3].tool_call_id == .messages[2].tool_calls[0].id and
			.messages[2].text_tool_calls == ($f | sub("_v11"; ""))' <<<"$r" || fail "$f: $r"
		# the text left is what was said around the calls
		case ${f%:*} in llama_json) want="" ;; *) want="I will print it." ;; esac
		assert_equal "$(jq -r '.messages[2].content' <<<"$r")" "$want"
		# the agent is then sent real calls, and no side field
		jq -e -s 'map(select(.body.model == "agent"))[1].body.messages[2] | has("tool_calls") and (has("text_tool_calls") | not)' "$FAKE_LOG"
		# ise-audit finds no markup left
		ise-audit <<<"$r" | jq -e '.audit.flags == [] and .audit.text_tool_calls == []'
	done
	run -1 --separate-stderr sim --text-tool-calls fail --rejects rej.jsonl "$ONE"
	[[ $stderr == *"(agent_error): the agent's tool calls came back as text (llama_json markup): the server parsed none; start it with a tool parser (vLLM --enable-auto-tool-choice --tool-call-parser llama3_json"*"or run with --text-tool-calls parse"* ]] || fail "$stderr"
	jq -e '.total_steps == 0' rej.jsonl
	# such a reply kept as a final answer (as ise-sim once did) is flagged by ise-audit
	jq -c '.status = "completed" | .failure = null | .messages += [{role: "assistant",
		content: "{\"name\": \"exec\", \"parameters\": {\"command\": \"ls\"}}"}]' rej.jsonl >old.jsonl
	run -0 ise-audit old.jsonl
	jq -e '.audit.flags == ["text_tool_calls"] and .audit.text_tool_calls == [{message: 2, format: "llama_json"}]' <<<"$output"
	run -0 ise-audit --summary old.jsonl
	jq -e '.flags.text_tool_calls.trajectories == 1' <<<"$output"
	# markup whose JSON does not parse is asked for once more, then fails the trajectory
	fake_reset
	fake_tape "$(user_turn 1 "Print a greeting.")
$(user_done)
$(shape text-tool-calls '{match: {model: "agent"}, format: "hermes_broken", calls: [{name: "exec"}], repeat: -1}')"
	run -1 --separate-stderr sim --rejects rej.jsonl "$ONE"
	[[ $stderr == *"(agent_error): the agent's reply was unusable twice: its tool calls came back as text (hermes markup) that does not parse"*"--tool-call-parser hermes"* ]] || fail "$stderr"
	run -2 sim --text-tool-calls maybe "$ONE"
}

@test "6: ids are unique in a trajectory: TGI's \"0\" for every call is kept once, then call_TURN_N with server_id" {
	fake_tape "$(user_turn 1 "Print a and b.")
$(user_turn 2 "Now c and d.")
$(user_done)
$(jq -cn '{match: {model: "agent", last_role: "user", last_user_re: "a and b"}, reply_shape: "tgi-tool-calls",
	calls: [{name: "exec", arguments: {command: "echo a"}}, {name: "exec", arguments: {command: "echo b"}}]}')
$(jq -cn '{match: {model: "agent", last_role: "user", last_user_re: "c and d"}, reply_shape: "tgi-tool-calls",
	calls: [{name: "exec", arguments: {command: "echo c"}}, {name: "exec", arguments: {command: "echo d"}}]}')
$(agent_says "Printed.")"
	run -0 --separate-stderr sim "$ONE"
	r=$output
	assert_equal "$(jq -c '[.messages[] | .tool_calls[]? | [.id, .server_id]]' <<<"$r")" \
		'[["0",null],["call_1_2","0"],["call_2_1","0"],["call_2_2","0"]]'
	assert_equal "$(jq -c '[.messages[] | select(.role == "tool") | [.tool_call_id, .content]]' <<<"$r")" \
		'[["0","a\n"],["call_1_2","b\n"],["call_2_1","c\n"],["call_2_2","d\n"]]'
	# the arguments TGI gave as an object are kept as their JSON text
	jq -e '.messages[2].tool_calls[0].function.arguments == "{\"command\":\"echo a\"}"' <<<"$r"
	# ise-audit's integrity check accepts it, and still catches a real duplicate
	ise-audit <<<"$r" | jq -e '.audit.flags == [] and .audit.integrity.duplicate_ids == []'
	jq -c '(.messages[] | .tool_calls[]?.id) = "0" | (.messages[] | select(.role == "tool") | .tool_call_id) = "0"' <<<"$r" |
		ise-audit | jq -e '.audit.flags == ["integrity"] and .audit.integrity.duplicate_ids == ["0"]'
	# servers are never sent the side field
	! jq -e -s 'map(select(.body.model == "agent") | .body | tostring | contains("server_id")) | any' "$FAKE_LOG"
}

@test "7: ise-sim stores llama-server deepseek-legacy reasoning once" {
	fake_tape "$(user_turn 1 "Say hi.")
$(user_done)
$(shape llamacpp-deepseek-legacy '{match: {model: "agent"}, reasoning: "The user wants hi.", text: "Hi."}')"
	run -0 --separate-stderr sim "$ONE"
	jq -e '.messages[2] == {role: "assistant", content: "Hi.", reasoning_content: "The user wants hi."}' <<<"$output"
}

@test "9: --think keep, inline, drop: the agent is sent its reasoning as the record stores it, every request" {
	for think in keep inline drop; do
		fake_reset
		fake_tape "$(user_turn 1 "Say hi.")
$(user_turn 2 "Again.")
$(user_done)
$(jq -cn '{match: {model: "agent", last_role: "user"}, reply: {reasoning_content: "plan: echo", tool_calls: [{name: "exec", arguments: {command: "echo hi"}}]}, repeat: -1}')
$(jq -cn '{match: {model: "agent", last_role: "tool"}, reply: {content: "<think>it worked</think>It printed hi."}, repeat: -1}')"
		run -0 --separate-stderr sim --think $think "$ONE"
		r=$output
		# every agent request holds the stored conversation up to it, as stored
		jq -s -c 'map(select(.body.model == "agent") | .body.messages)' "$FAKE_LOG" >sent.json
		jq -e --slurpfile sent sent.json '.messages as $m | $sent[0] | length == 4 and
			all(.[]; . == $m[0:length])' <<<"$r" || fail "$think: stored and sent differ"
		case $think in
		keep) jq -e '.messages[2].reasoning_content == "plan: echo" and .messages[4] ==
			{role: "assistant", content: "It printed hi.", reasoning_content: "it worked"}' <<<"$r" ;;
		inline) jq -e '.messages[2].content == "<think>\nplan: echo\n</think>\n\n" and
			.messages[4].content == "<think>\nit worked\n</think>\n\nIt printed hi." and
			([.messages[] | has("reasoning_content")] | any | not)' <<<"$r" ;;
		drop) jq -e '.messages[4].content == "It printed hi." and
			(tostring | contains("plan: echo") or contains("it worked") | not)' <<<"$r"
			! grep -q 'plan: echo' "$FAKE_LOG" ;;
		esac
		# the simulated user sees the agent's answer, never its reasoning
		jq -e -s 'map(select(.body.model == "sim"))[1].body.messages[-1].content |
			contains("It printed hi.") and (contains("it worked") | not)' "$FAKE_LOG"
	done
}

@test "9: with --think inline the tasks' checks read what the agent said, never what it thought" {
	jq '.tasks += [{id: "name-the-colour", domain: .domains[0].id, name: "Name the colour",
		description: "Say which colour the sky is.", tools: ["exec"], slots: {},
		request: "tell me the colour of the sky", verify: "say it",
		plan: [{tool: "exec", args: {command: "true"}}],
		checks: [{what: "the answer says blue", command: "grep -q blue \"$ISE_REPLIES\""}]}]' \
		"$ROOT/share/ise/catalog.json" >catalog.json
	jq -c '{id: "colour", natural_language_intent: "What colour is the sky?", persona,
		tasks: [{id: "name-the-colour", name: "Name the colour", description: "d", tools: ["exec"]}],
		task_params: {"name-the-colour": {}}}' "$ONE" >colour.jsonl
	for said in "It is grey today." "It is blue today."; do
		fake_reset
		fake_tape "$(user_turn 1 "What colour is the sky?")
$(user_done)
$(jq -cn --arg c "$said" '{match: {model: "agent"}, reply: {reasoning_content: "The sky is blue, I think.", content: $c}}')"
		run -0 --separate-stderr ise-sim --user-model sim --agent-model agent --catalog catalog.json \
			--think inline --verify=record colour.jsonl
		jq -e '.messages[2].content | startswith("<think>\nThe sky is blue")' <<<"$output"
		case $said in
		*grey*) jq -e '.verification.passed == 0' <<<"$output" ;;
		*) jq -e '.verification.passed == 1' <<<"$output" ;;
		esac
	done
}

@test "1: ise-render never keeps a reply cut at --max-tokens, nor an intent from reasoning" {
	fake_tape "$(shape vllm-think-unclosed '{reasoning: $draft, repeat: 1}')
$(jq -cn --arg c "$GOOD" '{reply: {content: $c, finish_reason: "length"}, repeat: 1}')
$(shape vllm-answer-in-reasoning '{text: env.GOOD, repeat: 1}')"
	run -1 --separate-stderr ise-render --model m --attempts 3 --rejects rej.jsonl "$TUPLE"
	assert_output ""
	[[ $stderr == *"no acceptable intent after 3 attempts: the reply holds reasoning only"* ]] || fail "$stderr"
	assert_equal "$(fake_requests /v1/chat/completions)" 3
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

@test "nothing is invented: every shape through ise-sim, as the agent and as the simulator, and through ise-render" {
	first='{"completed": false, "query": "Do the task.", "reason": "real decision", "is_success": false}'
	shapes=(
		"$(shape vllm-think-unclosed '{reasoning: $draft}')"
		"$(shape vllm-reasoning-cut '{reasoning: $draft}')"
		"$(shape vllm-answer-in-reasoning '{text: $draft}')"
		"$(shape vllm-both-reasoning '{reasoning: $draft, text: "TEXT"}')"
		"$(shape llamacpp-none '{reasoning: $draft, cut: true}')"
		"$(shape llamacpp-none '{reasoning: $draft, text: "TEXT"}')"
		"$(shape llamacpp-deepseek-cut '{reasoning: $draft}')"
		"$(shape llamacpp-deepseek-legacy '{reasoning: $draft, text: "TEXT"}')"
		"$(shape text-tool-calls '{format: "hermes", text: "TEXT", calls: [{name: "exec", arguments: {command: "echo ok"}}]}')"
		"$(shape text-tool-calls '{format: "hermes_broken", calls: [{name: "exec"}]}')"
		"$(shape tgi-tool-calls '{calls: [{name: "exec", arguments: {command: "echo ok"}}]}')"
		'{"reply":{"content":"TEXT INVENTED","finish_reason":"length"}}'
	)
	: >kept.jsonl
	for s in "${shapes[@]}"; do
		# the agent answers in this shape; the simulator is sound
		fake_reset
		fake_tape "$(user_turn 1 "Do the task.")
$(user_done "real decision")
$(jq -c '.match = {model: "agent", last_role: "user"} | .repeat = -1 | (.text // empty) |= "Real answer."' <<<"$s")
$(agent_says "Real answer.")"
		sim --rejects /dev/null "$ONE" >>kept.jsonl 2>/dev/null || true
		# the simulator answers in this shape; the agent is sound
		fake_reset
		fake_tape "$(jq -c --arg d "$first" '.match = {model: "sim", contains: "message number 1 of"} | .repeat = -1 |
			(.text // empty) |= $d' <<<"$s")
$(user_done "real decision")
$(jq -cn '{match: {model: "agent"}, reply: {content: "Real answer."}, repeat: -1}')"
		sim --rejects /dev/null "$ONE" >>kept.jsonl 2>/dev/null || true
		# ise-render is asked for an intent in this shape
		fake_reset
		fake_tape "$(jq -c '.repeat = -1 | (.text // empty) |= env.GOOD' <<<"$s")"
		ise-render --model m --attempts 1 "$TUPLE" >>kept.jsonl 2>/dev/null || true
	done
	# shapes with a real answer were kept: the test sees both outcomes
	[ "$(jq -s 'map(select(.messages)) | length' kept.jsonl)" -ge 6 ]
	[ "$(jq -s 'map(select(.render)) | length' kept.jsonl)" -ge 3 ]
	# and nothing kept holds what was only reasoning or cut: no decision,
	# no user or assistant message, no intent
	run -0 jq -c 'del(.messages[]?.reasoning_content, .render.reasoning) |
		select(tostring | contains("INVENTED")) | .id' kept.jsonl
	assert_output ""
	jq -e -s 'all(.[] | select(.messages); .user_turns == 1 and .simulator[-1].reason == "real decision" and
		.messages[-1].content == "Real answer.")' kept.jsonl ||
		fail "$(jq -c 'select(.messages) | [.simulator[-1].reason, .messages[-1]]' kept.jsonl)"
}
