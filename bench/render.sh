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
