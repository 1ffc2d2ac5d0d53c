#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A POI restarts with its clock stepped back an hour: it numbers each task
# from 0 again, with time stamps below those the MDF stored, and other
# packets.  That is new data: every PDU of it must be stored, acknowledged
# and delivered (counted as conflicts), and only its exact resends are
# dropped (counted as duplicates) - also after an MDF restart.  The LEMF
# must hold every packet of both runs exactly once.
. "$(dirname "$0")/lib.sh"
gen_certs
XID=11111111-1111-4111-8111-111111111111
task $XID LIID-D cc ip:10.9.0.1 >"$T/tasks"
N=40

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --metrics 127.0.0.1:0 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
MPORT=$(metrics_port "$T/mdf.log")
metric() { metric_at "$MPORT" "clearli_mdf_$1"; }

# fake POI: run R (1: first life, 2: after the restart), REPEAT 0/1
send() {
	python3 - "$MDF_PORT" "$PKI" "$N" "$@" <<'PY' || fail "fake POI ($*)"
import struct, sys
sys.path.insert(0, __import__("os").environ["CL_SRC"] + "/tests/tools")
import fakepoi as f

port, pki, n, run = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
xid = bytes.fromhex("11111111111141118111111111111111")
ts = 1700003600 if run == 1 else 1700000000
p = f.Poi(port, pki)
for i in range(n):
    pkt = f.ipv4_udp((10, 9, 0, 1), (192, 0, 2, 7),
                     b"run %d packet %04d" % (run, i), ident=run * 1000 + i)
    p.send(f.pdu(f.X3, 5, xid, pkt, seq=i, ts=(ts + i, 0)))
if not p.confirm():
    raise SystemExit("no acknowledgement for run %d" % run)
p.close()
PY
}

send 1
wait_for 20 lemf_has lemf cc "$N" || fail "LEMF has $(lemf_count lemf cc) of $N"
send 2
wait_for 20 lemf_has lemf cc $((2 * N)) ||
    fail "after the POI restart the LEMF has $(lemf_count lemf cc) of $((2 * N)) CC PDUs: new data was dropped as repeats"
[ "$(metric conflicts_total)" = "$N" ] || fail "conflicts_total $(metric conflicts_total)"
[ "$(metric duplicates_total)" = 0 ] || fail "duplicates_total $(metric duplicates_total)"
grep -q "sequence number 0 came again with other content" "$T/mdf.log" ||
    fail "no conflict line in the log"
# The second run again, byte for byte: true repeats.
send 2
[ "$(metric duplicates_total)" = "$N" ] || fail "duplicates_total $(metric duplicates_total)"

# After an MDF restart the windows come back from the spool.
stop_pid "$MDF_PID"
start_mdf mdf 0 --tasks "$T/tasks" --metrics 127.0.0.1:0 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
MPORT=$(sed -n 's/.*metrics on .* (port \([0-9]*\)).*/\1/p' "$T/mdf.log" | tail -n 1)
send 2
[ "$(metric duplicates_total)" = "$N" ] || fail "after restart: duplicates_total $(metric duplicates_total)"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
[ "$(lemf_count lemf cc)" = $((2 * N)) ] ||
    fail "LEMF has $(lemf_count lemf cc) CC PDUs, expected $((2 * N))"

# Every packet of both runs, once, and in order.
python3 - "$T/lemf/cc-LIID-D.pcap" "$N" <<'PY' || fail "LEMF pcap"
import struct, sys
b = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
off, got = 24, []
while off + 16 <= len(b):
    incl = struct.unpack_from("<I", b, off + 8)[0]
    got.append(b[off + 16 + 28:off + 16 + incl])
    off += 16 + incl
want = [b"run %d packet %04d" % (r, i) for r in (1, 2) for i in range(n)]
if got != want:
    raise SystemExit("LEMF packets differ: %d got, first %r" % (len(got), got[:3]))
PY
python3 "$HICHECK" lemf "$T/lemf" --total-cc $((2 * N)) || fail "LEMF output"
lemf_asn1c lemf --total-cc $((2 * N))
echo "dedup ok: $N conflicts stored, $N repeats dropped"
