#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The IntegrityCheck key lives in the MDF's signer process only: the
# signer is a child of clearli-mdf, sandboxed (seccomp filter, no new
# privileges, no capabilities), not root and in an empty root directory
# when the MDF starts as root, and with no descriptor but its socket and
# the log.  The other role, the front (X2/X3 listener, TLS, POIs), is
# checked the same way by proccheck.py: its only sockets are its own
# socketpair, the X2/X3 listener and the POIs' connections, and no
# process holds a key file open.  The MDF's own process (mediation, the
# spool, delivery) runs under a seccomp filter of its own, with no new
# privileges and no capability, as root (its spool and task files are
# root's).  It has no descriptor of the key file and
# not the key in its memory (read through /proc/PID/mem, as root; the
# same scan finds the key in the signer, which shows that it can find
# it).  The IntegrityCheck PDUs it signs are verified by the LEMF.
. "$(dirname "$0")/lib.sh"
gen_certs

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x50'
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

# A user that does not exist: the MDF does not start.
if [ "$(id -u)" = 0 ]; then
	if "$MDF" --listen 127.0.0.1:0 "${MDF_TLS[@]}" --spool-dir "$T/x.spool" \
	    --operator-id OP-TEST --tasks "$T/tasks" --user no-such-user-clearli \
	    --integrity-key "$PKI/ic.key" >"$T/baduser.log" 2>&1; then
		fail "the MDF started as an unknown user"
	fi
	grep -q "no user 'no-such-user-clearli'" "$T/baduser.log" ||
	    fail "no log line for the unknown user"
fi

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"

kids=$(cat "/proc/$MDF_PID/task/$MDF_PID/children")
set -- $kids
[ $# -eq 2 ] || fail "clearli-mdf has $# children ($kids), not a signer and a front"
SIGNER=$(role_pid "$MDF_PID" signer)
FRONT=$(role_pid "$MDF_PID" front)
[ -n "$SIGNER" ] && [ -n "$FRONT" ] || fail "children $kids: no signer or no front"
echo "clearli-mdf pid $MDF_PID, signer pid $SIGNER, front pid $FRONT"

field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
[ "$(field "$SIGNER" Seccomp)" = 2 ] || fail "signer: Seccomp $(field "$SIGNER" Seccomp)"
[ "$(field "$SIGNER" NoNewPrivs)" = 1 ] || fail "signer: NoNewPrivs $(field "$SIGNER" NoNewPrivs)"
for c in CapEff CapPrm CapInh CapAmb; do
	[ "$(field "$SIGNER" $c)" = 0000000000000000 ] ||
	    fail "signer: $c $(field "$SIGNER" $c)"
done
if [ "$(id -u)" = 0 ]; then
	[ "$(field "$SIGNER" CapBnd)" = 0000000000000000 ] ||
	    fail "signer: CapBnd $(field "$SIGNER" CapBnd)"
	for u in $(field "$SIGNER" Uid) $(field "$SIGNER" Gid); do
		[ "$u" != 0 ] || fail "signer runs as root: $(field "$SIGNER" Uid)"
	done
	root=$(readlink "/proc/$SIGNER/root")
	[ "$root" != / ] || fail "signer: root directory /"
	echo "ok: signer uid $(field "$SIGNER" Uid | cut -d" " -f1), root $root"
else
	grep -q "signer role: not running as root" "$T/mdf.log" ||
	    fail "no log line saying the signer keeps the user"
fi
# The signer's descriptors: 0, 1, 2 and its socket.
fds=$(ls "/proc/$SIGNER/fd" | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 " ] || fail "signer descriptors: $fds"
case $(readlink "/proc/$SIGNER/fd/3") in
socket:*) ;;
*) fail "signer descriptor 3 is $(readlink "/proc/$SIGNER/fd/3")" ;;
esac
# No process of the MDF has the key file open.
for p in "$MDF_PID" "$SIGNER"; do
	for f in /proc/$p/fd/*; do
		[ "$(readlink "$f")" != "$PKI/ic.key" ] ||
		    fail "pid $p holds the key file ($f)"
	done
done
echo "ok: signer Seccomp 2, NoNewPrivs 1, no capabilities, descriptors $fds"

# The private key's 32 octets (the last of its PKCS#8 DER form).
openssl pkey -in "$PKI/ic.key" -outform DER 2>/dev/null | tail -c 32 \
    >"$T/ic.raw"
[ "$(stat -c %s "$T/ic.raw")" = 32 ] || fail "cannot read the test key"
# memscan PID: 0 if the key's octets are in PID's memory, 1 if not.
memscan() {
	python3 - "$1" "$T/ic.raw" <<'PY'
import sys
pid, raw = sys.argv[1], open(sys.argv[2], 'rb').read()
found = False
# Read in pieces; regions over 4 GiB (a sanitizer's shadow) are reserved
# address space, not heap.
with open('/proc/%s/maps' % pid) as maps, open('/proc/%s/mem' % pid, 'rb', 0) as mem:
    for line in maps:
        f = line.split()
        if 'r' not in f[1] or (len(f) > 5 and f[5] in ('[vvar]', '[vsyscall]')):
            continue
        lo, hi = (int(x, 16) for x in f[0].split('-'))
        if hi - lo > 1 << 32:
            continue
        tail = b''
        while lo < hi and not found:
            n = min(1 << 20, hi - lo)
            try:
                mem.seek(lo)
                piece = tail + mem.read(n)
            except (OSError, OverflowError, ValueError):
                break
            found = raw in piece
            tail = piece[-31:]
            lo += n
sys.exit(0 if found else 1)
PY
}
if [ "$(id -u)" = 0 ]; then
	memscan "$SIGNER" || fail "the scan does not find the key in the signer"
	if memscan "$MDF_PID"; then
		fail "the MDF's own process holds the IntegrityCheck key"
	fi
	echo "ok: the key is in the signer's memory, not in the MDF's"
fi

# Signing works through the signer: the LEMF verifies the checks.  While
# the POI is connected, every role passes proccheck.py.
run_poi poi
wait_for 30 lemf_has lemf cc 1 || fail "nothing reached the LEMF"
root=
[ "$(id -u)" = 0 ] && root=--root-parent
python3 "$CL_SRC/tests/integration/proccheck.py" "$MDF_PID" $root \
    --roles front,signer --key "$PKI/ic.key" --key "$PKI/mdf.key" \
    --sockets "front=unix,tcp:$MDF_PORT" --sockets signer=unix ||
    fail "the MDF's processes are not separated"
wait "$POI_PID" || fail "clearli-poi failed"
wait_for 30 lemf_has lemf cc 50 || fail "LEMF has $(lemf_count lemf cc) of 50"
stop_pid "$MDF_PID"
grep -q "signer role (pid $SIGNER) exited" "$T/mdf.log" ||
    fail "the signer did not end with the MDF"
stop_pid "$LEMF_PID"
ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["integrity_ok"])' \
    "$T/lemf/summary.json")
[ "$ok" -ge 1 ] || fail "no IntegrityCheck PDU verified"
echo "ok: $ok IntegrityCheck PDUs signed by the signer verified"
echo PASS
