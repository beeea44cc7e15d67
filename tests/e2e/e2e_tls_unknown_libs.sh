#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A TLS library the daemon did not find at its start is hooked when a session process maps it:
# the daemon seeds the host's libssl and libgnutls by path, and a copy of libssl put first on
# LD_LIBRARY_PATH (or the host's, upgraded since: a new inode) carried python's and curl's
# plaintext past it, with no alert and no report. Now a session process that maps an
# executable file the daemon has not looked at is stopped until it has: python3 urllib and
# curl, each through its own copy of libssl.so.3 -> one tls alert each, naming the peer; the
# same again (now known) -> no second stop needed, and a third secret through the copy alerts
# too; nothing else (no unmonitored_channel: the copy is hooked, not merely reported). A copy
# deleted while mapped, then a fork: the child is hooked (one tls alert). Five more copies in
# one process, past the 8 uprobes a process holds: the fifth is one unmonitored_channel tls
# (could not be attached). java -version: its libjvm is one unmonitored_channel tls (JSSE is
# Java code). A client with OpenSSL linked in statically and stripped: one unmonitored_channel
# tls naming it; copies of it made executable with mprotect: one each; the same with its
# OpenSSL's names blanked: one tls channel for TLS no hook saw.
. "$(dirname "$0")/lib.sh"

SSL=$(ls /usr/lib/x86_64-linux-gnu/libssl.so.3 /lib/x86_64-linux-gnu/libssl.so.3 2>/dev/null | head -1)
[ -n "$SSL" ] || e2e_skip "needs libssl.so.3"
e2e_start
start_https
PEER="127.0.0.1:$HTTPS_PORT"
URL="https://localhost:$HTTPS_PORT/v1/messages"
for c in py curl again; do
	v=$(new_secret "COPY_$c")
	printf 'k=%s' "$v" >"$E2E_TMP/body.$c"
done
mkdir -p "$E2E_TMP/lib1" "$E2E_TMP/lib2"
cp "$SSL" "$E2E_TMP/lib1/"
cp "$SSL" "$E2E_TMP/lib2/"

post_py() { # $1: lib dir, $2: body; prints how many mappings of the copy python had
	LD_LIBRARY_PATH=$1 SSL_CERT_FILE=$HTTPS_CA "$SPRAWLCTL" run -- python3 - "$URL" "$2" "$1" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read()),
                       timeout=10).read()
print(sum(1 for l in open("/proc/self/maps") if sys.argv[3] + "/libssl.so.3" in l))
PY
}
n=$(post_py "$E2E_TMP/lib1" "$E2E_TMP/body.py")
check "python3 mapped the copy of libssl ($n mappings)" test "$n" -gt 0
LD_LIBRARY_PATH=$E2E_TMP/lib2 "$SPRAWLCTL" run -- curl -sS --cacert "$HTTPS_CA" \
	--data-binary @"$E2E_TMP/body.curl" "$URL" >/dev/null
check "curl used the other copy" bash -c \
	"LD_LIBRARY_PATH='$E2E_TMP/lib2' ldd \$(command -v curl) | grep -q '$E2E_TMP/lib2/libssl.so.3'"
n=$(post_py "$E2E_TMP/lib1" "$E2E_TMP/body.again")
# A copy of libssl deleted while mapped (as an upgrade replaces the host's), then a fork: the
# child is hooked through its own link to the mapping.
mkdir -p "$E2E_TMP/lib3"
cp "$SSL" "$E2E_TMP/lib3/"
v=$(new_secret COPY_gone)
printf 'k=%s' "$v" >"$E2E_TMP/body.gone"
LD_LIBRARY_PATH=$E2E_TMP/lib3 SSL_CERT_FILE=$HTTPS_CA "$SPRAWLCTL" run -- python3 \
	"$E2E_ROOT/tests/e2e/fork_post.py" "$URL" "$E2E_TMP/body.gone" "$E2E_TMP/lib3/libssl.so.3"
# Past the uprobes one process may hold (8): five more copies loaded (two hooks each); the one
# that cannot be attached is told, not left silent.
mkdir -p "$E2E_TMP/many"
for i in 1 2 3 4 5; do cp "$SSL" "$E2E_TMP/many/libssl$i.so.3"; done
"$SPRAWLCTL" run -- python3 -c "
import ctypes, sys
for i in range(1, 6):
    ctypes.CDLL('%s/libssl%d.so.3' % (sys.argv[1], i))
