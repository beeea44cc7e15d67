#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Replay equals live: the alerts a trace replay raises are the live daemon's, field for field
(kind, secret, variant, artifact, process, session, severity, time). Alerts the daemon makes
outside the pipeline (state warnings about its own files, a full ClickHouse spool) are not in a
trace and not compared.
Usage: replay_equals_live.py LIVE.jsonl REPLAY.jsonl; exit 0 when equal, else the differences."""
import collections
import json
import sys

OUTSIDE = {"state_warning"}


def key(a):
    p = a.get("process", {})
    s = a.get("session", {})
    return json.dumps(
        [
            a["time"],
            a["kind"],
            a.get("severity"),
            a.get("secret"),
            a.get("artifact"),
            [p.get("pid"), p.get("ppid"), p.get("uid"), p.get("comm"), p.get("exe"), p.get("argv")],
            [s.get("id"), s.get("agent"), s.get("root_pid"), s.get("root_exe")],
            a.get("first_seen"),
            a.get("count"),
            a.get("gaps"),
            a.get("channel"),
        ],
        sort_keys=True,
    )


def load(path):
    out = collections.Counter()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                a = json.loads(line)
                if a["kind"] in OUTSIDE:
                    continue
                # The ClickHouse spool is the daemon's, not a record: its gap is not replayed.
                if a["kind"] == "coverage_gap" and set(a.get("gaps", {})) == {"clickhouse_spool_full"}:
                    continue
                out[key(a)] += 1
    return out


live, replay = load(sys.argv[1]), load(sys.argv[2])
if live == replay:
    print(f"{sum(live.values())} alert(s), equal")
    sys.exit(0)
for k in sorted((live - replay).keys()):
    print("live only:  ", k)
for k in sorted((replay - live).keys()):
    print("replay only:", k)
sys.exit(1)
