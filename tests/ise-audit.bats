#!/usr/bin/env bats
# ise-audit: each check on hand-written fixtures (tests/fixtures/audit/),
# output selection, redaction, the corpus summary and its bounded memory.
load helper

FIX="$ROOT/tests/fixtures/audit"

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# The audit objects of FILE's records, compared with the expected ones.
assert_audit() { # FILE EXPECTED [OPTIONS...]
	local file=$1 want=$2
	shift 2
	run -0 --separate-stderr ise-audit "$@" "$file"
	assert_equal "$stderr" ""
	diff <(echo "$output" | jq -cS .audit) <(jq -cS . "$want")
}

# N trajectories of 1-9 user turns, each turn a call of one of 12 tools.
gen() {
	awk -v n="$1" 'BEGIN {
		split("exec read write edit list_dir grep glob web_fetch web_search process cron memory_get", tool, " ")
		for (i = 0; i < n; i++) {
			printf "{\"id\":\"g%d\",\"messages\":[{\"role\":\"system\",\"content\":\"You run tools.\"}", i
			for (t = 0; t < 1 + i % 9; t++) {
				name = tool[1 + (i * 7 + t * 5) % 12]
				printf ",{\"role\":\"user\",\"content\":\"step %d of job %d\"}", t, i
				printf ",{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c%d\",\"type\":\"function\",\"function\":{\"name\":\"%s\",\"arguments\":\"{\\\"n\\\":%d}\"}}]}", t, name, t
				printf ",{\"role\":\"tool\",\"tool_call_id\":\"c%d\",\"content\":\"output %d\"}", t, i
				printf ",{\"role\":\"assistant\",\"content\":\"done %d\"}", t
			}
			printf "]}\n"
		}
	}'
}

@test "a clean trajectory: no flag, every member present and empty" {
	assert_audit "$FIX/clean.jsonl" "$FIX/clean.audit.json"
}

@test "the input bytes are kept exactly and audit is appended as the last member" {
	run -0 ise-audit "$FIX/clean.jsonl"
	input=$(cat "$FIX/clean.jsonl")
	[[ $output == "${input%\}}"',"audit":{"flags":[],'* ]] || fail "output does not extend the input: $output"
	[[ $output == *'"big":12345678901234567890,  "spacing" : [1.50, 2e3],"audit":'* ]]
}

@test "role drift: user turns only, case, white space, U+2019, word boundaries, content parts" {
	assert_audit "$FIX/drift.jsonl" "$FIX/drift.audit.json"
}

@test "stagnation: three identical consecutive calls across messages; --stagnation N" {
	assert_audit "$FIX/stagnation.jsonl" "$FIX/stagnation.audit.json"
	run -0 ise-audit --stagnation 4 "$FIX/stagnation.jsonl"
	assert_equal "$(echo "$output" | jq -c '[.audit.flags, .audit.stagnation.max_run]')" '[[],3]'
	run -0 ise-audit --stagnation 2 "$FIX/edges.jsonl"
	assert_equal "$(echo "$output" | jq -r 'select(.audit.flags | index(["stagnation"])) | .id' | tr '\n' ' ')" \
		"e3-null-args e8-object-args-stagnate "
	run -2 --separate-stderr ise-audit --stagnation 1 "$FIX/clean.jsonl"
	assert_equal "${stderr_lines[0]}" "ise-audit: invalid value for --stagnation: '1' (an integer from 2 to 1000000)"
}

@test "integrity: bad calls and arguments, missing, orphan and second results, duplicate ids, order" {
	assert_audit "$FIX/integrity.jsonl" "$FIX/integrity.audit.json"
}

@test "the paper's format (object arguments, success, parts, no system) is read as it is" {
	assert_audit "$FIX/paper.jsonl" "$FIX/paper.audit.json"
}

@test "edge cases: no calls, \"{}\" and \"null\" arguments, unknown ids, a secret in tool output, near misses" {
	assert_audit "$FIX/edges.jsonl" "$FIX/edges.audit.jsonl"
}

