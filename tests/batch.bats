#!/usr/bin/env bats
# Batch files: --emit-requests writes the OpenAI batch input format,
# --responses finishes the records from the output format (vllm run-batch,
# the Batch API), against replies the fake server really gave.
load helper
load fake

setup_file() {
	export T40=$BATS_FILE_TMPDIR/t40.jsonl
	ise-persona -n 500 | ise-sample -n 40 >"$T40"
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
	run -0 ise-render --model m1 --words 1-5 --responses res1.jsonl --responses res2.jsonl \
		--resume -o out.jsonl "$T40"
	assert_equal "$(jq -r .id out.jsonl | sort -u | wc -l)" 40
	assert_equal "$(wc -l <out.jsonl)" 40
	# the online path, the same replies: the same records
	fake_reset
	ise-render --model m1 --words 1-5 "$T40" 2>/dev/null >online.jsonl
	cmp <(jq -cS . online.jsonl | sort) <(jq -cS . out.jsonl | sort)
	assert_equal "$(jq -r --arg b "$bad" 'select(.id == $b) | .render.attempts' out.jsonl)" 2
}
