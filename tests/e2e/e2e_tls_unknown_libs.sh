#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A TLS library the daemon did not find at its start is hooked when a session process maps it:
# the daemon seeds the host's libssl and libgnutls by path, and a copy of libssl put first on
# LD_LIBRARY_PATH (or the host's, upgraded since: a new inode) carried python's and curl's
# plaintext past it, with no alert and no report. Now a session process that maps an
# executable file the daemon has not looked at is stopped until it has: python3 urllib and
# curl, each through its own copy of libssl.so.3 -> one tls alert each, naming the peer; the
# same again (now known) -> no second stop needed, and a third secret through the copy alerts
# too; nothing else (no unmonitored_channel: the copy is hooked, not merely reported).
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
check "the three requests arrived" test "$(grep -c 'k=' "$E2E_TMP/https.bodies")" -eq 3
wait_alerts 3 "a['kind']=='secret_spread' and a['artifact']['type']=='tls'" 15
barrier
tls="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
expect_alerts "python3 through a copy of libssl: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='COPY_py' and a['process']['comm']=='python3' and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "curl through another copy: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='COPY_curl' and a['process']['comm']=='curl' and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "the first copy again, known now: one tls alert" 1 \
	"$tls and a['secret']['name']=='COPY_again' and a['process']['comm']=='python3'"
expect_alerts "the ciphertext on the socket holds no secret" 0 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='socket'"
expect_alerts "no unmonitored_channel: the copies are hooked" 0 "a['kind']=='unmonitored_channel'"
expect_alerts "nothing else" 3 "a['kind']!='session_summary'"
check "no process is left stopped, and both copies are hooked files" \
	test "$(status_field "(s['tls']['stopped'], s['tls']['files'] >= 4, s['tls']['failopen'], s['tls']['unresolved'])")" = "(0, True, 0, 0)"
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
