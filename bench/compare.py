#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Prints this build's benchmark figures beside a baseline build's.

usage: compare.py poi|e2e DIR THRESHOLD_PCT STRICT(0|1) BASE_LABEL THIS_LABEL

DIR holds one output of bench/run.sh or bench/e2e.sh per side, case and
repetition, named SIDE.CASE.REP.out (SIDE base or this; CASE as in the
file DIR/cases, one per line, in order).  A run that failed has a file
SIDE.CASE.REP.out.failed.  For every case and metric: the median over the
repetitions of each side, this / base, and for the judged metrics a
verdict: "WORSE" when this build is worse than the baseline by more than
THRESHOLD_PCT percent, "better" when it is better by more than that,
"ok" in between.  Exit status: 1 if a run failed or a run's own check
failed; else 3 if STRICT and a case is WORSE; else 0.
"""
import os
import statistics
import sys

# (section title prefix, column, what is better, judged)
POI = [
    ("results", "poi_cpu_s_per_Mpkt", "lower", True),
    ("results", "poi_pps_cpu", "higher", False),
    ("results", "poi_pps", "higher", False),
    ("results", "ratio_cpu", "lower", False),
    ("results", "poi_anon_MB", "lower", False),
    ("where the wall time went", "start_cpu_s", "lower", False),
    ("where the wall time went", "poi_wait_s", "lower", False),
]
E2E = [
    ("throughput", "e2e_rec_per_s", "higher", True),
    ("throughput", "poi_rec_per_s", "higher", False),
    ("CPU seconds per million records", "poi+mdf+lemf", "lower", True),
    ("CPU seconds per million records", "poi", "lower", False),
    ("CPU seconds per million records", "mdf", "lower", False),
    ("CPU seconds per million records", "lemf", "lower", False),
    ("peak memory", "poi_anon", "lower", False),
    ("peak memory", "mdf_anon", "lower", False),
    ("peak memory", "lemf_anon", "lower", False),
]
LAT = [
    ("latency", "p50_ms", "lower", True),
    ("latency", "p99_ms", "lower", False),
    ("latency", "max_ms", "lower", False),
    ("latency", "lemf_cpu_s", "lower", False),
]
CHECKS = ("results", "throughput", "latency")


def tables(path):
    """{section title: (header, [rows])} of one benchmark output."""
    out = {}
    title = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("## "):
                title = line[3:]
                out[title] = None
                continue
            if title is None:
                continue
            if not line.strip() or line.startswith("#"):
                if out[title] is not None:
                    title = None
                continue
            cols = line.split()
            if out[title] is None:
                out[title] = (cols, [])
            else:
                out[title][1].append(cols)
    return out


def value(tabs, section, col):
    for title, t in tabs.items():
        if t is None or not title.startswith(section):
            continue
        head, rows = t
        if col not in head or not rows:
            return None
        i = head.index(col)
        return rows[0][i] if i < len(rows[0]) else None
    return None


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.3f" % x


def main():
    kind, d, thr, strict, blabel, tlabel = sys.argv[1:7]
    thr = float(thr)
    strict = strict == "1"
    with open(os.path.join(d, "cases")) as f:
        cases = [c.strip() for c in f if c.strip()]
    failed = []
    worse = []
    lines = [("case", "metric", "base", "this", "this/base", "verdict")]
    summary = []
    reps_seen = 0
    for case in cases:
        metrics = POI if kind == "poi" else (LAT if case.startswith("lat")
                                             else E2E)
        runs = {"base": [], "this": []}
        for side in runs:
            rep = 1
            while True:
                p = os.path.join(d, "%s.%s.%d.out" % (side, case, rep))
                if not os.path.exists(p):
                    break
                if os.path.exists(p + ".failed"):
                    failed.append("%s %s run %d: exit status %s" % (
                        side, case, rep, open(p + ".failed").read().strip()))
                else:
                    t = tables(p)
                    for sec in CHECKS:
                        c = value(t, sec, "check")
                        if c is not None and c != "ok":
                            failed.append("%s %s run %d: check %s" % (
                                side, case, rep, c))
                    runs[side].append(t)
                reps_seen = max(reps_seen, rep)
                rep += 1
        case_worse = []
        case_judged = 0
        for sec, col, good, judged in metrics:
            med = {}
            for side, ts in runs.items():
                xs = [num(value(t, sec, col)) for t in ts]
                xs = [x for x in xs if x is not None]
                med[side] = statistics.median(xs) if xs else None
            b, t = med["base"], med["this"]
            if b is None and t is None:
                continue
            ratio = t / b if b and t is not None else None
            verdict = "-"
            if judged and ratio is not None:
                case_judged += 1
                bad = ratio - 1 if good == "lower" else 1 - ratio
                if bad * 100 > thr:
                    verdict = "WORSE"
                    case_worse.append("%s %+.1f %%" % (col, (ratio - 1) * 100))
                elif -bad * 100 > thr:
                    verdict = "better"
                else:
                    verdict = "ok"
            elif judged:
                verdict = "n/a"
            lines.append((case, col + ("" if judged else " (info)"), fmt(b),
                          fmt(t), "-" if ratio is None else "%.3f" % ratio,
                          verdict))
        if case_worse:
            worse.append(case)
            summary.append("%s: WORSE than the baseline by more than %g %%: %s"
                           % (case, thr, ", ".join(case_worse)))
        elif case_judged:
            summary.append("%s: within %g %% of the baseline or better"
                           % (case, thr))
        else:
            summary.append("%s: no figures to compare" % case)
    print("## this build (%s) against the baseline (%s): median of %d "
          "alternating run(s) per side; lower or higher is better as the "
          "metric says; judged metrics get a verdict, (info) ones do not"
          % (tlabel, blabel, reps_seen))
    w = [max(len(r[i]) for r in lines) for i in range(6)]
    for r in lines:
        print("  ".join(r[i].ljust(w[i]) for i in range(6)).rstrip())
    print()
    print("## verdict per case (threshold %g %%)" % thr)
    for s in summary:
        print(s)
    for f in failed:
        print("FAILED: " + f)
    if failed:
        return 1
    if worse and strict:
        print("# --strict: %d case(s) worse than the baseline: exit status 3"
              % len(worse))
        return 3
    if worse:
        print("# %d case(s) worse than the baseline; reported, not asserted "
              "(--strict makes it the exit status)" % len(worse))
    return 0


if __name__ == "__main__":
    sys.exit(main())
