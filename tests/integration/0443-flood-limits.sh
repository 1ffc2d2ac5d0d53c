#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The same flood against small limits (--max-startups 20:50:60,
# --per-source-max-startups 2): most connections are refused at once, by
# the total and at random (and per source), and said so in one summary line
# per interval, not one per connection; the POI keeps retrying while its
# attempts are refused and every PDU arrives.  With limits this small the
# flood can hold every slot, so the POI may get in only once it ends
# (OpenSSH's MaxStartups has the same property); that a POI gets in while
# a flood holds under the default limits is 0440's check.
. "$(dirname "$0")/lib.sh"
FLOOD=$CL_SRC/tests/tools/flood.py
gen_certs
fault_setup 2000
LIMITS=(--max-startups 20:50:60 --per-source-max-startups 2
    --handshake-timeout 2)
start_lemf lemf 0 "${LIMITS[@]}"
start_mdf mdf 0 --tasks "$T/tasks" "${LIMITS[@]}" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
python3 "$FLOOD" --target "127.0.0.1:$MDF_PORT" \
    --target "127.0.0.1:$LEMF_PORT" --idle 1000 --slow 200 \
    --duration 25 --max-connects 400000 --ready "$T/flood.ready" \
    >"$T/flood.out" 2>"$T/flood.err" &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")
wait_for 60 test -s "$T/flood.ready" || fail "the flood did not start"
refusals() { grep -q "$1: refused [0-9]* connections from [0-9]* sources" "$2"; }
wait_for 30 refusals "POI port" "$T/mdf.log" || fail "MDF: no refusal summary"
wait_for 30 refusals "MDF port" "$T/lemf.log" || fail "LEMF: no refusal summary"
run_poi poi
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait "$FLOOD_PID" || fail "the flooder failed"
echo "flood: $(cat "$T/flood.out")"
wait_for 120 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
fault_check lemf
grep -h "port: refused" "$T/mdf.log" "$T/lemf.log" | head -n 2
for log in "$T/mdf.log" "$T/lemf.log"; do
	grep -Eq "[1-9][0-9]* past the limit of 60 unauthenticated, [0-9]+ past 2 per source, [1-9][0-9]* at random from 20 on" "$log" ||
	    fail "$log: no refusals past the limit and at random"
	n=$(grep -cE "port:|left out|TLS handshake failed|refus" "$log" || true)
	echo "$log: $n lines about the flood"
	[ "$n" -lt 50 ] || fail "$log: $n lines about the flood"
done
echo "flood limits ok"
