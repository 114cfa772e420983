#!/usr/bin/env bats
# ise-exec: the sandbox checks #11-#40 (processes, output, resources,
# isolation, workspace lifecycle), each asserting the result
# and the host afterwards: no sandbox process alive, no mount leaked, no
# file left outside the workspace, the template unchanged.
load helper

setup() {
	[ "$(id -u)" = 0 ] || skip "the namespace levels are tested as root (as CI runs)"
	cd "$BATS_TEST_TMPDIR"
	RUN="$BATS_TEST_TMPDIR/run"
	mkdir -p "$RUN"
	local d=$RUN # the bwrap level reaches the workspace as the sandbox uid
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	procs_before=$(sandbox_procs)
}

teardown() {
	[ "$(id -u)" = 0 ] || return 0
	assert_host_clean
}

# Live (not zombie) processes of this suite's sandbox uids (61000, and the
# rlimit level's per-workspace uids above it): other runs use their own.
sandbox_procs() {
	ps -eo uid=,stat= | awk '$1 >= 61000 && $1 < 61200 && $2 !~ /^Z/' | wc -l
}

assert_host_clean() {
	local i
	for i in $(seq 50); do # killed processes may take a moment to go
		[ "$(sandbox_procs)" -le "$procs_before" ] && break
		sleep 0.1
	done
	[ "$(sandbox_procs)" -le "$procs_before" ] || fail "sandbox processes left: $(ps -eo uid,stat,cmd | awk '$1 >= 61000 && $1 < 61200')"
	! grep -q "$RUN" /proc/self/mountinfo || fail "mounts leaked into the host"
	[ -z "$(ls -A "$RUN")" ] || fail "left in the run directory: $(ls -A "$RUN")"
	local c d e pid
	for c in memory pids ''; do # cgroups of finished runs (a live pid: another run's)
		d=$(cg_dir "$c") || continue
		for e in "$d"/ise-*; do
			[ -d "$e" ] || continue
			pid=${e##*/ise-}
			! kill -0 "${pid%%-*}" 2>/dev/null || continue
			fail "cgroup left: $e"
		done
	done
}

# cg_dir CTRL: our cgroup's directory in the v1 hierarchy of CTRL, or with
# '' in the unified one (where ise-exec makes its ise-PID-N).
cg_dir() {
	local path mnt
	path=$(awk -F: -v c="$1" '(c == "" ? $1 == 0 && $2 == "" : index("," $2 ",", "," c ",")) { print $3 }' /proc/self/cgroup)
	mnt=$(awk -v c="$1" '{ for (i = 7; $i != "-"; i++) ; t = $(i + 1); o = "," $(i + 3) ","
		if (c == "" ? t == "cgroup2" : t == "cgroup" && index(o, "," c ",")) { print $5; exit } }' /proc/self/mountinfo)
	[ -n "$path" ] && [ -n "$mnt" ] && echo "$mnt${path%/}"
}

# have_cgroup CTRL: ise-exec can limit CTRL here (a writable v1 hierarchy,
# or v2 with the controller delegated); with kill: cgroup.kill exists.
have_cgroup() {
	local d probe
	if [ "$1" = kill ]; then
		d=$(cg_dir '') && mkdir "$d/isetest-$$" 2>/dev/null || return 1
		probe=$(ls "$d/isetest-$$")
		rmdir "$d/isetest-$$"
		[[ $'\n'$probe$'\n' == *$'\ncgroup.kill\n'* ]]
		return
	fi
	if d=$(cg_dir "$1") && mkdir "$d/isetest-$$" 2>/dev/null; then
		rmdir "$d/isetest-$$"
		return 0
	fi
	d=$(cg_dir '') && [[ " $(cat "$d/cgroup.subtree_control" 2>/dev/null) " == *" $1 "* ]]
}

# x [OPTIONS] -- one request per remaining argument (a command), all in
# workspace w, at the ns level unless an option says otherwise.
x() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	local i=0 c
	for c in "$@"; do
		jq -cn --arg c "$c" --arg i "$i" '{id: "r\($i)", workspace: "w", name: "exec", arguments: {command: $c}}'
		i=$((i + 1))
	done | ise-exec --run-dir "$RUN" --uid 61000 --uid 61000 "${opts[@]}"
}

# c ID: the content of the result with that id
c() {
	jq -r --arg id "$1" 'select(.id == $id) | .content' <<<"$output"
}

# sel ID FILTER: FILTER holds for the result with that id
sel() {
	jq -e -s --arg id "$1" "map(select(.id == \$id))[0] | $2" <<<"$output"
}

req() { # ID WORKSPACE TOOL ARGS-JSON
	jq -cn --arg id "$1" --arg ws "$2" --arg n "$3" --argjson a "$4" '{id: $id, workspace: $ws, name: $n, arguments: $a}'
}

