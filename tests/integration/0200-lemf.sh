#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
#
# clearli-lemf on its own: a Python client with its own BER encoder (so
# our decoder is checked against an independent writer) plays the MDF
# over mutual TLS 1.3 and checks:
#
#  - option request answered (pDUAcknowledgement accepted), keep-alive and
#    pDUAcknowledgementRequest answered in order, and only after the PDUs
#    sent before them are in pdus.jsonl;
#  - JSON lines for CC, IRI and integrity PDUs; a gap reported; an exact
#    repeat removed; a conflicting repeat reported; integrity verified
#    (true for a good signature, false for a bad one);
#  - the per-LIID pcap opens in tshark with the right packets;
#  - a malformed PDU closes only its own connection;
#  - SIGUSR1 writes summary.json; after SIGTERM and a restart on the same
#    out-dir, no false gap and repeats are still recognised;
#  - --decode prints psdugen's PDUs with the values psdugen documents.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LEMF=$CL_BUILD/lemf/clearli-lemf
PSDUGEN=$CL_BUILD/tests/tools/psdugen
for t in tshark python3 openssl; do
	command -v "$t" >/dev/null 2>&1 || fail "$t is not installed"
done
gen_certs
openssl genpkey -algorithm ed25519 -out "$T/ik.pem" 2>/dev/null
openssl pkey -in "$T/ik.pem" -pubout -out "$T/ik.pub" 2>/dev/null
OUT=$T/out

start_lemf() {
	rm -f "$T/lemf.port"
	"$LEMF" --listen 127.0.0.1:0 --port-file "$T/lemf.port" \
	    --tls-cert "$PKI/lemf.pem" --tls-key "$PKI/lemf.key" \
	    --tls-ca "$PKI/ca.pem" --out-dir "$OUT" \
	    --integrity-key "$T/ik.pub" --log-level debug \
	    2>>"$T/lemf.log" &
	LEMF_PID=$!
	PIDS+=("$LEMF_PID")
	wait_for 10 test -s "$T/lemf.port" || fail "lemf did not start"
	PORT=$(cat "$T/lemf.port")
}

stop_lemf() {
	kill -TERM "$LEMF_PID"
	wait "$LEMF_PID" || fail "lemf exited with an error"
}

cat >"$T/mdf.py" <<'PY'
import os, socket, ssl, subprocess, sys, time, hashlib, json

pki, port, ikey, outdir, phase = sys.argv[1:6]
port = int(port)

def length(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b

def tlv(t, v):
    return bytes([t]) + length(len(v)) + v

def uint(t, n):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return tlv(t, b)

OID = bytes([0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x2b])  # 0.4.0.2.2.5.1.43

def pdu(liid, cin, seq, payload):
    hdr = (tlv(0x80, OID) + tlv(0x81, liid) +
           tlv(0xa3, tlv(0xa0, tlv(0x80, b"mdf-test")) + uint(0x81, cin)) +
           uint(0x84, seq) +
           tlv(0xa7, uint(0x80, 1750000000) + uint(0x81, 250000 + seq)))
    return tlv(0x30, tlv(0xa1, hdr) + tlv(0xa2, payload))

def cc(liid, cin, seq, ip):
    ipcc = tlv(0xa2, tlv(0x80, bytes([5, 3, 18, 2])) +
               tlv(0xa1, tlv(0x80, ip)))
    return pdu(liid, cin, seq,
               tlv(0xa1, tlv(0x30, uint(0x80, 0) + tlv(0xa2, ipcc))))

def iri(liid, cin, seq, user):
    c = (uint(0x80, 4) + tlv(0x81, user) + uint(0x82, 2) + uint(0x83, 1) +
         tlv(0xa4, uint(0x81, 0) + tlv(0xa2, tlv(0x81, bytes([10, 0, 0, 9])))))
    ipiri = tlv(0xa2, tlv(0x80, bytes([5, 3, 18, 1])) + tlv(0xa1, c))
    return pdu(liid, cin, seq,
               tlv(0xa0, tlv(0x30, uint(0x80, 1) + tlv(0xa2, ipiri))))

def tri(alt):
    return pdu(b"-", 0, 0, tlv(0xa2, bytes([0x80 | alt, 0])))

def optreq():
    return pdu(b"-", 0, 0, tlv(0xa2, tlv(0xa9, tlv(0xa0, b"\x80\x00"))))

def sign(data):
    tmp = os.path.join(os.path.dirname(ikey), "tbs.bin")
    with open(tmp, "wb") as f:
        f.write(data)
    p = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", ikey,
                        "-rawin", "-in", tmp], capture_output=True, check=True)
    assert len(p.stdout) == 64
    return p.stdout

