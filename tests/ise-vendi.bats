#!/usr/bin/env bats
# ise-vendi: the Vendi Score against a numpy reference and exact cases,
# bootstrap, curve and slices, the lexical measures against NLTK, the
# embedders, bad input.
load helper
load fake

FIX="$BATS_TEST_DIRNAME/fixtures"
INTENTS="$FIX/vendi-intents.jsonl"

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# pool N ALPHA: the generated pool (tests/fixtures/vendi_gen.py, d = 768),
# made once per file.
pool() {
	local f="$BATS_FILE_TMPDIR/pool-$1-$2.jsonl"
	[ -s "$f" ] || python3 "$FIX/vendi_gen.py" "$1" 768 "$2" >"$f"
	echo "$f"
}

# close A B [REL]: |A - B| <= REL |B| (default 1e-9)
close() {
	awk -v a="$1" -v b="$2" -v r="${3:-1e-9}" 'BEGIN {
		d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b
		if (d > r * m) { printf "%s differs from %s by %.3g relative\n", a, b, d / m; exit 1 } }'
}

# check_orders FILE WANT...: the scores of orders 1,2,inf,0.5,0.1,0 in FILE
# (one ise-vendi object) against WANT, to 1e-9 relative (or $REL).
check_orders() {
	local f=$1 q i=0
	shift
	local -a got
	read -r -a got < <(jq -r '[.vendi["1","2","inf","0.5","0.1","0"]] | map(tostring) | join(" ")' "$f")
	for q in 1 2 inf 0.5 0.1 0; do
		close "${got[$i]}" "$1" "${REL:-1e-9}" || fail "q=$q: ${got[$i]} against $1"
		shift
		i=$((i + 1))
	done
}

# splitmix N ALPHA: the splitmix vectors (tests/unit/splitmix_gen.c, seed 0,
# d = 768) made once per file; prints the stem of STEM.jsonl (an "emb" array
# in each record), STEM.ids.jsonl (the same records without it),
# STEM.f8.npy and STEM.f4.npy.
splitmix() {
	local f="$BATS_FILE_TMPDIR/splitmix-$1-$2"
	if [ ! -s "$f.ids.jsonl" ]; then
		"$ISE_TESTPROGS/splitmix_gen" "$1" 768 "$2" 0 "$f" >&2 &&
			awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"r%d\"}\n", i }' \
				>"$f.ids.jsonl" || return
	fi
	echo "$f"
}

# splitmix_check N ALPHA WANT...: the six orders of the splitmix vectors
# against WANT to 1e-9, read from JSON Lines and from the float64 .npy file
# (the same doubles: the same scores, bit for bit), and from the float32
# file to 1e-5.
splitmix_check() {
	local s q='--q 1,2,inf,0.5,0.1,0'
	s=$(splitmix "$1" "$2")
	shift 2
	ise-vendi --embedding-field emb $q -o jsonl.json "$s.jsonl"
	check_orders jsonl.json "$@"
	ise-vendi --embeddings "$s.f8.npy" $q -o f8.json "$s.ids.jsonl"
	check_orders f8.json "$@"
	assert_equal "$(jq -c .vendi f8.json)" "$(jq -c .vendi jsonl.json)"
	assert_equal "$(jq -r .embedder f8.json)" "npy:$s.f8.npy"
	ise-vendi --embeddings "$s.f4.npy" $q -o f4.json "$s.ids.jsonl"
	REL=1e-5 check_orders f4.json "$@"
}

# The reference values were computed by bench/peer_vendi.py (numpy
# eigvalsh, float64) on the same generated vectors (tests/fixtures/
# vendi_gen.py): published values for this family of pools come from a
# generator whose exact definition is not given, so these are this one's.
@test "every order agrees with the numpy reference to 1e-9: primal (N < d) and dual (N > d)" {
	local q='--q 1,2,inf,0.5,0.1,0'
	run -0 ise-vendi --embedding-field emb $q -o a.json "$(pool 500 0)"
	check_orders a.json 362.2718553198753 304.2341641653243 155.43344743427798 \
		414.9002830872223 479.45767650919186 500
	[ "$(jq -r '.method' a.json)" = primal ]
	ise-vendi --embedding-field emb $q -o b.json "$(pool 500 0.62)"
	check_orders b.json 47.6327095737038 12.821711222956251 4.304025221166388 \
		162.93135806647538 408.9012089336824 500
	ise-vendi --embedding-field emb $q -o c.json "$(pool 1000 0)"
	check_orders c.json 523.798911890758 435.1451718580363 219.02449063912317 \
		610.524341677532 727.9203024568824 768
	[ "$(jq -r '.method' c.json)" = dual ]
	ise-vendi --embedding-field emb $q -o d.json "$(pool 1000 0.62)"
	check_orders d.json 53.33143554246539 13.298385726097461 4.404054933453187 \
		213.66596133879474 609.7728978140577 768
}

@test "GSL's eigensolver (ISE_VENDI_EIGEN=gsl) agrees with the numpy reference as well" {
	local q='--q 1,2,inf,0.5,0.1,0'
	ISE_VENDI_EIGEN=gsl ise-vendi --embedding-field emb $q -o b.json "$(pool 500 0.62)"
	assert_equal "$(jq -r .eigensolver b.json)" gsl_eigen_symm
	check_orders b.json 47.6327095737038 12.821711222956251 4.304025221166388 \
		162.93135806647538 408.9012089336824 500
	ISE_VENDI_EIGEN=gsl ise-vendi --embedding-field emb $q -o d.json "$(pool 1000 0.62)"
	check_orders d.json 53.33143554246539 13.298385726097461 4.404054933453187 \
		213.66596133879474 609.7728978140577 768
	ise-vendi --embedding-field emb -o l.json "$(pool 500 0.62)"
	assert_equal "$(jq -r .eigensolver l.json)" "lapack dsyevd"
}

