#!/usr/bin/env bats
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "1000 personas: every field, distinct (name, role, industry), offline engine" {
	run -0 ise-persona -n 1000 -o p.jsonl
	assert_equal "$(wc -l <p.jsonl)" 1000
	# every field of DESIGN.md, with its type
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
	run -0 ise-persona --pools small.json -n 4
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
	run -0 --separate-stderr ise-persona -n 50 --progress
	assert_equal "${#lines[@]}" 50
	assert_regex "$stderr" '^ise-persona: 50 done \(100%\), [0-9.]+/s, 0 failed$'
}
