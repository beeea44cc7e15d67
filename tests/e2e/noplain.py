#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The no-plaintext check: no file the daemon wrote holds a tracked secret in any form the
matcher knows (userspace/src/fingerprint.c expands every secret the same way): raw, base64 and
base64url at the three alignments (only the stable inner part, as encode.c's
sw_encode__base64_stable computes it, so a secret inside a larger blob is found too), hex lower
and upper, percent-encoded (RFC 3986, upper-case) and JSON-escaped.

Usage: noplain.py SECRETS_FILE PATH...
  SECRETS_FILE holds one secret per line, base64-encoded (so the list itself never holds a
  value in the clear and any byte is allowed). PATHs are files or directories (walked).
  Exit 0: no form of any secret in any file; 1: found (each finding names the variant, the
  secret's line number and the file, never the value); 2: usage or unreadable input.
"""
import base64
import json
import os
import sys

B64_STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
B64_URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def base64_stable(s, align, url):
    """The base64 characters whose six bits all come from s, when s starts at byte offset
    align (0..2) of a larger base64-encoded stream (encode.c: sw_encode__base64_stable)."""
    alpha = B64_URL if url else B64_STD
    out = bytearray()
    n = len(s)
    k = (8 * align + 5) // 6
    while (6 * k + 5) // 8 < align + n:
        b = 6 * k - 8 * align
        i, sh = b // 8, b % 8
        v = s[i] << 8
        if sh > 2:
            v |= s[i + 1]
        out.append(alpha[(v >> (10 - sh)) & 63])
        k += 1
    return bytes(out)


def percent(s):
    return b"".join(bytes([c]) if c in UNRESERVED else b"%%%02X" % c for c in s)


def json_escape(s):
    out = bytearray()
    short = {0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}
    for c in s:
        if c in (0x22, 0x5C):
            out += b"\\" + bytes([c])
        elif c >= 0x20:
            out.append(c)
        elif c in short:
            out += short[c]
        else:
            out += b"\\u00%02x" % c
    return bytes(out)


def variants(s):
    """Every form of secret s (bytes) the matcher looks for, as {name: bytes}."""
    v = {"raw": s, "hex": s.hex().encode(), "hex_upper": s.hex().upper().encode(),
         "percent": percent(s), "json": json_escape(s)}
    for url in (0, 1):
        for align in (0, 1, 2):
            v["base64%s@%d" % ("url" if url else "", align)] = base64_stable(s, align, url)
    return v


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for d, _, names in os.walk(p):
                for n in sorted(names):
                    yield os.path.join(d, n)
        elif os.path.exists(p):
            yield p


def scan(secrets, paths):
    """[(variant, secret index, file)] for every form of every secret found in the files."""
    found = []
    forms = [(i, name, form) for i, s in enumerate(secrets) for name, form in variants(s).items()]
    for f in files(paths):
        if not os.path.isfile(f):
            continue
        with open(f, "rb") as fh:
            data = fh.read()
        # base64 and hex as tools wrap them into lines (the matcher joins the lines too)
        joined = data.replace(b"\r", b"").replace(b"\n", b"")
        for i, name, form in forms:
            if form and form in data:
                found.append((name, i, f))
            elif form and name.startswith(("base64", "hex")) and form in joined:
                found.append((name + " wrapped", i, f))
    return found


def load_secrets(path):
    with open(path, "rb") as fh:
        return [base64.b64decode(l.strip()) for l in fh if l.strip()]


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    try:
        secrets = load_secrets(argv[1])
    except (OSError, ValueError) as e:
        print("noplain: cannot read the secrets list: %s" % e, file=sys.stderr)
        return 2
    found = scan(secrets, argv[2:])
    for name, i, f in found:
        print("  plaintext: secret #%d as %s in %s" % (i + 1, name, f))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
