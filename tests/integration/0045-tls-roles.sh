#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Certificate roles and revocation (docs/PKI.md).  One CA signs every
# certificate, as in the demo; the role in each certificate decides what
# it may be:
#  - the MDF refuses a LEMF's and an MDF's certificate from a POI;
#  - the LEMF refuses a POI's certificate from an MDF;
#  - the POI refuses an MDF that presents a POI's certificate, and the MDF
#    a LEMF that does; neither sends it anything;
#  - the MDF refuses a POI certificate its CRL lists, and accepts it once
#    the CRL file is replaced by one that does not (no restart);
# each refusal with a log line that names the roles or the revocation;
# and POI -> MDF -> LEMF, each with the right certificate, delivers.
. "$(dirname "$0")/lib.sh"
gen_certs
gen_cert poi2 poi

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    "10.9.0.1:61000>192.0.2.7:61001x5@100"
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

# client NAME PORT: a TLS client presenting $PKI/NAME.pem (openssl's own,
# so that any certificate can be presented).
client() {
	timeout 10 openssl s_client -connect "127.0.0.1:$2" \
	    -cert "$PKI/$1.pem" -key "$PKI/$1.key" -CAfile "$PKI/ca.pem" \
	    </dev/null >"$T/client-$1.out" 2>&1 || true
}

# expect LOG PATTERN WHAT: waits for the line.
expect() {
	wait_for 10 grep -qE "$2" "$T/$1.log" || fail "$3"
	grep -E "$2" "$T/$1.log" | head -n 1
}

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"

# 1. A LEMF's and the MDF's own certificate, presented as a POI's.
client lemf "$MDF_PORT"
expect mdf "refused POI connection from 127\.0\.0\.1:[0-9]+: certificate /CN=lemf holds role lemf, this listener requires poi" \
    "the MDF did not refuse a LEMF's certificate as a POI"
client mdf "$MDF_PORT"
expect mdf "refused POI connection from 127\.0\.0\.1:[0-9]+: certificate /CN=mdf holds role mdf, this listener requires poi" \
    "the MDF did not refuse the MDF's certificate as a POI"

# 2. A POI's certificate presented to the LEMF as the MDF's.
client poi "$LEMF_PORT"
expect lemf "refused MDF connection from 127\.0\.0\.1:[0-9]+: certificate /CN=poi holds role poi, this listener requires mdf" \
    "the LEMF did not refuse a POI's certificate as an MDF"

# 3. An "MDF" presenting a POI's certificate: the POI sends it nothing.
start_sink fakemdf --cert "$PKI/poi2.pem" --key "$PKI/poi2.key" \
    --ca "$PKI/ca.pem" --role poi
if "$POI" --read "$T/in.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$SINK_PORT" "${POI_TLS[@]}" --flush-timeout 2 \
    >"$T/poi-fake.out" 2>"$T/poi-fake.log"; then
	fail "the POI delivered to an MDF holding a POI's certificate"
fi
stop_sink
expect poi-fake "MDF 127\.0\.0\.1:$SINK_PORT: refused: certificate /CN=poi2 holds role poi, expected mdf" \
    "the POI did not name the role of the fake MDF"
[ ! -s "$T/fakemdf.bin" ] || fail "PDUs reached an MDF holding a POI's certificate"

# 4. Each with its own certificate, POI -> MDF -> LEMF delivers.
run_poi poi --flush-timeout 30
wait "$POI_PID" || fail "clearli-poi failed"
wait_for 20 lemf_has lemf cc 5 || fail "the PDUs did not reach the LEMF"
grep -q "POI poi (127\.0\.0\.1:[0-9]*): connected" "$T/mdf.log" ||
    fail "the MDF did not log the POI by its name"
grep -q "TLS established, peer mdf " "$T/lemf.log" ||
    fail "the LEMF did not log the MDF by its name"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"

# The MDF sends nothing to a "LEMF" presenting a POI's certificate.
start_sink fakelemf --cert "$PKI/poi.pem" --key "$PKI/poi.key" \
    --ca "$PKI/ca.pem" --role poi
start_mdf mdf-fake 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$SINK_PORT tls * name=localhost"
expect mdf-fake "LEMF lea1 \(127\.0\.0\.1:$SINK_PORT\): refused: certificate /CN=poi holds role poi, expected lemf" \
    "the MDF did not refuse a LEMF holding a POI's certificate"
stop_pid "$MDF_PID"
stop_sink

# 5. A revoked POI certificate: refused while the CRL lists it, accepted
# once the file is replaced by a list without it, with no restart.
gen_crl "$PKI/crl.pem" poi2
start_lemf lemf2
start_mdf mdf2 0 --tasks "$T/tasks" --crl "$PKI/crl.pem" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
POI2_TLS=(--cert "$PKI/poi2.pem" --key "$PKI/poi2.key" --ca "$PKI/ca.pem")
if "$POI" --read "$T/in.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$MDF_PORT" "${POI2_TLS[@]}" --flush-timeout 2 \
    >"$T/poi-revoked.out" 2>"$T/poi-revoked.log"; then
	fail "the MDF took the PDUs of a revoked POI certificate"
fi
expect mdf2 "refused POI connection from 127\.0\.0\.1:[0-9]+: certificate /CN=poi2 \(serial [0-9A-F]+\) is revoked \(CRL .*/crl\.pem\)" \
    "the MDF did not refuse the revoked certificate"
# The POI hears why from the MDF's alert.
grep -q "certificate revoked" "$T/poi-revoked.log" ||
    fail "the POI did not log the revocation"
if grep -q "POI poi2 " "$T/mdf2.log"; then
	fail "the revoked POI got a slot"
fi
[ "$(lemf_count lemf2 cc)" -eq 0 ] ||
    fail "PDUs of a revoked POI reached the LEMF"

gen_crl "$PKI/crl.pem"
"$POI" --read "$T/in.pcap" --tasks "$T/tasks" \
    --mdf "127.0.0.1:$MDF_PORT" "${POI2_TLS[@]}" --flush-timeout 30 \
    >"$T/poi-unrevoked.out" 2>"$T/poi-unrevoked.log" ||
    fail "the POI was not accepted after the CRL was replaced"
expect mdf2 "CRL .*/crl\.pem: read again: 1 lists, 0 revoked certificates" \
    "the MDF did not read the new CRL"
expect mdf2 "POI poi2 \(127\.0\.0\.1:[0-9]+\): connected" \
    "the MDF did not accept the POI after the CRL was replaced"
wait_for 20 lemf_has lemf2 cc 5 ||
    fail "the PDUs of the no longer revoked POI did not reach the LEMF"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
echo "roles ok"
