#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A copy by clone: on XFS and btrfs, cp (coreutils 9: --reflink=auto) clones the file with the
# FICLONE ioctl and never calls copy_file_range; FICLONERANGE clones a block range. Either
# moves the source's bytes into the destination, so each is a copy like copy_file_range: the
# cloned range of the source is read back. Run on an XFS image mounted by loop.
. "$(dirname "$0")/lib.sh"

e2e_start
e2e_mount_image xfs 300M
T=$(new_secret CLONE_KEY)
printf '%s' "$T" >"$E2E_TMP/src"
# The secret in the source's third 4 KiB block, made before any session.
python3 -c "
import sys
v = open(sys.argv[1]).read()
open(sys.argv[2], 'w').write('a' * 8192 + 'k=' + v + '\n' + 'b' * (4096 - 3 - len(v)) + 'c' * 8192)
" "$E2E_TMP/src" "$MNT/src.bin"

# (a) cp clones the whole file (--reflink=always: it fails rather than copy otherwise).
"$SPRAWLCTL" run -- cp --reflink=always "$MNT/src.bin" "$MNT/whole.bin"
# (b) FICLONERANGE of the block holding the secret, to another file's second block; (c) of the
# first block, which holds none.
"$SPRAWLCTL" run -- python3 -c "
import fcntl, os, struct, sys
FICLONERANGE = 0x4020940d
src = os.open(sys.argv[1], os.O_RDONLY)
def clone(dst, off, n, at):
    d = os.open(dst, os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.ioctl(d, FICLONERANGE, struct.pack('qQQQ', src, off, n, at))
    os.close(d)
clone(sys.argv[2], 8192, 4096, 4096)
clone(sys.argv[3], 0, 4096, 0)
" "$MNT/src.bin" "$MNT/range.bin" "$MNT/clean.bin"
wait_alerts 2 "a['kind']=='secret_spread' and a['secret']['name']=='CLONE_KEY'" 15
barrier

check "(a) cp made a clone, not a copy (the two files share their extents)" bash -c \
	"cmp -s '$MNT/src.bin' '$MNT/whole.bin' && [ \"\$(xfs_io -c 'fiemap -v' '$MNT/whole.bin' | awk 'NR==3 { print \$3 }')\" = \"\$(xfs_io -c 'fiemap -v' '$MNT/src.bin' | awk 'NR==3 { print \$3 }')\" ]"
expect_alerts "(a) cp's clone: the destination holds the secret" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='CLONE_KEY' and a['artifact']['path']=='$MNT/whole.bin' and a['process']['comm']=='cp'"
expect_alerts "(b) FICLONERANGE of the block holding it" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='CLONE_KEY' and a['artifact']['path']=='$MNT/range.bin'"
expect_alerts "(c) a block without it: nothing" 0 "a['artifact'].get('path')=='$MNT/clean.bin'"
expect_alerts "two spreads of the secret in all" 2 \
	"a['kind']=='secret_spread' and a['secret']['name']=='CLONE_KEY'"
expect_alerts "every clone read back: no coverage_gap" 0 "a['kind']=='coverage_gap'"
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
