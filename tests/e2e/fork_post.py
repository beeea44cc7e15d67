# SPDX-License-Identifier: Apache-2.0
# Posts the file BODY to URL over https from a child forked after libssl is mapped (urllib.request
# loads it): the child has its parent's libraries, mapped with no mmap of its own. With a third
# argument, that file (the libssl copy in use) is removed before the fork.
import os
import sys
import urllib.request

url, body = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    os.unlink(sys.argv[3])
pid = os.fork()
if pid == 0:
    with open(body, "rb") as f:
        urllib.request.urlopen(urllib.request.Request(url, data=f.read()), timeout=10).read()
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
