#!/bin/sh
# deps.sh: install the Debian packages ise needs to build, test and lint,
# and only those that are missing.  Run as root (or through sudo).
# clang and libclang-rt-dev (libFuzzer) are for make fuzz only; parallel and
# gnuplot-nox for examples/ (SHARDS=N, and the report's plots); openssh for
# the test that shards over ssh to a real sshd on 127.0.0.1.
set -e
# ISE_DEPS replaces the list (the tests use it to see the not-root advice).
pkgs=${ISE_DEPS:-"build-essential pkg-config libcjson-dev libcurl4-openssl-dev libgsl-dev
libopenblas-dev libseccomp-dev bubblewrap bats bats-assert bats-support jq mandoc clang-format
python3 clang libclang-rt-dev parallel gnuplot-nox openssh-client openssh-server"}
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "deps: not root; run this as root, or install them yourself:" >&2
		echo "  sudo apt-get install$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
# shellcheck disable=SC2086
${SUDO:-} apt-get install -y -qq --no-install-recommends $missing
