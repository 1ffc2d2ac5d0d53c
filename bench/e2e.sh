#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# End-to-end benchmark: clearli-poi -> clearli-mdf -> clearli-lemf, ETSI
# TS 102 232 handover over TLS, every packet of the synthetic capture
# matched by one of K tasks (bench/README.md, "End-to-end benchmark").
#
#   e2e.sh --build BUILD [--quick] [-n N] [-k "K..."] [-l LEN] [-s SEED]
#          [--rate PPS] [--lat-secs S] [--lat-k K] [--lat-fsync MS]
#          [--perf-k K] [--no-perf]
#          [--no-latency] [--keep] [--base REV | --no-base]
#          [--base-dir DIR] [-r R] [--threshold PCT] [--strict]
#
#   --build BUILD   the build directory (release build: see README.md);
#                   the spool and the LEMF's output go to a scratch
#                   directory in it, i.e. on the build directory's file
#                   system, never tmpfs
#   --quick         smoke run: N = 50 000 for every K, 2 s of latency
#   -n N            packets per capture (default 3 000 000)
#   -k "K..."       task (= LIID) counts (default "1 100:1000000
#                   10000:1000000"); an entry K:N uses N packets for that
#                   K instead of -n
#   -l LEN          frame length in octets (default 100; 0: gen's IMIX mix)
#   -s SEED         generator seed (default 1)
#   --rate PPS      latency run: fixed packet rate (default 20000)
#   --lat-secs S    latency run: length in seconds (default 10)
#   --lat-k "K..."  latency runs: task counts (default "1 100")
#   --lat-fsync "MS..."  latency runs: the MDF's group commit intervals
#                   (default "10 2": 10 as in the throughput runs); one
#                   latency run per K and interval
#   --perf-k K      profile the three processes with perf record -g in an
#                   extra throughput run with K tasks (default: the
#                   smallest K; N as given for that K in -k, else -n);
#                   the timed runs are never profiled
#   --no-perf       no profile
#   --no-latency    no latency run
#   --keep          keep the scratch directory (printed at the end)
#   --base REV      also build REV (default: the commit in bench/BASELINE)
#                   and print its figures beside this build's: every
#                   throughput K and every latency K and interval is a
#                   case, run R times by each side, alternating
#                   (bench/baseline.sh); no profile then
#   --no-base       measure this build only
#   --base-dir DIR  build the baseline in DIR and keep it for the next run
#   -r R            with a baseline: runs of each side per case (default 1)
#   --threshold PCT a case is WORSE when its end-to-end rate, its CPU time
#                   per record (POI + MDF + LEMF) or its latency p50 is
#                   more than PCT percent worse than the baseline's
#                   (default 10)
#   --strict        exit with status 3 when a case is WORSE
set -euo pipefail

build=./build-bench
n=3000000
ks="1 100:1000000 10000:1000000"
k_set=false
len=100
seed=1
rate=20000
lat_secs=10
lat_k="1 100"
lat_fsync="10 2"
FSYNC_MS=10
perf_k=
do_perf=true
do_lat=true
keep=false
quick=false
n_set=false
ls_set=false
base_rev=
use_base=true
base_dir=
threshold=10
strict=false
reps=1

usage() {
	sed -n '/^#   e2e.sh/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--build | -n | -k | -l | -s | --rate | --lat-secs | --lat-k | --lat-fsync | --perf-k | --base | --base-dir | -r | --threshold)
		[ $# -ge 2 ] || { echo "e2e.sh: $1 needs a value" >&2; exit 2; }
		;;
	esac
	case $1 in
	--build) build=$2; shift ;;
	--quick) quick=true ;;
	-n) n=$2; n_set=true; shift ;;
	-k) ks=$2; k_set=true; shift ;;
	-l) len=$2; shift ;;
	-s) seed=$2; shift ;;
	--rate) rate=$2; shift ;;
	--lat-secs) lat_secs=$2; ls_set=true; shift ;;
	--lat-k) lat_k=$2; shift ;;
	--lat-fsync) lat_fsync=$2; shift ;;
	--perf-k) perf_k=$2; shift ;;
	--no-perf) do_perf=false ;;
	--no-latency) do_lat=false ;;
	--keep) keep=true ;;
	--base) base_rev=$2; use_base=true; shift ;;
	--no-base) use_base=false ;;
	--base-dir) base_dir=$2; shift ;;
	-r) reps=$2; shift ;;
	--threshold) threshold=$2; shift ;;
	--strict) strict=true ;;
	-h | --help) usage ;;
	*) echo "e2e.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
