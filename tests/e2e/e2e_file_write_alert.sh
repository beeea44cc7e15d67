#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The walking skeleton: an agent session writes a registered secret into a new file and
# exactly one secret_spread alert names the file, the secret, the writer and the session.
. "$(dirname "$0")/lib.sh"

e2e_start
SECRET=$(gen_secret sk_test_ 33)
printf '%s\n' "$SECRET" | "$SPRAWLCTL" secrets add TEST_KEY >/dev/null
check "secrets list shows the name and no value" \
	bash -c "'$SPRAWLCTL' secrets list | grep -q TEST_KEY && ! '$SPRAWLCTL' secrets list | grep -qF -- '$SECRET'"
SRC=$E2E_TMP/src.txt
printf 'config: %s\n' "$SECRET" >"$SRC"

# (a) a session writes the secret into a new file
"$SPRAWLCTL" run -- sh -c "echo \$\$ > '$WORK/root.pid'; sh -c 'echo \$\$ > $WORK/writer.pid; exec cat $SRC' > '$WORK/newfile'"
ROOT=$(cat "$WORK/root.pid")
WRITER=$(cat "$WORK/writer.pid")
wait_alerts 1 "a['kind']=='secret_spread'" 10
expect_alerts "(a) one alert for the new file" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='file' and a['artifact']['path']=='$WORK/newfile' and a['secret']['name']=='TEST_KEY' and a['secret']['variant']=='raw' and a['process']['pid']==$WRITER and a['process']['comm']=='cat' and a['session']['root_pid']==$ROOT and a['first_seen']==True"
expect_alerts "(a) the alert names dev and ino of the file" 1 \
	"a['artifact'].get('ino')==$(stat -c %i "$WORK/newfile") and a['artifact'].get('dev')==$(stat -c %d "$WORK/newfile")"

# (b) writing it again to the same file: no second alert
"$SPRAWLCTL" run -- sh -c "cat '$SRC' >> '$WORK/newfile'"
# (c) the same write outside any session: no alert
cat "$SRC" >"$WORK/outside"
# (d) a grandchild after a double fork and setsid is still tracked
"$SPRAWLCTL" run -- sh -c "(setsid sh -c 'sleep 0.3; cat $SRC > $WORK/grandchild' &) ; exit 0"
wait_alerts 2 "a['kind']=='secret_spread'" 10
sleep 1
expect_alerts "(b) no second alert for the same file" 1 "a['artifact'].get('path')=='$WORK/newfile'"
expect_alerts "(c) no alert outside a session" 0 "a['artifact'].get('path')=='$WORK/outside'"
expect_alerts "(d) the double-forked, setsid grandchild is tracked" 1 \
	"a['artifact'].get('path')=='$WORK/grandchild' and a['process']['comm']=='cat'"
expect_alerts "exactly two alerts in all" 2 "True"
check "alerts also reach the daemon's stdout" \
	test "$(grep -c secret_spread "$E2E_TMP/daemon.out")" -eq 2
check "sprawlctl run exits with the command's status" \
	bash -c "'$SPRAWLCTL' run -- sh -c 'exit 7'; test \$? -eq 7"
check "SIGTERM stops the daemon with status 0" e2e_stop
expect_no_plaintext "$SECRET"
e2e_finish