@test "text_tool_calls: tool-call markup left in an assistant's text, in each format; JSON answers and user text are not" {
	tools='[{"type":"function","function":{"name":"exec","parameters":{"type":"object"}}}]'
	for text in '<tool_call>\n{"name": "exec", "arguments": {"command": "ls"}}\n</tool_call>:hermes' \
		'<tool_call>\n<function=exec>\n<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>:qwen3_coder' \
		'Sure. [TOOL_CALLS][{"name": "exec", "arguments": {"command": "ls"}}]:mistral' \
		'{"name": "exec", "parameters": {"command": "ls"}}:llama_json'; do
		jq -cn --arg t "${text%:*}" --argjson tools "$tools" '{id: "t", tools: $tools, messages: [
			{role: "user", content: "List the files."}, {role: "assistant", content: ($t | gsub("\\\\n"; "\n"))}]}' >t.jsonl
		run -0 ise-audit t.jsonl
		jq -e --arg f "${text##*:}" '.audit.flags == ["text_tool_calls"] and
			.audit.text_tool_calls == [{message: 1, format: $f}]' <<<"$output" || fail "$text: $output"
	done
	# JSON that names no tool, a call with no arguments, markup a user wrote
	# or the assistant only thought about: no flag
	jq -cn --argjson tools "$tools" '{id: "u", tools: $tools, messages: [
		{role: "user", content: "What does <tool_call> mean?"},
		{role: "assistant", content: "<think>\nI could emit <tool_call> here.\n</think>\n\nIt wraps a call."},
		{role: "assistant", content: "{\"name\": \"Ada\", \"parameters\": {\"age\": 3}}"},
		{role: "assistant", content: "{\"name\": \"exec\"}"}]}' >u.jsonl
	run -0 ise-audit u.jsonl
	jq -e '.audit.flags == [] and .audit.text_tool_calls == []' <<<"$output"
	run -0 ise-audit --summary t.jsonl u.jsonl
	jq -e '.flags.text_tool_calls == {trajectories: 1, share: 0.5}' <<<"$output"
}

@test "secrets: every kind, in messages, arguments (string and object) and top-level fields" {
	assert_audit "$FIX/secrets.jsonl" "$FIX/secrets.audit.json"
	# the report says where, never what
	run -0 ise-audit "$FIX/secrets.jsonl"
	audit=$(echo "$output" | jq -c .audit)
	for s in hunter2 S3cret AKIAIOSFODNN7EXAMPLE ghp_ sk-proj eyJ b3BlbnNz wJalr; do
		[[ $audit != *"$s"* ]] || fail "the audit shows $s"
	done
	# each path is a jq path to the string, whatever its keys
	echo '{"messages":[],"a key":{"k\"x":["ghp_1234567890abcdefghijklmnopqrstuvwxyz"]}}' >odd.jsonl
	cat "$FIX/secrets.jsonl" odd.jsonl >both.jsonl
	ise-audit both.jsonl >audited.jsonl
	assert_equal "$(jq -r '.audit.secrets[-1].path' audited.jsonl | tail -n 1)" '.["a key"]["k\"x"][0]'
	while read -r path; do
		run -0 jq -s -e "[.[] | $path | strings] | length == 1" both.jsonl
	done < <(jq -r '.audit.secrets[].path' audited.jsonl)
}

@test "--redact replaces each secret by its marker; redacted output audits clean" {
	run -0 ise-audit --redact "$FIX/secrets.jsonl"
	diff <(echo "$output" | jq -cS 'del(.audit)') <(jq -cS . "$FIX/secrets.redacted.jsonl")
	assert_equal "$(echo "$output" | jq -c .audit.flags)" '["secrets"]'
	echo "$output" >redacted.jsonl
	run -0 ise-audit redacted.jsonl
	assert_equal "$(echo "$output" | jq -c '[.audit.flags, .audit.secrets]')" '[[],[]]'
	# records without secrets keep their bytes under --redact
	run -0 ise-audit --redact "$FIX/clean.jsonl"
	[[ $output == *'"big":12345678901234567890,  "spacing" : [1.50, 2e3],"audit":'* ]]
}

