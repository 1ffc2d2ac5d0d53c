# SPDX-License-Identifier: ISC
# Comparison with a baseline build, shared by bench/run.sh and
# bench/e2e.sh (sourced; both define W, the scratch directory, src, the
# source tree, build, this build, and die).  See bench/README.md,
# "Against a baseline".
#
# The baseline is an earlier commit (--base REV; default: the one in
# bench/BASELINE), checked out with `git worktree add` and built with the
# same build type as this build.  Each revision is measured by its own
# benchmark script, so a change of the daemons' command lines between the
# two does not matter; the two are run one after the other for every case
# and repetition, in alternating order, and bench/compare.py prints both
# figures, their ratio and a verdict per case.

BASE_REV=
BASE_SRC=
BASE_BUILD=
BASE_KEEP=
BASE_WT_ADDED=false

# baseline_resolve REV: the full commit id of REV in $src, or dies.
baseline_resolve() {
	local rev=$1
	if [ -z "$rev" ]; then
		[ -s "$src/bench/BASELINE" ] ||
		    die "no --base REV and no $src/bench/BASELINE"
		rev=$(sed -n '/^[^#]/{p;q;}' "$src/bench/BASELINE" | tr -d ' \t')
	fi
	GIT_OPTIONAL_LOCKS=0 git -C "$src" rev-parse --verify --quiet \
	    "$rev^{commit}" || die "base revision '$rev' is not a commit in $src"
}

# baseline_prepare REV DIR: checks out REV into DIR/src (a git worktree,
# detached) and builds the programs the benchmarks run into DIR/build,
# with this build's buildtype and b_ndebug.  When DIR/src is already REV
# (--base-dir from an earlier run), it is reused and only rebuilt.  Sets
# BASE_REV, BASE_SRC, BASE_BUILD.  Build output goes to DIR/build.log.
baseline_prepare() {
	local rev=$1 dir=$2 opts bt nd shared have targets t
	BASE_REV=$rev
	BASE_SRC=$dir/src
	BASE_BUILD=$dir/build
	mkdir -p "$dir"
	if [ -d "$BASE_SRC" ]; then
		have=$(GIT_OPTIONAL_LOCKS=0 git -C "$BASE_SRC" rev-parse HEAD 2>/dev/null || true)
		[ "$have" = "$rev" ] ||
		    die "$BASE_SRC holds ${have:-no checkout}, not $rev (remove it, or another --base-dir)"
	else
		git -C "$src" worktree add --detach "$BASE_SRC" "$rev" \
		    >"$dir/worktree.log" 2>&1 ||
		    die "git worktree add $BASE_SRC $rev failed: $(tail -n 3 "$dir/worktree.log")"
		BASE_WT_ADDED=true
	fi
	opts=$(meson introspect --buildoptions "$build" 2>/dev/null |
	    python3 -c 'import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o.get("buildtype", "release"), o.get("b_ndebug", "true"))') ||
	    die "cannot read the build options of $build"
	bt=${opts% *} nd=${opts#* }
	if [ ! -f "$BASE_BUILD/build.ninja" ]; then
		shared=()
		if grep -q "'shared_dir'" "$BASE_SRC/meson_options.txt" 2>/dev/null &&
		    [ -d "$src/../shared" ]; then
			shared=("-Dshared_dir=$(cd "$src/../shared" && pwd)")
		fi
		meson setup "$BASE_BUILD" "$BASE_SRC" --buildtype="$bt" \
		    -Db_ndebug="$nd" "${shared[@]}" >"$dir/build.log" 2>&1 ||
		    die "meson setup of the baseline failed (see $dir/build.log): $(tail -n 5 "$dir/build.log")"
	fi
	# Only what the benchmarks run.
	targets=()
	for t in poi/clearli-poi mdf/clearli-mdf lemf/clearli-lemf \
	    tests/tools/x2x3sink bench/gen bench/pcapread bench/rusage; do
		if ninja -C "$BASE_BUILD" -t query "$t" >/dev/null 2>&1; then
			targets+=("$t")
		fi
	done
	ninja -C "$BASE_BUILD" -j "$(nproc)" "${targets[@]}" >>"$dir/build.log" 2>&1 ||
	    die "the baseline build failed (see $dir/build.log): $(tail -n 5 "$dir/build.log")"
}

# baseline_begin NAME TITLE: the start of a comparison run, shared by both
# scripts: scratch directory W, die, cleanup on exit, the baseline resolved
# and built, and the header naming both builds.  Reads base_rev, base_dir,
# src and build; sets W, THIS_LABEL and what baseline_prepare sets.
baseline_begin() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/clearli-$1-cmp.XXXXXX")
	bench_name=$1.sh
	die() {
		echo "$bench_name: $*" >&2
		exit 1
	}
	bdir=$base_dir
	[ -n "$bdir" ] || bdir=$W/base
	BASE_KEEP=$base_dir
	trap 'baseline_cleanup; rm -rf "$W"' EXIT
	trap 'exit 130' INT TERM
	rev=$(baseline_resolve "$base_rev") || exit 1
	echo "# $2 against a baseline  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# host: $(nproc) CPUs, $(sed -n '/^model name/{s/^[^:]*: //p;q;}' /proc/cpuinfo), kernel $(uname -r)"
	echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# building the baseline ${rev:0:12} in $bdir" >&2
	baseline_prepare "$rev" "$bdir"
	THIS_LABEL="$(GIT_OPTIONAL_LOCKS=0 git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -z "$(GIT_OPTIONAL_LOCKS=0 git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] || echo '+changes')"
	echo "# this build: $build ($src at $THIS_LABEL)"
	echo "# baseline: $BASE_BUILD ($BASE_SRC at $(git -C "$BASE_SRC" log -1 --format='%h %s' | cut -c1-72))"
}