if $quick; then
	$n_set || n=50000
	$ls_set || lat_secs=2
	$k_set || ks="1 100 10000"
fi
case $n$len$seed$rate$lat_secs$perf_k$(echo $lat_k $lat_fsync | tr -d ' ')$(echo $ks | tr -d ' :') in
*[!0-9]*) echo "e2e.sh: -n, -l, -s, --rate, --lat-* and --perf-k take numbers" >&2; exit 2 ;;
esac
[ -n "$perf_k" ] || perf_k=$(for k in $ks; do echo "${k%%:*}"; done | sort -n | head -n 1)

abs=$(cd "$build" 2>/dev/null && pwd) ||
    { echo "e2e.sh: no build directory $build" >&2; exit 2; }
build=$abs
src=$(cd "$(dirname "$0")/.." && pwd)
GEN=$build/bench/gen
BARE=$build/bench/pcapread
RU=$build/bench/rusage
POI=$build/poi/clearli-poi
MDF=$build/mdf/clearli-mdf
LEMF=$build/lemf/clearli-lemf
LAT=$src/bench/e2elat.py
for b in "$GEN" "$BARE" "$RU" "$POI" "$MDF" "$LEMF"; do
	[ -x "$b" ] || { echo "e2e.sh: $b not built (ninja -C $build)" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "e2e.sh: needs openssl" >&2; exit 2; }
command -v python3 >/dev/null || { echo "e2e.sh: needs python3" >&2; exit 2; }
case $reps in
'' | *[!0-9]* | 0) echo "e2e.sh: -r takes a number of at least 1" >&2; exit 2 ;;
esac
case $threshold in
'' | *[!0-9.]*) echo "e2e.sh: --threshold takes a number" >&2; exit 2 ;;
esac

if $use_base; then
	. "$(dirname "$0")/baseline.sh"
	baseline_begin e2e "clearli end-to-end benchmark"
	echo "# N=$n frames of ${len/#0/IMIX} octets; K=($ks); latency K=($lat_k) group commit ($lat_fsync) ms at $rate/s for $lat_secs s; $reps run(s) of each side per case, alternating"
	echo
	CASES=() CASE_ARGS=()
	for kn in $ks; do
		k=${kn%%:*} kn_n=$n
		[ "$k" = "$kn" ] || kn_n=${kn#*:}
		CASES+=("K$k")
		CASE_ARGS+=("-k $k:$kn_n --no-latency")
	done
	if $do_lat; then
		for a in $lat_k; do
			for b in $lat_fsync; do
				# A small throughput run comes with each.
				CASES+=("lat-K$a-fsync$b")
				CASE_ARGS+=("-k $a:1000 --lat-k $a --lat-fsync $b")
			done
		done
	fi
	THIS_ARGS=(-n "$n" -l "$len" -s "$seed" --rate "$rate" --lat-secs "$lat_secs" --no-perf)
	BASE_ARGS=("${THIS_ARGS[@]}")
	if baseline_supports "$BASE_SRC/bench/e2e.sh" --no-base; then
		BASE_ARGS+=(--no-base)
	fi
	rc=0
	baseline_main e2e "$src/bench/e2e.sh" "$BASE_SRC/bench/e2e.sh" || rc=$?
	exit "$rc"
fi

# Spool and LEMF output on the build directory's file system (a disk, as
# in production); the captures, which are only input, in /dev/shm when it
# has room (no disk writeback while generating).
W=$(mktemp -d "$build/e2e.XXXXXX")
need_kb=$(( n / 1000 * (len > 0 ? len + 16 : 400) / 1 + 65536 ))
cbase=$W
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt "$need_kb" ]; then
	cbase=$(mktemp -d /dev/shm/clearli-e2e.XXXXXX)
fi
CAP=$cbase/cap.pcap
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	[ "$cbase" = "$W" ] || rm -rf "$cbase"
	if $keep; then
		echo "# scratch directory kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	local f
	echo "e2e.sh: $*" >&2
	for f in "$W"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $f (last lines)" >&2
		tail -n 8 "$f" >&2
	done
	exit 1
}

