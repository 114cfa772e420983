#!/usr/bin/env bats
# ise-export: every format checked by an independent reader
# (tests/export_check.py) on the demo's trajectories, the Qwen3 text against
# a second renderer written from the man page's rules (tests/qwen3_ref.py),
# the round trip, the splits under sharding, selection, weights, the card,
# and bad input.
load helper

DEMO=$ROOT/tests/fixtures/export/demo.jsonl
CHECK=$ROOT/tests/export_check.py

setup_file() {
	# the demo's trajectories (make demo, seed 1: the two with parallel
	# calls and four others), and the same with reasoning, inline <think>
	# blocks, text beside calls and numbers of every kind
	python3 "$ROOT/tests/export_check.py" enrich <"$ROOT/tests/fixtures/export/demo.jsonl" \
		>"$BATS_FILE_TMPDIR/rich.jsonl"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	RICH=$BATS_FILE_TMPDIR/rich.jsonl
}

# A trajectory of three user turns; the second user message drifts into
# the assistant's voice.  Turn 1 calls a tool; every assistant reasons.
three_turns() {
	cat <<-'EOF'
		{"id":"t3","tools":[{"type":"function","function":{"name":"exec","parameters":{"type":"object","properties":{"command":{"type":"string"}}}}}],"messages":[{"role":"system","content":"sys"},{"role":"user","content":"List the files."},{"role":"assistant","content":"","reasoning_content":"r1a","tool_calls":[{"id":"c1","type":"function","function":{"name":"exec","arguments":"{\"command\":\"ls\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"a b"},{"role":"assistant","content":"a and b.","reasoning_content":"r1b"},{"role":"user","content":"Sure, let me look at a."},{"role":"assistant","content":"It is empty.","reasoning_content":"r2"},{"role":"user","content":"Thanks."},{"role":"assistant","content":"You are welcome.","reasoning_content":"r3"}]}
	EOF
}

@test "--format is needed, and options that do not go together are usage errors" {
	run -2 --separate-stderr ise-export "$DEMO"
	assert_equal "${stderr_lines[0]}" "ise-export: --format is needed (openai, sharegpt, messages or qwen3)"
	run -2 --separate-stderr ise-export -f csv "$DEMO"
	assert_equal "${stderr_lines[0]}" "ise-export: invalid value for --format: 'csv'"
	run -2 --separate-stderr ise-export -f openai --think maybe "$DEMO"
	run -2 --separate-stderr ise-export -f openai --arguments object "$DEMO"
	[[ $stderr == *"--arguments goes with --format messages or qwen3"* ]]
	run -2 --separate-stderr ise-export -f sharegpt --weight-zero all "$DEMO"
	[[ $stderr == *"--weight-zero goes with --format openai or qwen3"* ]]
	run -2 --separate-stderr ise-export -f openai --weight-zero drift "$DEMO"
	[[ $stderr == *"invalid value for --weight-zero: 'drift'"* ]]
	run -2 --separate-stderr ise-export -f openai --dataset-info x -o o.jsonl "$DEMO"
	[[ $stderr == *"--dataset-info goes with --format sharegpt"* ]]
	run -2 --separate-stderr ise-export -f openai --split train=1 "$DEMO"
	[[ $stderr == *"--split needs -o"* ]]
	run -2 --separate-stderr ise-export -f openai --card README.md "$DEMO"
	[[ $stderr == *"--card needs -o"* ]]
	echo '[1]' >s.json
	run -2 --separate-stderr ise-export -f openai --card c.md --summary s.json -o o.jsonl "$DEMO"
	[[ $stderr == *"s.json: expected a JSON object"* ]] || fail "$stderr"
	[ ! -e o.jsonl ] && [ ! -e c.md ]
	run -2 --separate-stderr ise-export -f openai --summary s.json -o o.jsonl "$DEMO"
	[[ $stderr == *"--summary and --language go with --card"* ]]
	run -2 --separate-stderr ise-export -f openai --no-id -o o.jsonl --resume "$DEMO"
	[[ $stderr == *"not with --no-id"* ]]
	for bad in train=0.9,validation=0.2 train=0.5,train=0.5 'tr ain=1' train=0 train=1, =1 train; do
		run -2 --separate-stderr ise-export -f openai --split "$bad" -o d "$DEMO"
		[[ $stderr == *"invalid value for --split"* ]] || fail "$bad: $stderr"
	done
	cp "$DEMO" in.jsonl
	run -2 --separate-stderr ise-export -f openai --card in.jsonl -o o.jsonl in.jsonl
	[[ $stderr == *"--card: in.jsonl is also the input 'in.jsonl'"* ]]
	run -2 --separate-stderr ise-export -f openai --card o.jsonl -o o.jsonl in.jsonl
	[[ $stderr == *"--card: o.jsonl is also a data file"* ]] || fail "$stderr"
	mkdir d && echo '{}' >d/train.jsonl
	run -2 --separate-stderr ise-export -f openai --split train=1 --card d/README.md --summary d/train.jsonl -o d/ in.jsonl
	[[ $stderr == *"--summary: d/train.jsonl is also a data file: it would be lost"* ]] || fail "$stderr"
	assert_equal "$(cat d/train.jsonl)" "{}"
	cp "$DEMO" train.jsonl
	run -2 --separate-stderr ise-export -f openai --split train=1 -o . train.jsonl
	[[ $stderr == *"-o: ./train.jsonl is also the input 'train.jsonl'"* ]]
}

@test "openai: every call of every demo sample has its result, its arguments JSON text of an object" {
	for f in "$DEMO" "$RICH"; do
		run -0 ise-export -f openai "$f" -o o.jsonl
		run -0 python3 "$CHECK" openai o.jsonl
		assert_output "openai calls: 6 samples, 103 calls, each with its result"
	done
	# the messages are the trajectory's, keys OpenAI knows only
	ise-export -f openai "$DEMO" >o.jsonl
	diff <(jq -c '[.messages[] | {role, content, tool_calls, tool_call_id}]' "$DEMO") \
		<(jq -c '[.messages[] | {role, content, tool_calls, tool_call_id}]' o.jsonl)
	jq -e -s 'all(.[]; (keys == ["id", "messages", "parallel_tool_calls", "tools"]) and
		all(.messages[]; keys - ["role", "content", "tool_calls", "tool_call_id"] == []))' o.jsonl
	# parallel_tool_calls: true for the two samples with a parallel call
	assert_equal "$(jq -r 'select(.parallel_tool_calls) | .id' o.jsonl)" \
		"$(jq -r 'select(any(.messages[]; (.tool_calls // []) | length > 1)) | .id' "$DEMO")"
	assert_equal "$(jq -s 'map(select(.parallel_tool_calls)) | length' o.jsonl)" 2
	# --no-id: OpenAI's layout, nothing more
	ise-export -f openai --no-id --think drop "$RICH" >n.jsonl
	jq -e -s 'all(.[]; keys == ["messages", "parallel_tool_calls", "tools"] and
		all(.messages[]; has("reasoning_content") | not))' n.jsonl
}

@test "round trip: openai read back by ise-export gives the same messages" {
	for f in "$DEMO" "$RICH"; do
		ise-export -f openai "$f" >a.jsonl
		ise-export -f openai a.jsonl >b.jsonl
		run -0 python3 "$CHECK" messages a.jsonl b.jsonl
		assert_output "messages: 6 samples the same"
		cmp a.jsonl b.jsonl
	done
	# weights and reasoning come back too
	three_turns >t.jsonl
	ise-export -f openai --per-turn t.jsonl >a.jsonl
	ise-export -f openai a.jsonl >b.jsonl
	run -0 python3 "$CHECK" messages a.jsonl b.jsonl
	assert_output "messages: 3 samples the same"
	jq -e -s '[.[].messages[] | select(.weight == 0)] | length > 0' b.jsonl
	# and an inline <think> block becomes reasoning_content, its text the rest
	jq -e -s '[.[].messages[].content | select(test("<think>"))] == []' b.jsonl
}

@test "sharegpt: every demo sample in LLaMA-Factory's order, parallel calls one function_call, results one observation" {
	for f in "$DEMO" "$RICH"; do
		run -0 ise-export -f sharegpt "$f" -o s.jsonl
		run -0 python3 "$CHECK" sharegpt s.jsonl
		assert_output "sharegpt order: 6 samples"
	done
	ise-export -f sharegpt "$DEMO" >s.jsonl
	# a parallel call: one function_call holding a list of two, then one
	# observation holding both results
	run -0 jq -r 'select(.id == "intent_cb13530111ef0f33") | .conversations as $c |
		range(0; $c | length) | select($c[.].from == "function_call" and ($c[.].value | startswith("["))) |
		"\($c[.].value | fromjson | length) \($c[. + 1].from) \($c[. + 1].value | [scan("</tool_response>\n<tool_response>")] | length)"' s.jsonl
	assert_output "2 observation 1"
	# turns: a user message, an assistant message or a run of results each
	assert_equal "$(jq -s '[.[].conversations | length] | add' s.jsonl)" \
		"$(jq -s '[.[].messages | (map(select(.role != "system" and .role != "tool")) | length) +
			([range(1; length) as $i | select(.[$i].role == "tool" and .[$i - 1].role != "tool")] | length)] | add' "$DEMO")"
	jq -e -s 'all(.[]; (.system | startswith("You are a capable assistant")) and
		(.tools | fromjson | length) == 16)' s.jsonl
	# text beside calls stays, before <tool_call>; reasoning leads as <think>
	ise-export -f sharegpt "$RICH" >r.jsonl
	run -0 jq -r '.conversations[] | select(.from == "function_call") | .value |
		select(test("^(<think>\n(.|\n)*\n</think>\n\n)?Let me check that — [0-9]+\\.\n<tool_call>(.|\n)*</tool_call>$"))' r.jsonl
	[ "${#lines[@]}" -gt 3 ] || fail "no text beside calls: $output"
	[ "$(jq -r '.conversations[] | select(.from == "gpt") | .value' r.jsonl | grep -c '^<think>$')" -gt 3 ]
}

@test "sharegpt: an order the loader would skip is reported with FILE:LINE, the rest go on; tool results at the end are left out" {
	head -n 2 "$DEMO" >in.jsonl
	# two user messages in a row; a user message right after tool results
	echo '{"id":"uu","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"}]}' >>in.jsonl
	echo '{"id":"tu","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"","tool_calls":[{"id":"1","type":"function","function":{"name":"exec","arguments":"{}"}}]},{"role":"tool","tool_call_id":"1","content":"x"},{"role":"user","content":"b"},{"role":"assistant","content":"c"}]}' >>in.jsonl
	# an assistant that speaks first
	echo '{"id":"a1","messages":[{"role":"system","content":"s"},{"role":"assistant","content":"hi"},{"role":"user","content":"b"},{"role":"assistant","content":"c"}]}' >>in.jsonl
	# ends with a call and its result: the result is left out
	echo '{"id":"end","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"","tool_calls":[{"id":"1","type":"function","function":{"name":"exec","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"1","content":"x"},{"role":"user","content":"never answered"}]}' >>in.jsonl
	tail -n 2 "$DEMO" >>in.jsonl
	run -1 --separate-stderr ise-export -f sharegpt in.jsonl
	assert_equal "${stderr_lines[0]}" "ise-export: in.jsonl:3: message 1 (user) would be 'human' at position 2 of the sharegpt conversation, where LLaMA-Factory's loader wants gpt or function_call"
	assert_equal "${stderr_lines[1]}" "ise-export: in.jsonl:4: message 3 (user) would be 'human' at position 4 of the sharegpt conversation, where LLaMA-Factory's loader wants gpt or function_call"
	assert_equal "${stderr_lines[2]}" "ise-export: in.jsonl:5: message 1 (assistant) would be 'gpt' at position 1 of the sharegpt conversation, where LLaMA-Factory's loader wants human or observation"
	assert_equal "${#stderr_lines[@]}" 3
	assert_equal "$(printf '%s\n' "$output" | jq -r .id | tr '\n' ' ')" \
		"$(sed -n '1,2p;7,8p' in.jsonl | jq -r .id | head -n 2 | tr '\n' ' ')end $(tail -n 2 "$DEMO" | jq -r .id | tr '\n' ' ')"
	assert_equal "$(printf '%s\n' "$output" | jq -c 'select(.id == "end") | [.conversations[].from]')" '["human","function_call"]'
	# the other formats take them (the one with no answer ends before it)
	run -0 ise-export -f openai in.jsonl
	assert_equal "$(printf '%s\n' "$output" | jq -c 'select(.id == "end") | [.messages[].role]')" '["user","assistant","tool"]'
}

@test "--dataset-info: the entry LLaMA-Factory reads, one a split, other entries kept" {
	mkdir data
	echo '{"theirs": {"file_name": "x.json"}}' >data/dataset_info.json
	run -0 ise-export -f sharegpt --split train=0.5,validation=0.5 --dataset-info agent -o data "$DEMO"
	run -0 jq -cS . data/dataset_info.json
	assert_output '{"agent_train":{"columns":{"messages":"conversations","system":"system","tools":"tools"},"file_name":"train.jsonl","formatting":"sharegpt"},"agent_validation":{"columns":{"messages":"conversations","system":"system","tools":"tools"},"file_name":"validation.jsonl","formatting":"sharegpt"},"theirs":{"file_name":"x.json"}}'
	# one file: the entry is NAME, beside it
	mkdir one
	run -0 ise-export -f sharegpt --dataset-info agent -o one/agent.jsonl "$DEMO"
	assert_equal "$(jq -c '.agent.file_name' one/dataset_info.json)" '"agent.jsonl"'
	# a dataset_info.json that is not JSON is left as it is
	echo 'nope' >one/dataset_info.json
	run -3 --separate-stderr ise-export -f sharegpt --dataset-info agent -o one/agent.jsonl "$DEMO"
	[[ $stderr == *"one/dataset_info.json: not a JSON object, left as it is"* ]] || fail "$stderr"
	assert_equal "$(cat one/dataset_info.json)" nope
}

@test "messages: arguments JSON text by default, objects with --arguments object; tool messages named; tools always there" {
	run -0 ise-export -f messages "$RICH" -o m.jsonl
	jq -e -s 'all(.[]; keys == ["id", "messages", "tools"]) and
		all(.[].messages[].tool_calls[]?; .function.arguments | type == "string" and (fromjson | type) == "object")' m.jsonl
	# a tool message names its call's function
	jq -e -s 'all(.[].messages as $m | range(0; $m | length) | select($m[.].role == "tool") as $i |
		[$m[:$i][] | .tool_calls[]? | select(.id == $m[$i].tool_call_id) | .function.name][-1] == $m[$i].name; .)' m.jsonl
	run -0 ise-export -f messages --arguments object "$RICH" -o o.jsonl
	jq -e -s 'all(.[].messages[].tool_calls[]?; .function.arguments | type == "object")' o.jsonl
	diff <(jq -c '[.messages[].tool_calls[]?.function.arguments | fromjson]' m.jsonl) \
		<(jq -c '[.messages[].tool_calls[]?.function.arguments]' o.jsonl)
	echo '{"id":"n","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}' >n.jsonl
	assert_equal "$(ise-export -f messages n.jsonl | jq -c .tools)" "[]"
	assert_equal "$(ise-export -f openai n.jsonl | jq -c 'has("tools"), has("parallel_tool_calls")' | tr '\n' ' ')" "false false "
}

@test "qwen3: the text of every demo sample is the reference renderer's, byte for byte, with --think keep|drop|last" {
	# the demo: tools, parallel calls, consecutive tool results; and with
	# reasoning, inline <think>, text beside calls and numbers of every kind
	n=0
	for f in "$DEMO" "$RICH"; do
		rm -rf ref && mkdir ref
		python3 "$ROOT/tests/qwen3_ref.py" --all ref <"$f"
		for think in keep drop last; do
			for per in "" --per-turn; do
				for args in object string; do
					ise-export -f qwen3 --think $think $per --arguments $args "$f" >c.jsonl
					cmp c.jsonl "ref/$think${per:+-per-turn}-$args.jsonl" ||
						fail "$f --think $think $per --arguments $args differs"
					n=$((n + $(wc -l <c.jsonl)))
				done
			done
		done
	done
	assert_equal "$n" $(((6 + 28) * 3 * 2 * 2))
	# what the reference checks is there to check
	ise-export -f qwen3 "$RICH" | jq -r .text >k.txt
	ise-export -f qwen3 --think drop "$RICH" | jq -r .text >d.txt
	grep -q '^</tool_response>$' k.txt && grep -c '^<tool_response>$' k.txt | grep -qv '^0$'
	[ "$(grep -c '^<|im_start|>user$' k.txt)" -gt 0 ] # tool results in a user turn
	grep -qF '"ratio": 1.0, "tiny": 1e-07, "huge": 1.5e+16, "big": 12345678901234567890, "text": "naïve ✓\u0001"}' k.txt
	grep -qF '"minimum": -0.0, "maximum": 1e+22, "multipleOf": 0.0001, "description": "größe «x»"' k.txt
	grep -qE '^Let me check that — [0-9]+\.$' k.txt
	[ "$(grep -c '^<think>$' k.txt)" -gt "$(grep -c '^<think>$' d.txt)" ]
	# the same trajectories freshly simulated
	filter_input ise-sim 3 2>/dev/null | ise-sim --offline --no-timings 2>/dev/null >sim.jsonl
	[ "$(wc -l <sim.jsonl)" -eq 3 ]
	ise-export -f qwen3 --per-turn sim.jsonl >c.jsonl
	python3 "$ROOT/tests/qwen3_ref.py" --per-turn <sim.jsonl >p.jsonl
	cmp c.jsonl p.jsonl
}

@test "qwen3: spans are the assistant turns, from after their header to their <|im_end|>" {
	three_turns >t.jsonl
	run -0 ise-export -f qwen3 t.jsonl
	run -0 jq -r '.text as $t | .spans[] | $t[.[0]:.[1]] | @json' <<<"$output"
	assert_output '"<tool_call>\n{\"name\": \"exec\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call><|im_end|>"
"a and b.<|im_end|>"
"It is empty.<|im_end|>"
"<think>\nr3\n</think>\n\nYou are welcome.<|im_end|>"'
	# one sample a turn: only its own turn, with its reasoning
	run -0 ise-export -f qwen3 --per-turn t.jsonl
	run -0 jq -r '.id + " " + (.text as $t | [.spans[] | $t[.[0]:.[1]]] | @json)' <<<"$output"
	assert_output 't3#1 ["<think>\nr1a\n</think>\n\n<tool_call>\n{\"name\": \"exec\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call><|im_end|>","<think>\nr1b\n</think>\n\na and b.<|im_end|>"]
t3#2 ["<think>\nr2\n</think>\n\nIt is empty.<|im_end|>"]
t3#3 ["<think>\nr3\n</think>\n\nYou are welcome.<|im_end|>"]'
	# characters, not bytes
	sed 's/It is empty/Ça é vide ✓/' t.jsonl >u.jsonl
	run -0 ise-export -f qwen3 u.jsonl
	run -0 jq -r '.text as $t | .spans[2] | $t[.[0]:.[1]]' <<<"$output"
	assert_output "Ça é vide ✓.<|im_end|>"
}

@test "--per-turn: every reasoning block of the input once across the samples, history untrained" {
	for f in openai messages; do
		ise-export -f $f --per-turn "$RICH" >p.jsonl
		run -0 python3 "$CHECK" reasoning "$RICH" p.jsonl
		assert_output "reasoning: 88 blocks, each exactly once"
	done
	# without it the blocks are all in the one sample (keep), or gone (drop)
	ise-export -f openai "$RICH" >w.jsonl
	run -0 python3 "$CHECK" reasoning "$RICH" w.jsonl
	ise-export -f openai --think drop "$RICH" >d.jsonl
	run -1 python3 "$CHECK" reasoning "$RICH" d.jsonl
	# a sample a user turn, ids ID#N, the turns before it weight 0
	assert_equal "$(ise-export -f openai --per-turn "$DEMO" | wc -l)" \
		"$(jq '[.messages[] | select(.role == "user")] | length' "$DEMO" | paste -sd+ | bc)"
	three_turns >t.jsonl
	run -0 ise-export -f openai --per-turn t.jsonl
	run -0 jq -c '[.id, [.messages[] | select(.role == "assistant") | [.weight, .reasoning_content]]]' <<<"$output"
	assert_output '["t3#1",[[1,"r1a"],[1,"r1b"]]]
["t3#2",[[0,null],[0,null],[1,"r2"]]]
["t3#3",[[0,null],[0,null],[0,null],[1,"r3"]]]'
	# --think last keeps what follows the last request
	run -0 ise-export -f openai --think last t.jsonl
	assert_equal "$(jq -c '[.messages[] | select(.role == "assistant") | .reasoning_content]' <<<"$output")" '[null,null,null,"r3"]'
	# sharegpt: the same turn's <think> blocks only
	run -0 ise-export -f sharegpt --per-turn t.jsonl
	assert_equal "$(jq -c '[.conversations[].value | select(startswith("<think>")) | split("\n")[1]]' <<<"$output" | tr '\n' ' ')" \
		'["r1a","r1b"] ["r2"] ["r3"] '
}

@test "--split: stable under sharding, parallel --pipe gives the files of one process; the seed draws again" {
	parallel --version 2>/dev/null | grep -q 'GNU parallel' || skip "GNU parallel not installed"
	# 600 small trajectories and the demo's
	filter_input ise-export 600 >in.jsonl
	cat "$DEMO" >>in.jsonl
	run -0 ise-export -f openai --per-turn --split train=0.8,validation=0.15,test=0.05 -o one in.jsonl
	[ "$(cat one/*.jsonl | wc -l)" -eq "$(ise-export -f openai --per-turn in.jsonl | wc -l)" ]
	n=$(wc -l <one/train.jsonl)
	[ "$n" -gt 440 ] && [ "$n" -lt 540 ] || fail "train has $n of 606 trajectories"
	[ -s one/validation.jsonl ] && [ -s one/test.jsonl ]
	# all the samples of a trajectory in one split
	[ -z "$(cat one/*.jsonl | jq -r '.id | split("#")[0]' | sort -u | uniq -d)" ]
	for s in train validation test; do
		jq -r '.id | split("#")[0]' one/$s.jsonl | sort -u >ids.$s
	done
	[ -z "$(comm -12 ids.train ids.validation)$(comm -12 ids.train ids.test)$(comm -12 ids.validation ids.test)" ]
	# four shards, in input order
	parallel --pipe -k -N 152 ise-export -f openai --per-turn --split train=0.8,validation=0.15,test=0.05 \
		-o shard{#} <in.jsonl
	[ -d shard4 ] && [ ! -d shard5 ]
	for s in train validation test; do
		cat shard1/$s.jsonl shard2/$s.jsonl shard3/$s.jsonl shard4/$s.jsonl | cmp - one/$s.jsonl
	done
	# and in another order, the same records land in the same split
	tac in.jsonl >rev.jsonl
	ise-export -f openai --per-turn --split train=0.8,validation=0.15,test=0.05 -o rev rev.jsonl
	for s in train validation test; do
		assert_same_json <(sort rev/$s.jsonl) <(sort one/$s.jsonl)
	done
	# another seed, another draw; the same seed, the same
	ise-export -f openai -s 2 --split train=0.8,validation=0.15,test=0.05 -o s2 in.jsonl
	ise-export -f openai -s 0x2 --split train=0.8,validation=0.15,test=0.05 -o s2b in.jsonl
	cmp s2/train.jsonl s2b/train.jsonl
	jq -r .id s2/train.jsonl | sort >ids.s2
	run -1 cmp -s ids.s2 ids.train
	ise-export -f openai --split train=0.8,validation=0.15,test=0.05 -o s1 in.jsonl
	cmp <(jq -r .id s1/train.jsonl | sort) ids.train
}

@test "--resume with --split completes every file without duplicates" {
	ise-export -f messages --per-turn --split a=0.5,b=0.5 -o full "$DEMO"
	mkdir part
	head -n 3 full/a.jsonl >part/a.jsonl
	{ head -n 2 full/b.jsonl; sed -n 3p full/b.jsonl | head -c 50; } >part/b.jsonl
	run -0 --separate-stderr ise-export -f messages --per-turn --split a=0.5,b=0.5 -o part --resume "$DEMO"
	[[ $stderr == *"part/b.jsonl: cutting a torn last line"* ]] || fail "$stderr"
	cmp part/a.jsonl full/a.jsonl
	cmp part/b.jsonl full/b.jsonl
}

@test "--verified-only and --clean-only keep what the checks passed and the audit did not flag" {
	ise-audit "$DEMO" >audited.jsonl
	# one not verified, one flagged (a drifting user), one without either field
	jq -c 'if .id == "intent_674e0850587431b7" then .verification.verified = false
		elif .id == "intent_4abae8de416288ee" then .audit.flags = ["role_drift"]
		elif .id == "intent_8261d2c3c2a3156a" then del(.audit, .verification) else . end' audited.jsonl >in.jsonl
	run -0 --separate-stderr ise-export -f messages --verified-only in.jsonl
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$(jq -r 'select(.verification.verified == true) | .id' in.jsonl | tr '\n' ' ')"
	assert_equal "${#lines[@]}" 4
	run -0 --separate-stderr ise-export -f messages --clean-only in.jsonl
	assert_equal "${#lines[@]}" 4
	refute_output --partial intent_4abae8de416288ee
	run -0 --separate-stderr ise-export -f messages --clean-only --verified-only in.jsonl
	assert_equal "${#lines[@]}" 3
	assert_equal "$stderr" ""
	# none has the field: a warning says why nothing came out
	run -0 --separate-stderr ise-export -f messages --clean-only "$DEMO"
	assert_output ""
	assert_equal "$stderr" "ise-export: --clean-only: no record has an 'audit' (ise-audit), so none was kept"
	run -0 --separate-stderr ise-export -f messages --verified-only <(jq -c 'del(.verification)' "$DEMO")
	[[ $stderr == *"--verified-only: no record has a 'verification'"* ]]
}

@test "--weight-zero: the turns ise-audit flagged are not trained (weight 0, no span)" {
	three_turns | ise-audit >t.jsonl
	jq -e '.audit.flags == ["role_drift"] and .audit.role_drift[0].message == 5' t.jsonl
	run -0 ise-export -f openai --weight-zero role_drift t.jsonl
	assert_equal "$(jq -c '[.messages[] | select(.role == "assistant") | .weight]' <<<"$output")" '[1,1,0,1]'
	run -0 ise-export -f openai --weight-zero stagnation,secrets t.jsonl
	assert_equal "$(jq -c '[.messages[] | select(.role == "assistant") | .weight]' <<<"$output")" '[1,1,1,1]'
	run -0 ise-export -f qwen3 --weight-zero all t.jsonl
	assert_equal "$(jq -r '.text as $t | [.spans[] | $t[.[0]:.[1]]] | join("|")' <<<"$output")" \
		"$(printf '<tool_call>\n{"name": "exec", "arguments": {"command": "ls"}}\n</tool_call><|im_end|>|a and b.<|im_end|>|<think>\nr3\n</think>\n\nYou are welcome.<|im_end|>')"
	# tool calls left as text: the turn of the message that holds them
	jq -c '.messages[6].content = "<tool_call>\n{\"name\": \"exec\", \"arguments\": {\"command\": \"ls a\"}}\n</tool_call>"' \
		<(three_turns) | ise-audit >x.jsonl
	jq -e '.audit.flags == ["role_drift", "text_tool_calls"]' x.jsonl
	run -0 ise-export -f openai --weight-zero text_tool_calls x.jsonl
	assert_equal "$(jq -c '[.messages[] | select(.role == "assistant") | .weight]' <<<"$output")" '[1,1,0,1]'
	# stagnation: the turn of the run of identical calls
	ise-audit "$ROOT/tests/fixtures/audit/stagnation.jsonl" >s.jsonl
	run -0 ise-export -f openai --weight-zero stagnation s.jsonl
	jq -e '[.messages[] | select(.role == "assistant") | .weight] | all(. == 0)' <<<"$output"
	# without an audit: trained whole, and said once
	three_turns >plain.jsonl
	run -0 --separate-stderr ise-export -f openai --weight-zero all plain.jsonl plain.jsonl
	assert_equal "$stderr" "ise-export: plain.jsonl:1: id 't3' repeats plain.jsonl:1 (--resume would keep one of them)
ise-export: --weight-zero: 2 records have no 'audit' (ise-audit): all their turns are trained"
}

@test "bad trajectories are reported with FILE:LINE and skipped, in every format; the rest go on" {
	good=$(head -n 1 "$DEMO")
	{
		echo "$good"
		cat <<-'EOF'
			{"id":"b1","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c9","content":"r"},{"role":"assistant","content":"y"}]}
			{"id":"b2","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"exec","arguments":"{not json"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}]}
			{"id":"b3","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"exec","arguments":"[1,2]"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}]}
			{"id":"b4","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"exec","arguments":"{}"}}]},{"role":"assistant","content":"y"}]}
			{"id":"b5","messages":[{"role":"user","content":"x"}]}
			{"id":"b6","messages":"none"}
			{"id":"b7","messages":[{"role":"user","content":"x"},{"role":"critic","content":"y"}]}
			{"id":"b8","messages":[{"role":"user","content":"x"},{"role":"system","content":"y"},{"role":"assistant","content":"z"}]}
			{"id":"b9","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"exec","arguments":"{\"a\":\"\\u0000\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}]}
			{"id":"b10","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y","weight":0.5}]}
		EOF
		echo "$good" | jq -c '.id = "last"'
	} >bad.jsonl
	want="ise-export: bad.jsonl:2: message 1: tool message for 'c9', which is no call of the assistant message before it
ise-export: bad.jsonl:3: message 1: call 'c1': arguments are not JSON
ise-export: bad.jsonl:4: message 1: call 'c1': arguments are not a JSON object
ise-export: bad.jsonl:5: call 'c1' has no tool message with its result
ise-export: bad.jsonl:6: no assistant message: nothing to train on
ise-export: bad.jsonl:7: record without a 'messages' array
ise-export: bad.jsonl:8: message 1: unknown role 'critic'
ise-export: bad.jsonl:9: message 1: a system message that is not the first
ise-export: bad.jsonl:10: message 1: call 'c1': arguments hold a NUL character
ise-export: bad.jsonl:11: message 1: weight is not 0 or 1"
	for f in openai sharegpt messages qwen3; do
		run -1 --separate-stderr ise-export -f $f bad.jsonl
		assert_equal "$stderr" "$want"
		assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "$(head -n 1 "$DEMO" | jq -r .id) last "
	done
	run -1 --separate-stderr ise-export -f openai --strict bad.jsonl
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "${#lines[@]}" 1
}

@test "the reference pipeline's records: ids from intent_id, arguments as objects, tool names" {
	cat >ref.jsonl <<-'EOF'
		{"status":"completed","session_id":"intent_a1__w1__u","intent_id":"intent_a1","total_steps":1,"enable_thinking":true,"messages":[{"role":"user","content":"Free space?"},{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"exec","arguments":{"command":"df -h /","timeout":1.0}}}],"reasoning_content":"df."},{"role":"tool","name":"exec","tool_call_id":"call_1","content":"/ 10G","success":true},{"role":"assistant","content":"10G free."}],"tools":[{"type":"function","function":{"name":"exec","parameters":{"type":"object","properties":{"command":{"type":"string"}}}}}],"skills":[],"final_output":"10G free."}
		{"status":"completed","session_id":"intent_b2__w1__u","total_steps":0,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello."}],"tools":[]}
	EOF
	run -0 ise-export -f openai ref.jsonl
	assert_equal "$(jq -r .id <<<"$output" | tr '\n' ' ')" "intent_a1 intent_b2__w1__u "
	assert_equal "$(head -n 1 <<<"$output" | jq -c '.messages[1].tool_calls[0].function.arguments')" '"{\"command\":\"df -h /\",\"timeout\":1.0}"'
	assert_equal "$(head -n 1 <<<"$output" | jq -c '.messages[2] | keys')" '["content","role","tool_call_id"]'
	run -0 ise-export -f qwen3 ref.jsonl
	python3 "$ROOT/tests/qwen3_ref.py" <ref.jsonl | diff - <(printf '%s\n' "$output")
	run -0 python3 "$CHECK" sharegpt <(ise-export -f sharegpt ref.jsonl)
}

@test "numbers in tools and arguments pass through as their text; the Qwen3 text prints them as Python does" {
	echo '{"id":"n","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"number","minimum":1.50,"maximum":1E5,"default":8999999999999999}}}}}],"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"x\": 1.50, \"y\": -0, \"z\": 1e400}"}}]},{"role":"tool","tool_call_id":"1","content":"ok"},{"role":"assistant","content":"done"}]}' >n.jsonl
	for f in openai messages; do
		run -0 ise-export -f $f n.jsonl
		assert_output --partial '"minimum":1.50,"maximum":1E5,"default":8999999999999999'
		assert_output --partial '"arguments":"{\"x\": 1.50, \"y\": -0, \"z\": 1e400}"'
	done
	run -0 ise-export -f messages --arguments object n.jsonl
	assert_output --partial '"arguments":{"x":1.50,"y":-0,"z":1e400}'
	run -0 ise-export -f sharegpt n.jsonl
	assert_output --partial '\"minimum\":1.50,\"maximum\":1E5,\"default\":8999999999999999'
	assert_output --partial '{\"name\":\"f\",\"arguments\":{\"x\":1.50,\"y\":-0,\"z\":1e400}}'
	run -0 ise-export -f qwen3 n.jsonl
	assert_output --partial '\"minimum\": 1.5, \"maximum\": 100000.0, \"default\": 8999999999999999}'
	assert_output --partial '\"arguments\": {\"x\": 1.5, \"y\": 0, \"z\": Infinity}}'
	python3 "$ROOT/tests/qwen3_ref.py" <n.jsonl | diff - <(printf '%s\n' "$output")
}

@test "--card: front matter Hugging Face reads, the summary's statistics, the recipe and the limits" {
	ise-audit "$DEMO" >audited.jsonl
	ise-audit --summary audited.jsonl >summary.json
	mkdir out
	run -0 ise-export -f sharegpt --split train=0.5,validation=0.5 --card out/README.md \
		--summary summary.json --language en,fr -o out audited.jsonl
	run -0 awk 'NR == 1 && /^---$/ { f = 1; next } f && /^---$/ { exit } f' out/README.md
	assert_output "pretty_name: \"out\"
language:
- en
- fr
task_categories:
- text-generation
tags:
- agent
- tool-use
- synthetic
- ise
size_categories:
- n<1K
configs:
- config_name: default
  data_files:
  - split: train
    path: \"train.jsonl\"
  - split: validation
    path: \"validation.jsonl\""
	run -0 cat out/README.md
	assert_output --partial "| train | $(wc -l <out/train.jsonl) | $(wc -c <out/train.jsonl) |"
	assert_output --partial "| trajectories | 6 |"
	assert_output --partial "| user turns (mean, median, max) | $(jq -r '.user_turns | "\(.mean), \(.median), \(.max)"' summary.json) |"
	assert_output --partial "| verified by the tasks' checks (of trajectories with checks, rate) | 6 of 6, 1 |"
	assert_output --partial "| text_tool_calls (trajectories, share) | 0, 0 |"
	assert_output --partial "| clean of every flag (trajectories, share) | "
	assert_output --partial "Tools by share of calls: \`exec\` "
	assert_output --partial "ise-export -f sharegpt --split train=0.5,validation=0.5 --card out/README.md"
	assert_output --partial "This export read 6 records: 6 exported as 6 samples, 0 could not be exported"
	assert_output --partial "- 6 trajectories come from the offline engine"
	assert_output --partial "- No assistant message has reasoning."
	# a card elsewhere names the files from its own folder; no summary, said so
	mkdir card
	ise-export -f messages --per-turn --card card/README.md -o data.jsonl "$RICH"
	run -0 cat card/README.md
	assert_output --partial 'path: "../data.jsonl"'
	assert_output --partial "None were given"
	assert_output --partial "not in the card's folder"
	refute_output --partial "No assistant message has reasoning"
	assert_equal "$(grep -A1 '^size_categories:' card/README.md | tail -n 1)" "- n<1K"
}
