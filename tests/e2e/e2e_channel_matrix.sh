#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every write/send/copy channel of the README's "What it sees" table, one syscall each (made
# with python3's os/socket calls, or libc's syscall() where python has no wrapper, so the
# syscall is the one named), carries the secret into a new place, and each place gets exactly
# its alert: write, pwrite64, writev, pwritev, pwritev2 (files); send, sendto, sendmsg,
# sendmmsg, write (UDP sockets); a socketpair (a pipe artifact); copy_file_range, sendfile and
# splice out of a file (read back from the source); tee, whose source is always a pipe (a
# coverage_gap copy_unread: a pipe cannot be read back); rename, renameat, renameat2 and
# link after a write (the alert names the final name); a rename keeps the place (no second
# alert after it). Sizes: a secret across the 16 KiB chunk seam inside one write is found; a
# write past the 1 MiB per-syscall cap is found where it was captured and its cut is a
# coverage_gap (truncated: 1).
. "$(dirname "$0")/lib.sh"

e2e_start
T=$(new_secret MATRIX_KEY)
printf '%s' "$T" >"$E2E_TMP/value"

cat >"$E2E_TMP/matrix.py" <<'PY'
import ctypes, os, socket, subprocess, sys

v = open(sys.argv[1], "rb").read()
w = sys.argv[2]
h = len(v) // 2  # where a secret is split across iovecs (reassembled within one syscall)
libc = ctypes.CDLL(None, use_errno=True)
NR = {"renameat2": 316, "tee": 276, "rename": 82, "renameat": 264, "link": 86, "linkat": 265}


def sys_call(name, *args):
    r = libc.syscall(NR[name], *args)
    assert r >= 0, (name, ctypes.get_errno())
    return r


def new(name):
    return os.open(os.path.join(w, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def src_file():
    p = os.path.join(w, ".src")
    with open(p, "wb") as f:
        f.write(b"k=" + v + b"\n")
    return os.open(p, os.O_RDONLY)


def phase_files():
    # files: one syscall each
    fd = new("write.out"); os.write(fd, b"k=" + v); os.close(fd)
    fd = new("pwrite64.out"); os.pwrite(fd, b"k=" + v, 4096); os.close(fd)
    fd = new("writev.out"); os.writev(fd, [b"k=", v[:h], v[h:]]); os.close(fd)
    fd = new("pwritev.out"); os.pwritev(fd, [b"k=", v[:h], v[h:]], 0); os.close(fd)
    fd = new("pwritev2.out"); os.pwritev(fd, [b"k=", v[:h], v[h:]], 0, os.RWF_DSYNC); os.close(fd)

def phase_sockets():
    # UDP sockets, one peer per channel: receivers bound here (so no ICMP error cuts a send
    # short), their ports written to udp.ports for the test
    recv = []
    for i in range(5):
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0)); recv.append(r)
    ports = [r.getsockname()[1] for r in recv]
    open(os.path.join(w, "udp.ports"), "w").write(" ".join(map(str, ports)))


    def udp(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        return s, ("127.0.0.1", ports[i])

    s, a = udp(0); s.connect(a); s.send(b"k=" + v); s.close()              # send = sendto(NULL)
    s, a = udp(1); s.sendto(b"k=" + v, a); s.close()                    # sendto
    s, a = udp(2); s.sendmsg([b"k=", v[:h], v[h:]], [], 0, a); s.close()  # sendmsg


    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


    class msghdr(ctypes.Structure):
        _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                    ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                    ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                    ("flags", ctypes.c_int)]


    class mmsghdr(ctypes.Structure):
        _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]


    s, a = udp(3); s.connect(a)  # sendmmsg: two messages, the second carries the secret
    b1, b2 = ctypes.create_string_buffer(b"hello"), ctypes.create_string_buffer(b"k=" + v)
    iov = (iovec * 2)(iovec(ctypes.cast(b1, ctypes.c_void_p).value, 5),
                      iovec(ctypes.cast(b2, ctypes.c_void_p).value, len(v) + 2))
    msgs = (mmsghdr * 2)()
    for i in range(2):
        msgs[i].hdr.iov = ctypes.cast(ctypes.addressof(iov) + i * ctypes.sizeof(iovec),
                                      ctypes.POINTER(iovec))
        msgs[i].hdr.iovlen = 1
    libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    assert libc.sendmmsg(s.fileno(), ctypes.addressof(msgs), 2, 0) == 2, ctypes.get_errno()
    s.close()
    s, a = udp(4); s.connect(a); os.write(s.fileno(), b"k=" + v); s.close()  # write on a socket

    # a socketpair: the peer end is a child's stdin
    p1, p2 = socket.socketpair()
    wc = subprocess.Popen(["wc", "-c"], stdin=p2.fileno(), stdout=subprocess.DEVNULL)
    p2.close()
    p1.sendall(b"k=" + v); p1.close(); wc.wait()
    open(os.path.join(w, "wc_sp.pid"), "w").write(str(wc.pid))

