#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Malformed X2/X3 reaches the MDF from an authenticated POI: bad lengths,
# truncated attributes, an oversized payload, a wrong version, an unknown
# payload format, a PDU cut off by the connection's end.  Each one closes
# only that connection, with a logged and counted reason; a well-behaved
# POI connected at the same time keeps being served, the MDF keeps
# running, and nothing of the bad connections is stored.
. "$(dirname "$0")/lib.sh"
gen_certs
XID=11111111-1111-4111-8111-111111111111
task $XID LIID-M cc ip:10.9.0.1 >"$T/tasks"
start_mdf mdf 0 --tasks "$T/tasks"

python3 - "$MDF_PORT" "$PKI" "$T/mdf.log" <<'PY' || fail "malformed input"
import socket, ssl, struct, sys, time

port, pki, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_cert_chain(pki + "/poi.pem", pki + "/poi.key")
ctx.load_verify_locations(pki + "/ca.pem")
XID = bytes.fromhex("11111111111141118111111111111111")


def pdu(ptype=2, pf=5, pdir=3, xid=XID, attrs=b"", payload=b"", version=5,
        hlen=None, plen=None):
    h = 40 + len(attrs) if hlen is None else hlen
    p = len(payload) if plen is None else plen
    return (struct.pack(">HHIIHH", version, ptype, h, p, pf, pdir) + xid +
            b"\0" * 8 + attrs + payload)


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def keepalive(seq):
    return pdu(ptype=3, pf=0, pdir=0, xid=b"\0" * 16,
               attrs=tlv(8, struct.pack(">I", seq)))


def ack_of(conn, seq):
    """Reads until the keepalive ack echoing seq (48 octets)."""
    buf = b""
    conn.settimeout(10)
    while len(buf) < 48:
        d = conn.recv(48 - len(buf))
        if not d:
            raise SystemExit("connection closed, no ack for %d" % seq)
        buf += d
    if struct.unpack(">H", buf[2:4])[0] != 4 or buf[-4:] != struct.pack(">I", seq):
        raise SystemExit("not the ack of keepalive %d" % seq)


def connect():
    s = socket.create_connection(("127.0.0.1", port))
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")


ip = bytes.fromhex("4500001c000100004011f7cb0a0900010a090002d431d43200080000")
good = pdu(attrs=tlv(8, struct.pack(">I", 0)) +
           tlv(9, struct.pack(">II", 1700000000, 0)), payload=ip)

bystander = connect()
bystander.sendall(good + keepalive(1))
ack_of(bystander, 1)

cases = {
    "header length past the attributes": pdu(attrs=tlv(8, b"\0\0\0\1"),
                                             hlen=52, payload=ip),
    "truncated attribute": pdu(attrs=struct.pack(">HH", 8, 40) + b"\0\0\0\2",
                               payload=ip),
    "oversized payload": pdu(plen=64 * 1024 * 1024, payload=b""),
    "wrong version": pdu(version=4, payload=ip),
    "unknown payload format": pdu(pf=99, payload=ip),
    "attribute of the wrong size": pdu(attrs=tlv(8, b"\0\0\3"), payload=ip),
}
for name, bad in cases.items():
    c = connect()
    c.sendall(keepalive(7))
    ack_of(c, 7)
    c.sendall(bad)
    c.settimeout(10)
    try:
        if c.recv(1) != b"":
            raise SystemExit("%s: the MDF answered instead of closing" % name)
    except (ConnectionResetError, ssl.SSLError):
        pass
    print("closed after: %s" % name)
    # The other POI is still served.
    bystander.sendall(keepalive(100))
    ack_of(bystander, 100)

# A PDU cut off by the end of the connection is not stored.
c = connect()
c.sendall(good[:30])
c.close()
bystander.sendall(keepalive(200))
ack_of(bystander, 200)
bystander.close()
n = sum(1 for ln in open(log) if "malformed X2/X3 PDU" in ln)
if n != len(cases):
    raise SystemExit("%d malformed PDUs logged, %d sent" % (n, len(cases)))
PY
grep "malformed X2/X3 PDU" "$T/mdf.log" | sed 's/^.*: malformed/malformed/'
kill -0 "$MDF_PID" || fail "the MDF died"
stop_pid "$MDF_PID"
grep -q "summary: iri=0 cc=1 .*malformed=6" "$T/mdf.log" ||
    fail "summary: $(grep summary "$T/mdf.log")"
echo "malformed input ok"
