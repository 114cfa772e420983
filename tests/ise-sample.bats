#!/usr/bin/env bats
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	POOL=$(pool 1000)
}

@test "a tuple: persona from the pool, 2-3 domains, 3-6 tasks covering them, union of tools" {
	run -0 ise-sample -p "$POOL" -n 2000 -o t.jsonl
	assert_equal "$(wc -l <t.jsonl)" 2000
	run -0 jq -e -s --slurpfile cat "$ROOT/share/ise/catalog.json" '
		($cat[0].tasks | map({key: .id, value: .}) | from_entries) as $T |
		all(.[];
			(.id | test("^intent_[0-9a-f]{16}$")) and
			(.domains | length >= 2 and length <= 3 and (unique | length) == length) and
			(.tasks | length >= 3 and length <= 6 and (map(.id) | unique | length) == length) and
			(. as $r | all($r.domains[]; . as $d | any($r.tasks[]; .domain == $d))) and
			(. as $r | all($r.tasks[]; .domain as $d | $r.domains | index([$d]))) and
			all(.tasks[]; $T[.id].name == .name and $T[.id].domain == .domain and
				$T[.id].description == .description and $T[.id].tools == .tools) and
			(.tools == ([.tasks[].tools[]] | reduce .[] as $t ([]; if index([$t]) then . else . + [$t] end))) and
			(.complexity | IN("simple", "medium", "complex")))' t.jsonl
	# the persona is a whole record of the pool
	run -0 jq -e -n --slurpfile pool "$POOL" --slurpfile t t.jsonl '
		($pool | map({key: .id, value: .}) | from_entries) as $P |
		all($t[]; $P[.persona.id] == .persona)'
	assert_equal "$(jq -r .id t.jsonl | sort -u | wc -l)" 2000
}

@test "at N = 50,000 the realised shares match the configuration" {
	ise-sample -p "$POOL" -n 50000 -s 3 >t.jsonl
	run -0 jq -s -c '{
		n: length,
		simple: (map(select(.complexity == "simple")) | length),
		medium: (map(select(.complexity == "medium")) | length),
		complex: (map(select(.complexity == "complex")) | length),
		domains: ([.[].domains[]] | unique | length),
		tasks: ([.[].tasks[].id] | unique | length),
		personas: ([.[].persona.id] | unique | length),
		d2: (map(select(.domains | length == 2)) | length),
		t3: (map(select(.tasks | length == 3)) | length),
		t6: (map(select(.tasks | length == 6)) | length)}' t.jsonl
	stats=$output
	echo "$stats"
	share() { echo "$stats" | jq ".$1 / .n * 100"; }
	within() { awk -v x="$1" -v want="$2" -v tol="$3" 'BEGIN { d = x - want; if (d < 0) d = -d; exit !(d <= tol) }'; }
	within "$(share simple)" 10 1 || fail "simple share $(share simple)"
	within "$(share medium)" 40 1 || fail "medium share $(share medium)"
	within "$(share complex)" 50 1 || fail "complex share $(share complex)"
	within "$(share d2)" 50 1 || fail "2-domain share $(share d2)"
	within "$(share t3)" 25 1 || fail "3-task share $(share t3)"
	within "$(share t6)" 25 1 || fail "6-task share $(share t6)"
	assert_equal "$(echo "$stats" | jq .domains)" "$(jq '.domains | length' "$ROOT/share/ise/catalog.json")"
	assert_equal "$(echo "$stats" | jq .tasks)" "$(jq '.tasks | length' "$ROOT/share/ise/catalog.json")"
	[ "$(echo "$stats" | jq .personas)" -ge 990 ]
}

@test "--start K gives records K..K+N-1 of one long run, byte for byte" {
	ise-sample -p "$POOL" -n 1000 -s 9 >long.jsonl
	ise-sample -p "$POOL" -n 400 -s 9 >a.jsonl
	ise-sample -p "$POOL" -n 350 -s 9 --start 400 >b.jsonl
	ise-sample -p "$POOL" -n 250 -s 9 --start 750 >c.jsonl
	cat a.jsonl b.jsonl c.jsonl | cmp - long.jsonl
	ise-sample -p "$POOL" -n 1 -s 9 --start 613 | cmp - <(sed -n 614p long.jsonl)
}

