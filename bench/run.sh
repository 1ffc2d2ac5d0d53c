#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
#
# POI benchmark driver (see bench/README.md).  For every K (tasks) and f
# (fraction of packets to a target) it generates a capture of N packets,
# reads it with bare libpcap (bench/pcapread) and with clearli-poi sending
# X3 over TLS to x2x3sink --discard, and prints one table: packets per
# second, CPU seconds per million packets and peak memory of both, and the
# POI's CPU cost as a multiple of the bare read.  The POI runs on CPU 0,
# the receiver on CPU 1.  Each measurement is repeated R times and the run
# with the median CPU time is reported.  The goals are reported, never
# asserted; the exit status is non-zero only if a run failed or the POI
# did not deliver exactly one X3 PDU per target packet (and, with
# --strict, when a case is worse than the baseline).
#
#   run.sh [--build DIR] [--quick] [-n N] [-k "K..."] [-f "F..."]
#          [-r R] [-s SEED] [--profile] [--callgrind] [--profile-n N]
#          [--no-nice] [--base REV | --no-base] [--base-dir DIR]
#          [--threshold PCT] [--strict]
#
#   --base REV     also build REV (default: the commit in bench/BASELINE)
#                  and print its figures beside this build's: for every K
#                  and f, R runs of each, alternating (bench/baseline.sh)
#   --no-base      measure this build only
#   --base-dir DIR build the baseline in DIR and keep it for the next run
#                  (default: a temporary directory, removed at the end)
#   --threshold PCT  a case whose POI CPU time per packet is more than PCT
#                  percent above the baseline's is marked WORSE (default 10)
#   --strict       exit with status 3 when a case is WORSE (by default the
#                  verdicts are printed and the exit status ignores them)
#   --build DIR    meson build directory (default: ./build-bench)
#   --quick        smoke run: N = 200000, R = 1
#   -n N           packets per capture (default 3000000)
#   -k "K..."      task counts (default "1 10000 100000")
#   -f "F..."      target fractions (default "0.01 1")
#   -r R           repetitions per measurement (default 3)
#   -s SEED        generator seed (default 1)
#   --profile      also profile the POI with perf record (cpu-clock) for
#                  every K and f, and print the top objects and symbols
#   --no-nice      do not raise the priority of the measured processes
#                  (by default, when run as root, they run at nice -10 so
#                  that other work on the machine disturbs them less)
#   --callgrind    also profile with valgrind --tool=callgrind (largest K,
#                  every f, on --profile-n packets, default 300000): the
#                  instructions per packet and the top functions, self and
#                  inclusive, counting only the per-packet path
set -euo pipefail

build=./build-bench
n=3000000
ks="1 10000 100000"
fs="0.01 1"
reps=3
seed=1
quick=false
profile=false
callgrind=false
cg_n=300000
n_set=false
r_set=false
use_nice=true
base_rev=
use_base=true
base_dir=
threshold=10
strict=false

usage() {
	sed -n '/^#   run.sh/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--build | -n | -k | -f | -r | -s | --profile-n | --base | --base-dir | --threshold)
		[ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
		;;
	esac
	case $1 in
	--build) build=$2; shift ;;
	--quick) quick=true ;;
	-n) n=$2; n_set=true; shift ;;
	-k) ks=$2; shift ;;
	-f) fs=$2; shift ;;
	-r) reps=$2; r_set=true; shift ;;
	-s) seed=$2; shift ;;
	--profile) profile=true ;;
	--callgrind) callgrind=true ;;
	--profile-n) cg_n=$2; shift ;;
	--no-nice) use_nice=false ;;
	--base) base_rev=$2; use_base=true; shift ;;
	--no-base) use_base=false ;;
	--base-dir) base_dir=$2; shift ;;
	--threshold) threshold=$2; shift ;;
	--strict) strict=true ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
if $quick; then
	$n_set || n=200000
	$r_set || reps=1
	[ "$cg_n" -le "$n" ] || cg_n=$n
