#!/usr/bin/env bats
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "1000 personas: every field, distinct (name, role, industry), offline engine" {
	run -0 ise-persona -n 1000 -o p.jsonl
	assert_equal "$(wc -l <p.jsonl)" 1000
	# every field of a persona record (ise(7)), with its type
	run -0 jq -e -s 'all(.[];
		(.id|type=="string") and (.name|type=="string") and (.role|type=="string") and
		(.industry|type=="string") and (.expertise|type=="array" and length==3) and
		(.experience_level|type=="string") and (.communication_style|type=="string") and
		(.work_context|type=="string") and (.common_goals|type=="array" and length>=2) and
		(.tools_preference|type=="array" and length>=3) and .engine=="offline")' p.jsonl
	assert_equal "$(jq -r '[.name,.role,.industry]|join("|")' p.jsonl | sort -u | wc -l)" 1000
	assert_equal "$(jq -r .id p.jsonl | sort -u | wc -l)" 1000
}

@test "the built-in pools are wide: 47+ industries, 500+ roles, 6 levels, 6 styles, many regions" {
	pools=$ROOT/share/ise/personas.json
	[ "$(jq '.industries|length' "$pools")" -ge 47 ]
	[ "$(jq '[.industries[].roles[]]|length' "$pools")" -ge 500 ]
	[ "$(jq '.regions|length' "$pools")" -ge 12 ]
	assert_equal "$(jq -c .levels "$pools")" '["Junior","Mid-level","Senior","Lead","Expert","Executive"]'
	assert_equal "$(jq -c '.styles|keys' "$pools")" '["Analytical","Casual","Collaborative","Creative","Direct","Formal"]'
	[ "$(jq '[.styles[][]]|length' "$pools")" -ge 60 ]
	# and a pool of 1000 uses that width
	ise-persona -n 1000 >p.jsonl
	[ "$(jq -r .industry p.jsonl | sort -u | wc -l)" -ge 45 ]
	[ "$(jq -r .role p.jsonl | sort -u | wc -l)" -ge 400 ]
	[ "$(jq -r .region p.jsonl | sort -u | wc -l)" -ge 12 ]
	assert_equal "$(jq -r .experience_level p.jsonl | sort -u | wc -l)" 6
	assert_equal "$(jq -r .style_family p.jsonl | sort -u | wc -l)" 6
	[ "$(jq -r .communication_style p.jsonl | sort -u | wc -l)" -ge 50 ]
}

@test "roles fit their industry, goals and tools fit the role, the place fits the name" {
	ise-persona -n 500 >p.jsonl
	pools=$ROOT/share/ise/personas.json
	run -0 jq -n -e --slurpfile p p.jsonl --slurpfile pools "$pools" '
		$pools[0] as $P |
		all($p[]; . as $x |
			($P.industries[] | select(.name == $x.industry)) as $ind |
			($ind.roles[] | select(.title == $x.role)) as $role |
			($P.families[$role.family]) as $fam |
			($P.regions[] | select(.region == $x.region)) as $reg |
			all($x.expertise[]; . as $e | $ind.expertise | index([$e])) and
			all($x.tools_preference[]; . as $t | $fam.tools | index([$t])) and
			all($x.common_goals[]; . as $g | ($ind.goals + $fam.goals) | index([$g])) and
			any($reg.cities[]; . as $c | $x.work_context | contains($c)) and
			any($reg.first_names[]; . as $f | $x.name | startswith($f + " ")) and
			(.communication_style as $s | $P.styles[$x.style_family] | index([$s])))'
	# executives are Executive
	run -0 jq -e -s 'all(.[] | select(.role | startswith("Chief ")); .experience_level == "Executive")' p.jsonl
}

