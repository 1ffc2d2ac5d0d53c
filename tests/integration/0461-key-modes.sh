#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# A private key file that group or others may read (mode 0644, 0640) is
# refused by each daemon, as ssh refuses such an identity file, with a
# message naming the file and its mode: the POI's --key, the MDF's --key
# and --integrity-key, the LEMF's --tls-key.  So is one owned by another
# user (checked when the test runs as root: root's keys must be root's).
# The same keys at mode 0600 work (the rest of the suite uses them).
. "$(dirname "$0")/lib.sh"
gen_certs

python3 "$CL_SRC/tests/tools/mkpcap.py" "$T/in.pcap" 1700000000 \
    '10.9.0.1:61000>192.0.2.7:61001x5'
task 11111111-1111-4111-8111-111111111111 LIID-A cc ip:10.9.0.1 >"$T/tasks"

# open_key NAME MODE: a copy of $PKI/NAME.key with MODE; prints its path.
open_key() {
	local k=$T/$1-$2.key
	cp "$PKI/$1.key" "$k"
	chmod "$2" "$k"
	echo "$k"
}

# refused NAME KEY MODE CMD...: CMD must exit non-zero without writing
# $T/NAME.port, and log that KEY with MODE was refused.
refused() {
	local name=$1 key=$2 mode=$3 pid rc=0
	shift 3
	rm -f "$T/$name.port"
	"$@" >"$T/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for 10 sh -c "! kill -0 $pid || test -s '$T/$name.port'" ||
	    fail "$name: neither started nor exited"
	if [ -s "$T/$name.port" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		fail "$name: started with the key $key at mode $mode"
	fi
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ] || fail "$name: exited 0 with the key $key at $mode"
	grep -q "private key $key: $mode" "$T/$name.log" ||
	    fail "$name: no message naming $key and $mode"
	echo "ok: $name: $(grep "private key $key" "$T/$name.log" | head -1)"
}

mdf_args=(--listen 127.0.0.1:0 --operator-id OP-TEST --country DE
    --tasks "$T/tasks" --cert "$PKI/mdf.pem" --ca "$PKI/ca.pem")

for mode in 0644 0640; do
	k=$(open_key mdf $mode)
	refused mdf-key-$mode "$k" "mode $mode" "$MDF" "${mdf_args[@]}" \
	    --port-file "$T/mdf-key-$mode.port" --key "$k" \
	    --spool-dir "$T/s1-$mode.spool" --integrity-key "$PKI/ic.key"

	k=$(open_key ic $mode)
	refused mdf-ic-$mode "$k" "mode $mode" "$MDF" "${mdf_args[@]}" \
	    --port-file "$T/mdf-ic-$mode.port" --key "$PKI/mdf.key" \
	    --spool-dir "$T/s2-$mode.spool" --integrity-key "$k"

	k=$(open_key lemf $mode)
	mkdir -m 0750 "$T/lemf-$mode"
	refused lemf-$mode "$k" "mode $mode" "$LEMF" --listen 127.0.0.1:0 \
	    --port-file "$T/lemf-$mode.port" --out-dir "$T/lemf-$mode" \
	    --tls-cert "$PKI/lemf.pem" --tls-key "$k" --tls-ca "$PKI/ca.pem"
done

if [ "$(id -u)" = 0 ]; then
	k=$(open_key lemf 0600)
	chown 65534 "$k"
	mkdir -m 0750 "$T/lemf-owner"
	refused lemf-owner "$k" "owned by uid 65534" "$LEMF" \
	    --listen 127.0.0.1:0 --port-file "$T/lemf-owner.port" \
	    --out-dir "$T/lemf-owner" --tls-cert "$PKI/lemf.pem" \
	    --tls-key "$k" --tls-ca "$PKI/ca.pem"
fi

# The POI, against a working MDF: it must not even connect.
start_mdf mdf 0 --tasks "$T/tasks"
for mode in 0644 0640; do
	k=$(open_key poi $mode)
	rc=0
	"$POI" --read "$T/in.pcap" --tasks "$T/tasks" \
	    --mdf "127.0.0.1:$MDF_PORT" --cert "$PKI/poi.pem" --key "$k" \
	    --ca "$PKI/ca.pem" >"$T/poi-$mode.out" 2>"$T/poi-$mode.log" ||
	    rc=$?
	[ "$rc" -ne 0 ] || fail "the POI ran with its key at mode $mode"
	grep -q "private key $k: mode $mode" "$T/poi-$mode.log" ||
	    fail "the POI's refusal does not name $k and mode $mode"
	echo "ok: poi-$mode: $(grep 'private key' "$T/poi-$mode.log")"
done

# At 0600 the same copy is accepted.
chmod 0600 "$k"
"$POI" --read "$T/in.pcap" --tasks "$T/tasks" --mdf "127.0.0.1:$MDF_PORT" \
    --cert "$PKI/poi.pem" --key "$k" --ca "$PKI/ca.pem" >"$T/poi.out" \
    2>"$T/poi.log" || fail "the POI refused its key at mode 0600"
stop_pid "$MDF_PID"
echo "PASS"
