#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A secret written out of file order: its second half first (lseek past where the first half
# goes), then its first half at the file's start. Neither write holds the secret, the file
# does: the write that does not begin where the last one ended is flagged positional (as a
# pwrite) and the file read back at its close — one alert. The same with the first half
# written while the ring is full (spilled, no record at all): it is kept as an edge range, read
# back with 4 KiB on each side. A file cut and written again from its start is in order.
. "$(dirname "$0")/lib.sh"

e2e_start --ringbuf-mb 1
# stopped_run VALUE TARGET: runs the python script on stdin in a session (argv: the file
# holding the secret, TARGET), with fill_ring() defined: it has the test stop the daemon
# (SIGSTOP), then writes 8 MiB to TARGET.fill, past the 1 MiB ring's three quarters, so what a
# file write adds next is spilled. The daemon goes on once the script is done.
stopped_run() {
	local wpid
	rm -f "$WORK"/ready.* "$WORK"/go.*
	{
		cat <<'PY'
import os, sys, time
def fill_ring():
    w = os.path.dirname(sys.argv[2])
    open(w + "/ready.1", "w").close()
    for _ in range(600):
        if os.path.exists(w + "/go.1"):
            break
        time.sleep(0.05)
    g = os.open(sys.argv[2] + ".fill", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for i in range(2048):
        os.write(g, b"\0" * 4096)
    os.close(g)
PY
		cat
	} >"$E2E_TMP/stopped.py"
	"$SPRAWLCTL" run -- python3 "$E2E_TMP/stopped.py" "$1" "$2" &
	wpid=$!
	for _ in $(seq 300); do [ -e "$WORK/ready.1" ] && break; sleep 0.1; done
	kill -STOP "$DAEMON_PID"
	: >"$WORK/go.1"
	wait "$wpid"
	kill -CONT "$DAEMON_PID"
}
T=$(new_secret ORDER_KEY)
printf '%s' "$T" >"$E2E_TMP/value"
"$SPRAWLCTL" run -- python3 - "$E2E_TMP/value" "$WORK/reversed" <<'PY'
import os, sys
v = open(sys.argv[1], "rb").read()
h = len(v) // 2
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.lseek(fd, 100 + h, os.SEEK_SET)
os.write(fd, v[h:] + b"\n")
os.lseek(fd, 0, os.SEEK_SET)
os.write(fd, b"x" * 99 + b"=" + v[:h])
os.close(fd)
PY
wait_alerts 1 "a.get('artifact',{}).get('path')=='$WORK/reversed'" 10
expect_alerts "a secret written second half first (lseek) alerts once, at its file" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='ORDER_KEY' and a['artifact']['path']=='$WORK/reversed'"

# The first half spilled: the daemon stopped (SIGSTOP) while another file fills the ring.
T2=$(new_secret ORDER_SPILLED_KEY)
printf '%s' "$T2" >"$E2E_TMP/value2"
stopped_run "$E2E_TMP/value2" "$WORK/reversed2" <<'PY'
v = open(sys.argv[1], "rb").read()
h = len(v) // 2
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.lseek(fd, 100 + h, os.SEEK_SET)
os.write(fd, v[h:] + b"\n")          # through the ring
fill_ring()
os.lseek(fd, 0, os.SEEK_SET)
os.write(fd, b"x" * 99 + b"=" + v[:h])  # spilled
os.close(fd)
PY
wait_alerts 1 "a.get('artifact',{}).get('path')=='$WORK/reversed2'" 15
expect_alerts "... and with the first half spilled (read back on past it)" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='ORDER_SPILLED_KEY' and a['artifact']['path']=='$WORK/reversed2'"
check "the ring was full: writes were spilled" test "$(status_field "s['loss']['spilled']")" -gt 0

# Spilled bytes that an out-of-order write joined are still counted when written over before
# the read-back: the daemon stopped, a secret's block spilled at 8 KiB, a block before it
# (out of order, spilled: it joins that range), then a block over the secret's. The secret's
# bytes are gone unseen: a coverage_gap (ringbuf_full), not silence.
T4=$(new_secret ORDER_OVERWRITTEN_KEY)
printf '%s' "$T4" >"$E2E_TMP/value4"
LOST0=$(status_field "s['loss']['ringbuf_full']")
stopped_run "$E2E_TMP/value4" "$WORK/overwritten" <<'PY'
v = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
fill_ring()
os.lseek(fd, 8192, os.SEEK_SET)
os.write(fd, (b"KEY=" + v + b"\n").ljust(4096, b"\0"))  # spilled
os.lseek(fd, 4096, os.SEEK_SET)
os.write(fd, b"\0" * 4096)                               # out of order: joins that range
os.write(fd, b"\0" * 4096)                               # over the secret, not read back
os.close(fd)
PY
wait_alerts 1 "a['kind']=='coverage_gap' and a['gaps'].get('ringbuf_full',0)>0" 15
check "a write over spilled bytes an out-of-order write joined is counted lost" \
	test "$(status_field "s['loss']['ringbuf_full']")" -gt "$LOST0"
expect_alerts "... and the overwritten secret raises no alert of its own" 0 \
	"a.get('secret',{}).get('name')=='ORDER_OVERWRITTEN_KEY'"

# In order: a file cut and written again from its start, a secret in the last version.
T3=$(new_secret ORDER_REWRITE_KEY)
printf '%s' "$T3" >"$E2E_TMP/value3"
"$SPRAWLCTL" run -- python3 - "$E2E_TMP/value3" "$WORK/rewritten" <<'PY'
import os, sys
v = open(sys.argv[1], "rb").read()
for i in range(5):
    with open(sys.argv[2], "wb") as f:
        f.write(b"version %d\n" % i)
        if i == 4:
            f.write(b"KEY=" + v + b"\n")
PY
wait_alerts 1 "a.get('artifact',{}).get('path')=='$WORK/rewritten'" 10
expect_alerts "a file cut and written again: its secret alerts once" 1 \
	"a.get('secret',{}).get('name')=='ORDER_REWRITE_KEY'"
expect_no_plaintext
e2e_finish
