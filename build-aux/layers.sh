#!/bin/sh
# layers.sh [ROOT]: check the shape of lib/ (see lib/README).  Exit 1 with a
# FILE:LINE: message for each breach, 0 when there is none.
#
#  - every "#include" of the project names its layer ("core/diag.h"), and
#    a file in lib/LAYER/ includes only its own layer and those below it:
#        core                      nothing else
#        llm, exec                 core
#        gen, diversity, audit     core, llm, exec
#        export                    all of the above
#        sim                       all of the above
#        app                       everything
#    (src/, tests/unit/, fuzz/ and examples/ may include any public header);
#  - a private header (NAME_int.h) is included only from its own folder;
#  - no include cycle between modules through their public headers (NAME.c
#    with NAME.h is one module; the files of a folder that share a private
#    header are the parts of one subsystem, free to call one another);
#  - every lib/LAYER/NAME.c has NAME.h or NAME_int.h beside it;
#  - no file of lib/ is over 1,200 lines.
root=${1:-.}
cd "$root" || exit 2
status=0
tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT

# The includes, as "FILE LINE TARGET" (one a line), read in one pass.
files=
for f in lib/*/*.c lib/*/*.h src/*.c tests/unit/*.c fuzz/*.c examples/*.c; do
	[ -f "$f" ] && files="$files $f"
done
# shellcheck disable=SC2086 # the names are globbed paths without spaces
awk '/^[ \t]*#[ \t]*include[ \t]*"/ {
	s = $0; sub(/^[^"]*"/, "", s); sub(/".*/, "", s); print FILENAME, FNR, s }' $files >"$tmp"

awk -v headers="$(echo lib/*/*.h)" '
function layer_of(path,   p) { split(path, p, "/"); return p[1] == "lib" ? p[2] : "" }
function may(from, to) {
	if (from == "" || from == to) return 1
	if (to == "core") return 1
	if (to == "llm" || to == "exec") return from != "core" && from != "llm" && from != "exec"
	if (to == "gen" || to == "diversity" || to == "audit")
		return from == "export" || from == "sim" || from == "app"
	if (to == "export") return from == "sim" || from == "app"
	if (to == "sim") return from == "app"
	return 0
}
BEGIN { known["core"]; known["llm"]; known["exec"]; known["gen"]; known["diversity"]
	known["audit"]; known["export"]; known["sim"]; known["app"]
	n = split(headers, h, " "); for (i = 1; i <= n; i++) header[h[i]] }
{
	file = $1; line = $2; target = $3
	from = layer_of(file)
	if (target ~ /^\.\.?\// && from == "")
		next # a file beside a test or fuzz target
	if (target !~ /\//) {
		if (from != "" || file ~ /^src\//)
			printf "%s:%d: \"%s\": name the layer (\"core/%s\")\n", file, line, target, target
		else
			next # a header beside a test or fuzz target
		bad = 1; next
	}
	split(target, t, "/"); to = t[1]
	if (!(to in known)) {
		printf "%s:%d: \"%s\": no layer %s in lib/\n", file, line, target, to; bad = 1; next
	}
	if (!(("lib/" target) in header)) {
		printf "%s:%d: \"%s\": no such header in lib/\n", file, line, target; bad = 1; next
	}
	if (target ~ /_int\.h$/ && from != to) {
		printf "%s:%d: \"%s\" is private to lib/%s/\n", file, line, target, to; bad = 1; next
	}
	if (!may(from, to)) {
		printf "%s:%d: \"%s\": lib/%s/ may not include lib/%s/ (includes run downward: lib/README)\n",
			file, line, target, from, to
		bad = 1
	}
}
END { exit bad }' "$tmp" || status=1

# Module cycles: tsort finds them in the module graph.
awk '
function module(path) { sub(/\.[ch]$/, "", path); return path }
$1 ~ /^lib\// && $3 ~ /\// && $1 !~ /_int\.h$/ && $3 !~ /_int\.h$/ {
	from = module($1); to = module("lib/" $3)
	if (from != to) print from, to
}' "$tmp" >"$tmp.edges"
if ! tsort "$tmp.edges" >/dev/null 2>"$tmp.loop"; then
	echo "lib/: an include cycle between modules:" \
		"$(grep -v 'input contains a loop' "$tmp.loop" | sed 's/^tsort: //' | tr '\n' ' ')"
	status=1
fi
rm -f "$tmp.edges" "$tmp.loop"

for c in lib/*/*.c; do
	[ -f "$c" ] || continue
	b=${c%.c}
	[ -f "$b.h" ] || [ -f "${b}_int.h" ] ||
		{ echo "$c: no header of its own (${b#lib/}.h, or ${b#lib/}_int.h if private)"; status=1; }
done
# shellcheck disable=SC2046 # as above
wc -l $(echo lib/*/*.c lib/*/*.h | tr ' ' '\n' | grep -v '[*]') | awk '
	$2 != "total" && $1 > 1200 { print $2 ": " $1 " lines, over 1,200: split it along its seams"; bad = 1 }
	END { exit bad }' || status=1
for f in lib/*.c lib/*.h; do
	[ -f "$f" ] && { echo "$f: every file of lib/ belongs in a layer's folder"; status=1; }
done
exit $status
