#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Identity targets: the POI learns who is behind an address from RADIUS
# and DHCP, sends the triggering message as X2 (as captured) and then the
# subscriber's packets as X3, with one correlation ID per session.
. "$(dirname "$0")/lib.sh"
gen_certs

run() { # NAME CAPTURE TASKFILE
	start_sink "$1" --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" \
	    --ca "$PKI/ca.pem"
	"$POI" --read "$2" --tasks "$3" --mdf "127.0.0.1:$SINK_PORT" \
	    "${POI_TLS[@]}" --ipid test-poi --summary >"$T/$1-poi.out" \
	    2>"$T/$1-poi.log" || fail "$1: clearli-poi failed"
	stop_sink
	to_pcap "$1" "$SINK_PORT"
}

# RADIUS: user xxxxxxxxx gets 10.0.0.3 (Accounting Interim-Update), then
# traffic of 10.0.0.3 and of a bystander follows.
python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/traffic.pcap" 1700000000 \
    '10.0.0.3:61000>192.0.2.7:61001x3' '192.0.2.7:61001>10.0.0.3:61000x2' \
    '10.0.0.4:61000>192.0.2.7:61001x4'
mergecap -a -w "$T/radius+traffic.pcap" "$PCAPS/radius/arkime__radius.pcap" \
    "$T/traffic.pcap"
X1=11111111-1111-4111-8111-111111111111
X2=22222222-2222-4222-8222-222222222222
{
	task $X1 LIID-USER iri+cc user:xxxxxxxxx
	task $X2 LIID-CCONLY cc user:xxxxxxxxx
} >"$T/tasks1"
run r "$T/radius+traffic.pcap" "$T/tasks1"
python3 "$CL_SRC/tests/integration/x2x3check.py" --input \
    "$T/radius+traffic.pcap" --output "$T/r.pcap" --port "$SINK_PORT" \
    --task $X1 'ip.addr==10.0.0.3' --task $X2 'ip.addr==10.0.0.3' \
    --x2 $X1 1 11 --x2 $X2 0 11 --x2frames $X1 'radius.code==4' ||
    fail "RADIUS session X2/X3 check"
# One correlation ID for the whole session, and not zero.
cids=$(tshark -r "$T/r.pcap" -d "tcp.port==$SINK_PORT,5gli" -Y 'li5g.type' \
    -T fields -e li5g.cid 2>/dev/null | sort -u)
[ "$(printf '%s\n' "$cids" | wc -l)" -eq 1 ] ||
    fail "several correlation IDs in one session: $cids"
[ "$cids" != "00:00:00:00:00:00:00:00" ] || fail "correlation ID is zero"

# DHCP: MAC 90:b1:1c:99:49:29 gets 128.2.6.189 (ACK, after a NAK that
# binds nothing).  The DECLINE and RELEASE that follow name no address
# (no option 50, ciaddr 0.0.0.0), so, as for a DHCP server, they release
# nothing: one X2, for the ACK.
X3=33333333-3333-4333-8333-333333333333
task $X3 LIID-MAC iri mac:90:b1:1c:99:49:29 >"$T/tasks2"
run d "$PCAPS/dhcp/zeek__dhcp.pcap" "$T/tasks2"
python3 "$CL_SRC/tests/integration/x2x3check.py" --input \
    "$PCAPS/dhcp/zeek__dhcp.pcap" --output "$T/d.pcap" --port "$SINK_PORT" \
    --task $X3 'frame.number==0' --x2 $X3 1 10 \
    --x2frames $X3 'dhcp.option.dhcp==5' ||
    fail "DHCP session X2 check"
# tshark dissects the X2 payloads as what they are.
tshark -r "$T/d.pcap" -d "tcp.port==$SINK_PORT,5gli" -Y 'li5g.type && dhcp' \
    -T fields -e dhcp.hw.mac_addr 2>/dev/null | grep -qx '90:b1:1c:99:49:29' ||
    fail "X2 payload is not dissected as DHCP"
echo "sessions ok"