@test "exec: output, exit code text, isolation level and timing in the result" {
	run -0 x -- 'echo hello; echo oops >&2; exit 3' 'printf x' 'true'
	assert_equal "$(jq -c 'select(.id == "r0") | [.ok, .exit_code, .signal, .timed_out, .isolation]' <<<"$output")" '[true,3,null,false,"ns"]'
	assert_equal "$(jq -r 'select(.id == "r0") | .content' <<<"$output")" $'hello\noops\n\n(Command exited with code 3)'
	assert_equal "$(jq -r 'select(.id == "r1") | .content' <<<"$output")" "x"
	assert_equal "$(jq -r 'select(.id == "r2") | .content' <<<"$output")" "(no output)"
	sel r2 '.duration_ms > 0 and .duration_ms < 2000'
}

@test "#30 #31 #33 #34 #36 #37: uid, capabilities, seccomp, read-only root, private pids, hostname, env" {
	API_KEY=sk-host-secret AWS_SECRET_ACCESS_KEY=host SSH_AUTH_SOCK=/tmp/agent \
		run -0 x -- 'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status' \
		'cat /etc/shadow; touch /usr/x; echo "rc=$?"' \
		'mount -t tmpfs x /mnt; unshare -U true; nsenter -t 1 -m true; ls /proc/1/root; echo end' \
		'ps -e -o pid=,comm=' 'hostname evil; hostname' 'env' 'su -c id root </dev/null; echo "su=$?"'
	assert_equal "$(c r0)" $'61000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2'
	[[ $(c r1) == *"/etc/shadow: Permission denied"* ]]
	[[ $(c r1) == *"Read-only file system"*"rc=1"* ]]
	[[ $(c r2) != *"Operation not permitted"*"Operation not permitted"*"Operation not permitted"*"Operation not permitted"* ]] || true
	[[ $(c r2) == *"mount"* && $(c r2) == *"unshare"* && $(c r2) == *"end"* ]]
	[[ $(c r2) != *"root"$'\n'* ]] # /proc/1/root not listed
	# only the sandbox's own processes: its monitor (pid 1), the shell, ps
	assert_equal "$(c r3 | grep -c .)" 3
	assert_equal "$(c r4)" $'hostname: you must be root to change the host name\nsandbox'
	assert_equal "$(hostname)" "$(cat /etc/hostname 2>/dev/null || hostname)"
	[[ $(c r5) != *host-secret* && $(c r5) != *AWS_* && $(c r5) != *SSH_AUTH* ]]
	[[ $(c r5) == *HOME=/workspace* ]]
	[[ $(c r6) != *"uid=0"* ]]
}

@test "#32: no network inside by default, loopback of the host included; --net keeps it" {
	python3 -m http.server --bind 127.0.0.1 18765 >/dev/null 2>&1 &
	local server=$!
	sleep 0.5
	run -0 x -- 'python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 18765), timeout=2)" 2>&1 | tail -1' \
		'getent hosts deb.debian.org || echo "no dns"' \
		'python3 -m http.server --bind 127.0.0.1 8000 >/dev/null 2>&1 & sleep 0.5; python3 -c "import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:8000/\").status)"'
	kill $server
	assert_equal "$(jq -r 'select(.id == "r2") | .content' <<<"$output")" "200" # its own loopback works
	[[ $(jq -r 'select(.id == "r0") | .content' <<<"$output") == *"Connection refused"* ]]
	[[ $(jq -r 'select(.id == "r1") | .content' <<<"$output") == *"no dns"* ]]
	run -0 x --net -- 'cat /proc/net/dev | wc -l'
	[ "$(jq -r .content <<<"$output" | head -1)" -gt 3 ]
}

@test "#11 #16 #17: timeouts kill a sleeper, a TERM-ignorer and a stopped shell at the deadline" {
	run -0 bash -c "$(declare -f x req); RUN=$RUN; \
		{ req a w exec '{\"command\":\"sleep 1000\",\"timeout\":1}'; \
		  req b w exec '{\"command\":\"trap \\\"\\\" TERM INT HUP; sleep 100\",\"timeout\":1}'; \
		  req c w exec '{\"command\":\"kill -STOP \$\$\",\"timeout\":1}'; } | ise-exec --run-dir $RUN --uid 61000"
	jq -e -s 'length == 3 and all(.timed_out and .signal == 9 and .exit_code == null
		and .duration_ms >= 900 and .duration_ms < 2500)' <<<"$output"
	[[ $(jq -r 'select(.id == "a") | .content' <<<"$output") == "(Command timed out after 1 seconds)" ]]
}

