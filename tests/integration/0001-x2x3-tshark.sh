#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
#
# Checks clearli's X2/X3 encoder against an independent decoder, Wireshark's
# 5gli dissector (tshark 4.0).  For a few seeds, x2x3gen writes a stream of
# PDUs (X2 with RADIUS, X3 with IPv4 and IPv6 and all attributes,
# keepalives, keepalive acks) and prints the field values tshark should
# show; stream2pcap.py wraps the stream into a TCP capture with one PDU per
# segment (the 4.0 dissector does not reassemble); every field tshark
# prints must equal what was encoded, and no frame may be malformed, carry
# an expert item of warning level or above, or fail a checksum.  A last
# check makes sure stream2pcap's default segmentation (1400-octet
# segments) carries the stream unchanged.
set -euo pipefail

: "${CL_BUILD:?CL_BUILD must be the build directory}"
: "${CL_SRC:?CL_SRC must be the source directory}"

# tshark is the independent decoder; scripts/deps.sh installs it.
if ! command -v tshark >/dev/null 2>&1; then
	echo "FAIL: tshark is not installed (run scripts/deps.sh)" >&2
	exit 1
fi

gen="$CL_BUILD/tests/tools/x2x3gen"
s2p="$CL_SRC/tests/tools/stream2pcap.py"
port=9999
count=200

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ts() {
	# -o: verify IPv4, TCP and UDP checksums (off by default in 4.0).
	tshark -r "$1" -d "tcp.port==$port,5gli" \
	    -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
	    -o udp.check_checksum:TRUE "${@:2}" 2>"$tmp/tshark.err" || {
		cat "$tmp/tshark.err" >&2
		return 1
	}
}

fail=0
for seed in 1 2 3 20240101; do
	"$gen" -s "$seed" -n "$count" "$tmp/s.bin" >"$tmp/exp.txt"
	python3 "$s2p" --x2x3 --sport 40000 --dport "$port" \
	    "$tmp/s.bin" "$tmp/s.pcap"

	# The header line names the fields; the last two (attrType,
	# attrLen) are lists, the others are taken at their first
	# occurrence because the 4.0 dissector adds each value twice.
	read -r -a names < <(head -n 1 "$tmp/exp.txt" | sed 's/^#//')
	n=${#names[@]}
	if [ "${names[n - 2]}" != li5g.attrType ] ||
	    [ "${names[n - 1]}" != li5g.attrLen ]; then
		echo "unexpected x2x3gen header: ${names[*]}" >&2
		exit 1
	fi
	first=()
	for f in "${names[@]:0:n-2}"; do
		first+=(-e "$f")
	done
	ts "$tmp/s.pcap" -Y 5gli -T fields -E separator=/t -E occurrence=f \
	    "${first[@]}" >"$tmp/a.txt"
	ts "$tmp/s.pcap" -Y 5gli -T fields -E separator=/t -E occurrence=a \
	    -E aggregator=, -e li5g.attrType -e li5g.attrLen >"$tmp/b.txt"
	paste "$tmp/a.txt" "$tmp/b.txt" >"$tmp/got.txt"
	tail -n +2 "$tmp/exp.txt" >"$tmp/want.txt"

	got=$(wc -l <"$tmp/got.txt")
	if [ "$got" -ne "$count" ]; then
		echo "seed $seed: tshark shows $got PDUs, $count encoded" >&2
		fail=1
	fi
	if ! diff -u "$tmp/want.txt" "$tmp/got.txt" >"$tmp/diff.txt"; then
		echo "seed $seed: tshark's fields differ from the encoded ones" >&2
		head -n 40 "$tmp/diff.txt" | cut -c1-400 >&2
		fail=1
	fi

	# 0x00600000 is PI_WARN; checksum status 0 is "Bad".
	ts "$tmp/s.pcap" -Y '_ws.malformed || _ws.expert.severity >= 0x00600000 ||
	    ip.checksum.status == 0 || tcp.checksum.status == 0 ||
	    udp.checksum.status == 0' \
	    -T fields -e frame.number -e _ws.expert.message >"$tmp/bad.txt"
	if [ -s "$tmp/bad.txt" ]; then
		echo "seed $seed: frames flagged by tshark:" >&2
		head -n 20 "$tmp/bad.txt" >&2
		fail=1
	fi
	echo "seed $seed: $count PDUs checked"
done

# Default segmentation: the reassembled TCP stream is the input.
python3 "$s2p" --sport 40001 --dport "$port" "$tmp/s.bin" "$tmp/seg.pcap"
ts "$tmp/seg.pcap" -q -z follow,tcp,raw,0 |
    sed -n '/^Node 1:/,/^====/p' | sed '1d;$d' | tr -d '\n' >"$tmp/follow.hex"
od -An -v -tx1 "$tmp/s.bin" | tr -d ' \n' >"$tmp/in.hex"
if ! cmp -s "$tmp/follow.hex" "$tmp/in.hex"; then
	echo "stream2pcap: reassembled stream differs from its input" >&2
	fail=1
fi
maxseg=$(ts "$tmp/seg.pcap" -T fields -e tcp.len | sort -n | tail -n 1)
if [ "$maxseg" -gt 1400 ]; then
	echo "stream2pcap: a $maxseg-octet segment (max 1400)" >&2
	fail=1
fi

exit "$fail"