" "$E2E_TMP/many"
# The JVM: Java's TLS (JSSE) is Java code, through no native function: its libjvm is told as a
# TLS stack we cannot see (when this host has java).
NJAVA=0
if command -v java >/dev/null; then
	NJAVA=1
	"$SPRAWLCTL" run -- java -version 2>/dev/null
fi
# A client with OpenSSL linked in statically and stripped (as static curl builds ship): no
# SSL_write to hook; it is told as a TLS stack we cannot see, once.
cat >"$E2E_TMP/sclient.c" <<'C'
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char body[512], out[1024];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;
	FILE *f = fopen(argv[2], "r");
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(c);

	size_t len = fread(body, 1, sizeof(body), f);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	SSL_set_fd(s, fd);
	if (SSL_connect(s) != 1)
		return 2;
	n = snprintf(out, sizeof(out), "POST /s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n%.*s", len, (int)len, body);
	SSL_write(s, out, n);
	SSL_read(s, out, sizeof(out));
	return 0;
}
C
v=$(new_secret COPY_static)
printf 'k=%s' "$v" >"$E2E_TMP/body.static"
STATIC=$E2E_TMP/sclient
check "a static, stripped OpenSSL client built (libssl.a)" \
	cc -O2 -static -s -o "$STATIC" "$E2E_TMP/sclient.c" -lssl -lcrypto -pthread
"$SPRAWLCTL" run -- "$STATIC" "$HTTPS_PORT" "$E2E_TMP/body.static"
# A TLS stack nothing names: the static client with the source file names OpenSSL's errors carry
# blanked (as one who means to hide it would) is recognised as no TLS stack and hooked nowhere;
# its socket shows TLS application data no hook saw -> one unmonitored_channel tls naming the
# connection (none before: its request left unseen and untold).
v=$(new_secret COPY_hidden)
printf 'k=%s' "$v" >"$E2E_TMP/body.hidden"
python3 - "$STATIC" "$E2E_TMP/hidden" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
for name in (b"ssl/record/rec_layer_s3.c", b"ssl/ssl_lib.c"):
    b = b.replace(name, b"x" * len(name))
open(sys.argv[2], "wb").write(b)
PY
chmod 755 "$E2E_TMP/hidden"
"$SPRAWLCTL" run -- "$E2E_TMP/hidden" "$HTTPS_PORT" "$E2E_TMP/body.hidden"
# A loader of its own maps a library readable and makes its code executable with mprotect (the
# dynamic loader maps code executable at once): looked at as an executable mmap's file is. One
# copy of the static client made executable -> one tls channel naming it; a filler file and a
# second copy in one mprotect (more than one file: the kernel has the daemon look at all of
# the process's executable mappings, a rescan) -> one naming that copy.
cp "$STATIC" "$E2E_TMP/mp1"
cp "$STATIC" "$E2E_TMP/mp2"
cp /bin/true "$E2E_TMP/filler"
n=$("$SPRAWLCTL" run -- python3 "$E2E_ROOT/tests/e2e/mprotect_map.py" "$E2E_TMP/mp1")
check "mprotect made one copy executable ($n)" test "$n" = 1
n=$("$SPRAWLCTL" run -- python3 "$E2E_ROOT/tests/e2e/mprotect_map.py" "$E2E_TMP/filler" \
	"$E2E_TMP/mp2")
check "... and a filler and another copy in one mprotect ($n)" test "$n" = 2
# A file looked at, removed, and a new file given its inode (a fresh ext4 image gives a new
# file the lowest free inode): the new file is not the old one. A copy of libssl hooked for
# python3, removed once no uprobe holds it, then a copy of the static client at its inode; a
# copy of true looked at (nothing to hook), removed, then another static client at its inode:
# each is one tls channel naming it (not the old file's hooks, not the old verdict).
STALE0=$(status_field "s['tls']['stale']") # (a copy above may have got a removed one's inode)
e2e_mount_image ext4 64M
mkdir -p "$MNT/a" "$MNT/b"
cp "$SSL" "$MNT/a/libssl.so.3"
v=$(new_secret REUSE_ssl)
printf 'k=%s' "$v" >"$E2E_TMP/body.reuse"
n=$(post_py "$MNT/a" "$E2E_TMP/body.reuse")
for _ in $(seq 100); do # (a process's uprobes hold the file until its exit is handled)
	[ "$(status_field "s['tls']['uprobes']")" = 0 ] && break
	sleep 0.1
