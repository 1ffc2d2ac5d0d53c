#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The POI is killed in the middle of a capture file and started again on
# the same file: it sends everything again from the start, and the MDF
# recognises what it already stored (same POI, task, sequence number and
# capture time) and drops it.  The LEMF ends with every target packet
# exactly once.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
run_poi poi1
wait_for 60 lemf_has lemf cc 2000 || fail "nothing reached the LEMF"
kill -KILL "$POI_PID"
wait "$POI_PID" 2>/dev/null || true
before=$(lemf_count lemf cc)
echo "POI killed after $before CC PDUs reached the LEMF"
[ "$before" -lt "$FAULT_CC" ] || fail "the POI had finished already"
run_poi poi2
wait "$POI_PID" || fail "clearli-poi failed after its restart"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
stop_pid "$MDF_PID"
grep -q "duplicates=[1-9]" "$T/mdf.log" ||
    fail "the MDF saw no repeats from the restarted POI"
stop_pid "$LEMF_PID"
fault_check lemf
echo "POI restart ok"