def integrity(liid, cin, seq, covered, pdus, bad=False):
    data = b"".join(hashlib.sha256(pdus[s]).digest() for s in covered)
    sig = sign(data)
    if bad:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    ic = (tlv(0xa0, b"".join(uint(0x02, s) for s in covered)) +
          uint(0x81, 2) + uint(0x82, 2) + tlv(0x83, sig) +
          uint(0x84, 2) + uint(0x85, 3))
    return pdu(liid, cin, seq, tlv(0xa2, tlv(0xa0, ic)))

def icmp(src, dst, typ, n):
    ip = bytes([0x45, 0, 0, 28, 0, n, 0, 0, 64, 1, 0, 0]) + bytes(src) + bytes(dst)
    return ip + bytes([typ, 0, 0, 0, 0, 1, 0, n])

def connect():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki + "/mdf.pem", pki + "/mdf.key")
    ctx.load_verify_locations(pki + "/ca.pem")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")

def read_pdu(s):
    """One whole PS-PDU from the LEMF; returns the TRIPayload tag."""
    buf = b""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise SystemExit("mdf.py: connection closed by the LEMF")
            buf += d
    need(2)
    n, h = buf[1], 2
    if n & 0x80:
        k = n & 0x7f
        need(2 + k)
        n, h = int.from_bytes(buf[2:2 + k], "big"), 2 + k
    need(h + n)
    body = buf[h:h + n]
    # skip pSHeader (a1), then payload a2 { a2 { alt } }
    def tlvs(b):
        i = 0
        while i < len(b):
            t, l = b[i], b[i + 1]
            j = i + 2
            if l & 0x80:
                k = l & 0x7f
                l, j = int.from_bytes(b[j:j + k], "big"), j + k
            yield t, b[j:j + l]
            i = j + l
    items = dict(tlvs(body))
    pay = dict(tlvs(items[0xa2]))[0xa2]
    alt, val = next(tlvs(pay))
    return alt & 0x1f, val

def expect(s, alt, what):
    got, val = read_pdu(s)
    if got != alt:
        raise SystemExit("mdf.py: expected %s (%d), got TRI %d" % (what, alt, got))
    return val

def lines():
    with open(os.path.join(outdir, "pdus.jsonl")) as f:
        return [json.loads(l) for l in f]

