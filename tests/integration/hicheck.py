#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks of the HI2/HI3 handover for the integration tests.

hicheck.py spool2ber SPOOLDIR OUT
    Writes the PS-PDUs held in clearli-mdf's spool (docs/PROTOCOL.spool,
    docs/PROTOCOL.hi: record header, MDF header, PS-PDU) to OUT, back to
    back, in spool order (LOST records skipped).  Parsed here from the
    documented format, not with clearli's code.

hicheck.py asn1c XER LEMFJSON [--liid LIID IN.pcap FILTER]...
          [--user LIID NAME] [--iri LIID N] [--total-cc N] [--gaps FILE]
    XER is what asn1c's decoder (tests/tools/asn1c-check) printed for a
    file of PS-PDUs, LEMFJSON what `clearli-lemf --decode` printed for
    the same file.  Checks, PDU by PDU, that both decoders agree (LIID,
    CIN, sequence number, payload kind, IRI type, user name, target
    address, packet bytes), that every CC PDU of LIID carries, in order
    and byte for byte, the IP packets FILTER selects in IN.pcap (tshark),
    that LIID has N IRI PDUs whose targetUsername is NAME, that there are
    N CC PDUs in all, and that sequence numbers run from 0 without gap or
    repeat per (LIID, CIN, kind), in file order, except exactly at the
    gaps FILE declares (lines "LIID CIN KIND FIRST COUNT": the numbers
    FIRST..FIRST+COUNT-1 missing); a declared gap not seen fails too.

hicheck.py lemf OUTDIR [--liid LIID IN.pcap FILTER]... [--total-cc N]
    Checks clearli-lemf's output directory: the summary reports no gap,
    no conflicting duplicate, no bad PDU and no failed integrity check;
    pdus.jsonl numbers every (LIID, CIN, kind) from 0 without gap or
    repeat; and cc-LIID.pcap, read by tshark, holds exactly the packets
    FILTER selects in IN.pcap, in order, byte for byte.
