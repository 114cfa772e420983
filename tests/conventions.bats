#!/usr/bin/env bats
# The conventions every program keeps (ise(7)), checked for every program in bin/.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "every program has a filter entry in helper.bash and a man page" {
	for p in $(programs); do
		filter_args "$p" >/dev/null || fail "$p: no filter_args entry in tests/helper.bash"
		[ -f "$ROOT/man/man1/$p.1" ] || fail "$p: no man page"
	done
}

@test "--help prints usage to stdout, nothing on stderr, exit 0" {
	for p in $(programs); do
		run -0 --separate-stderr "$p" --help
		assert_line --index 0 --regexp "^usage: $p "
		assert_output --partial "--version"
		[ -z "$stderr" ] || fail "$p --help wrote to stderr: $stderr"
		run -0 --separate-stderr "$p" -h
		assert_line --index 0 --regexp "^usage: $p "
	done
}

@test "--version prints 'NAME (ise) X.Y.Z'" {
	for p in $(programs); do
		run -0 "$p" --version
		assert_output --regexp "^$p \(ise\) [0-9]+\.[0-9]+\.[0-9]+$"
	done
}

@test "an unknown option is a usage error: one line, a hint, exit 2, no output" {
	for p in $(programs); do
		run -2 --separate-stderr "$p" --no-such-option
		assert_output ""
		assert_equal "${stderr_lines[0]}" "$p: unknown option '--no-such-option'"
		assert_equal "${stderr_lines[1]}" "Try '$p --help' for more information."
		run -2 --separate-stderr "$p" -Q
		assert_equal "${stderr_lines[0]}" "$p: unknown option '-Q'"
	done
}

@test "a bad value for a common option is a usage error naming it" {
	for p in $(programs); do
		local opt=--seed # every program that draws anything has it
		"$p" --help | grep -q -- --seed || opt=--max-line
		run -2 --separate-stderr "$p" $opt banana
		[[ $stderr == *"invalid value for $opt: 'banana'"* ]] || fail "$p: $stderr"
		run -2 --separate-stderr "$p" --resume
		[[ $stderr == *"--resume needs --output=FILE"* ]] || fail "$p: $stderr"
	done
}

@test "a bad line is reported with file and line, skipped, the good records kept, exit 1" {
	for p in $(programs); do
		filter_input "$p" >in.jsonl
		{ head -n 1 in.jsonl; echo '{"broken": '; tail -n +2 in.jsonl; } >bad.jsonl
		run -0 --separate-stderr "$p" $(filter_args "$p") <in.jsonl
		good=$output
		run -1 --separate-stderr "$p" $(filter_args "$p") <bad.jsonl
		[[ $stderr == "$p: <stdin>:2:"*"invalid JSON"* ]] || fail "$p: stderr was: $stderr"
		assert_equal "$output" "$good"
		# named files are reported by name
		run -1 --separate-stderr "$p" $(filter_args "$p" | sed 's/ *-$//') bad.jsonl
		[[ $stderr == "$p: bad.jsonl:2:"* ]] || fail "$p: stderr was: $stderr"
	done
}

@test "a record that is JSON but not an object is a bad record" {
	for p in $(programs); do
		{ filter_input "$p" | head -n 3; echo '[1,2]'; echo '"text"'; filter_input "$p" | tail -n +4; } >in.jsonl
		run -1 --separate-stderr "$p" $(filter_args "$p") <in.jsonl
		assert_equal "${stderr_lines[0]}" "$p: <stdin>:4: expected a JSON object"
		assert_equal "${stderr_lines[1]}" "$p: <stdin>:5: expected a JSON object"
	done
}

