# The fake OpenAI-compatible server (tests/fake_openai.py) for bats suites.
#
#   setup_file()    { fake_start --echo; }        # or a --tape, --rpm N, ...
#   teardown_file() { fake_stop; }
#   setup()         { fake_reset; }               # empty log, counters, tape
#
# fake_start exports OPENAI_BASE_URL (http://127.0.0.1:PORT/v1),
# OPENAI_API_KEY (a key whose text must never show up anywhere), FAKE_URL
# (without /v1), FAKE_LOG (the request log, one JSON line a request),
# FAKE_DIR and FAKE_PID.  A test that starts a second server with fake_start
# gets its own FAKE_DIR and variables; it should fake_stop it (teardown).

FAKE_PY="$BATS_TEST_DIRNAME/fake_openai.py"
FAKE_KEY=sk-test-SECRET-do-not-leak

# curl for control requests: never through a proxy, fail on an HTTP error.
fake_curl() {
	curl --noproxy '*' -sS --fail-with-body --max-time 10 "$@"
}

# fake_start [fake_openai.py options...]: start a server, wait for its port.
fake_start() {
	local base=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}} port i
	FAKE_DIR=$(mktemp -d "$base/fake.XXXXXX") || return 1
	: >"$FAKE_DIR/tape.jsonl"
	python3 "$FAKE_PY" --port 0 --port-file "$FAKE_DIR/port" --log "$FAKE_DIR/requests.jsonl" \
		--tape "$FAKE_DIR/tape.jsonl" "$@" \
		</dev/null >"$FAKE_DIR/stdout" 2>"$FAKE_DIR/stderr" 3>&- &
	FAKE_PID=$!
	echo "$FAKE_PID" >"$FAKE_DIR/pid"
	for ((i = 0; i < 100; i++)); do
		[ -s "$FAKE_DIR/port" ] && break
		if ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "fake_start: the server exited: $(cat "$FAKE_DIR/stderr")" >&2
			return 1
		fi
		sleep 0.05
	done
	port=$(cat "$FAKE_DIR/port" 2>/dev/null)
	if [ -z "$port" ]; then
		echo "fake_start: no port after 5 s: $(cat "$FAKE_DIR/stderr")" >&2
		kill "$FAKE_PID" 2>/dev/null
		return 1
	fi
	export FAKE_DIR FAKE_PID FAKE_LOG="$FAKE_DIR/requests.jsonl"
	export FAKE_URL="http://127.0.0.1:$port"
	export OPENAI_BASE_URL="$FAKE_URL/v1" OPENAI_API_KEY="$FAKE_KEY"
	export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
	export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
}

# fake_stop: SIGTERM the server started last, wait up to 2 s, then SIGKILL.
fake_stop() {
	local pid=${FAKE_PID:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 40; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# fake_tape FILE|STRING|-: replace the tape (JSONL; - or nothing: stdin).
fake_tape() {
	local src=${1:--}
	if [ "$src" = - ]; then
		fake_curl -o /dev/null --data-binary @- "$FAKE_URL/__fake/tape"
	elif [ -f "$src" ]; then
		fake_curl -o /dev/null --data-binary @"$src" "$FAKE_URL/__fake/tape"
	else
		printf '%s\n' "$src" | fake_curl -o /dev/null --data-binary @- "$FAKE_URL/__fake/tape"
	fi
}

# fake_reset: empty the log, zero the counters, reload the --tape file.
fake_reset() {
	fake_curl -o /dev/null -X POST "$FAKE_URL/__fake/reset"
}

# fake_shape JSON: behave as a real server does (SHAPES in fake_openai.py):
# loading for a while, a context window, TEI's limits; '{}' undoes it.
fake_shape() {
	printf '%s' "$1" | fake_curl -o /dev/null --data-binary @- "$FAKE_URL/__fake/shape"
}

# fake_stats: the stats object, one line of JSON.
fake_stats() {
	fake_curl "$FAKE_URL/__fake/stats"
	echo
}

# fake_requests [PATH]: how many requests the log holds (for PATH only).
fake_requests() {
	if [ ! -s "$FAKE_LOG" ]; then
		echo 0
		return
	fi
	jq -s --arg p "${1:-}" '[.[] | select($p == "" or .path == $p)] | length' "$FAKE_LOG"
}

# ---- tapes for ise-sim: the user simulator is model "sim", the agent "agent" ----

# A simulator reply: decision COMPLETED QUERY [REASON] [IS_SUCCESS]
decision() {
	jq -cn --argjson c "$1" --arg q "$2" --arg r "${3:-next step}" --argjson s "${4:-true}" \
		'{completed: $c, query: $q, reason: $r, is_success: $s}'
}

# Tape entries.  user_turn N QUERY: the simulator's reply to its Nth call;
# user_done: it completes (any call not matched before); agent_calls
# LAST_USER_RE CALLS_JSON: the agent's tool calls for that query; agent_says
# TEXT: its reply once a tool result came back.
user_turn() {
	jq -cn --arg n "message number $1 of" --arg c "$(decision false "$2")" \
		'{match: {model: "sim", contains: $n}, reply: {content: $c}, repeat: -1}'
}
user_done() {
	jq -cn --arg c "$(decision true "" "${1:-all done}" "${2:-true}")" \
		'{match: {model: "sim"}, reply: {content: $c}, repeat: -1}'
}
agent_calls() {
	jq -cn --arg re "$1" --argjson calls "$2" \
		'{match: {model: "agent", last_role: "user", last_user_re: $re}, reply: {tool_calls: $calls}, repeat: -1}'
}
agent_says() {
	jq -cn --arg c "$1" '{match: {model: "agent", last_role: "tool"}, reply: {content: $c}, repeat: -1}'
}

# probe: send the request $REQ through lib/llm (tests/unit/llm_probe) to the
# fake server, with bats's run; the API key never shows in what it prints.
probe() {
	run --separate-stderr "$ISE_TESTPROGS/llm_probe" <<<"$REQ"
	[[ $output$stderr != *SECRET* ]] || fail "the API key leaked: $output $stderr"
}
