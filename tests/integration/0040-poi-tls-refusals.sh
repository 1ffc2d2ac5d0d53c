#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The X2/X3 link is authenticated both ways, and clear text is an explicit,
# loud choice: the POI refuses to start without TLS material, refuses an
# MDF whose certificate its CA did not sign, and an MDF refuses a POI
# certificate from another CA.  No PDU reaches the receiver in those cases.
. "$(dirname "$0")/lib.sh"
gen_certs
XID=55555555-5555-4555-8555-555555555555
task $XID LIID-TLS cc ip:97.89.91.159 >"$T/tasks"
CAP=$PCAPS/ip/libtrace__100_packets.pcap

# 1. No TLS material and no --insecure-plaintext: refused at start.
if "$POI" --read "$CAP" --tasks "$T/tasks" --mdf 127.0.0.1:9 \
    >"$T/notls.out" 2>"$T/notls.log"; then
	fail "started without TLS material"
fi
grep -q -- "--insecure-plaintext" "$T/notls.log" ||
    fail "the refusal does not say how to choose clear text"

# 2. The MDF presents a certificate from a CA the POI does not trust.
start_sink wrongmdf --cert "$PKI/evil-mdf.pem" --key "$PKI/evil-mdf.key" \
    --ca "$PKI/ca.pem"
if "$POI" --read "$CAP" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    "${POI_TLS[@]}" --flush-timeout 2 >"$T/p2.out" 2>"$T/p2.log"; then
	fail "delivered to an MDF with an untrusted certificate"
fi
stop_sink
grep -q "certificate" "$T/p2.log" || fail "no certificate error logged"
[ ! -s "$T/wrongmdf.bin" ] || fail "PDUs reached the untrusted MDF"

# 3. The POI presents a certificate the MDF's CA did not sign.
start_sink wrongpoi --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" \
    --ca "$PKI/ca.pem"
if "$POI" --read "$CAP" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    --cert "$PKI/evil.pem" --key "$PKI/evil.key" --ca "$PKI/ca.pem" \
    --flush-timeout 2 >"$T/p3.out" 2>"$T/p3.log"; then
	fail "delivered with a POI certificate the MDF does not trust"
fi
stop_sink
[ ! -s "$T/wrongpoi.bin" ] || fail "PDUs accepted from an unknown POI"

# 4. The name in the MDF certificate must match: it names 127.0.0.1 and
# localhost, not mdf.example.
start_sink wrongname --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" \
    --ca "$PKI/ca.pem"
if "$POI" --read "$CAP" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    --mdf-name mdf.example "${POI_TLS[@]}" --flush-timeout 2 \
    >"$T/p4.out" 2>"$T/p4.log"; then
	fail "accepted an MDF certificate for another name"
fi
stop_sink
[ ! -s "$T/wrongname.bin" ] || fail "PDUs sent to a misnamed MDF"

# 5. Clear text only when asked, and then with a warning.
start_sink plain --plain
"$POI" --read "$CAP" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    --insecure-plaintext >"$T/p5.out" 2>"$T/p5.log" ||
    fail "plain-text run failed"
stop_sink
grep -q "WITHOUT TLS" "$T/p5.log" || fail "no warning for clear text"
read -r _ pdus _ <"$T/plain.out"
[ "$pdus" -eq 52 ] || fail "plain-text receiver has $pdus PDUs, want 52"
# --insecure-plaintext is not accepted from a config file.
printf 'insecure-plaintext = yes\n' >"$T/bad.conf"
if "$POI" -c "$T/bad.conf" --read "$CAP" --tasks "$T/tasks" \
    --mdf 127.0.0.1:9 >"$T/p6.out" 2>"$T/p6.log"; then
	fail "insecure-plaintext accepted from a config file"
fi
grep -q "unknown option" "$T/p6.log" || fail "config refusal not explained"
echo "refusals ok"
