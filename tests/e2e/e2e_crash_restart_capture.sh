#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A daemon crash or restart blinds nothing: programs, ring and maps stay pinned while no
# daemon runs, so capture goes on; the next daemon reads the ring and alerts on what it
# holds, and one coverage_gap says from when to when no daemon ran, which sessions lived
# then and what was lost. `sprawlctl status` reports programs left pinned with no daemon.
. "$(dirname "$0")/lib.sh"

# session_of ROOTPID: the session id status gives the root
session_of() {
	"$SPRAWLCTL" status --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
print(next(x['id'] for x in s['sessions'] if x['root_pid'] == $1))"
}
# waiting_session NAME CMD: a session (agent NAME) whose root writes its pid to $WORK/NAME.pid,
# waits for $WORK/NAME.go, then runs CMD; its runner's pid in RUNNER
waiting_session() {
	"$SPRAWLCTL" run --agent "$1" -- sh -c "echo \$\$ > '$WORK/$1.pid'; i=0; while [ ! -e '$WORK/$1.go' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done; $2" &
	RUNNER=$!
	for _ in $(seq 50); do [ -s "$WORK/$1.pid" ] && break; sleep 0.1; done
}
orphans_reported() {
	local out
	out=$("$SPRAWLCTL" status 2>&1) && return 1 # no daemon: status fails
	grep -q "programs left pinned with no daemon: $SPRAWL_PIN_DIR/b" <<<"$out" &&
		[ "$("$SPRAWLCTL" status --json 2>/dev/null | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["running"], len(s["pinned"]), s["pinned"][0]["links"], s["pinned"][0]["daemon_alive"] is not None)')" = "False 1 4 True" ]
}

e2e_start
T=$(new_secret CRASH_KEY)
printf 'CRASH_KEY=%s\n' "$T" >"$E2E_TMP/src.env"

# 1. kill -9 while a session runs; it leaks while no daemon runs; a restart alerts on it.
waiting_session crashy "read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$WORK/while_down'"
S1=$(session_of "$(cat "$WORK/crashy.pid")")
sleep 1.2 # a sign of life in the meta map
e2e_crash
check "with no daemon, status reports the programs left pinned (4 links, the last daemon's time)" orphans_reported
touch "$WORK/crashy.go"
wait "$RUNNER"
check "the leak happened while no daemon ran" test -s "$WORK/while_down"
e2e_start
wait_alerts 1 "a['artifact'].get('path')=='$WORK/while_down'" 10
barrier
expect_alerts "the leak written while no daemon ran alerts once, in its session" 1 \
	"a.get('artifact',{}).get('path')=='$WORK/while_down' and a['session']['id']==$S1"
expect_alerts "one coverage_gap for the window: its session, how long, nothing lost" 1 \
	"a['kind']=='coverage_gap' and 'no_daemon_ms' in a['gaps'] and a['count']==1 and a['session']['id']==$S1 and 'ringbuf_full' not in a['gaps'] and 'no daemon ran from 20' in a['message']"
check "the start says the programs ran on without a daemon" \
	grep -q "ran on without a daemon" "$E2E_TMP/daemon.err"
check "... and reuses them (the same build: no new pin directory)" \
	test "$(ls -d "$SPRAWL_PIN_DIR"/b* | wc -l)" -eq 1
BUILD1=$(ls -d "$SPRAWL_PIN_DIR"/b*)
e2e_stop

# 2. A clean stop with no session alive and nothing lost: the restart is silent. Another
# ring size is another build: the old programs are replaced, not reused.
ALERTS=$E2E_TMP/alerts-ring.jsonl
e2e_start --ringbuf-mb 1
check "another build replaces the pinned one" \
	test "$(ls -d "$SPRAWL_PIN_DIR"/b*)" != "$BUILD1" -a "$(ls -d "$SPRAWL_PIN_DIR"/b* | wc -l)" -eq 1
# 3. kill -9; the session leaks, then floods a pipe far past the 1 MiB ring while no daemon
# runs: the leak, held in the ring, still alerts, and the gap counts the lost records.
waiting_session flooder "read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$WORK/before_flood'; dd if=/dev/zero bs=64k count=500 status=none | cat >/dev/null"
S2=$(session_of "$(cat "$WORK/flooder.pid")")
sleep 1.2
e2e_crash
touch "$WORK/flooder.go"
wait "$RUNNER"
e2e_start --ringbuf-mb 1
wait_alerts 1 "a['artifact'].get('path')=='$WORK/before_flood'" 10
barrier
expect_alerts "the leak held in the ring alerts once after the restart" 1 \
	"a.get('artifact',{}).get('path')=='$WORK/before_flood' and a['session']['id']==$S2"
expect_alerts "one coverage_gap for the window, counting the records the full ring lost" 1 \
	"a['kind']=='coverage_gap' and 'no_daemon_ms' in a['gaps'] and a['gaps'].get('ringbuf_full',0)>0 and a['session']['id']==$S2"
