#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Check a POI's X2/X3 output against its input capture, with tshark as
the independent decoder of both.

usage: x2x3check.py --input IN.pcap --output OUT.pcap --port N
                    --task XID DISPLAY_FILTER [--task ...]
                    [--x2 XID COUNT PF] [--pdus N] [--decode-as D]

OUT.pcap is the POI's X2/X3 stream as a TCP capture (stream2pcap.py
--x2x3).  tshark decodes it with `-d tcp.port==N,5gli`.  The checks:
  - every PDU decodes, and nothing is flagged malformed or as an error;
  - every XID is one of the tasks;
  - sequence numbers run 0, 1, 2, ... per XID, without gap or repeat;
  - the X3 payloads of a task are, in order and byte for byte, the IP
    packets that DISPLAY_FILTER selects in the input capture (the last IP
    layer, i.e. the inner packet of a tunnel), and nothing else;
  - with --x2, the task has COUNT X2 PDUs of payload format PF;
  - with --pdus, the stream holds N PDUs in all;
  - with --count, the task has N X3 PDUs.
A task whose DISPLAY_FILTER is "-" gets the sequence checks only.
Prints one line per task and exits non-zero on the first failed check.
"""

import argparse
import json
import subprocess
import sys


def tshark(args):
    r = subprocess.run(["tshark"] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("tshark failed: %s" % r.stderr.strip())
    return r.stdout


def pairs(items):
    # tshark repeats keys (two "ip" layers in a tunnel): keep them all.
    out = {}
    for k, v in items:
        out.setdefault(k, []).append(v)
    return out


DECODE_AS = []


def expected_packets(path, flt):
    """IP packets (hex) of the frames flt selects, in capture order."""
    js = tshark(["-r", path] + DECODE_AS + ["-o", "ip.defragment:FALSE",
                 "-o", "ipv6.defragment:FALSE", "-Y", flt,
                 "-T", "json", "-x"])
    frames = json.loads(js, object_pairs_hook=pairs) if js.strip() else []
    frames = frames[0] if frames and isinstance(frames[0], list) else frames
    out = []
    for f in frames:
        layers = f["_source"][0]["layers"][0]
        raw = bytes.fromhex(layers["frame_raw"][0][0])
        last = None
        for key in ("ip_raw", "ipv6_raw"):
            for r in layers.get(key, []):
                if last is None or r[1] > last[1]:
                    last = (key, r[1])
        if last is None:
            sys.exit("frame without IP selected by %r" % flt)
        key, off = last
        if key == "ip_raw":
            total = int.from_bytes(raw[off + 2:off + 4], "big")
        else:
            total = 40 + int.from_bytes(raw[off + 4:off + 6], "big")
        # PPPoE frames the packet by its own length field; tshark ends
        # the IP packet there too ("exceeds packet length").
        for pp in layers.get("pppoes", []):
            pl = int(pp["pppoe.payload_length"][0]) - 2
            total = min(total, pl)
        out.append(raw[off:off + total].hex())
    return out


def truncated_ip(hexpkt):
    """True if an IP packet is shorter than its header says: a packet the
    input capture already cut (snap length), which tshark then flags as
    malformed inside a valid X3 PDU."""
    b = bytes.fromhex(hexpkt)
    if len(b) >= 4 and b[0] >> 4 == 4:
        return int.from_bytes(b[2:4], "big") > len(b)
    if len(b) >= 6 and b[0] >> 4 == 6:
        return 40 + int.from_bytes(b[4:6], "big") > len(b)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input")
    ap.add_argument("--output", required=True)
    ap.add_argument("--port", required=True, type=int)
    ap.add_argument("--task", nargs=2, action="append", default=[],
                    metavar=("XID", "FILTER"))
    ap.add_argument("--x2", nargs=3, action="append", default=[],
                    metavar=("XID", "COUNT", "PF"))
    ap.add_argument("--x2frames", nargs=2, action="append", default=[],
                    metavar=("XID", "FILTER"))
    ap.add_argument("--count", nargs=2, action="append", default=[],
                    metavar=("XID", "N"))
    ap.add_argument("--pdus", type=int)
    ap.add_argument("--decode-as", action="append", default=[],
                    help="tshark -d for the input capture")
    a = ap.parse_args()
    for d in a.decode_as:
        DECODE_AS.extend(["-d", d])

    fields = ["frame.number", "tcp.len", "li5g.type", "li5g.xid",
              "li5g.sq", "li5g.pf", "tcp.payload", "_ws.malformed",
              "li5g.pl", "li5g.hl"]
    # Fragments inside X3 are shown as they are, as in the input.
    cmd = ["-r", a.output, "-d", "tcp.port==%d,5gli" % a.port,
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-Y", "tcp.len > 0", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    rows = [l.split("\t") for l in tshark(cmd).splitlines()]
    pdus = []
    for r in rows:
        r += [""] * (len(fields) - len(r))
        num, tlen, typ, xid, sq, pf, seg, malformed, pl, hl = r[:10]
        if not typ:
            sys.exit("frame %s: tshark found no X2/X3 PDU" % num)
        # One PDU per segment: header plus payload fill it exactly.  (An
        # expert note about the payload itself, such as an IP packet cut
        # by the capture's snap length, is the input's, not ours.)
        seg = seg.replace(":", "")
        if int(hl) + int(pl) != int(tlen) or len(seg) != 2 * int(tlen):
            sys.exit("frame %s: PDU lengths do not add up" % num)
        # The payload as 5gli delimits it: after its header length.
        pld = seg[2 * int(hl):]
        if malformed and not (int(typ) == 2 and truncated_ip(pld)):
            sys.exit("frame %s: tshark flags the PDU malformed" % num)
        pdus.append((int(typ), xid, int(sq) if sq else None,
                     int(pf) if pf else None, pld))
    if a.pdus is not None and len(pdus) != a.pdus:
        sys.exit("%d PDUs decoded, %d expected" % (len(pdus), a.pdus))

    tasks = {x.lower(): flt for x, flt in a.task}
    seqs = {}
    x3 = {}
    x2 = {}
    x2pld = {}
    for typ, xid, sq, pf, pld in pdus:
        if typ not in (1, 2):
            continue
        if xid not in tasks:
            sys.exit("PDU for unknown XID %s" % xid)
        want = seqs.get(xid, 0)
        if sq != want:
            sys.exit("XID %s: sequence number %s where %d was due"
                     % (xid, sq, want))
        seqs[xid] = want + 1
        if typ == 2:
            x3.setdefault(xid, []).append(pld)
        else:
            x2.setdefault(xid, []).append(pf)
            x2pld.setdefault(xid, []).append(pld)
    for xid, n in a.count:
        if len(x3.get(xid.lower(), [])) != int(n):
            sys.exit("XID %s: %d X3 PDUs, want %s"
                     % (xid, len(x3.get(xid.lower(), [])), n))
        print("ok %s: %s X3 PDUs" % (xid, n))
    for xid, flt in tasks.items():
        if flt == "-":  # sequence checks only
            continue
        want = expected_packets(a.input, flt)
        got = x3.get(xid, [])
        if len(got) != len(want):
            sys.exit("XID %s: %d X3 PDUs, %d target packets in the input"
                     % (xid, len(got), len(want)))
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                sys.exit("XID %s: X3 PDU %d differs from target packet %d"
                         "\n got  %s\n want %s" % (xid, i, i, g[:120],
                                                  w[:120]))
        print("ok %s: %d X3 PDUs equal the %d packets of %r"
              % (xid, len(got), len(want), flt))
    for xid, count, pf in a.x2:
        got = x2.get(xid.lower(), [])
        if len(got) != int(count) or any(p != int(pf) for p in got):
            sys.exit("XID %s: X2 formats %s, want %s x %s"
                     % (xid, got, count, pf))
        print("ok %s: %s X2 PDUs of format %s" % (xid, count, pf))
    for xid, flt in a.x2frames:
        # X2 carries the signalling message as captured: the UDP payload.
        want = [l.replace(":", "") for l in tshark(
            ["-r", a.input, "-Y", flt, "-T", "fields", "-E",
             "occurrence=f", "-e", "udp.payload"]).splitlines()]
        got = x2pld.get(xid.lower(), [])
        if got != want:
            sys.exit("XID %s: X2 payloads are not the %d messages of %r"
                     " (got %d)" % (xid, len(want), flt, len(got)))
        print("ok %s: X2 payloads equal the %d messages of %r"
              % (xid, len(want), flt))


if __name__ == "__main__":
    main()
