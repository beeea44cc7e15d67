#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A file system gives a deleted file's inode number to the next file it makes, and the daemon
# keys a file's stream by device and inode: the new file must not be read as the old one's
# continuation. On a fresh ext4 image (which reuses the lowest free inode), as git does: a ref
# written to a lock and renamed over the ref (freeing the old ref's inode), then a loose
# object holding a tracked secret written to a temporary name, which gets that inode, and
# linked to its id's name -> one alert on the object, inflated, naming repository and blob.
# (CI: a thin push's local blob went unseen this way, its stream taken for the ref's.)
. "$(dirname "$0")/lib.sh"

command -v mkfs.ext4 >/dev/null || e2e_skip "needs mkfs.ext4"
command -v git >/dev/null || e2e_skip "needs git"
e2e_start
e2e_mount_image ext4 64M
REPO=$MNT/proj
git init -q "$REPO"
T=$(new_secret REUSE_KEY)
printf '%s' "$T" >"$E2E_TMP/.secrets/reuse.src"

"$SPRAWLCTL" run -- python3 - "$REPO/.git" "$E2E_TMP/.secrets/reuse.src" "$E2E_TMP/inos" <<'PY'
import hashlib, os, sys, zlib
git, src, out = sys.argv[1:]
body = ("token: %s\n" % open(src).read()).encode()
raw = b"blob %d\0" % len(body) + body
oid = hashlib.sha1(raw).hexdigest()
# (the directory first: a new directory may go to another block group, its files with it)
os.makedirs("%s/objects/%s" % (git, oid[:2]), exist_ok=True)
ref = git + "/refs/heads/main"
def put_ref(v):
    with open(ref + ".lock", "w") as f:
        f.write(v * 40 + "\n")
    os.rename(ref + ".lock", ref)
put_ref("1")
freed = os.stat(ref).st_ino
put_ref("2")  # renamed over the first: its inode is free now
tmp = "%s/objects/%s/tmp_obj_e2e" % (git, oid[:2])
fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o444)
ino = os.fstat(fd).st_ino
os.write(fd, zlib.compress(raw))
os.close(fd)
os.link(tmp, "%s/objects/%s/%s" % (git, oid[:2], oid[2:]))
os.unlink(tmp)
open(out, "w").write("%d %d %s\n" % (freed, ino, oid))
PY
read -r FREED INO OID <"$E2E_TMP/inos"
check "the object got the freed ref's inode ($FREED)" test "$FREED" = "$INO"
wait_alerts 1 "a['kind']=='secret_spread' and a['secret']['name']=='REUSE_KEY'" 15
barrier
expect_alerts "one alert on the loose object: inflated, its repository and blob" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='REUSE_KEY' and a['artifact'].get('inflated')=='zlib' and a['artifact']['git']=={'repo':'$REPO','object':'$OID','kind':'blob'} and a['artifact']['path']=='$REPO/.git/objects/${OID:0:2}/${OID:2}'"
expect_alerts "nothing else" 1 "a['kind']!='session_summary'"
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
