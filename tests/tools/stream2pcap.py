#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Wrap byte-stream files into a pcap of one TCP connection.

usage: stream2pcap.py [--sport N] [--dport N] [--mss N] [--x2x3]
                      in.bin [in2.bin ...] out.pcap

The input files are sent, in order, as one TCP stream from 127.0.0.1:sport
to 127.0.0.1:dport (Ethernet/IPv4/TCP, pcap link type 1, microsecond
timestamps).  The capture holds a SYN / SYN-ACK / ACK handshake, the data
segments (each acknowledged by the receiver), and a FIN exchange.  Sequence
numbers, IPv4 header checksums and TCP checksums are correct, so tshark's
TCP analysis reports nothing.  Timestamps are fixed (1 ms apart from
2024-01-01T00:00:00Z), so the same input always gives the same file.

Segments never span two input files (each file is one "write"), and by
default each file is cut into segments of at most --mss (1400) octets.

--x2x3 cuts the stream at ETSI TS 103 221-2 PDU boundaries instead: one
PDU per segment, whatever its size (up to 65495 octets).  Wireshark 4.0's
5gli dissector does not ask TCP for reassembly, so it decodes only PDUs
that start at the start of a segment and end inside it; with one PDU per
frame, `tshark -T fields` also prints one row per PDU.  Bytes after the
last complete PDU of a file (a truncated or malformed PDU) are cut into
--mss segments, with a warning.

Only the Python standard library is used.
"""

import argparse
import struct
import sys

CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
LOOPBACK = bytes([127, 0, 0, 1])
MAX_SEGMENT = 65535 - 20 - 20  # IPv4 total length limit
START_SEC = 1704067200  # 2024-01-01T00:00:00Z

FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10


def checksum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Conn:
    def __init__(self, out, sport, dport):
        self.out = out
        self.sport = sport
        self.dport = dport
        self.cseq = 1000  # client ISN
        self.sseq = 5000  # server ISN
        self.ipid = 1
        self.nframes = 0

    def frame(self, from_client, flags, payload=b""):
        if from_client:
            smac, dmac, sp, dp = CLIENT_MAC, SERVER_MAC, self.sport, self.dport
            seq, ack = self.cseq, self.sseq
        else:
            smac, dmac, sp, dp = SERVER_MAC, CLIENT_MAC, self.dport, self.sport
            seq, ack = self.sseq, self.cseq
        if not flags & ACK:
            ack = 0
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        pseudo = LOOPBACK + LOOPBACK + struct.pack(
            "!BBH", 0, 6, len(tcp) + len(payload))
        csum = checksum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
        iplen = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, iplen, self.ipid, 0x4000,
                         64, 6, 0, LOOPBACK, LOOPBACK)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        self.ipid = (self.ipid + 1) & 0xFFFF
        pkt = dmac + smac + b"\x08\x00" + ip + tcp + payload
        usec = self.nframes * 1000
        self.out.write(struct.pack("<IIII", START_SEC + usec // 1000000,
                                   usec % 1000000, len(pkt), len(pkt)))
        self.out.write(pkt)
        self.nframes += 1
        # SYN and FIN take one sequence number each.
        adv = len(payload) + (1 if flags & (SYN | FIN) else 0)
        if from_client:
            self.cseq += adv
        else:
            self.sseq += adv


def x2x3_cuts(data, mss):
    """Segment lengths that put each complete X2/X3 PDU in its own segment."""
    cuts = []
    off = 0
    while len(data) - off >= 12:
        hlen, plen = struct.unpack("!II", data[off + 4:off + 12])
        n = hlen + plen
        if n < 12 or n > len(data) - off:
            break
        cuts.append(n)
        off += n
    if off < len(data):
        sys.stderr.write("stream2pcap: %d octets after the last complete "
                         "PDU\n" % (len(data) - off))
        cuts += mss_cuts(len(data) - off, mss)
    return cuts


def mss_cuts(n, mss):
    return [min(mss, n - o) for o in range(0, n, mss)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sport", type=int, default=40000)
    ap.add_argument("--dport", type=int, default=9999)
    ap.add_argument("--mss", type=int, default=1400)
    ap.add_argument("--x2x3", action="store_true",
                    help="one X2/X3 PDU per segment")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("output")
    a = ap.parse_args()
    for p in (a.sport, a.dport):
        if not 0 < p < 65536:
            ap.error("port out of range: %d" % p)
    if not 0 < a.mss <= MAX_SEGMENT:
        ap.error("--mss must be 1..%d" % MAX_SEGMENT)

    segs = []
    for name in a.inputs:
        with open(name, "rb") as f:
            data = f.read()
        if a.x2x3:
            lens = x2x3_cuts(data, a.mss)
        else:
            lens = mss_cuts(len(data), a.mss)
        off = 0
        for n in lens:
            if n > MAX_SEGMENT:
                sys.exit("stream2pcap: %s: a %d-octet segment does not fit "
                         "in one IPv4 packet" % (name, n))
            segs.append(data[off:off + n])
            off += n

    with open(a.output, "wb") as out:
        # pcap global header: magic, v2.4, tz 0, sigfigs 0, snaplen, Ethernet
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        c = Conn(out, a.sport, a.dport)
        c.frame(True, SYN)
        c.frame(False, SYN | ACK)
        c.frame(True, ACK)
        for s in segs:
            c.frame(True, PSH | ACK, s)
            c.frame(False, ACK)
        c.frame(True, FIN | ACK)
        c.frame(False, FIN | ACK)
        c.frame(True, ACK)


if __name__ == "__main__":
    main()
