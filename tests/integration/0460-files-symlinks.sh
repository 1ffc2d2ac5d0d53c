#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Files the daemons write are never written through a planted link, and
# their state and output directories are checked at start:
#
#  1. MDF: a symbolic link as the spool's lock file, as a cursor file, as
#     a segment, as the port file's temporary; a spool directory that is
#     group-writable, that is a symbolic link, or whose parent others may
#     write to: each refused at start with a message naming the path.
#  2. LEMF: pdus.jsonl as a link, a group-writable output directory:
#     refused at start; cc-LIID-A.pcap as a link: the LEMF stops writing
#     (and acknowledging) with a message naming the file.
#  3. POI: the --spool spill file as a link: refused at start.
# In every case the link's target is left as it was.
. "$(dirname "$0")/lib.sh"
gen_certs

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x20'
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

# The file every link points at: an attacker's choice, e.g. /etc/shadow.
printf 'precious\n' >"$T/victim"
cp "$T/victim" "$T/victim.orig"
: >"$T/empty-victim"

intact() {
	cmp -s "$T/victim" "$T/victim.orig" ||
	    fail "$1: the link's target was written to"
	[ ! -s "$T/empty-victim" ] || fail "$1: the empty target was written to"
}

# refused NAME PATTERN CMD...: runs a daemon that must refuse to start:
# it must exit non-zero, without writing its port file ($T/NAME.port),
# with a line matching PATTERN (grep -E, any case) in $T/NAME.log.
refused() {
	local name=$1 pat=$2 pid rc=0
	shift 2
	rm -f "$T/$name.port"
	"$@" >"$T/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for 10 sh -c "! kill -0 $pid || test -s '$T/$name.port'" ||
	    fail "$name: neither started nor exited"
	if [ -s "$T/$name.port" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		fail "$name: started (expected a refusal matching '$pat')"
	fi
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ] || fail "$name: exited 0 (expected a refusal)"
	grep -Eiq -- "$pat" "$T/$name.log" ||
	    fail "$name: no message matching '$pat'"
	echo "ok: $name refused: $(grep -Ei -- "$pat" "$T/$name.log" | head -1)"
}

run_mdf_refused() {
	local name=$1 pat=$2
	shift 2
	refused "$name" "$pat" "$MDF" --listen 127.0.0.1:0 \
	    --port-file "${PORTFILE:-$T/$name.port}" "${MDF_TLS[@]}" \
	    --operator-id OP-TEST --country DE --integrity-key "$PKI/ic.key" \
	    --tasks "$T/tasks" "$@"
}

# ---- 1. MDF ----
# A spool with one segment and a cursor, made by a real MDF.
start_mdf good 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:9 tls * name=localhost"
stop_pid "$MDF_PID"
seg=$(cd "$T/good.spool" && ls seg-*.spool | head -1)
[ -n "$seg" ] && [ -e "$T/good.spool/cur-dest-lea1" ] ||
    fail "no segment or cursor in the spool: $(ls "$T/good.spool")"

for f in lock cur-dest-lea1 "$seg"; do
	d=$T/mdf-$f.spool
	cp -a "$T/good.spool" "$d"
	rm -f "$d/$f"
	ln -s "$T/victim" "$d/$f"
	run_mdf_refused "mdf-$f" "$d.*$f.*symbolic link" --spool-dir "$d" \
	    --destination "lea1 127.0.0.1:9 tls * name=localhost"
	intact "MDF spool $f"
done

cp -a "$T/good.spool" "$T/grp.spool"
chmod 0770 "$T/grp.spool"
run_mdf_refused mdf-grp "$T/grp.spool.*mode 0770.*writable by group" \
    --spool-dir "$T/grp.spool"

ln -s "$T/good.spool" "$T/link.spool"
run_mdf_refused mdf-dirlink "$T/link.spool.*symbolic link" \
    --spool-dir "$T/link.spool"

