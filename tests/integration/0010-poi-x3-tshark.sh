#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The POI reads real captures with address targets and sends X3 over TLS
# to the test receiver; tshark's 5gli dissector decodes the stream, and
# every X3 payload must be, in order and byte for byte, a target packet of
# the input capture (and every target packet must be there).
. "$(dirname "$0")/lib.sh"
gen_certs

n=0
check() { # CAPTURE TARGET FILTER
	local cap=$PCAPS/$1 target=$2 filter=$3
	local xid
	n=$((n + 1))
	xid=$(printf '00000000-0000-4000-8000-%012d' "$n")
	task "$xid" "LIID-$n" cc "$target" >"$T/tasks.$n"
	start_sink "s$n" --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" \
	    --ca "$PKI/ca.pem"
	"$POI" --read "$cap" --tasks "$T/tasks.$n" \
	    --mdf "127.0.0.1:$SINK_PORT" "${POI_TLS[@]}" --ipid test-poi \
	    >"$T/poi$n.out" 2>"$T/poi$n.log" ||
	    fail "$1: clearli-poi failed"
	stop_sink
	to_pcap "s$n" "$SINK_PORT"
	python3 "$CL_SRC/tests/integration/x2x3check.py" --input "$cap" \
	    --output "$T/s$n.pcap" --port "$SINK_PORT" --task "$xid" "$filter" ||
	    fail "$1: X3 stream does not match the capture"
}

# Ethernet, many flows of one host
check ip/libtrace__100_packets.pcap ip:97.89.91.159 'ip.addr==97.89.91.159'
# VLAN and MPLS mixed
check encap/zeek__mixed-vlan-mpls.pcap ip:10.0.0.15 'ip.addr==10.0.0.15'
# PPPoE inside QinQ
check encap/zeek__pppoe-over-qinq.pcap ip:2.2.2.2/32 'ip.addr==2.2.2.2'
# IPv4 fragments: every fragment, also those without ports
check frag/zeek__fragmented-1.pcap ip:164.1.123.61 'ip.addr==164.1.123.61'
check frag/zeek__fragmented-3.pcap ip:0.0.0.0/0 'ip'
# GTP-U: the inner packet is matched and copied
check gtp/pcapplusplus__gtp-u.pcap ip:202.11.40.158 'ip.addr==202.11.40.158'
# IPv6 prefix target
check ip/arkime__v6.pcap ip:3ffe:507::/32 'ipv6.addr==3ffe:507::/32'
# IPv6 fragments
check frag/pcapplusplus__ip6_fragments.pcap ip:fe80::/10 'ipv6.src==fe80::/10'
# Linux cooked capture v2, BSD loopback, pcapng with several interfaces
check ip/packetnet__LinuxCookedCapturev2.pcap ip:192.168.178.1 'ip.addr==192.168.178.1'
check ip/packetnet__linktype_null_capture.pcap ip:::1 'ipv6.addr==::1'
check pcapng/zeek__pcapng-multi-interface.pcapng ip:1.1.1.1 'ip.addr==1.1.1.1'
echo "$n captures checked"