"""
import glob
import json
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from x2x3check import expected_packets, tshark  # noqa: E402


def fail(msg):
    sys.exit("hicheck: " + msg)


KINDS = {1: "iri", 2: "cc", 3: "integrity", 4: "integrity"}


def segment_records(b, name="segment"):
    """The records of one segment image, in order, as dicts: off, len
    (whole record), seq (spool), type, lost (LOST record: the count),
    and for MDF records liid, cin, hiseq (the PS-PDU's number), kind and
    pdu.  No CRC check: for files the test itself wrote or flipped."""
    if b[:4] != b"CLSG":
        fail("%s: not a segment" % name)
    out, off = [], 32
    while off + 20 <= len(b):
        ln, typ, flags, seq, _crc = struct.unpack_from(">IHHQI", b, off)
        p = b[off + 20:off + 20 + ln]
        if len(p) != ln:
            break
        r = {"off": off, "len": 20 + ln, "seq": seq, "type": typ,
             "lost": 0}
        off += 20 + ln
        if flags == 1:  # LOST (docs/PROTOCOL.spool)
            r["lost"] = struct.unpack(">Q", p)[0]
            out.append(r)
            continue
        # MDF header: version, LIID length, LIID, CIN, seq, POI
        # key, XID, X2/X3 seq, time stamp, flags, and from version 2 the
        # 16-octet content hash.
        if p[0] not in (1, 2):
            fail("record of unknown version %d" % p[0])
        ll = p[1]
        r["liid"] = p[2:2 + ll].decode("latin-1")
        r["cin"], r["hiseq"] = struct.unpack_from(">II", p, 2 + ll)
        r["kind"] = KINDS.get(typ, "other")
        r["pdu"] = p[2 + ll + 45 + (16 if p[0] == 2 else 0):]
        out.append(r)
    return out


def spool2ber(d, out):
    n = 0
    with open(out, "wb") as o:
        for seg in sorted(glob.glob(os.path.join(d, "seg-*.spool"))):
            for r in segment_records(open(seg, "rb").read(), seg):
                if r["lost"]:
                    continue
                o.write(r["pdu"])
                n += 1
    print("spool2ber: %d PS-PDUs" % n)


def read_pcap(path, linktype):
    """Records of a classic little-endian pcap file of that link type
    (None if the file is something else)."""
    b = open(path, "rb").read()
    if len(b) < 24:
        return None
    magic, _, _, _, _, _, lt = struct.unpack_from("<IHHiIII", b, 0)
    if magic not in (0xA1B2C3D4, 0xA1B23C4D) or lt != linktype:
        return None
    out, off = [], 24
    while off + 16 <= len(b):
        caplen = struct.unpack_from("<I", b, off + 8)[0]
        out.append(b[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def wanted(path, flt):
    """expected_packets(), faster for a plain Ethernet/IPv4 capture: tshark
    selects the frames and gives each IP length (text fields, no hex
    dump), the bytes come straight from the file."""
    frames = read_pcap(path, 1)
    if frames is None:
        return expected_packets(path, flt)
    out = []
    for ln in tshark(["-r", path, "-Y", flt, "-T", "fields", "-e",
                      "frame.number", "-e", "ip.len"]).splitlines():
        num, iplen = ln.split("\t")
        fr = frames[int(num) - 1]
        if "," in iplen or not iplen or fr[12:14] != b"\x08\x00":
            return expected_packets(path, flt)
        out.append(fr[14:14 + int(iplen)].hex())
    return out


def octets(el):
    return bytes.fromhex("".join((el.text or "").split()))


def integer(el):
    t = el.text.strip()
    if ":" in t:
        return int.from_bytes(bytes.fromhex(t.replace(":", "")), "big")
    return int(t)


def xer_pdus(path):
    out = []
    for p in ET.parse(path).getroot().findall("PS-PDU"):
        h = p.find("pSHeader")
        d = {
            "liid": octets(h.find("lawfulInterceptionIdentifier")).decode(
                "latin-1"),
            "cin": integer(h.find("communicationIdentifier/"
                                  "communicationIdentityNumber")),
            "seq": integer(h.find("sequenceNumber")),
        }
        cc = p.find("payload/cCPayloadSequence/CCPayload")
        iri = p.find("payload/iRIPayloadSequence/IRIPayload")
        tri = p.find("payload/tRIPayload")
        if cc is not None:
            d["kind"] = "cc"
            d["ip"] = octets(cc.find(
                "cCContents/iPCC/iPCCContents/iPPackets")).hex()
        elif iri is not None:
            d["kind"] = "iri"
            d["iri"] = iri.find("iRIType")[0].tag
            c = iri.find("iRIContents/iPIRI/iPIRIContents")
            d["user"] = octets(c.find("targetUsername")).decode("latin-1")
            a = c.find("targetIPAddress/iP-value/iPBinaryAddress")
            d["target"] = octets(a).hex() if a is not None else None
        elif tri is not None and tri.find("integrityCheck") is not None:
            d["kind"] = "integrity"
            ic = tri.find("integrityCheck")
            d["seqs"] = [int(x.text) for x in
                         ic.find("includedSequenceNumbers")]
            d["data"] = ic.find("dataType")[0].tag
        else:
            d["kind"] = "other"
        out.append(d)
    return out


def ipbin(text):
    """Binary (hex) of an address as the LEMF prints it."""
    import ipaddress
    return ipaddress.ip_address(text.split("/")[0]).packed.hex()


def check_seqs(items, what, gaps=None):
    """Numbers run from 0 by one per (LIID, CIN, kind), in file order,
    except exactly at the declared gaps {(liid, cin, kind): {first:
    count}}: there the numbers first..first+count-1 must be missing and
    first+count come next.  Any other gap, any repeat, and any declared
    gap that is not seen fail."""
    gaps = {k: dict(v) for k, v in (gaps or {}).items()}
    nxt = {}
    for d in items:
        k = (d["liid"], d["cin"], d["kind"])
        want = nxt.get(k, 0)
        g = gaps.get(k, {})
        if d["seq"] != want and g.get(want) == d["seq"] - want:
            print("%s: %s CIN %d %s: the declared gap %d..%d is there" %
                  (what, k[0], k[1], k[2], want, d["seq"] - 1))
            del g[want]
            want = d["seq"]
        if d["seq"] != want:
            fail("%s: %s CIN %d %s: sequence %d, expected %d%s" %
                 (what, d["liid"], d["cin"], d["kind"], d["seq"], want,
                  " (a repeat)" if d["seq"] < want else " (a gap)"))
        nxt[k] = want + 1
    for k, g in gaps.items():
        for first, count in g.items():
            fail("%s: %s CIN %d %s: declared gap %d..%d not seen" %
                 (what, k[0], k[1], k[2], first, first + count - 1))
    return nxt


def read_gaps(path):
    """A gap file: lines "LIID CIN KIND FIRST COUNT" ('#' comments)."""
    gaps = {}
    for ln in open(path):
        f = ln.split("#")[0].split()
        if not f:
            continue
        if len(f) != 5 or f[2] not in ("iri", "cc", "integrity"):
            fail("%s: bad gap line %r" % (path, ln))
        gaps.setdefault((f[0], int(f[1]), f[2]), {})[int(f[3])] = int(f[4])
    return gaps


def parse_liid_opts(args):
    liids, users, iris, total = [], {}, {}, None
    global GAPS
    i = 0
    while i < len(args):
        if args[i] == "--liid":
            liids.append(tuple(args[i + 1:i + 4]))
            i += 4
        elif args[i] == "--user":
            users[args[i + 1]] = args[i + 2]
            i += 3
        elif args[i] == "--iri":
            iris[args[i + 1]] = int(args[i + 2])
            i += 3
        elif args[i] == "--total-cc":
            total = int(args[i + 1])
            i += 2
        elif args[i] == "--gaps":
            GAPS = read_gaps(args[i + 1])
            i += 2
        else:
            fail("unknown argument %s" % args[i])
    return liids, users, iris, total


GAPS = {}


def check_asn1c(xer, lemfjson, args):
    liids, users, iris, total = parse_liid_opts(args)
    a = xer_pdus(xer)
    b = [json.loads(ln) for ln in open(lemfjson) if ln.strip()]
    if len(a) != len(b):
        fail("asn1c decoded %d PDUs, clearli-lemf %d" % (len(a), len(b)))
    for i, (x, y) in enumerate(zip(a, b)):
        for k in ("liid", "cin", "seq", "kind"):
            if x[k] != y.get(k):
                fail("PDU %d: %s is %r for asn1c, %r for clearli-lemf" %
                     (i, k, x[k], y.get(k)))
        if x["kind"] == "cc" and x["ip"] != y.get("ip"):
            fail("PDU %d: packet bytes differ between decoders" % i)
        if x["kind"] == "iri":
            names = {"iRI-Begin": "begin", "iRI-End": "end",
                     "iRI-Continue": "continue", "iRI-Report": "report"}
            if names[x["iri"]] != y.get("iri"):
                fail("PDU %d: IRI type %s vs %s" % (i, x["iri"], y["iri"]))
            if x["user"] != y.get("user", ""):
                fail("PDU %d: user %r vs %r" % (i, x["user"], y["user"]))
            if (x["target"] or None) != (ipbin(y["target"])
                                         if y.get("target") else None):
                fail("PDU %d: target %r vs %r" %
                     (i, x["target"], y.get("target")))
        if x["kind"] == "integrity" and x["seqs"] != y.get("seqs"):
            fail("PDU %d: integrity coverage differs" % i)
    check_seqs([d for d in a if d["kind"] != "other"], "asn1c", GAPS)
    ncc = sum(1 for d in a if d["kind"] == "cc")
    if total is not None and ncc != total:
        fail("asn1c: %d CC PDUs, expected %d" % (ncc, total))
    for liid, cap, flt in liids:
        want = wanted(cap, flt)
        got = [d["ip"] for d in a if d["liid"] == liid and d["kind"] == "cc"]
        if got != want:
            fail("LIID %s: %d CC packets, %d expected from %s [%s]%s" %
                 (liid, len(got), len(want), cap, flt,
                  "" if len(got) != len(want) else " (bytes differ)"))
        print("asn1c: LIID %s: %d CC PDUs equal to the capture's packets" %
              (liid, len(got)))
    for liid, n in iris.items():
        got = [d for d in a if d["liid"] == liid and d["kind"] == "iri"]
        if len(got) != n:
            fail("LIID %s: %d IRI, expected %d" % (liid, len(got), n))
        if liid in users and any(d["user"] != users[liid] for d in got):
            fail("LIID %s: IRI targetUsername is not %s" %
                 (liid, users[liid]))
        print("asn1c: LIID %s: %d IRI (%s)" %
              (liid, n, ", ".join(d["iri"] for d in got)))
    print("asn1c and clearli-lemf agree on %d PDUs" % len(a))


def check_lemf(outdir, args):
    liids, _, _, total = parse_liid_opts(args)
    if GAPS:
        fail("--gaps is for the asn1c check; lemf mode accepts no gap")
    s = json.load(open(os.path.join(outdir, "summary.json")))
    for k in ("gaps", "conflicts", "bad", "integrity_failed"):
        if s.get(k, 0) != 0:
            fail("LEMF summary: %s = %s" % (k, s[k]))
    items = []
    for ln in open(os.path.join(outdir, "pdus.jsonl")):
        d = json.loads(ln)
        if "event" in d:
            fail("LEMF reported an event: %s" % ln.strip())
        if d.get("kind") in ("iri", "cc", "integrity"):
            items.append(d)
    check_seqs(items, "LEMF")
    ncc = sum(1 for d in items if d["kind"] == "cc")
    if total is not None and ncc != total:
        fail("LEMF has %d CC PDUs, expected %d" % (ncc, total))
    for liid, cap, flt in liids:
        want = wanted(cap, flt)
        pc = os.path.join(outdir, "cc-%s.pcap" % liid)
        got = []
        if os.path.exists(pc):
            recs = read_pcap(pc, 101)  # LINKTYPE_RAW
            if recs is None:
                fail("%s is not a LINKTYPE_RAW pcap" % pc)
            got = [r.hex() for r in recs]
            # tshark must read it too (it sees as many frames).
            n = len(tshark(["-r", pc, "-T", "fields", "-e",
                            "frame.number"]).splitlines())
            if n != len(got):
                fail("%s: tshark reads %d packets, the file has %d" %
                     (pc, n, len(got)))
        if got != want:
            fail("LEMF %s: %d packets, %d expected%s" %
                 (pc, len(got), len(want),
                  "" if len(got) != len(want) else " (bytes differ)"))
        print("LEMF: %s: %d packets equal to the capture's" % (pc, len(got)))
    print("LEMF: %d PDUs, no gap, duplicate or integrity failure "
          "(duplicates removed: %s)" % (len(items), s.get("duplicates")))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "spool2ber":
        spool2ber(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "asn1c":
        check_asn1c(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "lemf":
        check_lemf(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