@test "JSON only cJSON takes (01, 1., a raw control byte) is a bad record, not copied on" {
	for p in $(programs); do
		{ filter_input "$p" | head -n 3; echo '{"id":"z1","n":01}'; echo '{"id":"z2","n":1.}'
			printf '{"id":"z3","s":"a\tb"}\n'; filter_input "$p" | tail -n +4; } >in.jsonl
		run -1 --separate-stderr "$p" $(filter_args "$p") <in.jsonl
		assert_equal "${stderr_lines[0]}" "$p: <stdin>:4:18: invalid JSON"
		assert_equal "${stderr_lines[1]}" "$p: <stdin>:5:18: invalid JSON"
		assert_equal "${stderr_lines[2]}" "$p: <stdin>:6:18: invalid JSON"
	done
}

@test "invalid UTF-8 and nesting past 1,000 levels are bad records that say so" {
	deep=$(printf '%*s' 1000 '' | tr ' ' '[')$(printf '%*s' 1000 '' | tr ' ' ']')
	for p in $(programs); do
		{ filter_input "$p" | head -n 3
			printf '{"id":"z1","s":"caf\xe9"}\n{"id":"z2","s":"\xed\xa0\x80"}\n{"id":"z3","s":"\xc0\xaf"}\n'
			echo "{\"id\":\"z4\",\"d\":$deep}"
			filter_input "$p" | tail -n +4; } >in.jsonl
		run -1 --separate-stderr "$p" $(filter_args "$p") <in.jsonl
		assert_equal "${stderr_lines[0]}" "$p: <stdin>:4:20: invalid UTF-8"
		assert_equal "${stderr_lines[1]}" "$p: <stdin>:5:17: invalid UTF-8"
		assert_equal "${stderr_lines[2]}" "$p: <stdin>:6:17: invalid UTF-8"
		assert_equal "${stderr_lines[3]}" "$p: <stdin>:7:1015: nested deeper than 1000 levels"
		! grep -q '"z[1-4]"' <<<"$output" || fail "$p passed a bad record on"
		[ -n "$output" ]
	done
}

@test "--strict stops at the first bad line with exit 1" {
	for p in $(programs); do
		filter_input "$p" >in.jsonl
		{ head -n 3 in.jsonl; echo 'nope'; tail -n +4 in.jsonl; echo 'nope again'; } >bad.jsonl
		run -1 --separate-stderr "$p" --strict $(filter_args "$p") <bad.jsonl
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == "$p: <stdin>:4:"* ]] || fail "$p: $stderr"
	done
}