. "$(dirname "$0")/lib.sh"

now() {
	date +%s.%N
}



# wait_file SECONDS PID FILE: until FILE is non-empty; fails if PID exits.
wait_file() {
	local i=0
	while [ ! -s "$3" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		i=$((i + 1))
		[ "$i" -lt $(($1 * 50)) ] || return 1
		sleep 0.02
	done
}

# child_of PID: the process rusage PID runs (its only child).
child_of() {
	local c i=0
	while :; do
		c=$(pgrep -P "$1" | head -n 1 || true)
		[ -z "$c" ] || { echo "$c"; return 0; }
		i=$((i + 1))
		[ "$i" -lt 250 ] || return 1
		sleep 0.02
	done
}

# start_pair TAG: a fresh LEMF and MDF (empty spool and output), each
# under rusage; sets LEMF_RU, LEMF_PID (the LEMF itself), MDF_RU,
# MDF_PID, MDF_PORT.  Task file: $W/tasks.
start_pair() {
	local tag=$1
	rm -rf "$W/spool" "$W/lemf"
	mkdir -p "$W/lemf"
	rm -f "$W/lemf.port" "$W/mdf.port"
	"$RU" -o "$W/$tag.lemf.ru" -- "$LEMF" --listen 127.0.0.1:0 \
	    --port-file "$W/lemf.port" --out-dir "$W/lemf" \
	    --tls-cert "$W/pki/lemf.pem" --tls-key "$W/pki/lemf.key" \
	    --tls-ca "$W/pki/ca.pem" --integrity-key "$W/pki/ic.pub" \
	    >"$W/$tag.lemf.log" 2>&1 &
	LEMF_RU=$!
	PIDS+=("$LEMF_RU")
	wait_file 10 "$LEMF_RU" "$W/lemf.port" || die "the LEMF did not start"
	LEMF_PID=$(child_of "$LEMF_RU") || die "no LEMF process"
	"$RU" -o "$W/$tag.mdf.ru" -- "$MDF" --listen 127.0.0.1:0 \
	    --port-file "$W/mdf.port" --cert "$W/pki/mdf.pem" \
	    --key "$W/pki/mdf.key" --ca "$W/pki/ca.pem" --tasks "$W/tasks" \
	    --spool-dir "$W/spool" --operator-id BENCH \
	    --fsync group --fsync-interval-ms "$FSYNC_MS" \
	    --integrity-key "$W/pki/ic.key" \
	    --destination "lea1 127.0.0.1:$(cat "$W/lemf.port") tls *" \
	    >"$W/$tag.mdf.log" 2>&1 &
	MDF_RU=$!
	PIDS+=("$MDF_RU")
	wait_file 10 "$MDF_RU" "$W/mdf.port" || die "the MDF did not start"
	MDF_PID=$(child_of "$MDF_RU") || die "no MDF process"
	MDF_PORT=$(cat "$W/mdf.port")
}

# stop_pair: SIGTERM to both (the MDF first: it delivers what is left).
stop_pair() {
	kill -TERM "$MDF_RU"
	wait "$MDF_RU" || die "the MDF exited with status $?"
	kill -TERM "$LEMF_RU"
	wait "$LEMF_RU" || die "the LEMF exited with status $?"
	PIDS=()
}

# start_poi TAG [options]: the POI on $CAP under rusage, in the
# background; sets POI_RU.
start_poi() {
	local tag=$1
	shift
	"$RU" -o "$W/$tag.poi.ru" -- "$POI" --read "$CAP" --tasks "$W/tasks" \
	    --mdf "127.0.0.1:$MDF_PORT" --cert "$W/pki/poi.pem" \
	    --key "$W/pki/poi.key" --ca "$W/pki/ca.pem" --ipid e2e-bench \
	    --flush-timeout 300 --summary "$@" >"$W/$tag.poi.out" \
	    2>"$W/$tag.poi.log" &
	POI_RU=$!
	PIDS+=("$POI_RU")
}

# lemf_field NAME: a counter from the LEMF's summary.json.
lemf_field() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$W/lemf/summary.json" 2>/dev/null
}

