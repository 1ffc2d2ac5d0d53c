#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Checks that no program is built on another program's folder.

usage: layout.py SOURCE_ROOT
       layout.py --self-test

Each program (poi/, mdf/, lemf/, and admf/, audit/ or any other top-level
folder whose meson.build builds a clearli-* executable) reaches only into
its own folder and lib/; lib/ reaches into no program.  Checked:

  - every #include in the C sources and headers of each folder: a path
    that leads into another program's folder ("../poi/task.h",
    "mdf/mdf.h"), or a bare name ("task.h") found in no allowed folder but
    in another program's, which only builds when that folder is on the
    include path;
  - every meson.build in those folders: a name of another program's
    targets or dependencies (poi_dep, libmdf, lemf_src, ...) or a path
    string leading into its folder ('../poi', 'mdf/ingest.c').

  - the connection code: TLS reads, writes and handshakes (SSL_read,
    SSL_write, SSL_connect, SSL_accept, SSL_do_handshake and their _ex
    forms) and connect() appear only in lib/conn.c and lib/front.c, the
    one connection layer (lib/conn.h).

tests/ and bench/ may use every program and are not checked.  Each
violation is printed as FILE:LINE: reason; the exit status is 1 if there
is any (or if no file was checked).
"""
import os
import re
import subprocess
import sys
import tempfile

KNOWN_PROGRAMS = ("poi", "mdf", "lemf", "admf", "audit")
SHARED = "lib"
C_SUFFIXES = (".c", ".h")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
EXECUTABLE = re.compile(r"executable\(\s*'clearli-")
CONN_CALL = re.compile(r"\b(SSL_read|SSL_write|SSL_connect|SSL_accept|"
                       r"SSL_do_handshake|SSL_read_ex|SSL_write_ex|"
                       r"connect)\s*\(")
CONN_LAYER = ("lib/conn.c", "lib/front.c")


def programs(root):
    """Top-level folders holding a program: the known names and any
    folder whose meson.build builds a clearli-* executable."""
    found = set()
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(d) or name.startswith("."):
            continue
        if name in KNOWN_PROGRAMS:
            found.add(name)
            continue
        mb = os.path.join(d, "meson.build")
        if name not in (SHARED, "tests", "bench") and os.path.isfile(mb):
            with open(mb, encoding="utf-8", errors="replace") as f:
                if EXECUTABLE.search(f.read()):
                    found.add(name)
    return sorted(found)


def walk(root, folder):
    """Files under root/folder, sorted, as paths relative to root."""
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            out.append(os.path.relpath(os.path.join(dirpath, fn), root))
    return out


def top(relpath):
    """The top-level folder of a path relative to the root, or None if it
    leaves the tree."""
    norm = os.path.normpath(relpath)
    if norm.startswith(".."):
        return None
    return norm.split(os.sep)[0]


def strip_comment(line):
    """A meson line without its # comment (quotes respected)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == "'" and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def check_c(root, rel, owner, others, allowed):
    """Violations of one C file of folder owner."""
    bad = []
    here = os.path.dirname(rel)
    with open(os.path.join(root, rel), encoding="utf-8",
              errors="replace") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if m is None:
            continue
        kind, name = m.group(1), m.group(2)
        # The path as written: relative to the file, then to each folder
        # on the include path, then as a path from the root.
        places = [os.path.join(here, name)] if kind == '"' else []
        places += [os.path.join(a, name) for a in allowed]
        places.append(name)
        hit = None
        for p in places:
            t = top(p)
            if t in others:
                hit = (p, "leads into %s/" % t)
                break
        if hit is None and kind == '"':
            if not any(os.path.isfile(os.path.join(root, p))
                       for p in places[:-1]):
                for o in others:
                    for dirpath, _, files in os.walk(os.path.join(root, o)):
                        if os.path.basename(name) in files and \
                                os.path.isfile(os.path.join(dirpath, name)):
                            hit = (os.path.relpath(
                                os.path.join(dirpath, name), root),
                                "found only in %s/" % o)
                            break
                    if hit:
                        break
        if hit:
            bad.append("%s:%d: %s includes %s (%s, another program's "
                       "folder; shared code belongs in lib/)" %
                       (rel, n, owner + "/" if owner != SHARED else "lib/",
                        hit[0], hit[1]))
    if rel.endswith(".c") and rel not in CONN_LAYER:
        for n, line in enumerate(lines, 1):
            code = re.sub(r"/\*.*?(\*/|$)", "", line)
            if code.lstrip().startswith("*"):
                continue
            m = CONN_CALL.search(code)
            if m:
                bad.append("%s:%d: calls %s() (a copy of the connection "
                           "code: use lib/conn)" % (rel, n, m.group(1)))
    return bad


def check_meson(root, rel, owner, others):
    """Violations of one meson.build of folder owner."""
    bad = []
    here = os.path.dirname(rel)
    with open(os.path.join(root, rel), encoding="utf-8",
              errors="replace") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        code = strip_comment(line)
        for s in STRING.findall(code):
            for base in (here, ""):
                t = top(os.path.join(base, s))
                if t in others and (s.startswith("..") or
                                    s.split("/")[0] in others):
                    bad.append("%s:%d: names '%s', in %s/ (another "
                               "program's folder)" % (rel, n, s, t))
                    break
        for ident in IDENT.findall(STRING.sub("''", code)):
            parts = ident.split("_")
            for o in others:
                if o in parts or "lib" + o in parts:
                    bad.append("%s:%d: uses %s, which belongs to %s/ "
                               "(another program's folder)" %
                               (rel, n, ident, o))
                    break
    return bad


