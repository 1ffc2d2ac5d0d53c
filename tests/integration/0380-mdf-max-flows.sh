#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# --max-flows reached: the MDF tracks 2 communications, the capture has 3
# (one per LIID).  The first PDU of the third is neither stored nor
# acknowledged: the MDF stops reading from that POI with an ALARM naming
# it, and the POI keeps that PDU and everything after it.  Restarted with
# a higher limit, the MDF gets them all again: the LEMF then holds every
# target packet exactly once, with no gap - nothing acknowledged was lost.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 3000

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --max-flows 2 --max-flows-per-poi 2 \
    --metrics 127.0.0.1:0 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
MPORT=$(metrics_port "$T/mdf.log")
metric() { metric_at "$MPORT" "clearli_mdf_$1"; }

run_poi poi
wait_for 20 grep -q "ALARM POI poi (.*): a new communication would pass its share of --max-flows (2 per POI, 2 in all): not reading" \
    "$T/mdf.log" || fail "no ALARM naming the POI"
wait_for 20 grep -q "ALARM 2 communications tracked, 100% of --max-flows 2" \
    "$T/mdf.log" || fail "no max-flows alarm"
[ "$(metric flows)" = 2 ] || fail "flows gauge: $(metric flows)"
[ "$(metric flows_max)" = 2 ] || fail "flows_max gauge: $(metric flows_max)"
pois_limited() { [ "$(metric pois_limited)" = 1 ]; }
wait_for 20 pois_limited || fail "pois_limited: $(metric pois_limited)"
refused=$(metric refused_total)
[ "${refused:-0}" -gt 0 ] || fail "refused_total: '$refused'"
kill -0 "$POI_PID" 2>/dev/null || fail "the POI finished: its PDUs were acknowledged"
n1=$(lemf_count lemf cc)
[ "$n1" -lt "$FAULT_CC" ] || fail "the LEMF has all $n1 CC PDUs already"

# A higher limit and a restart: the POI resends what was never
# acknowledged and finishes.
stop_pid "$MDF_PID"
start_mdf mdf "$MDF_PORT" --tasks "$T/tasks" --max-flows 3 \
    --max-flows-per-poi 3 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 30 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) CC PDUs, expected $FAULT_CC"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
fault_check lemf
echo "max-flows ok: $refused refusals, $n1 CC PDUs before the restart, all $FAULT_CC after"