@test "a pool streamed through the Gram matrix in several blocks agrees too" {
	# 5000 rows: four blocks of 1024 and one of 904; and the same with every
	# row kept, summed in the same blocks: the same scores to the last bit
	ise-vendi --embedding-field emb --q 1,2,inf,0.5,0.1,0 -o a.json "$(pool 5000 0.62)"
	check_orders a.json 58.7403837939346 13.663102257641265 4.46105491107438 \
		248.10321173617493 638.9782716986839 768
	ise-vendi --embedding-field emb --q 1,2,inf,0.5,0.1,0 --curve all -o b.json "$(pool 5000 0.62)"
	check_orders b.json 58.7403837939346 13.663102257641265 4.46105491107438 \
		248.10321173617493 638.9782716986839 768
	assert_equal "$(jq -c .vendi b.json)" "$(jq -c .vendi a.json)"
	run -0 jq -r '.curve[0].vendi["1"]' b.json
	close "$output" 58.7403837939346
}

# The reference scores of the splitmix vectors: entry (i, j) of the
# N x 768 matrix is (u - 0.5) (j + 1)^-alpha with u the top 53 bits of
# splitmix64((seed << 32) + 768 i + j) over 2^53, seed 0, rows then scaled
# to length 1; the values were computed by numpy (eigvalsh of the dual
# matrix, float64, eigenvalues under 1e-12 of the largest dropped).
@test "the splitmix generator: splitmix64(0), and the first entry of row 0" {
	run -0 "$ISE_TESTPROGS/splitmix_gen" --first
	assert_output E220A8397B1DCDAF
	s=$(splitmix 500 0)
	run -0 python3 -c 'import json, sys
x = json.loads(open(sys.argv[1]).readline())["emb"][0]
print(x == (0xE220A8397B1DCDAF >> 11) * 2.0**-53 - 0.5)' "$s.jsonl"
	assert_output True
}

@test "reference scores at N = 500, alpha 0, from JSON Lines and from .npy (float64, float32)" {
	splitmix_check 500 0 361.2002361780094 302.91279136677923 155.61661788614387 \
		414.20261453076915 479.2867207364534 500
	[ "$(jq -r '.method' f8.json)" = primal ]
}

@test "reference scores at N = 500, alpha 0.62, from JSON Lines and from .npy (float64, float32)" {
	splitmix_check 500 0.62 48.31360326462827 13.091920246767348 4.380954134115668 \
		163.6054198136701 409.00559384610847 500
}

@test "reference scores at N = 5,000, alpha 0.62, from JSON Lines and from .npy (float64, float32)" {
	splitmix_check 5000 0.62 59.2468671556158 13.739677138725776 4.461464369051409 \
		249.08936704246062 639.3258687857517 768
	[ "$(jq -r '.method' f8.json)" = dual ]
}

@test "--embeddings: every malformed file is a fatal error naming it, exit 3, no output" {
	python3 "$ROOT/tests/npy_craft.py" bad bad
	printf '%s\n' '{"id":"a"}' '{"id":"b"}' '{"id":"c"}' >three.jsonl
	local n=0 name message
	while IFS=$'\t' read -r name message; do
		run -3 --separate-stderr ise-vendi --embeddings "bad/$name.npy" three.jsonl
		# a value that is not finite is found as its row is read
		if [[ $message == *"not a finite number" ]]; then
			assert_equal "$stderr" "ise-vendi: embedding: bad/$name.npy: $message"
		else
			assert_equal "$stderr" "ise-vendi: bad/$name.npy: $message"
		fi
		assert_equal "$output" ""
		n=$((n + 1))
	done <bad/cases
	[ "$n" -ge 20 ] || fail "only $n cases"
	run -3 --separate-stderr ise-vendi --embeddings missing.npy three.jsonl
	assert_equal "$stderr" "ise-vendi: missing.npy: cannot open: No such file or directory"
	run -3 --separate-stderr ise-vendi --embeddings . three.jsonl
	assert_equal "$stderr" "ise-vendi: .: not a regular file (it is mapped)"
}

@test "--embeddings: format versions 1.0, 2.0 and 3.0, any key order, float32 widened exactly" {
	"$ISE_TESTPROGS/splitmix_gen" 3 768 0.62 0 three
	# the two writers of test files agree byte for byte
	python3 "$ROOT/tests/npy_craft.py" from-jsonl emb '<f8' v1.npy <three.jsonl
	cmp v1.npy three.f8.npy
	want=$(ise-vendi --embedding-field emb --q 0,1,inf three.jsonl | jq -c .vendi)
	python3 - <<'PY'
import struct
body = open("v1.npy", "rb").read()[128:]
for name, version, text in [
        ("v2.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 768), }"),
        ("v3.npy", 3, '{"shape": (3,768,),"fortran_order":False ,"descr":"<f8"}')]:
    h = (text + " " * 7 + "\n").encode()
    open(name, "wb").write(b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h)) + h + body)
