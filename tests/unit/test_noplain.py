#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Unit test of the e2e suite's no-plaintext check (tests/e2e/noplain.py): each form the
matcher knows, produced here with Python's own encoders (not the checker's), is planted in a
file inside a larger blob, and the check must fail naming that form; a file without the
secret passes. Secrets are made at run time."""
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "..", "e2e", "noplain.py")


def planted_forms(s):
    """(expected variant name, bytes to write) for every form, each embedded in noise."""
    out = [("raw", b"header " + s + b" trailer")]
    for align in (0, 1, 2):
        pre = secrets.token_bytes(3 + align)  # 3+align bytes: s starts at offset align mod 3
        blob = pre + s + secrets.token_bytes(5)
        out.append(("base64@%d" % align, b"data:" + base64.b64encode(blob) + b"\n"))
        out.append(("base64url@%d" % align, base64.urlsafe_b64encode(blob).rstrip(b"=")))
    wrap = lambda b, w, nl: nl.join(b[i:i + w] for i in range(0, len(b), w))
    blob = secrets.token_bytes(3) + s + secrets.token_bytes(5)
    out.append(("base64@0 wrapped", wrap(base64.b64encode(blob), 5, b"\r\n")))
    out.append(("hex wrapped", wrap(s.hex().encode(), 7, b"\n")))
    out.append(("hex", b"dump " + s.hex().encode()))
    out.append(("hex_upper", b"DUMP " + s.hex().upper().encode()))
    out.append(("percent", b"GET /?k=" + urllib.parse.quote(s, safe="").encode()))
    out.append(("json", json.dumps({"k": s.decode()}, ensure_ascii=False).encode()))
    return out


def run_check(secret_list, path):
    with tempfile.NamedTemporaryFile("wb", delete=False) as f:
        for s in secret_list:
            f.write(base64.b64encode(s) + b"\n")
        lst = f.name
    try:
        p = subprocess.run([sys.executable, CHECK, lst, path], capture_output=True, timeout=60)
    finally:
        os.unlink(lst)
    return p.returncode, p.stdout.decode()


def main():
    fails = 0
    # Characters that percent- and JSON-encoding change, and '?' groups whose base64 and
    # base64url differ ("Pz8/" vs "Pz8_"), around a random body.
    s = ('k/"+=??????\\' + secrets.token_urlsafe(30) + "\t").encode()
    other = secrets.token_urlsafe(30).encode()
    with tempfile.TemporaryDirectory() as d:
        for name, data in planted_forms(s):
            path = os.path.join(d, "planted")
            with open(path, "wb") as f:
                f.write(data)
            rc, out = run_check([other, s], path)
            # the value is never printed, only its variant and index
            ok = rc == 1 and (" as %s in " % name) in out and "secret #2" in out \
                and s.decode() not in out
            print("  %s  a planted %s form fails the check" % ("ok  " if ok else "FAIL", name))
            fails += not ok
        path = os.path.join(d, "clean")
        with open(path, "wb") as f:
            f.write(b"nothing here but " + other[:10] + b" and noise " + secrets.token_bytes(64))
        rc, out = run_check([s, other], path)
        ok = rc == 0 and out == ""
        print("  %s  a file without the secrets passes" % ("ok  " if ok else "FAIL"))
        fails += not ok
        # directories are walked, and a finding in a nested file is reported
        os.makedirs(os.path.join(d, "sub", "deeper"))
        with open(os.path.join(d, "sub", "deeper", "x"), "wb") as f:
            f.write(s.hex().encode())
        rc, out = run_check([s], os.path.join(d, "sub"))
        ok = rc == 1 and "deeper/x" in out
        print("  %s  a directory is walked" % ("ok  " if ok else "FAIL"))
        fails += not ok
    print("test_noplain: %d failed" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
