#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks, through /proc, that a running daemon is separated.

    proccheck.py PID [--roles NAME,...] [--root-parent] [--roles-only]
                     [--key FILE]... [--sockets ROLE=SPEC]...

PID is the daemon's parent process; its roles are its descendants, known
by their process name (/proc/PID/comm, which lib/privsep sets to the
role's name).  For every process:

  - Seccomp: 2 (a filter) and NoNewPrivs: 1;
  - no effective, permitted or ambient capability;
  - no descriptor of any --key FILE;
  - when the check runs as root: not uid or gid 0 (the parent may be,
    with --root-parent), and a role's root directory is not /.

--roles NAME,...    the roles' names, exactly (a role missing or one more
                    fails)
--sockets ROLE=SPEC the only sockets ROLE may hold: SPEC is "unix" (local
                    socketpairs only) or "unix,tcp:PORT:PORT..." (also TCP
                    sockets whose local or remote port is one of these)
--roles-only        check the roles only, not the parent (for a daemon
                    whose parent has no seccomp filter yet: say so where
                    it is used)

Prints one line per process and exits 1 with a line per failure.
"""

import argparse
import os
import sys


def status(pid):
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.strip()
    return out


def children(pid):
    kids = []
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except FileNotFoundError:
        return kids
    for t in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, t)) as f:
                kids += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return kids


def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo += children(p)
    return out


def inet_sockets():
    """inode -> (proto, local port, remote port) of every TCP/UDP socket."""
    socks = {}
    for proto in ('tcp', 'tcp6', 'udp', 'udp6'):
        try:
            with open('/proc/net/' + proto) as f:
                next(f)
                for line in f:
                    fl = line.split()
                    lport = int(fl[1].rsplit(':', 1)[1], 16)
                    rport = int(fl[2].rsplit(':', 1)[1], 16)
                    socks[fl[9]] = (proto, lport, rport)
        except FileNotFoundError:
            pass
    return socks


def fds(pid):
    out = {}
    d = '/proc/%d/fd' % pid
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except FileNotFoundError:
            pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('pid', type=int)
    ap.add_argument('--roles', default=None)
    ap.add_argument('--root-parent', action='store_true')
    ap.add_argument('--key', action='append', default=[])
    ap.add_argument('--sockets', action='append', default=[])
    ap.add_argument('--roles-only', action='store_true')
    a = ap.parse_args()

    root = os.geteuid() == 0
    keys = {os.path.realpath(k) for k in a.key}
    rules = {}
    for s in a.sockets:
        role, _, spec = s.partition('=')
        ports = set()
        for part in spec.split(','):
            if part.startswith('tcp:'):
                ports |= {int(x) for x in part[4:].split(':') if x}
            elif part != 'unix':
                sys.exit('proccheck: bad --sockets ' + s)
        rules[role] = ports
    inet = inet_sockets()
    fails = []

    def fail(msg):
        fails.append(msg)

    procs = tree(a.pid)
    names = []
    for p in procs:
        try:
            st = status(p)
            fd = fds(p)
            rootdir = os.readlink('/proc/%d/root' % p)
        except FileNotFoundError:
            fail('pid %d ended during the check' % p)
            continue
        name = st.get('Name', '?')
        who = '%s[%d]' % (name, p)
        if p != a.pid:
            names.append(name)
        uid = st['Uid'].split()
        gid = st['Gid'].split()
        print('%-16s uid %-6s Seccomp %s NoNewPrivs %s CapEff %s root %s '
              'fds %d%s' % (who, uid[1], st.get('Seccomp'),
                            st.get('NoNewPrivs'), st.get('CapEff'), rootdir,
                            len(fd), ' (not checked)'
                            if p == a.pid and a.roles_only else ''))
        if p == a.pid and a.roles_only:
            continue
        if st.get('Seccomp') != '2':
            fail('%s: Seccomp %s, not 2' % (who, st.get('Seccomp')))
        if st.get('NoNewPrivs') != '1':
            fail('%s: NoNewPrivs %s, not 1' % (who, st.get('NoNewPrivs')))
        for c in ('CapEff', 'CapPrm', 'CapAmb'):
            if int(st.get(c, '0'), 16) != 0:
                fail('%s: %s %s' % (who, c, st[c]))
        if root and not (p == a.pid and a.root_parent):
            if '0' in uid or '0' in gid:
                fail('%s: runs as uid %s gid %s' % (who, st['Uid'],
                                                    st['Gid']))
        if root and p != a.pid and rootdir == '/':
            fail('%s: root directory /' % who)
        for n, target in fd.items():
            if target.startswith('/') and os.path.realpath(target) in keys:
                fail('%s: descriptor %d is the key file %s' % (who, n,
                                                              target))
            if name in rules and target.startswith('socket:['):
                inode = target[8:-1]
                if inode in inet:
                    proto, lport, rport = inet[inode]
                    if lport not in rules[name] and \
                            rport not in rules[name]:
                        fail('%s: descriptor %d is a %s socket (ports %d, '
                             '%d) not its own' % (who, n, proto, lport,
                                                  rport))
    if a.roles is not None:
        want = sorted(x for x in a.roles.split(',') if x)
        if sorted(names) != want:
            fail('roles %s, expected %s' % (','.join(sorted(names)),
                                            ','.join(want)))
    for m in fails:
        print('FAIL: ' + m)
    sys.exit(1 if fails else 0)


if __name__ == '__main__':
    main()