A, B = [10, 1, 0, 1], [192, 0, 2, 7]
L1 = b"L1"
sent = {}
if phase == "one":
    s = connect()
    s.sendall(optreq())
    val = expect(s, 10, "optionResponse")
    assert val == bytes.fromhex("a0028000a100"), val.hex()  # accepted
    for i in range(3):
        sent[i] = cc(L1, 7, i, icmp(A, B, 8, i))
        s.sendall(sent[i])
    s.sendall(iri(L1, 7, 0, b"alice\x01\xff"))
    s.sendall(tri(3))
    expect(s, 4, "keep-aliveResponse")
    # Answered only after the PDUs before it were written.
    ls = lines()
    assert [l["seq"] for l in ls if l.get("kind") == "cc"] == [0, 1, 2], ls
    assert any(l.get("kind") == "iri" for l in ls), ls

    # A second connection, and a third that sends garbage.
    s2 = connect()
    s2.sendall(tri(3))
    expect(s2, 4, "keep-aliveResponse")
    s3 = connect()
    s3.sendall(cc(L1, 7, 3, b"x")[:-4] + b"\x30\x80\x00\x00")
    s3.sendall(bytes(64))
    try:
        d = s3.recv(100)
        assert d == b"", "the LEMF answered a malformed stream"
    except (ConnectionResetError, ssl.SSLError):
        pass
    s2.sendall(tri(3))
    expect(s2, 4, "keep-aliveResponse")

    # Gap (3, 4 missing), exact repeat, conflicting repeat.
    sent[5] = cc(L1, 7, 5, icmp(B, A, 0, 5))
    s.sendall(sent[5])
    s.sendall(sent[1])
    s.sendall(cc(L1, 7, 2, icmp(A, B, 8, 99)))
    # Integrity: good over 0,1,2,5; then a bad signature.
    s.sendall(integrity(L1, 7, 0, [0, 1, 2, 5], sent))
    s.sendall(integrity(L1, 7, 1, [0, 1], sent, bad=True))
    s.sendall(tri(12))
    expect(s, 13, "pDUAcknowledgementResponse")
    s.sendall(tri(3))
    expect(s, 4, "keep-aliveResponse")
    s.close()
    s2.close()
elif phase == "two":
    s = connect()
    s.sendall(cc(L1, 7, 5, icmp(B, A, 0, 5)))      # exact repeat
    s.sendall(cc(L1, 7, 6, icmp(A, B, 8, 6)))      # next: no gap
    s.sendall(tri(12))
    expect(s, 13, "pDUAcknowledgementResponse")
    s.close()
print("mdf.py: %s ok" % phase)
PY

start_lemf
python3 "$T/mdf.py" "$PKI" "$PORT" "$T/ik.pem" "$OUT" one \
	>"$T/mdf1.log" 2>&1 || fail "client (phase one): $(cat "$T/mdf1.log")"

# SIGUSR1: summary.json now.
rm -f "$OUT/summary.json"
kill -USR1 "$LEMF_PID"
wait_for 10 test -s "$OUT/summary.json" || fail "no summary.json on SIGUSR1"

python3 - "$OUT" <<'PY' || fail "pdus.jsonl / summary.json check"
import json, sys
out = sys.argv[1]
ls = [json.loads(l) for l in open(out + "/pdus.jsonl")]
pdus = [l for l in ls if "event" not in l]
ev = [l for l in ls if "event" in l]
cc = [l for l in pdus if l["kind"] == "cc"]
assert [l["seq"] for l in cc] == [0, 1, 2, 5], cc
assert all(l["liid"] == "L1" and l["cin"] == 7 and l["dir"] == "from-target"
           and l["ip_len"] == 28 for l in cc), cc
assert cc[0]["time"] == "2025-06-15T15:06:40.250000Z", cc[0]
iri = [l for l in pdus if l["kind"] == "iri"]
assert len(iri) == 1, iri
assert iri[0]["iri"] == "begin" and iri[0]["access_event"] == "sessionStart", iri
assert iri[0]["target"] == "10.0.0.9", iri
raw = open(out + "/pdus.jsonl", "rb").read()
assert b'"user":"alice\\u0001\\u00ff"' in raw, "user name escaping"
integ = [l for l in pdus if l["kind"] == "integrity"]
assert [(l["seqs"], l["verified"]) for l in integ] == \
    [([0, 1, 2, 5], True), ([0, 1], False)], integ
gaps = [e for e in ev if e["event"] == "gap"]
assert len(gaps) == 1 and gaps[0]["expected"] == 3 and gaps[0]["got"] == 5, gaps
conf = [e for e in ev if e["event"] == "conflict"]
assert len(conf) == 1 and conf[0]["seq"] == 2, conf
bad = [e for e in ev if e["event"] == "bad-pdu"]
assert len(bad) == 1 and bad[0]["why"], bad
s = json.load(open(out + "/summary.json"))
want = dict(pdus=7, cc=4, iri=1, integrity=2, duplicates=1, conflicts=1,
            gaps=1, bad=1, integrity_ok=1, integrity_failed=1)
