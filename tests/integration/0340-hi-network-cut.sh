#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The network fails: relays between POI and MDF and between MDF and LEMF
# reset every connection, twice, mid-stream.  Both sides reconnect and
# resend what was not confirmed; the LEMF removes the exact repeats and
# ends with every target packet once, no gap, integrity verified.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

start_lemf lemf
python3 "$CUTPROXY" --listen-port-file "$T/p2.port" \
    --to "127.0.0.1:$LEMF_PORT" 2>"$T/p2.log" &
P2=$!
PIDS+=("$P2")
wait_for 10 test -s "$T/p2.port" || fail "relay 2 did not start"
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$(cat "$T/p2.port") tls * name=localhost"
python3 "$CUTPROXY" --listen-port-file "$T/p1.port" \
    --to "127.0.0.1:$MDF_PORT" 2>"$T/p1.log" &
P1=$!
PIDS+=("$P1")
wait_for 10 test -s "$T/p1.port" || fail "relay 1 did not start"
POI_PORT=$(cat "$T/p1.port")
run_poi poi
for at in 2000 $((FAULT_CC / 2)); do
	wait_for 60 lemf_has lemf cc "$at" || fail "stalled before $at PDUs"
	kill -USR1 "$P1" "$P2"
	echo "connections cut at $(lemf_count lemf cc) CC PDUs"
done
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
[ "$(cat "$T/p1.port.cuts")" -eq 2 ] && [ "$(cat "$T/p2.port.cuts")" -eq 2 ] ||
    fail "the relays did not cut"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
grep -q "connection lost" "$T/poi.log" || fail "the POI never lost the MDF"
grep -q "connection lost" "$T/mdf.log" || fail "the MDF never lost the LEMF"
fault_check lemf
echo "network cut ok"