@test "#12 #13: background children and setsid, nohup, double-fork escapees end with the call" {
	for level in ns rlimit bwrap; do
		run -0 x --isolation $level -- 'sleep 100 & echo done' \
			'setsid sleep 101 & nohup sleep 102 >/dev/null 2>&1 & (sleep 103 &) ; bash -c "sleep 100 & disown"; echo spawned' \
			'python3 -c "import os,sys
if os.fork(): sys.exit(0)
os.setsid()
if os.fork(): sys.exit(0)
os.close(1); os.close(2); import time; time.sleep(104)"; echo forked'
		jq -e -s 'all(.ok and .exit_code == 0 and .duration_ms < 3000)' <<<"$output"
		assert_equal "$(jq -r 'select(.id == "r0") | .content' <<<"$output")" "done"
		! pgrep -f 'sleep 10[0-4]' || fail "a sleeper outlived its call at $level"
	done
}

@test "#14: a bash fork bomb and a python setsid fork bomb are bounded; the host forks; the next call works" {
	run -0 x --nproc 64 --exec-timeout 10 -- ':(){ :|:& };:' 'python3 -c "
import os
while True:
    try:
        if os.fork() == 0: os.setsid()
    except OSError: pass"' 'echo alive'
	# both end at their time limit or when the shell gives up; then nothing is left
	assert_equal "$(jq -r 'select(.id == "r2") | .content' <<<"$output")" "alive"
	true # the host forked to run this very test
}

@test "#18: kill -9 -1, kill 1 and pkill from inside do not reach ise-exec" {
	run -0 x -- 'kill -9 -1; echo a' 'kill -9 1; echo b' 'pkill -9 -f ise-exec; echo c' 'echo still here'
	assert_equal "$(jq -s length <<<"$output")" 4
	assert_equal "$(jq -r 'select(.id == "r3") | .content' <<<"$output")" "still here"
}

