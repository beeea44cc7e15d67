#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fallocate(FALLOC_FL_COLLAPSE_RANGE) moves a file's bytes within it without a write: a secret
# written in two halves a block apart (no write holds it whole, and the written stream has
# 4 KiB between them) becomes whole when the block between is collapsed. The file is covered:
# read back when its writer closes it, so the whole secret is found; it is no
# unmonitored_channel then. A collapse of a file whose halves hold nothing secret: no alert.
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret SHIFT_KEY)
printf '%s' "$T" >"$E2E_TMP/src"
COLLAPSE='
import ctypes, os, sys
v = open(sys.argv[1]).read() if sys.argv[1] != "-" else "x" * 40
h = len(v) // 2
fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, ("a" * (4096 - h) + v[:h]).encode())
os.write(fd, b"-" * 4096)
os.write(fd, (v[h:] + "b" * (4096 - (len(v) - h))).encode())
libc = ctypes.CDLL(None, use_errno=True)
r = libc.fallocate(fd, 0x08, ctypes.c_long(4096), ctypes.c_long(4096))  # COLLAPSE_RANGE
assert r == 0, ctypes.get_errno()
os.close(fd)
'
"$SPRAWLCTL" run -- python3 -c "$COLLAPSE" "$E2E_TMP/src" "$WORK/joined.bin"
"$SPRAWLCTL" run -- python3 -c "$COLLAPSE" - "$WORK/plain.bin"
wait_alerts 1 "a['kind']=='secret_spread' and a['secret']['name']=='SHIFT_KEY'" 15
barrier

check "the collapse made the secret whole in the file" grep -qF "$T" "$WORK/joined.bin"
expect_alerts "the collapsed file is read back at its close: the whole secret found" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='SHIFT_KEY' and a['artifact']['path']=='$WORK/joined.bin'"
expect_alerts "no secret in the other: nothing" 0 "a['artifact'].get('path')=='$WORK/plain.bin'"
expect_alerts "read back, so no unmonitored_channel" 0 "a['kind']=='unmonitored_channel'"
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
