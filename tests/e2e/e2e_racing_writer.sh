#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A racing writer cannot make a file differ from what was scanned unseen. The kernel hook reads
# a write's buffer at the syscall's exit; another thread may have rewritten it since the kernel
# copied it into the file. tests/e2e/racer.c does that deterministically (userfaultfd holds the
# write between its two pages while a thread wipes the secret from the first). The kernel flags
# the write of a shared-mm process (SW_F_SHARED_MM) with its file position; the daemon compares
# the file's range with the bytes it got and reads the range back when they differ. So:
#   - the raced file's secret alerts (once), from the read-back;
#   - a threaded writer whose buffer nobody touches: one alert, compared and equal, no
#     read-back (status race_checked counts it, race_differed does not);
#   - a single-threaded writer is not compared at all.
. "$(dirname "$0")/lib.sh"

cc -O2 -Wall -pthread -o "$E2E_TMP/racer" "$E2E_ROOT/tests/e2e/racer.c" || {
	echo "FAIL: cc racer.c"
	exit 1
}
e2e_start
T=$(new_secret RACE_KEY)
printf '%s' "$T" >"$E2E_TMP/value"
"$SPRAWLCTL" run -- "$E2E_TMP/racer" "$WORK/raced.txt" "$E2E_TMP/value"
check "the racer wrote the secret into the file while its buffer, at the syscall's exit, held none" \
	test "$?" = 0
check "... the file holds it" grep -qF "$T" "$WORK/raced.txt"
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/raced.txt'" 10
barrier "the racer's records"
expect_alerts "the raced file: one secret_spread of RACE_KEY, by the racer" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='RACE_KEY' and a['artifact'].get('path')=='$WORK/raced.txt' and a['process']['comm']=='racer'"
differed=$(status_field "s['loss']['race_differed']")
check "status: the daemon found the file's range differ from what it got (race_differed $differed)" \
	test "$differed" = 1
"$SPRAWLCTL" run -- python3 -c "
import sys, threading, time
t = threading.Thread(target=time.sleep, args=(1,)); t.start()
open(sys.argv[1], 'w').write(open(sys.argv[2]).read())
t.join()
" "$WORK/threaded.txt" "$E2E_TMP/value"
"$SPRAWLCTL" run -- python3 -c "
import sys
open(sys.argv[1], 'w').write(open(sys.argv[2]).read())
" "$WORK/single.txt" "$E2E_TMP/value"
barrier "the other writers' records"
expect_alerts "the threaded writer's file: one alert" 1 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/threaded.txt'"
expect_alerts "the single-threaded writer's file: one alert" 1 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/single.txt'"
expect_alerts "nothing else: no gap, no channel (userfaultfd's zero page moves no bytes)" 3 \
	"a['kind']!='session_summary'"
check "status: the threaded write was compared, equal (race_differed still 1)" \
	test "$(status_field "s['loss']['race_differed']")" = 1
check "status: race_checked counts the racer's and the threaded writer's writes only (2 or more)" \
	test "$(status_field "s['loss']['race_checked']")" -ge 2
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
SHARED=128 READBACK=1024 # bpf/sprawl_events.h: SW_F_SHARED_MM (data records), SW_F_READBACK
check "the racer's write is flagged SW_F_SHARED_MM by the kernel" \
	test "$(records "$WORK/raced.txt" $SHARED $READBACK)" -ge 1
check "... and its range was read back" test "$(records "$WORK/raced.txt" $READBACK 0)" -ge 1
check "the threaded writer's file was not read back (equal)" \
	test "$(records "$WORK/threaded.txt" $READBACK 0)" -eq 0
check "the single-threaded writer's write is not flagged" \
	test "$(records "$WORK/single.txt" $SHARED 0)" -eq 0
check "the single-threaded writer's write is in the trace (the checks above can see it)" \
	test "$(records "$WORK/single.txt" 0 $READBACK)" -ge 1
expect_no_plaintext "$T"
e2e_finish
