#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS writes seen before encryption: curl --data (OpenSSL's SSL_write in libssl.so.3), python3
# urllib (SSL_write_ex), node fetch (node's own SSL_write) and a gnutls client
# (gnutls_record_send) POST a secret over https to a loopback server; each is one `tls` alert
# naming the peer (and the server name its ClientHello carried). A write over 16 KiB is
# captured in chunks like write(). A process outside any session using the same libssl traps
# in no uprobe (attached per session process only).
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
barrier
tls="a['kind']=='secret_spread' and a['artifact']['type']=='tls'"
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
expect_alerts "five tls alerts in all" 5 "$tls"

# Outside any session: the same libssl, no uprobe fires (none is attached to it).
T=$(new_secret TLS_outside)
printf 'k=%s' "$T" >"$E2E_TMP/body.out"
curl -sS --cacert "$HTTPS_CA" --data-binary @"$E2E_TMP/body.out" "$URL" >/dev/null
barrier
expect_alerts "curl outside a session: no alert" 5 "$tls"
e2e_stop
e2e_finish
