#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# copies without a user buffer (cp uses copy_file_range; python os.sendfile to a socket) make
# the destination a carrier; renames (sed -i, write-then-os.replace) alert on the final name.
. "$(dirname "$0")/lib.sh"

e2e_start
start_http
T=$(new_secret COPY_KEY)
printf 'COPY_KEY=%s\n' "$T" >"$E2E_TMP/src.env"
cd "$WORK"
"$SPRAWLCTL" run -- cp "$E2E_TMP/src.env" "$WORK/copied.env"
"$SPRAWLCTL" run -- python3 -c "
import os, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[2])))
f = open(sys.argv[1], 'rb')
os.sendfile(s.fileno(), f.fileno(), 0, os.fstat(f.fileno()).st_size)
" "$E2E_TMP/src.env" "$HTTP_PORT"
printf 'placeholder=1\n' >"$WORK/config.ini"
"$SPRAWLCTL" run -- sed -i "s/placeholder=1/$(cat "$E2E_TMP/src.env")/" "$WORK/config.ini"
"$SPRAWLCTL" run -- python3 -c "
import os, sys
tmp = sys.argv[2] + '.tmp'
with open(tmp, 'w') as f:
    f.write(open(sys.argv[1]).read())
os.replace(tmp, sys.argv[2])
" "$E2E_TMP/src.env" "$WORK/saved.json"
# A backup copy, then the original rewritten by rename at once (Claude Code backs up its
# config so): the copy's source is replaced before the daemon reads it back, so its bytes are
# read from the destination. Ten times: each backup alerts, no read-back fails.
"$SPRAWLCTL" run -- python3 -c "
import os, sys
for i in range(10):
    src = sys.argv[2] + '/orig.%d' % i
    open(src, 'w').write(open(sys.argv[1]).read())
    with open(src) as f, open(sys.argv[2] + '/backup.%d' % i, 'w') as g:
        os.copy_file_range(f.fileno(), g.fileno(), os.fstat(f.fileno()).st_size)
    open(src + '.new', 'w').write('rewritten\\n')
    os.replace(src + '.new', src)
" "$E2E_TMP/src.env" "$WORK"
wait_alerts 25 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "cp (copy_file_range): alert on the destination" 1 \
	"a['artifact']['type']=='file' and a['artifact']['path']=='$WORK/copied.env' and a['process']['comm']=='cp' and a['artifact']['ino']==$(stat -c %i "$WORK/copied.env")"
expect_alerts "os.sendfile to a socket: alert on the socket" 1 \
	"a['artifact']=={'type':'socket','proto':'tcp','peer':'127.0.0.1:$HTTP_PORT'} and a['process']['comm']=='python3'"
expect_alerts "sed -i: the alert names the final file, not sed's temporary" 1 \
	"a['artifact']['type']=='file' and a['artifact']['path']=='$WORK/config.ini' and a['process']['comm']=='sed'"
expect_alerts "write then os.replace: the alert names the final file" 1 \
	"a['artifact']['type']=='file' and a['artifact']['path']=='$WORK/saved.json' and a['process']['comm']=='python3'"
expect_alerts "no alert names a temporary file" 0 \
	"a['artifact']['type']=='file' and (a['artifact']['path'].endswith('.tmp') or a['artifact']['path'].split('/')[-1].startswith('sed'))"
expect_alerts "sed's own command line carried it too (exec_arg)" 1 \
	"a['artifact']=={'type':'exec_arg','path':'$(command -v sed)','index':2}"
expect_alerts "a backup copy whose source was replaced at once: each of 10 alerts" 10 \
	"a['kind']=='secret_spread' and a['artifact']['path'].startswith('$WORK/backup.') and a['process']['comm']=='python3'"
expect_alerts "... no read-back failed (no coverage_gap)" 0 "a['kind']=='coverage_gap'"
expect_alerts "twenty-five alerts in all (the originals too, before their rewrite)" 25 \
	"a['kind']!='session_summary'"
cd /
e2e_stop
expect_no_plaintext "$T"
e2e_finish
