#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# End to end on loopback: clearli-poi reads real captures, clearli-mdf
# mediates, clearli-lemf receives HI2/HI3 over TLS.
#
#  1. Per LIID, the CC pcap the LEMF writes holds exactly the target's
#     packets of the input capture, byte for byte and in order (tshark
#     reads both); the LEMF saw no gap, no conflicting duplicate, no bad
#     PDU, and every IntegrityCheck signature verified.
#  2. Every PS-PDU the MDF produced (taken from its spool by a parser of
#     the documented format) is decoded by a decoder that asn1c generates
#     from the ETSI ASN.1 modules; its fields match the capture (LIID,
#     packet bytes, user name, IRI types) and clearli-lemf's own decoder
#     agrees with it PDU for PDU.
. "$(dirname "$0")/lib.sh"
gen_certs

# Real captures, one after the other in one pcapng: RADIUS sessions then
# traffic of the RADIUS user's address, plain IPv4, GTP-U (the inner
# packets are intercepted), IPv6 with a prefix target.
python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/traffic.pcap" 1700000000 \
    '10.0.0.3:61000>192.0.2.7:61001x3' '192.0.2.7:61001>10.0.0.3:61000x2' \
    '10.0.0.4:61000>192.0.2.7:61001x4'
mergecap -a -F pcapng -w "$T/in.pcapng" "$PCAPS/radius/arkime__radius.pcap" \
    "$T/traffic.pcap" "$PCAPS/ip/libtrace__100_packets.pcap" \
    "$PCAPS/gtp/pcapplusplus__gtp-u.pcap" "$PCAPS/ip/arkime__v6.pcap"
IN=$T/in.pcapng

X1=11111111-1111-4111-8111-111111111111
X2=22222222-2222-4222-8222-222222222222
X3=33333333-3333-4333-8333-333333333333
X4=44444444-4444-4444-8444-444444444444
{
	task $X1 LIID-USER iri+cc user:xxxxxxxxx
	task $X2 LIID-V4 cc ip:97.89.91.159
	task $X3 LIID-GTP cc ip:202.11.40.158
	task $X4 LIID-V6 cc ip:3ffe:507::/32
} >"$T/tasks"

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
"$POI" --read "$IN" --tasks "$T/tasks" --mdf "127.0.0.1:$MDF_PORT" \
    "${POI_TLS[@]}" --ipid poi-1 --summary >"$T/poi.out" 2>"$T/poi.log" ||
    fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
ncc=$(awk '/X3 PDUs/ { gsub(",", "", $6); print $6 }' "$T/poi.out")
[ "$ncc" -gt 100 ] || fail "only $ncc X3 PDUs"

# Everything the POI sent must reach the LEMF; then the MDF stops, which
# writes the last IntegrityCheck PDUs and delivers them.
wait_for 30 lemf_has lemf cc "$ncc" || fail "LEMF has $(lemf_count lemf cc) of $ncc CC PDUs"
stop_pid "$MDF_PID"
grep -q "backlog 0 records" "$T/mdf.log" || fail "MDF stopped with a backlog"
stop_pid "$LEMF_PID"

python3 "$HICHECK" lemf "$T/lemf" --total-cc "$ncc" \
    --liid LIID-USER "$IN" 'ip.addr==10.0.0.3' \
    --liid LIID-V4 "$IN" 'ip.addr==97.89.91.159' \
    --liid LIID-GTP "$IN" 'ip.addr==202.11.40.158' \
    --liid LIID-V6 "$IN" 'ipv6.addr==3ffe:507::/32' || fail "LEMF output"
ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["integrity_ok"])' \
    "$T/lemf/summary.json")
[ "$ok" -ge 4 ] || fail "only $ok IntegrityCheck PDUs verified"

# The independent decoder.
DRV=$(asn1c_driver) || exit 1
python3 "$HICHECK" spool2ber "$T/mdf.spool" "$T/all.ber"
"$DRV" "$T/all.ber" >"$T/all.xml" || fail "asn1c cannot decode"
"$LEMF" --decode "$T/all.ber" >"$T/all.json" || fail "clearli-lemf --decode"
python3 "$HICHECK" asn1c "$T/all.xml" "$T/all.json" \
    --liid LIID-USER "$IN" 'ip.addr==10.0.0.3' \
    --liid LIID-V4 "$IN" 'ip.addr==97.89.91.159' \
    --liid LIID-GTP "$IN" 'ip.addr==202.11.40.158' \
    --liid LIID-V6 "$IN" 'ipv6.addr==3ffe:507::/32' \
    --user LIID-USER xxxxxxxxx --iri LIID-USER 1 || fail "asn1c check"

# The check can fail: one packet octet changed in the spool's copy.
python3 - "$T/all.ber" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.rfind(bytes([97, 89, 91, 159]))  # in the last LIID-V4 packet
b[i + 4] ^= 0x01
open(sys.argv[1], "wb").write(b)
PY
"$DRV" "$T/all.ber" >"$T/bad.xml" 2>/dev/null || true
if python3 "$HICHECK" asn1c "$T/bad.xml" "$T/all.json" \
    --liid LIID-V4 "$IN" 'ip.addr==97.89.91.159' >/dev/null 2>&1; then
	fail "a changed octet went unnoticed"
fi
echo "end to end ok"