mkdir -m 0700 "$T/open"
chmod 0777 "$T/open"
run_mdf_refused mdf-parent "parent directory $T/open.*0777" \
    --spool-dir "$T/open/spool"
[ ! -e "$T/open/spool/lock" ] || fail "MDF wrote into an unsafe spool"
chmod 0700 "$T/open"

ln -s "$T/victim" "$T/mdfp.port.tmp"
PORTFILE=$T/mdfp.port run_mdf_refused mdfp "$T/mdfp.port.*symbolic link" \
    --spool-dir "$T/good.spool"
intact "MDF port file"

# ---- 2. LEMF ----
mkdir -m 0750 "$T/lemf-j"
ln -s "$T/empty-victim" "$T/lemf-j/pdus.jsonl"
refused lemf-j "$T/lemf-j/pdus.jsonl.*symbolic link" "$LEMF" \
    --listen 127.0.0.1:0 --port-file "$T/lemf-j.port" \
    --out-dir "$T/lemf-j" "${LEMF_TLS[@]}"
intact "LEMF pdus.jsonl"

mkdir -m 0750 "$T/lemf-g"
chmod 0770 "$T/lemf-g"
refused lemf-g "$T/lemf-g.*mode 0770.*writable by group" "$LEMF" \
    --listen 127.0.0.1:0 --port-file "$T/lemf-g.port" \
    --out-dir "$T/lemf-g" "${LEMF_TLS[@]}"
[ ! -e "$T/lemf-g/pdus.jsonl" ] || fail "LEMF wrote into an unsafe directory"

# A link planted where a pcap file will be created at run time.
mkdir -m 0750 "$T/lemf"
ln -s "$T/victim" "$T/lemf/cc-LIID-A.pcap"
start_lemf lemf
start_mdf mdf 0 --tasks "$T/tasks" \
    --destination "lea1 127.0.0.1:$LEMF_PORT tls * name=localhost"
"$POI" --read "$T/in.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$MDF_PORT" \
    "${POI_TLS[@]}" >"$T/poi.out" 2>"$T/poi.log" || fail "POI failed"
wait_for 20 grep -Eiq "$T/lemf/cc-LIID-A.pcap.*symbolic link" "$T/lemf.log" ||
    fail "the LEMF did not refuse the planted cc-LIID-A.pcap"
grep -q "nothing more is acknowledged" "$T/lemf.log" ||
    fail "the LEMF did not stop acknowledging"
[ -L "$T/lemf/cc-LIID-A.pcap" ] || fail "the planted link was replaced"
intact "LEMF pcap"
echo "ok: $(grep -Ei 'cc-LIID-A.pcap.*symbolic link' "$T/lemf.log" | head -1)"

# ---- 3. POI ----
ln -s "$T/victim" "$T/spill"
rc=0
"$POI" --read "$T/in.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$MDF_PORT" \
    "${POI_TLS[@]}" --spool "$T/spill" >"$T/poi2.out" 2>"$T/poi2.log" ||
    rc=$?
[ "$rc" -ne 0 ] || fail "the POI ran with a symbolic link as its spool"
grep -Eiq "spool $T/spill.*symbolic link" "$T/poi2.log" ||
    fail "the POI's refusal does not name $T/spill"
intact "POI spool"
echo "ok: $(grep -Ei 'symbolic link' "$T/poi2.log" | head -1)"

mkdir -m 0700 "$T/poi-open"
chmod 0777 "$T/poi-open"
rc=0
"$POI" --read "$T/in.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$MDF_PORT" \
    "${POI_TLS[@]}" --spool "$T/poi-open/spill" >"$T/poi3.out" \
    2>"$T/poi3.log" || rc=$?
[ "$rc" -ne 0 ] || fail "the POI ran with its spool in a world-writable dir"
grep -Eq "$T/poi-open.*mode 0777" "$T/poi3.log" ||
    fail "the POI's refusal does not name $T/poi-open and its mode"
echo "ok: $(grep -E 'mode 0777' "$T/poi3.log" | head -1)"
echo "PASS"
