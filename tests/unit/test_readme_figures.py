#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""README's figures about defaults agree with their one source of truth: rules/policy.yaml
(the compiled-in policy: flood burst and rate, capture size, the rename hold) and
bpf/sprawl_events.h (the chunk size). A README that drifts from the code fails here
(STYLE.md rule 13)."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def read(p):
    with open(os.path.join(ROOT, p)) as f:
        return f.read()


def one(pattern, text, what):
    m = re.findall(pattern, text, re.S)
    if len(m) != 1:
        sys.exit("test_readme_figures: %s: expected one match of %r, got %d" % (what, pattern, len(m)))
    return m[0]


def main():
    readme = " ".join(read("README.md").split())  # line breaks do not matter
    policy = read("rules/policy.yaml")
    events = read("bpf/sprawl_events.h")
    burst = int(one(r"flood:\s*\n\s*burst:\s*(\d+)", policy, "policy burst"))
    per_min = int(one(r"flood:\s*\n\s*burst:\s*\d+\s*\n\s*per_minute:\s*(\d+)", policy, "policy per_minute"))
    max_bytes = int(one(r"\n  max_bytes:\s*(\d+)", policy, "policy max_bytes"))
    chunk = int(one(r"#define SW_CHUNK\s+(\d+)", events, "SW_CHUNK"))
    hold_ms = int(one(r"\n  hold_ms:\s*(\d+)", policy, "policy hold_ms"))
    inflated = int(one(r"\n  max_inflated_bytes:\s*(\d+)", policy, "policy max_inflated_bytes"))
    ratio = int(one(r"\n  max_ratio:\s*(\d+)", policy, "policy max_ratio"))
    cache = int(one(r"\n  cache_bytes:\s*(\d+)", policy, "policy cache_bytes"))
    checks = [
        ("flood burst", int(one(r"allows a burst \((\d+)\)", readme, "README burst")), burst),
        ("flood rate per minute", int(one(r"then a rate \((\d+)/min\)", readme, "README rate")), per_min),
        ("capture size (MiB)", int(one(r"buffers up to (\d+) MiB per syscall", readme, "README max")),
         max_bytes >> 20),
        ("chunk size (KiB)", int(one(r"per syscall in (\d+) KiB chunks", readme, "README chunk")),
         chunk >> 10),
    ]
    checks += [
        ("inflated per file (MiB)", int(one(r"Bounded per file \(`rules/policy.yaml`, `inflate:`\): (\d+) MiB inflated",
                                             readme, "README inflated")), inflated >> 20),
        ("inflate ratio", int(one(r"(\d+) times the compressed bytes", readme, "README ratio")), ratio),
        ("delta-base cache (MiB)", int(one(r"and a (\d+) MiB delta-base cache", readme, "README cache")),
         cache >> 20),
    ]
    holds = re.findall(r"file alerts wait (\d+(?:\.\d+)?) s", readme)
    checks += [("rename hold (s)", float(h), hold_ms / 1000) for h in holds] or \
        [("rename hold (s)", None, hold_ms / 1000)]
    fails = 0
    for what, said, real in checks:
        ok = said == real
        fails += not ok
        print("  %s  README %s: %s (code: %s)" % ("ok  " if ok else "FAIL", what, said, real))
    print("test_readme_figures: %d failed" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
