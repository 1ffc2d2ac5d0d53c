#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The POI runs as a parent (the task file, the metrics) and three roles:
# capture, which holds the capture file, match, the only process that
# parses captured packets, and output, the only one with the X2/X3 TLS
# key.  Every process has a
# seccomp filter, no new privileges and no capability; the roles are not
# root and live in an empty root directory; match holds no socket but
# its own to the parent, output none but that and its connection to the
# MDF; no process has the key file open, and the key's octets are in
# the output role's memory only.  SIGTERM still flushes everything.  A
# summary printed to a terminal or /dev/null works under the filters, and
# a --crl file replaced while the POI runs is applied.
. "$(dirname "$0")/lib.sh"
gen_certs
python3 "$CL_SRC/tests/tools/mkpcap.py" --gap-us 50000 "$T/in.pcap" \
    1700000000 '10.9.0.1:61000>192.0.2.7:61001x200'
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

start_sink sink --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
"$POI" --read "$T/in.pcap" --pace --tasks "$T/tasks" \
    --mdf "127.0.0.1:$SINK_PORT" "${POI_TLS[@]}" --metrics 127.0.0.1:0 \
    --summary >"$T/poi.out" 2>"$T/poi.log" &
POI_PID=$!
PIDS+=("$POI_PID")
wait_for 20 grep -q "connected to MDF" "$T/poi.log" || fail "POI not up"
wait_for 20 grep -q "reading $T/in.pcap" "$T/poi.log" || fail "no capture"
MPORT=$(metrics_port "$T/poi.log")
matched() { [ "$(metric_at "$MPORT" clearli_poi_packets_matched_total)" -ge 1 ]; }
wait_for 20 matched || fail "no packet through the roles"

root=
[ "$(id -u)" = 0 ] && root=--root-parent
python3 "$CL_SRC/tests/integration/proccheck.py" "$POI_PID" \
    --roles capture,match,output $root --key "$PKI/poi.key" \
    --sockets capture=unix --sockets match=unix \
    --sockets "output=unix,tcp:$SINK_PORT" ||
    fail "the POI's processes are not separated"

role_pid() {
	local p
	for p in $(cat /proc/"$POI_PID"/task/*/children); do
		if [ "$(cat "/proc/$p/comm")" = "$1" ]; then
			echo "$p"
		fi
	done
}
CAPTURE=$(role_pid capture)
MATCH=$(role_pid match)
OUTPUT=$(role_pid output)
[ -n "$CAPTURE" ] && [ -n "$MATCH" ] && [ -n "$OUTPUT" ] ||
    fail "roles not found"

# The private key's 32 octets (the last of its PKCS#8 DER form).
openssl pkey -in "$PKI/poi.key" -outform DER 2>/dev/null | tail -c 32 \
    >"$T/poi.raw"
[ "$(stat -c %s "$T/poi.raw")" = 32 ] || fail "cannot read the test key"
memscan() {
	python3 - "$1" "$T/poi.raw" <<'PY'
import sys
pid, raw = sys.argv[1], open(sys.argv[2], 'rb').read()
found = False
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
	memscan "$OUTPUT" || fail "the scan does not find the key in the output role"
	memscan "$CAPTURE" && fail "the capture role holds the TLS key"
	memscan "$MATCH" && fail "the match role holds the TLS key"
	memscan "$POI_PID" && fail "the POI's parent holds the TLS key"
	echo "ok: the key is in the output role's memory only"
fi

kill -TERM "$POI_PID"
wait "$POI_PID" || fail "POI exit status on SIGTERM"
grep -q "shutting down" "$T/poi.log" || fail "no shutdown log"
grep -q "capture role (pid $CAPTURE) exited" "$T/poi.log" ||
    fail "the capture role did not end with the POI"
grep -q "match role (pid $MATCH) exited" "$T/poi.log" ||
    fail "the match role did not end with the POI"
grep -q "output role (pid $OUTPUT) exited" "$T/poi.log" ||
    fail "the output role did not end with the POI"
n=$(sed -n 's/^X2 PDUs 0, X3 PDUs \([0-9]*\), dropped 0$/\1/p' "$T/poi.out")
[ -n "$n" ] && [ "$n" -ge 1 ] || fail "summary: $(cat "$T/poi.out")"
grep -q "unconfirmed 0" "$T/poi.out" || fail "PDUs left unconfirmed"

stop_sink
to_pcap sink "$SINK_PORT"
python3 "$CL_SRC/tests/integration/x2x3check.py" --output "$T/sink.pcap" \
    --port "$SINK_PORT" --task 11111111-1111-4111-8111-111111111111 - \
    --count 11111111-1111-4111-8111-111111111111 "$n" --pdus "$n" ||
    fail "stream check"
# The summary goes to a character device -- /dev/null, and a terminal
# (script(1) gives it a pseudo-terminal) -- from under the filters: the C
# library's first output there asks whether it is a terminal.
start_sink sink2 --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/small.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x3'
"$POI" --read "$T/small.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$SINK_PORT" "${POI_TLS[@]}" --summary \
    >/dev/null 2>"$T/poi-null.log" ||
    fail "the POI failed with its summary going to /dev/null: $(tail -3 "$T/poi-null.log")"
script -qec "$POI --read $T/small.pcap --tasks $T/tasks --mdf 127.0.0.1:$SINK_PORT --cert $PKI/poi.pem --key $PKI/poi.key --ca $PKI/ca.pem --summary 2>$T/poi-tty.log" \
    /dev/null >"$T/poi-tty.out" </dev/null ||
    fail "the POI failed with its summary going to a terminal: $(tail -3 "$T/poi-tty.log")"
grep -q "X3 PDUs 3" "$T/poi-tty.out" || fail "no summary on the terminal"
stop_sink

# The operator replaces --crl while the POI runs: the parent hands the
# file to the output role, which opens none, and its next handshake is
# checked against the new lists.
gen_crl "$PKI/crl.pem" mdf
start_sink sink3 --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
"$POI" --read "$T/small.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$SINK_PORT" "${POI_TLS[@]}" --crl "$PKI/crl.pem" \
    --flush-timeout 60 --summary >"$T/poi-crl.out" 2>"$T/poi-crl.log" &
CRL_POI=$!
PIDS+=("$CRL_POI")
wait_for 10 grep -q "/CN=mdf (serial [0-9A-F]*) is revoked" "$T/poi-crl.log" ||
    fail "the POI did not refuse the revoked MDF certificate"
gen_crl "$PKI/crl.pem"
wait_for 10 grep -q "CRL .*/crl\.pem: read again: 1 lists, 0 revoked" \
    "$T/poi-crl.log" || fail "the output role did not apply the new CRL"
wait "$CRL_POI" || fail "the POI did not deliver once the CRL was replaced"
grep -q "X3 PDUs 3" "$T/poi-crl.out" || fail "summary: $(cat "$T/poi-crl.out")"
echo "ok: a replaced CRL is applied by the output role without a restart"
stop_sink
echo PASS
