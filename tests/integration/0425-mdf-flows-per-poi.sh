#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# One POI cannot take the communications the others need.  --max-flows 4
# gives each POI a share of 2 by default.  POI "poi" brings 3
# communications: it is stopped at its share (ALARM naming it, not read,
# not acknowledged, its PDUs kept).  POI "poi2", connected meanwhile, brings
# 2 new communications: every one of its packets is stored and delivered.
# Then, with a higher limit after a restart, the first POI's PDUs arrive
# too, every one exactly once.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 3000

# A second POI certificate (CN poi2) from the same CA.
gen_cert poi2 poi
# Its capture: two targets, one communication each.
python3 "$CL_SRC/tests/tools/mkpcap.py" --gap-us 100 "$T/in2.pcap" \
    1700000100 \
    "10.9.1.1:62000>192.0.2.9:62001x300@120" \
    "192.0.2.9:62001>10.9.1.2:62000x200@200"
{
	task 44444444-4444-4444-8444-444444444444 LIID-D cc ip:10.9.1.1
	task 55555555-5555-4555-8555-555555555555 LIID-E cc ip:10.9.1.2
} >"$T/tasks2"
cat "$T/tasks" "$T/tasks2" >"$T/tasks-mdf"

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks-mdf" --max-flows 4 --metrics 127.0.0.1:0 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
MPORT=$(metrics_port "$T/mdf.log")
metric() { metric_at "$MPORT" "clearli_mdf_$1"; }
# liid_has LIID N: the LEMF has written N CC PDUs of LIID.
liid_has() {
	[ "$(grep -c "\"kind\":\"cc\",\"liid\":\"$1\"" "$T/lemf/pdus.jsonl")" = "$2" ]
}

run_poi poi
wait_for 20 grep -q "ALARM POI poi (.*): a new communication would pass its share" \
    "$T/mdf.log" || fail "no ALARM naming the first POI"

"$POI" --read "$T/in2.pcap" --tasks "$T/tasks2" --mdf "127.0.0.1:$MDF_PORT" \
    --cert "$PKI/poi2.pem" --key "$PKI/poi2.key" --ca "$PKI/ca.pem" \
    --flush-timeout 60 --summary >"$T/poi2.out" 2>"$T/poi2.log" ||
    fail "the second POI did not get everything acknowledged"
grep -q "dropped 0" "$T/poi2.out" || fail "the second POI dropped PDUs"
wait_for 30 liid_has LIID-D 300 || fail "LIID-D incomplete at the LEMF"
wait_for 30 liid_has LIID-E 200 || fail "LIID-E incomplete at the LEMF"
grep -q "ALARM POI poi2" "$T/mdf.log" && fail "the second POI was stopped"
kill -0 "$POI_PID" 2>/dev/null || fail "the first POI finished: its PDUs were acknowledged"
[ "$(metric flows)" = 4 ] || fail "flows: $(metric flows)"
[ "$(metric flows_per_poi_max)" = 2 ] ||
    fail "flows_per_poi_max: $(metric flows_per_poi_max)"

# The first POI's rest after a restart with a higher share.
stop_pid "$MDF_PID"
start_mdf mdf "$MDF_PORT" --tasks "$T/tasks-mdf" --max-flows 6 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the first POI dropped PDUs"
wait_for 30 lemf_has lemf cc $((FAULT_CC + 500)) ||
    fail "LEMF has $(lemf_count lemf cc) CC PDUs, expected $((FAULT_CC + 500))"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
python3 "$HICHECK" lemf "$T/lemf" --total-cc $((FAULT_CC + 500)) \
    --liid LIID-A "$T/in.pcap" 'ip.addr==10.9.0.1' \
    --liid LIID-B "$T/in.pcap" 'ip.addr==10.9.0.2' \
    --liid LIID-C "$T/in.pcap" 'ip.addr==10.9.0.3' \
    --liid LIID-D "$T/in2.pcap" 'ip.addr==10.9.1.1' \
    --liid LIID-E "$T/in2.pcap" 'ip.addr==10.9.1.2' || fail "LEMF output"
lemf_asn1c lemf --total-cc $((FAULT_CC + 500)) \
    --liid LIID-A "$T/in.pcap" 'ip.addr==10.9.0.1' \
    --liid LIID-B "$T/in.pcap" 'ip.addr==10.9.0.2' \
    --liid LIID-C "$T/in.pcap" 'ip.addr==10.9.0.3' \
    --liid LIID-D "$T/in2.pcap" 'ip.addr==10.9.1.1' \
    --liid LIID-E "$T/in2.pcap" 'ip.addr==10.9.1.2'
echo "flows per POI ok"