@test "CRLF, blank lines, a byte order mark and a missing final newline are accepted" {
	for p in $(programs); do
		filter_input "$p" >in.jsonl
		run -0 "$p" $(filter_args "$p") <in.jsonl
		want=$output
		{ printf '\xef\xbb\xbf'; sed 's/$/\r/' in.jsonl | sed '3i\
   
'; } | head -c -2 >odd.jsonl
		run -0 --separate-stderr "$p" $(filter_args "$p") <odd.jsonl
		assert_equal "$output" "$want"
		assert_equal "$stderr" ""
	done
}

@test "a line over --max-line is a bad record and the stream goes on" {
	for p in $(programs); do
		filter_input "$p" >in.jsonl
		run -0 "$p" $(filter_args "$p") <in.jsonl
		want=$output
		{ head -n 2 in.jsonl; printf '{"pad":"%*s"}\n' 5000 x; tail -n +3 in.jsonl; } >long.jsonl
		run -1 --separate-stderr "$p" --max-line 4K $(filter_args "$p") <long.jsonl
		assert_equal "$stderr" "$p: <stdin>:3: line longer than 4096 bytes (raise it with --max-line)"
		assert_equal "$output" "$want"
		run -2 "$p" --max-line 0 $(filter_args "$p") <in.jsonl
	done
}

@test "a missing input file is fatal: exit 3 with its name" {
	for p in $(programs); do
		run -3 --separate-stderr "$p" $(filter_args "$p" | sed 's/ *-$//') no-such-file.jsonl
		[[ $stderr == *"cannot open 'no-such-file.jsonl': No such file or directory"* ]] || fail "$p: $stderr"
	done
}

@test "a write error is fatal: exit 3 with a message (/dev/full, closed stdout)" {
	for p in $(programs); do
		filter_input "$p" >in.jsonl
		run -3 --separate-stderr bash -c "$p $(filter_args "$p") <in.jsonl >/dev/full"
		[[ $stderr == *"write error on standard output: No space left on device"* ]] || fail "$p: $stderr"
		run -3 --separate-stderr "$p" -o /dev/full $(filter_args "$p") <in.jsonl
		[[ $stderr == *"write error on /dev/full"* ]] || fail "$p: $stderr"
		run -3 --separate-stderr bash -c "$p $(filter_args "$p") <in.jsonl >&-"
		[[ $stderr == *"write error on standard output: Bad file descriptor"* ]] || fail "$p: $stderr"
	done
}

@test "'| head -1' ends quietly" {
	for p in $(programs); do
		filter_input "$p" 5000 >big.jsonl
		run -0 --separate-stderr bash -c "$p $(filter_args "$p" | sed 's/-n 5/-n 100000/') <big.jsonl | head -n 1"
		assert_equal "${#lines[@]}" 1
		assert_equal "$stderr" ""
	done
}

@test "control characters in messages are replaced, so input cannot drive the terminal" {
	for p in $(programs); do
		name=$'evil\e[31m.jsonl'
		run -3 --separate-stderr "$p" $(filter_args "$p" | sed 's/ *-$//') "$name"
		[[ $stderr != *$'\e'* ]] || fail "$p: escape reached stderr"
		[[ $stderr == *"evil?[31m.jsonl"* ]] || fail "$p: $stderr"
	done
}

@test "-o writes the file, and --resume after a crash completes it without duplicates" {
	for p in $(programs); do
		filter_input "$p" >in.jsonl
		run -0 "$p" $(filter_args "$p") -o full.jsonl <in.jsonl
		assert_output ""
		if summary_program "$p"; then
			# one summary: nothing to resume
			run -0 "$p" $(filter_args "$p") <in.jsonl
			assert_equal "$(cat full.jsonl)" "$output"
			run -2 --separate-stderr "$p" $(filter_args "$p") -o full.jsonl --resume <in.jsonl
			continue
		fi
		n=$(wc -l <full.jsonl)
		[ "$n" -ge 3 ] || fail "$p: only $n records"
		# a crash: two whole records and a torn third
		{ head -n 2 full.jsonl; sed -n 3p full.jsonl | head -c 17; } >part.jsonl
		run -0 --separate-stderr "$p" $(filter_args "$p") -o part.jsonl --resume <in.jsonl
		[[ $stderr == *"cutting a torn last line"* ]] || fail "$p: $stderr"
		assert_same_json <(sort part.jsonl) <(sort full.jsonl)
		# a second resume adds nothing
		run -0 "$p" $(filter_args "$p") -o part.jsonl --resume <in.jsonl
		assert_equal "$(wc -l <part.jsonl)" "$n"
	done
}

@test "an output that is also the input is refused up front, and the input is kept" {
	for p in $(programs); do
		filter_input "$p" >t.jsonl
		cp t.jsonl orig.jsonl
		args=$(filter_args "$p")
		# the output named as an operand, or read on standard input
		run -2 --separate-stderr "$p" ${args% -} -o t.jsonl t.jsonl
		[[ $stderr == *"-o: t.jsonl is also the input 't.jsonl': it would be lost"* ]] || fail "$p: $stderr"
		run -2 --separate-stderr "$p" $args -o t.jsonl <t.jsonl
		[[ $stderr == *"-o: t.jsonl is also the input (standard input)"* ]] || fail "$p: $stderr"
		run -2 --separate-stderr "$p" $args -o t.jsonl --resume <t.jsonl
		# standard output appended to the input
		"$p" ${args% -} t.jsonl >>t.jsonl 2>err && fail "$p wrote onto its input"
		grep -q "standard output is also the input 't.jsonl'" err || fail "$p: $(cat err)"
		cmp -s t.jsonl orig.jsonl || fail "$p: the input changed"
	done
	# the other outputs a program writes
	filter_input ise-audit >t.jsonl
	run -2 --separate-stderr ise-audit --flagged t.jsonl - <t.jsonl
	[[ $stderr == *"--flagged: t.jsonl is also the input"* ]]
	run -2 --separate-stderr ise-audit --summary --matrix t.jsonl t.jsonl
	filter_input ise-dedup >t.jsonl
	run -2 --separate-stderr ise-dedup --dupes t.jsonl t.jsonl
	filter_input ise-render >t.jsonl
	run -2 --separate-stderr ise-render --offline --rejects t.jsonl t.jsonl
	filter_input ise-sim 2 >t.jsonl
	run -2 --separate-stderr ise-sim --offline --rejects t.jsonl t.jsonl
	[[ $stderr == *"--rejects: t.jsonl is also the input"* ]]
	# a program that reads no input may have its output on standard input
	run -0 ise-persona -n 3 -o t.jsonl <t.jsonl
}

@test "a run started while another still writes its -o file waits for it, then resumes without duplicates" {
	for p in $(programs); do
		summary_program "$p" && continue
		filter_input "$p" >in.jsonl
		"$p" $(filter_args "$p") -o full.jsonl <in.jsonl
		head -n 2 full.jsonl >part.jsonl
		rm -f held
		# a stopped run still ending: it writes the third record a moment later
		flock part.jsonl sh -c 'touch held; sleep 1; sed -n 3p full.jsonl >>part.jsonl' &
		while [ ! -e held ]; do sleep 0.01; done
		run -0 --separate-stderr "$p" $(filter_args "$p") -o part.jsonl --resume <in.jsonl
		wait
		[[ $stderr == *"waiting for the process that writes 'part.jsonl' to end"* ]] || fail "$p: $stderr"
		assert_same_json <(sort part.jsonl) <(sort full.jsonl)
	done
}

@test "numbers pass through as the text they came in: integers to 2^63, -0, exponents, long fractions" {
	nums='[8999999999999999,9007199254740993,9223372036854775807,-9223372036854775808,18446744073709551615,-0,-0.0,0.0,1.0,1.50,1e99999,-1e99999,1E5,2.5e-310,0.1000000000000000055511151231257827,123456789.123456789,1e-7,3]'
	for p in $(programs); do
		summary_program "$p" && continue
		layout_program "$p" && continue # ise-export.bats checks the numbers it writes
		filter_input "$p" 6 | jq -c --argjson n 0 '. + {nums: $n, id_num: 0}' |
			sed "s/\"nums\":0/\"nums\":$nums/; s/\"id_num\":0/\"id_num\":1.0e0,\"nested\":{\"x\":[-0.0,{\"y\":1e400}]}/" >in.jsonl
		# ise-dedup and ise-audit rewrite records that already hold their fields
		case $p in
		ise-dedup) sed -i 's/}$/,"dedup":{"cluster":1.0}}/' in.jsonl ;;
		ise-audit) sed -i 's/}$/,"audit":2.50}/' in.jsonl ;;
		esac
		run -0 --separate-stderr "$p" $(filter_args "$p") <in.jsonl
		[ "${#lines[@]}" -ge 1 ] || fail "$p: no output"
		for line in "${lines[@]}"; do
			[[ $line == *"\"nums\":$nums"* ]] || fail "$p changed the numbers: $line"
			[[ $line == *'"id_num":1.0e0,"nested":{"x":[-0.0,{"y":1e400}]}'* ]] || fail "$p: $line"
		done
	done
	# a number a program computes is printed exactly, never in 15 digits that read back otherwise
	printf '%s\n' '{"id":"a","messages":[{"role":"user","content":"x 8999999999999999"}],"n":1}' >t.jsonl
	run -0 ise-audit --redact t.jsonl
	[[ $output == '{"id":"a","messages":[{"role":"user","content":"x 8999999999999999"}],"n":1,'* ]]
}