@test "same seed, same bytes; another seed, another pool; record i does not depend on N" {
	a=$(ise-persona -n 300 -s 42)
	b=$(ise-persona -n 300 --seed 42)
	assert_equal "$a" "$b"
	c=$(ise-persona -n 300 -s 43)
	[ "$a" != "$c" ]
	[ "$(comm -12 <(echo "$a" | jq -r .name | sort) <(echo "$c" | jq -r .name | sort) | wc -l)" -lt 60 ]
	assert_equal "$(ise-persona -n 100 -s 42)" "$(echo "$a" | head -n 100)"
}

@test "asking for more personas than the pools can give is an error that says so" {
	cat >small.json <<-'JSON'
	{"levels":["Junior","Mid-level","Senior","Lead","Expert","Executive"],
	 "styles":{"Direct":["Blunt"]},
	 "regions":[{"region":"Test","first_names":["Ana","Bo"],"last_names":["Ek"],"cities":["Oslo, Norway"]}],
	 "families":{"data":{"goals":["g"],"tools":["t"]}},
	 "industries":[{"name":"Retail","orgs":["shop"],"contexts":["c"],"goals":["g2"],
	   "expertise":["a","b","c"],"roles":[{"title":"Analyst","family":"data"},{"title":"Clerk","family":"data"}]}]}
	JSON
	run -0 ise-persona --offline --pools small.json -n 4
	assert_equal "$(echo "$output" | jq -r '[.name,.role]|join("|")' | sort -u | wc -l)" 4
	run -2 --separate-stderr ise-persona --pools small.json -n 5
	assert_output ""
	assert_equal "$stderr" "ise-persona: cannot make 5 distinct personas: the pools give at most 4 distinct (name, role, industry) triples"
}

@test "invalid pools are refused with a clear message, exit 2" {
	echo '{"levels":["Junior"],"styles":{"Direct":["Blunt"]},"regions":[]}' >bad.json
	run -2 --separate-stderr ise-persona --pools bad.json -n 1
	assert_equal "$stderr" "ise-persona: bad.json: missing or empty array 'regions'"
	printf '{"levels": [\n  "Junior",,\n]}' >broken.json
	run -2 --separate-stderr ise-persona --pools broken.json -n 1
	assert_equal "$stderr" "ise-persona: broken.json:2:12: invalid JSON"
	jq '.industries[0].roles[0].family = "astrology"' "$ROOT/share/ise/personas.json" >fam.json
	run -2 --separate-stderr ise-persona --pools fam.json -n 1
	[[ $stderr == *"is in unknown family 'astrology'"* ]]
	run -2 --separate-stderr ise-persona --pools no-such.json -n 1
	[[ $stderr == *"cannot open 'no-such.json'"* ]]
}

@test "--resume completes an interrupted pool to the same bytes as one run" {
	ise-persona -n 700 -s 5 -o full.jsonl
	head -n 333 full.jsonl >part.jsonl
	run -0 ise-persona -n 700 -s 5 -o part.jsonl --resume
	cmp part.jsonl full.jsonl
}

@test "checking a pool: ids completed, duplicates dropped, unknown fields kept byte for byte" {
	cat >in.jsonl <<-'JSON'
	{"persona_id":"3f1c","name":"Ada Obi","role":"Nurse","industry":"Healthcare","n":12345678901234567890}
	{"name":"ada obi","role":"NURSE","industry":"healthcare"}
	{"id":"x1","name":"Bo Ek","role":"Clerk","industry":"Retail","expertise":["a"]}
	{"name":"Cy","role":"","industry":"Retail"}
	{"name":"Di","role":"Clerk","industry":"Retail","expertise":"a"}
	JSON
	run -1 --separate-stderr ise-persona in.jsonl
	assert_equal "${lines[0]}" '{"persona_id":"3f1c","name":"Ada Obi","role":"Nurse","industry":"Healthcare","n":12345678901234567890,"id":"3f1c"}'
	assert_equal "${lines[1]}" '{"id":"x1","name":"Bo Ek","role":"Clerk","industry":"Retail","expertise":["a"]}'
	assert_equal "${#lines[@]}" 2
	assert_equal "${stderr_lines[0]}" "ise-persona: in.jsonl:2: duplicate persona 'ada obi, NURSE, healthcare' dropped"
	assert_equal "${stderr_lines[1]}" "ise-persona: in.jsonl:4: persona without a string 'role'"
	assert_equal "${stderr_lines[2]}" "ise-persona: in.jsonl:5: persona field 'expertise' is not an array"
	# a record with no id gets one derived from its identity, the same every run
	echo '{"name":"Eve","role":"Pilot","industry":"Aviation"}' >one.jsonl
	run -0 ise-persona one.jsonl
	assert_output --regexp '"id":"persona_[0-9a-f]{16}"}$'
	first=$output
	run -0 ise-persona - <one.jsonl
	assert_equal "$output" "$first"
}

