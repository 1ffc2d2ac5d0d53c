#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# What the MDF acknowledges it delivers, or counts and raises an ALARM
# for.  A POI sends, for one task: X3 with a GTP-U message (payload format
# 12) around an IPv4 packet, which must reach the LEMF as that inner packet
# (IPCC); X3 of format 16 and a format 12 payload that is a GTP-U echo,
# which cannot be IPCC and must be counted (clearli_mdf_undeliverable_total)
# with an ALARM line; and an X2 RADIUS message whose Length field says
# 1028 octets in 30, which must reach the LEMF as an IRI-REPORT carrying the
# raw message and no user name taken from it, counted in x2_unparsed_total.
. "$(dirname "$0")/lib.sh"
gen_certs
XID=11111111-1111-4111-8111-111111111111
task $XID LIID-G iri+cc ip:10.9.0.1 >"$T/tasks"

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --metrics 127.0.0.1:0 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
MPORT=$(metrics_port "$T/mdf.log")
metric() { metric_at "$MPORT" "clearli_mdf_$1"; }

python3 - "$MDF_PORT" "$PKI" "$T/inner.bin" "$T/radius.bin" <<'PY' || fail "fake POI"
import os, sys
sys.path.insert(0, os.environ["CL_SRC"] + "/tests/tools")
import fakepoi as f

port, pki = int(sys.argv[1]), sys.argv[2]
xid = bytes.fromhex("11111111111141118111111111111111")
inner = f.ipv4_udp((10, 9, 0, 1), (192, 0, 2, 7), b"inside the tunnel")
rad = (bytes([1, 7, 0x04, 0x04]) + bytes(range(0xa0, 0xb0)) +
       bytes([1, 8]) + b"mallor" + b"\0\0")
assert len(rad) == 30
open(sys.argv[3], "wb").write(inner)
open(sys.argv[4], "wb").write(rad)
ts = (1700000000, 0)
p = f.Poi(port, pki)
p.send(f.pdu(f.X3, 12, xid, f.gtpu(inner), seq=0, ts=ts))
p.send(f.pdu(f.X3, 16, xid, b"\x01\x02\x03\x04", seq=1, ts=ts))
p.send(f.pdu(f.X3, 12, xid, f.gtpu(b"", msgtype=1), seq=2, ts=ts))
p.send(f.pdu(f.X2, 11, xid, rad, seq=3, ts=ts, pdir=1,
             src=(10, 9, 0, 1), dst=(192, 0, 2, 9)))
if not p.confirm():
    raise SystemExit("no acknowledgement")
p.close()
PY

wait_for 20 lemf_has lemf cc 1 || fail "the GTP-U packet did not reach the LEMF"
wait_for 20 lemf_has lemf iri 1 || fail "no IRI for the malformed RADIUS message"
[ "$(metric undeliverable_total)" = 2 ] ||
    fail "undeliverable_total: '$(metric undeliverable_total)'"
[ "$(metric_at "$MPORT" 'clearli_mdf_undeliverable_by_reason_total{reason="gtpu"}')" = 1 ] ||
    fail "no gtpu reason"
[ "$(metric x2_unparsed_total)" = 1 ] || fail "x2_unparsed_total: '$(metric x2_unparsed_total)'"
grep -q "ALARM POI poi: X3 PDU with payload format 16 .* cannot be delivered as IPCC" \
    "$T/mdf.log" || fail "no ALARM for the undeliverable X3"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
[ "$(lemf_count lemf cc)" = 1 ] || fail "LEMF has $(lemf_count lemf cc) CC PDUs"
python3 "$HICHECK" lemf "$T/lemf" --total-cc 1 || fail "LEMF output"

# The CC is the inner packet, byte for byte; the IRI is a REPORT with
# the raw RADIUS message and an empty user name, as the independent
# decoder reads them from what the LEMF received.
python3 - "$T/lemf/cc-LIID-G.pcap" "$T/inner.bin" <<'PY' || fail "CC packet"
import struct, sys
b = open(sys.argv[1], "rb").read()
incl = struct.unpack_from("<I", b, 24 + 8)[0]
if b[24 + 16:24 + 16 + incl] != open(sys.argv[2], "rb").read():
    raise SystemExit("the LEMF's packet is not the inner packet")
PY
lemf_asn1c lemf --total-cc 1
cp "$T/lemf.asn1c.xml" "$T/all.xml"
python3 - "$T/all.xml" "$T/radius.bin" <<'PY' || fail "IRI as asn1c decodes it"
import sys
import xml.etree.ElementTree as ET

def octets(el):
    return bytes.fromhex("".join((el.text or "").split()))

rad = open(sys.argv[2], "rb").read()
iris = [p.find("payload/iRIPayloadSequence/IRIPayload")
        for p in ET.parse(sys.argv[1]).getroot().findall("PS-PDU")]
iris = [i for i in iris if i is not None]
if len(iris) != 1:
    raise SystemExit("%d IRI PDUs in the spool" % len(iris))
i = iris[0]
if i.find("iRIType")[0].tag != "iRI-Report":
    raise SystemExit("iRIType %s, not iRI-Report" % i.find("iRIType")[0].tag)
c = i.find("iRIContents/iPIRI/iPIRIContents")
if octets(c.find("rawAAAData")) != rad:
    raise SystemExit("rawAAAData is not the RADIUS message")
if octets(c.find("targetUsername")) != b"":
    raise SystemExit("a user name was taken from the malformed message")
if c.find("accessEventType")[0].tag != "unknown":
    raise SystemExit("accessEventType %s" % c.find("accessEventType")[0].tag)
if c.find("startTime") is not None or c.find("endTime") is not None:
    raise SystemExit("the REPORT claims a start or end")
PY
echo "x3 gtpu / undeliverable / unparsed x2 ok"
