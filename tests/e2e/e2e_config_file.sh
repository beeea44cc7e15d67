#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The daemon's config file: its keys take effect, a flag wins over the file, a hook's
# arguments from the file go with the file's hook, SIGHUP swaps the alert sinks (and keeps
# them when the new ones cannot be set up), `sprawlctl config check` reports file:line:col and
# a broken file stops the daemon before it attaches anything.
. "$(dirname "$0")/lib.sh"

CONF=$E2E_TMP/sprawlwatchd.yaml
FILE_ALERTS=$E2E_TMP/from-file.jsonl
cat >"$CONF" <<YAML
# written by $E2E_NAME
alerts: $FILE_ALERTS
format: ocsf
hook: /bin/sh
hook-arg: [-c, 'cat >> $E2E_TMP/hook.out']
YAML
check "config check accepts it" bash -c "'$SPRAWLCTL' config check '$CONF' | grep -qx '$CONF: ok'"

# --format json on the command line wins over the file's ocsf; the file's alerts path holds.
"$SPRAWLWATCHD" --config "$CONF" --format json >"$E2E_TMP/daemon.out" 2>"$E2E_TMP/daemon.err" &
DAEMON_PID=$!
for _ in $(seq 300); do "$SPRAWLCTL" status >/dev/null 2>&1 && break; sleep 0.1; done
SECRET=$(new_secret CONF_KEY)
printf '%s\n' "$SECRET" >"$E2E_TMP/src"
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/out'"
ALERTS=$FILE_ALERTS
wait_alerts 1 "a['kind']=='secret_spread'" 10
expect_alerts "the file's alerts path is used, in the flag's format (json, not ocsf)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/out' and 'class_uid' not in a"
for _ in $(seq 50); do [ -s "$E2E_TMP/hook.out" ] && break; sleep 0.1; done
check "the file's hook ran with the file's arguments" grep -q '"kind":"secret_spread"' "$E2E_TMP/hook.out"

# SIGHUP with other sinks: a new alert file, OCSF, no hook. The next alert goes there only.
NEW_ALERTS=$E2E_TMP/after-reload.jsonl
printf 'alerts: %s\nformat: ocsf\n' "$NEW_ALERTS" >"$CONF"
HOOK_LINES=$(grep -c . "$E2E_TMP/hook.out")
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q 'SIGHUP: alerts to' "$E2E_TMP/daemon.err" && break; sleep 0.1; done
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/out2'"
ALERTS=$NEW_ALERTS
wait_alerts 1 "a['artifact']['path']=='$WORK/out2'" 10
sleep 1
expect_alerts "after SIGHUP: the alert is in the new file, in the flag's json (flags still win)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/out2'"
ALERTS=$FILE_ALERTS
expect_alerts "...and not in the old file" 0 "a.get('artifact',{}).get('path')=='$WORK/out2'"
check "...and the removed hook was not run" test "$(grep -c . "$E2E_TMP/hook.out")" -eq "$HOOK_LINES"
check "the reload names the new sinks" grep -q "SIGHUP: alerts to $NEW_ALERTS as json" "$E2E_TMP/daemon.err"
printf 'alerts: %s\nsyslog: nowhere\n' "$NEW_ALERTS" >"$CONF"
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q 'keeping the old ones' "$E2E_TMP/daemon.err" && break; sleep 0.1; done
check "a sink that cannot be set up keeps the old ones" \
	grep -q 'SIGHUP: the new alert sinks cannot be set up; keeping the old ones' "$E2E_TMP/daemon.err"
"$SPRAWLCTL" run -- sh -c "read -r l < '$E2E_TMP/src'; printf '%s\n' \"\$l\" > '$WORK/out3'"
ALERTS=$NEW_ALERTS
wait_alerts 1 "a['artifact']['path']=='$WORK/out3'" 10
expect_alerts "...which still deliver" 1 "a['artifact']['path']=='$WORK/out3'"
check "SIGTERM stops the daemon with status 0" e2e_stop

# Errors, each with its place.
printf 'alerts: /tmp/x\nringbuf-mb: 48\n' >"$E2E_TMP/bad1.yaml"
# expect_check FILE STATUS MESSAGE: config check's exact status and output
expect_check() {
	local out rc
	out=$("$SPRAWLCTL" config check "$1" 2>&1)
	rc=$?
	[ "$rc" -eq "$2" ] && [ "$out" = "$3" ] && return 0
	echo "    got status $rc: $out"
	return 1
}
check "config check: a bad value at 2:13" expect_check "$E2E_TMP/bad1.yaml" 1 \
	"$E2E_TMP/bad1.yaml:2:13: ringbuf-mb: '48': expected a power of two from 1 to 1024"
printf 'alerts: /tmp/x\n  format: [json\n' >"$E2E_TMP/bad2.yaml"
check "config check: broken YAML at 2:9, in libyaml's words" expect_check "$E2E_TMP/bad2.yaml" 1 \
	"$E2E_TMP/bad2.yaml:2:9: mapping values are not allowed in this context"
printf 'alerts: /tmp/x\nalerts: /tmp/y\n' >"$E2E_TMP/bad3.yaml"
check "config check: a key given twice at 2:1" expect_check "$E2E_TMP/bad3.yaml" 1 \
	"$E2E_TMP/bad3.yaml:2:1: key 'alerts' given twice"
check "config check of a missing file says so" expect_check "$E2E_TMP/none.yaml" 1 \
	"sprawlctl: $E2E_TMP/none.yaml: no such file (the daemon runs on its defaults without one)"
"$SPRAWLWATCHD" --config "$E2E_TMP/bad1.yaml" >/dev/null 2>"$E2E_TMP/bad.err"
check "the daemon refuses a bad config (status 1)" test $? -eq 1
check "...saying where, and how to check" grep -q \
	"config: $E2E_TMP/bad1.yaml:2:13: ringbuf-mb: .*(check with: sprawlctl config check $E2E_TMP/bad1.yaml)" "$E2E_TMP/bad.err"
check "...before making its control socket" test ! -e "$SPRAWL_RUN_DIR/control.sock"
"$SPRAWLWATCHD" --config "$E2E_TMP/none.yaml" >/dev/null 2>"$E2E_TMP/none.err"
check "an explicit --config that does not exist is an error" test $? -eq 1
expect_no_plaintext "$SECRET"
e2e_finish
