#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No local user can stall, steer or read the daemon through its control socket (README
# "The control socket"). Unprivileged clients of eight uids drip request bytes, ask and never
# read, follow alerts and never read, send over-long lines and sit silent, reconnecting as
# soon as they are closed, so every slot open to them stays taken; meanwhile a root session
# leaks a secret: its alert is in the alert file within 1 s of the write and `sprawlctl run`
# works. A non-root `status --json` shows the user's own session only and no secret name or
# place; non-root `secrets add` and `reload` are refused.
. "$(dirname "$0")/lib.sh"

e2e_start
SECRET=$(new_secret ABUSE_KEY abuse_ 30)
SOCK=$SPRAWL_RUN_DIR/control.sock
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }

# A place only root may see: the secret in a file whose name is distinctive.
"$SPRAWLCTL" run -- sh -c "printf '%s\n' '$SECRET' > '$WORK/root_only_place.txt'"
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/root_only_place.txt'" 10
"$SPRAWLCTL" status --json >"$E2E_TMP/root-status.json"
check "root's status names the secret and the places it reached" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["places_visible"] and any(p["secret"]["name"] == "ABUSE_KEY" and
         p["place"].startswith("file:") for p in s["places"]) else 1)' "$E2E_TMP/root-status.json"

# uid 65534's own session (a sleeper) and what it may see.
as 65534 "$SPRAWLCTL" run --agent nobodys -- sleep 30 &
E2E_KILL="${E2E_KILL:-} $!"
for _ in $(seq 50); do "$SPRAWLCTL" status --json | grep -q '"nobodys"' && break; sleep 0.1; done
as 65534 "$SPRAWLCTL" status --json >"$E2E_TMP/nobody-status.json"
check "as uid 65534: status answers" test -s "$E2E_TMP/nobody-status.json"
check "as uid 65534: status shows its own session and no other" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
agents = [x["agent"] for x in s["sessions"]]
sys.exit(0 if agents == ["nobodys"] and s["places"] == [] and s["places_visible"] is False else 1)' \
	"$E2E_TMP/nobody-status.json"
check "as uid 65534: no secret name and no path of root's in status" \
	bash -c "! grep -q -e ABUSE_KEY -e 'file:' -e 'exec_arg:' -e '$WORK' '$E2E_TMP/nobody-status.json'"
out=$(printf '%s' "$(gen_secret nr_ 30)" | as 65534 "$SPRAWLCTL" secrets add NOBODY_KEY 2>&1)
check "as uid 65534: secrets add is refused (needs root)" \
	bash -c "[ $? -ne 0 ] && grep -q 'needs root' <<<'$out' && ! '$SPRAWLCTL' secrets list | grep -q NOBODY_KEY"

# The abusers: one process per uid, eight connections each (the per-uid cap), each closed
# connection reopened at once. They never read: on a hang-up they peek at what is queued only
# to tell "refused over a cap" from "closed at a deadline".
cat >"$E2E_TMP/abuse.py" <<'PY'
import json, select, socket, sys, time
path, secs, report = sys.argv[1], float(sys.argv[2]), sys.argv[3]
modes = ["drip", "follow", "spam", "silent", "long", "drip", "follow", "spam"]
st = {"connects": 0, "refused": 0, "closed": 0, "failed": 0}
conns = {}  # fd -> [sock, mode, next drip time]
poll = select.poll()
def open_one(mode):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(path)
    except OSError:
        st["failed"] += 1
        s.close()
        return
    s.setblocking(False)
    st["connects"] += 1
    try:
        if mode == "follow":
            s.send(b"follow\n")
        elif mode == "spam":
            s.send(b"status\n" * 2000)
        elif mode == "long":
            s.send(b"s" * 6000)
    except OSError:
        pass
    conns[s.fileno()] = [s, mode, time.time()]
    poll.register(s.fileno(), select.POLLHUP | 0x2000 | select.POLLERR)
for m in modes:
    open_one(m)
