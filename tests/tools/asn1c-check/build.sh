#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
#
# Builds, in OUTDIR, an independent BER decoder for TS 102 232 PS-PDUs:
# copies the three ETSI ASN.1 modules, applies the clause A.3 edits with
# prep.py (the standard's files are never edited in place), compiles them
# with Debian's asn1c 0.9.28 and links driver.c, which prints PS-PDUs as
# XER.  Takes about 10 s of CPU at -O0.
#
# usage: build.sh SHARED_DIR OUTDIR     (result: OUTDIR/driver)
set -euo pipefail

shared=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

command -v asn1c >/dev/null 2>&1 || {
	echo "asn1c is not installed (apt-get install asn1c)" >&2
	exit 1
}
mkdir -p "$out/gen"
python3 "$here/prep.py" \
	"$shared/standards/ts102232-1/LI-PS-PDU.asn" \
	"$shared/standards/ts102232-3/IPAccessPDU.asn" \
	"$shared/standards/ts103280/TS_103_280.asn1" "$out/gen"
cd "$out/gen"
# -fwide-types: INTEGER (0..MAX) fields such as octetsReceived hold
# values up to 2^64-1, more than asn1c's default "long" can.  0.9.28 has
# no -no-gen-example; it copies converter-sample.c, which we do not build.
asn1c -fcompound-names -fno-include-deps -fwide-types \
	LI-PS-PDU.asn IPAccessPDU.asn TS_103_280.asn1 >asn1c.log 2>&1 || {
	cat asn1c.log >&2
	exit 1
}
rm -f converter-sample.c
# asn1c 0.9.28 names the element type of IntegrityCheck's "SEQUENCE OF
# INTEGER (0..4294967295)" asn_DEF_Member_3 but never defines it; the
# element is a plain INTEGER, so point it at asn_DEF_INTEGER.
ls ./*.c | xargs -P 2 -n 16 \
	cc -O0 -w -I. -Dasn_DEF_Member_3=asn_DEF_INTEGER -c
cc -O0 -w -I. -o "$out/driver" "$here/driver.c" ./*.o
