#!/usr/bin/env bats
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# A record with id $1 and text $2 (JSON-escaped by jq).
rec() {
	jq -cn --arg id "$1" --arg t "$2" '{id: $id, natural_language_intent: $t}'
}

# The planted-duplicate corpus, made once per suite.
corpus() {
	local f="$BATS_FILE_TMPDIR/corpus.jsonl"
	[ -s "$f" ] || python3 "$ROOT/tests/gen_dupes.py" gen -n 5000 --seed 1 >"$f"
	echo "$f"
}

@test "planted duplicates: precision >= 0.999, recall 1.0 on exact and normalised copies" {
	c=$(corpus)
	run -0 --separate-stderr ise-dedup --dupes dupes.jsonl -o kept.jsonl "$c"
	echo "$stderr"
	run -0 python3 "$ROOT/tests/gen_dupes.py" score "$c" kept.jsonl dupes.jsonl
	score=$output
	echo "$score" | jq .
	# every record is kept or removed, and a removed one points at a kept one
	assert_equal "$(echo "$score" | jq .complete)" true
	assert_equal "$(echo "$score" | jq .kept_are_kept)" true
	echo "$score" | jq -e '.precision >= 0.999'
	echo "$score" | jq -e '.recall.exact == 1 and .recall.variant == 1'
	# the corpus plants what it says: 200 copies, 100 variants, 400 edits
	echo "$score" | jq -e '.planted == {"edit_0.01": 80, "edit_0.03": 80, "edit_0.05": 80,
		"edit_0.1": 80, "edit_0.2": 80, "exact": 200, "variant": 100}'
	# edits the Jaccard threshold calls duplicates are all found (the
	# banding misses a pair at J = 0.7 with probability 1.5e-4)
	echo "$score" | jq -e '.edits_at_threshold > 100 and .recall_at_threshold == 1'
	# the similarity reported is the Jaccard computed independently in Python
	echo "$score" | jq -e '.similarity_error < 1e-12'
	# variants are normalised copies, found by the exact pass
	echo "$score" | jq -e '.rules.normalized >= 100 and .rules.minhash > 0'
	[[ $stderr == "ise-dedup: 5000 records, "*" kept, "*" removed ("*" exact, "*" normalized, "*" minhash, 0 semantic); minhash: 32 bands x 4 rows, "*" pairs verified, "*" at or above 0.7; "*" s" ]]
}

@test "survivors are the input lines byte for byte, in input order" {
	{
		printf '%s\n' '{"natural_language_intent":"Back up  the \u00e9t\u00e9 photos","n":12345678901234567890,"z":1.50,"id":"one"}'
		printf '%s\n' '{ "id" : "two" , "natural_language_intent" : "back up the été photos" }'
		printf '%s\n' '{"id":"three","natural_language_intent":"something else entirely, with 1.0e3 words"}    '
	} >in.jsonl
	run -0 --separate-stderr ise-dedup in.jsonl
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "$(sed -n 1p in.jsonl)"
	assert_equal "${lines[1]}" '{"id":"three","natural_language_intent":"something else entirely, with 1.0e3 words"}'
}

@test "the same seed gives the same bytes; the seed changes only which pairs are candidates" {
	c=$(corpus)
	ise-dedup -q -s 5 --dupes d1.jsonl --summary s1.json "$c" >k1.jsonl
	ise-dedup -q -s 5 --dupes d2.jsonl --summary s2.json "$c" >k2.jsonl
	cmp k1.jsonl k2.jsonl
	cmp d1.jsonl d2.jsonl
	assert_equal "$(jq -c 'del(.seconds)' s1.json)" "$(jq -c 'del(.seconds)' s2.json)"
	ise-dedup -q -s 6 --dupes d3.jsonl --summary s3.json "$c" >k3.jsonl
	# another seed draws other permutations: other candidates, same result here
	[ "$(jq .minhash.pairs_verified s1.json)" != "$(jq .minhash.pairs_verified s3.json)" ]
	cmp k1.jsonl k3.jsonl
	assert_equal "$(jq .minhash.seed s3.json)" '"6"'
}

