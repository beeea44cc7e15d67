#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A racing writer cannot make a file differ from what was scanned unseen: the kernel hook reads
# a write's buffer at the syscall's exit, and another thread of the writer may have rewritten it
# since the kernel copied it. So a file written by a process whose memory is shared (threads,
# CLONE_VM) is flagged in the kernel (SW_F_SHARED_MM) and read back whole at its close; a
# single-threaded writer's file is not (no cost for it). Checked in the trace: the flag on the
# writes and the read-back (SW_F_READBACK|SW_F_RESCAN) of the threaded writer's file only; and
# a secret the threaded writer wrote is alerted once (the read-back adds no second alert).
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret RACE_KEY)
printf '%s' "$T" >"$E2E_TMP/value"
"$SPRAWLCTL" run -- python3 -c "
import sys
open(sys.argv[1], 'w').write('nothing here\n' * 10)
" "$WORK/single.txt"
"$SPRAWLCTL" run -- python3 -c "
import sys, threading, time
t = threading.Thread(target=time.sleep, args=(1,)); t.start()
open(sys.argv[1], 'w').write('nothing here\n' * 10)
open(sys.argv[2], 'w').write(open(sys.argv[3]).read())
t.join()
" "$WORK/threaded.txt" "$WORK/threaded_secret.txt" "$E2E_TMP/value"
wait_alerts 1 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "the threaded writer's secret: one alert (the read-back adds none)" 1 \
	"a['kind']=='secret_spread' and a['artifact']['path']=='$WORK/threaded_secret.txt'"
e2e_stop
"$SPRAWLCTL" trace dump "$E2E_TRACE_DIR" >"$E2E_TMP/dump.jsonl"
E2E_SCAN+=("$E2E_TMP/dump.jsonl")
records() { # path, flags all set, flags none set -> number of data records
	python3 - "$E2E_TMP/dump.jsonl" "$@" <<'PY'
import json, sys
path, want, none = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "data" and r.get("path") == path and r["flags"] & want == want \
            and not r["flags"] & none:
        n += 1
print(n)
PY
}
SHARED=128 READBACK=1024 RESCAN=2048 # bpf/sprawl_events.h: SW_F_SHARED_MM (data records), SW_F_READBACK, SW_F_RESCAN
check "the threaded writer's write is flagged SW_F_SHARED_MM by the kernel" \
	test "$(records "$WORK/threaded.txt" $SHARED $READBACK)" -ge 1
check "... and its file is read back whole (a rescan)" \
	test "$(records "$WORK/threaded.txt" $((READBACK | RESCAN)) 0)" -ge 1
check "the single-threaded writer's write is not flagged" \
	test "$(records "$WORK/single.txt" $SHARED 0)" -eq 0
check "... and its file is not read back" \
	test "$(records "$WORK/single.txt" $READBACK 0)" -eq 0
check "the single-threaded writer's write is in the trace (the checks above can see it)" \
	test "$(records "$WORK/single.txt" 0 $READBACK)" -ge 1
expect_no_plaintext "$T"
e2e_finish