fi
case $n$reps$cg_n in
*[!0-9]*) echo "run.sh: -n, -r and --profile-n take numbers" >&2; exit 2 ;;
esac
[ "$reps" -ge 1 ] || { echo "run.sh: -r must be at least 1" >&2; exit 2; }

abs=$(cd "$build" 2>/dev/null && pwd) ||
    { echo "run.sh: no build directory $build" >&2; exit 2; }
build=$abs
GEN=$build/bench/gen
BARE=$build/bench/pcapread
RU=$build/bench/rusage
POI=$build/poi/clearli-poi
SINK=$build/tests/tools/x2x3sink
for b in "$GEN" "$BARE" "$RU" "$POI" "$SINK"; do
	[ -x "$b" ] || { echo "run.sh: $b not built (ninja -C $build)" >&2; exit 2; }
done
src=$(cd "$(dirname "$0")/.." && pwd)
case $threshold in
'' | *[!0-9.]*) echo "run.sh: --threshold takes a number" >&2; exit 2 ;;
esac

if $use_base; then
	! $profile && ! $callgrind ||
	    { echo "run.sh: --profile and --callgrind need --no-base" >&2; exit 2; }
	. "$(dirname "$0")/baseline.sh"
	baseline_begin run "clearli POI benchmark"
	echo "# N=$n K=($ks) f=($fs) seed=$seed; $reps run(s) of each side per case, alternating"
	echo
	CASES=() CASE_ARGS=()
	for k in $ks; do
		for f in $fs; do
			CASES+=("K$k-f$f")
			CASE_ARGS+=("-k $k -f $f")
		done
	done
	THIS_ARGS=(-n "$n" -r 1 -s "$seed")
	$use_nice || THIS_ARGS+=(--no-nice)
	BASE_ARGS=("${THIS_ARGS[@]}")
	if baseline_supports "$BASE_SRC/bench/run.sh" --no-base; then
		BASE_ARGS+=(--no-base)
	fi
	rc=0
	baseline_main poi "$src/bench/run.sh" "$BASE_SRC/bench/run.sh" || rc=$?
	exit "$rc"
fi

NICE=()
if $use_nice && [ "$(id -u)" = 0 ] && nice -n -10 true 2>/dev/null; then
	NICE=(nice -n -10)
fi

# The captures go to /dev/shm when it has room (no disk writeback while
# generating, and reading is the same page-cache read), else to TMPDIR.
need_kb=$(( n / 1000 * 400 + 65536 ))
base=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt "$need_kb" ]; then
	base=/dev/shm
fi
W=$(mktemp -d "$base/clearli-bench.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	local f
	echo "run.sh: $*" >&2
	for f in "$W"/*.log "$W"/*.err; do
		[ -s "$f" ] || continue
		echo "--- $f (last lines)" >&2
		tail -n 5 "$f" >&2
	done
	exit 1
}

. "$(dirname "$0")/lib.sh"



start_sink() {
	local i=0
	rm -f "$W/port"
	"${NICE[@]}" "$RU" -c 1 -i 0 -o "$W/sink.ru" -- "$SINK" --listen 127.0.0.1:0 \
	    --port-file "$W/port" --cert "$W/pki/mdf.pem" \
	    --key "$W/pki/mdf.key" --ca "$W/pki/ca.pem" --discard \
	    >"$W/sink.out" 2>"$W/sink.log" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	while [ ! -s "$W/port" ]; do
		kill -0 "$SINK_PID" 2>/dev/null || die "x2x3sink exited"
		i=$((i + 1))
		[ "$i" -lt 500 ] || die "x2x3sink did not start in 10 s"
		sleep 0.02
	done
	SINK_PORT=$(cat "$W/port")
}

stop_sink() {
	kill -TERM "$SINK_PID"
	wait "$SINK_PID" || die "x2x3sink exited with an error"
	PIDS=()
}

# poi_cmd CAPTURE: the POI command line.
poi_cmd() {
	POI_CMD=("$POI" --read "$1" --tasks "$W/tasks" \
	    --mdf "127.0.0.1:$SINK_PORT" --cert "$W/pki/poi.pem" \
	    --key "$W/pki/poi.key" --ca "$W/pki/ca.pem" --ipid bench --summary)
}

# run_poi CAPTURE TAG: one POI run against a fresh receiver; leaves
# $W/TAG.ru (POI), $W/TAG.sink.ru, $W/TAG.out (summary), $W/TAG.log.
run_poi() {
	start_sink
	poi_cmd "$1"
	"${NICE[@]}" "$RU" -c 0 -o "$W/$2.ru" -- "${POI_CMD[@]}" >"$W/$2.out" \
	    2>"$W/$2.log" || {
		stop_sink
		die "clearli-poi failed on $1 (see $W/$2.log)"
	}
	stop_sink
	mv "$W/sink.ru" "$W/$2.sink.ru"
	mv "$W/sink.out" "$W/$2.sink.out"
}

# median_run PREFIX: the index of the run with the median CPU time.
median_run() {
	local i
	for ((i = 1; i <= reps; i++)); do
		ru "$W/$1.$i.ru"
		echo "$U $i"
	done | sort -n | awk -v m=$(((reps + 1) / 2)) 'NR == m { print $2 }'
}

# field FILE REGEX: the number after REGEX in FILE.
field() {
	sed -n "/$2 [0-9]/{s/.*$2 \([0-9][0-9]*\).*/\1/p;q;}" "$1"
}

