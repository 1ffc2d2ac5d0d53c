#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A POI whose certificate (signed by the right CA) has a common name with
# a newline and terminal escape sequences: the MDF logs the name escaped,
# so no log line begins with the forged text and no raw ESC byte reaches
# the log.  The same name as an MDF certificate at the LEMF.
. "$(dirname "$0")/lib.sh"
gen_certs
d=$PKI
printf '[req]\nprompt = no\ndistinguished_name = dn\nstring_mask = utf8only\nutf8 = yes\n[dn]\nCN = $ENV::EVIL_CN\n' >"$d/evil-cn.cnf"
EVIL_CN=$(printf 'poi\nFORGED clearli-mdf info: admin ok\033[2J\033[31m') \
    openssl req -new -newkey ed25519 -nodes -keyout "$d/forged.key" \
    -out "$d/forged.csr" -config "$d/evil-cn.cnf" >/dev/null 2>&1 ||
    fail "cannot make the certificate request"
openssl x509 -req -in "$d/forged.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/poi.ext" -out "$d/forged.pem" \
    >/dev/null 2>&1 || fail "cannot sign the certificate"
# The same name as an MDF's certificate, for the LEMF.
cp "$d/forged.key" "$d/forged-mdf.key"
openssl x509 -req -in "$d/forged.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/mdf.ext" -out "$d/forged-mdf.pem" \
    >/dev/null 2>&1 || fail "cannot sign the MDF certificate"
openssl x509 -in "$d/forged.pem" -noout -subject -nameopt utf8 |
    grep -q $'\e' || fail "the test certificate has no ESC in its name"

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    "10.9.0.1:61000>192.0.2.7:61001x5@100"
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"
start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
POI_TLS=(--cert "$d/forged.pem" --key "$d/forged.key" --ca "$d/ca.pem")
MDF1_PID=$MDF_PID
run_poi poi
wait "$POI_PID" || fail "clearli-poi failed"
wait_for 20 lemf_has lemf cc 5 || fail "the PDUs did not reach the LEMF"
stop_pid "$MDF1_PID"
no_forgery() {
	if grep -n '^FORGED' "$1"; then
		fail "$1: a forged line"
	fi
	if grep -n $'\e' "$1" | cat -v; then
		fail "$1: raw ESC bytes"
	fi
}
no_forgery "$T/mdf.log"

# The same name presented to the LEMF by an MDF.
MDF_TLS=(--cert "$d/forged-mdf.pem" --key "$d/forged-mdf.key" \
    --ca "$d/ca.pem")
start_mdf mdf2 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
wait_for 20 grep -q "TLS established, peer .*FORGED" "$T/lemf.log" ||
    fail "the LEMF did not log the second MDF"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"

no_forgery "$T/lemf.log"
grep -q 'POI poi%0AFORGED clearli-mdf info: admin ok%1B\[2J%1B\[31m (127\.0\.0\.1:[0-9]*): connected' \
    "$T/mdf.log" || fail "the MDF did not log the POI's name escaped"
grep -q 'FORGED clearli-mdf info: admin ok%1B\[2J%1B\[31m' "$T/lemf.log" ||
    fail "the LEMF did not log the MDF's name escaped"
echo "log injection ok"
