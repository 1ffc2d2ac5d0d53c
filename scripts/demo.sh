#!/bin/sh
# SPDX-License-Identifier: ISC
# The demo: clearli-poi reads real captures (GTP-U tunnelled traffic of a
# mobile subscriber, and a RADIUS accounting message naming a broadband
# user), with one task on each target, and sends X2/X3 over mutually
# authenticated TLS 1.3 to a local receiver.  Then Wireshark's own 5gli
# dissector (tshark) shows what was intercepted.  Certificates are made for
# this run only, in a temporary directory that is removed at the end.
set -eu
B=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PCAPS=$SRC/../shared/pcaps
T=$(mktemp -d /tmp/clearli-demo.XXXXXX)
SINK_PID=
cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

echo "== test PKI (throwaway CA, MDF and POI certificates)"
for n in ca mdf poi; do
	if [ $n = ca ]; then
		openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ca.key" \
		    -out "$T/ca.pem" -days 1 -subj "/CN=demo CA" 2>/dev/null
		continue
	fi
	openssl req -newkey ed25519 -nodes -keyout "$T/$n.key" \
	    -out "$T/$n.csr" -subj "/CN=$n" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
	openssl x509 -req -in "$T/$n.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	    -CAcreateserial -days 1 -extfile "$T/ext" -out "$T/$n.pem" \
	    2>/dev/null
done

echo "== capture: GTP-U (pcapplusplus__gtp-u.pcap) + RADIUS (arkime__radius.pcap)"
mergecap -a -w "$T/in.pcap" "$PCAPS/gtp/pcapplusplus__gtp-u.pcap" \
    "$PCAPS/radius/arkime__radius.pcap"
start=$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
cat >"$T/tasks" <<TASKS
# the mobile subscriber behind 202.11.40.158 (inside the GTP-U tunnel)
task 6f1d7c1e-0b5a-4c47-9d2e-6a7b8c9d0e01 liid=DEMO-UE-1 deliver=cc start=$start end=$end target=ip:202.11.40.158
# the broadband user xxxxxxxxx, whichever address RADIUS gives them
task 6f1d7c1e-0b5a-4c47-9d2e-6a7b8c9d0e02 liid=DEMO-USER-2 deliver=iri+cc start=$start end=$end target=user:xxxxxxxxx
TASKS
cat "$T/tasks"

echo "== X2/X3 receiver on 127.0.0.1 (TLS 1.3, client certificates required)"
"$SRC/$B/tests/tools/x2x3sink" --listen 127.0.0.1:0 --port-file "$T/port" \
    --out "$T/x2x3.bin" --cert "$T/mdf.pem" --key "$T/mdf.key" \
    --ca "$T/ca.pem" >"$T/sink.out" 2>"$T/sink.log" &
SINK_PID=$!
i=0
while [ ! -s "$T/port" ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "receiver did not start"; exit 1; }
	sleep 0.05
done
PORT=$(cat "$T/port")

echo "== clearli-poi"
"$SRC/$B/poi/clearli-poi" --read "$T/in.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$PORT" --cert "$T/poi.pem" --key "$T/poi.key" \
    --ca "$T/ca.pem" --ipid demo-poi --summary
kill "$SINK_PID"
wait "$SINK_PID" || true
SINK_PID=
echo "receiver: $(cat "$T/sink.out")"

echo "== what was intercepted, as tshark's 5gli dissector decodes it"
python3 "$SRC/tests/tools/stream2pcap.py" --x2x3 --sport 40000 \
    --dport "$PORT" "$T/x2x3.bin" "$T/x2x3.pcap"
printf 'type\tXID\t\t\t\t\tseq\tformat\tsrc\t\tdst\t\tpayload\n'
tshark -r "$T/x2x3.pcap" -d "tcp.port==$PORT,5gli" -Y li5g.type \
    -o ip.defragment:FALSE -T fields -E occurrence=f \
    -e li5g.type -e li5g.xid -e li5g.sq -e li5g.pf -e li5g.srcip \
    -e li5g.dstip -e frame.protocols 2>/dev/null |
    sed 's/^1\t/X2\t/; s/^2\t/X3\t/; s/eth:ethertype:ip:tcp:5gli://' \
    >"$T/decoded"
head -6 "$T/decoded"
echo "..."
grep '^X2' "$T/decoded"
echo "($(grep -c '^X3' "$T/decoded") X3 and $(grep -c '^X2' "$T/decoded") X2 PDUs decoded by tshark)"