PY
	for f in v1 v2 v3; do
		run -0 --separate-stderr ise-vendi --embeddings $f.npy --q 0,1,inf three.jsonl
		assert_equal "$(jq -c .vendi <<<"$output")" "$want"
	done
	# float32 values are the float64 scores of those values widened
	python3 "$ROOT/tests/npy_craft.py" read three.f4.npy |
		jq -c '.rows[] | {emb: .}' >widened.jsonl
	run -0 ise-vendi --embeddings three.f4.npy --q 0,1,inf three.jsonl
	assert_equal "$(jq -c .vendi <<<"$output")" \
		"$(ise-vendi --embedding-field emb --q 0,1,inf widened.jsonl | jq -c .vendi)"
}

@test "--embeddings: a row count that is not the record count is fatal, with both numbers" {
	s=$(splitmix 500 0)
	head -n 499 "$s.ids.jsonl" >short.jsonl
	run -3 --separate-stderr ise-vendi --embeddings "$s.f8.npy" short.jsonl
	assert_equal "$stderr" "ise-vendi: $s.f8.npy: 500 rows, but the input has 499 records"
	assert_equal "$output" ""
	{ cat "$s.ids.jsonl"; echo '{"id":"extra1"}'; echo '{"id":"extra2"}'; } >long.jsonl
	run -3 --separate-stderr ise-vendi --embeddings "$s.f8.npy" - <long.jsonl
	assert_equal "$stderr" "ise-vendi: $s.f8.npy: 500 rows, but the input has 502 records"
	# a line that is not a record has no row; a record left out has one
	{ head -n 2 "$s.ids.jsonl"; echo 'not json'; echo '{"id":"x","k":{}}'; tail -n +3 "$s.ids.jsonl" | head -n 497; } >mixed.jsonl
	run -1 --separate-stderr ise-vendi --by k --embeddings "$s.f8.npy" mixed.jsonl
	assert_equal "$(jq .n <<<"$output")" 499
	assert_equal "${#stderr_lines[@]}" 2
}

@test "--embeddings keeps the records' part: ids, --by, --lexical, --subsample, --curve" {
	ise-vendi --save-embeddings v.npy "$INTENTS" >/dev/null
	local opts='--by complexity --lexical --subsample 50 --bootstrap 3 --curve 20,all --q 0,1'
	run -0 ise-vendi $opts "$INTENTS"
	a=$output
	run -0 ise-vendi $opts --embeddings v.npy "$INTENTS"
	assert_equal "$(jq -c 'del(.embedder)' <<<"$output")" "$(jq -c 'del(.embedder)' <<<"$a")"
	assert_equal "$(jq -r .embedder <<<"$output" | sort -u)" npy:v.npy
	# a row of zeros is no vector: that record is reported and left out
	python3 - <<'PY'
b = bytearray(open("v.npy", "rb").read())
b[128 + 5 * 768 * 8:128 + 6 * 768 * 8] = bytes(768 * 8)
open("zero.npy", "wb").write(b)
PY
	run -1 --separate-stderr ise-vendi --embeddings zero.npy "$INTENTS"
	assert_equal "$stderr" "ise-vendi: $INTENTS:6: row 5 of zero.npy is the zero vector"
	assert_equal "$(jq .n <<<"$output")" 239
}

@test "--save-embeddings then --embeddings: the same output but for the embedder, for every source" {
	local q='--q 0,0.5,1,2,inf'
	# the built-in embedder
	run -0 ise-vendi $q --save-embeddings h.npy "$INTENTS"
	a=$output
	run -0 ise-vendi $q --embeddings h.npy "$INTENTS"
	assert_equal "$(jq -c 'del(.embedder, .field)' <<<"$output")" "$(jq -c 'del(.embedder, .field)' <<<"$a")"
	# vectors in the records, and a file of float32 saved again as float64
	s=$(splitmix 500 0.62)
	run -0 ise-vendi $q --embedding-field emb --save-embeddings e.npy "$s.jsonl"
	a=$output
	cmp e.npy "$s.f8.npy"
	run -0 ise-vendi $q --embeddings e.npy "$s.ids.jsonl"
	assert_equal "$(jq -c 'del(.embedder)' <<<"$output")" "$(jq -c 'del(.embedder)' <<<"$a")"
	run -0 ise-vendi $q --embeddings "$s.f4.npy" --save-embeddings f4as8.npy "$s.ids.jsonl"
	a=$output
	run -0 ise-vendi $q --embeddings f4as8.npy "$s.ids.jsonl"
	assert_equal "$(jq -c 'del(.embedder)' <<<"$output")" "$(jq -c 'del(.embedder)' <<<"$a")"
	# an endpoint
	fake_start
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	run -0 ise-vendi $q --embed-url "$FAKE_URL/v1" --save-embeddings o.npy "$INTENTS"
	a=$output
	fake_stop
	run -0 ise-vendi $q --embeddings o.npy "$INTENTS"
	assert_equal "$(jq -c 'del(.embedder, .field)' <<<"$output")" "$(jq -c 'del(.embedder, .field)' <<<"$a")"
	assert_equal "$(python3 "$ROOT/tests/npy_craft.py" read o.npy | jq -c .shape)" '[240,8]'
}

@test "--save-embeddings: numpy's header, float64 rows as the source gave them, zeros for records left out" {
	printf '%s\n' '{"v":[3,4]}' '{"v":"x"}' '{"v":[0.1,-2.5e-300]}' >v.jsonl
	run -1 ise-vendi --embedding-field v --save-embeddings s.npy v.jsonl
	# the header bytes, as numpy.save writes them
	assert_equal "$(head -c 10 s.npy | od -An -tx1 | tr -d ' \n')" 934e554d505901007600
	assert_equal "$(head -c 128 s.npy | tail -c 118)" \
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }$(printf '%58s')"
	assert_equal "$(head -c 128 s.npy | tail -c 1 | od -An -c | tr -d ' ')" '\n'
	assert_equal "$(wc -c <s.npy)" $((128 + 3 * 2 * 8))
	run -0 python3 "$ROOT/tests/npy_craft.py" read s.npy
	assert_equal "$(jq -c '[.version, .descr, .fortran_order, .shape, .rows]' <<<"$output")" \
		'[[1,0],"<f8",false,[3,2],[[3,4],[0,0],[0.1,-2.5e-300]]]'
	# no temporary file is left beside it
	assert_equal "$(ls)" "s.npy