@test "--redact of a private key with no END line stays inside its value; AWS's documented example keys are not secrets" {
	printf '%s\n' '{"id":"a","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"write","arguments":"{\"content\":\"-----BEGIN RSA PRIVATE KEY-----\\nMIIabcdef\\nQQQ\",\"path\":\"k.pem\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n"},{"role":"user","content":"keys: aws_key=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]}' >k.jsonl
	run -0 ise-audit --redact k.jsonl
	jq -e . <<<"$output" >/dev/null
	assert_equal "$(jq -r '.messages[0].tool_calls[0].function.arguments | fromjson | [.content, .path] | join(" ")' <<<"$output")" \
		"[REDACTED:private-key] k.pem"
	assert_equal "$(jq -r '.messages[1].content' <<<"$output")" "[REDACTED:private-key]"
	assert_equal "$(jq -r '.messages[2].content' <<<"$output")" \
		"keys: aws_key=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	assert_equal "$(jq -c '[.audit.secrets[].kind]' <<<"$output")" '["private-key","private-key"]'
	# the catalog's pre-commit hook task, played offline, is clean
	filter_input ise-sim 1 | jq -c --slurpfile c "$ROOT/share/ise/catalog.json" \
		'.tasks = [$c[0].tasks[] | select(.id == "add-pre-commit-hook") | {id, name, domain, description, tools}]' >hook.jsonl
	ise-sim --offline --no-timings hook.jsonl 2>/dev/null >t.jsonl
	grep -q AKIAIOSFODNN7EXAMPLE t.jsonl
	run -0 ise-audit t.jsonl
	assert_equal "$(jq -c .audit.secrets <<<"$output")" "[]"
}

@test "an audit already in the record is replaced, not repeated" {
	ise-audit "$FIX/drift.jsonl" "$FIX/clean.jsonl" >once.jsonl
	run -0 ise-audit once.jsonl
	assert_equal "$output" "$(cat once.jsonl)"
	assert_equal "$(echo "$output" | grep -o '"audit":' | wc -l)" 2
}

@test "--drop-flagged keeps clean trajectories, --flagged FILE gets the others, together a split" {
	cat "$FIX"/{clean,drift,stagnation,paper,secrets}.jsonl >all.jsonl
	run -0 ise-audit all.jsonl
	assert_equal "${#lines[@]}" 5
	run -0 ise-audit --drop-flagged all.jsonl
	assert_equal "$(echo "$output" | jq -r '.id // .session_id' | tr '\n' ' ')" "clean-1 intent_ab12cd34__w0__5f0c "
	run -0 ise-audit --flagged flagged.jsonl all.jsonl
	assert_equal "${#lines[@]}" 5
	assert_equal "$(jq -r .id flagged.jsonl | tr '\n' ' ')" "drift-1 stag-1 secret-1 "
	run -0 ise-audit --drop-flagged --flagged flagged.jsonl -o clean.jsonl all.jsonl
	assert_equal "$(wc -l <clean.jsonl) $(wc -l <flagged.jsonl)" "2 3"
	assert_equal "$(jq -c .audit.flags flagged.jsonl | tr '\n' ' ')" '["role_drift"] ["stagnation"] ["secrets"] '
	run -2 --separate-stderr ise-audit --flagged same.jsonl -o same.jsonl all.jsonl
	assert_equal "${stderr_lines[0]}" "ise-audit: --flagged and --output name the same file"
}

