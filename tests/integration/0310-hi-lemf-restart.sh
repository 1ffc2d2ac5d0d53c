#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The LEMF is stopped in the middle of a stream and started again later:
# the MDF keeps the backlog in its spool and, once the LEMF is back,
# delivers it in order before anything new.  The LEMF ends with every
# target packet once, no gap in any sequence, integrity verified.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

start_lemf lemf
PORT=$LEMF_PORT
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$PORT tls LIID-A,LIID-B,LIID-C name=localhost"
run_poi poi
wait_for 60 lemf_has lemf cc 2000 || fail "nothing reached the LEMF"
stop_pid "$LEMF_PID"
before=$(lemf_count lemf cc)
echo "LEMF stopped after $before CC PDUs"
# The POI finishes: the MDF has stored and acknowledged everything.
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
[ "$before" -lt "$FAULT_CC" ] || fail "the LEMF had everything already"
wait_for 20 grep -q "connection lost\|retrying" "$T/mdf.log" ||
    fail "the MDF did not notice the LEMF had gone"

start_lemf lemf "$PORT"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC after its restart"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
fault_check lemf
echo "LEMF restart ok"