end = time.time() + secs
while time.time() < end:
    for fd, ev in poll.poll(50):
        s, mode, _ = conns.pop(fd)
        poll.unregister(fd)
        try:
            head = s.recv(64, socket.MSG_PEEK)
        except OSError:
            head = b""
        st["refused" if head.startswith(b"err too many") else "closed"] += 1
        s.close()
        time.sleep(0.02)
        open_one(mode)
    now = time.time()
    for c in list(conns.values()):
        if c[1] == "drip" and now >= c[2]:
            try:
                c[0].send(b"s")
            except OSError:
                pass
            c[2] = now + 0.3
    while len(conns) < len(modes):  # a connect that failed: try again
        time.sleep(0.05)
        open_one(modes[len(conns) % len(modes)])
json.dump(st, open(report, "w"))
PY
PIDS=
mkdir -m 1777 "$E2E_TMP/abuse"
for u in 65534 65533 65532 65531 65530 65529 65528 65527; do
	as "$u" /usr/bin/python3 "$E2E_TMP/abuse.py" "$SOCK" 12 "$E2E_TMP/abuse/$u.json" &
	PIDS="$PIDS $!"
done
E2E_KILL="${E2E_KILL:-} $PIDS"
sleep 3
# Every slot open to non-root users is held (56 of 64); root still gets in.
check "root's status answers while the abusers hold the socket" \
	bash -c "'$SPRAWLCTL' status --json > '$E2E_TMP/held.json'"
check "the non-root slots are all taken and over-cap connections refused" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["control"]
print("  (clients %d, refused %d, dropped %d)" % (c["clients"], c["refused"], c["dropped"]))
sys.exit(0 if c["clients"] >= 50 and c["refused"] > 0 else 1)' "$E2E_TMP/held.json"

# The leak under siege: write time to alert-in-file time, measured by the watcher.
LEAK=$WORK/leak_under_siege.txt
python3 - "$ALERTS" "$LEAK" "$E2E_TMP/latency" <<'PY' &
import json, sys, time
alerts, leak, out = sys.argv[1:4]
end = time.time() + 10
while time.time() < end:
    for line in open(alerts):
        a = json.loads(line)
        if a.get("kind") == "secret_spread" and (a.get("artifact") or {}).get("path") == leak:
            seen = time.time()
            for _ in range(100):
                try:
                    written = float(open(leak + ".t").read())
                    break
                except (OSError, ValueError):
                    time.sleep(0.01)
            open(out, "w").write("%.3f" % (seen - written))
            sys.exit(0)
    time.sleep(0.01)
PY
WATCHER=$!
check "sprawlctl run works while the abusers hold the socket" \
	"$SPRAWLCTL" run -- python3 -c "
import sys, time
open(sys.argv[1], 'w').write(sys.argv[2] + '\n')
open(sys.argv[1] + '.t', 'w').write(repr(time.time()))" "$LEAK" "$SECRET"
wait "$WATCHER"
LAT=$(cat "$E2E_TMP/latency" 2>/dev/null || echo none)
echo "  (leak to alert: ${LAT} s)"
check "the leak's alert is in the alert file within 1 s of the write" \
	python3 -c "import sys; sys.exit(0 if sys.argv[1] != 'none' and float(sys.argv[1]) < 1.0 else 1)" "$LAT"
expect_alerts "exactly one alert for the leak" 1 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$LEAK' and a['secret']['name']=='ABUSE_KEY'"
for p in $PIDS; do wait "$p"; done
check "the abusers were closed at deadlines and refused over caps" python3 -c '
import glob, json, sys
t = {}
for f in glob.glob(sys.argv[1] + "/*.json"):
    for k, v in json.load(open(f)).items():
        t[k] = t.get(k, 0) + v
print("  (%s)" % t)
sys.exit(0 if len(glob.glob(sys.argv[1] + "/*.json")) == 8 and t["closed"] > 8 and t["refused"] > 0 else 1)' "$E2E_TMP/abuse"
check "as uid 65534: a reload request is refused" bash -c "
	as() { setpriv --reuid=65534 --regid=65534 --clear-groups \"\$@\"; }
	as /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(sys.argv[1]); s.sendall(b\"reload\n\")
sys.exit(0 if s.recv(200).startswith(b\"err reloading needs root\") else 1)' '$SOCK'"
check "the daemon still answers after the siege" "$SPRAWLCTL" status
e2e_stop
e2e_finish