v.jsonl"
}

@test "--save-embeddings is atomic: a run that fails or stops early leaves no file" {
	s=$(splitmix 500 0)
	mkdir out
	echo old >out/keep.npy
	# a fatal error after the vectors were written
	run -3 ise-vendi --embeddings "$s.f8.npy" --save-embeddings out/keep.npy "$INTENTS"
	assert_equal "$(cat out/keep.npy)" old
	run -3 ise-vendi --embeddings "$s.f8.npy" --save-embeddings out/new.npy "$INTENTS"
	# --strict stops at a bad record
	{ head -n 3 "$INTENTS"; echo '{"id":"x"}'; tail -n +4 "$INTENTS"; } >bad.jsonl
	run -1 ise-vendi --strict --save-embeddings out/new.npy bad.jsonl
	assert_equal "$(ls out)" keep.npy
	# a directory that cannot take the file fails before any work
	run -3 --separate-stderr ise-vendi --save-embeddings no/such/dir/v.npy "$INTENTS"
	[[ $stderr == "ise-vendi: no/such/dir/v.npy: cannot create 'no/such/dir/v.npy."*".tmp': No such file or directory" ]] ||
		fail "$stderr"
}

@test "--embeddings and --save-embeddings: usage errors" {
	for args in "--embeddings v.npy --embedding-field emb" "--embeddings v.npy --embed-url http://127.0.0.1:9/v1" \
		"--embeddings v.npy --dim 64" "--save-embeddings -" "--save-embeddings $INTENTS" \
		"--save-embeddings x.npy -o x.npy" "--embeddings=" "--save-embeddings="; do
		run -2 --separate-stderr ise-vendi $args "$INTENTS"
		assert_equal "${stderr_lines[1]}" "Try 'ise-vendi --help' for more information."
	done
	[ ! -e x.npy ]
}

@test "the eigenvalues sum to 1, q=0 is the rank, and the score never grows with q" {
	ise-vendi --embedding-field emb --q 0,0.1,0.5,1,2,inf -o a.json "$(pool 500 0.62)"
	run -0 jq -r '.trace' a.json
	close "$output" 1 1e-12
	run -0 jq -r '.rank' a.json
	assert_output 500
	run -0 jq -r '.vendi | [.["0"], .["0.1"], .["0.5"], .["1"], .["2"], .["inf"]] |
		. as $v | [range(1; length) | $v[. - 1] >= $v[.]] | all' a.json
	assert_output true
}

@test "exact cases: orthogonal vectors, copies, and a 2:1 mixture" {
	# K's eigenvalues: 1/3 each; then 1; then 2/3 and 1/3
	printf '%s\n' '{"v":[1,0,0]}' '{"v":[0,2,0]}' '{"v":[0,0,-5]}' >orth.jsonl
	run -0 ise-vendi --embedding-field v --q 0,0.5,1,2,inf orth.jsonl
	for q in 0 0.5 1 2 inf; do
		close "$(jq -r ".vendi[\"$q\"]" <<<"$output")" 3 1e-12 || fail "q=$q"
	done
	printf '%s\n' '{"v":[1,2]}' '{"v":[2,4]}' '{"v":[0.5,1]}' >same.jsonl
	run -0 ise-vendi --embedding-field v --q 0,1,inf same.jsonl
	# printed exactly, so the last bit of rounding shows: within 1e-12 of 1
	for q in 0 1 inf; do
		close "$(jq -r ".vendi[\"$q\"]" <<<"$output")" 1 1e-12 || fail "q=$q"
	done
	printf '%s\n' '{"v":[1,0]}' '{"v":[3,0]}' '{"v":[0,1]}' >mix.jsonl
	run -0 ise-vendi --embedding-field v --q 0,1,2,inf mix.jsonl
	close "$(jq -r '.vendi["1"]' <<<"$output")" "$(awk 'BEGIN { printf "%.17g", exp(-(2/3 * log(2/3) + 1/3 * log(1/3))) }')" 1e-12
	close "$(jq -r '.vendi["2"]' <<<"$output")" 1.8 1e-12
	close "$(jq -r '.vendi["inf"]' <<<"$output")" 1.5 1e-12
	assert_equal "$(jq -r '.vendi["0"]' <<<"$output")" 2
}

@test "the output names the embedder, the kernel and the method" {
	run -0 ise-vendi "$INTENTS"
	run -0 jq -c '{n, embedder, field, dim, kernel, eps, method, eigensolver}' <<<"$output"
	assert_output '{"n":240,"embedder":"hash-ngram-768","field":"natural_language_intent","dim":768,"kernel":"cosine","eps":1e-12,"method":"primal","eigensolver":"lapack dsyevd"}'
	run -0 ise-vendi --dim 64 "$INTENTS"
	assert_equal "$(jq -c '[.embedder, .dim, .method]' <<<"$output")" '["hash-ngram-64",64,"dual"]'
	run -0 ise-vendi --embedding-field emb "$(pool 500 0)"
	assert_equal "$(jq -r .embedder <<<"$output")" field:emb
	[ "$(jq 'has("field")' <<<"$output")" = false ]
}

