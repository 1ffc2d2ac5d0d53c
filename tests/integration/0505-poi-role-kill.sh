#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A role of the POI is killed with SIGKILL in the middle of a capture
# file, first the output role, then (on a restarted POI) the match role:
# the POI names the role and how it ended, says that what was in its
# rings is lost, and exits non-zero (not by a signal).  Started again on
# the same file, it sends everything again and the MDF drops what it
# already has (as after a POI kill, 0330): the LEMF ends with every
# target packet exactly once.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"

role_pid() {
	local p
	for p in $(cat /proc/"$POI_PID"/task/*/children); do
		if [ "$(cat "/proc/$p/comm")" = "$1" ]; then
			echo "$p"
		fi
	done
}

# kill_role NAME RUN AT: run_poi RUN, kill its role NAME once the LEMF
# has AT CC PDUs, check how the POI ends.
kill_role() {
	local name=$1 run=$2 at=$3 pid st=0
	run_poi "$run"
	wait_for 60 lemf_has lemf cc "$at" || fail "nothing reached the LEMF"
	pid=$(role_pid "$name")
	[ -n "$pid" ] || fail "no $name role"
	kill -KILL "$pid"
	wait "$POI_PID" || st=$?
	echo "$name role killed after $(lemf_count lemf cc) CC PDUs; POI exit status $st"
	[ "$st" -ne 0 ] || fail "the POI exited with status 0 after losing its $name role"
	[ "$st" -lt 128 ] || fail "the POI died of a signal ($st) instead of exiting"
	grep -q "$name role (pid $pid) died: signal 9" "$T/$run.log" ||
	    fail "the POI did not name the dead $name role"
	grep -q "the $name role is gone: .* lost" "$T/$run.log" ||
	    fail "the POI did not say what is lost"
	[ "$(lemf_count lemf cc)" -lt "$FAULT_CC" ] ||
	    fail "the POI had finished already"
}

kill_role output poi1 2000
kill_role match poi2 4000
run_poi poi3
wait "$POI_PID" || fail "clearli-poi failed after its restart"
grep -q "dropped 0" "$T/poi3.out" || fail "the POI dropped PDUs"
wait_for 60 lemf_has lemf cc "$FAULT_CC" ||
    fail "LEMF has $(lemf_count lemf cc) of $FAULT_CC"
stop_pid "$MDF_PID"
grep -q "duplicates=[1-9]" "$T/mdf.log" ||
    fail "the MDF saw no repeats from the restarted POI"
stop_pid "$LEMF_PID"
fault_check lemf
echo "POI role kill ok"