@test "#19: killing ise-exec in the middle of a call leaves no process behind, at every level" {
	# early (while the monitor sets up, or before) and once the command runs
	for level in ns rlimit bwrap; do for delay in 0.05 0.2 1; do
		req 1 w exec '{"command":"sleep 300 & setsid sleep 301 & sleep 302"}' >req
		ise-exec --run-dir "$RUN" --uid 61000 --isolation $level req >/dev/null &
		local pid=$!
		sleep $delay
		kill -9 $pid
		wait $pid || true
		# the sandbox's uid: another suite's sandboxes may run at the same time;
		# ten seconds, for a loaded machine to deliver the chain of kills
		for i in $(seq 100); do pgrep -u 61000 -f 'sleep 30[0-2]' >/dev/null || break; sleep 0.1; done
		! pgrep -u 61000 -f 'sleep 30[0-2]' >/dev/null ||
			fail "orphans at $level, killed after $delay s: $(ps -o pid,ppid,uid,stat,etime,cmd -u 61000)"
		rm -rf "$RUN"/* # what a crashed run leaves: cleaned by the next start, tested below
	done; done
	run -0 x -- true # and its cgroups, by the next start
}

@test "#20: 50 workspaces on 8 workers, no cross-talk; requests of a workspace run in order" {
	for i in $(seq 50); do
		req "w$i-a" "ws$i" exec "{\"command\":\"echo ws$i > mine; sleep 0.0$((i % 10))\"}"
		req "w$i-b" "ws$i" exec '{"command":"cat mine; ls"}'
	done >reqs
	run -0 ise-exec --run-dir "$RUN" --uid 61000 -j 8 reqs
	assert_equal "$(jq -s length <<<"$output")" 100
	for i in 1 17 50; do
		assert_equal "$(jq -r --arg id "w$i-b" 'select(.id == $id) | .content' <<<"$output" | head -1)" "ws$i"
	done
	jq -e -s '[.[] | select(.id | endswith("-b")) | .content | split("\n")[0]] == [range(1;51) | "ws\(.)"]' <<<"$output"
}

@test "#21 #22 #25: floods are capped quickly; random bytes give valid JSON and the right count" {
	run -0 x --max-output 4096 -- 'yes' 'head -c 10M /dev/urandom' 'head -c 100000000 /dev/zero | tr "\0" a'
	sel r0 '.limit_hit == "output" and .truncated and .duration_ms < 5000'
	sel r1 '.details.output_bytes == 10485760 and .truncated and (.content | length) < 5000'
	sel r2 '.truncated and (.content | test("\\[\\.\\.\\. [0-9]+ bytes omitted \\.\\.\\.\\]"))'
	# strict parsers accept every line
	while read -r line; do python3 -c 'import json,sys; json.loads(sys.argv[1])' "$line"; done <<<"$output"
}

@test "#23 #24: invalid UTF-8, NUL, escapes, U+2028, a cut multibyte character; interleaving" {
	run -0 x --max-output 64 -- 'printf "ok \377\376 \300\257 \355\240\200 nul:\0: esc:\033[31m u2028:\342\200\250 end"' \
		'head -c 40 /dev/zero | tr "\0" a; printf "\342\202\254%.0s" $(seq 40)' \
		'echo out1; echo err1 >&2; echo out2; printf last'
	assert_equal "$(jq -r 'select(.id == "r0") | .content' <<<"$output")" \
		"ok �� �� ��� nul:�: esc:"$'\033'"[31m u2028:$(printf '\342\200\250') end"
	# cut in the middle: whole characters on both sides of the marker
	sel r1 '.truncated and (.content | test("^a+\n\\[\\.\\.\\. [0-9]+ bytes omitted \\.\\.\\.\\]\n(€)+$"))'
	assert_equal "$(jq -r 'select(.id == "r2") | .content' <<<"$output")" $'out1\nerr1\nout2\nlast'
}

@test "#26 #27: a disk fill and a /tmp fill stop at their quotas; the host disk is untouched" {
	local free_before
	free_before=$(df --output=avail / | tail -1)
	run -0 x --disk 16M --tmp-size 8M --fsize 1G -- 'dd if=/dev/zero of=big bs=1M count=100' \
		'dd if=/dev/zero of=/tmp/big bs=1M count=100' 'for i in $(seq 5000); do echo $i > f$i || break; done; ls | wc -l'
	sel r0 '.content | test("No space left")'
	sel r0 '.limit_hit == "disk"'
	sel r1 '.content | test("No space left")'
	[ $(($(df --output=avail / | tail -1) - free_before)) -gt -20000 ]
	run -0 x --fsize 1M -- 'dd if=/dev/zero of=big bs=1M count=10'
	jq -e '.exit_code == 153 and .limit_hit == "fsize"' <<<"$output"
}

@test "#28 #29: memory, file descriptors and threads are bounded; runtimes still start" {
	run -0 x --memory 512M -- 'python3 -c "b = bytearray(8 << 30)" 2>&1 | tail -1' \
		'python3 -c "
import os
fds = []
try:
    while True: fds.append(os.open(\"/dev/null\", os.O_RDONLY))
except OSError as e: print(len(fds) < 2000, e.errno)"' \
		'python3 -c "
import threading, time
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); n += 1
except RuntimeError: print(\"threads capped\", n < 600)"' \
		'command -v node >/dev/null && node -e "console.log(1+1)" || echo 2'
	[[ $(jq -r 'select(.id == "r0") | .content' <<<"$output") == *MemoryError* ]]
	assert_equal "$(jq -r 'select(.id == "r1") | .content' <<<"$output")" "True 24"
	assert_equal "$(jq -r 'select(.id == "r2") | .content' <<<"$output")" "threads capped True"
	assert_equal "$(jq -r 'select(.id == "r3") | .content' <<<"$output")" "2"
}

@test "#35: TIOCSTI is refused" {
	run -0 x -- 'python3 -c "
import fcntl, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b\"x\")
except OSError as e: print(e.errno)"'
	assert_equal "$(jq -r .content <<<"$output")" 1
}

@test "#38 #39 #40: state persists in a workspace, is invisible to another; the template never changes" {
	mkdir -p tpl/sub
	echo base >tpl/a.txt
	echo keep >tpl/sub/b.txt
	chown -R 61000:61000 tpl
	local sum
	sum=$(tar -C tpl -cf - . | sha256sum)
	{
		req 1 A exec '{"command":"echo more >> a.txt; rm sub/b.txt; echo new > c.txt"}'
		req 2 A exec '{"command":"cat a.txt; ls sub; ls"}'
		req 3 B exec '{"command":"cat a.txt; ls sub; ls"}'
	} >reqs
	run -0 ise-exec --run-dir "$RUN" --uid 61000 --template tpl reqs
	assert_equal "$(jq -r 'select(.id == "2") | .content' <<<"$output")" $'base\nmore\na.txt\nc.txt\nsub'
	assert_equal "$(jq -r 'select(.id == "3") | .content' <<<"$output")" $'base\nb.txt\na.txt\nsub'
	for i in $(seq 200); do req "$i" "t$i" exec '{"command":"echo x >> a.txt; rm -rf sub"}'; done >many
	run -0 ise-exec --run-dir "$RUN" --uid 61000 -j 4 --template tpl many
	assert_equal "$(tar -C tpl -cf - . | sha256sum)" "$sum"
}

@test "#40: a crashed run's leftovers are removed by the next start" {
	mkdir -p "$RUN/999999-0/w1/merged" "$RUN/999999-0/w1/upper"
	echo junk >"$RUN/999999-0/w1/upper/x"
	run -0 x -- 'true'
	[ ! -e "$RUN/999999-0" ]
}

@test "workspaces: open with a template, keep its changes, close; --keep at close; whiteouts kept" {
	mkdir tpl && echo base >tpl/a.txt && echo gone >tpl/b.txt
	chown -R 61000:61000 tpl
	{
		echo '{"id":"o","op":"open","workspace":"A","template":"tpl"}'
		req 1 A exec '{"command":"echo changed > a.txt; rm b.txt; mkdir d; echo n > d/n"}'
		echo '{"id":"k","op":"keep","workspace":"A","dir":"saved"}'
		echo '{"id":"c","op":"close","workspace":"A"}'
		req 2 A exec '{"command":"cat a.txt"}'
		echo '{"id":"bad","op":"close","workspace":"nope"}'
	} >reqs
	run -0 ise-exec --run-dir "$RUN" --uid 61000 reqs
	jq -e -s '[.[] | .ok] == [true, true, true, true, true, false]' <<<"$output"
	assert_equal "$(cat saved/A/a.txt)" changed
	[ -c saved/A/b.txt ] # the whiteout of the deleted file
	assert_equal "$(cat saved/A/d/n)" n
	[[ $(jq -r 'select(.id == "2") | .content' <<<"$output") == *"No such file"* ]] # a fresh workspace
	run -0 x --keep kept -- 'echo hi > x'
	assert_equal "$(cat kept/w/x)" hi
}

@test "background commands: process list, poll, log, write, kill; closing the workspace ends them" {
	{
		req 1 w exec '{"command":"while read l; do echo got $l; done","background":true}'
		req 2 w process '{"action":"write","sessionId":"proc-1","data":"one\ntwo\n"}'
		req 3 w exec '{"command":"sleep 0.3"}'
		req 4 w process '{"action":"poll","sessionId":"proc-1"}'
		req 5 w process '{"action":"list"}'
		req 6 w process '{"action":"log","sessionId":"proc-1","offset":1,"limit":1}'
		req 7 w process '{"action":"kill","sessionId":"proc-1"}'
		req 8 w process '{"action":"poll","sessionId":"proc-1"}'
		req 9 w process '{"action":"poll","sessionId":"proc-9"}'
		req 10 w exec '{"command":"sleep 200","background":true}'
	} >reqs
	run -0 ise-exec --run-dir "$RUN" --uid 61000 reqs
	[[ $(c 1) == *"session proc-1"* ]]
	assert_equal "$(c 4)" $'got one\ngot two\n(session proc-1: running)'
	[[ $(c 5) == *"proc-1  running  while read"* ]]
	assert_equal "$(c 6)" "got two"
	assert_equal "$(c 8)" "(session proc-1: killed)"
	sel 9 '.ok == false'
	# proc-2 (sleep 200) ended with the workspace: teardown checks no process is left
}

@test "workdir: inside the workspace only" {
	{
		req 1 w exec '{"command":"mkdir -p sub/dir"}'
		req 2 w exec '{"command":"pwd","workdir":"sub/dir"}'
		req 3 w exec '{"command":"pwd","workdir":"/workspace/sub"}'
		req 4 w exec '{"command":"pwd","workdir":"../.."}'
		req 5 w exec '{"command":"pwd","workdir":"/etc"}'
		req 6 w exec '{"command":"pwd","workdir":"missing"}'
	} >reqs
	run -0 ise-exec --run-dir "$RUN" --uid 61000 reqs
	assert_equal "$(c 2)" /workspace/sub/dir
	assert_equal "$(c 3)" /workspace/sub
	jq -e -s '[.[] | .ok] == [true, true, true, false, false, false]' <<<"$output"
}

@test "arguments as a JSON string, malformed arguments, unknown tools: tool errors, not bad records" {
	{
		echo '{"id":"1","workspace":"w","name":"exec","arguments":"{\"command\":\"echo s\"}"}'
		echo '{"id":"2","workspace":"w","name":"exec","arguments":"{\"command\": "}'
		echo '{"id":"3","workspace":"w","name":"exec","arguments":{"command":42}}'
		echo '{"id":"4","workspace":"w","name":"teleport","arguments":{}}'
		echo '{"id":"5","name":"exec","arguments":{}}'
		echo '{"id":"6","workspace":"w","op":"explode"}'
	} >reqs
	run -1 --separate-stderr ise-exec --run-dir "$RUN" --uid 61000 reqs
	assert_equal "$(jq -c -s '[.[] | [.id, .ok]]' <<<"$output")" '[["1",true],["2",false],["3",false],["4",false]]'
	[[ $stderr == *"reqs:5: record without a string 'workspace'"* ]]
	[[ $stderr == *"reqs:6: op 'explode' is not open, close or keep"* ]]
}

@test "isolation levels fail closed: a level the machine cannot give is an error" {
	run -2 env PATH=/nonexistent "$ROOT/bin/ise-exec" --isolation bwrap </dev/null
	[[ $output == *"bwrap is not installed"* ]]
	run -2 setpriv --reuid=65534 --regid=65534 --clear-groups "$ROOT/bin/ise-exec" --isolation ns --run-dir /tmp/ise-nobody-$$ </dev/null
	[[ $output == *"--isolation ns needs root"* ]]
	run -2 ise-exec --isolation jail </dev/null
	[[ $output == *"not ns, bwrap, rlimit or none"* ]]
}

@test "every level runs a command and says which it was" {
	for level in ns bwrap rlimit none; do
		run -0 x --isolation $level -- 'echo ran'
		assert_equal "$(jq -c '[.content, .isolation]' <<<"$output")" "[\"ran\\n\",\"$level\"]"
	done
}

@test "a command ending never kills another workspace's commands or its own background ones" {
	for level in ns bwrap rlimit; do
		{
			req 1 A exec '{"command":"sleep 30","background":true}'
			req 2 A exec '{"command":"true"}'
			req 3 B exec '{"command":"sleep 1; echo B done"}'
			req 4 C exec '{"command":"true"}'
			req 5 A process '{"action":"poll","sessionId":"proc-1"}'
		} >reqs
		run -0 ise-exec --run-dir "$RUN" --uid 61000 --isolation $level -j 3 reqs
		sel 3 '.content == "B done\n"'
		sel 5 '.content == "(session proc-1: running)"'
	done
}

@test "cgroups: a workspace's memory limit ends a many-process command, flagged limit_hit memory" {
	have_cgroup memory || skip "no writable memory cgroup"
	for level in ns rlimit; do
		# each process stays under RLIMIT_DATA; together they pass the cgroup's limit
		run -0 x --isolation $level --memory 64M -- \
			'for i in 1 2 3 4; do python3 -c "b = b\"x\" * (40 << 20); import time; time.sleep(1)" & done; wait; echo end' \
			'echo next'
		sel r0 '.limit_hit == "memory" and .content == "end\n"'
		sel r1 '.limit_hit == null and .content == "next\n"'
	done
}

@test "cgroups: a fork bomb is held at --nproc by its workspace's pids cgroup; other workspaces still fork" {
	have_cgroup pids || skip "no writable pids cgroup"
	local bomb='python3 -c "
import os, time
n = 0
while True:
    try:
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
    except OSError: break
print(n, flush=True); time.sleep(30)"'
	mkfifo in
	ise-exec --run-dir "$RUN" --uid 61000 --nproc 40 <in >out 3>&- &
	local pid=$! f i current max
	exec 4>in
	req 1 A exec "$(jq -cn --arg c "$bomb" '{command: $c, background: true}')" >&4
	for i in $(seq 100); do # the bomb fills its workspace's cgroup
		f=$(ls "$(cg_dir pids)"/ise-$pid-*/ws-1/pids.current "$(cg_dir '')"/ise-$pid-*/ws-1/pids.current 2>/dev/null | head -1)
		[ -n "$f" ] && [ "$(cat "$f")" -ge 40 ] && break
		sleep 0.1
	done
	current=$(cat "$f")
	max=$(cat "${f%current}max")
	# the same sandbox uid in another workspace is not starved (RLIMIT_NPROC would be)
	req 2 B exec '{"command":"python3 -c \"import os\nfor i in range(30):\n    if os.fork() == 0: os._exit(0)\nprint(30)\""}' >&4
	req 3 A process '{"action":"poll","sessionId":"proc-1"}' >&4
	exec 4>&- # the asserts after it, so that a failure never leaves ise-exec waiting
	wait $pid
	assert_equal "$current" 40
	assert_equal "$max" 40
	output=$(cat out)
	sel 2 '.content == "30\n"'
	sel 3 '(.content | split("\n")[0] | tonumber) < 40'
}