@test "the built-in embedder ignores case and spacing, and is deterministic" {
	printf '%s\n' '{"t":"Compress the LOGS  in /var/log"}' '{"t":"compress the logs in /var/log"}' >same.jsonl
	run -0 ise-vendi --field t --q 0,1 same.jsonl
	assert_equal "$(jq -c '.vendi["0"]' <<<"$output")" 1
	close "$(jq -c '.vendi["1"]' <<<"$output")" 1 1e-12
	run -0 ise-vendi "$INTENTS"
	a=$output
	run -0 ise-vendi "$INTENTS"
	assert_equal "$output" "$a"
	# more varied text scores higher
	for i in $(seq 40); do echo "{\"t\":\"archive the logs of team $((i % 2))\"}"; done >narrow.jsonl
	jq -c '{t: .natural_language_intent}' "$INTENTS" | head -n 40 >wide.jsonl
	narrow=$(ise-vendi --field t narrow.jsonl | jq '.vendi["1"]')
	wide=$(ise-vendi --field t wide.jsonl | jq '.vendi["1"]')
	awk -v a="$narrow" -v b="$wide" 'BEGIN { exit !(a < 2.5 && b > 2 * a) }' || fail "$narrow $wide"
}

@test "--subsample --bootstrap: draws, mean and sd, replacement stated, seeded" {
	run -0 ise-vendi --subsample 50 --bootstrap 12 --q 1,inf "$INTENTS"
	a=$output
	run -0 jq -c '.bootstrap | [.size, .draws, .replacement, (.values["1"] | length), (.values.inf | length)]' <<<"$a"
	assert_output '[50,12,false,12,12]'
	# the mean and the sample sd (n - 1) of the draws
	mean=$(jq '.bootstrap.values["1"] | add / length' <<<"$a")
	close "$(jq '.bootstrap.mean["1"]' <<<"$a")" "$mean" 1e-12
	sd=$(jq '.bootstrap.values["1"] | (add / length) as $m | (map((. - $m) * (. - $m)) | add) / (length - 1) | sqrt' <<<"$a")
	close "$(jq '.bootstrap.sd["1"]' <<<"$a")" "$sd" 1e-9
	# draws differ from each other, and a draw is smaller than the pool
	assert_equal "$(jq '.bootstrap.values["1"] | unique | length' <<<"$a")" 12
	run -0 jq '.bootstrap.mean["1"] < .vendi["1"]' <<<"$a"
	assert_output true
	# the same seed the same draws, another seed others
	run -0 ise-vendi --subsample 50 --bootstrap 12 --q 1,inf "$INTENTS"
	assert_equal "$output" "$a"
	run -0 ise-vendi -s 2 --subsample 50 --bootstrap 12 --q 1,inf "$INTENTS"
	[ "$(jq -c .bootstrap.values <<<"$output")" != "$(jq -c .bootstrap.values <<<"$a")" ]
	# adding --curve does not change the draws
	run -0 ise-vendi --subsample 50 --bootstrap 12 --q 1,inf --curve 10,all "$INTENTS"
	assert_equal "$(jq -c .bootstrap <<<"$output")" "$(jq -c .bootstrap <<<"$a")"
	run -0 ise-vendi --subsample 50 --bootstrap 3 --replace "$INTENTS"
	assert_equal "$(jq .bootstrap.replacement <<<"$output")" true
}

@test "--subsample of the whole pool without replacement is the pool's score every time" {
	run -0 ise-vendi --embedding-field emb --subsample 500 --bootstrap 3 "$(pool 500 0.62)"
	v=$(jq '.vendi["1"]' <<<"$output")
	run -0 jq -c --argjson v "$v" '.bootstrap.values["1"] | map(. == $v) | all' <<<"$output"
	assert_output true
	run -0 --separate-stderr ise-vendi --subsample 300 "$INTENTS"
	assert_equal "$(jq -c .bootstrap <<<"$output")" null
	[[ $stderr == *"the whole pool has 240 records, fewer than a draw of 300 without replacement: no bootstrap"* ]] || fail "$stderr"
	run -0 ise-vendi --subsample 300 --replace "$INTENTS"
	assert_equal "$(jq .bootstrap.draws <<<"$output")" 1
}

@test "--curve: nested prefixes of one permutation, all = the pool, sizes above it = all" {
	run -0 ise-vendi --curve 10,50,100,all --q 0,1 "$INTENTS"
	a=$output
	assert_equal "$(jq -c '[.curve[].n]' <<<"$a")" '[10,50,100,240]'
	# (two intents of the fixture are the same text: rank 239)
	assert_equal "$(jq -c '[.curve[].vendi["0"]]' <<<"$a")" '[10,50,100,239]'
	assert_equal "$(jq .rank <<<"$a")" 239
	close "$(jq '.curve[-1].vendi["1"]' <<<"$a")" "$(jq '.vendi["1"]' <<<"$a")" 1e-12
	# the same permutation whatever the sizes asked
	run -0 ise-vendi --curve 10,100 --q 0,1 "$INTENTS"
	assert_equal "$(jq -c '.curve[0]' <<<"$output")" "$(jq -c '.curve[0]' <<<"$a")"
	assert_equal "$(jq -c '.curve[1]' <<<"$output")" "$(jq -c '.curve[2]' <<<"$a")"
	run -0 ise-vendi -s 3 --curve 10 "$INTENTS"
	[ "$(jq -c '.curve[0].vendi' <<<"$output")" != "$(jq -c '.curve[0].vendi' <<<"$a")" ]
	run -0 --separate-stderr ise-vendi --curve 100,1000 "$INTENTS"
	assert_equal "$(jq -c '[.curve[].n]' <<<"$output")" '[100,240]'
	[[ $stderr == *"the whole pool has 240 records: curve point 1000 is the whole of it"* ]] || fail "$stderr"
	# dual points (n > d) grow one Gram matrix
	run -0 ise-vendi --embedding-field emb --curve 200,800,1000 --q 0 "$(pool 1000 0)"
	assert_equal "$(jq -c '[.curve[].vendi["0"]]' <<<"$output")" '[200,768,768]'
	for bad in 100,50 all,10 0 x; do
		run -2 --separate-stderr ise-vendi --curve "$bad" "$INTENTS"
		[[ $stderr == *"invalid value for --curve"* ]] || fail "$bad: $stderr"
	done
}

