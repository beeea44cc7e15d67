#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A tracked secret as a name the agent chooses: a file named after it, a file renamed to it,
# a program copied to a path that holds it and run, a directory, a FIFO, a symlink and its
# target. The name is a place the secret went (one alert each, apart from the file's bytes),
# and it never reaches what the daemon writes: the alert, status, the registry, the trace (as
# `trace dump` shows it) carry the name with the secret filled by '*'.
# The same for a process's name (comm), which a short secret fits whole, and for a TLS server
# name.
. "$(dirname "$0")/lib.sh"

e2e_start
SECRET=$(new_secret NAME_KEY)
printf '%s\n' "$SECRET" >"$E2E_TMP/src"
STARS=$(printf '%s' "$SECRET" | tr -c '' '*')
# (d)'s program is named after the secret: the kernel names its process with the first 15
# bytes of that, 13 of the secret's, which nothing the daemon writes may hold either.
track_plaintext "${SECRET:0:13}"

# (a) a file named after the secret, nothing secret in it; (b) one named after it holding it;
# (c) a file holding it, renamed to a name holding it.
"$SPRAWLCTL" run -- python3 -c "
import os, sys
v = open(sys.argv[1]).read().strip()
w = sys.argv[2]
with open(os.path.join(w, 'a_' + v + '.txt'), 'w') as f: f.write('nothing here\n')
with open(os.path.join(w, 'b_' + v), 'w') as f: f.write(v + '\n')
with open(os.path.join(w, 'c.tmp'), 'w') as f: f.write(v + '\n')
os.rename(os.path.join(w, 'c.tmp'), os.path.join(w, 'c_' + v))
" "$E2E_TMP/src" "$WORK"
# (d) a program copied to a path holding the secret (by a program that reads the name from a
# file, so no argv holds it), run by that path: it writes the secret into a file.
"$SPRAWLCTL" run -- python3 -c "
import os, shutil, subprocess, sys
v = open(sys.argv[1]).read().strip()
exe = os.path.join(sys.argv[2], 'd_' + v)
shutil.copy('/bin/cp', exe)
subprocess.run([exe, sys.argv[1], os.path.join(sys.argv[2], 'd.out')], check=True)
" "$E2E_TMP/src" "$WORK"
# (e) a short secret (a password under 16 bytes) as the process's own name (prctl), and
# written into a file: the alert's comm is filled, like every record of the process.
SHORT=$(new_secret SHORT_PW pw_ 6)
printf '%s\n' "$SHORT" >"$E2E_TMP/short"
SHORT_STARS=$(printf '%s' "$SHORT" | tr -c '' '*')
"$SPRAWLCTL" run -- python3 -c "
import ctypes, sys
v = open(sys.argv[1]).read().strip()
assert len(v) <= 15
ctypes.CDLL(None).prctl(15, v.encode(), 0, 0, 0)  # PR_SET_NAME
with open(sys.argv[2], 'w') as f: f.write(v + '\n')
" "$E2E_TMP/short" "$WORK/e.out"
# (f) a secret as the TLS server name (SNI) of a connection that then sends another secret:
# the ClientHello is a spread into the socket, and the tls alert's sni is filled.
start_https
HOST=$(gen_secret sni 12 | tr 'A-Z_' 'a-z-')
printf '%s' "$HOST" | "$SPRAWLCTL" secrets add SNI_KEY >/dev/null
track_plaintext "$HOST"
HOST_STARS=$(printf '%s' "$HOST" | tr -c '' '*')
BODY=$(new_secret BODY_KEY)
printf '%s\n' "$HOST" >"$E2E_TMP/host"
printf 'k=%s' "$BODY" >"$E2E_TMP/body"
"$SPRAWLCTL" run -- python3 - "$HTTPS_PORT" "$E2E_TMP/host" "$E2E_TMP/body" <<'PY'
import socket, ssl, sys
port, host, body = int(sys.argv[1]), open(sys.argv[2]).read().strip(), open(sys.argv[3], "rb").read()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=host + ".example")
s.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
s.recv(100)
s.close()
PY
# (g) a secret as the name of an environment variable a program is run with.
"$SPRAWLCTL" run -- python3 -c "
import os, subprocess, sys
env = dict(os.environ)
env['V_' + open(sys.argv[1]).read().strip()] = '1'
subprocess.run(['true'], env=env, check=True)
" "$E2E_TMP/src"
# (h) what the daemon reads back by name, under such a name: another secret written into it
# out of order (read back at its close), and copied out of it (shutil: sendfile, the source
# read back).
OTHER=$(new_secret OTHER_KEY)
printf '%s\n' "$OTHER" >"$E2E_TMP/other"
"$SPRAWLCTL" run -- python3 -c "
import os, sys
v, o = open(sys.argv[1]).read().strip(), open(sys.argv[3]).read().strip()
fd = os.open(os.path.join(sys.argv[2], 'h_' + v), os.O_WRONLY | os.O_CREAT, 0o600)
h = len(o) // 2
os.pwrite(fd, o[h:].encode(), h)
os.pwrite(fd, o[:h].encode(), 0)
os.close(fd)
" "$E2E_TMP/src" "$WORK" "$E2E_TMP/other"
"$SPRAWLCTL" run -- python3 -c "
import os, shutil, sys
v = open(sys.argv[1]).read().strip()
shutil.copyfile(os.path.join(sys.argv[2], 'h_' + v), os.path.join(sys.argv[2], 'h.copy'))
" "$E2E_TMP/src" "$WORK"
# (i)-(r) names made and never written: an empty file, a directory (and a file made in it,
# which names nothing new), a symlink's target and a symlink's own name, a FIFO, a file made
# before the session renamed to such a name, a unix socket bound to such a path (relative to
# the working directory) and to such an abstract name, a memfd, a POSIX message queue.
: >"$WORK/n.tmp"
"$SPRAWLCTL" run -- python3 -c "
import ctypes, os, socket, sys
v, w = open(sys.argv[1]).read().strip(), sys.argv[2]
os.close(os.open(os.path.join(w, 'i_' + v), os.O_WRONLY | os.O_CREAT, 0o600))
os.mkdir(os.path.join(w, 'j_' + v))
with open(os.path.join(w, 'j_' + v, 'inside'), 'w') as f: f.write('nothing here\n')
os.symlink(v, os.path.join(w, 'k.link'))
os.symlink('x', os.path.join(w, 'l_' + v))
os.mkfifo(os.path.join(w, 'm_' + v))
os.rename(os.path.join(w, 'n.tmp'), os.path.join(w, 'n_' + v))
os.chdir(w)
for name in ('o_' + v, '\\0p_' + v):
    u = socket.socket(socket.AF_UNIX)
    u.bind(name)
    u.close()