# wait_lemf WANT SECONDS: asks the LEMF for its summary (SIGUSR1) every
# 0.2 s until it counts WANT CC PDUs.  Each request costs the LEMF one
# small file write and fsync, so it is not asked more often.
wait_lemf() {
	local want=$1 limit=$2 t0 cc
	t0=$(date +%s)
	while :; do
		sleep 0.2
		if [ "${E2E_POLL:-}" = grep ]; then
			kill -0 "$LEMF_PID" 2>/dev/null || return 1
			cc=$(grep -c '"kind":"cc"' "$W/lemf/pdus.jsonl" || true)
		else
			kill -USR1 "$LEMF_PID" 2>/dev/null || return 1
			sleep 0.01
			cc=$(lemf_field cc)
		fi
		[ -z "$cc" ] || [ "$cc" -lt "$want" ] || return 0
		[ $(($(date +%s) - t0)) -lt "$limit" ] || return 1
	done
}

# poi_field FILE REGEX: the number after REGEX in the POI's summary.
poi_field() {
	sed -n "/$2 [0-9]/{s/.*$2 \([0-9][0-9]*\).*/\1/p;q;}" "$1"
}

# check TAG WANT: sets CHECK to ok or FAIL(...): the LEMF has WANT CC PDUs,
# no gap, conflict, bad PDU or failed integrity check; the POI dropped
# nothing.  Reads the final summary.json (written at the LEMF's exit).
check() {
	local tag=$1 want=$2 cc gaps conf bad ifail drop
	cc=$(lemf_field cc) gaps=$(lemf_field gaps)
	conf=$(lemf_field conflicts) bad=$(lemf_field bad)
	ifail=$(lemf_field integrity_failed)
	drop=$(poi_field "$W/$tag.poi.out" dropped)
	CHECK=ok
	if [ "$cc" != "$want" ] || [ "$gaps" != 0 ] || [ "$conf" != 0 ] ||
	    [ "$bad" != 0 ] || [ "$ifail" != 0 ] || [ "$drop" != 0 ]; then
		CHECK="FAIL(cc=$cc/$want,gaps=$gaps,conflicts=$conf,bad=$bad,integrity_failed=$ifail,poi_dropped=$drop)"
		fail=1
	fi
	INTEG=$(lemf_field integrity)
	INTEG_OK=$(lemf_field integrity_ok)
	DUPS=$(lemf_field duplicates)
}

# gen_cap K N [gen options]: the capture $CAP, every frame matched by one
# of K tasks, and the task file $W/tasks.
# mdf_stats TAG: sets SENT (PDUs the MDF sent to the LEMF, repeats after
# a reconnection included) and CONNS (connections it made), from its
# summary line.
mdf_stats() {
	local l
	l=$(grep 'LEMF lea1: .* PDUs sent' "$W/$1.mdf.log" | tail -n 1)
	SENT=$(echo "$l" | sed -n 's/.*: \([0-9]*\) PDUs sent.*/\1/p')
	CONNS=$(echo "$l" | sed -n 's/.*sent, \([0-9]*\) connection.*/\1/p')
	SENT=${SENT:-?} CONNS=${CONNS:-?}
}

gen_cap() {
	local k=$1 cn=$2
	shift 2
	"$GEN" -n "$cn" -k "$k" -f 1 -s "$seed" ${len:+-l "$len"} "$@" \
	    -o "$CAP" -t "$W/tasks" >"$W/gen.out" 2>&1 || die "gen failed: $(cat "$W/gen.out")"
}
[ "$len" != 0 ] || len=

pki e2e mdf poi lemf
# The Ed25519 key pair that signs and checks IntegrityCheck PDUs.
openssl genpkey -algorithm ed25519 -out "$W/pki/ic.key" 2>/dev/null &&
    openssl pkey -in "$W/pki/ic.key" -pubout -out "$W/pki/ic.pub" 2>/dev/null ||
    die "openssl: cannot make the integrity key"
