#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A job in a terminal's foreground is not stopped to wait for its uprobes: an interactive
# shell (bash -i on a pty, as a person runs `sprawlctl run -- agent`) reports a stopped job
# ("Stopped", status 147) and takes the terminal back from it. Such a process runs on; the
# daemon attaches its uprobes as soon as it can, and a TCP write of it before that is one
# `unmonitored_channel` tls "hooked late" (what it wrote over TLS then was not seen).
#  (a) node and python3 run from an interactive shell: status 0, no stopped job, no
#      process left stopped;
#  (b) python3 through a copy of libssl, the daemon stopped while it posts a secret over https
#      (so every record is handled after the write): one unmonitored_channel tls naming the
#      copy, "hooked late"; no tls alert (the write was not seen); nothing else.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || e2e_skip "needs script (util-linux)"
SSL=$(ls /usr/lib/x86_64-linux-gnu/libssl.so.3 /lib/x86_64-linux-gnu/libssl.so.3 2>/dev/null | head -1)
[ -n "$SSL" ] || e2e_skip "needs libssl.so.3"
e2e_start
start_https
URL="https://localhost:$HTTPS_PORT/v1/messages"
v=$(new_secret LATE_KEY)
printf 'k=%s' "$v" >"$E2E_TMP/body"
mkdir -p "$E2E_TMP/lib"
cp "$SSL" "$E2E_TMP/lib/"
cat >"$E2E_TMP/post.py" <<'PY'
import os, sys, time
ready, go, url, body = sys.argv[1:]
open(ready, "w").close()
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.05)
import urllib.request  # (maps libssl: after the daemon is stopped)
urllib.request.urlopen(urllib.request.Request(url, data=open(body, "rb").read()),
                       timeout=10).read()
PY
# The shell's input: each command prints its status; `jobs` lists what it thinks is stopped.
cat >"$E2E_TMP/in.txt" <<IN
"\$SPRAWLCTL" run -- node -e 'process.exit(0)'; echo "rc_node=\$?"
"\$SPRAWLCTL" run -- python3 -c 'import ssl'; echo "rc_py=\$?"
LD_LIBRARY_PATH='$E2E_TMP/lib' SSL_CERT_FILE='$HTTPS_CA' "\$SPRAWLCTL" run -- python3 '$E2E_TMP/post.py' '$E2E_TMP/ready' '$E2E_TMP/go' '$URL' '$E2E_TMP/body'; echo "rc_late=\$?"
jobs; echo "jobs_done"
exit
IN
export SPRAWLCTL
# Fed slowly: the shell reads a line when the last command is done.
(while read -r line; do
	case $line in *post.py*)
		printf '%s\n' "$line"
		for _ in $(seq 100); do [ -e "$E2E_TMP/ready" ] && break; sleep 0.1; done
		kill -STOP "$DAEMON_PID"
		: >"$E2E_TMP/go"
		for _ in $(seq 100); do grep -q "k=" "$E2E_TMP/https.bodies" && break; sleep 0.1; done
		sleep 0.3
		kill -CONT "$DAEMON_PID"
		continue ;;
	esac
	printf '%s\n' "$line"
	sleep 1
done <"$E2E_TMP/in.txt"; sleep 2) | timeout 60 script -qfec "bash --norc -i" /dev/null \
	>"$E2E_TMP/out.txt" 2>&1
tr -d '\r' <"$E2E_TMP/out.txt" >"$E2E_TMP/out.clean"
check "(a) node from an interactive shell: status 0" grep -q "rc_node=0" "$E2E_TMP/out.clean"
check "(a) python3 from an interactive shell: status 0" grep -q "rc_py=0" "$E2E_TMP/out.clean"
check "(b) the late python3: status 0" grep -q "rc_late=0" "$E2E_TMP/out.clean"
check "no job was stopped" bash -c "! grep -q Stopped '$E2E_TMP/out.clean'"
check "the request arrived" grep -q "k=" "$E2E_TMP/https.bodies"
wait_alerts 1 "a['kind']=='unmonitored_channel'" 15
barrier
expect_alerts "(b) one tls channel hooked late, naming the copy of libssl" 1 \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls' and 'before its uprobes were attached' in a['message'] and a['artifact']['path']=='$E2E_TMP/lib/libssl.so.3' and a['process']['comm']=='python3'"
expect_alerts "(b) the write before the uprobes: not seen" 0 "a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
expect_alerts "nothing else" 1 "a['kind']!='session_summary'"
check "no process is left stopped" test "$(status_field "s['tls']['stopped']")" = 0
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
