#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Denial of service without authenticating: 1,000 idle TCP connections and
# 200 slow ones (a TLS ClientHello, one byte every 150 ms) against both
# the MDF's X2/X3 port and the LEMF's HI port, from 127.0.0.2..254, held
# (reopened when closed) while a real POI delivers 10,008 PDUs through
# the MDF to the LEMF.  Every PDU arrives, the POI's connect and
# handshake take less than 2 s, the daemons close the connections that do
# not authenticate in time, and their logs hold fewer than 50 lines about
# the flood (summaries, not a line per connection).
. "$(dirname "$0")/lib.sh"
FLOOD=$CL_SRC/tests/tools/flood.py
gen_certs
fault_setup 11120

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
LOG_MDF0=$(wc -l <"$T/mdf.log")
LOG_LEMF0=$(wc -l <"$T/lemf.log")

python3 "$FLOOD" --target "127.0.0.1:$MDF_PORT" \
    --target "127.0.0.1:$LEMF_PORT" --idle 1000 --slow 200 \
    --interval 0.15 --duration 300 --max-connects 200000 \
    --ready "$T/flood.ready" >"$T/flood.out" 2>"$T/flood.err" &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")
wait_for 60 test -s "$T/flood.ready" || fail "the flood did not start"

# The flood as the daemons see it (descriptors open, in the process and
# its roles: the MDF's and the LEMF's fronts hold the connections).
nfds() {
	local p kids
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
	for p in "$1" $kids; do
		find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null
	done | wc -l
}
MDF_FRONT=$(role_pid "$MDF_PID" front)
[ -n "$MDF_FRONT" ] || fail "the MDF has no front process"
# Both daemons must hold 1,000 and more of them (not refuse them, which
# is what locked the POIs out before).
held() { [ "$(nfds "$MDF_FRONT")" -ge 1000 ] && [ "$(nfds "$LEMF_PID")" -ge 1000 ]; }
wait_for 60 held || fail "the flood is not held: MDF $(nfds "$MDF_FRONT")," \
    "LEMF $(nfds "$LEMF_PID") descriptors"
echo "flood held: $(cat "$T/flood.ready") connections;" \
    "MDF $(nfds "$MDF_FRONT"), LEMF $(nfds "$LEMF_PID") descriptors"

# A real POI from 127.0.0.1, while the flood holds.
run_poi poi --pace
wait_for 60 grep -q "connected to MDF" "$T/poi.log" ||
    fail "the POI did not get through to the MDF"
ms=$(sed -n 's/.*connected to MDF.*connect and handshake in \([0-9]*\) ms.*/\1/p' \
    "$T/poi.log" | head -n 1)
[ -n "$ms" ] || fail "the POI did not log its handshake time"
echo "POI connect and handshake: $ms ms"
[ "$ms" -lt 2000 ] || fail "the POI's handshake took $ms ms"
if grep -q "retrying" "$T/poi.log"; then
	fail "the POI had to retry: $(grep -m1 retrying "$T/poi.log")"
fi
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 120 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
kill -0 "$FLOOD_PID" 2>/dev/null || fail "the flood ended before the POI did"
echo "flood at the POI's end: MDF $(nfds "$MDF_PID"), LEMF $(nfds "$LEMF_PID")" \
    "descriptors"
grep -q "TLS established" "$T/lemf.log" || fail "the MDF never reached the LEMF"

# The connections that never authenticate are closed at the deadline,
# and said so in one summary line per interval.
wait_for 60 grep -q "POI port: .* closed for not authenticating" \
    "$T/mdf.log" || fail "the MDF did not close the idle connections"
wait_for 60 grep -q "MDF port: .* closed for not authenticating" \
    "$T/lemf.log" || fail "the LEMF did not close the idle connections"
kill -TERM "$FLOOD_PID"
wait "$FLOOD_PID" || fail "the flooder failed"
echo "flood: $(cat "$T/flood.out")"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
fault_check lemf

# Lines about the flood: everything logged while it ran that is not
# about the POI's own session or the MDF-LEMF link.
flood_lines() { # LOG FROM
	tail -n +"$(($2 + 1))" "$1" | grep -cvE \
	    'POI poi \(127\.0\.0\.1:|127\.0\.0\.1:[0-9]+: TLS established|LEMF lea1|connected to LEMF|127\.0\.0\.1:[0-9]+: connection ended|127\.0\.0\.1:[0-9]+: option|terminating|summary|stored|releas|spool|integrity|shutting|exiting|PDUs sent' ||
	    true
}
n_mdf=$(flood_lines "$T/mdf.log" "$LOG_MDF0")
n_lemf=$(flood_lines "$T/lemf.log" "$LOG_LEMF0")
echo "log lines about the flood: MDF $n_mdf, LEMF $n_lemf"
tail -n +"$((LOG_MDF0 + 1))" "$T/mdf.log" | grep -E 'port:|left out' | head -n 5
[ "$n_mdf" -lt 50 ] || { tail -n 60 "$T/mdf.log"; fail "MDF: $n_mdf lines"; }
[ "$n_lemf" -lt 50 ] || { tail -n 60 "$T/lemf.log"; fail "LEMF: $n_lemf lines"; }
if grep -q $'\e' "$T/mdf.log" "$T/lemf.log"; then
	fail "raw escape bytes in a log"
fi
echo "flood ok"