expect_alerts "the loss is told once: no other coverage_gap counts ringbuf_full" 1 \
	"a['kind']=='coverage_gap' and a['gaps'].get('ringbuf_full',0)>0"

# 3b. kill -9; the session floods four files while no daemon runs, a secret in the middle of
# one: the ring fills, the file writes are spilled in the kernel and the next daemon reads them
# back: the secret alerts once, no record lost.
cat >"$E2E_TMP/flood.py" <<'PY'
import os, sys
v = open(sys.argv[1], "rb").read()
w, name = sys.argv[2], sys.argv[3]
zero = b"\0" * 4096
mid = (b"\0" * 1000 + b"\nKEY=" + v + b"\n").ljust(4096, b"\0")
kids = []
for k in range(4):
    pid = os.fork()
    if pid == 0:
        fd = os.open("%s/%s.%d" % (w, name, k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for i in range(8192):
            os.write(fd, mid if (k == 2 and i == 4096) else zero)
        os.close(fd)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)
PY
printf '%s' "$T" >"$E2E_TMP/value"
waiting_session fileflood "python3 '$E2E_TMP/flood.py' '$E2E_TMP/value' '$WORK' down_flood"
S4=$(session_of "$(cat "$WORK/fileflood.pid")")
e2e_crash
touch "$WORK/fileflood.go"
wait "$RUNNER"
ALERTS=$E2E_TMP/alerts-fileflood.jsonl
e2e_start --ringbuf-mb 1
wait_alerts 1 "a['artifact'].get('path')=='$WORK/down_flood.2'" 20
barrier
expect_alerts "a file flooded while no daemon ran: its spilled secret is read back and alerts once" 1 \
	"a.get('secret',{}).get('name')=='CRASH_KEY' and a['artifact']['path']=='$WORK/down_flood.2' and a['session']['id']==$S4"
expect_alerts "... one coverage_gap for the window, no record lost" 1 \
	"a['kind']=='coverage_gap' and a['session']['id']==$S4 and 'ringbuf_full' not in a['gaps']"

# 4. An upgrade (another build, the same record format): the old programs are detached, ours
# attached, and the old ring is read: the leak it holds alerts.
waiting_session upgrade "read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$WORK/old_ring'"
S3=$(session_of "$(cat "$WORK/upgrade.pid")")
e2e_crash
touch "$WORK/upgrade.go"
wait "$RUNNER"
ALERTS=$E2E_TMP/alerts-upgrade.jsonl
e2e_start --ringbuf-mb 2
wait_alerts 1 "a['artifact'].get('path')=='$WORK/old_ring'" 10
barrier
expect_alerts "an upgrade reads the old build's ring: its leak alerts once" 1 \
	"a.get('artifact',{}).get('path')=='$WORK/old_ring' and a['session']['id']==$S3"
expect_alerts "... and one coverage_gap names the session, nothing lost or thrown away" 1 \
	"a['kind']=='coverage_gap' and a['session']['id']==$S3 and 'ring_bytes_dropped' not in a['gaps']"
check "... the old build's pins are gone" test "$(ls -d "$SPRAWL_PIN_DIR"/b* | wc -l)" -eq 1

# 5. An upgrade whose record format differs cannot read the old ring (faked here: the pinned
# meta map made to say format 0): its bytes are counted as thrown away, in one gap.
waiting_session oldformat "read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$WORK/other_format'"
e2e_crash
touch "$WORK/oldformat.go"
wait "$RUNNER"
META=$(ls -d "$SPRAWL_PIN_DIR"/b*)/meta
python3 - "$META" <<'PY'
import json, subprocess, sys
v = json.loads(subprocess.check_output(["bpftool", "-j", "map", "lookup", "pinned", sys.argv[1], "key", "0", "0", "0", "0"]))
val = [int(x, 16) for x in v["value"]]
val[20:24] = [0, 0, 0, 0]  # sw_meta.format
subprocess.check_call(["bpftool", "map", "update", "pinned", sys.argv[1], "key", "0", "0", "0", "0", "value"] + [str(x) for x in val])
PY
ALERTS=$E2E_TMP/alerts-format.jsonl
e2e_start
barrier
expect_alerts "another record format: one coverage_gap counts the old ring's bytes thrown away" 1 \
	"a['kind']=='coverage_gap' and a['gaps'].get('ring_bytes_dropped',0)>0 and 'another record format' in a['message']"
expect_alerts "... and its records are not read" 0 "a.get('artifact',{}).get('path')=='$WORK/other_format'"
e2e_stop
check "a stopped daemon leaves its programs pinned" test -e "$(ls -d "$SPRAWL_PIN_DIR"/b*)/link_sw_sys_exit"
e2e_finish
