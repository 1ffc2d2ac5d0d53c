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

# Test PKI (docs/PKI.md): one CA, and one certificate per role (poi, mdf,
# lemf, admf) with the role in its extended key usage, each naming
# 127.0.0.1 and localhost; plus certificates of another CA (evil: a POI,
# evil-mdf: an MDF) to show that a stranger is refused.
CL_ROLE_ARC=2.25.131590801250638971518579131844847102469
gen_certs() {
	local d=$T/pki n
	mkdir -p "$d"
	openssl req -x509 -newkey ed25519 -nodes -keyout "$d/ca.key" \
	    -out "$d/ca.pem" -days 2 -subj "/CN=clearli test CA" \
	    -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 ||
	    fail "cannot make the test CA"
	PKI=$d
	for n in mdf poi lemf admf; do
		gen_cert "$n" "$n"
	done
	# A second CA, to show that a stranger's certificate is refused.
	openssl req -x509 -newkey ed25519 -nodes -keyout "$d/evil-ca.key" \
	    -out "$d/evil-ca.pem" -days 2 -subj "/CN=other CA" >/dev/null 2>&1
	gen_cert evil poi /CN=evil evil-ca
	gen_cert evil-mdf mdf /CN=evil-mdf evil-ca
	POI_TLS=(--cert "$d/poi.pem" --key "$d/poi.key" --ca "$d/ca.pem")
	MDF_TLS=(--cert "$d/mdf.pem" --key "$d/mdf.key" --ca "$d/ca.pem")
	LEMF_TLS=(--tls-cert "$d/lemf.pem" --tls-key "$d/lemf.key"
	    --tls-ca "$d/ca.pem")
	# The key that signs IntegrityCheck PDUs, and its public half.
	openssl genpkey -algorithm ed25519 -out "$d/ic.key" 2>/dev/null
	openssl pkey -in "$d/ic.key" -pubout -out "$d/ic.pub" 2>/dev/null
	# The daemons refuse a private key others could read.
	chmod 600 "$d"/*.key
}

# gen_cert NAME ROLE [SUBJECT [CA]]: $PKI/NAME.key and NAME.pem, a
# certificate of ROLE (poi, mdf, lemf, admf; "none": no clearli role;
# "poi,mdf": both) signed by CA (default ca), subject default /CN=NAME.
gen_cert() {
	local name=$1 role=$2 subj=${3:-/CN=$1} ca=${4:-ca} eku=serverAuth,clientAuth r
	local i
	for r in ${role//,/ }; do
		case $r in
		poi) i=1 ;; mdf) i=2 ;; lemf) i=3 ;; admf) i=4 ;; none) continue ;;
		*) fail "gen_cert: no role $r" ;;
		esac
		eku=$eku,$CL_ROLE_ARC.$i
	done
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' \
	    "$eku" >"$PKI/$name.ext"
	openssl req -newkey ed25519 -nodes -keyout "$PKI/$name.key" \
	    -out "$PKI/$name.csr" -subj "$subj" >/dev/null 2>&1 ||
	    fail "gen_cert $name: request"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.pem" \
	    -CAkey "$PKI/$ca.key" -CAcreateserial -days 2 \
	    -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" >/dev/null 2>&1 ||
	    fail "gen_cert $name: signing"
	chmod 600 "$PKI/$name.key"
}

# gen_crl FILE [NAME...]: a revocation list signed by the test CA that
# lists the certificates $PKI/NAME.pem (none: an empty list), valid for
# two days.  Written to FILE.tmp and renamed, as an operator would.
gen_crl() {
	local out=$1 db n
	shift
	db=$(mktemp -d "$PKI/crl.XXXXXX")
	: >"$db/index.txt"
	echo 01 >"$db/crlnumber"
	printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s/index.txt\ncrlnumber = %s/crlnumber\ndefault_md = default\ndefault_crl_days = 2\n' \
	    "$db" "$db" >"$db/ca.cnf"
	for n in "$@"; do
		openssl ca -config "$db/ca.cnf" -keyfile "$PKI/ca.key" \
		    -cert "$PKI/ca.pem" -revoke "$PKI/$n.pem" >/dev/null 2>&1 ||
		    fail "gen_crl: cannot revoke $n"
	done
	openssl ca -config "$db/ca.cnf" -keyfile "$PKI/ca.key" \
	    -cert "$PKI/ca.pem" -gencrl -out "$out.tmp" >/dev/null 2>&1 ||
	    fail "gen_crl: cannot sign the list"
	mv "$out.tmp" "$out"
	rm -rf "$db"
}

MDF=$CL_BUILD/mdf/clearli-mdf
LEMF=$CL_BUILD/lemf/clearli-lemf
HICHECK=$CL_SRC/tests/integration/hicheck.py
CUTPROXY=$CL_SRC/tests/tools/cutproxy.py

# start_lemf NAME [PORT] [options]: starts clearli-lemf writing to
# $T/NAME (on PORT, or a port chosen at run time); sets LEMF_PORT and
# LEMF_PID.  Its log is $T/NAME.log.
start_lemf() {
	local name=$1 port=${2:-0}
	shift 2 || shift $#
	rm -f "$T/$name.port"
	mkdir -p -m 0750 "$T/$name"
	"$LEMF" --listen "127.0.0.1:$port" --port-file "$T/$name.port" \
	    --out-dir "$T/$name" --raw "${LEMF_TLS[@]}" \
	    --integrity-key "$PKI/ic.pub" "$@" >>"$T/$name.log" 2>&1 &
	LEMF_PID=$!
	PIDS+=("$LEMF_PID")
	wait_for 10 test -s "$T/$name.port" || fail "LEMF $name did not start"
	LEMF_PORT=$(cat "$T/$name.port")
}

# lemf_count NAME KIND: PDUs of KIND (cc, iri) the LEMF has written.
lemf_count() {
	grep -c "\"kind\":\"$2\"" "$T/$1/pdus.jsonl" 2>/dev/null || true
}

# lemf_has NAME KIND N: true once the LEMF has at least N PDUs of KIND.
lemf_has() {
	[ "$(lemf_count "$1" "$2")" -ge "$3" ]
}

# stop_pid PID: SIGTERM and wait; fails on a non-zero exit.
stop_pid() {
	kill -TERM "$1"
	wait "$1" || fail "process $1 exited with status $?"
}

# start_mdf NAME PORT [options]: clearli-mdf with its spool in
# $T/NAME.spool, listening on PORT (0: chosen at run time); sets MDF_PORT
# and MDF_PID; log in $T/NAME.log.
start_mdf() {
	local name=$1 port=$2
	shift 2
	rm -f "$T/$name.port"
	"$MDF" --listen "127.0.0.1:$port" --port-file "$T/$name.port" \
	    "${MDF_TLS[@]}" --spool-dir "$T/$name.spool" --operator-id OP-TEST \
	    --country DE --network-element-id mdf-1 \
	    --integrity-key "$PKI/ic.key" "$@" >>"$T/$name.log" 2>&1 &
	MDF_PID=$!
	PIDS+=("$MDF_PID")
	wait_for 10 test -s "$T/$name.port" || fail "MDF $name did not start"
	MDF_PORT=$(cat "$T/$name.port")
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

# fault_setup N: a capture of about N packets, 100 us apart, for three
# address targets and a bystander ($T/in.pcap), the task file ($T/tasks),
# and FAULT_CC, the number of target packets.  For the fault tests
# (03x0), which replay it with --pace so that the faults hit mid-stream.
fault_setup() {
	local n=$1
	python3 "$CL_SRC/tests/tools/mkpcap.py" --gap-us 100 "$T/in.pcap" \
	    1700000000 \
	    "10.9.0.1:61000>192.0.2.7:61001x$((n * 4 / 10))@120" \
	    "192.0.2.7:61001>10.9.0.2:61000x$((n * 3 / 10))@300" \
	    "10.9.0.3:61000>192.0.2.8:53x$((n * 2 / 10))@80" \
	    "10.9.0.4:61000>192.0.2.7:61001x$((n / 10))@100"
	{
		task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1
		task 22222222-2222-4222-8222-222222222222 LIID-B cc ip:10.9.0.2
		task 33333333-3333-4333-8333-333333333333 LIID-C cc ip:10.9.0.3
	} >"$T/tasks"
	FAULT_CC=$((n * 4 / 10 + n * 3 / 10 + n * 2 / 10))
}

# asn1c_driver: prints the path of the PS-PDU decoder that asn1c
# generates from the ETSI modules (tests/tools/asn1c-check), built once
# per build tree into $CL_BUILD/asn1c-check (under a lock, so that tests
# running at once build it once) and rebuilt when its sources change.
asn1c_driver() {
	local d=$CL_BUILD/asn1c-check src=$CL_SRC/tests/tools/asn1c-check
	(
		flock 9
		if [ ! -x "$d/driver" ] ||
		    [ -n "$(find "$src" -newer "$d/driver" -type f)" ]; then
			rm -rf "$d.new"
			"$src/build.sh" "$CL_SHARED" "$d.new" >&2 || exit 1
			rm -rf "$d"
			mv "$d.new" "$d"
		fi
	) 9>"$CL_BUILD/asn1c-check.lock" || fail "cannot build the asn1c decoder"
	echo "$d/driver"
}

# lemf_asn1c NAME [hicheck asn1c options]: the LEMF's view through the
# independent decoder: the raw PS-PDUs it accepted ($T/NAME/pdus.ber,
# --raw) decoded by asn1c's decoder and by clearli-lemf --decode, which
# must agree PDU by PDU; sequence numbers checked from asn1c's output.
lemf_asn1c() {
	local name=$1 drv
	shift
	drv=$(asn1c_driver) || exit 1
	[ -s "$T/$name/pdus.ber" ] || fail "the LEMF kept no $name/pdus.ber"
	"$drv" "$T/$name/pdus.ber" >"$T/$name.asn1c.xml" ||
	    fail "asn1c cannot decode $name/pdus.ber"
	"$LEMF" --decode "$T/$name/pdus.ber" >"$T/$name.decode.json" ||
	    fail "clearli-lemf --decode $name/pdus.ber"
	python3 "$HICHECK" asn1c "$T/$name.asn1c.xml" "$T/$name.decode.json" \
	    "$@" || fail "the LEMF's view through asn1c"
}

# fault_check NAME: the LEMF's output in $T/NAME has every target packet
# exactly once, in order, with no gap in any sequence: in its own
# pdus.jsonl and pcap files, and in the raw PS-PDUs it accepted as
# asn1c's decoder reads them.
fault_check() {
	python3 "$HICHECK" lemf "$T/$1" --total-cc "$FAULT_CC" \
	    --liid LIID-A "$T/in.pcap" 'ip.addr==10.9.0.1' \
	    --liid LIID-B "$T/in.pcap" 'ip.addr==10.9.0.2' \
	    --liid LIID-C "$T/in.pcap" 'ip.addr==10.9.0.3' ||
	    fail "LEMF output after the fault"
	lemf_asn1c "$1" --total-cc "$FAULT_CC" \
	    --liid LIID-A "$T/in.pcap" 'ip.addr==10.9.0.1' \
	    --liid LIID-B "$T/in.pcap" 'ip.addr==10.9.0.2' \
	    --liid LIID-C "$T/in.pcap" 'ip.addr==10.9.0.3'
}

# role_pid PID NAME: the child process of PID called NAME (a role's
# process name: "front", "signer"), or nothing.
role_pid() {
	local c
	for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && echo "$c"
	done
	true
}

# run_poi NAME [options]: clearli-poi on $T/in.pcap to the MDF at
# $MDF_PORT (or POI_PORT if set), in the background; sets POI_PID.
run_poi() {
	local name=$1
	shift
	"$POI" --read "$T/in.pcap" --tasks "$T/tasks" \
	    --mdf "127.0.0.1:${POI_PORT:-$MDF_PORT}" "${POI_TLS[@]}" \
	    --flush-timeout 120 --pace --summary "$@" >"$T/$name.out" \
	    2>"$T/$name.log" &
	POI_PID=$!
	PIDS+=("$POI_PID")
}

# metrics_port LOG: the metrics port a daemon logged ("metrics on ...
# (port N)"); fails the test if there is none.
metrics_port() {
	local p
	p=$(sed -n 's/.*metrics on .* (port \([0-9]*\)).*/\1/p' "$1")
	[ -n "$p" ] || fail "no metrics port in $1"
	echo "$p"
}

# metric_at PORT NAME: the value of the metric NAME served on PORT (fails
# if the endpoint does not answer within 10 s, rather than hanging).
metric_at() {
	python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1],
                                timeout=10):
    l = l.decode()
    if l.startswith(sys.argv[2] + " "):
        print(l.split()[1])' "$1" "$2"
}
