#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The systemd units the build installs (systemd/*.service.in): each one
# passes `systemd-analyze verify` (pointed at this build's binaries) and
# `systemd-analyze security --offline=true` rates its exposure 2.0 or
# lower.  The exposure of each unit is printed.  Skipped (exit 77) only
# when systemd-analyze is not installed.
set -euo pipefail
: "${CL_BUILD:?CL_BUILD (the build directory) must be set}"
: "${CL_SRC:?CL_SRC (the source directory) must be set}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
	exit 77
fi
MAX=2.0
T=$(mktemp -d "${TMPDIR:-/tmp}/clearli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

echo "$(systemd-analyze --version | head -n 1)"
for d in poi mdf lemf; do
	unit=clearli-$d.service
	gen=$CL_BUILD/systemd/$unit
	bin=$CL_BUILD/$d/clearli-$d
	[ -f "$gen" ] || fail "$gen not generated (systemd/meson.build)"
	[ -x "$bin" ] || fail "$bin not built"
	grep -Eq "^ExecStart=/[^ ]*/clearli-$d( |\$)" "$gen" ||
	    fail "$unit: no ExecStart with an absolute path to clearli-$d"
	! grep -n '@[a-z]*@' "$gen" || fail "$unit: a placeholder is left"

	# The installed unit names the installed binary; here it runs this
	# build's.  Nothing else is changed.
	sed -E "s|^(Exec[A-Za-z]*=)/[^ ]*/clearli-$d( \|\$)|\1$bin\2|" \
	    "$gen" >"$T/$unit"
	grep -q "^ExecStart=$bin " "$T/$unit" || fail "$unit: substitution failed"

	# verify: syntax, unknown directives, the executables.  Man pages are
	# not looked up (this build does not install them).
	if ! systemd-analyze verify --man=no "$T/$unit" >"$T/verify.log" 2>&1; then
		cat "$T/verify.log" >&2
		fail "$unit: systemd-analyze verify failed"
	fi
	if grep -Ei "unknown|ignoring|invalid|failed" "$T/verify.log" >&2; then
		fail "$unit: systemd-analyze verify complained"
	fi

	systemd-analyze security --offline=true --no-pager "$T/$unit" \
	    >"$T/security.log" 2>&1 || true
	fig=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' \
	    "$T/security.log")
	if [ -z "$fig" ]; then
		cat "$T/security.log" >&2
		fail "$unit: no exposure figure from systemd-analyze security"
	fi
	echo "$unit: exposure $fig (at most $MAX)"
	if awk -v f="$fig" -v m="$MAX" 'BEGIN { exit !(f > m) }'; then
		grep '✗' "$T/security.log" >&2 || true
		fail "$unit: exposure $fig is above $MAX"
	fi
done
echo "ok: the units verify and expose at most $MAX"
