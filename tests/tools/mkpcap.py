#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write a small Ethernet/IPv4/UDP capture for tests.

usage: mkpcap.py [--gap-us N] OUT.pcap START_EPOCH
                 SRC:SPORT>DST:DPORT[xN][@SIZE] ...

Each argument adds N (default 1) UDP packets from SRC:SPORT to DST:DPORT,
one millisecond (or N microseconds) apart after START_EPOCH, each with a distinct payload
("clearli test packet <k>", padded with '.' to SIZE bytes) and valid IPv4
checksums.
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


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def main():
    args = sys.argv[1:]
    gap = 1000
    if args[0] == "--gap-us":
        gap = int(args[1])
        args = args[2:]
    out, start = args[0], float(args[1])
    frames = []
    k = 0
    for spec in args[2:]:
        count = 1
        size = 0
        if "@" in spec:
            spec, sz = spec.rsplit("@", 1)
            size = int(sz)
        if "x" in spec:
            spec, n = spec.rsplit("x", 1)
            count = int(n)
        src, dst = spec.split(">")
        sa, sp = src.rsplit(":", 1)
        da, dp = dst.rsplit(":", 1)
        for _ in range(count):
            k += 1
            data = b"clearli test packet %d" % k
            data += b"." * max(0, size - len(data))
            udp = struct.pack("!HHHH", int(sp), int(dp), 8 + len(data), 0)
            hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) +
                              len(data), k & 0xFFFF, 0, 64, 17, 0, ip4(sa),
                              ip4(da))
            hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
            eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
            frames.append(eth + hdr + udp + data)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            us = int(round(start * 1e6)) + i * gap
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000,
                                len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main()
