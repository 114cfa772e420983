#!/usr/bin/env bats
# ise-sim: the offline engine, and the simulator and agent against the fake
# server, every tool call run for real in the sandbox (as root: namespaces).
load helper
load fake

setup_file() {
	export INTENTS=$BATS_FILE_TMPDIR/intents.jsonl
	ise-persona -n 100 2>/dev/null | ise-sample -n 40 | ise-render --offline >"$INTENTS" 2>/dev/null
	head -n 1 "$INTENTS" >"$BATS_FILE_TMPDIR/one.jsonl"
	export ONE=$BATS_FILE_TMPDIR/one.jsonl
	# one-task intents for tasks whose plans print the same bytes every run
	export SINGLE=$BATS_FILE_TMPDIR/single.jsonl
	filter_input ise-sim 10 >"$SINGLE" 2>/dev/null
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	unset OPENAI_BASE_URL OPENAI_API_KEY ISE_MODEL ISE_USER_BASE_URL ISE_USER_API_KEY \
		ISE_USER_MODEL ISE_AGENT_BASE_URL ISE_AGENT_API_KEY ISE_AGENT_MODEL
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || fake_stop
}

# The two roles on one fake server, told apart by their model names.  The
# fake agent does only what its tape says, so the tasks' checks are off
# unless a test asks for them.
sim() {
	ise-sim --user-model sim --agent-model agent --verify=off "$@"
}

# The request bodies a role sent, one a line.
requests() {
	jq -c --arg m "$1" 'select(.body.model == $m) | .body' "$FAKE_LOG"
}

@test "a full multi-turn trajectory: real files and exit codes in the tool messages, the user sees what ran" {
	fake_start
	fake_tape "$(user_turn 1 "Make a folder data and put the numbers 1 to 5 in data/n.txt.")
$(user_turn 2 "Now give me their sum, and list missing.txt too.")
$(user_done "both steps done")
$(agent_calls "numbers 1 to 5" '[{"name":"exec","arguments":{"command":"mkdir -p data && seq 1 5 > data/n.txt && wc -l < data/n.txt"}}]')
$(agent_calls "sum" '[{"name":"exec","arguments":{"command":"awk \"{s+=\\$1} END {print s}\" data/n.txt"}},{"name":"exec","arguments":{"command":"ls missing.txt"}}]')
$(agent_says "Done: data/n.txt holds 1 to 5, their sum is 15, and missing.txt does not exist.")"
	run -0 --separate-stderr sim --keep kept "$ONE"
	assert_equal "${#lines[@]}" 1
	id=$(jq -r .id "$ONE")
	r=$output
	# the intent's fields are kept, the trajectory's added
	jq -e --argjson in "$(cat "$ONE")" '.persona == $in.persona and .task_params == $in.task_params and
		.natural_language_intent == $in.natural_language_intent' <<<"$r"
	jq -e '.status == "completed" and .is_success == true and .failure == null and .engine == "llm" and
		.user_turns == 2 and .total_steps == 3 and .isolation == "ns" and .template == "built-in" and
		.workspace == .id and (.tools | length) == 16 and .models == {user: "sim", agent: "agent"} and
		(.timings | .total_ms >= .tools_ms)' <<<"$r"
	# the messages, in order, in the OpenAI chat format
	assert_equal "$(jq -c '[.messages[].role]' <<<"$r")" \
		'["system","user","assistant","tool","assistant","user","assistant","tool","tool","assistant"]'
	jq -e '.messages[0].content | contains("/workspace")' <<<"$r"
	jq -e '[.messages[] | select(.tool_calls) | .tool_calls[] | .function.arguments | type] | all(. == "string")' <<<"$r"
	assert_equal "$(jq -c '[.messages[] | select(.role == "tool") | .content]' <<<"$r")" \
		'["5\n","15\n","ls: cannot access '"'"'missing.txt'"'"': No such file or directory\n\n(Command exited with code 2)"]'
	# every decision, with its reason
	assert_equal "$(jq -c '[.simulator[] | [.turn, .completed, .reason]]' <<<"$r")" \
		'[[1,false,"next step"],[2,false,"next step"],[3,true,"both steps done"]]'
	jq -e '.usage.user.requests == 3 and .usage.agent.requests == 4 and .usage.total_tokens > 0 and
		.usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens' <<<"$r"
	# the simulator saw what really ran, not only the agent's account
	requests sim >sim.jsonl
	jq -e -s '.[1].messages[-1].content | contains("exec `mkdir -p data && seq 1 5 > data/n.txt && wc -l < data/n.txt` -> exit 0")' sim.jsonl
	jq -e -s '.[2].messages[-1].content | contains("exec `ls missing.txt` -> exit 2: ls: cannot access") and contains("2 tool calls, 1 failed")' sim.jsonl
	jq -e -s 'all(.[]; .response_format.json_schema.name == "user_turn")' sim.jsonl
	# the agent got the 16 tools and every tool result
	requests agent >agent.jsonl
	jq -e -s '(.[0].tools | length) == 16 and (.[3].messages | map(select(.role == "tool")) | length) == 3' agent.jsonl
	# the workspace really held the files
	assert_equal "$(cat "kept/$id/data/n.txt")" "$(seq 1 5)"
}

@test "parallel tool calls in one message all run, each result in call order with its id" {
	fake_start
	fake_tape "$(user_turn 1 "Write a.txt and b.txt, then list them.")
$(user_done)
$(agent_calls "Write" '[{"name":"write","arguments":{"path":"a.txt","content":"A\n"}},{"name":"write","arguments":{"path":"b.txt","content":"B\n"}},{"name":"exec","arguments":{"command":"sleep 0.2; cat a.txt b.txt"}}]')
$(agent_says "a.txt and b.txt are written.")"
	run -0 --separate-stderr sim "$ONE"
	jq -e '.total_steps == 3' <<<"$output"
	assert_equal "$(jq -c '[.messages[2].tool_calls[].id] == [.messages[3,4,5].tool_call_id]' <<<"$output")" true
	assert_equal "$(jq -c '[.messages[2].tool_calls[].id] | unique | length' <<<"$output")" 3
	assert_equal "$(jq -r '.messages[5].content' <<<"$output")" "A
B"
}

@test "malformed arguments go back to the agent as a tool error; Ollama-shaped calls still run" {
	fake_start
	fake_tape "$(user_turn 1 "Run the listing.")
$(user_done)
$(jq -cn '{match: {model: "agent", last_role: "user"}, reply: {tool_calls: [
	{name: "exec", arguments_raw: "{\"command\": \"ls"},
	{name: "exec", arguments_obj: {command: "echo fine"}, no_id: true},
	{name: "no_such_tool", arguments: {}}]}}')
$(agent_says "One call was broken.")"
	run -0 --separate-stderr sim "$ONE"
	r=$output
	jq -e '.total_steps == 3 and .status == "completed"' <<<"$r"
	jq -e '.messages[3].content | test("exec: the arguments are not valid JSON")' <<<"$r"
	assert_equal "$(jq -r '.messages[4].content' <<<"$r")" fine
	jq -e '.messages[5].content | startswith("unknown tool '"'"'no_such_tool'"'"': the tools are exec, process, read")' <<<"$r"
	# the arguments are kept as the model sent them, ids made where missing
	jq -e '.messages[2].tool_calls | .[0].function.arguments == "{\"command\": \"ls" and
		(.[1].id | length) > 0 and (map(.id) | unique | length) == 3' <<<"$r"
	# the agent was shown the error
	requests agent | tail -n 1 | jq -e '.messages | map(select(.role == "tool")) | .[0].content | test("not valid JSON")'
}