@test "--by: the whole pool first, then a line per value; arrays overlap; nested paths" {
	run -0 ise-vendi --by complexity "$INTENTS"
	assert_equal "${#lines[@]}" 4
	assert_equal "$(jq -sc 'map([.by, .slice, .n])' <<<"$output")" \
		"$(jq -sc '[["complexity", null, length]] + (group_by(.complexity) | map(["complexity", .[0].complexity, length]))' "$INTENTS")"
	# a slice scores as its records alone do
	jq -c 'select(.complexity == "medium")' "$INTENTS" >medium.jsonl
	alone=$(ise-vendi --q 0,1,2 medium.jsonl | jq -c .vendi)
	run -0 ise-vendi --by complexity --q 0,1,2 "$INTENTS"
	assert_equal "$(jq -c 'select(.slice == "medium") | .vendi' <<<"$output")" "$alone"
	run -0 ise-vendi --by domains "$INTENTS"
	assert_equal "$(jq -sc '[.[1:][] | .n] | add' <<<"$output")" "$(jq -s '[.[].domains | length] | add' "$INTENTS")"
	run -0 ise-vendi --by persona.experience_level "$INTENTS"
	assert_equal "$(jq -sc '[.[].slice]' <<<"$output")" '[null,"junior","mid","senior"]'
	# records without the field are in the pool only
	run -0 ise-vendi --by no_such_field "$INTENTS"
	assert_equal "$(jq -c '[.n, .unsliced]' <<<"$output")" '[240,240]'
	# an object is not a slice value
	{ head -n 3 "$INTENTS"; echo '{"id":"x","natural_language_intent":"a b c","complexity":{"a":1}}'; } >obj.jsonl
	run -1 --separate-stderr ise-vendi --by complexity obj.jsonl
	assert_equal "$stderr" "ise-vendi: obj.jsonl:4: 'complexity' is not a string, number, boolean or an array of them"
}

@test "--by with --subsample and --curve applies both to every slice" {
	run -0 ise-vendi --by complexity --subsample 20 --bootstrap 4 --curve 10,all "$INTENTS"
	run -0 jq -sc 'map([.bootstrap.draws, (.curve | length)])' <<<"$output"
	assert_output '[[4,2],[4,2],[4,2],[4,2]]'
}

# Reference values: bench/peer_vendi.py lexical, which runs NLTK 3.8's
# sentence_bleu exactly as Texygen's SelfBleu does, on the same tokens.
@test "--lexical: distinct-n and Self-BLEU equal the NLTK/Texygen reference" {
	run -0 ise-vendi --lexical --lexical-sample 0 "$INTENTS"
	assert_equal "$(jq -c '.lexical | [.k, .eligible, .texts]' <<<"$output")" '[20,125,125]'
	assert_equal "$(jq -c .lexical.distinct <<<"$output")" \
		'{"1":0.0472,"2":0.13305263157894737,"3":0.21955555555555556,"4":0.3035294117647059}'
	local want=(0.9865534625931699 0.9729139995010085 0.9552018076324372 0.9348961034173842) g
	for g in 2 3 4 5; do
		close "$(jq ".lexical.self_bleu[\"$g\"]" <<<"$output")" "${want[$((g - 2))]}" 1e-15 || fail "self-bleu-$g"
	done
	run -0 ise-vendi --lexical --lexical-sample 0 --k 5 "$INTENTS"
	assert_equal "$(jq -c .lexical.distinct <<<"$output")" \
		'{"1":0.03666666666666667,"2":0.165625,"3":0.30972222222222223,"4":0.49375}'
	want=(0.9933482869568925 0.9884931614165807 0.9782946880559068 0.9629364642020082)
	for g in 2 3 4 5; do
		close "$(jq ".lexical.self_bleu[\"$g\"]" <<<"$output")" "${want[$((g - 2))]}" 1e-15 || fail "self-bleu-$g"
	done
}

@test "--lexical: tokens as Python's str.lower().split() makes them (Unicode case and spaces)" {
	# fullwidth letters, no-break and ideographic spaces, a zero-width
	# space inside a word, final sigma, dotted capital I, U+001C
	printf '%s\n' '{"t":"Ｆｏｏ\u00a0BAR\u3000baz\u200bqux ΣΑΣ ΣΑΣ. İx Σ"}' \
		'{"t":"foo bar baz qux σας ςας x\u001cy"}' >u.jsonl
	run -0 ise-vendi --field t --lexical --k 4 u.jsonl
	assert_equal "$(jq -c .lexical.distinct <<<"$output")" '{"1":0.875,"2":1,"3":1,"4":1}'
	# NLTK on [t.lower().split() for t in texts]
	assert_equal "$(jq -c .lexical.self_bleu <<<"$output")" \
		'{"2":0.05979084437199157,"3":0.03931632259364,"4":0.03354193856825592,"5":0.032096837117108756}'
}

