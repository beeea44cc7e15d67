#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS writes seen before encryption: curl --data (OpenSSL's SSL_write in libssl.so.3), python3
# urllib (SSL_write_ex), node fetch (node's own SSL_write) and a gnutls client
# (gnutls_record_send, hooked at gnutls_record_send2, which a client of its own calls too) POST
# a secret over https to a loopback server; each is one `tls` alert
# naming the peer (and the server name its ClientHello carried). A write over 16 KiB is
# captured in chunks like write(). A child forked after its parent was hooked is hooked before
# it runs (one made with clone(CLONE_PARENT) too, whose parent is not the hooked process). A
# process outside any session using the same libssl traps in no uprobe (attached
# per session process only). A QUIC Initial from a session is told as TLS no hook sees.
. "$(dirname "$0")/lib.sh"

e2e_start
start_https
# One secret per client: a (secret, place) pair alerts once, and all go to the same peer.
for c in curl py node big; do
	v=$(new_secret "TLS_$c")
	printf 'k=%s' "$v" >"$E2E_TMP/body.$c"
done
PEER="127.0.0.1:$HTTPS_PORT"
URL="https://localhost:$HTTPS_PORT/v1/messages"

"$SPRAWLCTL" run -- curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.curl" "$URL" \
	>/dev/null
wait_alerts 1 "a['artifact']['type']=='tls' and a['process']['comm']=='curl'" 10
check "curl: the request arrived" grep -q "k=" "$E2E_TMP/https.bodies"

SSL_CERT_FILE=$HTTPS_CA "$SPRAWLCTL" run -- python3 - "$URL" "$E2E_TMP/body.py" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read()),
                       timeout=10).read()
PY
wait_alerts 1 "a['artifact']['type']=='tls' and a['process']['comm']=='python3'" 10

NODE_EXTRA_CA_CERTS=$HTTPS_CA "$SPRAWLCTL" run -- node -e '
const fs = require("fs");
fetch(process.argv[1], {method: "POST", body: fs.readFileSync(process.argv[2])})
  .then(r => r.text()).then(() => process.exit(0), e => { console.error(e); process.exit(1); });
' "$URL" "$E2E_TMP/body.node"
wait_alerts 1 "a['artifact']['type']=='tls' and a['process']['comm']=='node'" 10

# git over https: git-remote-https is libcurl-gnutls (gnutls_record_send); the secret in an
# Authorization header from the environment (GIT_CONFIG_*), its request answered with 'ok'
# (no repository there: git fails, after sending it).
G=$(new_secret TLS_git)
GIT_SSL_CAINFO=$HTTPS_CA GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader \
	GIT_CONFIG_VALUE_0="Authorization: Bearer $G" GIT_TERMINAL_PROMPT=0 \
	"$SPRAWLCTL" run -- git ls-remote "https://localhost:$HTTPS_PORT/repo.git" \
	>/dev/null 2>&1
wait_alerts 1 "a['artifact']['type']=='tls' and a['secret']['name']=='TLS_git'" 10

# Over 16 KiB in one SSL_write: the secret at the end of a 40 KiB body.
python3 -c 'import sys; sys.stdout.write("x" * 40000 + open(sys.argv[1]).read())' \
	"$E2E_TMP/body.big" >"$E2E_TMP/big"
SSL_CERT_FILE=$HTTPS_CA "$SPRAWLCTL" run -- python3 - "https://127.0.0.1:$HTTPS_PORT/big" \
	"$E2E_TMP/big" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read()),
                       timeout=10).read()
PY
# A gnutls client calling gnutls_record_send2 itself (gnutls_record_send jumps there; the hook
# is at send2, so a caller of either is seen).
cat >"$E2E_TMP/gclient.c" <<'C'
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char body[512], out[1024];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	FILE *f = fopen(argv[2], "r");
	size_t len = fread(body, 1, sizeof(body), f);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0)
		return 2;
	n = snprintf(out, sizeof(out), "POST /g HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n%.*s", len, (int)len, body);
	if (gnutls_record_send2(s, out, n, 0, 0) != n)
		return 3;
	gnutls_record_recv(s, out, sizeof(out));
	return 0;
}
C
# A child python forks after libssl is mapped and hooked (no exec: the same libraries, no mmap
# of its own, and uprobes are per process): stopped at its first return until it has its own.
F=$(new_secret TLS_fork)
printf 'k=%s' "$F" >"$E2E_TMP/body.fork"
SSL_CERT_FILE=$HTTPS_CA "$SPRAWLCTL" run -- python3 "$E2E_ROOT/tests/e2e/fork_post.py" "$URL" \
	"$E2E_TMP/body.fork"
