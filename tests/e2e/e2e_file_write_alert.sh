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

# (a) a session writes the secret into a new file (sh's printf: write(2); GNU cat would use
# copy_file_range, a channel of its own)
# (a) the secret into a new file
"$SPRAWLCTL" run -- sh -c "echo \$\$ > '$WORK/root.pid'; sh -c 'echo \$\$ > $WORK/writer.pid; read -r l < $SRC; printf \"%s\\n\" \"\$l\"' > '$WORK/newfile'"
ROOT=$(cat "$WORK/root.pid")
WRITER=$(cat "$WORK/writer.pid")
wait_alerts 1 "a['kind']=='secret_spread'" 10
expect_alerts "(a) one alert for the new file" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='file' and a['artifact']['path']=='$WORK/newfile' and a['secret']['name']=='TEST_KEY' and a['secret']['variant']=='raw' and a['process']['pid']==$WRITER and a['process']['comm']=='sh' and a['session']['root_pid']==$ROOT and a['first_seen']==True"
expect_alerts "(a) the alert names dev and ino of the file" 1 \
	"a['artifact'].get('ino')==$(stat -c %i "$WORK/newfile") and a['artifact'].get('dev')==$(stat -c %d "$WORK/newfile")"

# (b) writing it again to the same file: no second alert
"$SPRAWLCTL" run -- sh -c "cat '$SRC' >> '$WORK/newfile'"
# (c) the same write outside any session: no alert
sh -c "read -r l < '$SRC'; printf '%s\\n' \"\$l\"" >"$WORK/outside"
# (f) a secret split across two write() calls is found once
"$SPRAWLCTL" run -- python3 -c "
import os, sys
v = open(sys.argv[1]).read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, v[:20].encode()); os.write(fd, v[20:].encode())
" "$SRC" "$WORK/split"
# (d) a grandchild after a double fork and setsid is still tracked
"$SPRAWLCTL" run -- sh -c "(setsid sh -c 'sleep 0.3; dd if=$SRC of=$WORK/grandchild status=none' &) ; exit 0"
wait_alerts 3 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "(b) no second alert for the same file" 1 "a['artifact'].get('path')=='$WORK/newfile'"
expect_alerts "(c) no alert outside a session" 0 "a['artifact'].get('path')=='$WORK/outside'"
expect_alerts "(d) the double-forked, setsid grandchild is tracked" 1 \
	"a['artifact'].get('path')=='$WORK/grandchild' and a['process']['comm']=='dd'"
expect_alerts "(f) a secret split across two writes: one alert" 1 \
	"a['artifact'].get('path')=='$WORK/split' and a['process']['comm']=='python3'"
expect_alerts "exactly three alerts in all" 3 "a['kind']!='session_summary'"
check "alerts also reach the daemon's stdout" \
	test "$(grep secret_spread "$E2E_TMP/daemon.out" | grep -c '"name":"TEST_KEY"')" -eq 3
check "sprawlctl run exits with the command's status" \
	bash -c "'$SPRAWLCTL' run -- sh -c 'exit 7'; test \$? -eq 7"
check "SIGTERM stops the daemon with status 0" e2e_stop
expect_no_plaintext "$SECRET"
e2e_finish