@test "same seed, same bytes; another seed, another sample" {
	a=$(ise-sample -p "$POOL" -n 300 -s 11)
	assert_equal "$(ise-sample -p "$POOL" -n 300 --seed 11)" "$a"
	b=$(ise-sample -p "$POOL" -n 300 -s 12)
	[ "$a" != "$b" ]
	assert_equal "$(comm -12 <(echo "$a" | jq -c '[.tasks[].id]' | sort) <(echo "$b" | jq -c '[.tasks[].id]' | sort) | wc -l)" 0
}

@test "the pool comes from -p, operands or standard input, alike" {
	a=$(ise-sample -p "$POOL" -n 50)
	assert_equal "$(ise-sample -n 50 "$POOL")" "$a"
	assert_equal "$(ise-sample -n 50 <"$POOL")" "$a"
	assert_equal "$(ise-sample -n 50 - <"$POOL")" "$a"
	run -2 --separate-stderr ise-sample -p "$POOL" -n 5 "$POOL"
	[[ $stderr == *"either with -p or as operands"* ]]
}

@test "bad personas in the pool are reported and left out; the rest is used" {
	{ head -n 3 "$POOL"; echo '{"name":"No Role","industry":"X"}'; sed -n 2p "$POOL"; tail -n +4 "$POOL"; } >pool.jsonl
	run -1 --separate-stderr ise-sample -p pool.jsonl -n 100
	assert_equal "${stderr_lines[0]}" "ise-sample: pool.jsonl:4: persona without a string 'role'"
	assert_equal "${stderr_lines[1]}" "ise-sample: pool.jsonl:5: persona id appears twice in the pool"
	assert_equal "${#lines[@]}" 100
	run -1 --separate-stderr ise-sample --strict -p pool.jsonl -n 100
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
}

@test "--space counts persona x task sets x complexity: over 10^11 for the paper's setting" {
	run -0 ise-sample --space -p "$POOL"
	echo "$output"
	assert_equal "$(echo "$output" | jq .domain_sets)" 165
	assert_equal "$(echo "$output" | jq .personas)" 1000
	assert_equal "$(echo "$output" | jq .complexities)" 3
	echo "$output" | jq -e '.total > 1e11 and .total == .personas * .task_sets * .complexities'
	# exact on a small catalog: domains of 2 and 3 tasks, 2 domains, 2-3 tasks:
	# pairs C(5,2)-C(2,2)-C(3,2) = 6, triples C(5,3)-C(3,3) = 9
	jq '.domains |= .[:2] | .tasks |= ([.[] | select(.domain == "intelligence-core")][:2] + [.[] | select(.domain == "code-runtime")][:3])' \
		"$ROOT/share/ise/catalog.json" >small.json
	run -0 ise-sample --space --catalog small.json --domains 2 --tasks 2-3 -p "$POOL"
	assert_equal "$(echo "$output" | jq -c '[.domain_sets, .task_sets, .total]')" "[1,15,45000]"
	run -0 ise-sample --space --catalog small.json --domains 2 --tasks 2-3 --complexity simple=1 -p "$POOL"
	assert_equal "$(echo "$output" | jq .total)" 15000
}

@test "--domains, --tasks and --complexity shape the draw" {
	run -0 ise-sample -p "$POOL" -n 500 --domains 1 --tasks 1-2 --complexity complex=1
	echo "$output" | jq -e -s 'all(.[]; (.domains | length) == 1 and (.tasks | length) <= 2 and .complexity == "complex")'
	run -0 ise-sample -p "$POOL" -n 500 --domains 4-5 --tasks 4-9
	echo "$output" | jq -e -s 'all(.[]; (.domains | length) >= 4 and (.tasks | length) >= (.domains | length))'
	run -0 ise-sample -p "$POOL" -n 2000 --complexity simple=1,medium=1
	assert_equal "$(echo "$output" | jq -r .complexity | sort -u | tr '\n' ' ')" "medium simple "
}

@test "impossible or malformed shapes are usage errors" {
	for bad in "--domains 0" "--domains 3-2" "--domains 11" "--domains x" "--tasks 2 --domains 3" "--domains 2-3 --tasks 2" \
		"--complexity simple=-1" "--complexity easy=5" "--complexity simple=0" \
		"--complexity simple=1,simple=2" "--complexity medium" "-n -5" "--start x"; do
		run -2 --separate-stderr ise-sample -p "$POOL" -n 10 $bad
		[[ ${stderr_lines[-1]} == "Try 'ise-sample --help' for more information." ]] || fail "$bad: $stderr"
	done
	run -2 --separate-stderr ise-sample -p "$POOL"
	assert_equal "${stderr_lines[0]}" "ise-sample: -n N is required"
	run -2 --separate-stderr ise-sample -n 5 </dev/null
	assert_equal "${stderr_lines[0]}" "ise-sample: the persona pool is empty"
}

