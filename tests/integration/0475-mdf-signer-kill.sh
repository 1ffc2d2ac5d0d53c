#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The MDF's signer is killed with SIGKILL in the middle of a stream: the
# MDF names the role and how it ended in its log and exits non-zero (no
# loop without a signer); restarted on the same spool, it starts a new
# signer and delivers the rest.  As after an MDF kill (0320), the LEMF
# has every target packet once and no gap, and every IntegrityCheck it
# receives verifies.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

start_lemf lemf
DEST="lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "$DEST"
PORT=$MDF_PORT
SIGNER=$(role_pid "$MDF_PID" signer)
[ -n "$SIGNER" ] && [ -d "/proc/$SIGNER" ] || fail "no signer process"
run_poi poi
wait_for 60 lemf_has lemf cc 2000 || fail "nothing reached the LEMF"
kill -KILL "$SIGNER"
st=0
wait "$MDF_PID" || st=$?
echo "signer killed after $(lemf_count lemf cc) CC PDUs reached the LEMF; MDF exit status $st"
[ "$st" -ne 0 ] || fail "the MDF exited with status 0 after losing its signer"
[ "$st" -lt 128 ] || fail "the MDF died of a signal ($st) instead of exiting"
grep -q "signer role (pid $SIGNER) died: signal 9" "$T/mdf.log" ||
    fail "the MDF did not name the dead signer"
grep -q "no IntegrityCheck signer: exiting" "$T/mdf.log" ||
    fail "the MDF did not say why it exits"
start_mdf mdf "$PORT" --tasks "$T/tasks" --integrity-interval 1 \
    --destination "$DEST"
grep -q "state rebuilt: [1-9][0-9]* records" "$T/mdf.log" ||
    fail "the restarted MDF found nothing in its spool"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
fault_check lemf
ok=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["integrity_ok"], s.get("integrity_failed", 0))' \
    "$T/lemf/summary.json")
set -- $ok
[ "$1" -ge 2 ] || fail "only $1 IntegrityCheck PDUs verified"
[ "$2" = 0 ] || fail "$2 IntegrityCheck PDUs failed"
grep -q "integrity FAILED" "$T/lemf.log" && fail "the LEMF refused an IntegrityCheck"
echo "signer kill ok"
