#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A slow HTTP client: starts a request and sends it one byte every
--interval seconds, never finishing the headers; when the server closes
the connection it starts again at once, until --duration seconds pass.

usage: drip.py --port N [--interval S] [--duration S] --status FILE

Writes FILE when the first bytes are sent ("dripping"), then after each
close by the server "closed N times, held at most S s", and at the end
the same with "done" (or "held S s" if the server never closed it).
"""
import argparse
import os
import socket
import time


def status(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--interval", type=float, default=0.15)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--status", required=True)
    a = ap.parse_args()
    end = time.monotonic() + min(a.duration, 600)
    closes, longest, first = 0, 0.0, True
    while time.monotonic() < end:
        try:
            s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        except OSError:
            return  # the server is gone: the status file stays as it was
        start = time.monotonic()
        s.sendall(b"GET /metrics HTTP/1.0\r\nX-Slow: ")
        if first:
            status(a.status, "dripping")
            first = False
        s.settimeout(a.interval)
        closed = False
        while time.monotonic() < end:
            try:
                if s.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
            try:
                s.send(b"a")
            except OSError:
                closed = True
                break
        held = time.monotonic() - start
        s.close()
        if not closed:
            status(a.status, "held %.1f s; closed %d times before" %
                   (held, closes))
            return
        closes += 1
        longest = max(longest, held)
        status(a.status, "closed %d times, held at most %.1f s" %
               (closes, longest))


if __name__ == "__main__":
    main()
