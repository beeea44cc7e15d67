#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Context: every alert names the writer (pid, ppid, uid, comm, exe, argv) and its session (id,
# agent, root pid and exe); a thread writes as its process, in its process's session; a
# process that dropped privileges is still tracked and reported with its new uid.
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret CTX_KEY)
printf 'CTX_KEY=%s\n' "$T" >"$E2E_TMP/src.env"
chmod 0644 "$E2E_TMP/src.env"
chmod 0777 "$WORK"
"$SPRAWLCTL" run --agent ctxagent -- python3 -c "
import os, sys, threading
open(sys.argv[3], 'w').write('%d %d' % (os.getpid(), os.getppid()))
def w():
    with open(sys.argv[2], 'w') as f:
        f.write(open(sys.argv[1]).read())
t = threading.Thread(target=w); t.start(); t.join()
" "$E2E_TMP/src.env" "$WORK/thread.out" "$WORK/ids"
read -r PID PPID_ <"$WORK/ids"
PYEXE=$(readlink -f "$(python3 -c 'import sys; print(sys.executable)')")
"$SPRAWLCTL" run --agent ctxagent -- setpriv --reuid=65534 --regid=65534 --clear-groups \
	sh -c "cat '$E2E_TMP/src.env' | tee '$WORK/nobody.out' >/dev/null"
wait_alerts 2 "a['artifact']['type']=='file'" 10
barrier
expect_alerts "a thread's write: its process's pid, ppid, uid, comm, exe, argv and session" 1 \
	"a['artifact'].get('path')=='$WORK/thread.out' and a['process']['pid']==$PID and a['process']['ppid']==$PPID_ and a['process']['uid']==0 and a['process']['comm']=='python3' and a['process']['exe']=='$PYEXE' and a['process']['argv'][1]=='-c' and a['process']['argv'][-1]=='$WORK/ids' and a['session']['agent']=='ctxagent' and a['session']['root_pid']==$PID and a['session']['root_exe']=='$PYEXE' and a['session']['id']>0"
expect_alerts "a process that dropped to uid 65534 is tracked and reported with that uid" 1 \
	"a['artifact'].get('path')=='$WORK/nobody.out' and a['process']['uid']==65534 and a['process']['comm']=='tee' and a['process']['exe']=='$(command -v tee)' and a['session']['agent']=='ctxagent'"
expect_alerts "cat | tee as uid 65534: the pipe into tee, written by cat" 1 \
	"a['artifact']['type']=='pipe' and a['artifact']['reader_exe']=='$(command -v tee)' and a['process']['comm']=='cat' and a['process']['uid']==65534"
expect_alerts "three alerts in all" 3 "True"
check "the two runs are two sessions" \
	test "$(python3 -c "
import json
print(len({a['session']['id'] for a in map(json.loads, open('$ALERTS')) if a['secret']['name'] == 'CTX_KEY'}))")" -eq 2
e2e_stop
expect_no_plaintext "$T"
e2e_finish