os.close(os.memfd_create('q_' + v))
rt = ctypes.CDLL('librt.so.1', use_errno=True)
mq = ('/r_' + v).encode()
q = rt.mq_open(mq, os.O_CREAT | os.O_RDWR, ctypes.c_uint(0o600), None)
assert q >= 0, ctypes.get_errno()
rt.mq_close(q)
rt.mq_unlink(mq)
" "$E2E_TMP/src" "$WORK"
wait_alerts 20 "a['kind']=='secret_spread' and a['secret']['name']=='NAME_KEY'" 15
wait_alerts 2 "a['kind']=='secret_spread' and a['secret']['name']=='OTHER_KEY'" 10
wait_alerts 1 "a['kind']=='secret_spread' and a['secret']['name']=='BODY_KEY'" 10
wait_alerts 1 "a['kind']=='secret_spread' and a['secret']['name']=='SHORT_PW'" 10
barrier
expect_alerts "(a) a file named after the secret: one spread, its name filled with '*'" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/a_${STARS}.txt'"
expect_alerts "(b) named after it and holding it: its name and its bytes, a spread each" 2 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/b_${STARS}'"
expect_alerts "(b) ... one of them says it is the name" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/b_${STARS}' and 'name the process gave' in a.get('message', '')"
expect_alerts "(c) renamed to a name holding it: its bytes and its name, under the final name, filled" 2 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/c_${STARS}'"
expect_alerts "(d) the program copied to such a path: a spread into that file" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/d_${STARS}' and a['process']['comm']=='python3'"
expect_alerts "(d) run by that path: argv[0] holds it (the exec's path filled)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='exec_arg' and a['artifact']['index']==0 and a['artifact']['path']=='$WORK/d_${STARS}'"
expect_alerts "(d) what it writes: its exe filled in the alert, and its name (the file's first 15 bytes)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/d.out' and a['process']['exe']=='$WORK/d_${STARS}' and a['process']['comm']=='d_${STARS:0:13}'"
expect_alerts "(g) a variable's name holding it: the exec_env alert's name filled" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='exec_env' and a['artifact']['name']=='V_${STARS}'"
expect_alerts "(h) another secret written out of order under such a name: read back, the name filled" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='OTHER_KEY' and a['artifact']['path']=='$WORK/h_${STARS}'"
expect_alerts "(h) ... and copied out of it: the source read back by its name" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='OTHER_KEY' and a['artifact']['path']=='$WORK/h.copy'"
expect_alerts "(i) an empty file made under it: the artifact says it is its name" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/i_${STARS}' and a['artifact'].get('in_name') is True and 'name the process gave' in a['message']"
check "(i) ... and so does the text format" bash -c \
	"'$SPRAWLCTL' alerts --file '$ALERTS' --format text | grep -qF 'file $WORK/i_${STARS} (its name)'"
