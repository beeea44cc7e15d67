# SPDX-License-Identifier: Apache-2.0
"""Maps the first page of each FILE readable, side by side, then makes the whole range
executable with one mprotect, as a loader of its own would (the dynamic loader maps code
executable at once). Prints how many of the mappings are executable afterwards."""
import ctypes
import mmap
import os
import sys

PROT_NONE, PROT_READ, PROT_EXEC = 0, 1, 4
MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 0x02, 0x10, 0x20
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
files = sys.argv[1:]
page = mmap.PAGESIZE
base = libc.mmap(None, len(files) * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
if base in (None, ctypes.c_void_p(-1).value):
    sys.exit("mmap: " + os.strerror(ctypes.get_errno()))
for i, f in enumerate(files):
    fd = os.open(f, os.O_RDONLY)
    at = libc.mmap(base + i * page, page, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0)
    os.close(fd)
    if at != base + i * page:
        sys.exit("mmap %s: %s" % (f, os.strerror(ctypes.get_errno())))
if libc.mprotect(base, len(files) * page, PROT_READ | PROT_EXEC):
    sys.exit("mprotect: " + os.strerror(ctypes.get_errno()))
print(sum(1 for line in open("/proc/self/maps")
          if line.split()[1].startswith("r-x") and any(line.rstrip().endswith(f) for f in files)))