@test "cgroups: at rlimit a setsid escapee dies with its command while a background command of the workspace runs" {
	have_cgroup kill || skip "no cgroup.kill"
	{
		req 1 w exec '{"command":"sleep 30","background":true}'
		req 2 w exec '{"command":"setsid sleep 107 & sleep 0.3; echo started"}'
		req 3 w exec '{"command":"pgrep -f \"sleep 10[7]\" || echo gone"}'
		req 4 w process '{"action":"poll","sessionId":"proc-1"}'
	} >reqs
	run -0 ise-exec --run-dir "$RUN" --uid 61000 --isolation rlimit reqs
	sel 2 '.content == "started\n"'
	sel 3 '.content == "gone\n"'
	sel 4 '.content == "(session proc-1: running)"'
}

@test "cgroups: a sandboxed command cannot change its cgroups" {
	have_cgroup pids || skip "no writable pids cgroup"
	# ns: no /sys at all, and its cgroup namespace starts at its own cgroups
	run -0 x -- 'ls /sys/fs/cgroup; grep -v ":/$" /proc/self/cgroup; echo end'
	[[ $(jq -r .content <<<"$output") == *"No such file or directory"$'\n'"end"* ]]
	# rlimit: the host's cgroup files, root's, not writable by the sandbox user
	local mnt
	mnt=$(cg_dir pids)
	mnt=${mnt%"$(awk -F: '$2 == "pids" { print $3 }' /proc/self/cgroup | sed 's:/$::')"}
	run -0 x --isolation rlimit --nproc 100 -- "d=$mnt\$(sed -n 's/^[0-9]*:pids://p' /proc/self/cgroup)"'
		echo max > $d/pids.max; echo $$ > $d/../cgroup.procs; cat $d/pids.max'
	[[ $(jq -r .content <<<"$output") == *"Permission denied"*"Permission denied"*"100"* ]]
}

