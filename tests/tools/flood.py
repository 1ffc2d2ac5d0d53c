#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Holds unauthenticated connections against TLS listeners, as an attacker
who can reach the port would: idle TCP connections, and slow ones that
send a TLS ClientHello one byte at a time.

usage: flood.py --target HOST:PORT [--target ...] [--idle N] [--slow N]
                [--interval S] [--duration S] [--max-connects N]
                [--ready FILE]

For each target it opens --idle idle connections and --slow slow ones
(one byte every --interval seconds), each from a source address in
127.0.0.2..127.0.0.254 in turn (all of 127/8 is loopback on Linux; the
targets must be on 127.0.0.0/8 too).  A connection the server closes is
opened again after a short pause, so the pressure holds.  Bounded: it
stops by itself after --duration seconds or --max-connects connections
in all, whichever comes first, and on SIGTERM.  Once the first round of
connections has been attempted it writes FILE (--ready).  At the end it
prints one line of counts.
"""
import argparse
import errno
import ipaddress
import json
import os
import resource
import selectors
import signal
import socket
import ssl
import sys
import time

stop = False


def on_term(_s, _f):
    global stop
    stop = True


def client_hello():
    """The first flight of a TLS 1.3 client: a real ClientHello."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Conn:
    __slots__ = ("target", "slow", "sock", "sent", "reopen_at", "src")

    def __init__(self, target, slow):
        self.target = target
        self.slow = slow
        self.sock = None
        self.sent = 0
        self.reopen_at = 0.0
        self.src = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", action="append", required=True)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--slow", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.15)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--max-connects", type=int, default=100000)
    ap.add_argument("--reopen-after", type=float, default=0.2)
    ap.add_argument("--ready")
    a = ap.parse_args()
    if a.duration > 600 or a.max_connects > 1000000:
        sys.exit("flood.py: --duration at most 600 s, --max-connects "
                 "at most 1000000")
    targets = []
    for t in a.target:
        host, port = t.rsplit(":", 1)
        if not ipaddress.ip_address(host) in ipaddress.ip_network(
                "127.0.0.0/8"):
            sys.exit("flood.py: targets must be on 127.0.0.0/8")
        targets.append((host, int(port)))
    need = len(targets) * (a.idle + a.slow) + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            sys.exit("flood.py: RLIMIT_NOFILE hard limit %d < %d" %
                     (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    hello = client_hello()
    sources = ["127.0.0.%d" % i for i in range(2, 255)]
    src_i = 0
    sel = selectors.DefaultSelector()
    conns = []
    for t in targets:
        conns += [Conn(t, False) for _ in range(a.idle)]
        conns += [Conn(t, True) for _ in range(a.slow)]
    st = {"connects": 0, "closed_by_server": 0, "connect_errors": 0,
          "bytes": 0, "open_max": 0}
    start = time.monotonic()
    end = start + a.duration

    def open_conn(c):
        nonlocal src_i
        if st["connects"] >= a.max_connects:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        c.src = sources[src_i % len(sources)]
        src_i += 1
        try:
            s.bind((c.src, 0))
            s.connect_ex(c.target)
        except OSError:
            s.close()
            st["connect_errors"] += 1
            c.reopen_at = time.monotonic() + a.reopen_after
            return
        st["connects"] += 1
        c.sock = s
        c.sent = 0
        sel.register(s, selectors.EVENT_READ, c)

    def drop(c, by_server):
        if c.sock is None:
            return
        sel.unregister(c.sock)
        c.sock.close()
        c.sock = None
        if by_server:
            st["closed_by_server"] += 1
        c.reopen_at = time.monotonic() + a.reopen_after

    for c in conns:
        open_conn(c)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d\n" % st["connects"])
        os.rename(a.ready + ".tmp", a.ready)
    next_drip = time.monotonic() + a.interval
    while not stop:
        now = time.monotonic()
        if now >= end:
            break
        timeout = max(0.0, min(next_drip, end) - now)
        for key, _ in sel.select(timeout):
            c = key.data
            try:
                d = c.sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                drop(c, True)
        now = time.monotonic()
        if now >= next_drip:
            next_drip = now + a.interval
            for c in conns:
                if c.sock is None:
                    if c.reopen_at <= now:
                        open_conn(c)
                    continue
                if not c.slow or c.sent >= len(hello):
                    continue
                try:
                    if c.sock.send(hello[c.sent:c.sent + 1]) == 1:
                        c.sent += 1
                        st["bytes"] += 1
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno in (errno.ENOTCONN,):
                        continue  # still connecting
                    drop(c, True)
            st["open_max"] = max(
                st["open_max"], sum(1 for c in conns if c.sock is not None))
    for c in conns:
        drop(c, False)
    st["seconds"] = round(time.monotonic() - start, 1)
    print(json.dumps(st))


if __name__ == "__main__":
    main()
