# SPDX-License-Identifier: Apache-2.0
# Posts the file BODY to URL over https from a child forked after libssl is mapped (urllib.request
# loads it): the child has its parent's libraries, mapped with no mmap of its own. With a third
# argument, that file (the libssl copy in use) is removed before the fork. With
# FORK_CLONE_PARENT=1 the child is made by clone(CLONE_PARENT): its parent is this process's
# parent, not this one, which waits for it through a pipe.
import ctypes
import os
import select
import signal
import sys
import urllib.request

CLONE_PARENT = 0x00008000
SYS_CLONE = 56
url, body = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    os.unlink(sys.argv[3])


def post():
    with open(body, "rb") as f:
        urllib.request.urlopen(urllib.request.Request(url, data=f.read()), timeout=10).read()


if os.environ.get("FORK_CLONE_PARENT") == "1":
    r, w = os.pipe()
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.syscall(SYS_CLONE, CLONE_PARENT | signal.SIGCHLD, 0, 0, 0, 0)
    if pid < 0:
        sys.exit("clone: " + os.strerror(ctypes.get_errno()))
    if pid == 0:
        os.close(r)
        post()
        os.write(w, b"ok")
        os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 20)
    sys.exit(0 if ready and os.read(r, 2) == b"ok" else 1)
pid = os.fork()
if pid == 0:
    post()
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
