#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# --max-flows reached: the MDF tracks 2 communications, the capture has 3
# (one per LIID).  The PDUs of the third are not stored, and that is not
# silent: an ALARM in the log, clearli_mdf_refused_total counts exactly
# the packets the LEMF did not get, and the two communications tracked
# are delivered whole.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 3000

start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" --max-flows 2 --metrics 127.0.0.1:0 \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
MPORT=$(metrics_port "$T/mdf.log")
metric() { metric_at "$MPORT" "clearli_mdf_$1"; }

run_poi poi
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"
wait_for 20 grep -q "ALARM 2 communications tracked, 100% of --max-flows 2" \
    "$T/mdf.log" || fail "no max-flows alarm"
[ "$(metric flows)" = 2 ] || fail "flows gauge: $(metric flows)"
[ "$(metric flows_max)" = 2 ] || fail "flows_max gauge: $(metric flows_max)"
refused=$(metric refused_total)
[ "${refused:-0}" -gt 0 ] || fail "refused_total: '$refused'"
wait_for 30 lemf_has lemf cc $((FAULT_CC - refused)) ||
    fail "LEMF has $(lemf_count lemf cc) CC PDUs, expected $((FAULT_CC - refused))"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
[ "$(lemf_count lemf cc)" -eq $((FAULT_CC - refused)) ] ||
    fail "LEMF has $(lemf_count lemf cc) CC PDUs, expected $((FAULT_CC - refused))"
# Exactly one LIID is missing, and the other two are whole.
n=0
for l in A:10.9.0.1 B:10.9.0.2 C:10.9.0.3; do
	if [ -e "$T/lemf/cc-LIID-${l%%:*}.pcap" ]; then
		args+=(--liid "LIID-${l%%:*}" "$T/in.pcap" "ip.addr==${l##*:}")
		n=$((n + 1))
	fi
done
[ "$n" = 2 ] || fail "$n LIIDs delivered, expected 2"
python3 "$HICHECK" lemf "$T/lemf" "${args[@]}" || fail "LEMF output"
echo "max-flows ok: $refused PDUs refused and counted"
