#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A role of the LEMF killed during a delivery: first the writer, then
# (another run) the front gets SIGKILL.  The LEMF names the role in its
# log and exits non-zero; started again, it gets the rest from the MDF,
# and its records have every target packet once, no gap in any sequence
# (hicheck.py and the asn1c decoder).  A killed writer acknowledged
# nothing it had not synced; a killed front lost only what was not
# acknowledged, which the MDF sends again.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 20000

role() {
	local p
	for p in $(cat /proc/"$LEMF_PID"/task/*/children); do
		if [ "$(cat "/proc/$p/comm")" = "$1" ]; then
			echo "$p"
		fi
	done
}

for victim in writer front; do
	name=lemf-$victim
	start_lemf "$name"
	PORT=$LEMF_PORT
	start_mdf "mdf-$victim" 0 --tasks "$T/tasks" --integrity-interval 1 \
	    --destination "lea1 127.0.0.1:$PORT tls LIID-A,LIID-B,LIID-C name=localhost"
	run_poi "poi-$victim"
	wait_for 60 lemf_has "$name" cc 2000 || fail "nothing reached the LEMF"
	pid=$(role "$victim")
	[ -n "$pid" ] || fail "no $victim role"
	kill -KILL "$pid"
	if wait "$LEMF_PID"; then
		fail "the LEMF exited with status 0 after its $victim was killed"
	fi
	grep -q "$victim role (pid $pid) died: signal 9" "$T/$name.log" ||
	    fail "the LEMF's log does not name the $victim"
	grep -q "the $victim role ended: clearli-lemf stops" "$T/$name.log" ||
	    fail "the LEMF's log does not say it stops"
	before=$(lemf_count "$name" cc)
	echo "$victim killed after $before CC PDUs"
	wait "$POI_PID" || fail "clearli-poi failed"
	[ "$before" -lt "$FAULT_CC" ] || fail "the LEMF had everything already"

	start_lemf "$name" "$PORT"
	wait_for 60 lemf_has "$name" cc "$FAULT_CC" ||
	    fail "LEMF has $(lemf_count "$name" cc) of $FAULT_CC after its restart"
	stop_pid "$MDF_PID"
	stop_pid "$LEMF_PID"
	fault_check "$name"
	echo "ok: $victim killed, nothing lost, nothing twice"
done
echo PASS
