# Shared setup for every bats suite: the built programs first on PATH,
# bats-support and bats-assert, and a few fixtures.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PATH="$ROOT/bin:$PATH"
export LC_ALL=C
# test drivers of lib/ (tests/unit/*.c), built by make check
ISE_TESTPROGS=${ISE_TESTPROGS:-$ROOT/build/std/tests}

# Every program in bin/, so suite-wide tests cover programs added later.
programs() {
	local p
	for p in "$ROOT"/bin/ise-*; do basename "$p"; done
}

# field FILTER: jq's raw answer to FILTER over the output of the last run.
field() {
	jq -r "$1" <<<"$output"
}

# A small persona pool, made once per suite.
pool() {
	local f="$BATS_FILE_TMPDIR/pool.jsonl"
	[ -s "$f" ] || ise-persona -n "${1:-200}" -o "$f"
	echo "$f"
}

# How each program runs as a filter over standard input with valid records:
# conventions.bats runs every program in bin/ this way, and fails for a
# program that has no entry here.
filter_args() {
	case $1 in
	ise-persona) echo "-" ;;
	ise-sample) echo "-n 5 -" ;;
	ise-audit) echo "-" ;;
	ise-render) echo "--offline -" ;;
	ise-exec) echo "--no-timings -" ;;
	ise-dedup) echo "-q -" ;;
	ise-vendi) echo "-" ;;
	ise-sim) echo "--offline --no-timings -" ;;
	ise-export) echo "--format messages -" ;;
	*) return 1 ;;
	esac
}

# N valid input records for that filter, distinct: 20 by default, 6 for
# ise-sim, whose records each play a trajectory in a sandbox.
filter_input() {
	case $1 in
	ise-persona | ise-sample) ise-persona -n "${2:-20}" ;;
	ise-render) ise-persona -n 300 | ise-sample -n "${2:-20}" ;;
	ise-exec) # tool calls in three workspaces, each printing its own id
		awk -v n="${2:-20}" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"call_%d\",\"workspace\":" \
			"\"w%d\",\"name\":\"exec\",\"arguments\":{\"command\":\"echo %d\"}}\n", i, i % 3, i }' ;;
	ise-sim) # one-task intents whose plans print the same bytes every run
		ise-persona -n "${2:-6}" | jq -c -n --slurpfile c "$ROOT/share/ise/catalog.json" '
			[$c[0].tasks[] | select(.id == ("write-colleague-recommendation", "draft-newsletter-issue",
				"update-config-value", "create-new-document", "validate-regex-pattern"))
				| {id, name, domain, description, tools}] as $t |
			foreach inputs as $p (-1; . + 1; {id: "intent_\(.)", persona: $p, tasks: [$t[. % ($t | length)]],
				natural_language_intent: "Please \($t[. % ($t | length)].description)"})' ;;
	ise-dedup) # distinct intents: every word 5-gram holds a numbered word
		awk -v n="${2:-20}" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"intent_%d\"," \
			"\"natural_language_intent\":\"Please archive folder f%d and mail report r%d to " \
			"user u%d before day d%d\"}\n", i, i, i, i, i }' ;;
	ise-vendi) # intents of a dozen words drawn from a small vocabulary
		awk -v n="${2:-20}" 'BEGIN { nw = split("list find compress archive rename count check sort " \
			"logs reports images backups invoices notes videos configs in under from older " \
			"than days weekly shared home server folder and then email summary", w)
			srand(7); for (i = 0; i < n; i++) { s = ""; for (k = 0; k < 12; k++)
			s = s w[int(rand() * nw) + 1] " "; printf "{\"id\":\"intent_%d\",\"natural_language_intent\":" \
			"\"%stask %d\"}\n", i, s, i } }' ;;
	ise-audit | ise-export) # small trajectories: a request, a tool call, its result, an answer
		awk -v n="${2:-20}" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"traj_%d\",\"messages\":[" \
			"{\"role\":\"user\",\"content\":\"list dir%d\"},{\"role\":\"assistant\",\"content\":\"\"," \
			"\"tool_calls\":[{\"id\":\"call_%d\",\"type\":\"function\",\"function\":{\"name\":\"exec\"," \
			"\"arguments\":\"{\\\"command\\\":\\\"ls dir%d\\\"}\"}}]},{\"role\":\"tool\"," \
			"\"tool_call_id\":\"call_%d\",\"content\":\"a.txt\"},{\"role\":\"assistant\"," \
			"\"content\":\"dir%d holds a.txt\"}]}\n", i, i, i, i, i, i }' ;;
	*) return 1 ;;
	esac
}

# Programs that write one summary of their input, not a record per record:
# conventions.bats checks -o for them, and that --resume is refused.
summary_program() {
	case $1 in
	ise-vendi) return 0 ;;
	*) return 1 ;;
	esac
}

# Programs that write another layout than their records' (a trainer's): a
# record's other fields are not in their output, so conventions.bats does
# not look for them there.
layout_program() {
	case $1 in
	ise-export) return 0 ;;
	*) return 1 ;;
	esac
}

# Compare two JSON Lines files record by record, key order ignored.
assert_same_json() {
	diff <(jq -cS . "$1") <(jq -cS . "$2")
}
