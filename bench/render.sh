#!/bin/sh
# ise-render against the fake server with 50 ms of latency per reply:
# throughput at -j 32 against -j 1 (target: at least 25x), and the client's
# CPU time per request.
. "$(dirname "$0")/lib.sh"
bin/ise-persona -n 500 | bin/ise-sample -n 2000 >"$out/render-tuples.jsonl"
head -n 100 "$out/render-tuples.jsonl" >"$out/render-100.jsonl"
rm -f "$out/fake.port"
python3 tests/fake_openai.py --port 0 --port-file "$out/fake.port" --echo --latency-ms 50 \
	--log /dev/null </dev/null >/dev/null 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$out/fake.port" ] && break; sleep 0.05; done
export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$out/fake.port")/v1" OPENAI_API_KEY=bench
run() { # jobs input -> "wall_seconds cpu_seconds requests"
	/usr/bin/time -f '%e %U %S' -o "$out/time" bin/ise-render --words 1-5 -j "$1" "$2" \
		>/dev/null 2>"$out/render.err"
	n=$(wc -l <"$2")
	awk -v n="$n" '{ print $1, $2 + $3, n }' "$out/time"
}
one=$(run 1 "$out/render-100.jsonl")
many=$(run 32 "$out/render-tuples.jsonl")
echo "ise-render against a fake server answering in 50 ms"
echo "$one $many" | awk '{
	r1 = $3 / $1; r32 = $6 / $4
	printf "  -j 1   %5d requests  %6.2f s  %7.1f requests/s  %.2f ms client CPU per request\n", $3, $1, r1, $2 / $3 * 1000
	printf "  -j 32  %5d requests  %6.2f s  %7.1f requests/s  %.2f ms client CPU per request\n", $6, $4, r32, $5 / $6 * 1000
	printf "  ratio  %.1fx   target: at least 25x -> %s\n", r32 / r1, (r32 / r1 >= 25 ? "met" : "NOT met")
}'

# The same against a server that serves 8 requests at once and refuses
# more with 429 (no Retry-After), as hosted APIs do past their limits
# (Ollama says 503 past its queue, taken alike): -j 64, whose limit on
# requests in flight comes down to what the server takes, against a fixed
# -j 8 (the server's size, known beforehand) and a fixed -j 64 (what -j
# did before the limit).
# Targets: -j 64 no slower than fixed -j 8, with at most 5% more requests
# than records.  The quickest of three runs each for those two, in turn.
rm -f "$out/busy.port"
python3 tests/fake_openai.py --port 0 --port-file "$out/busy.port" --echo --latency-ms 50 \
	--max-inflight 8 --over-inflight-status 429 --log /dev/null </dev/null >/dev/null 2>&1 &
busy=$!
trap 'kill $fake $busy 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$out/busy.port" ] && break; sleep 0.05; done
busy_url="http://127.0.0.1:$(cat "$out/busy.port")"
busy_run() { # options -> "seconds records requests refused exit_status"
	curl --noproxy '*' -sS -X POST "$busy_url/__fake/reset" >/dev/null
	s=$(now)
	rc=0
	OPENAI_BASE_URL="$busy_url/v1" timeout 300 bin/ise-render --words 1-5 "$@" \
		-o "$out/busy.jsonl" "$out/render-tuples.jsonl" 2>"$out/busy.err" || rc=$?
	e=$(now)
	curl --noproxy '*' -sS "$busy_url/__fake/stats" | jq -r --arg s "$s" --arg e "$e" \
		--arg n "$(wc -l <"$out/busy.jsonl")" --arg rc "$rc" \
		'"\(($e | tonumber) - ($s | tonumber)) \($n) \(.requests) \(.rejected_inflight) \($rc)"'
}
fixed8=
adapt=
for _ in 1 2 3; do
	fixed8="$fixed8$(busy_run -j 8 --fixed-jobs)
"
	adapt="$adapt$(busy_run -j 64)
"
done
slowest() { printf '%s' "$1" | sort -n | tail -n 1 | cut -d' ' -f1; }
fixed8_slow=$(slowest "$fixed8")
adapt_slow=$(slowest "$adapt")
fixed8=$(printf '%s' "$fixed8" | sort -n | head -n 1) # the quickest run of each
adapt=$(printf '%s' "$adapt" | sort -n | head -n 1)
fixed64=$(busy_run -j 64 --fixed-jobs)
echo "ise-render against a fake server that serves 8 requests at once, 429 above (50 ms a reply)"
echo "$fixed8 $adapt $fixed64 $fixed8_slow $adapt_slow" | awk '
function line(name, t, n, req, refused, rc, slow,   note) {
	note = slow ? sprintf("  (slowest of 3: %.2f s)", slow) : ""
	if (rc)
		note = sprintf("  gave up, exit %d", rc)
	printf "  %-12s %5d records  %5d requests (%4d refused)  %6.2f s  %6.1f records/s%s\n", name, n, req,
		refused, t, n / t, note
}
{
	line("fixed -j 8", $1, $2, $3, $4, $5, $16)
	line("-j 64", $6, $7, $8, $9, $10, $17)
	line("fixed -j 64", $11, $12, $13, $14, $15, 0)
	time = $6 / $1; extra = ($8 - $7) / $7 * 100
	printf "  -j 64 against fixed -j 8: %.3fx the time, target: at most 1x -> %s\n", time,
		(time <= 1 && !$10 ? "met" : "NOT met")
	printf "  -j 64 requests over records: +%.1f%%, target: at most +5%% -> %s\n", extra,
		(extra <= 5 && $7 == $2 ? "met" : "NOT met")
}'
