#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks a tlsfind-probe capture against what tls_sink.py received.

    compare.py CAPTURE LOG_DIR MARKER

Passes (exit 0) when the hooked calls account for every plaintext byte the server got and
for nothing else: each connection's stream is exactly the concatenation, in order, of the
buffers (2nd argument) of the calls on one TLS connection object (1st argument), every call
matches a connection, and MARKER (the request's random text) is in a captured buffer.
Buffers over the probe's cap are compared on their captured prefix and their full length.
"""
import glob
import os
import struct
import sys

CAP = 16384
cap_path, log_dir, marker = sys.argv[1], sys.argv[2], sys.argv[3].encode()

data = open(cap_path, "rb").read()
records = []  # (conn, length, captured bytes)
i = 0
while i < len(data):
    conn, length = struct.unpack_from("<QQ", data, i)
    i += 16
    keep = min(length, CAP)
    records.append((conn, length, data[i:i + keep]))
    i += keep

streams = {}
for p in sorted(glob.glob(os.path.join(log_dir, "conn-*.bin"))):
    s = open(p, "rb").read()
    if s:
        streams[os.path.basename(p)] = s

groups = {}
for conn, length, buf in records:
    groups.setdefault(conn, []).append((length, buf))

consumed = {name: 0 for name in streams}
errors = []
for conn, recs in groups.items():
    cur = None
    for length, buf in recs:
        if cur is None:
            # A new connection on this object: the unused stream that starts with this call.
            cands = [n for n, s in streams.items() if consumed[n] == 0 and s.startswith(buf)]
            if not cands:
                errors.append("call of %d bytes on %#x matches no connection" % (length, conn))
                continue
            cur = cands[0]
        s, pos = streams[cur], consumed[cur]
        if s[pos:pos + len(buf)] != buf or pos + length > len(s):
            errors.append("call of %d bytes on %#x differs from %s at %d" % (length, conn, cur, pos))
            cur = None
            continue
        consumed[cur] = pos + length
        if consumed[cur] == len(s):
            cur = None

for name, s in streams.items():
    if consumed[name] != len(s):
        errors.append("%s: %d of %d bytes the server got went through no hooked call"
                      % (name, len(s) - consumed[name], len(s)))
if not any(marker in buf for _, _, buf in records):
    errors.append("the marker is in no captured buffer")

total = sum(len(s) for s in streams.values())
print("compare: %d calls on %d connection objects, %d connections, %d bytes received, %d errors"
      % (len(records), len(groups), len(streams), total, len(errors)))
for e in errors[:20]:
    print("compare: " + e)
sys.exit(1 if errors or not streams else 0)
