#!/usr/bin/env bats
# The workspace file tools (lib/exec/fs_*.c) and the text helpers
# (lib/exec/result.c) through tests/unit/tools_probe: the path and file
# checks #1-#10 (.., absolute paths, symlinks, FIFOs, devices, huge and
# binary files), each asserting the host afterwards, then every tool at
# work.  Calls run as uid 65534, so ownership is checked too.
load helper

setup() {
	# the box: the workspace and, beside it, a piece of the host that no
	# call may touch
	BOX=$BATS_TEST_TMPDIR/box
	mkdir -p "$BOX/ws" "$BOX/host"
	cd "$BOX"
	WS=$BOX/ws
	HOST=$BOX/host
	echo host-secret >"$HOST/secret.txt"
	HOST_BEFORE=$(host_state)
	export ISE_NOW=1773150450 # Tue 2026-03-10 13:47:30 UTC
	PROBE="$ISE_TESTPROGS/tools_probe"
}

teardown() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
	fi
}

# Everything in the box but the workspace: names, types, bytes.
host_state() {
	(cd "$BOX" && find . -path ./ws -prune -o -print | LC_ALL=C sort |
		while read -r f; do
			if [ -f "$f" ] && [ ! -L "$f" ]; then
				echo "$f $(md5sum <"$f")"
			else
				echo "$f $(stat -c %F "$f")"
			fi
		done)
}

assert_host_unchanged() {
	assert_equal "$(host_state)" "$HOST_BEFORE"
}

# call NAME ARGUMENTS-JSON: one call in the workspace as 65534:65534; a
# call that blocks (on a FIFO, a device) is killed after CALL_TIMEOUT
# seconds and fails the test with status 124
call() {
	run --separate-stderr timeout "${CALL_TIMEOUT:-120}" "$PROBE" "$WS" 65534 65534 \
		<<<"{\"name\":\"$1\",\"arguments\":$2}"
	assert_equal "$status" 0
	jq -e . >/dev/null <<<"$output" || fail "not JSON: $output"
}

content() {
	jq -r .content <<<"$output"
}

assert_ok() {
	assert_equal "$(field .ok)" true
}

assert_failed() {
	assert_equal "$(field .ok)" false
}

# The bytes of stdin are strictly valid UTF-8 and one JSON document.
strict_json() {
	python3 -c 'import sys, json; b = sys.stdin.buffer.read(); json.loads(b.decode("utf-8", "strict"))'
}

# ---- #1-#10: paths and file tools ----------------------------------------