@test "--lexical: a seeded sample of N texts of at least K tokens" {
	run -0 ise-vendi --lexical --k 10 --lexical-sample 50 "$INTENTS"
	a=$output
	assert_equal "$(jq -c '.lexical | [.eligible, .texts]' <<<"$a")" \
		"[$(jq -r '.natural_language_intent | split(" ") | map(select(. != "")) | length' "$INTENTS" |
			awk '$1 >= 10' | wc -l),50]"
	run -0 ise-vendi --lexical --k 10 --lexical-sample 50 "$INTENTS"
	assert_equal "$output" "$a"
	run -0 ise-vendi -s 9 --lexical --k 10 --lexical-sample 50 "$INTENTS"
	[ "$(jq -c .lexical <<<"$output")" != "$(jq -c .lexical <<<"$a")" ]
	# distinct-n under the protocol: every text gives K - n + 1 n-grams
	printf '%s\n' '{"t":"a b c d"}' '{"t":"A B c e f"}' '{"t":"too short"}' >t.jsonl
	run -0 ise-vendi --field t --lexical --k 4 t.jsonl
	assert_equal "$(jq -c '.lexical | [.eligible, .distinct]' <<<"$output")" \
		'[2,{"1":0.625,"2":0.6666666666666666,"3":0.75,"4":1}]'
	run -2 ise-vendi --k 5 "$INTENTS"
}

@test "vectors from an OpenAI-compatible endpoint: batched, named, cached" {
	fake_start
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	run -0 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" --embed-model mini --embed-cache cache "$INTENTS"
	a=$output
	assert_equal "$(jq -r .embedder <<<"$a")" "openai:mini@$FAKE_URL/v1"
	assert_equal "$(jq -c '[.n, .dim]' <<<"$a")" '[240,8]'
	# 240 texts in requests of 32, in input order
	assert_equal "$(jq -s 'length' "$FAKE_LOG")" 8
	assert_equal "$(jq -s '[.[].body.input | length] | add' "$FAKE_LOG")" 240
	assert_equal "$(jq -r '.body.model' "$FAKE_LOG" | sort -u)" mini
	[[ $output$stderr != *SECRET* ]] || fail "the key leaked"
	# a second run asks nothing
	fake_reset
	run -0 ise-vendi --embed-url "$FAKE_URL/v1" --embed-model mini --embed-cache cache "$INTENTS"
	assert_equal "$output" "$a"
	[ ! -s "$FAKE_LOG" ]
	# an endpoint that refuses the key is fatal
	fake_tape '{"match":{"path":"/v1/embeddings"},"status":401,"repeat":-1}'
	run -3 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" "$INTENTS"
	[[ $stderr == "ise-vendi: embedding: "* ]] || fail "$stderr"
	fake_stop
}

@test "an embedding server that is still loading is waited for up to --wait; past it, exit 3" {
	fake_start
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	fake_shape '{"loading_s":1.5}'
	run -0 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" --wait 20 --timeout 10 "$INTENTS"
	assert_equal "$(jq -c '[.n, .dim]' <<<"$output")" '[240,8]'
	[[ $stderr == *"waiting for the server: HTTP 503: Loading model"*"of --wait 20)"* ]] || fail "$stderr"
	fake_reset
	fake_shape '{"loading_s":30}'
	run -3 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" --wait 1 --retries 0 "$INTENTS"
	[[ $stderr == *"Loading model"*"(not ready after --wait 1 s)"* ]] || fail "$stderr"
	# the same options in ise-dedup --semantic
	fake_reset
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	fake_shape '{"loading_s":1}'
	run -0 --separate-stderr ise-dedup -q --semantic 0.99 --embed-url "$FAKE_URL/v1" --wait 20 "$INTENTS"
	[ "$(wc -l <<<"$output")" -gt 200 ]
	[[ $stderr == *"waiting for the server"* ]] || fail "$stderr"
	fake_stop
	# without --embed-url they are accepted and change nothing
	run -0 ise-vendi --wait 5 --rpm 60 "$INTENTS"
}

@test "bad records: reported with file and line, left out, exit 1; --strict stops" {
	{
		head -n 2 "$INTENTS"
		echo '{"id":"x"}'
		echo '{"id":"y","natural_language_intent":"   "}'
		echo '{"id":"z","natural_language_intent":42}'
		tail -n +3 "$INTENTS"
	} >bad.jsonl
	run -0 ise-vendi "$INTENTS"
	good=$output
	run -1 --separate-stderr ise-vendi bad.jsonl
	assert_equal "$output" "$good"
	assert_equal "${stderr_lines[0]}" "ise-vendi: bad.jsonl:3: no string 'natural_language_intent' to measure"
	assert_equal "${stderr_lines[1]}" "ise-vendi: bad.jsonl:4: 'natural_language_intent' is empty"
	assert_equal "${stderr_lines[2]}" "ise-vendi: bad.jsonl:5: no string 'natural_language_intent' to measure"
	run -1 --separate-stderr ise-vendi --strict bad.jsonl
	assert_equal "$(jq .n <<<"$output")" 2
	assert_equal "${#stderr_lines[@]}" 1
}

