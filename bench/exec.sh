#!/bin/sh
# bench/exec.sh: what a sandboxed tool call and a workspace cost.
#  1. median latency of an exec of `true` at the ns level, beside the bwrap
#     level and bwrap itself running `true` the same way, on this machine;
#  2. workspace open+close for templates of 1,000 and 30,000 files (an
#     overlay: flat), beside a plain `cp -a` of each template (the copy a
#     sandbox without overlays makes).
# Needs root (the ns level); N=200 calls by default.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/exec.sh: needs root (the ns level)"; exit 0; }
N=${N:-200}
W=${W:-40}
tmp=$(mktemp -d /tmp/ise-bench-exec.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 711 "$tmp"

calls() { # N requests of `true` in one workspace
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"%d\",\"workspace\":\"w\",\"name\":\"exec\",\"arguments\":{\"command\":\"true\"}}\n", i }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

calls "$N" >"$tmp/calls.jsonl"
ns=$(bin/ise-exec --run-dir "$tmp/run" "$tmp/calls.jsonl" | jq .duration_ms | median)
echo "exec true, ns level:      median ${ns} ms over $N calls"
if command -v bwrap >/dev/null; then
	bw=$(bin/ise-exec --run-dir "$tmp/run" --isolation bwrap "$tmp/calls.jsonl" | jq .duration_ms | median)
	echo "exec true, bwrap level:   median ${bw} ms"
	mkdir -p "$tmp/ws"
	raw=$(python3 - "$N" "$tmp/ws" <<-'EOF'
		import subprocess, sys, time, statistics
		n, ws = int(sys.argv[1]), sys.argv[2]
		argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr",
		        "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
		        "--ro-bind", "/etc", "/etc", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
		        "--bind", ws, "/workspace", "--chdir", "/workspace", "/bin/sh", "-c", "true"]
		t = []
		for _ in range(n):
		    a = time.perf_counter(); subprocess.run(argv, check=True); t.append((time.perf_counter() - a) * 1000)
		print(round(statistics.median(t), 3))
	EOF
	)
	echo "bwrap itself, same call:  median ${raw} ms (from python subprocess)"
	echo "ratio ns / bwrap itself:  $(awk -v a="$ns" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')"
fi

make_template() { # DIR FILES: FILES files of 1-20 KiB in 100 directories
	mkdir -p "$1"
	python3 - "$1" "$2" <<-'EOF'
		import os, sys
		root, n = sys.argv[1], int(sys.argv[2])
		for i in range(n):
		    d = os.path.join(root, "d%03d" % (i % 100))
		    os.makedirs(d, exist_ok=True)
		    with open(os.path.join(d, "f%05d.txt" % i), "wb") as f:
		        f.write(os.urandom(1024 * (1 + i % 20)))
	EOF
	chown -R 65534:65534 "$1"
}

for files in 1000 30000; do
	tpl="$tmp/tpl$files"
	make_template "$tpl" "$files"
	awk -v n="$W" -v t="$tpl" 'BEGIN { for (i = 0; i < n; i++) {
		printf "{\"id\":\"o%d\",\"op\":\"open\",\"workspace\":\"w%d\",\"template\":\"%s\"}\n", i, i, t
		printf "{\"id\":\"c%d\",\"op\":\"close\",\"workspace\":\"w%d\"}\n", i, i } }' >"$tmp/ws.jsonl"
	start=$(date +%s%N)
	bin/ise-exec --run-dir "$tmp/run" "$tmp/ws.jsonl" >/dev/null
	ov=$(( ($(date +%s%N) - start) / W / 1000 ))
	start=$(date +%s%N)
	for i in 1 2 3; do cp -a "$tpl" "$tmp/copy$i" && rm -rf "$tmp/copy$i"; done
	cp=$(( ($(date +%s%N) - start) / 3 / 1000 ))
	echo "workspace open+close, $files files: overlay $(awk -v v="$ov" 'BEGIN { printf "%.2f", v / 1000 }') ms;" \
		"cp -a + rm -rf $(awk -v v="$cp" 'BEGIN { printf "%.1f", v / 1000 }') ms" \
		"(ratio $(awk -v a="$cp" -v b="$ov" 'BEGIN { printf "%.0f", a / b }')x)"
done
