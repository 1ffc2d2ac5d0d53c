#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks the XER that driver (asn1c's decoder) printed.

check.py psdugen XML PACKETS   PDUs written by tests/tools/psdugen from
                               the fixed inputs below and the hex packets
                               in PACKETS (one per line)
check.py libtrace XML NCC      third-party records: every PDU is a PS-PDU
                               with the TS 102 232-1 domain OID; NCC IPCC
                               payloads, each an IPv4 ICMP packet

The expected values are the inputs psdugen is given (repeated here from
its source, not read back from it), so a wrong tag, length or value in
lib/psdu.c shows up as a mismatch or as a decoding failure in driver.
"""
import sys
import xml.etree.ElementTree as ET

LIID = b"LIID-H5-0001"
COUNTRY = "DE"
OPERATOR = b"clearli"
NE = b"mdf-1"
CIN = 4242
IPID = "poi01"
USER = b"alice@example.net"
DOMAIN = "0.4.0.2.2.5.1.43"


def fail(msg):
    sys.exit("check.py: " + msg)


def octets(el):
    return bytes.fromhex("".join(el.text.split()))


def one(pdu, path):
    el = pdu.find(path)
    if el is None:
        fail("missing %s" % path)
    return el


def enum(pdu, path):
    el = one(pdu, path)
    if len(el) != 1:
        fail("%s is not an enumeration" % path)
    return el[0].tag


def integer(pdu, path):
    t = one(pdu, path).text.strip()
    if ":" in t:  # INTEGER_t too big for long: hex octets
        return int.from_bytes(bytes.fromhex(t.replace(":", "")), "big")
    return int(t)


def header(pdu, seq):
    h = "pSHeader/"
    checks = [
        (one(pdu, h + "li-psDomainId").text, DOMAIN),
        (octets(one(pdu, h + "lawfulInterceptionIdentifier")), LIID),
        (one(pdu, h + "authorizationCountryCode").text, COUNTRY),
        (octets(one(pdu, h + "communicationIdentifier/networkIdentifier/"
                    "operatorIdentifier")), OPERATOR),
        (octets(one(pdu, h + "communicationIdentifier/networkIdentifier/"
                    "networkElementIdentifier")), NE),
        (integer(pdu, h + "communicationIdentifier/"
                 "communicationIdentityNumber"), CIN),
        (integer(pdu, h + "sequenceNumber"), seq),
        (one(pdu, h + "timeStamp").text, "20231114221320.123456Z"),
        (one(pdu, h + "interceptionPointID").text, IPID),
        (integer(pdu, h + "microSecondTimeStamp/seconds"), 1700000000),
        (integer(pdu, h + "microSecondTimeStamp/microSeconds"), 123456),
        (enum(pdu, h + "timeStampQualifier"), "timeOfInterception"),
    ]
    for i, (got, want) in enumerate(checks):
        if got != want:
            fail("PDU seq %d header field %d: %r != %r" % (seq, i, got, want))


def check_psdugen(xml, pkfile):
    pkts = [bytes.fromhex(ln.strip()) for ln in open(pkfile) if ln.strip()]
    pdus = ET.parse(xml).getroot().findall("PS-PDU")
    if len(pdus) != len(pkts) + 4:
        fail("%d PDUs, expected %d" % (len(pdus), len(pkts) + 4))
    for i, pkt in enumerate(pkts):
        p = pdus[i]
        header(p, i)
        cc = "payload/cCPayloadSequence/CCPayload/"
        d = enum(p, cc + "payloadDirection")
        if d != ("fromTarget" if i % 2 == 0 else "toTarget"):
            fail("CC %d direction %s" % (i, d))
        if one(p, cc + "cCContents/iPCC/iPCCObjId").text != "5.3.18.2":
            fail("CC %d iPCCObjId" % i)
        got = octets(one(p, cc + "cCContents/iPCC/iPCCContents/iPPackets"))
        if got != pkt:
            fail("CC %d packet bytes differ (%d vs %d octets)" %
                 (i, len(got), len(pkt)))
    n = len(pkts)
    iris = [
        ("iRI-Begin", "accessAccept", "iPV4", "0a010203", None, None),
        ("iRI-Report", "interimUpdate", "iPV4", "0a010203", None,
         (18446744073709551615, 1000)),
        ("iRI-End", "accessEnd", "iPV6", "20010db8000000000000000000000001",
         "20231114231320.5Z", (18446744073709551615, 1000)),
    ]
    for k, (typ, aet, ver, addr, end, octs) in enumerate(iris):
        p = pdus[n + k]
        header(p, n + k)
        ip = "payload/iRIPayloadSequence/IRIPayload/"
        if enum(p, ip + "iRIType") != typ:
            fail("IRI %d type" % k)
        c = ip + "iRIContents/iPIRI/"
        if one(p, c + "iPIRIObjId").text != "5.3.18.1":
            fail("IRI %d iPIRIObjId" % k)
        c += "iPIRIContents/"
        vals = [
            (enum(p, c + "accessEventType"), aet),
            (octets(one(p, c + "targetUsername")), USER),
            (enum(p, c + "internetAccessType"), "xDSL"),
            (enum(p, c + "iPVersion"), ver),
            (enum(p, c + "targetIPAddress/iP-type"),
             "iPV4" if ver == "iPV4" else "iPV6"),
            (octets(one(p, c + "targetIPAddress/iP-value/iPBinaryAddress"))
             .hex(), addr),
            (enum(p, c + "targetIPAddress/iP-assignment"), "dynamic"),
            (one(p, c + "startTime").text, "20231114221320Z"),
            (enum(p, c + "authenticationType"), "radiusAAA"),
            (octets(one(p, c + "rawAAAData")), b"raw-radius"),
        ]
        if ver == "iPV6":
            vals.append((integer(p, c + "targetIPAddress/iPv6PrefixLength"),
                         64))
        if end is not None:
            vals.append((one(p, c + "endTime").text, end))
            vals.append((enum(p, c + "endReason"), "regularLogoff"))
        if octs is not None:
            vals.append(((integer(p, c + "octetsReceived"),
                          integer(p, c + "octetsTransmitted")), octs))
        for j, (got, want) in enumerate(vals):
            if got != want:
                fail("IRI %d field %d: %r != %r" % (k, j, got, want))
    p = pdus[n + 3]
    header(p, n + 3)
    if p.find("payload/tRIPayload/keep-alive") is None:
        fail("last PDU is not a keep-alive")
    print("psdugen: %d PDUs match (%d CC, 3 IRI, 1 keep-alive)" %
          (len(pdus), n))


def check_libtrace(xmls, ncc):
    total = cc = 0
    for xml in xmls:
        for p in ET.parse(xml).getroot().findall("PS-PDU"):
            total += 1
            # libtrace writes li-psDomainId version17 with an extra 0 arc.
            if not one(p, "pSHeader/li-psDomainId").text.startswith(
                    "0.4.0.2.2.5.1."):
                fail("libtrace PDU %d: domain OID" % total)
            pk = p.find("payload/cCPayloadSequence/CCPayload/cCContents/"
                        "iPCC/iPCCContents/iPPackets")
            if pk is None:
                continue
            b = octets(pk)
            if len(b) < 20 or b[0] != 0x45 or b[9] != 1:
                fail("libtrace CC %d is not an IPv4 ICMP packet" % cc)
            cc += 1
    if cc != ncc:
        fail("libtrace: %d IPCC, expected %d" % (cc, ncc))
    print("libtrace: %d PDUs decoded, %d IPCC" % (total, cc))


if len(sys.argv) >= 4 and sys.argv[1] == "psdugen":
    check_psdugen(sys.argv[2], sys.argv[3])
elif len(sys.argv) >= 4 and sys.argv[1] == "libtrace":
    check_libtrace(sys.argv[2:-1], int(sys.argv[-1]))
else:
    sys.exit(__doc__)
