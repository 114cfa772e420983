#!/usr/bin/env bats
# --keep as an attacker would use it: a model's commands shape the tree that
# root saves onto the host.  Every route (links saved by an earlier save, a
# linked directory, hard links, FIFOs, device nodes, setuid bits, the same
# id saved twice) must leave every host file outside the keep directory as
# it was, hash and mode, and give files of root's with safe modes.
load helper
load fake

setup() {
	[ "$(id -u)" = 0 ] || skip "saving workspaces as root is what is tested"
	cd "$BATS_TEST_TMPDIR"
	RUN="$BATS_TEST_TMPDIR/run"
	mkdir -p "$RUN" victims/vdir
	V=$BATS_TEST_TMPDIR/victims
	echo ORIGINAL >"$V/victim.txt"
	echo INNER >"$V/vdir/inner.txt"
	chmod 644 "$V/victim.txt"
	before=$(host_state)
	unset OPENAI_BASE_URL OPENAI_API_KEY ISE_MODEL
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || fake_stop
	[ "$(id -u)" = 0 ] || return 0
	assert_equal "$(host_state)" "$before"
	[ -z "$(ls -A "$RUN")" ] || fail "left in the run directory: $(ls -A "$RUN")"
}

# Every host file the tests aim at, and a system one: names, kinds, modes,
# owners and contents.
host_state() {
	(cd "$V" && find . -printf '%p %y %m %U:%G %n\n' | sort && find . -type f -exec sha256sum {} + | sort)
	sha256sum /etc/passwd
	stat -c '%a %U' /etc/passwd
}

# ex [OPTIONS] -- RECORDS...: ise-exec over these records (one a line)
ex() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	printf '%s\n' "$@" | ise-exec --run-dir "$RUN" --uid 61500 "${opts[@]}" -
}

cmd() { # ID WORKSPACE COMMAND
	jq -cn --arg id "$1" --arg ws "$2" --arg c "$3" '{id: $id, workspace: $ws, name: "exec", arguments: {command: $c}}'
}

keep_op() { # ID WORKSPACE
	jq -cn --arg id "$1" --arg ws "$2" '{id: $id, op: "keep", workspace: $ws}'
}

# Nothing under the keep directory is a link leaving it, a device other than
# a whiteout, a FIFO, or has setuid/setgid/sticky/group- or world-write bits,
# and everything is root's.
assert_safe_tree() {
	local bad
	bad=$(find "$1" \( -type p -o -type s -o -type b -o -perm /7022 -o ! -user root \) -printf '%p %y %m %u\n')
	bad+=$(find "$1" -type c -printf '%p %y %Mr\n' | while read -r p _ _; do
		[ "$(stat -c '%t:%T' "$p")" = 0:0 ] || echo "$p is a device"
	done)
	[ -z "$bad" ] || fail "unsafe in $1: $bad"
}

@test "the reported exploit: a link saved by one keep is never written through by the next" {
	run -0 --separate-stderr ex --keep keep -- \
		"$(cmd 1 W "ln -s $V/victim.txt f")" \
		"$(keep_op k1 W)" \
		"$(cmd 2 W 'rm f; echo PWNED > f; chmod 4755 f')"
	jq -e -s 'all(.ok)' <<<"$output"
	[ -f keep/W/f ] && [ ! -L keep/W/f ]
	assert_equal "$(cat keep/W/f)" PWNED
	assert_equal "$(stat -c '%a %U:%G' keep/W/f)" "755 root:root"
	jq -e -s '.[1].details | .path == "keep/W" and .links == 1 and .files == 0' <<<"$output"
	assert_safe_tree keep
}

@test "a linked directory: neither a link in the workspace nor a link where the save goes is followed" {
	ln -s "$V/vdir" keep-B # a link the user left where B's save goes
	mkdir keep && mv keep-B keep/B
	run -0 --separate-stderr ex --keep keep -- \
		"$(cmd 1 A "ln -s $V/vdir d; ln -s $V x")" \
		"$(keep_op k1 A)" \
		"$(cmd 2 A 'rm d x; mkdir -p d/sub x/vdir; echo P > d/sub/inner.txt; echo P > d/inner.txt; echo P > x/vdir/inner.txt')" \
		"$(cmd 3 B 'mkdir -p sub; echo P > inner.txt')"
	[ -d keep/A/d ] && [ ! -L keep/A/d ] && [ -d keep/B ] && [ ! -L keep/B ]
	assert_equal "$(cat keep/A/d/inner.txt keep/A/x/vdir/inner.txt keep/B/inner.txt)" $'P\nP\nP'
	assert_safe_tree keep
}

@test "hard links: each name is saved as a file of its own; a save replaces a hard link left in the keep directory" {
	mkdir -p keep/C
	ln "$V/victim.txt" keep/C/a # an earlier save's file, linked to a host file
	run -0 --separate-stderr ex --keep keep -- \
		"$(cmd 1 C 'echo one > a; ln a b; mkdir d; ln a d/c')"
	assert_equal "$(stat -c %h keep/C/a keep/C/b keep/C/d/c | sort -u)" 1
	assert_equal "$(cat keep/C/b)" one
	assert_safe_tree keep
}

