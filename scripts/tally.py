#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Count real tests across meson test logs and extra results.

usage: tally.py [--extra NAME:ok|fail ...] BUILD_DIR ...

A unit-test binary counts as its own cases (its "N passed, N failed"
line); every other meson test (corpus replay, integration scenario) counts
as one.  --extra adds one result each (format check, fuzz runs...).
Prints the failures, then "N passed, N failed" as the last line.
"""
import json
import re
import sys

passed = failed = 0
fails = []
args = sys.argv[1:]
while args and args[0] == "--extra":
    name, res = args[1].rsplit(":", 1)
    if res == "ok":
        passed += 1
    else:
        failed += 1
        fails.append(name)
    args = args[2:]
line = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)
for bd in args:
    try:
        f = open(bd + "/meson-logs/testlog.json")
    except OSError:
        failed += 1
        fails.append(bd + ": no test log")
        continue
    for raw in f:
        t = json.loads(raw)
        ok = t["result"] == "OK"
        m = line.findall(t.get("stdout") or "")
        if "unit" in t.get("suite", []) and m:
            p, fl = int(m[-1][0]), int(m[-1][1])
            if not ok and fl == 0:
                fl = 1  # crashed or timed out after its count
            passed += p
            failed += fl
        else:
            passed += ok
            failed += not ok
        if not ok:
            fails.append("%s: %s (%s)" % (bd, t["name"], t["result"]))
for x in fails:
    print("FAILED:", x)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