@test "a finished record reaches its file while the input stays open, and a kill does not lose it" {
	for p in ise-persona ise-render ise-exec ise-audit ise-sim; do
		filter_input "$p" 3 >in.jsonl
		rm -f out.jsonl fifo
		mkfifo fifo
		"$p" $(filter_args "$p") -o out.jsonl <fifo 2>/dev/null &
		pid=$!
		exec 8>fifo
		head -n 1 in.jsonl >&8 # a slow producer: one record, then nothing yet
		for i in $(seq 200); do
			[ -s out.jsonl ] && break
			sleep 0.05
		done
		[ "$(wc -l <out.jsonl)" = 1 ] || fail "$p: the finished record is not in the file"
		kill -TERM "$pid"
		wait "$pid" || true
		exec 8>&-
		[ "$(wc -l <out.jsonl)" = 1 ] || fail "$p: the record was lost on SIGTERM"
		jq -e . out.jsonl >/dev/null
	done
}

@test "ise-exec: a call that ran is never run again after a kill and --resume" {
	[ "$(id -u)" = 0 ] || skip "runs commands on the host as root (--isolation none)"
	count=$BATS_TEST_TMPDIR/ran
	for i in 1 2 3 4; do
		jq -cn --arg i "$i" --arg c "echo $i >> $count" '{id: "c\($i)", workspace: "w", name: "exec", arguments: {command: $c}}'
	done >calls.jsonl
	mkfifo fifo
	ise-exec --isolation none --run-dir "$BATS_TEST_TMPDIR/run" -o out.jsonl <fifo 2>/dev/null &
	pid=$!
	exec 8>fifo
	head -n 2 calls.jsonl >&8
	for i in $(seq 200); do
		[ "$(wc -l <out.jsonl 2>/dev/null)" = 2 ] && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || true
	exec 8>&-
	assert_equal "$(wc -l <out.jsonl)" 2
	run -0 ise-exec --isolation none --run-dir "$BATS_TEST_TMPDIR/run" -o out.jsonl --resume calls.jsonl
	assert_equal "$(cat "$count")" $'1\n2\n3\n4'
	assert_equal "$(jq -r .id out.jsonl)" $'c1\nc2\nc3\nc4'
}