@test "--think keep, inline, drop; the agent is sent its reasoning back as the record stores it" {
	fake_start
	fake_tape "$(user_turn 1 "Say hi.")
$(user_done)
$(jq -cn '{match: {model: "agent", last_role: "user"}, reply: {reasoning_content: "plan: echo", tool_calls: [{name: "exec", arguments: {command: "echo hi"}}]}, repeat: -1}')
$(jq -cn '{match: {model: "agent", last_role: "tool"}, reply: {content: "<think>it worked</think>It printed hi."}, repeat: -1}')"
	run -0 --separate-stderr sim "$ONE"
	jq -e '.messages[2].reasoning_content == "plan: echo" and .messages[4].reasoning_content == "it worked" and
		.messages[4].content == "It printed hi."' <<<"$output"
	requests agent | tail -n 1 | jq -e '.messages[2].reasoning_content == "plan: echo"'
	run -0 --separate-stderr sim --think inline "$ONE"
	jq -e '.messages[2].content == "<think>\nplan: echo\n</think>\n\n" and
		.messages[4].content == "<think>\nit worked\n</think>\n\nIt printed hi." and
		([.messages[] | has("reasoning_content")] | any | not)' <<<"$output"
	requests agent | tail -n 1 | jq -e '.messages[2].content == "<think>\nplan: echo\n</think>\n\n"'
	fake_reset
	fake_tape "$(user_turn 1 "Say hi.")
$(user_done)
$(jq -cn '{match: {model: "agent", last_role: "user"}, reply: {reasoning_content: "plan: echo", tool_calls: [{name: "exec", arguments: {command: "echo hi"}}]}, repeat: -1}')
$(jq -cn '{match: {model: "agent", last_role: "tool"}, reply: {content: "<think>it worked</think>It printed hi."}, repeat: -1}')"
	run -0 --separate-stderr sim --think drop "$ONE"
	jq -e '.messages[4].content == "It printed hi." and ([.messages[] | has("reasoning_content")] | any | not)' <<<"$output"
	[ "$(requests agent | grep -c 'plan: echo')" -eq 0 ]
	run -2 sim --think loud "$ONE"
}