@test "a record without the text field is a bad record: reported, skipped, exit 1, nothing else lost" {
	{
		rec a "Copy the quarterly report to the shared folder"
		echo '{"id":"b","text":"no intent here"}'
		echo '{"id":"c","natural_language_intent":42}'
		rec d "copy the quarterly report to the shared folder"
		rec e "Rename every photo by the date it was taken"
	} >in.jsonl
	run -1 --separate-stderr ise-dedup -q --dupes dupes.jsonl in.jsonl
	assert_equal "$stderr" "ise-dedup: in.jsonl:2: record without a string 'natural_language_intent'
ise-dedup: in.jsonl:3: record without a string 'natural_language_intent'"
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "a e "
	assert_equal "$(jq -r .id dupes.jsonl)" d
	# --field picks another member
	run -1 --separate-stderr ise-dedup -q --field text in.jsonl
	assert_equal "$(echo "$output" | jq -r .id)" b
	# --strict stops at the first, before any output
	run -1 --separate-stderr ise-dedup -q --strict in.jsonl
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
}

@test "--dupes: the input record with duplicate_of, similarity and rule appended" {
	{
		rec k1 "List the ten largest files in the home directory"
		rec x1 "List the ten largest files in the home directory"
		rec n1 "  LIST the ten largest Files in the home   directory "
		rec m1 "List the ten largest files in the home directory please"
		rec k2 "Schedule a nightly backup of the projects folder at 2am"
	} >in.jsonl
	run -0 ise-dedup -q --dupes dupes.jsonl in.jsonl
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "k1 k2 "
	run -0 jq -c '[.id, .duplicate_of, .rule, .similarity]' dupes.jsonl
	assert_output '["x1","k1","exact",1]
["n1","k1","normalized",1]
["m1","k1","minhash",0.8333333333333334]'
	# 6 shingles of 5 words against 5: 5 shared, J = 5/6
	# the rest of each line is the input line, byte for byte
	while read -r id; do
		want=$(grep "\"id\":\"$id\"" in.jsonl)
		got=$(grep "\"id\":\"$id\"" dupes.jsonl)
		assert_equal "${got%%,\"duplicate_of\":*}" "${want%\}}"
		[[ $got == *',"duplicate_of":"k1","similarity":'*',"rule":"'*'"}' ]]
	done < <(jq -r .id dupes.jsonl)
	# a record that has one of the members already is re-serialised with it replaced
	{ rec a "one two three four five six"; echo '{"id":"b","natural_language_intent":"one two three four five six","rule":"old","x":1}'; } >re.jsonl
	ise-dedup -q --dupes d2.jsonl re.jsonl >/dev/null
	assert_equal "$(jq -c . d2.jsonl)" '{"id":"b","natural_language_intent":"one two three four five six","x":1,"duplicate_of":"a","similarity":1,"rule":"exact"}'
	# a kept record without an id: duplicate_of is null
	{ echo '{"natural_language_intent":"alpha beta gamma"}'; rec b "Alpha beta gamma"; } >noid.jsonl
	ise-dedup -q --dupes d3.jsonl noid.jsonl >/dev/null
	assert_equal "$(jq -c '[.duplicate_of, .rule]' d3.jsonl)" '[null,"normalized"]'
}

