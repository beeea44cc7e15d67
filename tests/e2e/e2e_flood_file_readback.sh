#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A flood cannot buy silence for files: four session writers go flat out into files, far past
# a 1 MiB ring; the writes the ring had no room for (past three quarters full) are kept by the
# kernel as (file, range) and read back from the file, so the secret written in the middle of one file alerts — once,
# not only as a gap. What could not be read back (a file deleted before it could be) is a
# coverage_gap (readback_failed).
. "$(dirname "$0")/lib.sh"

e2e_start --ringbuf-mb 1
T=$(new_secret FLOOD_FILE_KEY)
printf '%s' "$T" >"$E2E_TMP/value"
# Each writer: 4 KiB writes, 32768 of them (128 MiB); writer 2 puts the secret in write 16384.
"$SPRAWLCTL" run --agent flooder -- python3 - "$E2E_TMP/value" "$WORK" <<'PY'
import os, sys
v = open(sys.argv[1], "rb").read()
w = sys.argv[2]
zero = b"\0" * 4096
mid = (b"\0" * 1000 + b"\nKEY=" + v + b"\n").ljust(4096, b"\0")
kids = []
for k in range(4):
    pid = os.fork()
    if pid == 0:
        fd = os.open("%s/flood.%d" % (w, k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for i in range(32768):
            os.write(fd, mid if (k == 2 and i == 16384) else zero)
        os.close(fd)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)
PY
wait_alerts 1 "a.get('artifact',{}).get('path')=='$WORK/flood.2'" 20
barrier
expect_alerts "the secret in the middle of a flooded file alerts once" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='FLOOD_FILE_KEY' and a['artifact']['path']=='$WORK/flood.2'"
expect_alerts "... and nowhere else" 1 "a.get('secret',{}).get('name')=='FLOOD_FILE_KEY'"
SPILLED=$(status_field "s['loss']['spilled']")
check "the ring was full: writes were spilled ($SPILLED) and read back ($(status_field "s['loss']['spill_bytes']") bytes)" \
	test "$SPILLED" -gt 0 -a "$(status_field "s['loss']['spills_read']")" -gt 0
check "... and no record was lost: files leave the ring's last quarter to process events" \
	test "$(status_field "s['loss']['ringbuf_full']")" -eq 0
expect_alerts "no coverage_gap says a file's chunks or read-backs were lost" 0 \
	"a['kind']=='coverage_gap' and (a['gaps'].get('chunks_lost',0) or a['gaps'].get('readback_failed',0))"

# A spilled file deleted before the read-back: what cannot be read back is a gap. The writer
# floods, then removes its file at once.
"$SPRAWLCTL" run --agent flooder -- python3 - "$WORK" <<'PY'
import os, sys
w = sys.argv[1]
zero = b"\0" * 4096
kids = []
for k in range(4):
    pid = os.fork()
    if pid == 0:
        path = "%s/gone.%d" % (w, k)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for i in range(32768):
            os.write(fd, zero)
        os.close(fd)
        os.unlink(path)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)
PY
wait_alerts 1 "a['kind']=='coverage_gap' and a['gaps'].get('readback_failed',0)>0" 10
check "a spilled range whose file is gone is a coverage_gap (readback_failed)" \
	test "$(count_alerts "a['kind']=='coverage_gap' and a['gaps'].get('readback_failed',0)>0")" -ge 1
# A flooded file whose secret is overwritten at once: past a full ring, a write holding the
# secret and, right after, zeros over it (both spilled, neither read back yet). The secret's
# bytes were in the file, so silence is not an answer: its alert if the read-back came first,
# else a coverage_gap counting the write over bytes spilled and not read back (ringbuf_full).
printf '%s' "$(new_secret FLOOD_REWRITE_KEY)" >"$E2E_TMP/value2"
"$SPRAWLCTL" run --agent flooder -- python3 - "$E2E_TMP/value2" "$WORK" <<'PY'
import os, sys
v = open(sys.argv[1], "rb").read()
zero = b"\0" * 4096
mid = (b"\0" * 1000 + b"\nKEY=" + v + b"\n").ljust(4096, b"\0")
fd = os.open(sys.argv[2] + "/rewritten", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for i in range(16384):
    os.write(fd, zero)
os.write(fd, mid)
os.lseek(fd, -4096, os.SEEK_CUR)
os.write(fd, zero)
for i in range(1024):
    os.write(fd, zero)
os.close(fd)
PY
barrier "the rewriting flood"
# The barrier proves the records were processed; loss counters are read once a second, so the
# gap may come a second later.
REWRITE="(a['kind']=='secret_spread' and a['secret']['name']=='FLOOD_REWRITE_KEY') or (a['kind']=='coverage_gap' and a['gaps'].get('ringbuf_full',0)>0)"
wait_alerts 1 "$REWRITE" 10
check "a secret overwritten in a flooded file before its read-back: its alert or a ringbuf_full gap" \
	test "$(count_alerts "$REWRITE")" -ge 1
e2e_stop
e2e_finish