for k, v in want.items():
    assert s[k] == v, (k, s[k], v)
PY

grep -q "integrity FAILED" "$T/lemf.log" || fail "no 'integrity FAILED' in the log"
grep -q "GAP in cc stream LIID L1 CIN 7" "$T/lemf.log" || fail "gap not logged"
grep -q "malformed PDU from 127.0.0.1" "$T/lemf.log" || fail "bad PDU not logged"

# The pcap file, as tshark sees it.
tshark -r "$OUT/cc-L1.pcap" -T fields -e ip.src -e ip.dst -e icmp.type \
	-e icmp.seq 2>/dev/null >"$T/pcap.txt" || fail "tshark cannot read the pcap"
printf '10.1.0.1\t192.0.2.7\t8\t0\n10.1.0.1\t192.0.2.7\t8\t1\n10.1.0.1\t192.0.2.7\t8\t2\n192.0.2.7\t10.1.0.1\t0\t5\n' >"$T/pcap.want"
diff -u "$T/pcap.want" "$T/pcap.txt" || fail "pcap packets differ"

stop_lemf
grep -q "summary: pdus=7 iri=1 cc=4 integrity=2 duplicates=1 conflicts=1 gaps=1 bad=1 integrity_ok=1 integrity_failed=1" \
	"$T/lemf.log" || fail "no summary line at exit"

# Restart on the same directory: state rebuilt from pdus.jsonl.
start_lemf
python3 "$T/mdf.py" "$PKI" "$PORT" "$T/ik.pem" "$OUT" two \
	>"$T/mdf2.log" 2>&1 || fail "client (phase two): $(cat "$T/mdf2.log")"
stop_lemf
python3 - "$OUT" <<'PY' || fail "restart check"
import json, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
assert s["gaps"] == 0 and s["duplicates"] == 1 and s["cc"] == 1, s
ls = [json.loads(l) for l in open(out + "/pdus.jsonl")]
cc = [l["seq"] for l in ls if l.get("kind") == "cc" and "event" not in l]
assert cc == [0, 1, 2, 5, 6], cc
PY
[ "$(tshark -r "$OUT/cc-L1.pcap" 2>/dev/null | wc -l)" = 5 ] ||
	fail "pcap after restart does not hold 5 packets"

# --decode on psdugen's PDUs (values documented in psdugen.c).
"$PSDUGEN" "$T/gen.ber" 4500001c000100004001f7cb0a0102030a010204080077fe00010001
"$LEMF" --decode "$T/gen.ber" >"$T/gen.jsonl" || fail "--decode failed"
python3 - "$T/gen.jsonl" <<'PY' || fail "--decode output"
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert [l["kind"] for l in ls] == ["cc", "iri", "iri", "iri", "tri"], ls
assert ls[0]["ip"] == "4500001c000100004001f7cb0a0102030a010204080077fe00010001"
assert all(l["liid"] == "LIID-H5-0001" and l["cin"] == 4242 for l in ls)
assert [l["iri"] for l in ls[1:4]] == ["begin", "report", "end"]
assert ls[1]["user"] == "alice@example.net" and ls[1]["target"] == "10.1.2.3"
assert ls[2]["octets_rx"] == 18446744073709551615
assert ls[3]["target"] == "2001:db8::1" and ls[3]["prefix"] == 64
assert ls[1]["aaa"] == b"raw-radius".hex()
assert ls[4]["tri"] == "keep-alive"
PY
head -c 30 "$T/gen.ber" >"$T/cut.ber"
if "$LEMF" --decode "$T/cut.ber" >/dev/null 2>&1; then
	fail "--decode accepted a truncated file"
fi
echo "PASS"