@test "threshold: exact Jaccard of hand-made shingle sets, pairs at the threshold included" {
	# with --ngram 1 the shingles are the words
	{ rec a "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10"; rec b "w1 w2 w3 w4 w5 w6 w7 w8 w9 w11"; } >p.jsonl
	# J = 9/11 = 0.8181...
	run -0 ise-dedup -q --ngram 1 --threshold 0.81 --dupes d.jsonl p.jsonl
	assert_equal "$(jq -c '[.id, .similarity]' d.jsonl)" '["b",0.8181818181818182]'
	run -0 ise-dedup -q --ngram 1 --threshold 0.82 --dupes d.jsonl p.jsonl
	assert_equal "${#lines[@]}" 2
	[ ! -s d.jsonl ]
	# J exactly at the threshold counts: 3/4
	{ rec a "red green blue"; rec b "red green blue yellow"; } >q.jsonl
	run -0 ise-dedup -q --ngram 1 --threshold 0.75 --dupes d.jsonl q.jsonl
	assert_equal "$(jq -c '[.id, .rule, .similarity]' d.jsonl)" '["b","minhash",0.75]'
	run -0 ise-dedup -q --ngram 1 --threshold 0.7501 q.jsonl
	assert_equal "${#lines[@]}" 2
	# default 5-grams: "a b c d e f" and "a b c d e g" share 1 of 3 shingles
	{ rec a "a b c d e f"; rec b "a b c d e g"; } >r.jsonl
	run -0 ise-dedup -q --threshold 0.33 --dupes d.jsonl r.jsonl
	assert_equal "$(jq -c .similarity d.jsonl)" 0.3333333333333333
	run -0 ise-dedup -q --threshold 0.34 r.jsonl
	assert_equal "${#lines[@]}" 2
	# fewer words than --ngram: one shingle of them all; punctuation is no word
	{ rec a "hello world"; rec b "Hello, world!"; rec c "hello world again"; } >s.jsonl
	run -0 ise-dedup -q --dupes d.jsonl s.jsonl
	assert_equal "$(jq -c '[.id, .rule, .similarity]' d.jsonl)" '["b","minhash",1]'
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "a c "
	# at --threshold 1 only equal shingle sets join
	{ rec a "one two three four five six seven"; rec b "one two three four five six seven eight"; } >t.jsonl
	run -0 ise-dedup -q --threshold 1 t.jsonl
	assert_equal "${#lines[@]}" 2
}

@test "clusters are transitive and keep their first record" {
	{
		rec c0 "unrelated text about gardening and tomatoes"
		rec a "t1 t2 t3 t4 t5 t6 t7 t8"
		rec b "t1 t2 t3 t4 t5 t6 t7 t9"
		rec c "t1 t2 t3 t4 t5 t6 t10 t9"
	} >in.jsonl
	# J(a,b) = 7/9, J(b,c) = 7/9, J(a,c) = 6/10
	run -0 ise-dedup -q --ngram 1 --threshold 0.75 --dupes d.jsonl in.jsonl
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "c0 a "
	run -0 jq -c '[.id, .duplicate_of, .similarity]' d.jsonl
	assert_output '["b","a",0.7777777777777778]
["c","a",0.6]'
	# the first in input order is kept, whatever its text
	{ rec c "t1 t2 t3 t4 t5 t6 t10 t9"; rec b "t1 t2 t3 t4 t5 t6 t7 t9"; rec a "t1 t2 t3 t4 t5 t6 t7 t8"; } >rev.jsonl
	run -0 ise-dedup -q --ngram 1 --threshold 0.75 rev.jsonl
	assert_equal "$(echo "$output" | jq -r .id)" c
}

@test "normalisation: compatibility forms, quotes, dashes, spaces, case in several scripts" {
	{
		rec k1 "Don't e-mail the \"final\" report — it's ﬁne…"
		rec v1 "DON’T  e–mail the “final” report - IT'S ｆｉｎｅ..."
		rec v2 "don't e‐mail the \"final\"​ report — it's fine…"
		rec k2 "Ünïcödé ÉTÉ Straße ΣΟΦΊΑ МОСКВА Ĳssel"
		rec v3 "ünïcödé été strasse σοφία москва ĳssel"
		rec k3 "don't e-mail the final report, it is fine"
		rec m1 "Don't e-mail the final report: it's fine"
	} >in.jsonl
	run -0 ise-dedup -q --dupes d.jsonl in.jsonl
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "k1 k2 k3 "
	# punctuation is not normalised away, so m1 is no normalised copy of k1;
	# but it is no word either, so their shingle sets are equal; k3 shares
	# 4 of 8 shingles with k1 (J = 0.5) and stays
	run -0 jq -c '[.id, .duplicate_of, .rule, .similarity]' d.jsonl
	assert_output '["v1","k1","normalized",1]
["v2","k1","normalized",1]
["v3","k2","normalized",1]
["m1","k1","minhash",1]'
}

@test "texts without a word, and empty texts, go through the exact pass only" {
	{ rec a ""; rec b "   "; rec c "!!!"; rec d "?!"; rec e "!!!"; } >in.jsonl
	run -0 ise-dedup -q --dupes d.jsonl in.jsonl
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "a c d "
	assert_equal "$(jq -c '[.id, .duplicate_of, .rule]' d.jsonl | tr '\n' ' ')" '["b","a","normalized"] ["e","c","exact"] '
}

