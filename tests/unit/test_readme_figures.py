#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""README's figures about defaults agree with their one source of truth: rules/policy.yaml
(the compiled-in policy: flood burst and rate, capture size, the rename hold, read-back and ring
bounds), bpf/sprawl_events.h (the chunk size, exec and path bounds), bpf/sprawl.bpf.c and
bpf/path.bpf.h (sendmmsg messages, path depth) and userspace/source.c (the read-back slice): the
README's Bounds table. A README that drifts from the code fails here
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
    bpf = read("bpf/sprawl.bpf.c")
    path_h = read("bpf/path.bpf.h")
    source = read("userspace/source.c")

    def shifted(pattern, text, what):  # "(256u << 10)" or "4096"
        v = one(pattern, text, what)
        m = re.match(r"\((\d+)u? << (\d+)\)", v)
        return int(m.group(1)) << int(m.group(2)) if m else int(v)

    args_len = shifted(r"#define SW_ARGS_LEN\s+(\(\d+u? << \d+\)|\d+)", events, "SW_ARGS_LEN")
    env_len = shifted(r"#define SW_ENV_LEN\s+(\(\d+u? << \d+\)|\d+)", events, "SW_ENV_LEN")
    path_len = shifted(r"#define SW_PATH_LEN\s+(\(\d+u? << \d+\)|\d+)", events, "SW_PATH_LEN")
    slice_ = shifted(r"#define READBACK_SLICE\s+(\(\d+u? << \d+\)|\d+)", source, "READBACK_SLICE")
    readback = int(one(r"\n  readback_max_bytes:\s*(\d+)", policy, "policy readback_max_bytes"))
    ringbuf = int(one(r"\n  ringbuf_bytes:\s*(\d+)", policy, "policy ringbuf_bytes"))
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
            ("exec argv bound (KiB)", int(one(r"\| exec argv \| (\d+) KiB", readme, "README argv")),
         args_len >> 10),
        ("exec argv gap name", one(r"\(`exec_args_past_(\d+)KiB`\)", readme, "README argv gap"),
         str(args_len >> 10)),
        ("exec env bound (KiB)", int(one(r"\| exec environment \| (\d+) KiB", readme, "README env")),
         env_len >> 10),
        ("exec env gap name", one(r"\(`exec_env_past_(\d+)KiB`\)", readme, "README env gap"),
         str(env_len >> 10)),
        ("read-back bound (GiB)",
         int(one(r"\| bytes of one copy or file read back \| (\d+) GiB", readme, "README read-back")),
         readback >> 30),
        ("sendmmsg messages", int(one(r"\| messages of one sendmmsg \| (\d+)", readme, "README sendmmsg")),
         int(one(r"#define SENDMMSG_MAX\s+(\d+)", bpf, "SENDMMSG_MAX"))),
        ("path bytes", int(one(r"\| path of an artifact \| (\d+) bytes", readme, "README path")), path_len),
        ("path components", int(one(r"\| path of an artifact \| \d+ bytes, (\d+) components", readme,
                                    "README depth")),
         int(one(r"#define SW_PATH_DEPTH\s+(\d+)", path_h, "SW_PATH_DEPTH"))),
        ("ring buffer (MiB)", int(one(r"\| ring buffer \| (\d+) MiB", readme, "README ring")), ringbuf >> 20),
    ]
    slices = re.findall(r"(\d+) MiB a turn of the event loop", readme)
    checks += [("read-back slice (MiB)", int(s), slice_ >> 20) for s in slices] or \
        [("read-back slice (MiB)", None, slice_ >> 20)]
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
