#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Two destinations, each with its own LIIDs: lea1 receives LIID-A and
# LIID-B, lea2 only LIID-C.  In the middle of the stream lea2 stops
# reading (SIGSTOP of its processes: its connection stays up, its socket
# fills).  The POI
# must still finish (the MDF stores and acknowledges everything) and lea1
# must still get all of its PDUs while lea2 is frozen.  Once lea2 reads
# again it gets its backlog in order, with no gap.  Neither LEMF receives
# a PDU of the other's LIIDs.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000
CC_A=$((30000 * 4 / 10))
CC_B=$((30000 * 3 / 10))
CC_C=$((30000 * 2 / 10))

start_lemf lea1
P1=$LEMF_PORT
L1=$LEMF_PID
start_lemf lea2
P2=$LEMF_PORT
L2=$LEMF_PID
start_mdf mdf 0 --tasks "$T/tasks" --integrity-interval 1 --ack-timeout 300 \
    --destination "lea1 127.0.0.1:$P1 tls LIID-A,LIID-B name=localhost" \
    --destination "lea2 127.0.0.1:$P2 tls LIID-C name=localhost"
run_poi poi
wait_for 60 lemf_has lea2 cc 300 || fail "nothing reached lea2"
# The LEMF is a parent and its roles (clearli-lemf(8)): all of them.
L2_ALL="$L2 $(cat /proc/"$L2"/task/*/children)"
kill -STOP $L2_ALL
echo "lea2 frozen with $(lemf_count lea2 cc) CC PDUs written"

# The POI ends once the MDF has stored and acknowledged all of it.
wait "$POI_PID" || fail "clearli-poi failed while lea2 was frozen"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 60 lemf_has lea1 cc $((CC_A + CC_B)) ||
    fail "lea1 has $(lemf_count lea1 cc) of $((CC_A + CC_B)) CC PDUs while lea2 is frozen"
n2=$(lemf_count lea2 cc)
[ "$n2" -lt "$CC_C" ] || fail "lea2 had all its PDUs before it was frozen"
echo "lea1 complete while lea2 frozen at $n2 of $CC_C"

kill -CONT $L2_ALL
wait_for 60 lemf_has lea2 cc "$CC_C" ||
    fail "lea2 has $(lemf_count lea2 cc) of $CC_C after it reads again"
stop_pid "$MDF_PID"
stop_pid "$L1"
stop_pid "$L2"

python3 "$HICHECK" lemf "$T/lea1" --total-cc $((CC_A + CC_B)) \
    --liid LIID-A "$T/in.pcap" 'ip.addr==10.9.0.1' \
    --liid LIID-B "$T/in.pcap" 'ip.addr==10.9.0.2' ||
    fail "lea1's output"
python3 "$HICHECK" lemf "$T/lea2" --total-cc "$CC_C" \
    --liid LIID-C "$T/in.pcap" 'ip.addr==10.9.0.3' ||
    fail "lea2's output"
! grep -q '"liid":"LIID-C"' "$T/lea1/pdus.jsonl" ||
    fail "lea1 received LIID-C"
! grep -q '"liid":"LIID-[AB]"' "$T/lea2/pdus.jsonl" ||
    fail "lea2 received LIID-A or LIID-B"
[ ! -e "$T/lea1/cc-LIID-C.pcap" ] && [ ! -e "$T/lea2/cc-LIID-A.pcap" ] ||
    fail "a pcap file for a LIID the destination does not get"
echo "two LEMFs ok"