# The same made by clone(CLONE_PARENT): the child's parent is not the hooked process.
FP=$(new_secret TLS_fork_cp)
printf 'k=%s' "$FP" >"$E2E_TMP/body.fork_cp"
check "a child made with CLONE_PARENT posted" env SSL_CERT_FILE="$HTTPS_CA" FORK_CLONE_PARENT=1 \
	"$SPRAWLCTL" run -- python3 "$E2E_ROOT/tests/e2e/fork_post.py" "$URL" "$E2E_TMP/body.fork_cp"
G2=$(new_secret TLS_send2)
printf 'k=%s' "$G2" >"$E2E_TMP/body.send2"
check "a gnutls client calling gnutls_record_send2 built" \
	bash -c "cc -O2 -o '$E2E_TMP/gclient' '$E2E_TMP/gclient.c' \$(pkg-config --cflags --libs gnutls)"
n0=$(grep -c "k=" "$E2E_TMP/https.bodies")
"$SPRAWLCTL" run -- "$E2E_TMP/gclient" "$HTTPS_PORT" "$E2E_TMP/body.send2"
check "gclient: the request arrived" test "$(grep -c "k=" "$E2E_TMP/https.bodies")" -eq $((n0 + 1))
barrier
tls="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
expect_alerts "a forked child's TLS write: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='TLS_fork' and a['process']['comm']=='python3' and a['artifact']['peer']=='$PEER'"
expect_alerts "a CLONE_PARENT child's TLS write: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='TLS_fork_cp' and a['process']['comm']=='python3' and a['artifact']['peer']=='$PEER'"
check "the forked children were stopped to be hooked" test "$(status_field "s['tls']['forks']")" -ge 2
expect_alerts "gnutls_record_send2 called itself: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='TLS_send2' and a['artifact']['peer']=='$PEER'"
expect_alerts "curl: one tls alert naming the peer and the server name" 1 \
	"$tls and a['secret']['name']=='TLS_curl' and a['process']['comm']=='curl' and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "python3 urllib: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='TLS_py' and a['process']['comm']=='python3' and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "node fetch: one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='TLS_node' and a['process']['comm']=='node' and a['artifact']['peer']=='$PEER'"
expect_alerts "git (gnutls_record_send in git-remote-https): one tls alert naming the peer" 1 \
	"$tls and a['secret']['name']=='TLS_git' and a['process']['exe'].endswith('/git-remote-http') and a['artifact']=={'type':'tls','peer':'$PEER','sni':'localhost'}"
expect_alerts "a 40 KiB write: its secret past the first chunk is found (no sni: by address)" 1 \
	"$tls and a['secret']['name']=='TLS_big' and a['artifact']=={'type':'tls','peer':'$PEER'}"
expect_alerts "the ciphertext on the socket holds no secret" 0 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='socket'"
expect_alerts "eight tls alerts in all" 8 "$tls"
expect_alerts "no TLS told as unseen (every client here is hooked)" 0 \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls'"
# QUIC (HTTP/3): TLS inside QUIC packets, through no TLS function a hook takes. python3 sends a
# QUIC version 1 Initial's first bytes over UDP (no QUIC client on this host): one channel.
"$SPRAWLCTL" run -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes([0xc3, 0, 0, 0, 1, 8]) + bytes(1194), ("127.0.0.1", int(sys.argv[1])))' "$HTTPS_PORT"
barrier "the datagram processed"
expect_alerts "a QUIC Initial: one tls channel naming the peer" 1 \
	"a['kind']=='unmonitored_channel' and a['channel']=='tls' and a['artifact']=={'type':'tls','peer':'$PEER'} and 'QUIC' in a['message'] and a['process']['comm']=='python3'"

# Outside any session: the same libssl, no uprobe fires (none is attached to it).
T=$(new_secret TLS_outside)
printf 'k=%s' "$T" >"$E2E_TMP/body.out"
curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.out" "$URL" >/dev/null
barrier
expect_alerts "curl outside a session: no alert" 8 "$tls"
e2e_stop
e2e_finish
