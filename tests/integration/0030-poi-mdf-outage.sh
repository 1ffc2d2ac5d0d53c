#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Nothing is lost while the MDF is away: the POI holds PDUs in memory,
# spills to its spool file when memory is full, reconnects with backoff,
# and resends what the receiver has not confirmed after a cut connection.
# The receiver must end up with every PDU exactly once, in sequence.
. "$(dirname "$0")/lib.sh"
gen_certs

XID=44444444-4444-4444-8444-444444444444
task $XID LIID-OUT cc ip:10.9.0.1 >"$T/tasks"
# 9000 target packets: about 10 MB of X3, over the 4 MiB memory limit.
python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x6000@1000' \
    '192.0.2.7:61001>10.9.0.1:61000x3000@1000' \
    '10.9.0.2:61000>192.0.2.7:61001x500@1000'

# Reserve a port: start the receiver once to learn a free port, stop it,
# and point the POI there while nothing listens.
start_sink probe --plain
PORT=$SINK_PORT
stop_sink

"$POI" --read "$T/in.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$PORT" \
    "${POI_TLS[@]}" --mem-max 4194304 --spool "$T/spool" \
    --spool-max 16777216 --flush-timeout 60 --summary \
    >"$T/poi.out" 2>"$T/poi.log" &
POI_PID=$!
PIDS+=("$POI_PID")
# The POI must be failing to connect, and spilling to its spool.
wait_for 20 grep -q "retrying" "$T/poi.log" || fail "no reconnect attempts"
wait_for 20 test -s "$T/spool" || fail "nothing spilled to the spool file"

# The receiver comes up on that port, but cuts every connection after
# 1500 PDUs: the POI must reconnect and resend what was not confirmed.
"$SINK" --listen "127.0.0.1:$PORT" --port-file "$T/real.port" \
    --out "$T/real.bin" --cert "$PKI/mdf.pem" --key "$PKI/mdf.key" \
    --ca "$PKI/ca.pem" --close-after 1500 >"$T/real.out" 2>"$T/real.log" &
SINK_PID=$!
PIDS+=("$SINK_PID")
wait "$POI_PID" || fail "clearli-poi did not deliver everything"
stop_sink
grep -q "connection lost" "$T/poi.log" || fail "the receiver never cut"
read -r _ pdus _ dups _ <"$T/real.out"
[ "$pdus" -eq 9000 ] || fail "receiver has $pdus PDUs, want 9000"
echo "repeats dropped by the receiver: $dups"
to_pcap real "$PORT"
python3 "$CL_SRC/tests/integration/x2x3check.py" --input "$T/in.pcap" \
    --output "$T/real.pcap" --port "$PORT" --pdus 9000 \
    --task $XID 'ip.addr==10.9.0.1' || fail "stream check"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