def phase_copies():
    # copies without a user buffer
    src = src_file(); n = os.fstat(src).st_size
    fd = new("copy_file_range.out"); assert os.copy_file_range(src, fd, n, 0) == n; os.close(fd)
    fd = new("sendfile.out"); assert os.sendfile(fd, src, 0, n) == n; os.close(fd)
    # (a pipe place is its reader's exe: a reader other than the socketpair's wc)
    wc = subprocess.Popen(["cksum"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert os.splice(src, wc.stdin.fileno(), n, offset_src=0) == n  # splice: file -> a pipe
    wc.stdin.close(); wc.wait()
    open(os.path.join(w, "wc_splice.pid"), "w").write(str(wc.pid))
    # tee: pipe -> pipe; the first pipe got a harmless line (no secret), so the only thing to
    # say about the tee is that its source could not be read back
    r1, w1 = os.pipe(); r2, w2 = os.pipe()
    os.write(w1, b"nothing secret here\n")
    assert sys_call("tee", r1, w2, 4096, 0) > 0
    for x in (r1, w1, r2, w2):
        os.close(x)
    os.close(src)

def phase_renames():
    # renames and links right after the write (within the 0.5 s hold): the final name is named
    AT_FDCWD = -100
    def via(name, how):
        tmp, final = os.path.join(w, name + ".tmp"), os.path.join(w, name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600); os.write(fd, b"k=" + v); os.close(fd)
        t, f = tmp.encode(), final.encode()
        if how == "rename": sys_call("rename", t, f)
        elif how == "renameat": sys_call("renameat", AT_FDCWD, t, AT_FDCWD, f)
        elif how == "renameat2": sys_call("renameat2", AT_FDCWD, t, AT_FDCWD, f, 0)
        elif how == "link": sys_call("link", t, f); os.unlink(tmp)
        elif how == "linkat": sys_call("linkat", AT_FDCWD, t, AT_FDCWD, f, 0); os.unlink(tmp)
    for how in ("rename", "renameat", "renameat2", "link", "linkat"):
        via(how + ".final", how)

def phase_sizes():
    # sizes: across the 16 KiB chunk seam inside one write; one write past the 1 MiB cap
    seam = 16384
    buf = b"x" * (seam - len(v) // 2) + v + b"y" * (seam - len(v) // 2 - len(v) % 2)
    assert len(buf) == 2 * seam
    fd = new("seam.out"); os.write(fd, buf); os.close(fd)
    big = b"k=" + v + b"z" * ((1 << 20) + (256 << 10))  # 1.25 MiB, the secret in the first bytes
    fd = new("big.out"); assert os.write(fd, big) == len(big); os.close(fd)


globals()["phase_" + sys.argv[3]]()
PY

# One session per group of channels: flood control lets 20 alerts of a (secret, session)
# through at once, and the matrix makes 22.
for phase in files sockets copies renames sizes; do
	check "the $phase group ran" "$SPRAWLCTL" run -- python3 "$E2E_TMP/matrix.py" "$E2E_TMP/value" "$WORK" "$phase"
done
read -ra PORTS <"$WORK/udp.ports"
wait_alerts 22 "a['kind']=='secret_spread'" 15
barrier

S="a['kind']=='secret_spread' and a['secret']['name']=='MATRIX_KEY' and a['secret']['variant']=='raw' and a['process']['comm']=='python3' and a['first_seen']"
file_alert() { # file_alert WHAT NAME: exactly one alert naming $WORK/NAME with its inode
	expect_alerts "$1: one alert for $2" 1 \
		"$S and a['artifact']=={'type':'file','path':'$WORK/$2','dev':$(stat -c %d "$WORK/$2"),'ino':$(stat -c %i "$WORK/$2")}"
}
file_alert write write.out
file_alert pwrite64 pwrite64.out
file_alert "writev (the secret split across iovecs)" writev.out
file_alert pwritev pwritev.out
file_alert "pwritev2 (RWF_DSYNC)" pwritev2.out
for i in 0 1 2 3 4; do
	case $i in 0) what="send (connected UDP)" ;; 1) what=sendto ;; 2) what="sendmsg (3 iovecs)" ;;
	3) what="sendmmsg (the second message)" ;; 4) what="write on a socket" ;; esac
	expect_alerts "$what: one alert for udp 127.0.0.1:${PORTS[i]}" 1 \
		"$S and a['artifact']=={'type':'socket','proto':'udp','peer':'127.0.0.1:${PORTS[i]}'}"
