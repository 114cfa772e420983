#!/bin/sh
# ise-sim against the fake server (tests/fake_openai.py).
# 1. Orchestration overhead per user turn with a server that answers at once:
#    the simulator's request, the agent's, the record, with and without one
#    real sandboxed command per turn.
# 2. Throughput at -j 32 against -j 1 with 50 ms of latency per reply
#    (target: at least 20x).
# Needs root for the namespace sandbox (as make check does).
. "$(dirname "$0")/lib.sh"
bin/ise-persona -n 500 2>/dev/null | bin/ise-sample -n 800 | bin/ise-render --offline >"$out/sim-intents.jsonl" 2>/dev/null
head -n 200 "$out/sim-intents.jsonl" >"$out/sim-200.jsonl"
head -n 32 "$out/sim-intents.jsonl" >"$out/sim-32.jsonl"

fake=
start_fake() { # latency_ms
	[ -z "$fake" ] || kill "$fake" 2>/dev/null || true
	rm -f "$out/fake.port"
	python3 tests/fake_openai.py --port 0 --port-file "$out/fake.port" --latency-ms "$1" \
		--log /dev/null --tape "$out/sim-tape.jsonl" </dev/null >/dev/null 2>&1 &
	fake=$!
	for _ in $(seq 100); do [ -s "$out/fake.port" ] && break; sleep 0.05; done
	export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$out/fake.port")/v1" OPENAI_API_KEY=bench
}
trap '[ -z "$fake" ] || kill $fake 2>/dev/null' EXIT

# Every trajectory: TURNS user turns, each answered by the agent with CALLS
# tool calls (exec true) or none, then the simulator completes.
tape() { # turns calls
	turns=$1 calls=$2
	{
		for t in $(seq "$turns"); do
			jq -cn --arg n "message number $t of" --arg q "Step $t: carry on." \
				'{match: {model: "sim", contains: $n}, repeat: -1,
				  reply: {content: ({completed: false, query: $q, reason: "next", is_success: true} | tojson)}}'
		done
		jq -cn '{match: {model: "sim"}, repeat: -1,
			 reply: {content: ({completed: true, query: "", reason: "done", is_success: true} | tojson)}}'
		if [ "$calls" -gt 0 ]; then
			jq -cn '{match: {model: "agent", last_role: "user"}, repeat: -1,
				 reply: {tool_calls: [{name: "exec", arguments: {command: "true"}}]}}'
		fi
		jq -cn '{match: {model: "agent"}, repeat: -1, reply: {content: "Done."}}'
	} >"$out/sim-tape.jsonl"
}

fake_cpu() { # seconds of CPU the fake server has used
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$fake/stat"
}

# The fake agent does only what its tape says (exec true), so the tasks'
# checks would fail every trajectory: the loop is timed without them (the
# third part times them).
run() { # jobs input -> "wall_seconds cpu_seconds trajectories turns fake_cpu_seconds"
	f0=$(fake_cpu)
	/usr/bin/time -f '%e %U %S' -o "$out/time" bin/ise-sim --user-model sim --agent-model agent \
		--verify=off -j "$1" "$2" >"$out/sim-out.jsonl" 2>"$out/sim.err"
	f1=$(fake_cpu)
	n=$(wc -l <"$out/sim-out.jsonl")
	turns=$(jq -s 'map(.user_turns) | add' "$out/sim-out.jsonl")
	awk -v n="$n" -v turns="$turns" -v f="$(echo "$f0 $f1" | awk '{print $2 - $1}')" \
		'{ print $1, $2 + $3, n, turns, f }' "$out/time"
}

