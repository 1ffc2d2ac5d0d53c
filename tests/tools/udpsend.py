#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Send N UDP datagrams to a loopback address, at most one per PACE ms,
to a socket this script also binds (so no ICMP errors are generated).

usage: udpsend.py DST_ADDR COUNT [PACE_MS]
"""
import socket
import sys
import time

dst, count = sys.argv[1], int(sys.argv[2])
pace = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind((dst, 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("127.0.0.1", 0))
for i in range(count):
    tx.sendto(b"clearli live test %d" % i, rx.getsockname())
    rx.recv(2048)
    if pace:
        time.sleep(pace)