@test "a generated pool passes its own check unchanged" {
	ise-persona -n 300 >p.jsonl
	run -0 --separate-stderr ise-persona p.jsonl
	assert_equal "$output" "$(cat p.jsonl)"
	assert_equal "$stderr" ""
}

@test "-n cannot be mixed with input files" {
	run -2 --separate-stderr ise-persona -n 5 some.jsonl
	[[ $stderr == *"do not go with input files"* ]]
}

@test "--progress writes a progress line to stderr only" {
	run -0 --separate-stderr ise-persona -n 50 --progress --offline
	assert_equal "${#lines[@]}" 50
	assert_regex "$stderr" '^ise-persona: 50 done \(100%\), [0-9.]+/s, 0 failed$'
}

# a tape reply of personas: persona N, role R, industry I, as JSON text
personas_reply() {
	jq -cn --argjson specs "$1" '{reply: {content: ({personas: [$specs[] | {name: .[0], role: .[1],
		industry: .[2], expertise: ["a b", "c d", "e f"], experience_level: "Senior",
		communication_style: "Direct", work_context: "Works at a port in Mombasa, Kenya.",
		common_goals: ["ship on time"], tools_preference: ["Excel", "SAP", "Jira"]}]} | tojson)}}'
}

@test "with a model: batches under a schema, duplicates and malformed personas dropped, N distinct" {
	load fake
	fake_start
	{
		personas_reply '[["Ada Obi","Nurse","Healthcare"],["Bo Ek","Clerk","Retail"],["ada obi","NURSE","healthcare"]]'
		echo '{"reply":{"content":"{\"personas\":[{\"name\":\"No Role\"}]}"}}'
		personas_reply '[["Cy Lee","Pilot","Aviation"],["Di Wu","Chef","Hospitality"]]'
	} >tape.jsonl
	fake_tape tape.jsonl
	run -0 --separate-stderr ise-persona -n 4 --batch 3 --model m
	assert_equal "${#lines[@]}" 4
	echo "$output" | jq -e -s 'all(.[]; .engine == "llm" and (.id | test("^persona_[0-9a-f]{8}$"))) and
		(map(.name) == ["Ada Obi", "Bo Ek", "Cy Lee", "Di Wu"])'
	[[ $stderr == *"dropped 1 duplicate and 1 malformed personas from the model"* ]] || fail "$stderr"
	assert_equal "$(fake_requests)" 3
	run -0 jq -e -s 'all(.[]; .body.response_format.type == "json_schema" and
		.body.response_format.json_schema.schema.properties.personas.items.required == ["name","role","industry","expertise","experience_level","communication_style","work_context","common_goals","tools_preference"] and
		(.body.messages[1].content | contains("Create 3 realistic")))' "$FAKE_LOG"
	fake_stop
}

