#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# clearli-poi over every file in ../shared/pcaps, with every address a
# target: each capture is read to its end and exits 0, except the files
# the pcaps README lists as not being captures; and the summary names
# exactly the link types (those with packets) it could not decode.  The
# link types come from a reader of the file headers written here, not
# from the POI's own.
. "$(dirname "$0")/lib.sh"

# "A non-capture file with a .pcap name" (shared/pcaps/README.md).
NOT_CAPTURES=" malformed/npm-pcap-parser__malformed.pcap "
# The link types clearli-poi(8) lists as decoded.
DECODED=" 0 1 9 50 51 101 104 108 113 197 228 229 239 276 "

linktypes() { # FILE: the link types that carry packets, one per line
	python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
lts = set()
if b[:4] == b"\x0a\x0d\x0d\x0a":
    off, ifs, e = 0, [], "<"
    while off + 12 <= len(b):
        t = struct.unpack_from("<I", b, off)[0]
        if t == 0x0A0D0D0A:
            e = "<" if b[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifs = []
        t, n = struct.unpack_from(e + "II", b, off)
        if n < 12:
            break
        if t == 1:
            ifs.append(struct.unpack_from(e + "H", b, off + 8)[0])
        elif t == 6 and ifs:
            i = struct.unpack_from(e + "I", b, off + 8)[0]
            if i < len(ifs):
                lts.add(ifs[i])
        elif t == 3 and ifs:
            lts.add(ifs[0])
        off += n
elif len(b) >= 24 and b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                                b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    if len(b) > 24:
        lts.add(struct.unpack_from(e + "I", b, 20)[0] & 0xFFFF)
for lt in sorted(lts):
    print(lt)
PY
}

task 00000000-0000-4000-8000-000000000490 LIID-ALL iri+cc ip:0.0.0.0/0 \
    ip:::/0 >"$T/tasks"
start_sink all --plain --discard
n=0
while IFS= read -r f; do
	rel=${f#"$PCAPS"/}
	n=$((n + 1))
	rc=0
	"$POI" --read "$f" --tasks "$T/tasks" --mdf "127.0.0.1:$SINK_PORT" \
	    --insecure-plaintext --ipid test-poi --summary >"$T/out" \
	    2>"$T/poi.log" || rc=$?
	case $NOT_CAPTURES in
	*" $rel "*)
		[ "$rc" -ne 0 ] || fail "$rel is not a capture but exits 0"
		grep -q "is not a pcap or pcapng file" "$T/poi.log" ||
		    fail "$rel: no reason given: $(cat "$T/poi.log")"
		continue
		;;
	esac
	[ "$rc" -eq 0 ] || fail "$rel: clearli-poi exits $rc"
	grep -q 'capture file read to its end' "$T/out" ||
	    fail "$rel: not read to its end"
	want=""
	for lt in $(linktypes "$f"); do
		case $DECODED in
		*" $lt "*) ;;
		*) want="$want $lt" ;;
		esac
	done
	got=$(sed -n 's/^link types not decoded: //p' "$T/out")
	if [ -z "$want" ]; then
		[ "$got" = none ] || fail "$rel: link types not decoded: $got"
	else
		for lt in $want; do
			case " $got" in
			*" $lt ("*) ;;
			*) fail "$rel: link type $lt not named ($got)" ;;
			esac
		done
	fi
done < <(find "$PCAPS" -type f \( -name '*.pcap' -o -name '*.pcapng' \) |
    sort)
stop_sink
[ "$n" -ge 100 ] || fail "only $n captures found under $PCAPS"
echo "$n files checked"