@test "--semantic with vectors in the records: cosine above COS, reported similarity the cosine" {
	printf '%s\n' \
		'{"id":"p","natural_language_intent":"back up the database","emb":[1,0,0]}' \
		'{"id":"q","natural_language_intent":"make a copy of the db","emb":[0.96,0.28,0]}' \
		'{"id":"r","natural_language_intent":"water the plants","emb":[0,0,2]}' \
		'{"id":"s","natural_language_intent":"water the plants","emb":[0,1,0]}' \
		'{"id":"t","natural_language_intent":"feed the cat","emb":[0.6,0,0.8]}' >v.jsonl
	run -0 --separate-stderr ise-dedup --semantic 0.95 --embedding-field emb --dupes d.jsonl --summary s.json v.jsonl
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "p r t "
	run -0 jq -c '[.id, .duplicate_of, .rule, .similarity]' d.jsonl
	assert_output '["q","p","semantic",0.96]
["s","r","exact",1]'
	[[ $stderr == *"; semantic: field:emb, 4 compared, 1 pairs above 0.95; "* ]] || fail "$stderr"
	run -0 jq -c '[.rules, .semantic]' s.json
	assert_output '[{"exact":1,"normalized":0,"minhash":0,"semantic":1},{"cosine":0.95,"embedder":"field:emb","dim":3,"compared":4,"pairs":1}]'
	# strictly above: at 0.96 q stays
	run -0 ise-dedup -q --semantic 0.96 --embedding-field emb v.jsonl
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "p q r t "
	# a record without a usable vector is a bad record
	{ head -n 2 v.jsonl; echo '{"id":"u","natural_language_intent":"x","emb":"no"}'; echo '{"id":"w","natural_language_intent":"y","emb":[1,2]}'; } >bad.jsonl
	run -1 --separate-stderr ise-dedup -q --semantic 0.95 --embedding-field emb bad.jsonl
	assert_equal "${stderr_lines[0]}" "ise-dedup: bad.jsonl:3: 'emb' is not a non-empty array of numbers"
	assert_equal "${stderr_lines[1]}" "ise-dedup: bad.jsonl:4: 'emb' has 2 numbers, earlier vectors 3"
	assert_equal "$(echo "$output" | jq -r .id)" p
}

@test "--semantic with the built-in embedder; a text it cannot embed is kept and reported" {
	c=$(corpus)
	head -n 300 "$c" >in.jsonl
	run -0 --separate-stderr ise-dedup -q --semantic 0.5 --dupes d.jsonl in.jsonl
	[ "$(jq -r 'select(.rule == "semantic") | .id' d.jsonl | wc -l)" -gt 0 ]
	jq -e 'select(.rule == "semantic") | .similarity > 0.5 and .similarity <= 1' d.jsonl >/dev/null
	run -0 ise-dedup -q --semantic 0.5 --dim 64 --summary s.json in.jsonl
	assert_equal "$(jq -r .semantic.embedder s.json)" hash-ngram-64
	{ rec a "water the plants"; rec b ""; rec c "Water the plants today"; } >e.jsonl
	run -1 --separate-stderr ise-dedup -q --semantic 0.5 e.jsonl
	[[ $stderr == "ise-dedup: e.jsonl:2: no vector for --semantic ("*"), kept" ]] || fail "$stderr"
	assert_equal "$(echo "$output" | jq -r .id | tr '\n' ' ')" "a b "
}

@test "embedding options without --semantic, and bad values, are usage errors" {
	run -2 --separate-stderr ise-dedup --embedding-field emb
	[[ $stderr == *"need --semantic"* ]]
	run -2 --separate-stderr ise-dedup --semantic 0.9 --embedding-field emb --embed-url http://localhost:1/v1
	[[ $stderr == *"two sources"* ]]
	run -2 --separate-stderr ise-dedup --semantic 0.9 --embedding-field emb --dim 64
	run -2 --separate-stderr ise-dedup --semantic 0.9 --embed-model m
	run -2 --separate-stderr ise-dedup --semantic 2
	for bad in "--threshold 0" "--threshold 1.5" "--threshold x" "--perm 0" "--ngram 0" "--ngram 65"; do
		run -2 --separate-stderr ise-dedup $bad
		[[ $stderr == *"invalid value for ${bad%% *}"* ]] || fail "$bad: $stderr"
	done
	run -2 --separate-stderr ise-dedup --dupes same.jsonl -o same.jsonl
}

