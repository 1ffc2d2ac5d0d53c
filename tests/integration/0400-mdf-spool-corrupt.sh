#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# One byte flipped in the middle of the MDF's last spool segment while no
# LEMF had confirmed anything (the POI had its acknowledgements and the
# records after the bad one are intact): bit rot or tampering, not a torn
# write.
#  1. Restarted as usual, the MDF refuses to start, naming the segment
#     file, the offset, the record and how many valid records follow, and
#     leaves the spool as it was.
#  2. Restarted with --spool-recover, it logs each discarded range as an
#     ALARM, counts the loss in clearli_mdf_spool_lost_records_total,
#     keeps every valid record, and numbers the stream that may have lost
#     records past any number they had.  The POI goes on with the same
#     communication.
#     A second MDF on the same spool is refused, saying so.
#  3. The LEMF's view, read by asn1c's decoder from the raw PS-PDUs it
#     accepted: every target packet but the lost one, no repeated number,
#     and a gap exactly where the record was lost and where the numbering
#     skipped; no other gap.
. "$(dirname "$0")/lib.sh"
gen_certs
fault_setup 30000

# A port for the LEMF, which is started only at the end.
start_lemf probe
PORT=$LEMF_PORT
stop_pid "$LEMF_PID"
DEST="lea1 127.0.0.1:$PORT tls * name=localhost"
MDF_OPTS=(--tasks "$T/tasks" --integrity-interval 0 --flush-timeout 0
	--spool-segment 1048576 --destination "$DEST")
SEG3=$T/mdf.spool/seg-0000000000000003.spool

start_mdf mdf 0 "${MDF_OPTS[@]}"
MPORT=$MDF_PORT
run_poi poi
seg3_big() {
	[ "$(stat -c %s "$SEG3" 2>/dev/null || echo 0)" -ge 600000 ]
}
wait_for 60 seg3_big || fail "the spool did not reach three segments"
stop_pid "$MDF_PID"
kill -0 "$POI_PID" || fail "the POI had finished already"