chmod 600 "$W/pki/ic.key"
echo "# clearli end-to-end benchmark (POI -> MDF -> LEMF)  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# host: $(nproc) CPUs, $(sed -n '/^model name/{s/^[^:]*: //p;q;}' /proc/cpuinfo), kernel $(uname -r), $(free -g | awk '/^Mem:/ { print $2 }') GB"
rev=$(GIT_OPTIONAL_LOCKS=0 git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$( (GIT_OPTIONAL_LOCKS=0 git -C "$src" status --porcelain 2>/dev/null || true) | wc -l)
echo "# source: $src at $rev ($dirty files changed or new); build: $build ($(meson introspect --buildoptions "$build" 2>/dev/null | python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print("buildtype=%s b_ndebug=%s" % (o.get("buildtype"), o.get("b_ndebug")))' 2>/dev/null || echo '?'))"
echo "# N=$n frames of ${len:-IMIX} octets, every one matched; K=($ks) seed=$seed"
echo "# spool and LEMF output: $W ($(df -PT "$W" | awk 'NR == 2 { print $2 }')); captures: $cbase ($(df -PT "$cbase" | awk 'NR == 2 { print $2 }'))"
echo "# MDF: --fsync group --fsync-interval-ms 10, TLS 1.3 in and out, --integrity-key, one destination '*'"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

fail=0
rows=()
cpus=()
mems=()
for kn in $ks; do
	k=${kn%%:*} kn_n=$n
	[ "$k" = "$kn" ] || kn_n=${kn#*:}
	tag=k$k
	gen_cap "$k" "$kn_n"
	targets=$(sed -n 's/.*targets \([0-9]*\).*/\1/p' "$W/gen.out")
	cap_mb=$(awk -v b="$(stat -c %s "$CAP")" 'BEGIN { printf "%.0f", b / 1048576 }')

	# The baseline: warm the page cache, then measure.
	"$BARE" "$CAP" >/dev/null || die "pcapread failed"
	"$RU" -o "$W/$tag.bare.ru" -- "$BARE" "$CAP" >/dev/null ||
	    die "pcapread failed"

	start_pair "$tag"
	# Let the MDF connect to the LEMF before the clock starts.
	sleep 0.5
	t0=$(now)
	start_poi "$tag"
	wait_lemf "$targets" $((300 + kn_n / 500)) ||
	    die "K=$k: the LEMF has $(lemf_field cc) of $targets CC PDUs"
	t1=$(python3 "$LAT" last-rx "$W/lemf/pdus.jsonl") ||
	    die "no CC line in pdus.jsonl"
	wait "$POI_RU" || die "clearli-poi failed (K=$k)"
	spool_mb=$(du -sm "$W/spool" | cut -f1)
	out_mb=$(du -sm "$W/lemf" | cut -f1)
	stop_pair
	PIDS=()
	check "$tag" "$targets"
	mdf_stats "$tag"

	ru "$W/$tag.bare.ru"
	bare_u=$U bare_wall=$WALL
	ru "$W/$tag.poi.ru"
	poi_u=$U poi_uu=$UU poi_wall=$WALL poi_rss=$RSS poi_anon=$ANON
	ru "$W/$tag.mdf.ru"
	mdf_u=$U mdf_uu=$UU mdf_rss=$RSS mdf_anon=$ANON
	ru "$W/$tag.lemf.ru"
	lemf_u=$U lemf_uu=$UU lemf_rss=$RSS lemf_anon=$ANON

	rows+=("$(awk -v k="$k" -v n="$targets" -v t0="$t0" -v t1="$t1" \
	    -v pw="$poi_wall" -v bw="$bare_wall" -v c="$CHECK" \
	    -v ig="$INTEG" -v igok="$INTEG_OK" -v sp="$spool_mb" \
	    -v om="$out_mb" -v cm="$cap_mb" -v se="$SENT" -v co="$CONNS" 'BEGIN {
		e = t1 - t0
		printf "%s %d %d %.3f %.0f %.3f %.0f %.0f %s/%s %s %s %d %d %s",
		    k, n, cm, e, n / e, pw, n / pw, n / bw, igok, ig, se, co,
		    sp, om, c
	}')")
	cpus+=("$(awk -v k="$k" -v n="$targets" -v b="$bare_u" -v p="$poi_u" \
	    -v pu="$poi_uu" -v m="$mdf_u" -v mu="$mdf_uu" -v l="$lemf_u" \
	    -v lu="$lemf_uu" 'BEGIN {
		x = 1e6 / n
		printf "%s %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f",
		    k, b * x, p * x, pu * x, m * x, mu * x, l * x, lu * x,
		    (p + m + l) * x
	}')")
	mems+=("$(awk -v k="$k" -v pr="$poi_rss" -v pa="$poi_anon" \
	    -v mr="$mdf_rss" -v ma="$mdf_anon" -v lr="$lemf_rss" \
	    -v la="$lemf_anon" 'BEGIN {
		printf "%s %.1f %.1f %.1f %.1f %.1f %.1f", k, pr / 1024,
		    pa / 1024, mr / 1024, ma / 1024, lr / 1024, la / 1024
	}')")
	echo "progress: ${rows[-1]}" >&2
	echo "progress: cpu ${cpus[-1]}" >&2
	rm -f "$CAP"
done

lat_rows=()
$do_lat || lat_k=
for lk_fs in $(for a in $lat_k; do for b in $lat_fsync; do echo "$a:$b"; done; done); do
	# A capture for the near future at a fixed rate, replayed with
	# --pace: each packet is handled at its own time stamp, so rx - time
	# in pdus.jsonl is the capture-to-LEMF latency.
	lk=${lk_fs%%:*}
	FSYNC_MS=${lk_fs##*:}
	tag=lat$lk-$FSYNC_MS
	lat_n=$((rate * lat_secs))
	"$GEN" -n 0 -k "$lk" -f 1 -o "$CAP" -t "$W/tasks" >/dev/null ||
	    die "gen failed"
	start_pair "$tag"
	sleep 0.5
	lat_begin=$(($(date +%s) + 3))
	gen_cap "$lk" "$lat_n" -b "$lat_begin" -r "$rate"
	targets=$(sed -n 's/.*targets \([0-9]*\).*/\1/p' "$W/gen.out")
	start_poi "$tag" --pace
	# Not a word to the LEMF until the capture's last packet is due:
	# each summary it writes on SIGUSR1 costs it a file sync, which
	# would show in the latency being measured.
	while [ "$(date +%s)" -le $((lat_begin + lat_secs)) ]; do
		sleep 0.2
	done
	wait_lemf "$targets" $((lat_secs + 300 + lat_n / 500)) ||
	    die "latency run: the LEMF has $(lemf_field cc) of $targets CC PDUs"
	wait "$POI_RU" || die "clearli-poi failed (latency run)"
	stop_pair
	FSYNC_MS=10
	check "$tag" "$targets"
	mdf_stats "$tag"
	lat=$(python3 "$LAT" latency "$W/lemf/pdus.jsonl") ||
	    die "latency: cannot read pdus.jsonl"
	ru "$W/$tag.poi.ru"
	poi_u=$U
	ru "$W/$tag.mdf.ru"
	mdf_u=$U
	ru "$W/$tag.lemf.ru"
	lemf_u=$U
	lat_rows+=("$(echo "$lat" | awk -v k="$lk" -v r="$rate" -v s="$lat_secs" \
	    -v p="$poi_u" -v m="$mdf_u" -v l="$lemf_u" -v c="$CHECK" \
	    -v co="$CONNS" -v fs="${lk_fs##*:}" '{
		printf "%s %s %s %s %s %s %s %s %s %s %s %s %.3f %.3f %.3f %s %s",
		    k, fs, r, s, $2, $4, $6, $8, $10, $16, $12, $14, p, m, l,
		    co, c
	}')")
	echo "progress: latency ${lat_rows[-1]}" >&2
	rm -f "$CAP"
done

echo "## throughput (every packet matched; end = LEMF has every CC PDU)"
{
	echo "K records cap_MB e2e_s e2e_rec_per_s poi_s poi_rec_per_s bare_pkt_per_s integrity_ok/all mdf_sent lemf_conns spool_MB lemf_out_MB check"
	for r in "${rows[@]}"; do
		echo "$r"
	done
} | column -t
echo
echo "## CPU seconds per million records (user+sys; _user: user only)"
{
	echo "K bare poi poi_user mdf mdf_user lemf lemf_user poi+mdf+lemf"
	for r in "${cpus[@]}"; do
		echo "$r"
	done
} | column -t
echo
echo "## peak memory, MB (rss: getrusage maxrss; anon: RssAnon sampled every 10 ms)"
{
	echo "K poi_rss poi_anon mdf_rss mdf_anon lemf_rss lemf_anon"
	for r in "${mems[@]}"; do
		echo "$r"
	done
} | column -t
if [ ${#lat_rows[@]} -gt 0 ]; then
	echo
	echo "## latency, capture time stamp to LEMF receive, at a fixed rate (clearli-poi --pace)"
	{
		echo "K fsync_ms rate_per_s secs records min_ms p50_ms p90_ms p99_ms p99_after_1s_ms p99.9_ms max_ms poi_cpu_s mdf_cpu_s lemf_cpu_s lemf_conns check"
		for r in "${lat_rows[@]}"; do
			echo "$r"
		done
	} | column -t
fi
echo
echo "## goals (reported, not asserted)"
k1= k10k=
for r in "${rows[@]}"; do
	set -- $r
	if [ "$1" = 1 ]; then
		k1=$5
	elif [ "$1" = 10000 ]; then
		k10k=$5
	fi
done
for r in "${rows[@]}"; do
	set -- $r
	awk -v k="$1" -v p="$5" 'BEGIN {
	    printf "K=%s: %.0f CC records/s end to end (goal >= 1000000): %s\n",
		k, p, (p >= 1e6 ? "met" : "NOT met") }'
done
if [ -n "$k1" ] && [ -n "$k10k" ]; then
	awk -v a="$k1" -v b="$k10k" 'BEGIN {
	    printf "K=10000 / K=1 = %.2f (goal >= 0.80): %s\n", b / a,
		(b >= 0.8 * a ? "met" : "NOT met") }'
fi
for r in "${lat_rows[@]}"; do
	set -- $r
	awk -v p="$9" -v r="$3" -v k="$1" -v fs="$2" 'BEGIN {
	    printf "latency p99 at %s records/s, K=%s, group commit %s ms: %.2f ms (goal < 10): %s\n",
		r, k, fs, p, (p < 10 ? "met" : "NOT met") }'
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# The profile: one more throughput run, not timed, with perf record -g
# attached to the MDF and the LEMF and running the POI.
if $do_perf; then
	if ! command -v perf >/dev/null ||
	    ! perf record -q -e cpu-clock -o "$W/perf.test" true >/dev/null 2>&1; then
		echo
		echo "# perf record does not work here: no profile"
	else
		tag=perf
		perf_n=$n
		for kn in $ks; do
			[ "${kn%%:*}" != "$perf_k" ] || [ "$kn" = "$perf_k" ] ||
			    perf_n=${kn#*:}
		done
		gen_cap "$perf_k" "$perf_n"
		targets=$(sed -n 's/.*targets \([0-9]*\).*/\1/p' "$W/gen.out")
		start_pair "$tag"
		sleep 0.5
		perf record -q -e cpu-clock -F 1999 -g -p "$MDF_PID" \
		    -o "$W/perf.mdf" >/dev/null 2>"$W/perf-mdf.log" &
		pm=$!
		perf record -q -e cpu-clock -F 1999 -g -p "$LEMF_PID" \
		    -o "$W/perf.lemf" >/dev/null 2>"$W/perf-lemf.log" &
		pl=$!
		PIDS+=("$pm" "$pl")
		sleep 0.3
		perf record -q -e cpu-clock -F 1999 -g -o "$W/perf.poi" -- \
		    "$POI" --read "$CAP" --tasks "$W/tasks" \
		    --mdf "127.0.0.1:$MDF_PORT" --cert "$W/pki/poi.pem" \
		    --key "$W/pki/poi.key" --ca "$W/pki/ca.pem" \
		    --ipid e2e-bench --flush-timeout 300 >/dev/null \
		    2>"$W/perf-poi.log" || die "clearli-poi failed under perf"
		wait_lemf "$targets" $((300 + perf_n / 500)) ||
		    die "perf run: the LEMF has $(lemf_field cc) of $targets"
		kill -INT "$pm" "$pl"
		wait "$pm" || true
		wait "$pl" || true
		stop_pair
		for p in poi mdf lemf; do
			echo
			echo "## perf, clearli-$p, K=$perf_k N=$perf_n: by object (self)"
			perf report -i "$W/perf.$p" --stdio --no-children \
			    --sort dso -g none 2>/dev/null |
			    grep -v '^#' | grep -v '^$' | grep '%' | head -n 8 || true
			echo "## perf, clearli-$p, K=$perf_k N=$perf_n: by symbol (self)"
			perf report -i "$W/perf.$p" --stdio --no-children \
			    --fields overhead,dso,sym -g none \
			    --percent-limit 0.8 2>/dev/null |
			    grep -v '^#' | grep -v '^$' | head -n 30 || true
		done
		rm -f "$CAP"
	fi
fi
exit "$fail"
