#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pipe and tty channels: a write into a pipe names the process that reads it — including the
# agent itself reading its tool's output, which puts the secret in the agent's context — and
# a write to a terminal is a tty artifact.
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret PIPE_KEY)
printf 'PIPE_KEY=%s\n' "$T" >"$WORK/f.env"
# A tool pipeline: cat writes, wc reads.
"$SPRAWLCTL" run -- sh -c "cat '$WORK/f.env' | wc -c >/dev/null"
# An "agent" (the session root) reading its tool's stdout through a pipe.
"$SPRAWLCTL" run --agent fakeagent -- python3 -c "
import subprocess, sys, os
open(sys.argv[2], 'w').write(str(os.getpid()))
out = subprocess.run(['cat', sys.argv[1]], stdout=subprocess.PIPE).stdout
" "$WORK/f.env" "$WORK/agent.pid"
AGENT=$(cat "$WORK/agent.pid")
# A terminal: write to a pty's slave side.
"$SPRAWLCTL" run -- python3 -c "
import os, pty, sys
m, s = pty.openpty()
os.write(s, open(sys.argv[1], 'rb').read())
os.read(m, 4096)
" "$WORK/f.env"
wait_alerts 3 "a['kind']=='secret_spread'" 10
barrier
WC=$(command -v wc)
expect_alerts "cat | wc: the pipe names wc as its reader" 1 \
	"a['artifact']['type']=='pipe' and a['artifact']['reader_exe']=='$WC' and a['process']['comm']=='cat' and a['severity']=='low'"
expect_alerts "the agent reading its tool's output: critical, reader is the agent" 1 \
	"a['artifact']['type']=='pipe' and a['artifact']['reader_pid']==$AGENT and a['session']['agent']=='fakeagent' and a['session']['root_pid']==$AGENT and a['severity']=='critical' and 'context' in a.get('message','')"
expect_alerts "a write to a pty is a tty artifact" 1 \
	"a['artifact']['type']=='tty' and a['artifact'].get('path','').startswith('/dev/pts/') and a['process']['comm']=='python3'"
expect_alerts "three alerts in all" 3 "a['kind']!='session_summary'"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