@test "#1 ../, absolute paths and /workspace/../.. stay in the workspace; the host is untouched" {
	call write '{"path":"../host/evil","content":"x"}'
	assert_ok
	call write '{"path":"../../../../../../../../'"${HOST#/}"'/evil2","content":"x"}'
	assert_ok
	call write '{"path":"'"$HOST"'/abs","content":"x"}'
	assert_ok
	call write '{"path":"/workspace/../../host/x","content":"x"}'
	assert_ok
	assert_equal "$(cat ws/host/evil ws$HOST/evil2 ws$HOST/abs ws/host/x)" xxxx
	call read '{"path":"../host/secret.txt"}'
	assert_failed
	assert_equal "$(content)" "ENOENT: no such file or directory, open '/workspace/host/secret.txt'"
	call read '{"path":"/etc/passwd"}'
	assert_equal "$(content)" "ENOENT: no such file or directory, open '/workspace/etc/passwd'"
	call list_dir '{"path":"../.."}'
	assert_ok
	top=${HOST#/}
	assert_equal "$(content)" "$(printf '%s/\n' host "${top%%/*}" | LC_ALL=C sort)"
	assert_host_unchanged
}

@test "#1 a NUL in a path is refused; 5000-byte paths and 300-byte names are too long" {
	# arguments as JSON text, as models send them: the \u0000 is seen
	call write '"{\"path\":\"a\\u0000/../../host/x\",\"content\":\"x\"}"'
	assert_failed
	assert_equal "$(content)" "TypeError [ERR_INVALID_ARG_VALUE]: The argument 'path' must be a string without null bytes"
	call write '"{\"path\":\"ok.txt\",\"content\":\"a\\u0000b\"}"'
	assert_failed
	assert_output --partial "'content' must be a string without null bytes"
	# an already parsed object has lost what follows the NUL: still confined
	call write '{"path":"b\u0000/../../host/y","content":"x"}'
	assert_ok
	assert_equal "$(cat ws/b)" x
	long=$(printf 'd/%.0s' $(seq 2500))
	call write '{"path":"'"$long"'x","content":"x"}'
	assert_failed
	assert_output --partial 'ENAMETOOLONG: name too long, open'
	name=$(printf 'n%.0s' $(seq 300))
	call read '{"path":"'"$name"'"}'
	assert_failed
	assert_output --partial 'ENAMETOOLONG'
	assert_equal "$(ls -A ws)" b
	assert_host_unchanged
}

@test "#2 a symlink to a host file: read, edit, apply_patch never reach it; write replaces the link" {
	ln -s "$HOST/secret.txt" ws/pw
	ln -s ../host/secret.txt ws/rel
	call read '{"path":"pw"}'
	assert_failed
	assert_output --partial "ENOENT: no such file or directory, open '/workspace/pw'"
	call read '{"path":"rel"}'
	assert_failed
	call edit '{"path":"pw","oldText":"host","newText":"evil"}'
	assert_failed
	call apply_patch '{"input":"*** Begin Patch\n*** Update File: rel\n@@\n-host-secret\n+evil\n*** End Patch"}'
	assert_failed
	call grep '{"pattern":"secret"}'
	assert_equal "$(content)" "No matches found"
	call write '{"path":"pw","content":"mine"}'
	assert_ok
	[ -f ws/pw ] && [ ! -L ws/pw ]
	assert_equal "$(cat ws/pw)" mine
	call apply_patch '{"input":"*** Begin Patch\n*** Delete File: rel\n*** End Patch"}'
	assert_ok
	[ ! -e ws/rel ] && [ ! -L ws/rel ]
	assert_host_unchanged
}

@test "#3 a dangling symlink: write x does not create the host file" {
	ln -s "$HOST/host_new" ws/x
	ln -s "$HOST/newdir" ws/d
	call write '{"path":"x","content":"data"}'
	assert_ok
	[ -f ws/x ] && [ ! -L ws/x ]
	call write '{"path":"d/f","content":"data"}'
	assert_failed
	assert_equal "$(content)" "EEXIST: file already exists, mkdir '/workspace/d'"
	call memory_write '{"path":"memory/n.md","content":"x"}'
	ln -sf "$HOST/mem.md" ws/memory/link.md
	call memory_write '{"path":"memory/link.md","content":"x"}'
	assert_ok
	[ ! -e "$HOST/host_new" ] && [ ! -e "$HOST/newdir" ] && [ ! -e "$HOST/mem.md" ]
	assert_host_unchanged
}

@test "#4 ln -s / root; write root/tmp/evil lands in the workspace" {
	ln -s / ws/root
	evil=ise-evil-$$-$BATS_TEST_NUMBER
	[ ! -e "/tmp/$evil" ]
	call write '{"path":"root/tmp/'"$evil"'","content":"x"}'
	assert_ok
	[ -f "ws/tmp/$evil" ]
	[ ! -e "/tmp/$evil" ]
	call write '{"path":"root'"$HOST"'/evil","content":"x"}'
	assert_ok
	[ -f "ws$HOST/evil" ]
	call read '{"path":"root/etc/hostname"}'
	assert_failed
	assert_equal "$(stat -c %u:%g "ws/tmp" "ws/tmp/$evil" | sort -u)" 65534:65534
	assert_host_unchanged
}

@test "#5 a symlink swapped in a loop while reading and writing never leads out" {
	mkdir ws/inside
	echo inside >ws/inside/secret.txt
	# rename(2) swaps the link atomically between an inside directory, an
	# absolute link to the host and a relative one climbing out
	(
		set +e
		cd ws
		while :; do
			ln -sfn inside .a && mv -Tf .a swap
			ln -sfn "$HOST" .b && mv -Tf .b swap
			ln -sfn ../host .c && mv -Tf .c swap
			rm -rf swap
			mkdir swap
			rm -rf swap
		done 2>/dev/null
	) 3>&- &
	LOOP_PID=$!
	until [ -L ws/swap ]; do sleep 0.01; done
	PROBE_REPEAT=20000 call read '{"path":"swap/secret.txt"}'
	run -0 jq -r '.contents[]' <<<"$output"
	refute_output --partial host-secret
	# the race was on: some reads found the inside file, some found nothing
	assert_output --partial inside
	assert_output --partial ENOENT
	PROBE_REPEAT=3000 call write '{"path":"swap/written.txt","content":"w"}'
	PROBE_REPEAT=1000 call edit '{"path":"swap/secret.txt","oldText":"e","newText":"E"}'
	PROBE_REPEAT=1000 call apply_patch '{"input":"*** Begin Patch\n*** Add File: swap/p.txt\n+p\n*** End Patch"}'
	PROBE_REPEAT=300 call grep '{"pattern":"secret","path":"swap"}'
	run -0 jq -r '.contents[]' <<<"$output"
	refute_output --partial host-secret
	kill "$LOOP_PID"
	wait "$LOOP_PID" || true
	LOOP_PID=
	assert_host_unchanged
	assert_equal "$(cat "$HOST/secret.txt")" host-secret
}

@test "#6 a FIFO is refused at once by read, edit, write and grep" {
	mkfifo ws/f
	echo text >ws/t
	CALL_TIMEOUT=20
	call read '{"path":"f"}'
	assert_failed
	assert_equal "$(content)" "EINVAL: not a regular file (fifo), read '/workspace/f'"
	call edit '{"path":"f","oldText":"a","newText":"b"}'
	assert_failed
	call write '{"path":"f","content":"x"}'
	assert_failed
	assert_output --partial 'not a regular file (fifo)'
	call grep '{"pattern":"text"}'
	assert_equal "$(content)" "t:1:text"
	call grep '{"pattern":"x","path":"f"}'
	assert_failed
	[ -p ws/f ]
	assert_host_unchanged
}

@test "#7 /dev/zero through a symlink resolves inside; a device node is refused" {
	ln -s /dev/zero ws/z
	ln -s /proc/self/root ws/proc-root
	mknod ws/zero c 1 5
	CALL_TIMEOUT=20
	call read '{"path":"z"}'
	assert_failed
	assert_equal "$(content)" "ENOENT: no such file or directory, open '/workspace/z'"
	call read '{"path":"proc-root/etc/passwd"}'
	assert_failed
	call read '{"path":"zero"}'
	assert_failed
	assert_equal "$(content)" "EINVAL: not a regular file (character device), read '/workspace/zero'"
	call memory_get '{"path":"memory/../zero"}'
	assert_failed
	assert_host_unchanged
}

@test "#8 a sparse 2 GiB file: refused as binary at once, or capped and paged after a text head" {
	truncate -s 2G ws/sparse
	CALL_TIMEOUT=20
	call read '{"path":"sparse"}'
	assert_failed
	assert_equal "$(content)" "Cannot read binary file '/workspace/sparse' (2147483648 bytes): it is not text; use exec (e.g. \`od -c\` or \`xxd\`) to inspect it"
	seq 1 10000 >ws/big
	truncate -s 2G ws/big
	PROBE_MAX_READ=4096 call read '{"path":"big"}'
	assert_ok
	assert_equal "$(field .truncated)" true
	[ "$(field '.content | length')" -lt 4300 ]
	assert_equal "$(content | tail -n 1)" "[Showing lines 1-$(field .details.to) of a 2147483648-byte file. Use offset=$(($(field .details.to) + 1)) to continue.]"
	call read '{"path":"big","offset":9999,"limit":5}'
	assert_equal "$(content | head -n 2)" "$(printf '  9999\t9999\n 10000\t10000')"
	PROBE_MAX_READ=4096 call read '{"path":"big","offset":10001}'
	assert_ok
	assert_equal "$(field .details.lineCut)" true
	assert_equal "$(field .truncated)" true
	[ "$(field '.content | length')" -lt 4400 ]
	call read '{"path":"big","offset":10002}'
	assert_failed
	assert_output --partial 'Could not find line 10002'
	assert_host_unchanged
}

@test "#9 edit: 0 and 2 matches are distinct errors and leave the file alone" {
	printf 'alpha\nbeta\nalpha\n' >ws/f.txt
	before=$(md5sum <ws/f.txt)
	call edit '{"path":"f.txt","oldText":"gamma","newText":"x"}'
	assert_failed
	assert_equal "$(content)" "Could not find the exact text in f.txt. The old text must match exactly including all whitespace and newlines."
	assert_equal "$(field .details.matches)" 0
	call edit '{"path":"f.txt","oldText":"alpha","newText":"x"}'
	assert_failed
	assert_equal "$(content)" "Found 2 occurrences of the text in f.txt. The text must be unique. Please provide more context to make it unique."
	assert_equal "$(field .details.matches)" 2
	call edit '{"path":"f.txt","oldText":"","newText":"x"}'
	assert_failed
	call edit '{"path":"f.txt","oldText":"beta","newText":"beta"}'
	assert_failed
	assert_output --partial 'No changes made to f.txt'
	assert_equal "$(md5sum <ws/f.txt)" "$before"
	call edit '{"path":"f.txt","oldText":"alpha\nbeta","newText":"one"}'
	assert_ok
	assert_equal "$(cat ws/f.txt)" "$(printf 'one\nalpha')"
	assert_equal "$(field .details.firstChangedLine)" 1
	assert_host_unchanged
}

@test "#9 binary files are refused by read and edit; invalid UTF-8 is read as U+FFFD and edited byte-exact" {
	printf 'PNG\0\1\2 text' >ws/bin
	call read '{"path":"bin"}'
	assert_failed
	assert_output --partial "Cannot read binary file '/workspace/bin'"
	call edit '{"path":"bin","oldText":"text","newText":"x"}'
	assert_failed
	assert_equal "$(content)" "Cannot edit binary file '/workspace/bin': it contains NUL bytes; use exec to change it"
	printf 'caf\xe9 ok \xff\xfe end\n' >ws/latin1.txt
	call read '{"path":"latin1.txt"}'
	assert_ok
	strict_json <<<"$output"
	assert_equal "$(content)" "$(printf '     1\tcaf\xef\xbf\xbd ok \xef\xbf\xbd\xef\xbf\xbd end')"
	call edit '{"path":"latin1.txt","oldText":"ok","newText":"fine"}'
	assert_ok
	printf 'caf\xe9 fine \xff\xfe end\n' | cmp - ws/latin1.txt
}

@test "#10 /workspace/x works; list_dir on 100,000 entries is capped" {
	echo hi >ws/x
	call read '{"path":"/workspace/x"}'
	assert_equal "$(content)" "$(printf '     1\thi')"
	call read '{"path":"/workspace"}'
	assert_failed
	assert_equal "$(content)" "EISDIR: illegal operation on a directory, read '/workspace'"
	mkdir ws/many
	(cd ws/many && seq -f 'f%06g' 100000 | xargs touch && mkdir d)
	CALL_TIMEOUT=20
	call list_dir '{"path":"many"}'
	assert_ok
	assert_equal "$(field .truncated)" true
	assert_equal "$(field .details.entries)" 100001
	assert_equal "$(content | head -n 2)" "$(printf 'd/\nf000001')"
	assert_equal "$(content | grep -c '^f')" 999
	assert_equal "$(content | tail -n 1)" "[1000 entries limit reached: 99001 more not shown. Use glob or exec (e.g. \`ls | head\`) to narrow it down.]"
}

# ---- the tools at work ------------------------------------------------------

@test "read: line numbers, offset and limit, the end of the file, a page cap" {
	printf 'one\ntwo\nthree\nfour\nfive' >ws/f
	call read '{"path":"f"}'
	assert_equal "$(content)" "$(printf '     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n     5\tfive')"
	assert_equal "$(field '[.truncated, .details.lines, .details.bytes] | @tsv')" "$(printf 'false\t5\t23')"
	call read '{"path":"f","offset":2,"limit":2}'
	assert_equal "$(content)" "$(printf '     2\ttwo\n     3\tthree\n\n[Showing lines 2-3 of 5. Use offset=4 to continue.]')"
	assert_equal "$(field .truncated)" false
	call read '{"path":"f","offset":"5"}'
	assert_equal "$(content)" "$(printf '     5\tfive')"
	call read '{"path":"f","offset":6}'
	assert_failed
	assert_equal "$(content)" "Offset 6 is beyond end of file (5 lines total)"
	call read '{"path":"f","offset":0}'
	assert_failed
	assert_equal "$(content)" "$(printf 'Validation failed for tool "read":\n  - offset: must be >= 1')"
	call read '{}'
	assert_equal "$(content)" "$(printf 'Validation failed for tool "read":\n  - path: must have required property %s' "'path'")"
	seq 1 3000 >ws/long
	call read '{"path":"long"}'
	assert_equal "$(field '[.truncated, .details.to, .details.lines] | @tsv')" "$(printf 'true\t2000\t3000')"
	assert_equal "$(content | tail -n 1)" "[Showing lines 1-2000 of 3000. Use offset=2001 to continue.]"
	PROBE_MAX_READ=100 call read '{"path":"long","offset":2001}'
	assert_equal "$(field .details.to)" 2008
	: >ws/empty
	call read '{"path":"empty"}'
	assert_ok
	assert_equal "$(content)" ""
	call read '{"path":"missing.txt"}'
	assert_equal "$(field .details.code)" ENOENT
}

@test "read: a line longer than the page is cut on a character boundary" {
	python3 -c 'import sys; sys.stdout.write("é" * 5000 + "\nnext\n")' >ws/wide
	PROBE_MAX_READ=1001 call read '{"path":"wide"}'
	assert_ok
	strict_json <<<"$output"
	assert_equal "$(field .details.lineCut)" true
	assert_output --partial 'Use offset=2 to continue'
	call read '{"path":"wide","offset":2}'
	assert_equal "$(content)" "$(printf '     2\tnext')"
}

@test "write: creates parents as 65534 with 0755/0644, replaces atomically, keeps an old file's mode" {
	call write '{"path":"a/b/c.txt","content":"hello\n"}'
	assert_ok
	assert_equal "$(content)" "Successfully wrote 6 bytes to a/b/c.txt"
	assert_equal "$(field '[.details.path, .details.created] | @tsv')" "$(printf '/workspace/a/b/c.txt\ttrue')"
	assert_equal "$(stat -c '%u:%g %a' ws/a ws/a/b ws/a/b/c.txt)" "$(printf '65534:65534 755\n65534:65534 755\n65534:65534 644')"
	printf 'hello\n' | cmp - ws/a/b/c.txt
	printf 'old' >ws/keep
	chmod 600 ws/keep
	call write '{"path":"keep","content":"new"}'
	assert_equal "$(field .details.created)" false
	assert_equal "$(stat -c '%u:%g %a' ws/keep)" "0:0 600"
	assert_equal "$(cat ws/keep)" new
	call write '{"path":"a/b","content":"x"}'
	assert_failed
	assert_equal "$(content)" "EISDIR: illegal operation on a directory, open '/workspace/a/b'"
	call write '{"path":"keep/x","content":"x"}'
	assert_failed
	assert_output --partial 'ENOTDIR: not a directory'
	call write '{"path":"dir/","content":"x"}'
	assert_failed
	call write '{"path":"u.txt","content":"ünïcødé ✓ 🎉"}'
	assert_equal "$(cat ws/u.txt)" "ünïcødé ✓ 🎉"
	assert_equal "$(find ws -name '.ise-*')" ""
}

@test "write: arguments as a JSON string, and bad shapes" {
	call write '"{\"path\":\"s.txt\",\"content\":\"from a string\"}"'
	assert_ok
	assert_equal "$(cat ws/s.txt)" "from a string"
	call write '"{not json"'
	assert_failed
	assert_output --partial 'arguments are not valid JSON'
	call write '{"path":"x"}'
	assert_failed
	assert_output --partial "content: must have required property 'content'"
	call write '{"path":7,"content":"x"}'
	assert_output --partial 'path: must be string'
	call list_dir '{"path":true}'
	assert_failed
	assert_output --partial 'path: must be string'
	call glob '{"pattern":"*","path":[]}'
	assert_output --partial 'path: must be string'
	call read '{"path":"x","limit":1.5}'
	assert_output --partial 'limit: must be integer'
	call grep '{"pattern":"x","ignoreCase":"yes"}'
	assert_output --partial 'ignoreCase: must be boolean'
	call read '"[1,2]"'
	assert_output --partial 'arguments must be an object'
	call exec '{"command":"true"}'
	assert_equal "$(field .handled)" false
}

@test "edit: follows a symlink inside the workspace, keeps mode and owner, reports a diff" {
	mkdir ws/src
	printf 'a\nb\nc\n' >ws/src/real.txt
	chmod 640 ws/src/real.txt
	ln -s src/real.txt ws/link.txt
	call edit '{"path":"link.txt","old_string":"b\n","new_string":"B1\nB2\n"}'
	assert_ok
	assert_equal "$(content)" "Successfully replaced text in link.txt."
	[ -L ws/link.txt ]
	assert_equal "$(cat ws/src/real.txt)" "$(printf 'a\nB1\nB2\nc')"
	assert_equal "$(stat -c '%u:%g %a' ws/src/real.txt)" "0:0 640"
	assert_equal "$(field .details.diff)" "$(printf -- '-2 b\n+2 B1\n+3 B2')"
	assert_equal "$(field .details.firstChangedLine)" 2
	call edit '{"path":"nope.txt","oldText":"a","newText":"b"}'
	assert_equal "$(content)" "ENOENT: no such file or directory, open '/workspace/nope.txt'"
}

@test "apply_patch: add, update (with @@ context and lenient whitespace), move and delete in one patch" {
	printf 'def f():\n    return 1\n\ndef g():\n    return 2\n' >ws/m.py
	echo bye >ws/old.txt
	printf 'x\ny\n' >ws/mv.txt
	patch='*** Begin Patch
*** Add File: new/hello.txt
+hello
+world
*** Update File: m.py
@@ def g():
-    return 2
+    return 3
*** Update File: mv.txt
*** Move to: moved/mv2.txt
@@
 x
-y
+z
*** Delete File: old.txt
*** End Patch'
	call apply_patch "$(jq -n --arg p "$patch" '{input: $p}')"
	assert_ok
	assert_equal "$(content)" "$(printf 'Success. Updated the following files:\nA new/hello.txt\nM m.py\nM moved/mv2.txt\nD old.txt')"
	assert_equal "$(cat ws/new/hello.txt)" "$(printf 'hello\nworld')"
	assert_equal "$(cat ws/m.py)" "$(printf 'def f():\n    return 1\n\ndef g():\n    return 3')"
	assert_equal "$(cat ws/moved/mv2.txt)" "$(printf 'x\nz')"
	[ ! -e ws/old.txt ] && [ ! -e ws/mv.txt ]
	assert_equal "$(stat -c %u:%g ws/new ws/new/hello.txt | sort -u)" 65534:65534
	# context that differs only in trailing blanks still applies
	patch=$'*** Begin Patch\n*** Update File: m.py\n def f():   \n-    return 1\n+    return 10\n*** End Patch'
	call apply_patch "$(jq -n --arg p "$patch" '{input: $p}')"
	assert_ok
	assert_equal "$(head -n 2 ws/m.py)" "$(printf 'def f():\n    return 10')"
	assert_equal "$(jq -c .details <<<"$output")" '{"added":[],"modified":["m.py"],"deleted":[]}'
}

@test "apply_patch: all or nothing when a later hunk fails; malformed patches say why" {
	echo keep >ws/a.txt
	echo other >ws/b.txt
	patch=$'*** Begin Patch\n*** Add File: fresh/dir/n.txt\n+n\n*** Update File: a.txt\n-keep\n+changed\n*** Update File: b.txt\n-nomatch\n+x\n*** End Patch'
	call apply_patch "$(jq -n --arg p "$patch" '{input: $p}')"
	assert_failed
	assert_equal "$(content)" "$(printf 'Failed to find expected lines in b.txt:\nnomatch')"
	assert_equal "$(cat ws/a.txt)" keep
	[ ! -e ws/fresh ]
	patch=$'*** Begin Patch\n*** Update File: a.txt\n-keep\n+changed\n*** Delete File: gone.txt\n*** End Patch'
	call apply_patch "$(jq -n --arg p "$patch" '{input: $p}')"
	assert_failed
	assert_equal "$(content)" "ENOENT: no such file or directory, unlink '/workspace/gone.txt'"
	assert_equal "$(cat ws/a.txt)" keep
	call apply_patch '{"input":"*** Update File: a.txt\n*** End Patch"}'
	assert_equal "$(content)" "Invalid patch: The first line of the patch must be '*** Begin Patch'"
	call apply_patch '{"input":"*** Begin Patch\n*** Add File: z\n+z"}'
	assert_equal "$(content)" "Invalid patch: The last line of the patch must be '*** End Patch'"
	call apply_patch '{"input":"*** Begin Patch\n*** Frobnicate: a.txt\n*** End Patch"}'
	assert_output --partial "'*** Frobnicate: a.txt' is not a valid hunk header"
	call apply_patch '{"input":"*** Begin Patch\n*** Update File: a.txt\n*** End Patch"}'
	assert_output --partial "Update file hunk for path 'a.txt' is empty"
	call apply_patch '{"input":"*** Begin Patch\n*** Update File: a.txt\n@@\n?keep\n*** End Patch"}'
	assert_output --partial "Unexpected line found in update hunk: '?keep'"
	assert_equal "$(ls -A ws)" "$(printf 'a.txt\nb.txt')"
}

@test "list_dir: sorted, directories marked, empty, errors" {
	mkdir -p ws/d/sub ws/e
	touch ws/d/b ws/d/a ws/d/.hidden
	ln -s sub ws/d/lnk
	call list_dir '{"path":"d"}'
	assert_ok
	assert_equal "$(content)" "$(printf '.hidden\na\nb\nlnk\nsub/')"
	assert_equal "$(field .details.entries)" 5
	call list_dir '{"path":"e"}'
	assert_equal "$(content)" "(empty directory)"
	call list_dir '{"path":"d/a"}'
	assert_failed
	assert_equal "$(content)" "ENOTDIR: not a directory, scandir '/workspace/d/a'"
	call list_dir '{"path":"nope"}'
	assert_equal "$(content)" "ENOENT: no such file or directory, scandir '/workspace/nope'"
	call list_dir '{}'
	assert_equal "$(content)" "$(printf 'd/\ne/')"
}

@test "glob: ** crosses directories, * stays in one, braces, hidden files, a start path, a cap" {
	mkdir -p ws/data/2024 ws/.cache ws/src
	touch ws/top.csv ws/data/a.csv ws/data/2024/b.csv ws/.cache/c.csv ws/src/m.py ws/src/n.ts ws/data/x.txt
	call glob '{"pattern":"**/*.csv"}'
	assert_equal "$(content)" "$(printf 'data/2024/b.csv\ndata/a.csv\ntop.csv')"
	call glob '{"pattern":"*.csv"}'
	assert_equal "$(content)" "top.csv"
	call glob '{"pattern":"src/*.{py,ts}"}'
	assert_equal "$(content)" "$(printf 'src/m.py\nsrc/n.ts')"
	call glob '{"pattern":".cache/*"}'
	assert_equal "$(content)" ".cache/c.csv"
	call glob '{"pattern":"*.csv","path":"data"}'
	assert_equal "$(content)" "a.csv"
	call glob '{"pattern":"data/*"}'
	assert_equal "$(content)" "$(printf 'data/2024/\ndata/a.csv\ndata/x.txt')"
	call glob '{"pattern":"**/*.java"}'
	assert_ok
	assert_equal "$(content)" "No files found"
	mkdir ws/many && (cd ws/many && seq -f 'g%05g.log' 1200 | xargs touch)
	call glob '{"pattern":"many/*.log"}'
	assert_equal "$(field '[.truncated, .details.matches, .details.shown] | @tsv')" "$(printf 'true\t1200\t1000')"
}

@test "grep: file:line:text, ignoreCase, glob filter, maxResults, binary files skipped, bad regex" {
	mkdir -p ws/src ws/.git
	printf 'import os\nTODO: fix\nx = 1\n' >ws/src/a.py
	printf 'todo later\n// TODO again\n' >ws/src/b.js
	printf 'TODO\0binary' >ws/src/c.bin
	echo 'TODO hidden' >ws/.git/config
	call grep '{"pattern":"TODO"}'
	assert_ok
	assert_equal "$(content)" "$(printf 'src/a.py:2:TODO: fix\nsrc/b.js:2:// TODO again')"
	assert_equal "$(field .details.binarySkipped)" 1
	call grep '{"pattern":"todo","ignoreCase":true,"glob":"*.js"}'
	assert_equal "$(content)" "$(printf 'src/b.js:1:todo later\nsrc/b.js:2:// TODO again')"
	call grep '{"pattern":"^(import|x) ","path":"src/a.py"}'
	assert_equal "$(content)" "$(printf 'src/a.py:1:import os\nsrc/a.py:3:x = 1')"
	seq 1 500 | sed 's/^/line /' >ws/many.txt
	call grep '{"pattern":"line","maxResults":3}'
	assert_equal "$(content)" "$(printf 'many.txt:1:line 1\nmany.txt:2:line 2\nmany.txt:3:line 3\n\n[3 matches limit reached. Use maxResults=6 for more, or refine the pattern.]')"
	assert_equal "$(field .truncated)" true
	call grep '{"pattern":"nothing-here"}'
	assert_ok
	assert_equal "$(content)" "No matches found"
	call grep '{"pattern":"(unclosed"}'
	assert_failed
	assert_output --partial "Invalid regular expression '(unclosed'"
	PROBE_MAX_OUTPUT=200 call grep '{"pattern":"line","maxResults":500}'
	assert_output --partial 'bytes omitted'
	[ "$(field '.content | length')" -lt 300 ]
}

@test "memory_write: today's file by default, append and overwrite, MEMORY.md, other paths refused" {
	call memory_write '{"content":"Prefers tea"}'
	assert_ok
	assert_equal "$(content)" "Wrote 11 bytes to memory/2026-03-10.md"
	call memory_write '{"content":"Lives in Lyon\n"}'
	assert_equal "$(content)" "Appended 14 bytes to memory/2026-03-10.md"
	assert_equal "$(cat ws/memory/2026-03-10.md)" "$(printf 'Prefers tea\nLives in Lyon')"
	assert_equal "$(stat -c %u:%g ws/memory ws/memory/2026-03-10.md | sort -u)" 65534:65534
	call memory_write '{"content":"# Facts","path":"MEMORY.md"}'
	call memory_write '{"content":"# New facts","path":"/workspace/MEMORY.md","mode":"overwrite"}'
	assert_ok
	assert_equal "$(cat ws/MEMORY.md)" "# New facts"
	call memory_write '{"content":"x","path":"notes.txt"}'
	assert_failed
	assert_equal "$(content)" "memory_write: path must be MEMORY.md or memory/<name>.md, not 'notes.txt'; use read or write for other files"
	call memory_write '{"content":"x","path":"memory/../../host/x.md"}'
	assert_failed
	call memory_write '{"content":"x","mode":"replace"}'
	assert_failed
	assert_output --partial 'mode: must be equal to one of the allowed values'
	assert_host_unchanged
}

@test "memory_search: BM25 ranking over MEMORY.md and memory/**/*.md, path:line snippets, maxResults" {
	call memory_search '{"query":"anything"}'
	assert_ok
	assert_output --partial 'No memory files yet'
	mkdir -p ws/memory/projects
	printf '# Facts\nThe user likes green tea.\n\nThe user has a cat named Miso.\n' >ws/MEMORY.md
	printf 'Meeting notes\nDiscussed the database migration.\nDatabase migration database rollback plan.\n\nLunch was fine.\n' >ws/memory/2026-03-09.md
	printf 'Project Atlas uses a Postgres database.\n' >ws/memory/projects/atlas.md
	echo 'database database database' >ws/notes.md
	call memory_search '{"query":"database migration"}'
	assert_ok
	assert_equal "$(field '[.details.results[] | "\(.path):\(.startLine)-\(.endLine)"] | join(" ")')" \
		"memory/2026-03-09.md:1-3 memory/projects/atlas.md:1-1"
	assert_equal "$(content | head -n 1)" "memory/2026-03-09.md:1-3 (score $(field '.details.results[0].score * 100 | round / 100 | tostring'))"
	[ "$(field '.details.results[0].score > .details.results[1].score')" = true ]
	call memory_search '{"query":"Miso the CAT","maxResults":1}'
	assert_equal "$(field '.details.results | length')" 1
	assert_equal "$(content)" "$(printf 'MEMORY.md:4-4 (score %s)\nThe user has a cat named Miso.' "$(field '.details.results[0].score * 100 | round / 100 | tostring')")"
	call memory_search '{"query":"kangaroo"}'
	assert_equal "$(content)" "No matches found in memory for 'kangaroo'."
	assert_equal "$(field .details.files)" 3
}

@test "memory_get: from and lines, memory paths only" {
	mkdir ws/memory
	printf 'l1\nl2\nl3\nl4\n' >ws/memory/d.md
	call memory_get '{"path":"memory/d.md","from":2,"lines":2}'
	assert_ok
	assert_equal "$(content)" "$(printf 'l2\nl3')"
	assert_equal "$(field '[.details.from, .details.to, .details.lines] | @tsv')" "$(printf '2\t3\t4')"
	call memory_get '{"path":"memory/d.md"}'
	assert_equal "$(content)" "$(printf 'l1\nl2\nl3\nl4')"
	call memory_get '{"path":"memory/d.md","from":9}'
	assert_ok
	assert_equal "$(content)" ""
	call memory_get '{"path":"memory/none.md"}'
	assert_failed
	assert_equal "$(content)" "ENOENT: no such file or directory, open '/workspace/memory/none.md'"
	call memory_get '{"path":"../host/secret.txt"}'
	assert_failed
	assert_output --partial 'path must be MEMORY.md or memory/<name>.md'
}

@test "cron: add computes the next run from ISE_NOW in UTC and keeps jobs in .ise/cron.json" {
	next() {
		call cron '{"action":"add","schedule":"'"$1"'","command":"true"}'
		assert_ok
		assert_equal "$(field .details.nextRun)" "$2"
	}
	next '30 2 * * *' 2026-03-11T02:30:00Z
	next '*/15 * * * *' 2026-03-10T14:00:00Z
	next '47 13 * * *' 2026-03-11T13:47:00Z
	next '48 13 * * *' 2026-03-10T13:48:00Z
	next '0 9 * * mon-fri' 2026-03-11T09:00:00Z
	next '0 0 1 jan *' 2027-01-01T00:00:00Z
	next '0 0 29 2 *' 2028-02-29T00:00:00Z
	next '0 12 31 * sat' 2026-03-14T12:00:00Z
	next '0 0 * * 7' 2026-03-15T00:00:00Z
	next '5,10-12/2 */6 * * *' 2026-03-10T18:05:00Z
	next '@daily' 2026-03-11T00:00:00Z
	next '0 0 * MAR,Jun TUE' 2026-03-17T00:00:00Z
	assert_equal "$(jq '.jobs | length' ws/.ise/cron.json)" 12
	assert_equal "$(stat -c '%u:%g %a' ws/.ise ws/.ise/cron.json)" "$(printf '65534:65534 755\n65534:65534 644')"
	call cron '{"action":"add","schedule":"0 3 * * *","command":"tar czf /tmp/b.tgz .","name":"backup"}'
	id=$(field .details.id)
	[[ $id =~ ^job_[0-9a-f]{8}$ ]]
	assert_equal "$(content)" "Added cron job $id \"backup\": '0 3 * * *' runs \`tar czf /tmp/b.tgz .\`. Next run: 2026-03-11T03:00:00Z (UTC)."
}

@test "cron: bad schedules are refused with the reason" {
	bad() {
		call cron '{"action":"add","schedule":"'"$1"'","command":"true"}'
		assert_failed
		assert_equal "$(content)" "cron: invalid schedule '$1': $2"
	}
	bad '61 * * * *' 'minute: 61 is out of range (0-59)'
	bad '* * * *' 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'
	bad '* * * * * *' 'expected 5 fields (minute hour day-of-month month day-of-week), got 6'
	bad '0 24 * * *' 'hour: 24 is out of range (0-23)'
	bad '5-2 * * * *' 'minute: range 5-2 is backwards'
	bad '*/0 * * * *' 'minute: step 0 is out of range (1-60)'
	bad '0 0 0 * *' 'day-of-month: 0 is out of range (1-31)'
	bad '0 0 * foo *' "month: unexpected 'foo'"
	bad '0 0 * * 8' 'day-of-week: 8 is out of range (0-7)'
	bad '1,,2 * * * *' "minute: unexpected ',2'"
	bad '@reboot' "unknown macro '@reboot' (known: @hourly @daily @weekly @monthly @yearly)"
	call cron '{"action":"add","schedule":"0 0 30 2 *","command":"true"}'
	assert_equal "$(content)" "cron: schedule '0 0 30 2 *' never runs (no such date)"
	call cron '{"action":"add","schedule":"0 0 * * *"}'
	assert_output --partial "command: is required when action is 'add'"
	call cron '{"action":"pause"}'
	assert_output --partial 'action: must be equal to one of the allowed values'
	[ ! -e ws/.ise ]
}

@test "cron: list and remove by id or by name" {
	call cron '{"action":"list"}'
	assert_equal "$(content)" "No cron jobs."
	call cron '{"action":"add","schedule":"0 3 * * *","command":"backup.sh","name":"backup"}'
	a=$(field .details.id)
	call cron '{"action":"add","schedule":"*/5 * * * *","command":"poll.sh","name":"poll"}'
	b=$(field .details.id)
	[ "$a" != "$b" ]
	call cron '{"action":"list"}'
	assert_equal "$(content)" "$(printf '2 cron jobs (now 2026-03-10T13:47:30Z, times in UTC):\n%s  0 3 * * *  "backup"  next 2026-03-11T03:00:00Z  backup.sh\n%s  */5 * * * *  "poll"  next 2026-03-10T13:50:00Z  poll.sh' "$a" "$b")"
	call cron '{"action":"remove","id":"'"$a"'"}'
	assert_equal "$(content)" "Removed 1 cron job."
	call cron '{"action":"remove","name":"poll"}'
	assert_ok
	assert_equal "$(jq -c .jobs ws/.ise/cron.json)" "[]"
	call cron '{"action":"remove","id":"job_00000000"}'
	assert_failed
	assert_equal "$(content)" "cron: no job with id or name 'job_00000000'; use action=list"
	echo 'garbage' >ws/.ise/cron.json
	call cron '{"action":"list"}'
	assert_failed
	assert_output --partial '.ise/cron.json is damaged'
}

# ---- text helpers -----------------------------------------------------------

@test "ise_utf8_clean: maximal subparts become U+FFFD; NUL too; U+2028 and valid text stay" {
	clean() {
		run -0 "$PROBE" --clean < <(printf "$1")
		strict_json <<<"$output"
		assert_equal "$(jq -j .text <<<"$output" | od -An -tx1 | tr -s ' \n' ' ')" "$(printf "$2" | od -An -tx1 | tr -s ' \n' ' ')"
	}
	R='\xef\xbf\xbd'
	clean 'a\xff\xfeb' "a$R${R}b"
	clean '\xc0\xaf' "$R$R"
	clean '\xed\xa0\x80' "$R$R$R"
	clean '\xf4\x90\x80\x80' "$R$R$R$R"
	clean '\xe2\x82' "$R"
	clean '\xe2\x82x' "${R}x"
	clean '\xf0\x9f\x8e' "$R"
	clean 'a\0b' "a${R}b"
	clean '\xe2\x80\xa8 \xf0\x9f\x8e\x89 \xf4\x8f\xbf\xbf \x1b[0m' '\xe2\x80\xa8 \xf0\x9f\x8e\x89 \xf4\x8f\xbf\xbf \x1b[0m'
	clean '\x80\xbf' "$R$R"
}

@test "ise_text_cap: head and tail on character boundaries, the marker counts the bytes left out" {
	run -0 "$PROBE" --cap 10 < <(printf 'short')
	assert_equal "$(jq -c '[.text, .cut]' <<<"$output")" '["short",false]'
	# é is 2 bytes: a cut at byte 5 would split one
	run -0 "$PROBE" --cap 10 < <(printf 'éééééééééé')
	strict_json <<<"$output"
	assert_equal "$(jq -r .text <<<"$output")" "$(printf 'éé\n[... 12 bytes omitted ...]\néé')"
	assert_equal "$(jq .cut <<<"$output")" true
	run -0 "$PROBE" --cap 7 < <(printf '€€€€€€')
	assert_equal "$(jq -r .text <<<"$output")" "$(printf '€\n[... 12 bytes omitted ...]\n€')"
	run -0 "$PROBE" --cap 0 < <(printf 'abc')
	assert_equal "$(jq -r .text <<<"$output")" "$(printf '\n[... 3 bytes omitted ...]')"
	run -0 "$PROBE" --cap 4 < <(printf '\xff\xfe\xfd\xfc\xfb\xfa')
	strict_json <<<"$output"
}

@test "names and paths that are not UTF-8 still give strictly valid JSON, in the content and the details" {
	touch "ws/bad$(printf '\xff')name" "ws/$(printf 'cr\rlf\001')"
	call glob '{"pattern":"*"}'
	strict_json <<<"$output"
	assert_equal "$(field .details.matches)" 2
	run --separate-stderr "$PROBE" "$WS" < <(printf '{"name":"write","arguments":{"path":"x\xfe.txt","content":"a"}}')
	strict_json <<<"$output"
	assert_equal "$(jq -r .details.path <<<"$output")" "/workspace/x�.txt"
	[ -f "ws/x$(printf '\xfe').txt" ]
	run --separate-stderr "$PROBE" "$WS" < <(printf '{"name":"read","arguments":{"path":"\xc0\xafnone"}}')
	strict_json <<<"$output"
	assert_equal "$(jq -r .content <<<"$output")" "ENOENT: no such file or directory, open '/workspace/��none'"
}