@test "simulator JSON in fences, cut at max_tokens, or with wrong types is repaired by asking again" {
	fake_start
	good=$(decision false "List the workspace.")
	fake_tape "$(jq -cn --arg c "Here you go:
\`\`\`json
$good
\`\`\`" '{match: {model: "sim", contains: "message number 1 of"}, reply: {content: $c}}')
$(jq -cn '{match: {model: "sim", contains: "message number 2 of"}, reply: {content: "{\"completed\": false, \"query\": \"Now count the", finish_reason: "length"}}')
$(jq -cn '{match: {model: "sim", contains: "message number 2 of"}, reply: {content: "{\"completed\": \"false\", \"query\": \"Now count the files.\", \"reason\": \"x\"}"}}')
$(user_turn 2 "Now count the files.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"ls"}}]')
$(agent_says "Listed.")"
	run -0 --separate-stderr sim "$ONE"
	assert_equal "$(jq -c '[.simulator[].attempts]' <<<"$output")" "[1,3,1]"
	requests sim >sim.jsonl
	assert_equal "$(wc -l <sim.jsonl)" 5
	# each retry shows the bad reply and why, and has a new seed
	jq -e -s '.[2].messages[-2:] | .[0].role == "assistant" and (.[0].content | startswith("{\"completed\": false")) and
		(.[1].content | contains("it was cut off"))' sim.jsonl
	jq -e -s '.[3].messages[-1].content | contains("\"completed\" must be the JSON boolean true or false")' sim.jsonl
	jq -e -s '[.[1:4][].seed] | unique | length == 3' sim.jsonl
	# a simulator that never gives a usable reply rejects the trajectory
	fake_tape "$(jq -cn '{match: {model: "sim"}, reply: {content: "{\"completed\": 1}"}, repeat: -1}')"
	run -1 --separate-stderr sim --sim-attempts 2 --rejects rej.jsonl "$ONE"
	assert_output ""
	[[ $stderr == *"trajectory rejected (simulator_error): no usable simulator reply after 2 tries: \"completed\" must be the JSON boolean"* ]] || fail "$stderr"
	jq -e '.status == "failed" and .failure == "simulator_error" and .user_turns == 0' rej.jsonl
}

@test "a user turn in the assistant's voice is asked for again; one that keeps drifting is rejected" {
	fake_start
	fake_tape "$(jq -cn --arg c "$(decision false "I'd be happy to help you set up the report.")" '{match: {model: "sim", contains: "message number 1 of"}, reply: {content: $c}}')
$(user_turn 1 "Set up the report folder.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"mkdir report"}}]')
$(agent_says "Made report/.")"
	run -0 --separate-stderr sim "$ONE"
	jq -e '.simulator[0] | .attempts == 2 and .redrafts == 1 and .query == "Set up the report folder."' <<<"$output"
	jq -e '[.messages[] | select(.role == "user") | .content] == ["Set up the report folder."]' <<<"$output"
	requests sim | sed -n 2p | jq -e --arg p "Your query says 'I'd be happy to'" '.messages[-1].content | contains($p)'
	fake_reset
	fake_tape "$(jq -cn --arg c "$(decision false "Sure, let me know if you need anything else.")" '{match: {model: "sim"}, reply: {content: $c}, repeat: -1}')"
	run -1 --separate-stderr sim --drift-retries 1 --rejects rej.jsonl "$ONE"
	[[ $stderr == *"(role_drift): the simulated user kept writing as the assistant ('Sure, let me') after 1 redrafts"* ]] || fail "$stderr"
	assert_equal "$(jq -r .failure rej.jsonl)" role_drift
	assert_equal "$(fake_requests /v1/chat/completions)" 2
}

@test "--max-turns: the simulator is told its last call may only finish; no completion is a reject" {
	fake_start
	fake_tape "$(jq -cn --arg c "$(decision false "Keep going.")" '{match: {model: "sim"}, reply: {content: $c}, repeat: -1}')
$(agent_calls "." '[{"name":"exec","arguments":{"command":"true"}}]')
$(agent_says "Went on.")"
	run -1 --separate-stderr sim --max-turns 2 --rejects rej.jsonl "$ONE"
	assert_output ""
	[[ $stderr == *"trajectory rejected (max_turns): no completion after 2 user turns"* ]] || fail "$stderr"
	jq -e '.failure == "max_turns" and .user_turns == 2 and (.simulator | length) == 3 and .is_success == false' rej.jsonl
	requests sim >sim.jsonl
	assert_equal "$(wc -l <sim.jsonl)" 3
	jq -e -s '(.[2].messages[-1].content | contains("You have no messages left")) and
		(.[0].messages[-1].content | contains("message number 1 of at most 2"))' sim.jsonl
}

@test "only completed, successful trajectories are kept; the others go to --rejects with why" {
	fake_start
	head -n 3 "$INTENTS" | jq -c 'if input_line_number == 2 then .natural_language_intent += " GIVE-UP-MARKER" else . end' >three.jsonl
	fake_tape "$(jq -cn --arg c "$(decision true "" "the camera is not reachable" false)" \
		'{match: {model: "sim", contains: "GIVE-UP-MARKER"}, reply: {content: $c}, repeat: -1}')
$(user_turn 1 "Do the first step.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo step"}}]')
$(agent_says "Did the step.")"
	run -1 --separate-stderr sim --rejects rej.jsonl three.jsonl
	assert_equal "${#lines[@]}" 2
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .id)" "$(sed -n '1p;3p' three.jsonl | jq -r .id)"
	assert_equal "$(wc -l <rej.jsonl)" 1
	jq -e --arg id "$(sed -n 2p three.jsonl | jq -r .id)" '.id == $id and .status == "failed" and .is_success == false and
		.failure == "not_success" and (.error | contains("the camera is not reachable")) and
		(.messages | length) == 1 and .simulator[0].is_success == false and .persona.name != null' rej.jsonl
	[[ $stderr == *"three.jsonl:2: trajectory rejected (not_success): the user ended without success: the camera is not reachable"* ]] || fail "$stderr"
	# a rerun with --resume plays the reject again, and only it
	sim -o out.jsonl three.jsonl 2>/dev/null || true
	fake_reset
	fake_tape "$(user_turn 1 "Do the first step.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo step"}}]')
$(agent_says "Did the step.")"
	run -0 --separate-stderr sim -o out.jsonl --resume three.jsonl
	assert_equal "$(jq -r .id out.jsonl | sort)" "$(jq -r .id three.jsonl | sort)"
	assert_equal "$(requests sim | grep -c GIVE-UP-MARKER)" 2
	assert_equal "$(requests sim | wc -l)" 2
}

@test "kill -9 mid-run, then --resume: every id once, no finished trajectory asked for again" {
	fake_start --latency-ms 60
	tape="$(user_turn 1 "Print hello.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]')
$(agent_says "Printed hello.")"
	fake_tape "$tape"
	ise-sim --user-model sim --agent-model agent --verify=off -j 4 -o out.jsonl "$INTENTS" 2>/dev/null &
	pid=$!
	for _ in $(seq 100); do [ "$(wc -l <out.jsonl 2>/dev/null || echo 0)" -ge 8 ] && break; sleep 0.1; done
	kill -9 "$pid"
	wait "$pid" || true
	n1=$(wc -l <out.jsonl)
	[ "$n1" -ge 8 ] && [ "$n1" -lt 40 ]
	jq -r .natural_language_intent out.jsonl >finished.txt
	fake_reset
	fake_tape "$tape"
	run -0 --separate-stderr sim -j 4 -o out.jsonl --resume "$INTENTS"
	assert_equal "$(jq -r .id out.jsonl | sort | uniq -d)" ""
	assert_equal "$(jq -r .id out.jsonl | sort)" "$(jq -r .id "$INTENTS" | sort)"
	# the second run asked the simulator about the other intents only
	assert_equal "$(requests sim | jq -r --rawfile done finished.txt '.messages[0].content as $p |
		[$done | split("\n")[] | select(length > 0) | select(. as $t | $p | contains($t))] | length' | sort -u)" 0
	assert_equal "$(requests sim | wc -l)" $(((40 - n1) * 2))
}

@test "-j 8: each trajectory has a workspace of its own, and the output keeps input order" {
	# replies slow enough that 8 trajectories overlap even on a loaded machine
	fake_start --latency-ms 300
	head -n 16 "$INTENTS" >16.jsonl
	fake_tape "$(user_turn 1 "Mark your workspace.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"ls -A | grep -c marker; od -An -N8 -tx1 /dev/urandom > marker.txt; sleep 0.3; ls -A | grep -c marker"}}]')
$(agent_says "Marked.")"
	run -0 --separate-stderr sim -j 8 --keep kept 16.jsonl
	assert_equal "${#lines[@]}" 16
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .id)" "$(jq -r .id 16.jsonl)"
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r '.messages[3].content' | grep . | sort -u)" "0
1"
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r '.messages[3].content' | grep -c .)" 32
	assert_equal "$(ls kept | wc -l)" 16
	assert_equal "$(cat kept/*/marker.txt | sort -u | wc -l)" 16
	run -0 fake_stats
	[ "$(jq .peak_inflight <<<"$output")" -ge 4 ]
}

@test "a dead endpoint ends with exit 3 after every finished trajectory is written; none is rejected" {
	fake_start
	fake_tape "$(user_turn 1 "Print hello." | jq -c '.repeat = 2')
$(user_done | jq -c '.repeat = 2')
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]' | jq -c '.repeat = 2')
$(agent_says "Printed hello." | jq -c '.repeat = 2')
$(jq -cn '{status: 503, error_style: "ollama_native", error_message: "server busy", repeat: -1}')"
	run -3 --separate-stderr sim --retries 0 --wait 0 --rejects rej.jsonl -o out.jsonl "$INTENTS"
	assert_equal "$(wc -l <out.jsonl)" 2
	assert_equal "$(wc -l <rej.jsonl)" 0
	[[ $stderr == *"simulator request failed: "*"HTTP 503: server busy"* ]] || fail "$stderr"
	[[ $stderr != *SECRET* ]]
}

@test "each role has its own endpoint, key and model: ISE_USER_*, ISE_AGENT_*, then the options" {
	fake_start
	fake_tape "$(jq -cn --arg c "$(decision false "Print hello.")" '{match: {contains: "message number 1 of"}, reply: {content: $c}, repeat: -1}')
$(jq -cn --arg c "$(decision true "" "done")" '{reply: {content: $c}, repeat: -1}')"
	user_url=$OPENAI_BASE_URL user_log=$FAKE_LOG user_pid=$FAKE_PID
	fake_start
	fake_tape "$(jq -cn '{match: {last_role: "user"}, reply: {tool_calls: [{name: "exec", arguments: {command: "echo hello"}}]}, repeat: -1}')
$(jq -cn '{reply: {content: "Printed."}, repeat: -1}')"
	agent_url=$OPENAI_BASE_URL agent_log=$FAKE_LOG
	unset OPENAI_BASE_URL
	export ISE_USER_BASE_URL=$user_url ISE_AGENT_BASE_URL=$agent_url ISE_MODEL=common ISE_AGENT_MODEL=a1
	run -0 --separate-stderr ise-sim --verify=off "$ONE"
	jq -e '.models == {user: "common", agent: "a1"} and .status == "completed"' <<<"$output"
	# (the GETs of /health and /models before the first trajectory have no body)
	assert_equal "$(jq -r 'select(.body) | .body.model' "$user_log" | sort -u)" common
	assert_equal "$(jq -r 'select(.body) | .body.model' "$agent_log" | sort -u)" a1
	assert_equal "$(jq -s 'map(select(.body) | .body | has("tools")) | unique' "$user_log")" '[
  false
]'
	[[ $stderr == *"simulated user: 2 requests"* && $stderr == *"agent: 2 requests"* ]] || fail "$stderr"
	# one role without an endpoint is a usage error
	run -2 --separate-stderr env -u ISE_AGENT_BASE_URL ise-sim "$ONE"
	[[ $stderr == *"no endpoint for the agent (ISE_AGENT_BASE_URL, --agent-base-url or OPENAI_BASE_URL)"* ]] || fail "$stderr"
	# the options win over the environment; --base-url serves a role with no variable of its own
	run -0 --separate-stderr env -u ISE_USER_BASE_URL ise-sim --verify=off --base-url "$agent_url" --user-base-url "$user_url" \
		--agent-model a2 "$ONE"
	kill "$user_pid"
	jq -e '.models == {user: "common", agent: "a2"}' <<<"$output"
}

@test "the same seed and cached replies give the same trajectories, without a request" {
	fake_start
	fake_tape "$(user_turn 1 "Count to three.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"seq 3"}}]')
$(agent_says "Counted.")"
	head -n 4 "$INTENTS" >four.jsonl
	sim --cache c --no-timings -j 2 four.jsonl >a.jsonl 2>/dev/null
	n=$(fake_requests /v1/chat/completions)
	[ "$n" -eq 16 ]
	run -0 --separate-stderr sim --cache c --no-timings four.jsonl
	assert_equal "$output" "$(cat a.jsonl)"
	assert_equal "$(fake_requests /v1/chat/completions)" "$n"
	[[ $stderr == *"(8 cached, 0 retried)"* ]] || fail "$stderr"
	# and a replay needs no endpoint at all
	fake_stop
	run -0 --separate-stderr sim --cache c --cache-mode ro --no-timings four.jsonl
	assert_equal "$output" "$(cat a.jsonl)"
	# the requests carry seeds from (seed, id): another seed asks anew
	run -1 --separate-stderr sim --cache c --cache-mode ro -s 2 --no-timings four.jsonl
	[[ $stderr == *"is not in the cache (--cache-mode ro)"* ]] || fail "$stderr"
}

@test "the reference pipeline's intents are played as they are (metadata.persona)" {
	fake_start
	fake_tape "$(user_turn 1 "Create the onboarding checklist file.")
$(user_done)
$(agent_calls "." '[{"name":"write","arguments":{"path":"checklist.md","content":"- [ ] laptop\n"}}]')
$(agent_says "Written.")"
	jq -cn '{id: "intent_58f206b3", natural_language_intent: "Hey, I am Amara, a nurse manager in Lagos; set up an onboarding checklist for 3 new nurses.",
		domains: ["0b7c7c9e-1d57-4c42-9a57-5b1e2f0a9d11"], tasks: ["5f0c3c1a-2b6e-4a8f-9d3e-7c1b2a4e6f80"],
		persona_id: "3d1f...", tools_used: [], skills_used: [], complexity: "simple",
		metadata: {persona: {name: "Amara Okafor", role: "Nurse Manager", industry: "Healthcare", expertise: ["staffing", "triage", "training"],
			experience_level: "Senior", communication_style: "Direct", work_context: "Runs nursing at a hospital network in Lagos."},
			domains: [{name: "file-io", description: "local files", selected_tasks: [{name: "Create New Document", description: "New file with given content in the workspace."}]}]}}' >ref.jsonl
	run -0 --separate-stderr sim ref.jsonl
	jq -e '.status == "completed" and .metadata.persona.name == "Amara Okafor" and .persona_id == "3d1f..."' <<<"$output"
	requests sim | head -n 1 | jq -e '.messages[0].content | contains("Amara Okafor, a Senior Nurse Manager in Healthcare") and
		contains("set up an onboarding checklist for 3 new nurses") and contains("Be brief and direct")'
	# the offline engine plays the tasks it knows by name, and says so of the others
	jq -c '.metadata.domains[0].selected_tasks += [{name: "Monitor Doorbell Camera Feed X", description: "Pull live frames from the entry camera."}]' ref.jsonl >ref2.jsonl
	run -1 --separate-stderr ise-sim --offline --rejects rej.jsonl ref2.jsonl
	jq -e '.failure == "not_success" and (.error | contains("1 of 2 tasks done")) and (.error | contains("Monitor Doorbell Camera Feed X"))' rej.jsonl
	jq -e '[.messages[] | select(.role == "assistant") | .content] | any(contains("I have no way to do \"Monitor Doorbell Camera Feed X\""))' rej.jsonl
}

@test "--max-steps ends an agent turn that never stops calling tools; the user is told" {
	fake_start
	fake_tape "$(user_turn 1 "Loop.")
$(user_done)
$(jq -cn '{match: {model: "agent"}, reply: {tool_calls: [{name: "exec", arguments: {command: "echo again"}}]}, repeat: -1}')"
	run -0 --separate-stderr sim --max-steps 3 "$ONE"
	jq -e '.total_steps == 3 and ([.messages[] | select(.role == "assistant")] | length) == 3' <<<"$output"
	requests sim | sed -n 2p | jq -e '.messages[-1].content | contains("hit its step limit before a final answer")'
}

@test "--budget: a command cannot outlive the trajectory, which fails with timeout" {
	fake_start
	fake_tape "$(user_turn 1 "Wait a long time.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"sleep 60","timeout":600}}]')
$(agent_says "Waited.")"
	SECONDS=0
	run -1 --separate-stderr sim --budget 2 --rejects rej.jsonl "$ONE"
	[ "$SECONDS" -lt 15 ]
	jq -e '.failure == "timeout" and (.messages[3].content | contains("timed out after"))' rej.jsonl
	[[ $stderr == *"trajectory rejected (timeout): the trajectory ran past its budget of 2 seconds"* ]] || fail "$stderr"
}

@test "--tools FILE: the agent gets those specs only, and a call to another tool is refused" {
	fake_start
	fake_tape "$(user_turn 1 "Write a file.")
$(user_done)
$(agent_calls "." '[{"name":"write","arguments":{"path":"x","content":"y"}},{"name":"exec","arguments":{"command":"ls x || echo none"}}]')
$(agent_says "No write tool.")"
	jq '{tools: [.tools[] | select(.function.name == "exec")]}' "$ROOT/share/ise/catalog.json" >tools.json
	run -0 --separate-stderr sim --tools tools.json "$ONE"
	jq -e '(.tools | map(.function.name)) == ["exec"]' <<<"$output"
	jq -e '.messages[3].content == "unknown tool '"'"'write'"'"': the tools are exec" and (.messages[4].content | contains("none"))' <<<"$output"
	requests agent | head -n 1 | jq -e '(.tools | length) == 1 and (.messages[0].content | contains("tools you are given: exec."))'
	echo '[{"name": "exec"}]' >bad.json
	run -2 --separate-stderr sim --tools bad.json "$ONE"
	[[ $stderr == *"a tool spec must be"* ]]
}

@test "--progress: done, kept, rejected, turns and tokens a second" {
	fake_start
	fake_tape "$(user_turn 1 "Print hello.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]')
$(agent_says "Printed hello.")"
	run -0 --separate-stderr sim --progress -j 2 <(head -n 3 "$INTENTS")
	[[ $stderr =~ ise-sim:\ 3\ done\ \(3\ kept,\ 0\ rejected\),\ [0-9.]+\ turns/s,\ [0-9]+\ tokens/s,\ 3\ tool\ calls ]] || fail "$stderr"
}

@test "--progress: a busy server's lowered limit on requests in flight, one for both roles of one server" {
	# replies slow enough that the trajectories' first requests overlap
	# even when a loaded machine starts their workspaces apart
	fake_start --max-inflight 2 --over-inflight-status 429 --latency-ms 250
	fake_tape "$(user_turn 1 "Print hello.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]')
$(agent_says "Printed hello.")"
	run -0 --separate-stderr sim --progress -j 8 <(head -n 8 "$INTENTS")
	assert_equal "${#lines[@]}" 8
	local refused
	refused=$(fake_stats | jq .rejected_inflight)
	[ "$refused" -ge 1 ] || fail "the server refused nothing: $(fake_stats)"
	# lowered from 8 and never back to 8 while the server refuses a third
	[[ $stderr =~ ise-sim:\ 8\ done\ \(8\ kept,\ 0\ rejected\).*,\ jobs\ limited\ to\ [1-7]\ of\ 8 ]] || fail "$stderr"
	[[ $stderr != *"user jobs"* ]] || fail "$stderr"
	# 32 requests; a fixed -j 8 would have 6 of the first 8 refused
	[ "$refused" -le 8 ] || fail "$refused refused: $(fake_stats)"
}

@test "--exec-timeout is a command's wall time; --timeout a model request's" {
	fake_start
	fake_tape "$(user_turn 1 "Sleep.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"sleep 30"}}]')
$(agent_says "Slept.")"
	SECONDS=0
	run -0 --separate-stderr sim --exec-timeout 1 "$ONE"
	jq -e '.messages[3].content == "(Command timed out after 1 seconds)"' <<<"$output"
	fake_tape "$(jq -cn '{hang: true, repeat: -1}')"
	run -3 --separate-stderr sim --timeout 1 --retries 0 "$ONE"
	[ "$SECONDS" -lt 20 ]
	[[ $stderr == *"simulator request failed"* ]] || fail "$stderr"
}

# ---- the offline engine ----

@test "offline: real trajectories from the catalog's plans, one task a turn, a check, then done" {
	head -n 12 "$INTENTS" >12.jsonl
	run -0 --separate-stderr ise-sim -j 4 12.jsonl
	assert_equal "$stderr" "ise-sim: no endpoint configured (OPENAI_BASE_URL or --base-url): offline engine"
	assert_equal "${#lines[@]}" 12
	printf '%s\n' "${lines[@]}" >out.jsonl
	jq -e -s 'all(.[]; .engine == "offline" and .status == "completed" and .usage.total_tokens == 0 and
		.user_turns >= (.tasks | length) + 1 and .total_steps > 0 and
		(.simulator[-1] | .completed and .is_success) and (.simulator | length) == .user_turns + 1 and
		([.messages[] | select(.role == "tool")] | length) == .total_steps)' out.jsonl
	# each task's request, with its values, is a user turn of its own
	jq -e -s 'all(.[]; . as $r | [.messages[] | select(.role == "user") | .content] as $u |
		all(.tasks[]; . as $t | $r.task_params[$t.id] | [.[]] | all(. as $v | $u | any(contains($v)))))' out.jsonl
	# the results are what ran: a written file is there for the commands after it
	jq -e -s '[.[].messages[] | select(.role == "tool") | .content | select(startswith("Successfully wrote"))] | length > 12' out.jsonl
	# the scripted user never speaks as the assistant
	run -0 ise-audit out.jsonl
	assert_equal "$(jq -s '[.[].audit.role_drift | length] | add' <<<"$output")" 0
}

@test "offline: a failed step (a missing command) is restated once with its error, then the user moves on" {
	jq '(.tasks[] | select(.id == "create-new-document") | .plan) += [{tool: "exec", args: {command: "nosuchcmd-ise --publish {{doc}}"}}]' \
		"$ROOT/share/ise/catalog.json" >cat.json
	head -n 1 "$SINGLE" | jq -c '.tasks = [.tasks[0] | .id = "create-new-document"] | del(.task_params)' >in.jsonl
	run -1 --separate-stderr ise-sim --offline --catalog cat.json --rejects rej.jsonl in.jsonl
	assert_output ""
	jq -e '.failure == "not_success" and .user_turns == 3' rej.jsonl
	run -0 jq -r '.messages[] | select(.role == "user") | .content' rej.jsonl
	[[ ${lines[1]} == *"nosuchcmd-ise: not found"* ]] || fail "${lines[1]}"
	[[ ${lines[2]} == *"still does not work ("*"nosuchcmd-ise: not found), so leave it for now."* ]] || fail "${lines[2]}"
	# the repair ran only the failed step, and the report says it failed again
	jq -e '[.messages[] | select(.role == "assistant" and .tool_calls)] | .[-3].tool_calls[0].function.arguments | contains("nosuchcmd-ise")' rej.jsonl
	jq -e '[.messages[] | select(.role == "assistant" and (.tool_calls | not))][1].content | contains("1 of 1 steps failed")' rej.jsonl
	jq -e '.error | contains("'"'"'Create New Document'"'"' could not be done here: ") and contains("nosuchcmd-ise: not found")' rej.jsonl
}

@test "offline: a setup that does not make the state its request names fails the trajectory before the first turn" {
	# the setup makes the repository but not the branch, and the file without the string
	jq '(.tasks[] | select(.id == "create-new-document")) |= (.setup = "git init -q -b main repo && git -C repo -c user.name=dev -c user.email=dev@example.invalid commit -q --allow-empty -m init && echo other > notes.txt" |
		.state = [{path: "notes.txt", holds: ["it'"'"'s here"]}, {branch: "fix/a b", repo: "repo"}, {path: "repo/"}])' \
		"$ROOT/share/ise/catalog.json" >cat.json
	head -n 1 "$SINGLE" | jq -c '.tasks = [.tasks[0] | .id = "create-new-document"] | del(.task_params)' >in.jsonl
	run -1 --separate-stderr ise-sim --offline --catalog cat.json --rejects rej.jsonl in.jsonl
	assert_output ""
	jq -e '.failure == "setup_error" and .user_turns == 0' rej.jsonl
	jq -e '.error | contains("the setup of task '"'"'create-new-document'"'"' did not make what its request names") and
		contains("notes.txt does not hold '"'"'it'"'"'s here'"'"'") and contains("no branch fix/a b in repo") and
		(contains("no repo/") | not)' rej.jsonl
	# made as named, the same task runs
	jq '(.tasks[] | select(.id == "create-new-document")).setup += " && git -C repo branch \"fix/a b\" 2>/dev/null; git -C repo branch fix/ab && echo \"it'"'"'s here\" >> notes.txt" |
		(.tasks[] | select(.id == "create-new-document")).state[1].branch = "fix/ab"' cat.json >cat2.json
	run -0 --separate-stderr ise-sim --offline --catalog cat2.json in.jsonl
	jq -e '.status == "completed"' <<<"$output"
	# a catalog whose state leaves the workspace is refused when it is read
	jq '(.tasks[] | select(.id == "create-new-document")).state = [{path: "../etc/passwd"}]' cat.json >cat3.json
	run -2 --separate-stderr ise-sim --offline --catalog cat3.json in.jsonl
	[[ $stderr == *"cat3.json"*"a 'state' entry is {path, holds?: [strings]} or {branch, repo}"* ]] || fail "$stderr"
}

@test "offline: the checks run together, each with its own time limit, exit status and output" {
	jq '(.tasks[] | select(.id == "create-new-document")).checks = [
		{what: "slow", command: "echo started; sleep 20", timeout: 1},
		{what: "forges a frame", command: "printf '"'"'\\nise-check-0123456789abcdef 2 0\\nall good\\n'"'"'; exit 3"},
		{what: "reads the replies", command: "test -f \"$ISE_REPLIES\" && pwd && head -c 3000 /dev/zero | tr '"'"'\\0'"'"' x"},
		{what: "python", command: "python3 - <<'"'"'EOF'"'"'\nimport os\nassert os.path.isfile(os.environ[\"ISE_REPLIES\"])\nassert 1 == 2, \"one is not two\"\nEOF"},
		{what: "python, slow", command: "python3 - <<'"'"'EOF'"'"'\nprint(\"looping\", flush=True)\nwhile True: pass\nEOF", timeout: 1}]' \
		"$ROOT/share/ise/catalog.json" >cat.json
	head -n 1 "$SINGLE" | jq -c '.tasks = [.tasks[0] | .id = "create-new-document"] | del(.task_params)' >in.jsonl
	SECONDS=0
	run -0 --separate-stderr ise-sim --offline --catalog cat.json --verify=record in.jsonl
	[ "$SECONDS" -lt 15 ] || fail "the slow check was not stopped at its limit"
	jq -e '.verification | .verified == false and .passed == 1 and .total == 5' <<<"$output"
	jq -e '.verification.checks[0] | .ok == false and .exit_code == 124 and
		.output == "started\n\n(the check ran past its time limit)"' <<<"$output"
	jq -e '.verification.checks[1] | .ok == false and .exit_code == 3 and (.output | contains("all good"))' <<<"$output"
	# the end of a long output is kept, 2,000 bytes at most
	jq -e '.verification.checks[2] | .ok and .exit_code == 0 and (.output | length == 2000 and endswith("xxx"))' <<<"$output"
	# a Python check fails, exits and is stopped as python3 would be
	jq -e '.verification.checks[3] | .ok == false and .exit_code == 1 and
		.output == "Traceback (most recent call last):\n  File \"<stdin>\", line 3, in <module>\nAssertionError: one is not two\n"' <<<"$output"
	jq -e '.verification.checks[4] | .ok == false and .exit_code == 124 and
		.output == "looping\n\n(the check ran past its time limit)"' <<<"$output"
}

@test "offline: checks share a Python worker but not its state; two tasks' checks run side by side; each is timed" {
	# the agent's module poisons json for whoever imports it; the second
	# one takes itself out of sys.modules once used, to go unseen
	setup='printf "import json\njson.loads = lambda *a, **k: {\"poisoned\": True}\n" >agentmod.py
printf "import json, sys\ndef loads(*a, **k):\n    sys.modules.pop(\"hidden\", None)\n    return {\"poisoned\": True}\njson.loads = loads\n" >hidden.py'
	py() { printf "python3 - <<'EOF'\n%s\nEOF" "$1"; }
	# each task's first check waits for the other's: only side by side do both pass
	meet() { echo "touch .rv-$1; i=0; while [ ! -e .rv-$2 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done; [ -e .rv-$2 ]"; }
	jq --arg setup "$setup" --arg meet_a "$(meet a b)" --arg meet_b "$(meet b a)" \
		--arg moves "$(py 'import os, sys
os.chdir("/tmp")
os.environ["LEAK"] = "1"
sys.path.insert(0, "/nowhere")
sys.argv.append("more")')" \
		--arg intact "$(py 'import json, os, sys
assert os.getcwd() == "/workspace", os.getcwd()
assert "LEAK" not in os.environ and "/nowhere" not in sys.path and sys.argv == ["-"]
assert json.loads("[1]") == [1], "json is poisoned"
assert "agentmod" not in sys.modules')" \
		--arg hidden "$(py 'import json
getattr(__builtins__, "__imp" + "ort__")("agentmod")
print(json.loads("[1]"))')" \
		--arg plain "$(py 'import json
import agentmod
print(json.loads("[1]"))')" \
		--arg semicolon "$(py 'import json; import hidden
print(json.loads("[1]"))')" \
		--arg ends "$(py 'import os
print("leaving", flush=True)
os._exit(5)')" \
		--arg closes "$(py 'import sys
sys.stdout.close()')" \
		--arg lingers "$(py 'import os, time
if os.fork() == 0:
    time.sleep(60)
    os._exit(0)')" \
		'(.tasks[] | select(.id == "create-new-document")) |= (.setup = $setup |
			.checks = [{what: "meet", command: $meet_a}, {what: "moves", command: $moves},
				{what: "intact 1", command: $intact}, {what: "hidden import", command: $hidden},
				{what: "intact 2", command: $intact}, {what: "plain import", command: $plain},
				{what: "intact 3", command: $intact}, {what: "ends", command: $ends},
				{what: "intact 4", command: $intact}, {what: "closes", command: $closes},
				{what: "intact 5", command: $intact}, {what: "lingers", command: $lingers},
				{what: "semicolon import", command: $semicolon}, {what: "intact 6", command: $intact}]) |
		(.tasks[] | select(.id == "draft-social-media-post")) |= (.checks = [{what: "meet", command: $meet_b}])' \
		"$ROOT/share/ise/catalog.json" >cat.json
	head -n 1 "$SINGLE" | jq -c '.tasks = [(.tasks[0] | .id = "create-new-document"),
		(.tasks[0] | .id = "draft-social-media-post")] | del(.task_params)' >in.jsonl
	run -0 --separate-stderr ise-sim --offline --catalog cat.json --verify=record in.jsonl
	local v
	v=$(jq -c '.verification' <<<"$output")
	jq -e '.checks | map(.ok) == [true, true, true, true, true, true, true, false, true, true, true, true, true, true, true]' <<<"$v" || fail "$v"
	# the poisoned json reached the checks that imported the agent's module, and no other
	jq -e '[.checks[3, 5, 12].output] == ["{'"'"'poisoned'"'"': True}\n", "{'"'"'poisoned'"'"': True}\n", "{'"'"'poisoned'"'"': True}\n"]' <<<"$v"
	jq -e '.checks[7] | .exit_code == 5 and .output == "leaving\n"' <<<"$v"
	jq -e 'all(.checks[]; .duration_ms >= 0) and .checks[0].duration_ms < 5000' <<<"$v"
	# what a check left running (a child sleeping 60 s) is killed with its worker
	jq -e '.timings | .checks_ms > 0 and .checks_ms < 30000 and .total_ms >= .tools_ms + .checks_ms' <<<"$output"
	run -0 --separate-stderr ise-sim --offline --catalog cat.json --verify=record --no-timings in.jsonl
	jq -e '.timings == null and all(.verification.checks[]; has("duration_ms") | not)' <<<"$output"
}

@test "the checks' script: with a python3 the driver times them; without one, or with one too old, each runs in sh" {
	local probe=$ISE_TESTPROGS/checkrun_probe
	# the fourth: a shell check's pipe ends as in a shell (SIGPIPE, which
	# Python ignores, at its default), not with "yes: Broken pipe"; the
	# last holds a line that is the mark, which must not end the input
	jq -n '[{command: "echo shell; exit 3"},
		{command: "python3 - <<'"'"'EOF'"'"'\nimport sys\nprint(\"py\")\nsys.exit(4)\nEOF", task: 1},
		{command: "echo started; sleep 20", timeout: 1, task: 2}, {command: "yes | head -n 1", task: 3},
		{command: "cat <<'"'"'E'"'"' | wc -l\nise-check-0123456789abcdef\nE", task: 3}]' |
		"$probe" script >checks.sh
	mkdir bin old
	for p in sh mktemp timeout tail rm sleep yes head cat wc; do ln -s "$(command -v "$p")" "bin/$p"; done
	# a python3 before 3.9, as the driver sees it: exit 3 with nothing run
	printf '#!/bin/sh\nexit 3\n' >old/python3
	chmod +x old/python3
	run -0 sh checks.sh
	"$probe" read 5 <<<"$output" >with.jsonl
	run -0 env PATH="$PWD/bin" sh checks.sh
	"$probe" read 5 <<<"$output" >without.jsonl
	run -0 env PATH="$PWD/old:$PWD/bin" sh checks.sh
	"$probe" read 5 <<<"$output" >old.jsonl
	jq -s -e 'map([.exit_code, .output]) == [[3, "shell\n"], [4, "py\n"], [124, "started\n\n(the check ran past its time limit)"],
		[0, "y\n"], [0, "1\n"]] and all(.[]; .duration_ms >= 0) and .[2].duration_ms >= 1000' with.jsonl || fail "$(cat with.jsonl)"
	jq -s -e 'map([.exit_code, .output, .duration_ms]) == [[3, "shell\n", null], [127, "sh: 1: python3: not found\n", null],
		[124, "started\n\n(the check ran past its time limit)", null], [0, "y\n", null], [0, "1\n", null]]' without.jsonl
	jq -s -e 'map([.exit_code, .output, .duration_ms]) == [[3, "shell\n", null], [3, "", null],
		[124, "started\n\n(the check ran past its time limit)", null], [0, "y\n", null], [0, "1\n", null]]' old.jsonl
}

@test "the checks' script: the agent's code in a check cannot speak for another check, nor write its output" {
	local probe=$ISE_TESTPROGS/checkrun_probe
	# imported by the first check: it writes to every descriptor it has a
	# report of the others passed, in the words a worker uses and in those
	# of the driver (the mark), and text into every file
	cat >forger.py <<-'EOF'
		import os, stat
		for fd in map(int, os.listdir("/proc/self/fd")):
		    try:
		        if stat.S_ISREG(os.fstat(fd).st_mode):
		            os.write(fd, b"forged\n")
		        else:
		            os.write(fd, b"s\nd 0\nd 1 0\nd 2 0\n\nise-check-0123456789abcdef 1 0 1\nforged\n")
		    except OSError:
		        pass
	EOF
	jq -n '[{command: "python3 - <<'"'"'EOF'"'"'\nimport forger\nprint(\"imported\")\nEOF"},
		{command: "sleep 0.5; echo honest; exit 3", task: 1}, {command: "exit 4", task: 1}]' |
		"$probe" script >checks.sh
	run -0 sh checks.sh
	"$probe" read 3 <<<"$output" >got.jsonl
	# the first check fails for the line out of turn (killed before or after
	# it printed, or, with PYTHONUNBUFFERED set, between print's two writes,
	# the text and the newline); the others are theirs
	jq -s -e '(.[0] | .exit_code == 1 and (.output | test("^(forged\n)+(imported\n?)?$")))
		and (.[1:] | map([.exit_code, .output]) == [[3, "honest\n"], [4, ""]])' got.jsonl ||
		fail "$(cat got.jsonl)"
}

@test "offline: a Python check imports the standard json and email, not the agent's json.py, and still the agent's own modules" {
	setup='echo "raise SystemExit(9)" >json.py; cp json.py email.py; echo "X = 7" >mine.py'
	py() { printf "python3 - <<'EOF'\n%s\nEOF" "$1"; }
	jq --arg setup "$setup" --arg std "$(py 'import json, email.utils
print(json.dumps(email.utils.parseaddr("A <a@b.c>")))')" \
		--arg own "$(py 'import mine
assert mine.X == 7')" --arg path "$(py 'import sys
assert sys.path[0] == "", sys.path')" \
		'(.tasks[] | select(.id == "create-new-document")) |= (.setup = $setup |
			.checks = [{what: "std", command: $std}, {what: "own", command: $own}, {what: "path", command: $path}])' \
		"$ROOT/share/ise/catalog.json" >cat.json
	head -n 1 "$SINGLE" | jq -c '.tasks = [.tasks[0] | .id = "create-new-document"] | del(.task_params)' >in.jsonl
	run -0 --separate-stderr ise-sim --offline --catalog cat.json --verify=record in.jsonl
	jq -e '.verification.checks[0] | .ok and .output == "[\"A\", \"a@b.c\"]\n"' <<<"$output"
	jq -e '.verification | .passed == 3 and .total == 3' <<<"$output"
}

@test "offline: without the network the user accepts the fallback values" {
	jq '(.tasks[] | select(.id == "create-new-document")) |= (.tools += ["http_request"] | .plan = [{tool: "http_request", args: {method: "GET", url: "http://127.0.0.1:9/rates"}}] + .plan)' \
		"$ROOT/share/ise/catalog.json" >cat.json
	head -n 1 "$SINGLE" | jq -c '.tasks = [.tasks[0] | .id = "create-new-document"]' >in.jsonl
	run -0 --separate-stderr ise-sim --offline --catalog cat.json in.jsonl
	jq -e '.messages[3].role == "tool" and (.messages | map(select(.role == "user"))[1].content |
		(contains("no network") or contains("without network access")))' <<<"$output"
}

@test "offline: the same seed gives the same trajectories with any -j; another seed other values" {
	a=$(ise-sim --offline --no-timings -s 5 "$SINGLE")
	assert_equal "$(ise-sim --offline --no-timings -s 5 -j 4 "$SINGLE")" "$a"
	b=$(ise-sim --offline --no-timings -s 6 "$SINGLE")
	[ "$a" != "$b" ]
	# the records carry timings unless asked not to
	ise-sim --offline "$SINGLE" | jq -e -s 'all(.[]; .timings.total_ms >= 0)'
}

@test "offline: the scripted user introduces itself with the right article (a UX Designer, an Urban Planner)" {
	for role in "UX Designer:a" "University President:a" "Urban Planner:an" "HR Manager:an" "Engineer:an" "One-Person Shop Owner:a"; do
		filter_input ise-sim 1 | jq -c --arg r "${role%:*}" '.persona.role = $r | .persona.experience_level = "Mid-level"' >one.jsonl
		run -0 --separate-stderr ise-sim --offline --no-timings one.jsonl
		first=$(jq -r '[.messages[] | select(.role == "user")][0].content' <<<"$output")
		[[ $first == *", ${role#*:} ${role%:*}."* ]] || fail "${role%:*}: $first"
	done
}

# An intent with the catalog task Debug Failing CI Checks and its slot values.
ci_intent() { # ID
	jq -cn --arg id "$1" '{id: $id, natural_language_intent: "The unit tests on feature/vat-rules fail: fix the VAT rate.",
		complexity: "simple", domains: ["source-chain"],
		persona: {name: "Amara Obi", role: "Developer", experience_level: "Senior"},
		tasks: [{id: "debug-failing-ci-checks", name: "Debug Failing CI Checks", domain: "source-chain"}],
		task_params: {"debug-failing-ci-checks": {branch: "feature/vat-rules", vat: "19", amount: "250.00"}}}'
}
ci_fix='[{"name":"exec","arguments":{"command":"cd shop && sed -i \"s|VAT_RATE = 0.20|VAT_RATE = 19 / 100|\" billing.py && git -c user.name=a -c user.email=a@example.invalid commit -qam fix && python3 -m unittest -q test_billing"}}]'

@test "verification: an agent that only says it is done is caught; --verify=record keeps it, marked" {
	fake_start
	ci_intent ci1 >ci.jsonl
	fake_tape "$(user_turn 1 "Please fix the failing VAT test on feature/vat-rules.")
$(user_done "fixed" true)
$(jq -cn '{match: {model: "agent", last_role: "user"}, reply: {content: "Done: I fixed the VAT rate and the tests pass."}, repeat: -1}')"
	run -1 --separate-stderr sim --verify=require --rejects rej.jsonl ci.jsonl
	assert_equal "$output" ""
	[[ $stderr == *"trajectory rejected (unverified): the user said the work was done, but 3 of 3 checks failed"* ]] || fail "$stderr"
	jq -e '.status == "failed" and .failure == "unverified" and .is_success == true and
		.verification.verified == false and .verification.passed == 0 and .verification.total == 3 and
		([.verification.checks[].task] | unique) == ["debug-failing-ci-checks"] and
		(.verification.checks[0].what == "the unit tests pass on feature/vat-rules")' rej.jsonl
	run -0 --separate-stderr sim --verify=record ci.jsonl
	jq -e '.status == "completed" and .failure == null and .is_success == true and .verification.verified == false' <<<"$output"
	run -0 --separate-stderr sim --verify=off ci.jsonl
	jq -e 'has("verification") | not' <<<"$output"
	# an agent that does the work is verified
	fake_tape "$(user_turn 1 "Please fix the failing VAT test on feature/vat-rules.")
$(user_done "fixed" true)
$(agent_calls "." "$ci_fix")
$(agent_says "Fixed: VAT is 19% now and the test passes.")"
	run -0 --separate-stderr sim --verify=require ci.jsonl
	jq -e '.verification == {verified: true, passed: 3, total: 3, checks: .verification.checks} and
		all(.verification.checks[]; .ok and .exit_code == 0)' <<<"$output"
}

@test "--trials 3: ids ID#1..3, and ise-audit --summary's pass@1, pass@3 and pass^3 match the records" {
	fake_start
	{ ci_intent ia; ci_intent ib; } >two.jsonl
	lie=$(jq -cn '{match: {model: "agent", last_role: "user"}, reply: {content: "All done."}}')
	fix=$(jq -cn --argjson c "$ci_fix" '{match: {model: "agent", last_role: "user"}, reply: {tool_calls: $c}}')
	# in order: ia#1 fixes, ia#2 lies, ia#3 fixes; ib#1 lies, ib#2 lies, ib#3 fixes
	fake_tape "$(user_turn 1 "Please fix the failing VAT test on feature/vat-rules.")
$(user_done "fixed" true)
$fix
$lie
$fix
$lie
$lie
$fix
$(agent_says "Fixed.")"
	run -1 --separate-stderr sim --verify=require -j 1 --trials 3 --rejects rej.jsonl two.jsonl
	assert_equal "$(jq -r .id <<<"$output")" $'ia#1\nia#3\nib#3'
	assert_equal "$(jq -r .id rej.jsonl)" $'ia#2\nib#1\nib#2'
	jq -e -s 'all(.[]; .trial >= 1 and .trial <= 3 and (.intent_id | IN("ia", "ib")))' rej.jsonl
	printf '%s\n' "$output" >kept.jsonl
	run -0 ise-audit --summary --rejects rej.jsonl kept.jsonl
	v=$(jq -c .verification <<<"$output")
	# by hand: ia c=2 of n=3, ib c=1 of 3
	want=$(cat kept.jsonl rej.jsonl | jq -s -c '
		def choose($n; $k): if $k > $n then 0 else reduce range(0; $k) as $i (1; . * ($n - $i) / ($i + 1)) end;
		def r6: . * 1e6 | round / 1e6;
		group_by(.intent_id) | map({n: length, c: map(select(.verification.verified)) | length}) |
		{p1: (map(.c / .n) | add / length | r6), p3: (map(1 - choose(.n - .c; 3) / choose(.n; 3)) | add / length | r6),
		 a3: (map(pow(.c / .n; 3)) | add / length | r6)}')
	assert_equal "$want" '{"p1":0.5,"p3":1,"a3":0.166667}'
	jq -e --argjson w "$want" '.k == 3 and .intents == 2 and .trajectories == 6 and .verified == 3 and
		.["pass@1"] == $w.p1 and .["pass@3"] == $w.p3 and .["pass^3"] == $w.a3 and
		.agreement == {both: 3, simulator_only: 3, checks_only: 0, neither: 0} and
		.by_domain["source-chain"].intents == 2 and .by_complexity.simple["pass^3"] == $w.a3' <<<"$v"
	# a resumed run plays only the trials the output lacks
	head -n 1 kept.jsonl >part.jsonl
	fake_reset
	fake_tape "$(user_turn 1 "x")
$(user_done "fixed" true)
$(jq -c '.repeat = -1' <<<"$fix")
$(agent_says "Fixed.")"
	run -0 --separate-stderr sim -j 1 --trials 3 --verify=record -o part.jsonl --resume two.jsonl
	assert_equal "$(jq -r .id part.jsonl)" $'ia#1\nia#2\nia#3\nib#1\nib#2\nib#3'
}

# ---- real servers: misconfiguration, readiness, models, the context window ----

# A loopback port nothing listens on (free when asked).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Tape entries for three user turns whose agent prints `seq 1 N` each
# turn (N characters of output a turn, about), then finishes.
long_outputs() {
	fake_tape "$(user_turn 1 "Step one.")
$(user_turn 2 "Step two.")
$(user_turn 3 "Step three.")
$(user_done)
$(agent_calls "Step" "[{\"name\":\"exec\",\"arguments\":{\"command\":\"seq 1 $1\"}}]")
$(agent_says "Printed.")"
	jq '{tools: [.tools[] | select(.function.name == "exec")]}' "$ROOT/share/ise/catalog.json" >tools.json
}

@test "a misconfigured agent server stops the run at once with exit 3, naming the flags; nothing is rejected" {
	fake_start
	fake_tape "$(user_turn 1 "Print hello." | jq -c '.repeat = -1')
$(jq -cn '{match: {model: "agent"}, status: 400, error_style: "vllm_new", error_message: "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set", repeat: -1}')"
	head -n 3 "$INTENTS" >three.jsonl
	run -3 --separate-stderr sim -j 1 --rejects rej.jsonl -o out.jsonl three.jsonl
	[[ $stderr == *'"auto" tool choice requires --enable-auto-tool-choice'*"to fix: start vLLM with --enable-auto-tool-choice --tool-call-parser NAME"* ]] || fail "$stderr"
	assert_equal "$(requests agent | wc -l)" 1
	assert_equal "$(wc -l <out.jsonl)" 0
	assert_equal "$(wc -l <rej.jsonl)" 0
}

@test "--temperature none, --extra-body and each role's own extra body reach the requests" {
	fake_start
	fake_tape "$(user_turn 1 "Print hello.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]')
$(agent_says "Printed.")"
	run -0 --separate-stderr sim --temperature none --extra-body '{"top_k":20}' \
		--user-extra-body '{"chat_template_kwargs":{"enable_thinking":false},"top_k":40}' \
		--agent-extra-body '{"reasoning_effort":"low"}' "$ONE"
	requests sim | jq -e -s 'all(.[]; (has("temperature") | not) and .top_p == 0.95 and .top_k == 40 and
		.chat_template_kwargs == {enable_thinking: false} and (has("reasoning_effort") | not))'
	requests agent | jq -e -s 'all(.[]; (has("temperature") | not) and .reasoning_effort == "low" and
		(has("top_k") | not) and (has("chat_template_kwargs") | not))'
	run -2 --separate-stderr sim --agent-extra-body '{"messages":[]}' "$ONE"
	[[ $stderr == *"--agent-extra-body: 'messages' is ise's to set"* ]] || fail "$stderr"
	run -2 --separate-stderr sim --extra-body '[1]' "$ONE"
}

@test "a simulator request that fails for another reason keeps response_format for the next records" {
	fake_start
	head -n 2 "$SINGLE" >two.jsonl
	fake_tape "$(jq -cn '{match: {model: "sim"}, status: 400, error_style: "vllm_new", error_message: "This model'"'"'s maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens."}')
$(user_turn 1 "Print hello.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]')
$(agent_says "Printed.")"
	run -1 --separate-stderr sim -j 1 two.jsonl
	assert_equal "$(jq -r .id <<<"$output")" "$(sed -n 2p two.jsonl | jq -r .id)"
	requests sim | jq -e -s 'length == 3 and all(.[]; .response_format.type == "json_schema")'
}

@test "a loading server is waited for before the first trajectory, with a progress line" {
	fake_start
	fake_tape "$(user_turn 1 "Print hello.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo hello"}}]')
$(agent_says "Printed.")"
	fake_shape '{"loading_s":1.5}'
	run -0 --separate-stderr sim --retries 1 --wait 30 "$ONE"
	jq -e '.status == "completed"' <<<"$output"
	[[ $stderr == *"$FAKE_URL: waiting for the server: HTTP 503: Loading model"* ]] || fail "$stderr"
	[[ $stderr == *"$FAKE_URL: ready after "[12]" s"* ]] || fail "$stderr"
	jq -e -s '[.[] | select(.path == "/v1/chat/completions")] | all(.status == 200)' "$FAKE_LOG"
	# no server at all: exit 3 once the wait is over
	run -3 --separate-stderr sim --base-url "http://127.0.0.1:$(free_port)/v1" --wait 1 "$ONE"
	[[ $stderr == *"not ready after --wait 1 s"* ]] || fail "$stderr"
}

@test "the record names the models the servers say answered, with or without --model" {
	fake_start
	fake_tape "$(jq -cn --arg c "$(decision false "Print hello.")" '{match: {contains: "message number 1 of"}, reply: {content: $c, model: "big-user-model"}, repeat: -1}')
$(jq -cn --arg c "$(decision true "" "done")" '{match: {contains: "You are role-playing"}, reply: {content: $c, model: "big-user-model"}, repeat: -1}')
$(jq -cn '{match: {last_role: "user"}, reply: {tool_calls: [{name: "exec", arguments: {command: "echo hello"}}], model: "Qwen/Qwen3-8B"}, repeat: -1}')
$(jq -cn '{reply: {content: "Printed.", model: "Qwen/Qwen3-8B"}, repeat: -1}')"
	run -0 --separate-stderr ise-sim --verify=off "$ONE"
	jq -e '.models == {user: "big-user-model", agent: "Qwen/Qwen3-8B"}' <<<"$output"
	run -0 --separate-stderr ise-sim --verify=off --model asked-name "$ONE"
	jq -e '.models == {user: "big-user-model", agent: "Qwen/Qwen3-8B"}' <<<"$output"
}

@test "context: old tool outputs are cut to fit vLLM's max_model_len; the record says where" {
	fake_start
	long_outputs 1500
	fake_shape '{"max_model_len":6000}'
	run -0 --separate-stderr sim --tools tools.json --max-tokens 256 "$ONE"
	r=$output
	jq -e '.status == "completed" and .user_turns == 3 and
		.context.window == 6000 and .context.source == "max_model_len" and .context.prefix_changes == 1 and
		(.context.elided | length == 1 and .[0].message == 3 and .[0].lines == 1500 and .[0].request >= 5)' <<<"$r"
	# the stored trajectory keeps every output whole
	jq -e '[.messages[] | select(.role == "tool") | .content | split("\n") | length] == [1501, 1501, 1501]' <<<"$r"
	# the requests: none over the window, the cut one marked from its request on, never uncut
	jq -e -s '[.[] | select(.path == "/v1/chat/completions")] | all(.status == 200)' "$FAKE_LOG"
	n=$(jq -r '.context.elided[0].request' <<<"$r")
	requests agent | jq -e -s --argjson n "$n" '
		(.[$n - 1:] | all(.messages[3].content | startswith("[ise: this tool output (6393 characters, 1500 lines) was cut"))) and
		(.[:$n - 1] | all(.messages[3].content // "" | startswith("[ise") | not))'
}

@test "context: llama-server's window per slot comes from /props; a server's refusal teaches the window" {
	fake_start
	long_outputs 1500
	fake_shape '{"n_ctx":12000,"parallel":2}'
	run -0 --separate-stderr sim --tools tools.json --max-tokens 256 "$ONE"
	jq -e '.status == "completed" and .context.window == 6000 and .context.source == "n_ctx" and
		(.context.elided | length) == 1' <<<"$output"
	# a --context too large: the server's exceed_context_size_error says the real one
	fake_reset
	long_outputs 1500
	fake_shape '{"n_ctx":12000,"parallel":2}'
	run -0 --separate-stderr sim --tools tools.json --max-tokens 256 --context 100000 "$ONE"
	jq -e '.status == "completed" and .context.window == 6000 and .context.source == "the server'"'"'s error" and
		(.context.elided | length) == 1' <<<"$output"
	jq -e -s '[.[] | select(.path == "/v1/chat/completions") | .status] | map(select(. == 400)) | length == 1' "$FAKE_LOG"
}

# A conversation of 10 user turns ("Go on.") whose agent answers each with
# 1,800 characters, on two servers: the agent's ($FAKE_URL after the call)
# and the simulator's ($USER_URL, its log $USER_LOG), with fake_shape $1.
long_replies() {
	fake_start
	fake_tape "$(jq -cn --arg c "$(decision true "" "done")" '{match: {model: "sim", contains: "no messages left"}, reply: {content: $c}, repeat: -1}')
$(jq -cn --arg c "$(decision false "Go on.")" '{match: {model: "sim"}, reply: {content: $c}, repeat: -1}')"
	fake_shape "$1"
	USER_URL=$FAKE_URL/v1 USER_LOG=$FAKE_LOG USER_PID=$FAKE_PID
	fake_start
	fake_tape "$(jq -cn --arg c "$(printf 'word %.0s' $(seq 360))" '{match: {model: "agent"}, reply: {content: $c}, repeat: -1}')"
}

@test "context: the simulated user's view of a long conversation is shortened to fit its window" {
	long_replies '{}'
	run -0 --separate-stderr sim --user-base-url "$USER_URL" --max-turns 10 --max-tokens 256 --user-context 3000 "$ONE"
	kill "$USER_PID"
	r=$output
	jq -e '.status == "completed" and .user_turns == 10 and
		.user_context.window == 3000 and .user_context.source == "--user-context" and
		.user_context.shortened >= 1 and .user_context.prefix_changes >= 1' <<<"$r"
	# every request of the simulator fits: characters / 3 + the reply's 256 tokens
	jq -e -s 'map(select(.path == "/v1/chat/completions") | .body.messages | tojson | length) |
		length == 11 and all(. / 3 + 256 + 16 <= 3000)' "$USER_LOG"
	# the last one: the last two turns whole, the oldest shortened or left out, saying so
	last=$(jq -r -s 'map(select(.path == "/v1/chat/completions"))[-1].body.messages[-1].content' "$USER_LOG")
	[[ $last == *"[9] Assistant: word word"*"[10] Assistant: "*"word word"* ]] || fail "$last"
	[[ $(grep -o "word" <<<"$last" | wc -l) -lt 1000 ]] || fail "not shortened"
	[[ $last == *"[1-"*"] (left out: the conversation is too long to show whole)"* || $last == *"[1] Assistant: word"* ]] || fail "$last"
	# the agent's window is another: its own requests are whole
	jq -e '.context.window == null' <<<"$r"
}

@test "context: the simulator's window comes from its own server, or from its refusal" {
	long_replies '{"max_model_len":3000}'
	run -0 --separate-stderr sim --user-base-url "$USER_URL" --max-turns 10 --max-tokens 256 "$ONE"
	jq -e '.status == "completed" and .user_context.window == 3000 and .user_context.source == "max_model_len" and
		.user_context.shortened >= 1' <<<"$output"
	jq -e -s '[.[] | select(.path == "/v1/chat/completions")] | length == 11 and all(.status == 200)' "$USER_LOG"
	# told a window too large, it learns the real one from the 400 and asks again
	: >"$USER_LOG"
	run -0 --separate-stderr sim --user-base-url "$USER_URL" --max-turns 10 --max-tokens 256 --user-context 100000 "$ONE"
	kill "$USER_PID"
	jq -e '.status == "completed" and .user_context.window == 3000 and
		.user_context.source == "the server'"'"'s error"' <<<"$output"
	jq -e -s '[.[] | select(.path == "/v1/chat/completions") | .status] | map(select(. == 400)) | length == 1' "$USER_LOG"
}

@test "context: a turn that cannot fit even with every older output cut fails as context_exceeded" {
	fake_start
	long_outputs 3000
	fake_shape '{"max_model_len":3000}'
	run -1 --separate-stderr sim --tools tools.json --max-tokens 256 --rejects rej.jsonl "$ONE"
	jq -e '.failure == "context_exceeded" and .context.window == 3000 and
		(.error | contains("over the context window of 3000 (max_model_len)"))' rej.jsonl
	# it was found before the server had to refuse anything
	jq -e -s '[.[] | select(.path == "/v1/chat/completions")] | all(.status == 200)' "$FAKE_LOG"
	# --max-tokens that leaves no room is a setting to change: exit 3 before any trajectory
	run -3 --separate-stderr sim --tools tools.json --max-tokens 4000 "$ONE"
	[[ $stderr == *"--max-tokens 4000 leaves no room for a prompt in the agent model's context window of 3000 tokens (max_model_len)"* ]] || fail "$stderr"
}
