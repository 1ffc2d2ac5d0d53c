#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The MDF's front role (X2/X3 listener, TLS, the POIs' connections) is
# killed with SIGKILL in the middle of a stream: the MDF names the role
# and how it ended in its log and exits non-zero (no loop without a
# front); restarted on the same spool, it starts a new front, the POI
# reconnects and sends again what was not acknowledged.  As after an MDF
# kill (0320), the LEMF has every target packet once and no gap.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000


start_lemf lemf
DEST="lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "$DEST"
PORT=$MDF_PORT
FRONT=$(role_pid "$MDF_PID" front)
[ -n "$FRONT" ] && [ -d "/proc/$FRONT" ] || fail "no front process"
run_poi poi
wait_for 60 lemf_has lemf cc 2000 || fail "nothing reached the LEMF"
kill -KILL "$FRONT"
st=0
wait "$MDF_PID" || st=$?
echo "front killed after $(lemf_count lemf cc) CC PDUs reached the LEMF; MDF exit status $st"
[ "$st" -ne 0 ] || fail "the MDF exited with status 0 after losing its front"
[ "$st" -lt 128 ] || fail "the MDF died of a signal ($st) instead of exiting"
grep -q "front role (pid $FRONT) died: signal 9" "$T/mdf.log" ||
    fail "the MDF did not name the dead front"
grep -q "no X2/X3 front: exiting" "$T/mdf.log" ||
    fail "the MDF did not say why it exits"
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
echo "front kill ok"