@test "--resume completes both the output and the --flagged file without duplicates" {
	cat "$FIX"/{clean,drift,stagnation,secrets}.jsonl "$FIX/edges.jsonl" >all.jsonl
	ise-audit --drop-flagged --flagged fl-full.jsonl -o out-full.jsonl all.jsonl
	head -n 2 out-full.jsonl >out.jsonl
	head -n 3 fl-full.jsonl >fl.jsonl
	run -0 ise-audit --drop-flagged --flagged fl.jsonl -o out.jsonl --resume all.jsonl
	assert_same_json out.jsonl out-full.jsonl
	assert_same_json fl.jsonl fl-full.jsonl
	# without --drop-flagged a flagged record goes to both; a crash between them is healed
	ise-audit --flagged both-fl.jsonl -o both.jsonl all.jsonl
	head -n 4 both.jsonl >b.jsonl
	head -n 3 both-fl.jsonl >bf.jsonl
	run -0 ise-audit --flagged bf.jsonl -o b.jsonl --resume all.jsonl
	assert_same_json b.jsonl both.jsonl
	assert_same_json bf.jsonl both-fl.jsonl
	# --resume needs ids
	run -1 --separate-stderr ise-audit -o p.jsonl --resume "$FIX/paper.jsonl"
	assert_equal "$stderr" "ise-audit: $FIX/paper.jsonl:1: record without a string 'id' (--resume needs one)"
}

@test "a record without a messages array is a bad record; the others are audited" {
	{ cat "$FIX/clean.jsonl"; echo '{"id":"x","messages":"hello"}'; cat "$FIX/drift.jsonl"; } >in.jsonl
	run -1 --separate-stderr ise-audit <in.jsonl
	assert_equal "$stderr" "ise-audit: <stdin>:2: no 'messages' array: not a trajectory"
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "clean-1 drift-1 "
}

@test "--summary: Table 3, structure and flag rates of a small corpus, computed by hand" {
	run -0 --separate-stderr ise-audit --summary --rejects "$FIX/corpus.rejects.jsonl" \
		--matrix matrix.tsv "$FIX/corpus.jsonl"
	assert_equal "${#lines[@]}" 1
	diff <(echo "$output" | jq -cS .) <(jq -cS . "$FIX/corpus.summary.json")
	cmp matrix.tsv "$FIX/corpus.matrix.tsv"
	# without --rejects there is no completion rate; the median of 1, 3, 1 is 1
	run -0 ise-audit --summary <(head -n 3 "$FIX/corpus.jsonl")
	assert_equal "$(echo "$output" | jq -c '[.completion, .user_turns.median, .user_turns.mean]')" '[null,1,1.666667]'
}

@test "--summary of nothing: zero counts, null means and shares" {
	run -0 ise-audit --summary </dev/null
	assert_equal "$(echo "$output" | jq -c '[.trajectories, .user_turns.mean, .user_turns.median, .tools, .flags.clean]')" \
		'[0,null,null,[],{"trajectories":0,"share":null}]'
}

@test "--matrix also works while writing records" {
	run -0 ise-audit --matrix m.tsv "$FIX/corpus.jsonl"
	assert_equal "${#lines[@]}" 4
	cmp m.tsv "$FIX/corpus.matrix.tsv"
}

@test "options that do not go together are usage errors" {
	run -2 --separate-stderr ise-audit --summary --redact "$FIX/clean.jsonl"
	assert_equal "${stderr_lines[0]}" "ise-audit: --summary writes no records: it cannot be combined with --redact, --drop-flagged, --flagged or --resume"
	run -2 ise-audit --summary --drop-flagged "$FIX/clean.jsonl"
	run -2 ise-audit --summary --flagged f.jsonl "$FIX/clean.jsonl"
	run -2 ise-audit --summary -o s.json --resume "$FIX/clean.jsonl"
	run -2 --separate-stderr ise-audit --rejects r.jsonl "$FIX/clean.jsonl"
	assert_equal "${stderr_lines[0]}" "ise-audit: --rejects needs --summary"
	assert_output ""
}

