#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Installs the Debian 12 packages needed to build, test, fuzz and benchmark
# clearli.  Only packages that are missing are installed; apt-get update runs
# at most once.  Must run as root or through sudo.
set -eu

# build: meson ninja-build pkg-config gcc libssl-dev libpcap-dev
# fuzzing and format check: clang clang-format libclang-rt-14-dev (the
#   unversioned packages provide the clang and clang-format commands)
# tests: tshark (the independent X2/X3 decoder; brings mergecap), asn1c
#   (builds the independent HI2/HI3 decoder from the ETSI modules), openssl
#   (test certificates), python3, valgrind, git (the file list to check)
# libraries: libevent-dev (the event loop), libseccomp-dev (the roles'
#   system call filters), libjansson-dev (JSON)
# systemd: systemd-analyze checks the units' sandboxing
PKGS="meson ninja-build pkg-config gcc make git libssl-dev libpcap-dev \
libevent-dev libseccomp-dev libjansson-dev systemd \
clang clang-format libclang-rt-14-dev openssl tshark asn1c valgrind python3"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: need root or sudo to install:$missing" >&2
		exit 1
	}
	SUDO="sudo"
fi
echo "deps: installing:$missing"
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
    $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $missing
