#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The secret set is reloaded (README, Commands): `sprawlctl secrets ...` with no daemon to talk
# to edits the state directory, and a running daemon notices the changed set on its own
# within one second; SIGHUP reloads it at once; a secret removed is no longer tracked.
. "$(dirname "$0")/lib.sh"
# A secret is removed from the set during the run: a replay names secrets from today's set, so
# it cannot name that one; replay = live is checked by every test that keeps its secrets.
E2E_REPLAY_CHECKED=1

e2e_start
# sprawlctl pointed at a run dir without a control socket edits the state dir only: the
# daemon is not told.
offline() { SPRAWL_RUN_DIR=$E2E_TMP/no-daemon "$SPRAWLCTL" "$@"; }
mkdir -p "$E2E_TMP/no-daemon"
leak() { # leak VALUEFILE DEST
	"$SPRAWLCTL" run -- sh -c "read -r l < '$1'; printf '%s\n' \"\$l\" > '$2'"
}

# 1. Changed on disk, nobody told: tracked within one second.
D=$(gen_secret disk_ 30)
printf '%s\n' "$D" >"$E2E_TMP/disk.value"
check "secrets add without a daemon to talk to edits the state dir" \
	bash -c "printf '%s' '$D' | SPRAWL_RUN_DIR='$E2E_TMP/no-daemon' '$SPRAWLCTL' secrets add DISK_KEY >/dev/null"
sleep 1.1 # the claim under test: "notices a changed secret set on its own within one second"
leak "$E2E_TMP/disk.value" "$WORK/disk.out"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/disk.out'" 10
expect_alerts "a secret added on disk is tracked within one second, unasked" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='DISK_KEY' and a['artifact'].get('path')=='$WORK/disk.out'"
check "secrets list names it" bash -c "'$SPRAWLCTL' secrets list | grep -qw DISK_KEY"

# 2. SIGHUP: reloaded at once (the leak follows the signal within milliseconds, well inside
# the one-second poll).
H=$(gen_secret hup_ 30)
printf '%s\n' "$H" >"$E2E_TMP/hup.value"
printf '%s' "$H" | offline secrets add HUP_KEY >/dev/null
kill -HUP "$DAEMON_PID"
leak "$E2E_TMP/hup.value" "$WORK/hup.out"
wait_alerts 1 "a['artifact'].get('path')=='$WORK/hup.out'" 10
expect_alerts "SIGHUP reloads the secret set at once" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='HUP_KEY' and a['artifact'].get('path')=='$WORK/hup.out'"
check "... and the daemon says so on stderr" grep -q "SIGHUP: alert file reopened, secret set reloaded" "$E2E_TMP/daemon.err"

# 3. Removed on disk: no longer tracked once reloaded.
offline secrets rm DISK_KEY >/dev/null
kill -HUP "$DAEMON_PID"
leak "$E2E_TMP/disk.value" "$WORK/disk-after-rm.out"
barrier "the write after the removal processed"
expect_alerts "a removed secret is no longer tracked" 0 \
	"a['artifact'].get('path')=='$WORK/disk-after-rm.out'"
check "secrets list no longer names it" bash -c "! '$SPRAWLCTL' secrets list | grep -qw DISK_KEY"
expect_alerts "two alerts in all" 2 "True"
e2e_stop
e2e_finish
