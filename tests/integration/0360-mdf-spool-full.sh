#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The LEMF is away and the MDF's spool fills up: alarms are logged at the
# configured thresholds, the MDF stops reading from the POI instead of
# dropping or overwriting anything (the POI holds its PDUs), and when the
# LEMF comes back the spool drains and everything arrives, once, in order.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

# A port for the LEMF, unused until it starts.
start_lemf probe
PORT=$LEMF_PORT
stop_pid "$LEMF_PID"
start_mdf mdf 0 --tasks "$T/tasks" --spool-segment 1048576 \
    --spool-capacity 4194304 --spool-alarm 50,90 --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$PORT tls * name=localhost"
run_poi poi
wait_for 60 grep -q "spool full" "$T/mdf.log" || fail "the spool never filled"
grep -q "ALARM spool at .* (threshold 50%)" "$T/mdf.log" ||
    fail "no alarm at 50%"
grep -q "ALARM spool at .* (threshold 90%)" "$T/mdf.log" ||
    fail "no alarm at 90%"
kill -0 "$POI_PID" || fail "the POI finished although the MDF was full"
total=$(du -sb "$T/mdf.spool" | cut -f1)
[ "$total" -le $((4194304 + 65536)) ] || fail "spool grew to $total bytes"

start_lemf lemf "$PORT"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
stop_pid "$MDF_PID"
grep -q "spool back to" "$T/mdf.log" || fail "the alarm was not cleared"
stop_pid "$LEMF_PID"
fault_check lemf
echo "spool full ok"