@test "a repeated id is reported with both places, in every program" {
	for p in $(programs); do
		filter_input "$p" 4 >in.jsonl
		# the third record takes the first one's id
		first=$(sed -n 1p in.jsonl | jq -r .id)
		jq -c --arg id "$first" 'if input_line_number == 3 then .id = $id else . end' in.jsonl >dup.jsonl
		run --separate-stderr "$p" $(filter_args "$p" | sed 's/ -$//') dup.jsonl
		if [ "$p" = ise-persona ]; then # a pool's check gives the persona an id of its own
			[[ $stderr == *"dup.jsonl:3: id '$first' is an earlier persona's: this one gets its own"* ]] || fail "$p: $stderr"
			assert_equal "$(printf '%s\n' "$output" | jq -r .id | sort | uniq -d)" ""
			continue
		fi
		if [ "$p" = ise-sample ]; then # a pool with a repeated persona id is refused
			[[ $stderr == *"dup.jsonl:3: persona id appears twice in the pool"* ]] || fail "$p: $stderr"
			continue
		fi
		[[ $stderr == *"dup.jsonl:3: id '$first' repeats dup.jsonl:1 (--resume would keep one of them)"* ]] || fail "$p: $stderr"
	done
}

@test "the same seed gives the same bytes" {
	for p in $(programs); do
		"$p" --help | grep -q -- --seed || continue # nothing drawn at random
		filter_input "$p" >in.jsonl
		run -0 "$p" -s 7 $(filter_args "$p") <in.jsonl
		a=$output
		run -0 "$p" --seed 0x7 $(filter_args "$p") <in.jsonl
		assert_equal "$output" "$a"
	done
}

@test "the usage text and the man page SYNOPSIS list the same options" {
	for p in $(programs); do
		from_help=$("$p" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
		from_man=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$ROOT/man/man1/$p.1" |
			grep -oE 'Fl \\-[a-z][a-z-]*' | sed 's/Fl \\-/--/' | sort -u)
		assert_equal "$from_man" "$from_help"
	done
}
