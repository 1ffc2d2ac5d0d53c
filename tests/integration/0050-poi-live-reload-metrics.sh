#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Live capture on the loopback interface (needs root or CAP_NET_RAW, as in
# production): tasks reload on SIGHUP without losing a packet, a bad task
# file is rejected whole while the old tasks stay active, the Prometheus
# endpoint counts what happened, SIGTERM flushes everything to the MDF, and
# once the capture is open the POI holds no capability (and its roles
# are separated as 0500 checks on a file).
. "$(dirname "$0")/lib.sh"
gen_certs
SEND=$CL_SRC/tests/tools/udpsend.py
A=66666666-6666-4666-8666-666666666666
B=77777777-7777-4777-8777-777777777777
task $A LIID-A cc ip:127.0.0.9 >"$T/tasks"

start_sink live --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" --ca "$PKI/ca.pem"
"$POI" --interface lo --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
    "${POI_TLS[@]}" --metrics 127.0.0.1:0 --ipid live-poi \
    >"$T/poi.out" 2>"$T/poi.log" &
POI_PID=$!
PIDS+=("$POI_PID")
wait_for 20 grep -q "connected to MDF" "$T/poi.log" || fail "POI not up"
wait_for 20 grep -q "capturing on lo" "$T/poi.log" || fail "no capture"
MPORT=$(metrics_port "$T/poi.log")
metric() { metric_at "$MPORT" "clearli_poi_$1"; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_ge() { [ "$(metric "$1")" -ge "$2" ]; }

python3 "$SEND" 127.0.0.9 5
wait_for 20 metric_is packets_matched_total 5 || fail "5 packets not matched"
metric_is tasks 1 || fail "tasks gauge"
metric_is mdf_connected 1 || fail "mdf_connected gauge"
# With the capture open the POI holds no capability, root or not (the
# rest of this test reloads, flushes and stops it without any).
grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$POI_PID/status" ||
    fail "the POI keeps capabilities: $(grep CapEff "/proc/$POI_PID/status")"
# Live, the capture role holds the packet socket and no other.
root=
[ "$(id -u)" = 0 ] && root=--root-parent
python3 "$CL_SRC/tests/integration/proccheck.py" "$POI_PID" \
    --roles capture,match,output $root --key "$PKI/poi.key" \
    --sockets capture=unix --sockets match=unix \
    --sockets "output=unix,tcp:$SINK_PORT" ||
    fail "the live POI's processes are not separated"

# A bad task file is rejected whole; task A stays active.
{
	task $A LIID-A cc ip:127.0.0.9
	echo "task $B liid=LIID-B deliver=cc start=$WIN_START end=$WIN_END target=ip:127.0.0.300"
} >"$T/tasks.new"
mv "$T/tasks.new" "$T/tasks"
kill -HUP "$POI_PID"
wait_for 20 grep -q "rejected: line 2" "$T/poi.log" || fail "bad file accepted"
python3 "$SEND" 127.0.0.9 3
wait_for 20 metric_is packets_matched_total 8 || fail "old task not kept"

# Reload while a steady stream to A flows: no packet may be lost.
{
	task $A LIID-A cc ip:127.0.0.9
	task $B LIID-B cc ip:127.0.0.10
} >"$T/tasks.new"
mv "$T/tasks.new" "$T/tasks"
python3 "$SEND" 127.0.0.9 1000 1 &
SENDER=$!
wait_for 20 metric_ge packets_matched_total 100 ||
    fail "stream not flowing"
kill -HUP "$POI_PID"
wait "$SENDER"
wait_for 20 grep -q "loaded 2 tasks" "$T/poi.log" || fail "reload not done"
python3 "$SEND" 127.0.0.10 7
python3 "$SEND" 127.0.0.11 4 # nobody's target
wait_for 20 metric_is pdus_x3_total 1015 || fail "X3 count is $(metric pdus_x3_total)"

kill -TERM "$POI_PID"
wait "$POI_PID" || fail "POI exit status on SIGTERM"
stop_sink
grep -q "shutting down" "$T/poi.log" || fail "no shutdown log"
to_pcap live "$SINK_PORT"
python3 "$CL_SRC/tests/integration/x2x3check.py" --output "$T/live.pcap" \
    --port "$SINK_PORT" --task $A - --task $B - --count $A 1008 \
    --count $B 7 --pdus 1015 || fail "stream check"