# near_copies: 60 records of distinct texts with 16-dimensional vectors,
# every fifth a slightly moved copy of the one before (cosine near 0.999),
# as JSON Lines with the vectors (v.jsonl), without them (bare.jsonl) and
# as a float64 .npy file (v.npy).
near_copies() {
	python3 - <<'PY'
import json, random
r = random.Random(1)
rows = []
for i in range(60):
    v = [r.gauss(0, 1) for _ in range(16)]
    if i % 5 == 4:
        v = [x + r.gauss(0, 0.02) for x in rows[-1]]
    rows.append(v)
with open("v.jsonl", "w") as f, open("bare.jsonl", "w") as g:
    for i, v in enumerate(rows):
        rec = {"id": "n%d" % i, "natural_language_intent": "task number %d of the list" % (i * 7919)}
        g.write(json.dumps(rec) + "\n")
        rec["emb"] = v
        f.write(json.dumps(rec) + "\n")
PY
	python3 "$ROOT/tests/npy_craft.py" from-jsonl emb '<f8' v.npy <v.jsonl
}

@test "--semantic --embeddings keeps and removes what --embedding-field does with the same vectors" {
	near_copies
	run -0 ise-dedup -q --semantic 0.99 --embedding-field emb --dupes d1.jsonl v.jsonl
	kept=$output
	assert_equal "$(jq -r 'select(.rule == "semantic") | .id' d1.jsonl | tr '\n' ' ')" "n4 n9 n14 n19 n24 n29 n34 n39 n44 n49 n54 n59 "
	# the same records, bytes and similarities
	run -0 ise-dedup -q --semantic 0.99 --embeddings v.npy --dupes d2.jsonl --summary s.json v.jsonl
	assert_equal "$output" "$kept"
	cmp d1.jsonl d2.jsonl
	assert_equal "$(jq -r .semantic.embedder s.json)" npy:v.npy
	# the records need not hold the vectors
	run -0 ise-dedup -q --semantic 0.99 --embeddings v.npy --dupes d3.jsonl bare.jsonl
	assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id <<<"$kept")"
	assert_equal "$(jq -c '[.id, .duplicate_of, .similarity]' d3.jsonl)" "$(jq -c '[.id, .duplicate_of, .similarity]' d1.jsonl)"
	# float32 rows: the same decisions, cosines close
	python3 "$ROOT/tests/npy_craft.py" from-jsonl emb '<f4' v4.npy <v.jsonl
	run -0 ise-dedup -q --semantic 0.99 --embeddings v4.npy --dupes d4.jsonl bare.jsonl
	assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id <<<"$kept")"
	assert_equal "$(jq -c '[.id, .duplicate_of]' d4.jsonl)" "$(jq -c '[.id, .duplicate_of]' d1.jsonl)"
}

@test "--semantic --save-embeddings then --embeddings: the same kept and removed records" {
	c=$(corpus)
	head -n 400 "$c" >in.jsonl
	run -0 ise-dedup -q --semantic 0.5 --dupes d1.jsonl --save-embeddings h.npy in.jsonl
	kept=$output
	run -0 ise-dedup -q --semantic 0.5 --dupes d2.jsonl --embeddings h.npy in.jsonl
	assert_equal "$output" "$kept"
	cmp d1.jsonl d2.jsonl
	[ "$(jq -r 'select(.rule == "semantic") | .id' d1.jsonl | wc -l)" -gt 0 ]
	# the rows of the records the first passes removed are zeros, the others not
	jq -r 'select(.rule != "semantic") | .id' d1.jsonl >early.txt
	[ -s early.txt ]
	run -0 python3 -c 'import json, struct, sys
data = open("h.npy", "rb").read()
assert data[:10] == b"\x93NUMPY\x01\x00\x76\x00" and len(data) == 128 + 400 * 768 * 8
ids = [json.loads(line)["id"] for line in open("in.jsonl")]
early = set(open("early.txt").read().split())
for i, id in enumerate(ids):
    row = data[128 + i * 768 * 8:128 + (i + 1) * 768 * 8]
    if (row == bytes(len(row))) != (id in early):
        sys.exit("row %d (%s) is wrong" % (i, id))
print("ok")'
	assert_output ok
}