@test "with a model: a spent budget ends with exit 1 and says how many; --resume goes on" {
	load fake
	fake_start
	# a model that keeps giving the same two
	personas_reply '[["Ada Obi","Nurse","Healthcare"],["Bo Ek","Clerk","Retail"]]' | jq -c '.repeat = -1' >tape.jsonl
	fake_tape tape.jsonl
	run -1 --separate-stderr ise-persona -n 4 --batch 2 --budget 2 -o p.jsonl
	assert_equal "$(wc -l <p.jsonl)" 2
	[[ $stderr == *"only 2 of 4 distinct personas after 2 requests (raise --budget)"* ]] || fail "$stderr"
	fake_reset
	{
		personas_reply '[["Ada Obi","Nurse","Healthcare"],["Cy Lee","Pilot","Aviation"]]'
		personas_reply '[["Di Wu","Chef","Hospitality"]]'
	} >tape.jsonl
	fake_tape tape.jsonl
	run -0 --separate-stderr ise-persona -n 4 --batch 2 -o p.jsonl --resume
	assert_equal "$(jq -r .name p.jsonl | tr '\n' ,)" "Ada Obi,Bo Ek,Cy Lee,Di Wu,"
	assert_equal "$(jq -r .id p.jsonl | sort -u | wc -l)" 4
	fake_stop
}

@test "with a model: each persona names the model the server says answered" {
	load fake
	fake_start
	personas_reply '[["Ada Obi","Nurse","Healthcare"],["Bo Ek","Clerk","Retail"]]' |
		jq -c '.reply.model = "Qwen/Qwen3-8B"' >tape.jsonl
	fake_tape tape.jsonl
	run -0 --separate-stderr ise-persona -n 2 --batch 2
	echo "$output" | jq -e -s 'length == 2 and all(.[]; .model == "Qwen/Qwen3-8B" and .engine == "llm")'
	fake_stop
}

@test "with a model: an endpoint that refuses the key is fatal, exit 3, the key not shown" {
	load fake
	fake_start
	fake_tape '{"status":401,"error_style":"openai","error_message":"Incorrect API key provided: sk-test-SECRET-do-not-leak","repeat":-1}'
	run -3 --separate-stderr ise-persona -n 3
	assert_output ""
	[[ $stderr == *"HTTP 401: Incorrect API key provided: [api key]"* ]] || fail "$stderr"
	[[ $stderr != *SECRET* ]]
	fake_stop
}

@test "with a model: -j 16 against a server that serves 2 at once has few requests refused" {
	load fake
	fake_start --latency-ms 30 --max-inflight 2 --over-inflight-status 429
	# the same two personas every time: the budget, 30 requests, is spent
	personas_reply '[["Ada Obi","Nurse","Healthcare"],["Bo Ek","Clerk","Retail"]]' | jq -c '.repeat = -1' >tape.jsonl
	fake_tape tape.jsonl
	run -1 --separate-stderr ise-persona -n 4 --batch 2 --budget 30 -j 16 --progress
	[[ $stderr == *"only 2 of 4 distinct personas after 30 requests"* ]] || fail "$stderr"
	# the progress line: 2 of the 4 made, and the limit the server imposed
	[[ ${stderr_lines[0]} =~ ^ise-persona:\ 2\ done\ \(50%\),\ [0-9.]+/s,\ 0\ failed,\ jobs\ limited\ to\ ([0-9]+)\ of\ 16$ ]] ||
		fail "$stderr"
	[ "${BASH_REMATCH[1]}" -le 8 ]
	refused=$(fake_stats | jq .rejected_inflight)
	echo "refused: $refused"
	assert_equal "$(fake_requests /v1/chat/completions)" $((30 + refused))
	# the first 8 sent (the limit to start with) cost 6, and each probe of
	# the server's level one more: 9 to 13 on a quiet machine, 15 seen under
	# a loaded one; a fixed -j 16 has 14 refused in each round of 16, over
	# a hundred for 30 requests (with --fixed-jobs each 429 pauses every
	# job too: that run gives up, exit 3, after a minute)
	[ "$refused" -le 20 ]
	fake_stop
}