@test "FIFOs and sockets are left out (and do not hang the save); device nodes too, whiteouts kept" {
	mkdir tpl && echo base >tpl/gone.txt && chown -R 61500:61500 tpl
	run -0 --separate-stderr timeout 20 ise-exec --run-dir "$RUN" --uid 61500 --template tpl --keep keep - <<-EOF
		$(cmd 1 F 'mkfifo p; python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\"s\")"; rm gone.txt; echo x > kept.txt')
		$(keep_op k F)
	EOF
	jq -e -s '.[1].details | .files == 1 and .deleted == 1 and .left_out == 2' <<<"$output"
	[ ! -e keep/F/p ] && [ ! -e keep/F/s ]
	[ -c keep/F/gone.txt ] && assert_equal "$(stat -c '%t:%T' keep/F/gone.txt)" 0:0
	# with no isolation a command runs as root and can make real device nodes
	run -0 --separate-stderr ex --isolation none --keep keep -- \
		"$(cmd 1 D 'mknod null c 1 3; mknod loop b 7 0; mknod zero c 0 0 2>/dev/null; echo x > f')"
	assert_equal "$(ls keep/D)" f
	assert_safe_tree keep
}

@test "setuid, setgid, sticky and write bits for all never reach the host; files are root's" {
	run -0 --separate-stderr ex --keep keep -- \
		"$(cmd 1 S 'echo a > su; chmod 4755 su; echo b > sg; chmod 2775 sg; echo c > ww; chmod 666 ww; mkdir t; chmod 1777 t; mkdir g; chmod 2777 g; echo d > ro; chmod 400 ro')"
	assert_equal "$(cd keep/S && stat -c '%n %a %U:%G' su sg ww t g ro)" \
		$'su 755 root:root\nsg 755 root:root\nww 644 root:root\nt 755 root:root\ng 755 root:root\nro 400 root:root'
	assert_safe_tree keep
}

@test "a deep tree is saved to a depth limit, the rest counted as left out" {
	run -0 --separate-stderr ex --keep keep -- \
		"$(cmd 1 T 'p=.; for i in $(seq 140); do p=$p/d; done; mkdir -p $p; echo x > $p/f; echo top > top')"
	jq -e -s '.[0].ok' <<<"$output"
	assert_equal "$(cat keep/T/top)" top
	assert_equal "$(find keep/T -type d | wc -l)" 129
	assert_safe_tree keep
}

@test "ise-sim: two runs of the same intent into one --keep dir; the second never writes through the first's links" {
	fake_start
	jq -cn '{id: "same/id 1", natural_language_intent: "Make the file f."}' >one.jsonl
	fake_tape "$(user_turn 1 "Make the file f.")
$(user_done)
$(agent_calls "." "$(jq -cn --arg c "ln -s $V/victim.txt f; ln -s $V/vdir d" '[{name: "exec", arguments: {command: $c}}]')")
$(agent_says "Done.")"
	run -0 --separate-stderr ise-sim --user-model sim --agent-model agent --keep keep one.jsonl
	name=$(ls keep)
	[[ $name == same_id_1-* ]]
	[ -L "keep/$name/f" ]
	fake_tape "$(user_turn 1 "Make the file f.")
$(user_done)
$(agent_calls "." '[{"name":"exec","arguments":{"command":"echo PWNED > f; chmod 4755 f; mkdir d; echo P > d/inner.txt"}}]')
$(agent_says "Done.")"
	run -0 --separate-stderr ise-sim --user-model sim --agent-model agent --keep keep one.jsonl
	assert_equal "$(ls keep)" "$name" # the save replaced, no leftovers
	[ -f "keep/$name/f" ] && [ ! -L "keep/$name/f" ]
	assert_equal "$(cat "keep/$name/f" "keep/$name/d/inner.txt")" $'PWNED\nP'
	assert_safe_tree keep
}

@test "--keep names: ise-exec and ise-sim make the same safe name of an id, and two ids never share one" {
	run -0 --separate-stderr ex --keep keep -- "$(cmd 1 'same/id 1' 'echo x > f')" "$(cmd 2 'same_id_1' 'echo y > f')" \
		"$(cmd 3 '.hidden' 'echo z > f')" "$(cmd 4 '..' 'echo w > f')"
	assert_equal "$(ls keep | wc -l)" 4
	[ -d keep/same_id_1 ] && [ "$(cat keep/same_id_1/f)" = y ]
	[[ $(ls keep) != *"/"* ]] && [ -z "$(ls -A keep | grep '^\.')" ]
	jq -cn '{id: "same/id 1", natural_language_intent: "x", tasks: [{id: "validate-regex-pattern"}]}' >in.jsonl
	run -0 --separate-stderr ise-sim --offline --keep simkeep in.jsonl
	assert_equal "$(ls simkeep)" "$(ls keep | grep '^same_id_1-')"
}

@test "--keep to a directory that cannot be used is a usage error, up front, in both programs" {
	echo file >afile
	for prog in "ise-exec --run-dir $RUN" "ise-sim --offline"; do
		for dir in /proc/nope afile /proc ''; do
			run -2 --separate-stderr $prog --keep "$dir" /dev/null
			[[ $stderr == *"--keep"* ]] || fail "$prog --keep '$dir': $stderr"
			assert_equal "$output" ""
		done
	done
	[ ! -e /proc/nope ]
}