@test "cgroups: a dead run's cgroups are removed at start" {
	local c d made=()
	for c in memory pids ''; do
		d=$(cg_dir "$c") && mkdir -p "$d/ise-999999-0/ws-1/cmd-1" 2>/dev/null && made+=("$d/ise-999999-0")
	done
	[ ${#made[@]} -gt 0 ] || skip "no writable cgroup"
	run -0 x -- true
	for d in "${made[@]}"; do
		[ ! -e "$d" ] || fail "left: $d"
	done
}

@test "a NUL character in a call's arguments fails the call, which does nothing; an escaped one is text" {
	cat >reqs <<'EOF'
{"id":"1","workspace":"w","name":"exec","arguments":{"command":"echo A\u0000; touch proof"}}
{"id":"2","workspace":"w","name":"write","arguments":"{\"path\":\"f\",\"content\":\"ab\\u0000cd\"}"}
{"id":"3","workspace":"w","name":"edit","arguments":{"path":"AGENTS.md","oldText":"A","newText":"B\u0000"}}
{"id":"4","workspace":"w","name":"memory_write","arguments":{"content":"x\u0000y"}}
{"id":"5","workspace":"w","name":"exec","arguments":{"command":"ls; head -c 1 AGENTS.md; echo; printf %s '\\u0000'"}}
EOF
	run -0 ise-exec --run-dir "$RUN" --uid 61000 --no-timings reqs
	for i in 1 2 3 4; do
		sel "$i" '.ok == false and (.content | endswith("hold a NUL character (\\u0000), which no command, path or file text here can carry: nothing was done"))'
	done
	assert_equal "$(c 5)" $'AGENTS.md\nMEMORY.md\nmemory\n#\n\\u0000'
}

@test "the sandbox shows no host command line in /proc/1/cmdline, and refuses address families beyond UNIX, INET, INET6, NETLINK" {
	mkdir host-SECRET-dir
	run -0 x --keep host-SECRET-dir -- 'tr "\0" " " </proc/1/cmdline; echo; cat /proc/1/comm' \
		'python3 -c "
import socket
for name in [\"AF_VSOCK\", \"AF_PACKET\", \"AF_BLUETOOTH\", \"AF_CAN\", \"AF_ALG\", \"AF_UNIX\", \"AF_INET\", \"AF_INET6\", \"AF_NETLINK\"]:
    try:
        socket.socket(getattr(socket, name), socket.SOCK_RAW if name in (\"AF_NETLINK\", \"AF_PACKET\") else socket.SOCK_DGRAM if name != \"AF_ALG\" else socket.SOCK_SEQPACKET).close()
        print(name, \"ok\")
    except OSError as e:
        print(name, e.errno)"'
	[[ $(c r0) != *SECRET* && $(c r0) != *ise-exec* ]] || fail "$(c r0)"
	assert_equal "$(c r0 | tr -s ' ' | sed 's/ $//')" $'ise-sandbox\nise-sandbox'
	assert_equal "$(c r1)" $'AF_VSOCK 97\nAF_PACKET 97\nAF_BLUETOOTH 97\nAF_CAN 97\nAF_ALG 97\nAF_UNIX ok\nAF_INET ok\nAF_INET6 ok\nAF_NETLINK ok'
}

@test "--replay: a trajectory's calls run again from its tasks' setup; hashes and times are normalised, a changed result is found" {
	ise-persona -n 20 2>/dev/null | ise-sample -n 2 - | jq -c '.tasks = [{id: "debug-failing-ci-checks", name: "Debug Failing CI Checks",
		domain: "source-chain", description: "x", tools: ["write", "exec", "edit", "read"]}]' |
		ise-render --offline - 2>/dev/null >ci.jsonl
	ise-sim --offline --no-timings --run-dir "$RUN" --uid 61000 ci.jsonl 2>/dev/null >t.jsonl
	assert_equal "$(wc -l <t.jsonl)" 2
	# a commit made in the same second as the recorded one has its hash:
	# the replay's commits come a second later
	sleep 1
	run -0 ise-exec --replay --run-dir "$RUN" --uid 61000 t.jsonl
	assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id t.jsonl)"
	# the commit hashes of 'git log' (call 4) and a test's run time (call 1)
	# differ: normalised, and named
	jq -e -s 'all(.[].replay; .calls == 6 and .diverged == null and (.normalised | index(4)) and
		(.normalised - [1, 4]) == [] and .verification.verified)' <<<"$output" || fail "$output"
	# a recorded result that the workspace does not give back is a divergence
	jq -c '(.messages[] | select(.role == "tool" and .tool_call_id == "call_1_2") | .content) |= "VAT_RATE = 0.99\n"' t.jsonl >bad.jsonl
	run -0 ise-exec --replay --run-dir "$RUN" --uid 61000 bad.jsonl
	jq -e -s 'all(.[].replay; .diverged.call == 2 and .diverged.name == "read" and
		.diverged.recorded == "VAT_RATE = 0.99\n" and (.diverged.replayed | contains("VAT_RATE = 0.20")))' <<<"$output"
	# a duration padded into a column, and git describe's hash after "-g"
	jq -nc '{id: "col", messages: [{role: "user", content: "x"},
		{role: "assistant", content: "", tool_calls: [{id: "c1", type: "function", function: {name: "exec",
			arguments: ({command: "printf '"'"'sort %9.3f ms\\n'"'"' 1.5; echo v2.0.0-7-g1234567"} | tojson)}}]},
		{role: "tool", tool_call_id: "c1", content: "sort    32.869 ms\nv2.0.0-7-gabcdef1\n"}]}' >col.jsonl
	run -0 ise-exec --replay --run-dir "$RUN" --uid 61000 col.jsonl
	jq -e '.replay | .diverged == null and .normalised == [1]' <<<"$output"
	sed 's/sort  /sorted/' col.jsonl >col2.jsonl
	run -0 ise-exec --replay --run-dir "$RUN" --uid 61000 col2.jsonl
	jq -e '.replay.diverged.call == 1' <<<"$output"
	# a record that is not a trajectory is a bad record
	run -1 --separate-stderr ise-exec --replay --run-dir "$RUN" --uid 61000 <<<'{"id":"x"}'
	[[ $stderr == *"<stdin>:1: record without a 'messages' array: not a trajectory"* ]]
}

