#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Link types beyond Ethernet (PPP bare and in HDLC-like framing, Cisco
# HDLC, NFLOG, ERF records, an Ethernet pseudowire in MPLS): the POI
# intercepts every target packet in them, byte for byte as tshark finds
# the IP packet, and names the link type it cannot decode (USER0) in its
# log and summary instead of calling it non-IP.  Then the capture file's
# own faults: a record whose microseconds read 1000000 is read with the
# rest; a file cut inside a record exits 1; a missing file is reported
# with its path and the errno text.
. "$(dirname "$0")/lib.sh"
gen_certs

XID=00000000-0000-4000-8000-000000000480
task "$XID" LIID-LT cc ip:10.0.0.2 >"$T/tasks"

python3 "$CL_SRC/tests/tools/mklinktypes.py" "$T/lt.pcapng"
start_sink lt --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
"$POI" --read "$T/lt.pcapng" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    "${POI_TLS[@]}" --ipid test-poi --summary >"$T/lt-poi.out" 2>"$T/poi-lt.log" ||
    fail "clearli-poi failed on the link-type capture"
stop_sink
to_pcap lt "$SINK_PORT"
# Nine target packets in eight framings; tshark needs to be told that the
# pseudowire has a control word.
python3 "$CL_SRC/tests/integration/x2x3check.py" --input "$T/lt.pcapng" \
    --output "$T/lt.pcap" --port "$SINK_PORT" \
    --decode-as 'mpls.label==100,pwethcw' \
    --task "$XID" 'ip.addr==10.0.0.2' --count "$XID" 9 ||
    fail "X3 does not hold the target packets of every link type"
grep -q 'link types not decoded: 147 (USER0) 1 packets$' "$T/lt-poi.out" ||
    fail "summary does not name USER0: $(grep 'link types' "$T/lt-poi.out")"
grep -q 'link type 147 (USER0) is not decoded' "$T/poi-lt.log" ||
    fail "no warning naming USER0"
grep -q 'non-IP 0,' "$T/lt-poi.out" ||
    fail "frames counted as non-IP: $(head -1 "$T/lt-poi.out")"

# A pcap record with microseconds = 1000000, between two good ones.
python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/usin.pcap" 1700000000 \
    '10.0.0.1:1000>10.0.0.2:2000x3'
python3 - "$T/usin.pcap" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
caplen = struct.unpack_from("<I", b, 24 + 8)[0]
off = 24 + 16 + caplen  # the second record
struct.pack_into("<I", b, off + 4, 1000000)
open(sys.argv[1], "wb").write(b)
PY
start_sink us --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
"$POI" --read "$T/usin.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    "${POI_TLS[@]}" --ipid test-poi --summary >"$T/us-poi.out" 2>"$T/poi-us.log" ||
    fail "clearli-poi failed on a record with 1000000 microseconds"
stop_sink
to_pcap us "$SINK_PORT"
python3 "$CL_SRC/tests/integration/x2x3check.py" --input "$T/usin.pcap" \
    --output "$T/us.pcap" --port "$SINK_PORT" \
    --task "$XID" 'ip.addr==10.0.0.2' --count "$XID" 3 ||
    fail "not every packet after the bad timestamp was delivered"
[ "$(grep -c 'fraction of a second' "$T/poi-us.log")" -eq 1 ] ||
    fail "the repaired timestamp is not warned about exactly once"
grep -q 'capture file read to its end' "$T/us-poi.out" ||
    fail "summary does not say the file was read to its end"

# The same file cut in the middle of its last record: exit 1.
head -c -5 "$T/usin.pcap" >"$T/cutin.pcap"
start_sink cut --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
rc=0
"$POI" --read "$T/cutin.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    "${POI_TLS[@]}" --ipid test-poi --summary >"$T/cut-poi.out" \
    2>"$T/poi-cut.log" || rc=$?
stop_sink
[ "$rc" -eq 1 ] || fail "a capture cut short exits $rc, not 1"
grep -q 'bad record at offset' "$T/poi-cut.log" ||
    fail "no message about the bad record"
grep -q 'capture file read only in part' "$T/cut-poi.out" ||
    fail "summary does not say the file was read only in part"

# A capture file that does not exist.
rc=0
"$POI" --read "$T/no-such.pcap" --tasks "$T/tasks" --mdf 127.0.0.1:9 \
    "${POI_TLS[@]}" >/dev/null 2>"$T/poi-missing.log" || rc=$?
[ "$rc" -ne 0 ] || fail "a missing capture file exits 0"
grep -q "cannot open $T/no-such.pcap for reading: No such file or directory" \
    "$T/poi-missing.log" ||
    fail "missing file: $(cat "$T/poi-missing.log")"
echo "link types, bad timestamp, cut file and missing file checked"