expect_alerts "(j) a directory made under it; a file made in that directory names nothing new" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path'].startswith('$WORK/j_${STARS}')"
expect_alerts "(k) a symlink's target: the link" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/k.link'"
expect_alerts "(l) a symlink's own name" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/l_${STARS}'"
expect_alerts "(m) a FIFO (mknod)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/m_${STARS}'"
expect_alerts "(n) a file made before the session renamed to it" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/n_${STARS}'"
expect_alerts "(o) a unix socket bound to it (a relative path)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/o_${STARS}'"
expect_alerts "(p) an abstract unix socket's name" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='@p_${STARS}'"
expect_alerts "(q) a memfd's name" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='memfd:q_${STARS}'"
expect_alerts "(r) a message queue's name" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='/dev/mqueue/r_${STARS}'"
expect_alerts "twenty spreads of the secret in all" 20 \
	"a['kind']=='secret_spread' and a['secret']['name']=='NAME_KEY'"
expect_alerts "(e) a short secret as the process's name: the alert's comm filled" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='SHORT_PW' and a['artifact']['path']=='$WORK/e.out' and a['process']['comm']=='$SHORT_STARS'"
expect_alerts "(f) a secret as the TLS server name: the ClientHello a spread into the socket" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='SNI_KEY' and a['artifact']['type']=='socket'"
expect_alerts "(f) ... and the tls alert's sni filled" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='BODY_KEY' and a['artifact']['type']=='tls' and a['artifact']['sni']=='${HOST_STARS}.example'"

"$SPRAWLCTL" status --json >"$E2E_TMP/status.json"
check "status names the places with the secret filled" grep -qF "exec_arg:$WORK/d_${STARS}" "$E2E_TMP/status.json"
check "SIGTERM stops the daemon with status 0" e2e_stop
"$SPRAWLCTL" trace dump "$E2E_TRACE_DIR" >"$E2E_TMP/dump.jsonl"
check "the trace keeps the names with the secret filled" grep -qF "b_${STARS}" "$E2E_TMP/dump.jsonl"
E2E_SCAN+=("$E2E_TMP/status.json" "$E2E_TMP/dump.jsonl")
e2e_finish
