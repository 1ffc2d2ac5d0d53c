#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Every daemon makes itself non-dumpable (PR_SET_DUMPABLE 0) before it
# reads a key, so no core dump and no same-user ptrace or /proc/PID/mem
# reader gets the keys.  The flag is not in /proc/PID/status, but the
# kernel shows it from outside: the /proc/PID/* files of a process that is
# not dumpable belong to root, those of a dumpable one to its own user.
# So the daemons run as an unprivileged user (65534 when the test runs as
# root; the test's own user otherwise) and /proc/PID/status must belong to uid 0
# while the process itself runs as that user.  (As a check of the check:
# the same process is dumpable, /proc/PID/status its user's, before the
# fix.)
. "$(dirname "$0")/lib.sh"
gen_certs

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x5'
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

D=$T/nd
mkdir -m 0700 "$D"
cp "$PKI"/*.key "$PKI"/*.pem "$D/"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
	RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	chmod 0711 "$T"
	chmod 0644 "$T/in.pcap" "$T/tasks"
	chown -R 65534:65534 "$D"
fi
USER_UID=$(id -u)
[ ${#RUNAS[@]} -eq 0 ] || USER_UID=65534
[ "$USER_UID" != 0 ] || fail "cannot run the daemons as a non-root user"

# check_not_dumpable NAME PID: PID runs as USER_UID and is not dumpable.
# (/proc/PID itself may keep the owner it had when first looked up; the
# files in it are given the current one at each lookup.)
proc_root_owned() {
	[ "$(stat -c %u "/proc/$1/status")" = 0 ] &&
	    [ "$(stat -c %u "/proc/$1/environ")" = 0 ]
}
check_not_dumpable() {
	local name=$1 pid=$2 uid
	uid=$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status")
	[ "$uid" = "$USER_UID" ] ||
	    fail "$name (pid $pid) runs as uid $uid, not $USER_UID"
	wait_for 5 proc_root_owned "$pid" ||
	    fail "$name (pid $pid, uid $uid) is dumpable: /proc/$pid/status belongs to uid $(stat -c %u "/proc/$pid/status")"
	echo "ok: $name pid $pid runs as uid $uid; /proc/$pid/status belongs to uid 0: not dumpable"
}

mkdir -m 0750 "$D/lemf"
[ ${#RUNAS[@]} -eq 0 ] || chown 65534:65534 "$D/lemf"
"${RUNAS[@]}" "$LEMF" --listen 127.0.0.1:0 --port-file "$D/lemf.port" \
    --out-dir "$D/lemf" --tls-cert "$D/lemf.pem" --tls-key "$D/lemf.key" \
    --tls-ca "$D/ca.pem" >"$T/lemf.log" 2>&1 &
LEMF_PID=$!
PIDS+=("$LEMF_PID")
wait_for 10 test -s "$D/lemf.port" || fail "LEMF did not start"
check_not_dumpable clearli-lemf "$LEMF_PID"

"${RUNAS[@]}" "$MDF" --listen 127.0.0.1:0 --port-file "$D/mdf.port" \
    --cert "$D/mdf.pem" --key "$D/mdf.key" --ca "$D/ca.pem" \
    --spool-dir "$D/mdf.spool" --operator-id OP-TEST --country DE \
    --integrity-key "$D/ic.key" --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$(cat "$D/lemf.port") tls * name=localhost" \
    >"$T/mdf.log" 2>&1 &
MDF_PID=$!
PIDS+=("$MDF_PID")
wait_for 10 test -s "$D/mdf.port" || fail "MDF did not start"
check_not_dumpable clearli-mdf "$MDF_PID"

# The POI sends to a port nobody listens on, so it stays up, retrying.
"${RUNAS[@]}" "$POI" --read "$T/in.pcap" --tasks "$T/tasks" \
    --mdf 127.0.0.1:9 --cert "$D/poi.pem" --key "$D/poi.key" \
    --ca "$D/ca.pem" --flush-timeout 60 >"$T/poi.out" 2>"$T/poi.log" &
POI_PID=$!
PIDS+=("$POI_PID")
wait_for 10 grep -q "reading $T/in.pcap" "$T/poi.log" ||
    wait_for 10 grep -q "connect" "$T/poi.log" ||
    fail "the POI did not start"
kill -0 "$POI_PID" || fail "the POI exited: $(cat "$T/poi.log")"
check_not_dumpable clearli-poi "$POI_PID"
# It would wait for its MDF until --flush-timeout: not needed here.
kill -KILL "$POI_PID"
wait "$POI_PID" 2>/dev/null || true
echo "PASS"