@test "--resume finishes an interrupted run to the same bytes" {
	ise-sample -p "$POOL" -n 3000 -o full.jsonl
	{ head -n 1234 full.jsonl; sed -n 1235p full.jsonl | head -c 100; } >part.jsonl
	run -0 ise-sample -p "$POOL" -n 3000 -o part.jsonl --resume
	cmp part.jsonl full.jsonl
}

@test "an invalid --catalog is refused with a clear message, exit 2" {
	cat=$ROOT/share/ise/catalog.json
	check() {
		run -2 --separate-stderr ise-sample -p "$POOL" -n 1 --catalog "$1"
		assert_output ""
		[[ $stderr == "$2" ]] || fail "$1: got: $stderr"
	}
	jq '.tasks[3].tools += ["teleport"]' "$cat" >c1.json
	check c1.json "ise-sample: c1.json: tasks[3]: task '$(jq -r '.tasks[3].id' "$cat")' names unknown tool 'teleport'"
	jq '.tasks[5].id = .tasks[4].id' "$cat" >c2.json
	check c2.json "ise-sample: c2.json: tasks[5]: duplicate task id '$(jq -r '.tasks[4].id' "$cat")'"
	jq '.tasks |= map(select(.domain != "multimedia"))' "$cat" >c3.json
	check c3.json "ise-sample: c3.json: domains: domain 'multimedia' has no tasks"
	jq '.domains += [.domains[0]]' "$cat" >c4.json
	check c4.json "ise-sample: c4.json: domains[10]: duplicate domain id 'intelligence-core'"
	jq '.tasks[0].domain = "astrology"' "$cat" >c5.json
	check c5.json "ise-sample: c5.json: tasks[0]: task '$(jq -r '.tasks[0].id' "$cat")' is in unknown domain 'astrology'"
	jq '.tasks[0].request += " {{nowhere}}"' "$cat" >c6.json
	check c6.json "ise-sample: c6.json: tasks[0]: placeholder '{{nowhere}}' names no slot"
	jq '.tasks[0].plan[0].tool = "cron" | .tasks[0].tools -= ["cron"]' "$cat" >c7.json
	check c7.json "ise-sample: c7.json: tasks[0]: task '$(jq -r '.tasks[0].id' "$cat")': plan step uses tool 'cron' the task does not name"
	jq '.tasks[0].slots = {"n": {"type": "int", "min": 5, "max": 1}}' "$cat" >c8.json
	check c8.json "ise-sample: c8.json: tasks[0]: slot 'n' needs numbers min <= max"
	jq '.tasks[0].slots = {"d": {"type": "date", "from": "2026-13-01", "to": "2026-12-01"}}' "$cat" >c9.json
	check c9.json "ise-sample: c9.json: tasks[0]: slot 'd' needs from <= to as YYYY-MM-DD"
	jq '.tools += [.tools[0]]' "$cat" >c10.json
	check c10.json "ise-sample: c10.json: tools[16]: duplicate tool 'exec'"
	printf '{"tools": [}' >c11.json
	check c11.json "ise-sample: c11.json:1:12: invalid JSON"
}

@test "the built-in catalog is share/ise/catalog.json" {
	a=$(ise-sample -p "$POOL" -n 200)
	assert_equal "$(ise-sample -p "$POOL" -n 200 --catalog "$ROOT/share/ise/catalog.json")" "$a"
}

@test "ids depend on what the tuple holds: one seed over two pools gives no shared id" {
	ise-persona -n 60 -s 1 2>/dev/null >a.pool
	ise-persona -n 60 -s 2 2>/dev/null >b.pool
	ise-sample -p a.pool -n 500 >a.jsonl
	ise-sample -p b.pool -n 500 >b.jsonl
	assert_equal "$(cat a.jsonl b.jsonl | jq -r .id | sort | uniq -d)" ""
	# the first 8 digits still come from the index alone: distinct within the seed
	assert_equal "$(jq -r '.id[7:15]' a.jsonl)" "$(jq -r '.id[7:15]' b.jsonl)"
	assert_equal "$(jq -r .id a.jsonl | sort -u | wc -l)" 500
	# and the same pool and seed give the same ids, whatever the shard
	ise-sample -p a.pool -n 200 --start 300 >c.jsonl
	assert_equal "$(jq -r .id c.jsonl)" "$(tail -n 200 a.jsonl | jq -r .id)"
}