done
FREED=$(stat -c %i "$MNT/a/libssl.so.3")
rm "$MNT/a/libssl.so.3"
cp "$STATIC" "$MNT/b/sc1"
check "a static client got the inode of the removed libssl copy ($FREED)" \
	test "$(stat -c %i "$MNT/b/sc1")" = "$FREED"
"$SPRAWLCTL" run -- "$MNT/b/sc1" "$HTTPS_PORT" "$E2E_TMP/body.static"
cp /bin/true "$MNT/a/t1"
"$SPRAWLCTL" run -- "$MNT/a/t1"
FREED=$(stat -c %i "$MNT/a/t1")
rm "$MNT/a/t1"
cp "$STATIC" "$MNT/b/sc2"
check "another got the inode of the removed copy of true ($FREED)" \
	test "$(stat -c %i "$MNT/b/sc2")" = "$FREED"
"$SPRAWLCTL" run -- "$MNT/b/sc2" "$HTTPS_PORT" "$E2E_TMP/body.static"
check "the requests arrived" test "$(grep -c 'k=' "$E2E_TMP/https.bodies")" -eq 9
wait_alerts 5 "a['kind']=='secret_spread' and a['artifact']['type']=='tls'" 15
barrier
tls="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
expect_alerts "python3 through a copy of libssl: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='COPY_py' and a['process']['comm']=='python3' and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "curl through another copy: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='COPY_curl' and a['process']['comm']=='curl' and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "the first copy again, known now: one tls alert" 1 \
	"$tls and a['secret']['name']=='COPY_again' and a['process']['comm']=='python3'"
expect_alerts "a fork after its copy of libssl was deleted: the child hooked, one tls alert" 1 \
	"$tls and a['secret']['name']=='COPY_gone' and a['artifact']['peer']=='$PEER'"
expect_alerts "five copies in one process: the fifth, past 8 uprobes, is told as not hooked" 1 \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']['path']=='$E2E_TMP/many/libssl5.so.3' and 'could not be attached' in a['message']"
expect_alerts "java: its libjvm told as a TLS stack we cannot see ($NJAVA)" "$NJAVA" \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']['path'].endswith('/libjvm.so') and 'java (jsse)' in a['message']"
expect_alerts "the ciphertext on the socket holds no secret" 0 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='socket'"
expect_alerts "the copies are hooked: no unmonitored_channel names them" 0 \
	"a['kind']=='unmonitored_channel' and a['artifact']['path'].startswith('$E2E_TMP/lib')"
expect_alerts "a static, stripped OpenSSL client: one tls channel naming it" 1 \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']['path']=='$STATIC' and 'openssl (unknown build)' in a['message']"
expect_alerts "... its write not seen (no tls alert)" 0 "$tls and a['secret']['name']=='COPY_static'"
expect_alerts "the same, its OpenSSL's names blanked: one tls channel naming the connection" 1 \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['process']['comm']=='hidden' and a['artifact']=={'type':'tls','peer':'$PEER'} and 'no plaintext at any hooked TLS function' in a['message']"
expect_alerts "... nothing else names it" 1 "a['kind']!='session_summary' and a['process']['comm']=='hidden'"
expect_alerts "python3 through a copy of libssl on the image: one tls alert" 1 \
	"$tls and a['secret']['name']=='REUSE_ssl' and a['process']['comm']=='python3'"
for f in b/sc1 b/sc2; do
	expect_alerts "a static client at a reused inode ($f): one tls channel naming it" 1 \
		"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']['path']=='$MNT/$f' and 'openssl (unknown build)' in a['message']"
done
for f in mp1 mp2; do
	expect_alerts "a copy of it made executable by mprotect ($f): one tls channel naming it" 1 \
		"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']['path']=='$E2E_TMP/$f' and 'openssl (unknown build)' in a['message']"
done
expect_alerts "nothing else" $((12 + NJAVA)) "a['kind']!='session_summary'"
st=$(status_field "(s['tls']['stopped'], s['tls']['files'] >= 10, s['tls']['failopen'], s['tls']['unresolved'], s['tls']['attach_failed'], s['tls']['rescans'], s['tls']['stale'] - $STALE0)")
check "no process is left stopped, the copies are hooked files, one rescan, one file found stale on the image: $st" \
	test "$st" = "(0, True, 0, 0, 2, 1, 1)"
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