echo "ise-sim orchestration per user turn, fake server answering at once, -j 1"
tape 4 0
start_fake 0
bare=$(run 1 "$out/sim-200.jsonl")
tape 4 1
start_fake 0
exec1=$(run 1 "$out/sim-200.jsonl")
echo "$bare $exec1" | awk '{
	printf "  no tool call     %4d turns  %6.2f s  %5.2f ms/turn wall  %5.2f ms/turn ise-sim CPU  %5.2f ms/turn server CPU (2 requests a turn)\n", $4, $1, $1 / $4 * 1000, $2 / $4 * 1000, $5 / $4 * 1000
	printf "  one exec a turn  %4d turns  %6.2f s  %5.2f ms/turn wall  %5.2f ms/turn ise-sim CPU  %5.2f ms/turn server CPU (3 requests, 1 sandboxed command)\n", $9, $6, $6 / $9 * 1000, $7 / $9 * 1000, $10 / $9 * 1000
}'

echo "ise-sim against a fake server answering in 50 ms (2 turns, one exec each; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
tape 2 1
start_fake 50
one=$(run 1 "$out/sim-32.jsonl")
many=$(run 32 "$out/sim-intents.jsonl")
echo "$one $many $(nproc)" | awk '{
	r1 = $3 / $1; r32 = $8 / $6
	printf "  -j 1   %4d trajectories  %6.2f s  %6.2f trajectories/s  %6.1f turns/s  CPU a trajectory: ise-sim %.1f ms, server %.1f ms\n", $3, $1, r1, $4 / $1, $2 / $3 * 1000, $5 / $3 * 1000
	printf "  -j 32  %4d trajectories  %6.2f s  %6.2f trajectories/s  %6.1f turns/s  CPU a trajectory: ise-sim %.1f ms, server %.1f ms\n", $8, $6, r32, $9 / $6, $7 / $8 * 1000, $10 / $8 * 1000
	printf "  ratio  %.1fx   target: at least 20x -> %s\n", r32 / r1, (r32 / r1 >= 20 ? "met" : "NOT met")
	cpu = ($7 + $10) / $8
	printf "  (all the CPU of a trajectory, %.1f ms, on %d cores caps this machine at %.0f trajectories/s, %.1fx of -j 1)\n", cpu * 1000, $11, $11 / cpu, $11 / cpu / r1
}'

# 3. What the tasks' checks cost the offline engine: the same intents with
#    --verify=off (setups still run) and with the checks (the default), three
#    runs each, alternated, so that a neighbour's load falls on both; the
#    medians of wall and CPU (user + system) seconds.
echo "ise-sim offline engine, 60 intents at -j 2, without and with the tasks' checks (medians of 3)"
head -n 60 "$out/sim-intents.jsonl" >"$out/sim-60.jsonl"
offline() { # verify-mode -> "wall cpu" seconds
	/usr/bin/time -f '%e %U %S' -o "$out/time" bin/ise-sim --offline --no-timings -j 2 --verify="$1" \
		"$out/sim-60.jsonl" >"$out/sim-offline.jsonl" 2>/dev/null || true
	awk '{ print $1, $2 + $3 }' "$out/time"
}
: >"$out/verify-times"
for i in 1 2 3; do
	echo "off $(offline off)" >>"$out/verify-times"
	echo "on $(offline record)" >>"$out/verify-times"
done
checked=$(jq -s '[.[] | select(.verification)] | length' "$out/sim-offline.jsonl")
awk -v checked="$checked" '
	{ wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " $3 }
	function median(list,   v, n, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return v[int((n + 1) / 2)]
	}
	END {
		wo = median(wall["off"]); wn = median(wall["on"]); co = median(cpu["off"]); cn = median(cpu["on"])
		printf "  --verify=off     %6.2f s wall  %6.1f ms a trajectory  %6.2f s CPU\n", wo, wo / 60 * 1000, co
		printf "  with the checks  %6.2f s wall  %6.1f ms a trajectory  %6.2f s CPU (%d of 60 have checks)\n", wn, wn / 60 * 1000, cn, checked
		printf "  the checks add %.1f%% wall, %.1f%% CPU   target: under 10%% -> %s\n", (wn / wo - 1) * 100,
			(cn / co - 1) * 100, (wn / wo - 1 < 0.10 ? "met" : "NOT met")
	}' "$out/verify-times"

