#!/usr/bin/env bats
# The build: linking, installing, the demo, and lint.
load helper

@test "GSL is linked with OpenBLAS, not the reference CBLAS" {
	for p in $(programs); do
		run -0 readelf -d "$ROOT/bin/$p"
		assert_output --partial "[libopenblas.so"
		refute_output --partial "[libgslcblas.so"
	done
	# libgsl itself names libgslcblas; with our link line its BLAS calls
	# must still bind to OpenBLAS, which is loaded first
	cat >"$BATS_TEST_TMPDIR/blas.c" <<-'C'
	#include <gsl/gsl_blas.h>
	int main(void)
	{
		gsl_matrix *a = gsl_matrix_alloc(2, 2), *c = gsl_matrix_alloc(2, 2);
		gsl_matrix_set_all(a, 1);
		gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, a, a, 0, c);
		return gsl_matrix_get(c, 0, 0) != 2;
	}
	C
	cc -o "$BATS_TEST_TMPDIR/blas" "$BATS_TEST_TMPDIR/blas.c" $(make -s -C "$ROOT" print-libs)
	run -0 env LD_DEBUG=bindings "$BATS_TEST_TMPDIR/blas"
	assert_output --regexp 'libgsl\.so[^ ]* \[0\] to [^ ]*libopenblas\.so[^ ]* \[0\]: normal symbol .cblas_dgemm.'
}

@test "make install puts programs, data and pages under DESTDIR/PREFIX, and they run there" {
	dest=$BATS_TEST_TMPDIR/root
	run -0 make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/ise
	for p in $(programs); do
		[ -x "$dest/opt/ise/bin/$p" ]
		[ -f "$dest/opt/ise/share/man/man1/$p.1" ]
	done
	[ -f "$dest/opt/ise/share/man/man7/ise.7" ]
	[ -f "$dest/opt/ise/share/ise/catalog.json" ]
	[ -f "$dest/opt/ise/share/ise/personas.json" ]
	# nothing of DESTDIR is baked into the programs
	run -0 "$dest/opt/ise/bin/ise-persona" -n 2
	run -0 make -s -C "$ROOT" uninstall DESTDIR="$dest" PREFIX=/opt/ise
	[ ! -e "$dest/opt/ise/bin/ise-persona" ]
}

@test "make demo runs offline and says where its output went" {
	run -0 make -s -C "$ROOT" demo
	assert_output --partial "demo-out/tuples.jsonl"
	[ "$(wc -l <"$ROOT/demo-out/tuples.jsonl")" -gt 0 ]
}

@test "make lint is clean" {
	command -v clang-format >/dev/null || skip "clang-format not installed"
	run -0 make -s -C "$ROOT" lint
}

@test "the man pages' EXAMPLES run" {
	# every literal block of EXAMPLES as a script of its own, in a directory
	# of its own, three at a time (the ise-sim ones play real trajectories)
	local d=$BATS_TEST_TMPDIR/ex page n
	mkdir -p "$d"
	for page in "$ROOT"/man/man1/*.1 "$ROOT"/man/man7/*.7; do
		n=$(awk -v out="$d/$(basename "$page")" '
			/^\.Sh / { ex = ($2 == "EXAMPLES") }
			ex && /^\.Bd -literal/ { inblock = 1; f = out "." ++n ".sh"; printf "" >f; next }
			ex && /^\.Ed/ { if (inblock) close(f); inblock = 0; next }
			inblock { gsub(/\\e/, "\\"); gsub(/\\\(aq/, "'\''"); gsub(/\\\(dq/, "\""); gsub(/\\&/, ""); print >f }
			END { print n + 0 }' "$page")
		[ "$page" = "$ROOT/man/man7/ise.7" ] || [ "$n" -gt 0 ] || fail "$page has no EXAMPLES"
	done
	# shellcheck disable=SC2016 # $1 is the inner shell's
	printf '%s\n' "$d"/*.sh | xargs -P 3 -n 1 sh -c 'mkdir "$1.d" && cd "$1.d" &&
		sh -e "$1" >"$1.out" 2>&1 || echo "$1" >>"${1%/*}/failed"' sh
	if [ -e "$d/failed" ]; then
		while read -r f; do
			printf '%s failed:\n%s\n-- its output:\n%s\n' "${f##*/}" "$(cat "$f")" "$(tail -n 20 "$f.out")"
		done <"$d/failed"
		false
	fi
}

@test "make deps installs nothing when all is there, and tells a non-root user what to run" {
	run -0 make -s -C "$ROOT" deps
	assert_output "deps: all packages present"
	id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
	run -1 --separate-stderr env ISE_DEPS="bash no-such-package-ise" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups sh "$ROOT/build-aux/deps.sh"
	assert_equal "$stderr" "deps: not root; run this as root, or install them yourself:
  sudo apt-get install no-such-package-ise"
}

@test "make layers: lib/ keeps its layers, and a bad include, a cycle, a private header used outside, a file without a header or too long are each caught" {
	run -0 make -s -C "$ROOT" layers
	run -0 make -s -C "$ROOT" headers
	# a copy of the sources to break, one way at a time
	t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t"
	cp -r "$ROOT/lib" "$ROOT/src" "$t/"
	run -0 sh "$ROOT/build-aux/layers.sh" "$t"
	breaks() { # FILE TEXT-TO-APPEND EXPECTED-MESSAGE
		cp "$t/$1" "$t/$1.orig"
		printf '%s\n' "$2" >>"$t/$1"
		run -1 sh "$ROOT/build-aux/layers.sh" "$t"
		[[ $output == *"$3"* ]] || fail "$1 + '$2': $output"
		mv "$t/$1.orig" "$t/$1"
	}
	breaks lib/core/diag.c '#include "app/cli.h"' 'lib/core/diag.c:'
	breaks lib/core/diag.c '#include "app/cli.h"' 'lib/core/ may not include lib/app/'
	breaks lib/exec/keep.c '#include "llm/llm.h"' 'lib/exec/ may not include lib/llm/'
	breaks lib/diversity/vendi.c '#include "audit/audit.h"' 'lib/diversity/ may not include lib/audit/'
	breaks lib/sim/turn.h '#include "sim/sim.h"' 'an include cycle between modules'
	breaks lib/core/rng.c '#include "diag.h"' 'name the layer'
	breaks src/ise-exec.c '#include "sim/script_int.h"' 'no such header'
	echo '/* private */' >"$t/lib/sim/x_int.h"
	breaks src/ise-exec.c '#include "sim/x_int.h"' 'is private to lib/sim/'
	echo 'int ise_x(void);' >"$t/lib/core/x.c"
	run -1 sh "$ROOT/build-aux/layers.sh" "$t"
	[[ $output == *"lib/core/x.c: no header of its own"* ]]
	rm "$t/lib/core/x.c"
	seq 1201 | sed 's|.*|/* & */|' >"$t/lib/core/long.h"
	run -1 sh "$ROOT/build-aux/layers.sh" "$t"
	[[ $output == *"lib/core/long.h: 1201 lines, over 1,200"* ]]
}