# Flip one payload byte of the record in the middle of the last segment;
# note what the spool held before (for the gaps to expect).
python3 - "$T/mdf.spool" "$T" <<'PY' || fail "cannot corrupt the spool"
import glob, os, sys
sys.path.insert(0, os.environ["CL_SRC"] + "/tests/integration")
from hicheck import segment_records
d, t = sys.argv[1], sys.argv[2]
segs = sorted(glob.glob(d + "/seg-*.spool"))
last = segs[-1]
recs = {s: segment_records(open(s, "rb").read(), s) for s in segs}
lr = recs[last]
size = os.path.getsize(last)
i = min(range(len(lr)), key=lambda j: abs(lr[j]["off"] - size // 2))
bad = lr[i]
if size - bad["off"] < 250000:
    sys.exit("only %d octets after the middle record" % (size - bad["off"]))
b = bytearray(open(last, "rb").read())
b[bad["off"] + bad["len"] - 3] ^= 0x10   # in the packet bytes
open(last, "wb").write(b)
# Expected gaps, by the rule of docs/PROTOCOL.hi: in spool order, where
# records were lost the next number of every stream known so far skips
# as many as were lost; later records keep their numbers.  Every number
# below a stream's next one that no kept record has is a gap the LEMF
# must see (the stream goes on after the restart).
nxt, have = {}, {}
for s in segs:
    for r in recs[s]:
        if r["lost"]:
            continue
        if r is bad:
            for k in nxt:
                nxt[k] += 1
            continue
        k = (r["liid"], r["cin"], r["kind"])
        nxt[k] = max(nxt.get(k, 0), r["hiseq"] + 1)
        have.setdefault(k, set()).add(r["hiseq"])
with open(t + "/gaps", "w") as g:
    for k in sorted(nxt):
        n = 0
        while n < nxt[k]:
            if n in have[k]:
                n += 1
                continue
            m = n
            while m < nxt[k] and m not in have[k]:
                m += 1
            g.write("%s %d %s %d %d\n" % (k + (n, m - n)))
            n = m
with open(t + "/bad", "w") as f:
    f.write("%s %d %d %d %s\n" % (os.path.basename(last), bad["off"],
            bad["seq"], len(lr) - i - 1, bad["kind"]))
PY
read -r BADSEG BADOFF BADSEQ AFTER _ <"$T/bad"
echo "flipped a byte of spool record $BADSEQ at $BADSEG offset $BADOFF" \
    "($AFTER records after it); expected gaps:"
cat "$T/gaps"
[ "$AFTER" -gt 0 ] || fail "no record after the flipped one"
sum_before=$(sha256sum <"$T/mdf.spool/$BADSEG")

# 1. A plain restart refuses, precisely, and changes nothing.  (An MDF
# that starts instead is stopped after 10 s: a wait, not a sleep.)
rc=0
timeout 10 "$MDF" --listen "127.0.0.1:$MPORT" "${MDF_TLS[@]}" \
    --spool-dir "$T/mdf.spool" --operator-id OP-TEST --country DE \
    --network-element-id mdf-1 --integrity-key "$PKI/ic.key" \
    "${MDF_OPTS[@]}" >"$T/refused.log" 2>&1 || rc=$?
cat "$T/refused.log"
[ "$rc" = 1 ] || fail "the MDF started on a corrupt spool (status $rc)"
want="$T/mdf.spool/$BADSEG offset $BADOFF: record $BADSEQ is bad and"
want="$want $AFTER CRC-valid records follow it"
grep -qF "$want" "$T/refused.log" ||
    fail "no precise refusal (wanted: $want)"
grep -q "never acknowledged\|torn tail" "$T/refused.log" &&
    fail "the refusal calls corruption a torn tail"
[ "$(sha256sum <"$T/mdf.spool/$BADSEG")" = "$sum_before" ] ||
    fail "the refused start changed the segment"

# 2. The operator's decision: recover.
start_mdf mdf "$MPORT" "${MDF_OPTS[@]}" --spool-recover \
    --metrics 127.0.0.1:0
grep "ALARM" "$T/mdf.log"
grep -q "ALARM spool .*discarded octets $BADOFF\.\.[0-9]* of $T/mdf.spool/$BADSEG .*: 1 records lost" \
    "$T/mdf.log" || fail "no ALARM naming the discarded range"
grep -q "ALARM spool .*1 acknowledged records lost" "$T/mdf.log" ||
    fail "no ALARM with the loss"
lost=$(metric_at "$(metrics_port "$T/mdf.log")" \
    clearli_mdf_spool_lost_records_total)
[ "$lost" = 1 ] || fail "clearli_mdf_spool_lost_records_total is '$lost'"
# A second MDF on the same spool says who holds it.
rc=0
timeout 10 "$MDF" --listen 127.0.0.1:0 "${MDF_TLS[@]}" \
    --spool-dir "$T/mdf.spool" --operator-id OP-TEST --tasks "$T/tasks" \
    >"$T/second.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a second MDF on the same spool: status $rc"
grep -qF "another process holds the lock on $T/mdf.spool/lock" \
    "$T/second.log" || fail "the second MDF does not say the spool is held"
wait "$POI_PID" || fail "clearli-poi failed"
grep -q "dropped 0" "$T/poi.out" || fail "the POI dropped PDUs"

# 3. The LEMF gets the rest; its view through asn1c.
start_lemf lemf "$PORT"
WANT=$((FAULT_CC - 1))
wait_for 60 lemf_has lemf cc "$WANT" ||
    fail "LEMF has $(lemf_count lemf cc) of $WANT"
stop_pid "$MDF_PID"
stop_pid "$LEMF_PID"
lemf_asn1c lemf --total-cc "$WANT" --gaps "$T/gaps" \
    --liid LIID-B "$T/in.pcap" 'ip.addr==10.9.0.2' \
    --liid LIID-C "$T/in.pcap" 'ip.addr==10.9.0.3'
# The check can fail: without the declared gaps it reports them.
if python3 "$HICHECK" asn1c "$T/lemf.asn1c.xml" "$T/lemf.decode.json" \
    >"$T/nogaps.out" 2>&1; then
	fail "the asn1c check does not see the gap"
fi
grep -q "(a gap)" "$T/nogaps.out" || fail "the asn1c check: $(cat "$T/nogaps.out")"
# clearli-lemf itself reported as many gaps.
ngaps=$(grep -c . "$T/gaps")
got=$(grep -c '"event":"gap"' "$T/lemf/pdus.jsonl" || true)
[ "$got" = "$ngaps" ] || fail "clearli-lemf logged $got gaps, $ngaps expected"
echo "corrupt spool ok"