pki bench mdf poi

echo "# clearli POI benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# host: $(nproc) CPUs, $(sed -n '/^model name/{s/^[^:]*: //p;q;}' /proc/cpuinfo), kernel $(uname -r)"
rev=$(GIT_OPTIONAL_LOCKS=0 git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(GIT_OPTIONAL_LOCKS=0 git -C "$src" status --porcelain 2>/dev/null | wc -l)
echo "# source: $src at $rev ($dirty files changed or new); build: $build"
echo "# N=$n K=($ks) f=($fs) repeats=$reps seed=$seed; captures in $base"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# POI on CPU 0 (X3 over TLS 1.3 to x2x3sink --discard on CPU 1)${NICE[*]:+, measured processes at ${NICE[*]}}"
echo

fail=0
rows=()
diags=()
goals=()
hdr="K f N targets poi_pps poi_pps_cpu poi_cpu_s_per_Mpkt poi_anon_MB poi_rss_MB bare_pps bare_cpu_s_per_Mpkt bare_rss_MB ratio_cpu X3_PDUs check"
dhdr="K f poi_wall_s poi_cpu_s poi_user_s poi_runq_s poi_wait_s poi_vcsw poi_ivcsw start_cpu_s ratio_cpu_steady sink_cpu_s sink_runq_s bare_wall_s bare_cpu_s"
for k in $ks; do
	for f in $fs; do
		cap=$W/cap.pcap
		"$GEN" -n "$n" -k "$k" -f "$f" -s "$seed" -o "$cap" \
		    -t "$W/tasks" >"$W/gen.out" || die "gen failed"
		targets=$(field "$W/gen.out" targets)
		"$GEN" -n 0 -k "$k" -f "$f" -s "$seed" -o "$W/empty.pcap" \
		    -t "$W/tasks" >/dev/null || die "gen failed"

		# Warm the page cache and the binaries, then measure.
		"$BARE" "$cap" >/dev/null || die "pcapread failed"
		for ((i = 1; i <= reps; i++)); do
			"${NICE[@]}" "$RU" -c 0 -o "$W/bare.$i.ru" -- \
			    "$BARE" "$cap" >"$W/bare.$i.out" ||
			    die "pcapread failed"
		done
		for ((i = 1; i <= reps; i++)); do
			run_poi "$cap" "poi.$i"
		done
		run_poi "$W/empty.pcap" start

		i=$(median_run bare)
		ru "$W/bare.$i.ru"
		bare_u=$U bare_wall=$WALL bare_rss=$RSS
		ru "$W/start.ru"
		start_u=$U
		i=$(median_run poi)
		ru "$W/poi.$i.ru"
		poi_u=$U poi_wall=$WALL poi_rss=$RSS poi_anon=$ANON
		poi_vcsw=$VCSW poi_ivcsw=$IVCSW poi_runq=$RUNQ
		poi_user=$(awk '{ print $2 }' "$W/poi.$i.ru")
		ru "$W/poi.$i.sink.ru"
		sink_u=$U sink_runq=$RUNQ

		out=$W/poi.$i.out
		pkts=$(field "$out" packets)
		x3=$(field "$out" 'X3 PDUs')
		drops=$(field "$out" 'dropped')
		queued=$(field "$out" 'bytes queued')
		acked=$(field "$out" 'confirmed by the MDF')
		spdus=$(field "$W/poi.$i.sink.out" pdus)
		bpkts=$(field "$W/bare.1.out" packets)
		check=ok
		if [ "$pkts" != "$n" ] || [ "$bpkts" != "$n" ] ||
		    [ "$x3" != "$targets" ] ||
		    [ "$drops" != 0 ] || [ "$queued" != "$acked" ] ||
		    [ "$spdus" != "$x3" ]; then
			check="FAIL(packets=$pkts,bare=$bpkts,x3=$x3,targets=$targets,dropped=$drops,sink=$spdus)"
			fail=1
		fi

		row=$(awk -v k="$k" -v f="$f" -v n="$n" -v t="$targets" \
		    -v pu="$poi_u" -v pw="$poi_wall" -v pr="$poi_rss" \
		    -v pa="$poi_anon" -v bu="$bare_u" -v bw="$bare_wall" \
		    -v br="$bare_rss" -v x3="$x3" -v c="$check" 'BEGIN {
			m = n / 1e6
			printf "%s %s %d %d %.0f %.0f %.3f %.1f %.1f %.0f %.3f %.1f %.2f %s %s",
			    k, f, n, t, n / pw, n / pu, pu / m, pa / 1024,
			    pr / 1024, n / bw, bu / m, br / 1024,
			    (bu > 0 ? pu / bu : 0), x3, c
		}')
		diag=$(awk -v k="$k" -v f="$f" -v pw="$poi_wall" \
		    -v pu="$poi_u" -v us="$poi_user" -v rq="$poi_runq" \
		    -v vc="$poi_vcsw" -v ivc="$poi_ivcsw" -v su="$start_u" \
		    -v bu="$bare_u" -v bw="$bare_wall" -v sk="$sink_u" \
		    -v srq="$sink_runq" 'BEGIN {
			steady = pu - su; if (steady < 0) steady = 0
			wait = pw - pu - (rq > 0 ? rq : 0); if (wait < 0) wait = 0
			printf "%s %s %.3f %.3f %.3f %.3f %.3f %d %d %.3f %.2f %.3f %.3f %.3f %.3f",
			    k, f, pw, pu, us, rq, wait, vc, ivc, su,
			    (bu > 0 ? steady / bu : 0), sk, srq, bw, bu
		}')
		rows+=("$row")
		diags+=("$diag")
		echo "progress: $row" >&2

		# Goals from the issue, reported only.
		if [ "$k" = 100000 ] && [ "$f" = 0.01 ]; then
			goals+=("$(awk -v pu="$poi_u" -v bu="$bare_u" 'BEGIN {
			    r = pu / bu
			    printf "K=100000 f=0.01: POI CPU = %.2f x bare read (goal <= 2): %s",
				r, (r <= 2 ? "met" : "NOT met") }')")
		fi
		if [ "$f" = 1 ]; then
			goals+=("$(awk -v k="$k" -v n="$n" -v pw="$poi_wall" -v pu="$poi_u" 'BEGIN {
			    p = n / pw
			    printf "K=%s f=1: %.2f Mpps on one core with X3 + TLS (%.2f Mpps by CPU time; goal >= 1.5): %s",
				k, p / 1e6, n / pu / 1e6, (p >= 1.5e6 ? "met" : "NOT met") }')")
		fi
		rm -f "$cap"
	done
done

echo "## results (median of $reps runs by POI CPU time)"
{
	echo "$hdr"
	for r in "${rows[@]}"; do
		echo "$r"
	done
} | column -t
echo
echo "## where the wall time went (same runs)"
{
	echo "$dhdr"
	for r in "${diags[@]}"; do
		echo "$r"
	done
} | column -t
echo
echo "## goals (reported, not asserted)"
for g in "${goals[@]}"; do
	echo "$g"
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Profiles: every K and f for perf, the largest K for callgrind.
kmax=$(for k in $ks; do echo "$k"; done | sort -n | tail -n 1)
if $profile; then
	if ! perf record -q -e cpu-clock -o "$W/perf.test" true \
	    >/dev/null 2>&1; then
		echo "# perf record does not work here; try --callgrind"
	else
		echo
		echo "# perf: cpu-clock sampling (hardware counters are often"
		echo "# unavailable in VMs); kernel time shows up partly at the"
		echo "# points where interrupts are enabled again."
		for k in $ks; do
			for f in $fs; do
				"$GEN" -n "$n" -k "$k" -f "$f" -s "$seed" \
				    -o "$W/cap.pcap" -t "$W/tasks" >/dev/null
				start_sink
				poi_cmd "$W/cap.pcap"
				"${NICE[@]}" perf record -q -e cpu-clock -F 4999 \
				    -o "$W/perf.data" -- taskset -c 0 \
				    "${POI_CMD[@]}" >/dev/null 2>"$W/perf.log" ||
				    die "perf record failed"
				stop_sink
				echo
				echo "## perf, clearli-poi, K=$k f=$f N=$n: by object"
				perf report -i "$W/perf.data" --stdio \
				    --no-children --comm clearli-poi \
				    --sort comm,dso 2>/dev/null |
				    grep -v '^#' | grep -v '^$' | head -n 8 || true
				echo "## perf, clearli-poi, K=$k f=$f N=$n: by symbol"
				perf report -i "$W/perf.data" --stdio \
				    --no-children --comm clearli-poi \
				    --fields overhead,dso,sym \
				    --percent-limit 0.7 2>/dev/null |
				    grep -v '^#' | grep -v '^$' | head -n 30 || true
				rm -f "$W/cap.pcap" "$W/perf.data"
			done
		done
	fi
fi
if $callgrind; then
	command -v valgrind >/dev/null 2>&1 || die "valgrind not installed"
	for f in $fs; do
		"$GEN" -n "$cg_n" -k "$kmax" -f "$f" -s "$seed" \
		    -o "$W/cap.pcap" -t "$W/tasks" >/dev/null
		start_sink
		poi_cmd "$W/cap.pcap"
		# Only the per-packet work: reading, the pipeline (decode,
		# match, X3 encoding) and the output (TLS, socket writes).
		# Start-up (task file, activation logs) is in start_cpu_s.
		"${NICE[@]}" taskset -c 0 valgrind --tool=callgrind \
		    --toggle-collect=cl_cap_next \
		    --toggle-collect=cl_pipeline_packet \
		    --toggle-collect=cl_out_run \
		    --callgrind-out-file="$W/cg.out" "${POI_CMD[@]}" \
		    --flush-timeout 120 >/dev/null 2>"$W/cg.log" ||
		    die "callgrind run failed"
		stop_sink
		echo
		echo "## callgrind, clearli-poi, K=$kmax f=$f N=$cg_n (per-packet path only)"
		callgrind_annotate "$W/cg.out" 2>/dev/null |
		    awk -v n="$cg_n" '/PROGRAM TOTALS/ && !done {
			gsub(",", "", $1)
			printf "instructions per packet: %.0f\n", $1 / n
			done = 1 }'
		echo "## self"
		callgrind_annotate --inclusive=no "$W/cg.out" 2>/dev/null |
		    sed -n '/^Ir/,$p' | sed -n '3,27p' || true
		echo "## inclusive"
		callgrind_annotate --inclusive=yes "$W/cg.out" 2>/dev/null |
		    sed -n '/^Ir/,$p' | sed -n '3,27p' || true
		rm -f "$W/cap.pcap" "$W/cg.out"
	done
fi
exit "$fail"
