#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Agents cannot opt out: a session survives a daemon restart (the scope map is pinned; the
# window no daemon ran is one coverage_gap naming it), and
# `sprawlctl watch PID` makes an already running process a session root.
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret RESTART_KEY)
printf 'RESTART_KEY=%s\n' "$T" >"$E2E_TMP/src.env"
# A session whose root waits for a go file, then leaks: it outlives the daemon's restart.
"$SPRAWLCTL" run --agent longlived -- sh -c "echo \$\$ > '$WORK/root.pid'; i=0; while [ ! -e '$WORK/go' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done; read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$WORK/after_restart'" &
RUNNER=$!
for _ in $(seq 50); do [ -s "$WORK/root.pid" ] && break; sleep 0.1; done
ROOT=$(cat "$WORK/root.pid")
SESSION=$("$SPRAWLCTL" status --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
print(next(x['id'] for x in s['sessions'] if x['root_pid'] == $ROOT))")
check "SIGTERM stops the daemon while the session runs" e2e_stop
e2e_start
touch "$WORK/go"
wait "$RUNNER"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/after_restart'" 10
barrier
expect_alerts "after a restart the pinned session is still watched, same session id" 1 \
	"a.get('artifact',{}).get('path')=='$WORK/after_restart' and a['session']['id']==$SESSION and a['session']['root_pid']==$ROOT"
expect_alerts "the session lived while no daemon ran: one coverage_gap names it, nothing lost" 1 \
	"a['kind']=='coverage_gap' and a['session']['id']==$SESSION and 'ringbuf_full' not in a['gaps']"

# watch: a process that started outside any session.
sh -c "echo \$\$ > '$WORK/outside.pid'; i=0; while [ ! -e '$WORK/go2' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done; read -r l < '$E2E_TMP/src.env'; printf '%s\n' \"\$l\" > '$WORK/watched'" &
OUTSIDE=$!
for _ in $(seq 50); do [ -s "$WORK/outside.pid" ] && break; sleep 0.1; done
check "sprawlctl watch PID makes it a session root" \
	bash -c "'$SPRAWLCTL' watch $(cat "$WORK/outside.pid") >/dev/null"
touch "$WORK/go2"
wait "$OUTSIDE"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/watched'" 10
barrier
expect_alerts "the watched process's write alerts, in a session labelled watched" 1 \
	"a.get('artifact',{}).get('path')=='$WORK/watched' and a['session']['agent']=='watched' and a['session']['root_pid']==$OUTSIDE"
watch_missing() {
	local out
	out=$("$SPRAWLCTL" watch 99999999 2>&1) && return 1
	grep -q 'no such process' <<<"$out"
}
check "watch of a pid that does not exist fails, saying so" watch_missing
expect_alerts "three alerts in all" 3 "True"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
