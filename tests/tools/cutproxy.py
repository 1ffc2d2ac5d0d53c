#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A TCP relay that can cut its connections, to test what happens when
the network between two clearli daemons fails.

usage: cutproxy.py --listen-port-file F --to HOST:PORT [--port N]

Listens on 127.0.0.1 (port N, or one chosen by the kernel, written to F
once listening) and relays every connection to HOST:PORT, bytes
unchanged.  SIGUSR1 cuts every open connection at once, both sides reset
(SO_LINGER 0), as a broken link would; new connections are relayed as
before.  The number of cuts so far is written to F.cuts after each.
SIGTERM ends it.
"""
import argparse
import os
import selectors
import signal
import socket
import struct
import sys

cut_requested = False
stop = False


def on_usr1(_s, _f):
    global cut_requested
    cut_requested = True


def on_term(_s, _f):
    global stop
    stop = True


def reset(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen-port-file", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(16)
    ls.setblocking(False)
    tmp = a.listen_port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.listen_port_file)

    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    peer = {}     # socket -> the other side
    pending = {}  # socket -> bytes not yet written
    cuts = 0
    while not stop:
        if cut_requested:
            globals()["cut_requested"] = False
            for s in list(peer):
                try:
                    sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                reset(s)
            peer.clear()
            pending.clear()
            cuts += 1
            with open(a.listen_port_file + ".cuts.tmp", "w") as f:
                f.write("%d\n" % cuts)
            os.rename(a.listen_port_file + ".cuts.tmp",
                      a.listen_port_file + ".cuts")
        try:
            events = sel.select(timeout=0.05)
        except InterruptedError:
            continue
        for key, mask in events:
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                try:
                    u = socket.create_connection((host, int(port)))
                except OSError:
                    reset(c)
                    continue
                for x in (c, u):
                    x.setblocking(False)
                    x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(x, selectors.EVENT_READ, None)
                    pending[x] = b""
                peer[c], peer[u] = u, c
                continue
            if s not in peer:
                continue
            o = peer[s]
            if mask & selectors.EVENT_WRITE and pending.get(s):
                try:
                    n = s.send(pending[s])
                    pending[s] = pending[s][n:]
                except BlockingIOError:
                    pass
                except OSError:
                    pending[s] = b""
                if not pending[s]:
                    sel.modify(s, selectors.EVENT_READ, None)
            if mask & selectors.EVENT_READ:
                try:
                    d = s.recv(262144)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                if not d:
                    for x in (s, o):
                        try:
                            sel.unregister(x)
                        except (KeyError, ValueError):
                            pass
                        x.close()
                        peer.pop(x, None)
                        pending.pop(x, None)
                    continue
                pending[o] = pending.get(o, b"") + d
                try:
                    n = o.send(pending[o])
                    pending[o] = pending[o][n:]
                except BlockingIOError:
                    pass
                except OSError:
                    pending[o] = b""
                if pending[o]:
                    sel.modify(o, selectors.EVENT_READ |
                               selectors.EVENT_WRITE, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
