#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A local client that sends its metrics request one byte every 150 ms
# must not hold up the daemon: while such clients drip into both the
# MDF's and the POI's metrics endpoints, the POI connects, is
# acknowledged for everything it sends without a keepalive timeout, the
# endpoints still answer other scrapers, and the slow clients are closed
# at their deadline (and came back, all the time the POI ran).
. "$(dirname "$0")/lib.sh"
DRIP=$CL_SRC/tests/tools/drip.py
gen_certs
python3 "$CL_SRC/tests/tools/mkpcap.py" --gap-us 1000 "$T/in.pcap" \
    1700000000 "10.9.0.1:61000>192.0.2.7:61001x10000@200"
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

start_mdf mdf 0 --tasks "$T/tasks" --metrics 127.0.0.1:0 --keepalive 1
wait_for 10 grep -q "metrics on" "$T/mdf.log" || fail "no MDF metrics"
MPORT=$(metrics_port "$T/mdf.log")
python3 "$DRIP" --port "$MPORT" --duration 60 --status "$T/drip-mdf" &
PIDS+=("$!")
wait_for 10 test -s "$T/drip-mdf" || fail "the slow client did not start"

# The POI (10 s of paced capture) against the MDF, its own endpoint
# dripped into as soon as it is up.
run_poi poi --metrics 127.0.0.1:0
wait_for 10 grep -q "metrics on" "$T/poi.log" || fail "no POI metrics"
PPORT=$(metrics_port "$T/poi.log")
python3 "$DRIP" --port "$PPORT" --duration 60 --status "$T/drip-poi" &
PIDS+=("$!")
wait_for 10 test -s "$T/drip-poi" || fail "the slow client did not start"

# Other scrapers are answered meanwhile (each within 5 s).
scrape() { timeout 5 bash -c "$(declare -f metric_at); metric_at $1 $2"; }
v=$(scrape "$PPORT" clearli_poi_mdf_connected) ||
    fail "the POI's metrics did not answer while a client dripped"
[ "$v" = 1 ] || fail "POI: clearli_poi_mdf_connected is '$v', not 1"
mdf_has_poi() { [ "$(scrape "$MPORT" clearli_mdf_pois)" = 1 ]; }
wait_for 20 mdf_has_poi || fail "the MDF's metrics did not show the POI"

poi_done() { ! kill -0 "$POI_PID" 2>/dev/null; }
wait_for 60 poi_done || fail "the POI has not finished within 60 s"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
ms=$(sed -n 's/.*connected to MDF.*connect and handshake in \([0-9]*\) ms.*/\1/p' \
    "$T/poi.log" | head -n 1)
[ -n "$ms" ] && [ "$ms" -lt 2000 ] || fail "POI handshake: '$ms' ms"
if grep -E "connection lost|retrying|did not confirm" "$T/poi.log"; then
	fail "the POI lost the MDF or waited for its acknowledgements"
fi
grep -q "done: 10000 packets, 10000 intercepted" "$T/poi.log" ||
    fail "the POI did not intercept all 10000 packets"
# The slow clients kept coming back all along, and each was closed at
# its deadline (2 s).
held_ok() { grep -Eq "^closed ([3-9]|[1-9][0-9]+) times, held at most [0-4]\." "$1"; }
held_ok "$T/drip-mdf" || fail "MDF: slow client: $(cat "$T/drip-mdf")"
held_ok "$T/drip-poi" || fail "POI: slow client: $(cat "$T/drip-poi")"
echo "slow clients: MDF $(cat "$T/drip-mdf"), POI $(cat "$T/drip-poi")"
stop_pid "$MDF_PID"
grep -q "iri=0 cc=10000 " "$T/mdf.log" || fail "the MDF did not store 10000 CC"
echo "metrics slow client ok"
