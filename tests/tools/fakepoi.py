# SPDX-License-Identifier: ISC
"""A hand-made POI for the integration tests: X2/X3 PDUs built octet by
octet (docs/PROTOCOL.x2x3), sent over TLS 1.3 with a client certificate,
and keepalives whose acknowledgement says what the MDF stored."""
import socket
import ssl
import struct

X2, X3, KEEPALIVE, KEEPALIVE_ACK = 1, 2, 3, 4


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def pdu(ptype, pf, xid, payload, seq=None, ts=None, cid=b"\0" * 7 + b"\1",
        pdir=2, mti=None, src=None, dst=None):
    """One X2/X3 PDU; attributes in increasing type order."""
    a = b""
    if seq is not None:
        a += tlv(8, struct.pack(">I", seq))
    if ts is not None:
        a += tlv(9, struct.pack(">II", ts[0], ts[1]))
    if src is not None:
        a += tlv(10, bytes(src))
    if dst is not None:
        a += tlv(11, bytes(dst))
    if mti is not None:
        a += tlv(17, mti)
    return (struct.pack(">HHIIHH", 5, ptype, 40 + len(a), len(payload), pf,
                        pdir) + xid + cid + a + payload)


def keepalive(seq):
    return pdu(KEEPALIVE, 0, b"\0" * 16, b"", seq=seq, pdir=0,
               cid=b"\0" * 8)


def ipv4_udp(src, dst, data, ident=1):
    """An IPv4/UDP packet (checksums left 0: nobody verifies them)."""
    n = 28 + len(data)
    return (struct.pack(">BBHHHBBH4s4s", 0x45, 0, n, ident, 0, 64, 17, 0,
                        bytes(src), bytes(dst)) +
            struct.pack(">HHHH", 40000, 40001, 8 + len(data), 0) + data)


def gtpu(inner, teid=0x1234, msgtype=0xff, glen=None):
    """A GTP-U version 1 message around inner."""
    if glen is None:
        glen = len(inner)
    return struct.pack(">BBHI", 0x30, msgtype, glen, teid) + inner


class Poi:
    def __init__(self, port, pki, name="poi"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain("%s/%s.pem" % (pki, name),
                            "%s/%s.key" % (pki, name))
        ctx.load_verify_locations(pki + "/ca.pem")
        s = socket.create_connection(("127.0.0.1", port))
        self.s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        self.ka = 0

    def send(self, b):
        self.s.sendall(b)

    def confirm(self, timeout=20):
        """Sends a keepalive and waits for its acknowledgement: everything
        sent before it is stored.  Returns False if none came in time."""
        self.ka += 1
        self.send(keepalive(self.ka))
        self.s.settimeout(timeout)
        buf = b""
        try:
            while True:
                while len(buf) < 12:
                    d = self.s.recv(4096)
                    if not d:
                        return False
                    buf += d
                hl, pl = struct.unpack(">II", buf[4:12])
                while len(buf) < hl + pl:
                    d = self.s.recv(4096)
                    if not d:
                        return False
                    buf += d
                p, buf = buf[:hl + pl], buf[hl + pl:]
                if (struct.unpack(">H", p[2:4])[0] == KEEPALIVE_ACK and
                        p[-4:] == struct.pack(">I", self.ka)):
                    return True
        except (socket.timeout, TimeoutError):
            return False

    def close(self):
        self.s.close()
