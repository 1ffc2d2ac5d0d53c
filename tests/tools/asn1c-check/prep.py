#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Applies, to copies of the ETSI ASN.1 modules, the edits that TS 102 232-1
clause A.3 allows ("Any of the IMPORTs may be commented out if they are not
used", "Any of these choices may be commented out if they are not being
used", "This structure may be commented out if not used"), so that asn1c can
compile LI-PS-PDU + IPAccessPDU + Common-Parameters without the dozens of
3GPP/ETSI modules we do not use.  The edits, all made on copies:

  - comments are stripped (they contain ";" that confuse the IMPORTS cut);
  - IMPORTS keep only Common-Parameters, IPAccessPDU and LI-PS-PDU, by
    module name without the version OID (the published versions import
    each other under OIDs that do not match);
  - CHOICE alternatives and SEQUENCE extension fields whose type lives in
    a module we do not compile are commented out, as are the wrapper types
    UMTSIRI, ETSI671IRI, EPSIRI, ConfIRI, ProSeIRI and GcseIRI;
  - a comma left before "}" by that is removed;
  - beyond A.3: "(0..18446744073709551615)" becomes "(0..MAX)", because
    asn1c 0.9.28 cannot parse the number; it is a constraint only and
    does not change the BER of any value.

Tags, types and the alternatives we keep are the standard's text.

usage: prep.py SRCDIR_LIPSPDU SRCDIR_IPACCESS SRCDIR_TS103280 OUTDIR
"""
import re
import sys

# Modules we compile; every other module reference is cut out.
KEEP = {"Common-Parameters", "IPAccessPDU", "LI-PS-PDU"}

# Type definitions of LI-PS-PDU that only wrap other modules' types and
# that the standard marks "may be commented out if not used".
DROP_TYPES = {"UMTSIRI", "ETSI671IRI", "EPSIRI", "ConfIRI", "ProSeIRI",
              "GcseIRI"}

# Module-qualified references "Module.Type" to modules we do not have.
EXT_REF = re.compile(r"\b([A-Z][A-Za-z0-9-]*)\.[A-Za-z]")


def code(line):
    return line.split("--", 1)[0]


def refs_missing(line):
    for m in EXT_REF.finditer(code(line)):
        if m.group(1) not in KEEP:
            return True
    # Types from dropped definitions.
    for t in DROP_TYPES:
        if re.search(r"\]\s*" + re.escape(t) + r"\b", code(line)):
            return True
    return False


def cut_imports(text):
    """Keeps only the IMPORTS ... FROM clauses of modules in KEEP."""
    m = re.search(r"\bIMPORTS\b(.*?);", text, re.S)
    if m is None:
        return text
    body = m.group(1)
    # Each clause: symbol list, FROM Module {oid}
    clauses = re.findall(r"((?:[\w-]+\s*,\s*)*[\w-]+)\s+FROM\s+([\w-]+)\s*"
                         r"(\{[^}]*\})?", body, re.S)
    kept = []
    for syms, mod, _oid in clauses:
        # The module OIDs do not match across the published versions
        # (IPAccessPDU version18 imports LI-PS-PDU version38, LI-PS-PDU
        # version43 imports IPAccessPDU version20); asn1c then finds no
        # module.  Import by name only, as clause A.3 lets us fix imports.
        if mod in KEEP:
            kept.append("    %s\n        FROM %s" %
                        (", ".join(s.strip() for s in syms.split(",")),
                         mod))
    new = "IMPORTS\n" + "\n".join(kept) + ";\n" if kept else ""
    return text[:m.start()] + new + text[m.end():]


def drop_type_defs(lines):
    out, skip = [], False
    for ln in lines:
        m = re.match(r"^([A-Za-z][\w-]*)\s*::=", ln)
        if m and m.group(1) in DROP_TYPES:
            skip = True
        if skip:
            out.append("-- [A.3 removed] " + ln)
            if code(ln).strip().startswith("}"):
                skip = False
            continue
        out.append(ln)
    return out


def fix_commas(lines):
    """Removes a comma left dangling before '}' by a removed alternative."""
    for i, ln in enumerate(lines):
        if not code(ln).rstrip().endswith(","):
            continue
        j = i + 1
        while j < len(lines) and code(lines[j]).strip() == "":
            j += 1
        if j < len(lines) and code(lines[j]).strip().startswith("}"):
            c = code(ln).rstrip()
            lines[i] = c[:-1] + ln[len(code(ln)):]
    return lines


def strip_comments(text):
    """ASN.1 comments run from "--" to the next "--" or the end of line."""
    return "\n".join(re.sub(r"--.*?(--|$)", "", ln)
                     for ln in text.split("\n"))


def process(path, out):
    text = open(path, encoding="utf-8", errors="replace").read()
    text = strip_comments(text)
    # Beyond A.3: asn1c 0.9.28 cannot parse the number 2^64-1 (it stops
    # with "too large for this compiler").  The bound is a subtype
    # constraint only; BER encodes INTEGER the same way with or without
    # it, so (0..MAX) decodes exactly the same bytes.
    text = text.replace("(0..18446744073709551615)", "(0..MAX)")
    text = cut_imports(text)
    lines = drop_type_defs(text.split("\n"))
    lines = ["-- [A.3 removed] " + ln if refs_missing(ln) else ln
             for ln in lines]
    lines = fix_commas(lines)
    open(out, "w", encoding="utf-8").write("\n".join(lines))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    lips, ipa, cp, outdir = sys.argv[1:]
    process(lips, outdir + "/LI-PS-PDU.asn")
    process(ipa, outdir + "/IPAccessPDU.asn")
    process(cp, outdir + "/TS_103_280.asn1")


main()