@test "--embeddings in ise-dedup: a file without a row per record is fatal; the file options need --semantic" {
	near_copies
	head -n 59 bare.jsonl >short.jsonl
	run -3 --separate-stderr ise-dedup -q --semantic 0.99 --embeddings v.npy short.jsonl
	assert_equal "$stderr" "ise-dedup: v.npy: 60 rows, but the input has 59 records"
	assert_equal "$output" ""
	printf 'not a npy file\n' >x.npy
	run -3 --separate-stderr ise-dedup -q --semantic 0.99 --embeddings x.npy bare.jsonl
	assert_equal "$stderr" "ise-dedup: x.npy: not a .npy file (no \\x93NUMPY magic)"
	run -2 --separate-stderr ise-dedup --embeddings v.npy bare.jsonl
	[[ $stderr == *"need --semantic"* ]] || fail "$stderr"
	run -2 --separate-stderr ise-dedup --save-embeddings s.npy bare.jsonl
	[[ $stderr == *"need --semantic"* ]] || fail "$stderr"
	run -2 --separate-stderr ise-dedup --semantic 0.9 --embeddings v.npy --embedding-field emb bare.jsonl
	[[ $stderr == "ise-dedup: --embeddings reads the vectors from a file: not with"* ]] || fail "$stderr"
	[ ! -e s.npy ]
}

@test "the summary: on stderr unless -q, as JSON with --summary" {
	{ rec a "one two three four five six"; rec b "One two three four five six"; rec c "seven"; } >in.jsonl
	run -0 --separate-stderr ise-dedup in.jsonl
	[[ $stderr =~ ^"ise-dedup: 3 records, 2 kept, 1 removed (0 exact, 1 normalized, 0 minhash, 0 semantic); minhash: 32 bands x 4 rows, 0 pairs verified, 0 at or above 0.7; "[0-9.]+" s"$ ]] || fail "$stderr"
	run -0 --separate-stderr ise-dedup -q --summary s.json --perm 256 --threshold 0.8 in.jsonl
	assert_equal "$stderr" ""
	run -0 jq -c 'del(.seconds, .minhash.miss_at_threshold)' s.json
	assert_output '{"records":3,"kept":2,"removed":1,"rules":{"exact":0,"normalized":1,"minhash":0,"semantic":0},"minhash":{"threshold":0.8,"ngram":5,"perm":256,"bands":36,"rows":7,"pairs_verified":0,"pairs_joined":0,"seed":"1"},"semantic":null,"field":"natural_language_intent"}'
	# 36 bands of 7 rows miss a pair at J = 0.8 with probability (1 - 0.8^7)^36
	jq -e '.seconds >= 0 and (.minhash.miss_at_threshold - 0.000209031 | fabs) < 1e-9' s.json
}

@test "--resume completes the output and the dupes file after a crash" {
	c=$(corpus)
	ise-dedup -q -o full.jsonl --dupes fulld.jsonl "$c"
	# a crash: 100 kept records written, 10 dupes and a torn eleventh
	head -n 100 full.jsonl >part.jsonl
	head -n 10 fulld.jsonl >partd.jsonl
	sed -n 11p fulld.jsonl | head -c 30 >>partd.jsonl
	run -0 --separate-stderr ise-dedup -q -o part.jsonl --dupes partd.jsonl --resume "$c"
	[[ $stderr == *"cutting a torn last line"* ]]
	cmp part.jsonl full.jsonl
	cmp partd.jsonl fulld.jsonl
}

@test "20,000 near-copies of one text: one cluster, found without comparing every pair" {
	c=$(corpus)
	head -n 1 "$c" | jq -c '. as $r | range(20000) |
		{id: "r\(.)", natural_language_intent: "\($r.natural_language_intent) item \(.)"}' >near.jsonl
	run -0 --separate-stderr ise-dedup -q --summary s.json near.jsonl
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq .rules.minhash s.json)" 19999
	# a bucket's texts already in one cluster are skipped as a group: one
	# verification per text, not one per pair
	assert_equal "$(jq .minhash.pairs_verified s.json)" 19999
}
