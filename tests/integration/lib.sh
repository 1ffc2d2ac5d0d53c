# SPDX-License-Identifier: ISC
# Shared helpers for the integration tests: a temporary directory, test
# certificates made at run time, the X2/X3 test receiver, and waiting for
# conditions (never fixed sleeps).  Source it from a test script.
set -euo pipefail

: "${CL_BUILD:?CL_BUILD (the build directory) must be set}"
: "${CL_SRC:?CL_SRC (the source directory) must be set}"
: "${CL_SHARED:=$CL_SRC/../shared}"
PCAPS=$CL_SHARED/pcaps
POI=$CL_BUILD/poi/clearli-poi
SINK=$CL_BUILD/tests/tools/x2x3sink
STREAM2PCAP=$CL_SRC/tests/tools/stream2pcap.py
T=$(mktemp -d "${TMPDIR:-/tmp}/clearli-test.XXXXXX")
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

# wait_for SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local limit=$1 i=0
	shift
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt $((limit * 20)) ] || return 1
		sleep 0.05
	done
}

# Test PKI: a CA, a server certificate for 127.0.0.1 and a client one.
gen_certs() {
	local d=$T/pki
	mkdir -p "$d"
	openssl req -x509 -newkey ed25519 -nodes -keyout "$d/ca.key" \
	    -out "$d/ca.pem" -days 2 -subj "/CN=clearli test CA" \
	    >/dev/null 2>&1
	for n in mdf poi; do
		openssl req -newkey ed25519 -nodes -keyout "$d/$n.key" \
		    -out "$d/$n.csr" -subj "/CN=$n" >/dev/null 2>&1
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/$n.ext"
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		    -extfile "$d/$n.ext" -out "$d/$n.pem" >/dev/null 2>&1
	done
	# A second CA, to show that a stranger's certificate is refused.
	openssl req -x509 -newkey ed25519 -nodes -keyout "$d/evil-ca.key" \
	    -out "$d/evil-ca.pem" -days 2 -subj "/CN=other CA" >/dev/null 2>&1
	openssl req -newkey ed25519 -nodes -keyout "$d/evil.key" \
	    -out "$d/evil.csr" -subj "/CN=evil" >/dev/null 2>&1
	openssl x509 -req -in "$d/evil.csr" -CA "$d/evil-ca.pem" \
	    -CAkey "$d/evil-ca.key" -CAcreateserial -days 2 \
	    -extfile "$d/poi.ext" -out "$d/evil.pem" >/dev/null 2>&1
	PKI=$d
	POI_TLS=(--cert "$d/poi.pem" --key "$d/poi.key" --ca "$d/ca.pem")
}

# start_sink NAME [sink options]: starts the receiver, sets SINK_PORT and
# SINK_PID; its accepted PDUs go to $T/NAME.bin, its log to $T/NAME.log.
start_sink() {
	local name=$1
	shift
	rm -f "$T/$name.port"
	"$SINK" --listen 127.0.0.1:0 --port-file "$T/$name.port" \
	    --out "$T/$name.bin" "$@" >"$T/$name.out" 2>"$T/$name.log" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	wait_for 10 test -s "$T/$name.port" || fail "sink $name did not start"
	SINK_PORT=$(cat "$T/$name.port")
}

stop_sink() {
	kill -TERM "$SINK_PID"
	wait "$SINK_PID" || fail "sink exited with an error"
}

# Task lines valid from a year ago to a year from now on this clock.
WIN_START=$(date -u -d '-1 year' +%Y-%m-%dT%H:%M:%SZ)
WIN_END=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
task() {
	local xid=$1 liid=$2 deliver=$3
	shift 3
	printf 'task %s liid=%s deliver=%s start=%s end=%s' "$xid" "$liid" \
	    "$deliver" "$WIN_START" "$WIN_END"
	for t in "$@"; do
		printf ' target=%s' "$t"
	done
	printf '\n'
}

# to_pcap NAME PORT: the receiver's PDU stream as a TCP capture for tshark.
to_pcap() {
	python3 "$STREAM2PCAP" --x2x3 --sport 40000 --dport "$2" \
	    "$T/$1.bin" "$T/$1.pcap"
}