@test "bad vectors: not an array, another length, not a number, all zero" {
	printf '%s\n' '{"v":[1,0]}' '{"v":"x"}' '{"v":[1,2,3]}' '{"v":[1,"a"]}' '{"v":[0,0]}' '{"v":[]}' '{"v":[0,1]}' >v.jsonl
	run -1 --separate-stderr ise-vendi --embedding-field v v.jsonl
	assert_equal "$(jq -c '[.n, .vendi["1"]]' <<<"$output")" '[2,2]'
	assert_equal "$stderr" "ise-vendi: v.jsonl:2: 'v' is not a non-empty array of numbers
ise-vendi: v.jsonl:3: 'v' has 3 numbers, earlier vectors 2
ise-vendi: v.jsonl:4: 'v'[1] is not a finite number
ise-vendi: v.jsonl:5: 'v' is the zero vector
ise-vendi: v.jsonl:6: 'v' is not a non-empty array of numbers"
}

@test "vectors of huge or tiny values, whose squares overflow or vanish, are directions like others" {
	printf '%s\n' '{"v":[1e200,0]}' '{"v":[0,3e-200]}' '{"v":[5e-324,0]}' \
		'{"v":[1.5e308,1.5e308]}' '{"v":[-1e-170,1e-170]}' >big.jsonl
	printf '%s\n' '{"v":[1,0]}' '{"v":[0,1]}' '{"v":[1,0]}' '{"v":[1,1]}' '{"v":[-1,1]}' >plain.jsonl
	run -0 ise-vendi --embedding-field v --q 0,0.5,1,2,inf plain.jsonl
	want=$output
	assert_equal "$(jq .n <<<"$want")" 5
	run -0 --separate-stderr ise-vendi --embedding-field v --q 0,0.5,1,2,inf big.jsonl
	assert_equal "$output" "$want"
	# and from a .npy file of the same doubles
	python3 "$ROOT/tests/npy_craft.py" from-jsonl v '<f8' big.npy <big.jsonl
	run -0 --separate-stderr ise-vendi --embeddings big.npy --q 0,0.5,1,2,inf big.jsonl
	assert_equal "$(jq -c 'del(.embedder)' <<<"$output")" "$(jq -c 'del(.embedder)' <<<"$want")"
}

@test "no records: n is 0 and there is no score" {
	run -0 ise-vendi </dev/null
	assert_equal "$(jq -c '[.n, .vendi]' <<<"$output")" '[0,null]'
}

@test "usage errors" {
	for args in "--bootstrap 3" "--replace" "--q" "--q 1,-1" "--q x" "--q 1,,inf" "--q 1," \
		"--embedding-field e --embed-url http://127.0.0.1:9/v1" "--embed-model m" \
		"--dim 1" "--dim 64 --embedding-field e" "--lexical-sample 5" "-o x --resume" \
		"--embed-cache d"; do
		run -2 --separate-stderr ise-vendi $args "$INTENTS"
		assert_equal "${stderr_lines[1]}" "Try 'ise-vendi --help' for more information."
	done
}

@test "--field '' and --embedding-field '' are usage errors, in ise-vendi as in ise-dedup" {
	for p in ise-vendi ise-dedup; do
		run -2 --separate-stderr "$p" --field '' /dev/null
		[[ $stderr == "$p: --field is empty"* ]] || fail "$p: $stderr"
		run -2 --separate-stderr "$p" --embedding-field '' /dev/null
		[[ $stderr == "$p: --embedding-field is empty"* ]] || fail "$p: $stderr"
	done
}

@test "an endpoint that refuses one over-long text (TEI 413/422) fails that record only, with its line" {
	fake_start
	head -n 40 "$INTENTS" >in.jsonl
	# record 5 gets a text far over the others
	jq -c 'if input_line_number == 5 then .natural_language_intent = ("long " * 400) else . end' in.jsonl >long.jsonl
	for code in 413 422; do
		fake_reset
		fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
		fake_shape "{\"embed_max_chars\":1500,\"embed_too_long_status\":$code}"
		run -1 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" long.jsonl
		assert_equal "$(jq .n <<<"$output")" 39
		[[ $stderr == *"long.jsonl:5: "*"HTTP $code: Input validation error"* ]] || fail "$stderr"
		assert_equal "$(grep -c 'long.jsonl:' <<<"$stderr")" 1
	done
	# a batch over TEI's max_client_batch_size is split, and every record is kept
	fake_reset
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{},"repeat":-1}'
	fake_shape '{"embed_max_batch":16}'
	run -0 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" in.jsonl
	assert_equal "$(jq .n <<<"$output")" 40
	# llama-server without --embeddings: fatal at once, naming the flag
	fake_reset
	fake_shape '{"no_embeddings":true}'
	run -3 --separate-stderr ise-vendi --embed-url "$FAKE_URL/v1" in.jsonl
	[[ $stderr == *"HTTP 501: This server does not support embeddings"*"to fix: start llama-server with --embeddings"* ]] || fail "$stderr"
	assert_equal "$(fake_requests /v1/embeddings)" 1
}

@test "the endpoint's replies without index fields or in base64 give the same score; the embedder names the served model" {
	fake_start
	fake_tape '{"match":{"path":"/v1/embeddings"},"reply":{"model":"BAAI/bge-small"},"repeat":-1}'
	run -0 ise-vendi --embed-url "$FAKE_URL/v1" "$INTENTS"
	want=$(jq -c .vendi <<<"$output")
	assert_equal "$(jq -r .embedder <<<"$output")" "openai:BAAI/bge-small@$FAKE_URL/v1"
	fake_shape '{"embed_no_index":true,"embed_base64":true}'
	run -0 ise-vendi --embed-url "$FAKE_URL/v1" "$INTENTS"
	assert_equal "$(jq -c .vendi <<<"$output")" "$want"
}
