#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The alert stream: the JSON file (reopened on SIGHUP for logrotate), stdout, the control
# socket stream behind `sprawlctl alerts --follow`, a hook command (argv, no shell) fed each
# alert on stdin; OCSF encoding; flood control; the registry across restarts and when corrupt.
# No sink output may contain the plaintext.
. "$(dirname "$0")/lib.sh"
# Its restarts damage the registry and encode OCSF: state a trace does not hold, so a replay
# cannot equal these runs (every other e2e test checks replay = live).
E2E_REPLAY_CHECKED=1

cat >"$E2E_TMP/hook.sh" <<'SH'
#!/bin/sh
# one alert on stdin per run; the argument says where to append it
cat >>"$1"
echo >>"$1"
SH
chmod +x "$E2E_TMP/hook.sh"
HOOK_OUT=$E2E_TMP/hook.out

e2e_start --hook "$E2E_TMP/hook.sh" --hook-arg "$HOOK_OUT" --hook-timeout-ms 2000
T=$(new_secret SINK_KEY)
printf 'SINK_KEY=%s\n' "$T" >"$E2E_TMP/src.env"
"$SPRAWLCTL" alerts --follow >"$E2E_TMP/follow.out" 2>&1 &
FOLLOW=$!
E2E_KILL="${E2E_KILL:-} $FOLLOW"
sleep 0.5
leak() { "$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$1'"; }
leak "$WORK/a1"
leak "$WORK/a2"
wait_alerts 2 "a['kind']=='secret_spread'" 10
# logrotate: move the file away, SIGHUP, the next alert goes to a new file at the same path.
mv "$ALERTS" "$ALERTS.1"
kill -HUP "$DAEMON_PID"
sleep 0.5
leak "$WORK/a3"
wait_alerts 1 "a['kind']=='secret_spread'" 10
barrier
# the test's own secret only (the barrier's sentinel alerts go to every sink too)
lines() { grep '"kind":"secret_spread"' "$1" 2>/dev/null | grep -c '"name":"SINK_KEY"'; }
check "rotated file kept the two earlier alerts" test "$(lines "$ALERTS.1")" -eq 2
check "the reopened file has the one alert after SIGHUP" test "$(lines "$ALERTS")" -eq 1
check "stdout got all three" test "$(lines "$E2E_TMP/daemon.out")" -eq 3
check "alerts --follow streamed all three" test "$(lines "$E2E_TMP/follow.out")" -eq 3
check "the hook got each alert's JSON on stdin (three)" test "$(lines "$HOOK_OUT")" -eq 3
stop_follow() {
	local i
	kill -INT "$FOLLOW"
	for i in $(seq 20); do kill -0 "$FOLLOW" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
check "alerts --follow stops on Ctrl-C (SIGINT) at once" stop_follow
check "hook output is valid JSON, one object per alert" python3 -c "
import json, sys
objs = [json.loads(l) for l in open('$HOOK_OUT') if l.strip()]
names = [o['secret']['name'] for o in objs]
sys.exit(0 if names.count('SINK_KEY') == 3 else 1)"

# Flood control: a runaway loop writing the secret into 30 new files in one session.
cat "$ALERTS" >>"$ALERTS.1"; : >"$ALERTS"
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src.env'; i=0; while [ \$i -lt 30 ]; do printf '%s\n' \"\$l\" > '$WORK/loop.'\$i; i=\$((i+1)); done"
wait_alerts 1 "a['kind']=='rate_limited'" 16
barrier
expect_alerts "flood control: the burst (20) gets through" 20 "a['kind']=='secret_spread'"
SUPP=$(python3 -c "
import json
print(sum(json.loads(l)['count'] for l in open('$ALERTS') if json.loads(l)['kind']=='rate_limited'))")
expect_alerts "one rate_limited summary for (SINK_KEY, that session)" 1 \
	"a['kind']=='rate_limited' and a['secret']['name']=='SINK_KEY'"
check "a rate_limited summary counts what was held back (got $SUPP of 10)" test "$SUPP" -eq 10
check "status counts all 10 held back" bash -c "'$SPRAWLCTL' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"suppressed\"]==10 else 1)'"
check "SIGTERM stops the daemon cleanly" e2e_stop

# Restart: the registry remembers; the same file again is counted, not alerted.
cat "$ALERTS" >>"$ALERTS.1"; : >"$ALERTS"
e2e_start
leak "$WORK/a1"
barrier "the repeat sighting of a1 processed"
expect_alerts "after a restart, a known (secret, file) pair does not alert again" 0 "a['kind']!='session_summary'"
check "status shows the repeat sighting counted (count 2 for a1)" bash -c "'$SPRAWLCTL' status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if any(p[\"count\"] == 2 and p[\"secret\"][\"name\"] == \"SINK_KEY\" for p in s[\"places\"]) else 1)'"
e2e_stop

# A corrupt registry: one warning, a rebuild, no crash and no flood.
head -c 300 /dev/urandom >"$SPRAWL_STATE_DIR/registry.pb"
e2e_start
barrier "start-up (registry load) done"
expect_alerts "a corrupt registry raises exactly one state_warning" 1 "a['kind']=='state_warning'"
check "the corrupt file is set aside" bash -c "ls '$SPRAWL_STATE_DIR' | grep -q 'registry.pb.corrupt'"
check "the daemon still answers" bash -c "'$SPRAWLCTL' status >/dev/null"
e2e_stop
cat "$ALERTS" >>"$ALERTS.1"; : >"$ALERTS"

# OCSF: the same pipeline, encoded as Detection Finding.
e2e_start --format ocsf
leak "$WORK/o1"
wait_alerts 1 "a.get('class_uid')==2004" 10
expect_alerts "--format ocsf: a Detection Finding (class_uid 2004, category 2)" 1 \
	"a['class_uid']==2004 and a['category_uid']==2 and a['type_uid']==200401 and a['finding_info']['title']"
e2e_stop
kill "$FOLLOW" 2>/dev/null
E2E_SCAN+=("$ALERTS.1" "$HOOK_OUT" "$E2E_TMP/follow.out")
e2e_finish
