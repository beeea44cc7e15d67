# SPDX-License-Identifier: Apache-2.0
"""Alert latency for tests/bench/run.sh: time from a tracked write()/sendto() of a registered
secret to its alert line arriving on `sprawlctl alerts --follow`.

usage: latency.py SPRAWLCTL WRITER WORKDIR SECRET_FILE SAMPLES UDP_PORT_BASE

One long-lived tracked process (`sprawlctl run -- writer leak`) does the leaks on command, so
process start-up is not in the numbers; it reports CLOCK_MONOTONIC just before the syscall and
this script stamps each alert line with the same clock as it is read from the stream. Every
sample uses a new artifact (a new file, a new UDP port), so each one is a first sighting.
Prints one JSON object with the samples (ms) per channel.
"""
import json
import os
import random
import subprocess
import sys
import threading
import time


def main():
    ctl, writer, work, secret_file, samples, port_base = sys.argv[1:7]
    samples, port_base = int(samples), int(port_base)
    with open(secret_file) as f:
        secret = f.readline().strip()

    arrivals = {}  # artifact key -> monotonic ns of arrival
    cond = threading.Condition()
    follow = subprocess.Popen([ctl, "alerts", "--follow"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, bufsize=0)

    def reader():
        buf = b""
        while True:
            chunk = os.read(follow.stdout.fileno(), 65536)
            t = time.monotonic_ns()
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    a = json.loads(line)
                except ValueError:
                    continue
                art = a.get("artifact") or {}
                key = art.get("path") or art.get("peer")
                if key:
                    with cond:
                        arrivals.setdefault(key, t)
                        cond.notify_all()

    th = threading.Thread(target=reader, daemon=True)
    th.start()

    leak = subprocess.Popen([ctl, "run", "--", writer, "leak"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    leak.stdin.write(secret + "\n")
    leak.stdin.flush()
    secret = None

    def one(cmd, key):
        leak.stdin.write(cmd + "\n")
        leak.stdin.flush()
        line = leak.stdout.readline()
        if not line:
            raise SystemExit("latency: leak process died")
        t0 = int(line)
        deadline = time.monotonic() + 5.0
        with cond:
            while key not in arrivals and time.monotonic() < deadline:
                cond.wait(0.05)
            t1 = arrivals.get(key)
        return None if t1 is None else (t1 - t0) / 1e6

    out = {}
    try:
        run_samples(one, samples, work, port_base, out)
    finally:
        try:
            leak.stdin.close()
            leak.wait(timeout=10)
        except Exception:
            leak.kill()
        # `alerts --follow` only notices SIGTERM when the next line arrives; kill it outright
        follow.kill()
        follow.wait(timeout=5)
    print(json.dumps(out))


def run_samples(one, samples, work, port_base, out):
    for chan in ("file", "udp"):
        # one warm-up sample (stream connected, session known, pages touched), not counted
        res, missing = [], 0
        for i in range(samples + 1):
            if chan == "file":
                path = os.path.join(work, "lat-%d.txt" % i)
                ms = one("f " + path, path)
            else:
                port = port_base + i
                ms = one("u %d" % port, "127.0.0.1:%d" % port)
            if i == 0:
                continue
            if ms is None:
                missing += 1
            else:
                res.append(ms)
            # random spacing: the daemon releases held alerts on a timer tick, and samples
            # spaced from the previous arrival would all land at the same tick phase
            time.sleep(0.05 + random.random() * 0.3)
        out[chan] = {"ms": res, "missing": missing}


if __name__ == "__main__":
    main()