# baseline_cleanup: removes the worktree this run added (not one given
# with --base-dir, which is kept for the next run).
baseline_cleanup() {
	if $BASE_WT_ADDED && [ -z "$BASE_KEEP" ]; then
		git -C "$src" worktree remove --force "$BASE_SRC" >/dev/null 2>&1 || true
	fi
}

# baseline_supports SCRIPT OPTION: whether the baseline's SCRIPT knows
# OPTION (a later baseline compares against its own baseline by
# default; it must then be told --no-base).
baseline_supports() {
	grep -q -e "$2)" "$1" 2>/dev/null
}

# baseline_run SIDE CASE REP OUT -- COMMAND...: runs one measurement,
# stdout to OUT, stderr to OUT.err; records a failure in OUT.failed.
baseline_run() {
	local side=$1 case=$2 rep=$3 out=$4
	shift 5
	echo "progress: $side $case run $rep" >&2
	if ! "$@" >"$out" 2>"$out.err"; then
		echo "$?" >"$out.failed"
		echo "bench: the $side build failed on $case (run $rep); last lines:" >&2
		tail -n 8 "$out.err" >&2
	fi
}

# baseline_main KIND THIS_SCRIPT BASE_SCRIPT: the comparison run.  Reads
# the arrays CASES (case names, no blanks or dots) and CASE_ARGS (the
# options for that case, one string, split on blanks), THIS_ARGS and
# BASE_ARGS (options for every run of each side), and reps, threshold,
# strict.  For every case, REPS times, runs the baseline's script and this
# one in turn (base first in odd repetitions, this first in even ones),
# then prints the comparison; exits with compare.py's status.
baseline_main() {
	local kind=$1 this_sh=$2 base_sh=$3 c i r dir=$W/compare side rc
	mkdir -p "$dir"
	: >"$dir/cases"
	for c in "${CASES[@]}"; do
		echo "$c" >>"$dir/cases"
	done
	for i in "${!CASES[@]}"; do
		c=${CASES[$i]}
		for ((r = 1; r <= reps; r++)); do
			if [ $((r % 2)) = 1 ]; then
				set -- base this
			else
				set -- this base
			fi
			for side in "$@"; do
				# shellcheck disable=SC2086
				if [ "$side" = base ]; then
					baseline_run base "$c" "$r" \
					    "$dir/base.$c.$r.out" -- bash "$base_sh" \
					    --build "$BASE_BUILD" "${BASE_ARGS[@]}" \
					    ${CASE_ARGS[$i]}
				else
					baseline_run this "$c" "$r" \
					    "$dir/this.$c.$r.out" -- bash "$this_sh" \
					    --no-base --build "$build" "${THIS_ARGS[@]}" \
					    ${CASE_ARGS[$i]}
				fi
			done
		done
	done
	rc=0
	python3 "$src/bench/compare.py" "$kind" "$dir" "$threshold" \
	    "$($strict && echo 1 || echo 0)" \
	    "$(git -C "$src" rev-parse --short "$BASE_REV" 2>/dev/null || echo "$BASE_REV")" \
	    "$THIS_LABEL" || rc=$?
	echo
	echo "## runs (each side's own output, in order)"
	for c in "${CASES[@]}"; do
		for ((r = 1; r <= reps; r++)); do
			for side in base this; do
				echo "### $side $c run $r"
				grep -v '^progress' "$dir/$side.$c.$r.out" |
				    sed -n '/^## /,$p' | grep -v '^$' || true
			done
		done
	done
	echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	return "$rc"
}