def check(root):
    progs = programs(root)
    failed = passed = 0
    for owner in progs + [SHARED]:
        if not os.path.isdir(os.path.join(root, owner)):
            continue
        others = [p for p in progs if p != owner]
        allowed = [SHARED] if owner == SHARED else [owner, SHARED]
        for rel in walk(root, owner):
            if rel.endswith(C_SUFFIXES):
                bad = check_c(root, rel, owner, others, allowed)
            elif os.path.basename(rel) == "meson.build":
                bad = check_meson(root, rel, owner, others)
            else:
                continue
            for b in bad:
                print(b)
            if bad:
                failed += 1
            else:
                passed += 1
    print("programs: %s; shared: %s/; %d files checked, %d with a "
          "violation" % (" ".join(p + "/" for p in progs), SHARED,
                         passed + failed, failed))
    return 1 if failed or passed == 0 else 0


def self_test():
    """The check must find each kind of violation, name its file and
    line, and pass the same tree once they are gone."""
    ok = True
    with tempfile.TemporaryDirectory() as root:
        def put(rel, text):
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)

        put("lib/meson.build", "lib_src = files('a.c')\n")
        put("lib/a.h", "int a(void);\n")
        put("lib/a.c", '#include "a.h"\n')
        put("lib/conn.c", '#include "a.h"\n/* SSL_read() */\n'
            'int c(void *s) { return SSL_read(s, 0, 0); }\n')
        put("poi/meson.build", "# links only lib\n"
            "libpoi = static_library('poi', 'p.c', dependencies: "
            "[clearli_dep])\npoi_exe = executable('clearli-poi', 'main.c')\n")
        put("poi/p.h", "int p(void);\n")
        put("poi/out.h", "int o(void);\n")
        put("poi/p.c", '#include <stdio.h>\n#include "p.h"\n#include "a.h"\n')
        put("mdf/meson.build",
            "mdf_exe = executable('clearli-mdf', 'main.c') # not poi_dep\n")
        put("mdf/m.c", '#include "a.h"\n')
        put("lemf/meson.build", "")
        put("lemf/out.h", "int lo(void);\n")
        put("lemf/l.c", '#include "out.h"\n')
        put("x1d/meson.build", "executable('clearli-x1d', 'x.c')\n")
        put("x1d/x.c", '#include "a.h"\n')
        put("tests/meson.build", "deps = [poi_dep, mdf_dep, lemf_dep]\n")
        put("tests/t.c", '#include "p.h"\n')

        def run():
            r = subprocess.run([sys.executable, __file__, root],
                               capture_output=True, text=True)
            return r.returncode, r.stdout

        rc, out = run()
        if rc != 0:
            print("self-test: a clean tree fails:\n" + out)
            ok = False
        cases = [
            ("mdf/m.c", '#include "a.h"\n#include "p.h"\n',
             "mdf/m.c:2:"),
            ("mdf/m.c", '#include "../poi/p.h"\n', "mdf/m.c:1:"),
            ("mdf/m.c", '#include <poi/p.h>\n', "mdf/m.c:1:"),
            ("lemf/l.c", '#include "out.h"\n#include "x.c"\n', "lemf/l.c:2:"),
            ("lib/a.c", '#include "a.h"\n#include "p.h"\n', "lib/a.c:2:"),
            ("x1d/x.c", '\n\n#include "mdf/m.c"\n', "x1d/x.c:3:"),
            ("mdf/meson.build",
             "x = 1\nlibmdf = static_library('mdf', 'm.c',\n"
             "  dependencies: [poi_dep])\n", "mdf/meson.build:3:"),
            ("mdf/meson.build", "libpoi_copy = 1\nx = libpoi\n",
             "mdf/meson.build:2:"),
            ("lemf/meson.build",
             "inc = include_directories('../mdf')\n", "lemf/meson.build:1:"),
            ("poi/meson.build", "s = files('../lemf/out.c')\n",
             "poi/meson.build:1:"),
            ("lib/meson.build", "lib_src = files('../poi/p.c')\n",
             "lib/meson.build:1:"),
            ("poi/p.c", '#include "p.h"\nint f(void *s) {\n'
             '  return SSL_write(s, "", 0);\n}\n', "poi/p.c:3:"),
            ("lib/a.c", '#include "a.h"\nint g(int fd) { return '
             'connect(fd, 0, 0); }\n', "lib/a.c:2:"),
        ]
        for rel, text, want in cases:
            p = os.path.join(root, rel)
            with open(p) as f:
                saved = f.read()
            with open(p, "w") as f:
                f.write(text)
            rc, out = run()
            with open(p, "w") as f:
                f.write(saved)
            if rc == 0 or want not in out:
                print("self-test: %s with %r: exit %d, expected a failure "
                      "naming %s; got:\n%s" % (rel, text, rc, want, out))
                ok = False
        rc, out = run()
        if rc != 0:
            print("self-test: the restored tree fails:\n" + out)
            ok = False
    print("self-test: %d violations and 2 clean trees, %s" %
          (len(cases), "all as expected" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(check(sys.argv[1]))
