#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write a pcapng with one interface per link-layer framing the POI decodes
beyond Ethernet, each carrying IPv4/UDP from 10.0.0.1 to 10.0.0.2, plus an
interface of a link type it does not decode (USER0, 147).

usage: mklinktypes.py OUT.pcapng

Frames, in order (interface: framing):
  PPP (9) in HDLC-like framing; PPP (9) bare with a compressed protocol
  field; PPP_HDLC (50); C_HDLC (104); NFLOG (239); ERF (197) Ethernet, Ethernet behind an extension header,
  IPv4; Ethernet (1) with MPLS and an Ethernet pseudowire with a control
  word (tshark needs `-d mpls.label==100,pwethcw` for it: its heuristic
guesses "no control word"); USER0 (147) with an IPv4 packet in it, which
must not be decoded.
"""

import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_udp(k):
    data = b"link type frame %d" % k
    udp = struct.pack("!HHHH", 1000 + k, 2000, 8 + len(data), 0) + data
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k, 0, 64, 17,
                      0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"


def nflog(ip, le):
    e = "<" if le else ">"

    def tlv(t, v):
        pad = b"\0" * ((4 - len(v) % 4) % 4)
        return struct.pack(e + "HH", 4 + len(v), t) + v + pad
    return (struct.pack("!BBH", 2, 0, 0) +
            tlv(1, struct.pack("!HBB", 0x0800, 1, 0)) +
            tlv(10, b"clearli\0") + tlv(9, ip))


def erf(rtype, body, wlen, ext=b""):
    rlen = 16 + len(ext) + len(body)
    return (struct.pack("<Q", (1700000000 << 32)) +
            struct.pack("!BBHHH", rtype, 0x04, rlen, 0, wlen) + ext + body)


def frames():
    k = 0
    out = []

    def nxt():
        nonlocal k
        k += 1
        return ip_udp(k)
    out.append((0, b"\xff\x03\x00\x21" + nxt()))
    out.append((0, b"\x21" + nxt()))
    out.append((1, b"\xff\x03\x00\x21" + nxt()))
    out.append((2, b"\x0f\x00\x08\x00" + nxt()))
    # NFLOG attributes are in the writing host's order, which readers
    # take from the file's (this one is little-endian).
    out.append((3, nflog(nxt(), True)))
    ip = nxt()
    out.append((4, erf(2, b"\0\0" + ETH + b"\x08\x00" + ip, len(ip) + 14)))
    ip = nxt()
    out.append((4, erf(0x82, b"\0\0" + ETH + b"\x08\x00" + ip, len(ip) + 14,
                       ext=b"\x01" + b"\0" * 7)))
    ip = nxt()
    out.append((4, erf(22, ip, len(ip))))
    out.append((5, ETH + b"\x88\x47" + struct.pack("!I", 100 << 12 | 0x1ff) +
                b"\0\0\0\0" + ETH + b"\x08\x00" + nxt()))
    out.append((6, nxt()))
    return out


def block(t, body):
    body += b"\0" * ((4 - len(body) % 4) % 4)
    n = 12 + len(body)
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)


def main():
    lts = [9, 50, 104, 239, 197, 1, 147]
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for lt in lts:
        out += block(1, struct.pack("<HHI", lt, 0, 65535))
    ts = 1700000000 * 1000000
    for i, (ifc, data) in enumerate(frames()):
        t = ts + i * 1000
        out += block(6, struct.pack("<IIIII", ifc, t >> 32, t & 0xFFFFFFFF,
                                    len(data), len(data)) + data)
    with open(sys.argv[1], "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