done
WC=$(command -v wc)
expect_alerts "socketpair: a pipe artifact naming its reader (wc)" 1 \
	"$S and a['artifact']=={'type':'pipe','reader_pid':$(cat "$WORK/wc_sp.pid"),'reader_exe':'$WC'}"
file_alert "copy_file_range (read back from the source)" copy_file_range.out
file_alert "sendfile to a file (read back from the source)" sendfile.out
expect_alerts "splice file -> pipe: a pipe artifact naming its reader (cksum)" 1 \
	"$S and a['artifact']=={'type':'pipe','reader_pid':$(cat "$WORK/wc_splice.pid"),'reader_exe':'$(command -v cksum)'}"
expect_alerts "tee (pipe -> pipe): its source cannot be read back: coverage_gap copy_unread 1" 1 \
	"a['kind']=='coverage_gap' and a['gaps'].get('copy_unread')==1"
for how in rename renameat renameat2 link linkat; do
	file_alert "$how right after the write: the final name" "$how.final"
done
expect_alerts "no alert names a temporary name" 0 \
	"a['kind']=='secret_spread' and a['artifact'].get('path','').endswith('.tmp')"
file_alert "a secret across the 16 KiB chunk seam of one 32 KiB write" seam.out
file_alert "a write past the 1 MiB cap: found in what was captured" big.out
check "... and its cut is a coverage_gap: truncated 1 (alerts and status agree)" \
	test "$(python3 -c "
import json
print(sum(a['gaps'].get('truncated', 0) for a in map(json.loads, open('$ALERTS')) if a['kind'] == 'coverage_gap'))
")" -eq 1 -a "$(status_field "s['loss']['truncated']")" -eq 1
file_alert "the copies' source file, written first" .src
expect_alerts "exactly one alert per place: 22 spreads" 22 "a['kind']=='secret_spread'"
expect_alerts "no flood control held anything back (one session per group)" 0 "a['kind']=='rate_limited'"

# A rename keeps the place: the file is its inode, so writing the secret into the renamed
# file again is counted, not alerted.
"$SPRAWLCTL" run -- sh -c "mv '$WORK/write.out' '$WORK/moved.out'; read -r l < '$E2E_TMP/value'; printf '%s\n' \"\$l\" >> '$WORK/moved.out'"
barrier "the write into the renamed file processed"
expect_alerts "a renamed file is the same place: no alert for the write after mv" 0 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/moved.out'"
check "... the place counts two sightings (status places: file:DEV:INO:GEN)" test "$(status_field "
[p['count'] for p in s['places'] if p['secret']['name'] == 'MATRIX_KEY' and p['place'].startswith('file:%d:%d:' % ($(stat -c %d "$WORK/moved.out"), $(stat -c %i "$WORK/moved.out")))]")" = "[2]"
e2e_stop
e2e_finish
