#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The whole test suite, as CI runs it (README: "make test"):
#   1. format and banned-function checks
#   2. gcc release build with -Werror: unit, corpus replay, integration
#   3. gcc ASan+UBSan build: the same tests
#   4. clang libFuzzer build: each target replays its corpus and fuzzes for
#      FUZZ_SECONDS (default 30; the long campaigns run apart from CI)
#   5. valgrind over the unit tests of the release build
# Ends with "N passed, N failed" counting every test of every tier.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
OUT=${CL_OUT:-$SRC/out}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=$(nproc)
extra=()
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n==== %s\n' "$*"; }
result() { # NAME STATUS
	if [ "$2" -eq 0 ]; then extra+=(--extra "$1:ok"); else
		extra+=(--extra "$1:fail"); fi
}

step "format check (clang-format 14) and banned functions"
files=$(git ls-files '*.c' '*.h')
clang-format --dry-run --Werror $files
result "clang-format" $?
# STYLE.md: no sscanf/atoi/strcpy/sprintf/strtok (snprintf, strtok_r ok).
! grep -nE '\b(sscanf|atoi|atol|strcpy|strcat|sprintf|vsprintf|strtok|gets)\s*\(' $files
result "banned functions" $?

step "release build (gcc, -Werror)"
meson setup "$OUT/release" --buildtype=release -Db_ndebug=false \
    -Dwerror=true >"$OUT/release-setup.log" 2>&1 &&
    ninja -C "$OUT/release" >"$OUT/release-build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 40 "$OUT/release-build.log" "$OUT/release-setup.log"
result "release build" $rc
[ $rc -eq 0 ] && meson test -C "$OUT/release" --num-processes "$JOBS" \
    --print-errorlogs

step "ASan + UBSan build (gcc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson setup "$OUT/asan" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dwerror=true >"$OUT/asan-setup.log" 2>&1 &&
    ninja -C "$OUT/asan" >"$OUT/asan-build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 40 "$OUT/asan-build.log"
result "asan build" $rc
[ $rc -eq 0 ] && meson test -C "$OUT/asan" --num-processes "$JOBS" \
    --timeout-multiplier 3 --print-errorlogs

step "libFuzzer (clang), ${FUZZ_SECONDS}s per target"
CC=clang meson setup "$OUT/fuzz" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    >"$OUT/fuzz-setup.log" 2>&1 &&
    ninja -C "$OUT/fuzz" >"$OUT/fuzz-build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 40 "$OUT/fuzz-build.log"
result "fuzz build" $rc
if [ $rc -eq 0 ]; then
	for f in "$OUT"/fuzz/tests/fuzz-*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		t=${f##*/fuzz-}
		mkdir -p "$OUT/corpus-$t"
		# New inputs go to the scratch directory, never into the tree.
		if "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
		    -rss_limit_mb=2048 -print_final_stats=1 \
		    "$OUT/corpus-$t" "$SRC/tests/fuzz/$t/corpus" \
		    >"$OUT/fuzz-$t.log" 2>&1; then
			echo "fuzz $t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/fuzz-$t.log" | grep -o '[0-9]*$') runs, no finding"
			result "fuzz $t" 0
		else
			echo "fuzz $t: FINDING"
			tail -60 "$OUT/fuzz-$t.log"
			result "fuzz $t" 1
		fi
	done
fi

step "valgrind over the unit tests"
if [ -d "$OUT/release" ]; then
	for u in "$OUT"/release/tests/test-*; do
		[ -f "$u" ] && [ -x "$u" ] || continue
		n=${u##*/}
		if (cd "$OUT/release" && CL_SHARED=$SRC/../shared valgrind -q \
		    --error-exitcode=1 --leak-check=full \
		    --errors-for-leak-kinds=definite "$u" \
		    >"$OUT/valgrind-$n.log" 2>&1); then
			result "valgrind $n" 0
		else
			tail -30 "$OUT/valgrind-$n.log"
			result "valgrind $n" 1
		fi
	done
fi

step "summary"
python3 scripts/tally.py "${extra[@]}" "$OUT/release" "$OUT/asan"