@test "tool names past the cap of 256 are counted as (other)" {
	awk 'BEGIN { for (i = 0; i < 300; i++)
		printf "{\"id\":\"t%d\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"tool%03d\",\"arguments\":{\"a\":1}}}]},{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":\"\"}]}\n", i, i }' >many.jsonl
	run -0 ise-audit --summary many.jsonl
	assert_equal "$(echo "$output" | jq -c '[(.tools | length), .tools[0], (.tools | map(.calls) | add), (.cooccurrence.tools | length)]')" \
		'[257,{"tool":"(other)","calls":44,"share":0.146667},300,257]'
}

@test "the built-in lexicon: 23 phrases with the paper's three, each one flags a user turn" {
	phrases=$(grep -v '^#' "$ROOT/share/ise/role-drift.txt" | grep .)
	assert_equal "$(echo "$phrases" | wc -l)" 23
	for p in "I can help you with" "I'd be happy to" "Sure, let me"; do
		echo "$phrases" | grep -qxF "$p" || fail "missing '$p'"
	done
	echo "$phrases" | jq -R -c '{id: ., messages: [{role: "user", content: ("Well. " + . + " now.")}]}' >each.jsonl
	run -0 ise-audit each.jsonl
	assert_equal "$(echo "$output" | jq -r '.audit.role_drift[0].phrase')" "$phrases"
	# the same phrases in assistant turns flag nothing
	echo "$phrases" | jq -R -c '{id: ., messages: [{role: "assistant", content: .}]}' >assistant.jsonl
	run -0 ise-audit --drop-flagged assistant.jsonl
	assert_equal "${#lines[@]}" 23
}

@test "--lexicon FILE: comments and blank lines ignored; a repeated phrase or none is a usage error" {
	printf '# mine\n\n  take   it   easy \nno worries\n' >lex.txt
	echo '{"id":"a","messages":[{"role":"user","content":"Take it\teasy, I can help you with that"}]}' >in.jsonl
	run -0 ise-audit --lexicon lex.txt in.jsonl
	assert_equal "$(echo "$output" | jq -c '[.audit.role_drift[].phrase]')" '["take it easy"]'
	printf 'no worries\n# again\nNo  Worries\n' >dup.txt
	run -2 --separate-stderr ise-audit --lexicon dup.txt in.jsonl
	assert_equal "$stderr" "ise-audit: dup.txt:3: phrase 'No Worries' appears twice"
	printf '# nothing\n\n' >none.txt
	run -2 --separate-stderr ise-audit --lexicon none.txt in.jsonl
	assert_equal "$stderr" "ise-audit: none.txt: no phrase in the lexicon"
	run -2 --separate-stderr ise-audit --lexicon no-such.txt in.jsonl
	assert_equal "$stderr" "ise-audit: cannot open 'no-such.txt': No such file or directory"
}

@test "memory does not grow with the corpus: 2,000 and 20,000 trajectories" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	gen 2000 >small.jsonl
	gen 20000 >large.jsonl
	# under AddressSanitizer freed memory waits in a quarantine (256 MB) on
	# purpose; without it the RSS shows what the program itself keeps
	export ASAN_OPTIONS=quarantine_size_mb=0:thread_local_quarantine_size_kb=0
	for mode in --summary --matrix=m.tsv; do
		small=$(/usr/bin/time -f %M ise-audit $mode small.jsonl 2>&1 >/dev/null)
		large=$(/usr/bin/time -f %M ise-audit $mode large.jsonl 2>&1 >/dev/null)
		echo "$mode: $small KB for 2,000, $large KB for 20,000"
		[ $((large - small)) -lt 4096 ] || fail "$mode: max RSS grew from $small KB to $large KB"
	done
	run -0 ise-audit --summary large.jsonl
	assert_equal "$(echo "$output" | jq -c '[.trajectories, .user_turns.max, .tool_calls.total, (.tools | length), .flags.clean.share]')" \
		'[20000,9,99993,12,1]'
}
