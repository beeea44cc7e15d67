#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A secret across the edge of a spilled range: its first half written while the ring is full
# (spilled, read back from the file), its second half after the daemon caught up (carried by
# the ring). Neither half alone is the secret; the file holds it whole, so it alerts. Made
# deterministic: the daemon is stopped (SIGSTOP) while another file fills the ring past the
# quarter kept for other events, so the first half is spilled for sure; it is let go and has
# read that back before the second half is written. The same once more with the second half
# written while the read-back of the first is still pending (the daemon stopped again).
. "$(dirname "$0")/lib.sh"

e2e_start --ringbuf-mb 1
# The writer waits for the test between its steps: it makes $W/ready.N, the test $W/go.N.
step() { # step N: wait for the writer's ready.N (30 s), run the rest of the arguments, go.N
	local n=$1 i
	shift
	for i in $(seq 300); do [ -e "$WORK/ready.$n" ] && break; sleep 0.1; done
	"$@"
	: >"$WORK/go.$n"
}
settle() { # until the daemon has read back every spilled range (status spills_read steady, 15 s)
	local prev=-1 cur i
	for i in $(seq 30); do
		sleep 0.5
		cur=$(status_field "s['loss']['spills_read']")
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
}
edge_writer() { # $1 secret file, $2 target file, $3 1: second half while the daemon is stopped
	"$SPRAWLCTL" run --agent flooder -- python3 - "$1" "$2" "$WORK" <<'PY' &
import os, sys, time
v = open(sys.argv[1], "rb").read()
target, w = sys.argv[2], sys.argv[3]
half = len(v) // 2
def step(n):
    open("%s/ready.%d" % (w, n), "w").close()
    for _ in range(600):
        if os.path.exists("%s/go.%d" % (w, n)):
            return
        time.sleep(0.05)
    sys.exit("no go.%d" % n)
fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"\0" * 4096)  # through the ring
step(1)                     # the daemon is stopped now
g = os.open(target + ".fill", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for i in range(2048):       # 8 MiB: the 1 MiB ring fills, the rest is spilled
    os.write(g, b"\0" * 4096)
os.close(g)
os.write(fd, (b"\0" * 1000 + b"\nKEY=" + v[:half]).rjust(4096, b"\0"))  # spilled
step(2)                     # the daemon runs again (and has read back), or is stopped still
os.write(fd, (v[half:] + b"\n").ljust(4096, b"\0"))
os.close(fd)
step(3)
PY
	WPID=$!
}
rm -f "$WORK"/ready.* "$WORK"/go.*

T=$(new_secret SPILL_EDGE_KEY)
printf '%s' "$T" >"$E2E_TMP/value"
edge_writer "$E2E_TMP/value" "$WORK/edge"
step 1 kill -STOP "$DAEMON_PID"
step 2 eval 'kill -CONT "$DAEMON_PID"; settle'
step 3 true
wait "$WPID"
check "the first half was spilled and read back ($(status_field "s['loss']['spills_read']") ranges)" \
	test "$(status_field "s['loss']['spills_read']")" -gt 0
wait_alerts 1 "a.get('artifact',{}).get('path')=='$WORK/edge'" 10
expect_alerts "a secret across the end of a spilled range (the rest through the ring) alerts" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='SPILL_EDGE_KEY' and a['artifact']['path']=='$WORK/edge'"

rm -f "$WORK"/ready.* "$WORK"/go.*
T2=$(new_secret SPILL_EDGE_PENDING_KEY)
printf '%s' "$T2" >"$E2E_TMP/value2"
edge_writer "$E2E_TMP/value2" "$WORK/edge2"
step 1 kill -STOP "$DAEMON_PID"
step 2 true
step 3 kill -CONT "$DAEMON_PID"
wait "$WPID"
settle
wait_alerts 1 "a.get('artifact',{}).get('path')=='$WORK/edge2'" 10
expect_alerts "... and with the second half written before the first was read back" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='SPILL_EDGE_PENDING_KEY' and a['artifact']['path']=='$WORK/edge2'"
expect_no_plaintext
e2e_finish
