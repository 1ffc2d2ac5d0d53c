#!/bin/sh
# SPDX-License-Identifier: ISC
# The demo: clearli-poi reads real captures (GTP-U tunnelled traffic of a
# mobile subscriber, and a RADIUS accounting message naming a broadband
# user), with one task on each target, and sends X2/X3 over mutually
# authenticated TLS 1.3 to clearli-mdf, which stores every PDU durably and
# delivers ETSI TS 102 232 HI2/HI3, with signed IntegrityCheck PDUs, to
# clearli-lemf.  Then the LEMF's output is shown, and tshark opens the
# intercepted packets.  Certificates and keys are made for this run only,
# in a temporary directory that is removed at the end (KEEP=1 keeps it).
set -eu
B=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PCAPS=$SRC/../shared/pcaps
T=$(mktemp -d /tmp/clearli-demo.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

echo "== test PKI (throwaway CA; one certificate per role; integrity key)"
# docs/PKI.md: each certificate carries its role (poi, mdf, lemf, admf)
# in its extended key usage; a daemon refuses a peer of another role.
openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ca.key" \
    -out "$T/ca.pem" -days 1 -subj "/CN=demo CA" \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
i=0
for n in poi mdf lemf admf; do
	i=$((i + 1))
	openssl req -newkey ed25519 -nodes -keyout "$T/$n.key" \
	    -out "$T/$n.csr" -subj "/CN=$n" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth,2.25.131590801250638971518579131844847102469.%s\n' \
	    "$i" >"$T/ext"
	openssl x509 -req -in "$T/$n.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	    -CAcreateserial -days 1 -extfile "$T/ext" -out "$T/$n.pem" \
	    2>/dev/null
done
openssl genpkey -algorithm ed25519 -out "$T/ic.key" 2>/dev/null
openssl pkey -in "$T/ic.key" -pubout -out "$T/ic.pub" 2>/dev/null
# The daemons refuse a private key others could read.
chmod 600 "$T"/*.key

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

waitfile() { # FILE: wait for it to exist and be non-empty
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "$1 did not appear"; exit 1; }
		sleep 0.05
	done
}

echo "== clearli-lemf: the law-enforcement receiver (TLS 1.3, verifies signatures)"
mkdir -p "$T/lemf"
"$SRC/$B/lemf/clearli-lemf" --listen 127.0.0.1:0 --port-file "$T/lemf.port" \
    --out-dir "$T/lemf" --tls-cert "$T/lemf.pem" --tls-key "$T/lemf.key" \
    --tls-ca "$T/ca.pem" --integrity-key "$T/ic.pub" 2>"$T/lemf.log" &
LEMF_PID=$!
PIDS="$PIDS $LEMF_PID"
waitfile "$T/lemf.port"

echo "== clearli-mdf: durable spool, HI2/HI3 to the LEMF"
"$SRC/$B/mdf/clearli-mdf" --listen 127.0.0.1:0 --port-file "$T/mdf.port" \
    --cert "$T/mdf.pem" --key "$T/mdf.key" --ca "$T/ca.pem" \
    --tasks "$T/tasks" --spool-dir "$T/spool" --operator-id DEMO-OP \
    --country DE --integrity-key "$T/ic.key" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$(cat "$T/lemf.port") tls *" \
    2>"$T/mdf.log" &
MDF_PID=$!
PIDS="$PIDS $MDF_PID"
waitfile "$T/mdf.port"

echo "== clearli-poi"
"$SRC/$B/poi/clearli-poi" --read "$T/in.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$(cat "$T/mdf.port")" --cert "$T/poi.pem" \
    --key "$T/poi.key" --ca "$T/ca.pem" --ipid demo-poi --summary

# The MDF, stopping, signs what is pending and delivers it; then the LEMF.
kill "$MDF_PID"
wait "$MDF_PID" || true
kill "$LEMF_PID"
wait "$LEMF_PID" || true
PIDS=
echo "== MDF log (last lines)"
tail -n 4 "$T/mdf.log"
echo "== LEMF summary"
cat "$T/lemf/summary.json"
echo
echo "== LEMF pdus.jsonl: the IRI, the first CC PDUs, the IntegrityCheck PDUs"
grep '"kind":"iri"' "$T/lemf/pdus.jsonl" | head -2
grep '"kind":"cc"' "$T/lemf/pdus.jsonl" | head -3
grep '"kind":"integrity"' "$T/lemf/pdus.jsonl" | cut -c1-240 | head -2
echo "== the intercepted packets of DEMO-UE-1, as tshark reads the LEMF's pcap"
tshark -r "$T/lemf/cc-DEMO-UE-1.pcap" 2>/dev/null | head -8
echo "($(tshark -r "$T/lemf/cc-DEMO-UE-1.pcap" 2>/dev/null | wc -l) packets for DEMO-UE-1, $(tshark -r "$T/lemf/cc-DEMO-USER-2.pcap" 2>/dev/null | wc -l) for DEMO-USER-2)"
