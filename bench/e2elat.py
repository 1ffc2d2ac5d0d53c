#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Reads a clearli-lemf pdus.jsonl for bench/e2e.sh.

  e2elat.py last-rx PDUS.jsonl
      Prints the receive time ("rx") of the last CC PDU line, in seconds
      since the epoch.  Lines are written in receive order, so it is the
      latest one; only the end of the file is read.

  e2elat.py latency PDUS.jsonl
      For every CC PDU line, latency = rx - time (the LEMF's receive time
      minus the PDU's microSecondTimeStamp, which the POI took from the
      capture).  Prints one line:
      "n N min_ms A p50_ms B p90_ms C p99_ms D p999_ms E max_ms F
      p99_after_1s_ms G", where G leaves out the PDUs captured in the
      first second of the run (the first PDU of every LIID makes the
      receiver create its pcap file).

Both times are RFC 3339 UTC with microseconds, as clearli-lemf(8) writes
them.  Exit status 1 when there is no CC line or a line cannot be read.
"""
import calendar
import os
import re
import sys

TIME_RE = re.compile(
    r'"(time|rx)":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z"')
_sec_cache = {}


def epoch_us(prefix, frac):
    """Microseconds since the epoch of "YYYY-MM-DDTHH:MM:SS" + frac."""
    s = _sec_cache.get(prefix)
    if s is None:
        s = calendar.timegm((int(prefix[0:4]), int(prefix[5:7]),
                             int(prefix[8:10]), int(prefix[11:13]),
                             int(prefix[14:16]), int(prefix[17:19])))
        if len(_sec_cache) > 100000:
            _sec_cache.clear()
        _sec_cache[prefix] = s
    return s * 1000000 + int(frac)


def times(line):
    """(time_us, rx_us) of a CC line, else None."""
    if '"kind":"cc"' not in line or '"event"' in line:
        return None
    t = rx = None
    for m in TIME_RE.finditer(line):
        v = epoch_us(m.group(2), m.group(3))
        if m.group(1) == 'time':
            t = v
        else:
            rx = v
    if t is None or rx is None:
        raise ValueError('CC line without time or rx: ' + line[:200])
    return t, rx


def last_rx(path):
    with open(path, 'rb') as f:
        size = f.seek(0, os.SEEK_END)
        back = 1 << 16
        while True:
            f.seek(max(0, size - back))
            lines = f.read().decode('utf-8', 'replace').split('\n')
            if size > back:
                lines = lines[1:]  # the first one may be cut
            for line in reversed(lines):
                tr = times(line)
                if tr is not None:
                    print('%.6f' % (tr[1] / 1e6))
                    return 0
            if back >= size:
                return 1
            back *= 4


def pct(v, p):
    """Nearest-rank percentile of the sorted list v."""
    i = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[i]


def latency(path):
    tr_all = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            tr = times(line)
            if tr is not None:
                tr_all.append(tr)
    if not tr_all:
        return 1
    first = min(t for t, _ in tr_all)
    lat = sorted(rx - t for t, rx in tr_all)
    late = sorted(rx - t for t, rx in tr_all if t >= first + 1000000)
    print('n %d min_ms %.3f p50_ms %.3f p90_ms %.3f p99_ms %.3f '
          'p999_ms %.3f max_ms %.3f p99_after_1s_ms %s' %
          (len(lat), lat[0] / 1e3, pct(lat, 50) / 1e3, pct(lat, 90) / 1e3,
           pct(lat, 99) / 1e3, pct(lat, 99.9) / 1e3, lat[-1] / 1e3,
           '%.3f' % (pct(late, 99) / 1e3) if late else '-'))
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('last-rx', 'latency'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        if sys.argv[1] == 'last-rx':
            return last_rx(sys.argv[2])
        return latency(sys.argv[2])
    except (OSError, ValueError) as e:
        print('e2elat.py: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