@test "--replay: only what a clock or the process table decides is normalised; a changed total, version, range or count is a divergence" {
	# one trajectory of one exec call per case: ID, the command, the result recorded
	one() {
		jq -nc --arg id "$1" --arg cmd "$2" --arg was "$3" '{id: $id, messages: [{role: "user", content: "x"},
			{role: "assistant", content: "", tool_calls: [{id: "c1", type: "function",
				function: {name: "exec", arguments: ({command: $cmd} | tojson)}}]},
			{role: "tool", tool_call_id: "c1", content: $was}]}'
	}
	{
		one clock 'echo "built at 09:00:01"' $'built at 17:42:59\n'
		one iso 'echo "2026-12-07T08:33:16.5Z done"' $'2031-01-02T23:59:59.25Z done\n'
		one stamp 'echo backup-20261207-1530.tar.gz' $'backup-20251231-0001.tar.gz\n'
		one epoch 'echo "mtime=1733561596 ns 1733561596123456789"' $'mtime=1765432109 ns 1765432109000000001\n'
		one duration 'echo "Ran 3 tests in 0.004s"; printf "real\t0m0.004s\n"; echo "took 12 ms"' \
			$'Ran 3 tests in 1.250s\nreal\t1m2.500s\ntook 3 ms\n'
		one pid 'echo "started pid 4242"' $'started pid 17\n'
		one speedup 'echo "serial 23.3 ms, speed-up 1.19x"' $'serial 138.5 ms, speed-up 0.83x\n'
		one profile 'echo "        1    0.010    0.010    0.019    0.019 dedup.py:15(dedup)"' \
			$'        1    0.000    0.000    0.004    0.004 dedup.py:15(dedup)\n'
	} >same.jsonl
	run -0 ise-exec --replay --run-dir "$RUN" --uid 61000 same.jsonl
	jq -e -s 'length == 8 and all(.[].replay; .calls == 1 and .diverged == null and .normalised == [1])' <<<"$output"
	{
		one total 'echo "total 1234.57"' $'total 1234.56\n'
		one version 'echo "version 1.2.4"' $'version 1.2.3\n'
		one count 'echo "count 123457"' $'count 123456\n'
		one range 'echo "lines 1-11"' $'lines 1-10\n'
		one phone 'echo "call 555-1235"' $'call 555-1234\n'
		one port 'echo "127.0.0.1:8081"' $'127.0.0.1:8080\n'
		one line 'echo "a.c:12:16: warning"' $'a.c:12:15: warning\n'
	} >changed.jsonl
	run -0 ise-exec --replay --run-dir "$RUN" --uid 61000 changed.jsonl
	jq -e -s 'length == 7 and all(.[].replay; .diverged.call == 1 and .normalised == [])' <<<"$output"
	assert_equal "$(jq -r -s '.[] | .replay.diverged.recorded' <<<"$output")" \
		$'total 1234.56\n\nversion 1.2.3\n\ncount 123456\n\nlines 1-10\n\ncall 555-1234\n\n127.0.0.1:8080\n\na.c:12:15: warning'
}
