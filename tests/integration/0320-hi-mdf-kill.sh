#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The MDF is killed with SIGKILL in the middle of a stream and restarted
# on the same spool: what it had acknowledged to the POI is in the spool,
# what it had not the POI sends again (the MDF drops what it already
# stored), numbering continues, and the LEMF receives the rest.  At the
# end the LEMF has every target packet once and no gap.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

start_lemf lemf
DEST="lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "$DEST"
PORT=$MDF_PORT
run_poi poi
wait_for 60 lemf_has lemf cc 2000 || fail "nothing reached the LEMF"
kill -KILL "$MDF_PID"
wait "$MDF_PID" 2>/dev/null || true
echo "MDF killed after $(lemf_count lemf cc) CC PDUs reached the LEMF"
start_mdf mdf "$PORT" --tasks "$T/tasks" --integrity-interval 1 \
    --destination "$DEST"
grep -q "state rebuilt: [1-9][0-9]* records" "$T/mdf.log" ||
    fail "the restarted MDF found nothing in its spool"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
grep -q "connection lost" "$T/poi.log" || fail "the POI never lost the MDF"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
fault_check lemf
echo "MDF kill ok"
