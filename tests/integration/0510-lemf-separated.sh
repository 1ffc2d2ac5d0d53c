#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# clearli-lemf runs as a parent and two roles, checked through /proc
# while an MDF is connected (proccheck.py): exactly the roles front and
# writer; every process with a seccomp filter, no new privileges, no
# capability, not root when started as root, not in /; no process holds
# the TLS key file; the front holds no socket but its listener and the
# MDF's connection (and its socketpairs), and no descriptor of the
# output; the writer no inet socket, and it is chrooted in the output
# directory.  With --tls-crl the front (which opens no file) verifies
# the MDF against the lists the parent hands it: read at start, and again
# when the operator replaces the file (no restart) -- for that the parent
# keeps its user (root here) without any capability.  A SIGTERM ends the
# roles and the LEMF with status 0.
. "$(dirname "$0")/lib.sh"
gen_certs

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x50'
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

gen_crl "$PKI/crl.pem"
start_lemf lemf 0 --tls-crl "$PKI/crl.pem"
start_mdf mdf 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
run_poi poi
wait "$POI_PID" || fail "clearli-poi failed"
wait_for 20 lemf_has lemf cc 50 || fail "LEMF has $(lemf_count lemf cc) of 50"
wait_for 10 grep -q "TLS established, peer mdf" "$T/lemf.log" ||
    fail "no MDF connection"

python3 "$CL_SRC/tests/integration/proccheck.py" "$LEMF_PID" \
    --roles front,writer --key "$PKI/lemf.key" --root-parent \
    --sockets "front=unix,tcp:$LEMF_PORT" --sockets writer=unix ||
    fail "the LEMF's processes are not separated"

# role NAME: the pid of the LEMF's role NAME.
role() {
	local p
	for p in $(cat /proc/"$LEMF_PID"/task/*/children); do
		if [ "$(cat "/proc/$p/comm")" = "$1" ]; then
			echo "$p"
		fi
	done
}
FRONT=$(role front)
WRITER=$(role writer)
[ -n "$FRONT" ] && [ -n "$WRITER" ] || fail "no front or no writer"
for p in "$LEMF_PID" "$FRONT"; do
	for f in /proc/"$p"/fd/*; do
		case $(readlink "$f") in
		"$T/lemf" | "$T/lemf/"*)
			fail "pid $p ($(cat /proc/$p/comm)) holds $(readlink "$f")" ;;
		esac
	done
done
echo "ok: neither the parent nor the front holds a descriptor of the output"
if [ "$(id -u)" = 0 ]; then
	[ "$(readlink "/proc/$WRITER/root")" = "$T/lemf" ] ||
	    fail "writer root $(readlink "/proc/$WRITER/root"), not $T/lemf"
	echo "ok: the writer is chrooted in $T/lemf"
fi

# The operator revokes the MDF's certificate: the parent hands the new
# file to the front, which refuses the MDF's next connection; a list
# without it lets the MDF in again, all without a restart.
stop_pid "$MDF_PID"
gen_crl "$PKI/crl.pem" mdf
wait_for 10 grep -q "CRL .*/crl\.pem: read again: 1 lists, 1 revoked" \
    "$T/lemf.log" || fail "the front did not apply the new CRL"
start_mdf mdf2 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
wait_for 20 grep -Eq "refused MDF connection from 127\.0\.0\.1:[0-9]+: certificate /CN=mdf \(serial [0-9A-F]+\) is revoked" \
    "$T/lemf.log" || fail "the LEMF did not refuse the revoked MDF"
gen_crl "$PKI/crl.pem"
wait_for 10 grep -q "CRL .*/crl\.pem: read again: 1 lists, 0 revoked" \
    "$T/lemf.log" || fail "the front did not apply the list without it"
established() { [ "$(grep -c "TLS established, peer mdf" "$T/lemf.log")" -ge 2 ]; }
wait_for 40 established || fail "the MDF was not let in again"
echo "ok: a replaced CRL is applied by the front without a restart"

stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
grep -q "front role (pid $FRONT) exited$" "$T/lemf.log" ||
    fail "the front did not end with the LEMF"
grep -q "writer role (pid $WRITER) exited$" "$T/lemf.log" ||
    fail "the writer did not end with the LEMF"
grep -q "summary: pdus=" "$T/lemf.log" || fail "no summary line at exit"
echo PASS
