#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# socket channel: TCP (python POST), UDP over IPv4 and IPv6, a unix stream socket; the peer
# is named in the kernel.
. "$(dirname "$0")/lib.sh"

e2e_start
start_http
T=$(new_secret SOCK_KEY)
printf '%s' "$T" >"$E2E_TMP/token"
UNIX_SOCK=$E2E_TMP/svc.sock
python3 - "$UNIX_SOCK" <<'PY' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
s.settimeout(30)
c, _ = s.accept(); c.recv(4096); c.close()
PY
USRV=$!
E2E_KILL="$E2E_KILL $USRV"
for _ in $(seq 50); do [ -S "$UNIX_SOCK" ] && break; sleep 0.1; done
"$SPRAWLCTL" run -- python3 - "$HTTP_PORT" "$UNIX_SOCK" "$E2E_TMP/token" <<'PY'
import http.client, os, socket, sys
port, upath = int(sys.argv[1]), sys.argv[2]
t = open(sys.argv[3], "rb").read()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("POST", "/v1/upload", body=b'{"key":"' + t + b'"}', headers={"Content-Type": "application/json"})
c.getresponse().read()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"k=" + t, ("127.0.0.1", 9))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.sendto(b"k=" + t, ("::1", 9))
x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); x.connect(upath); x.sendall(b"k=" + t); x.close()
PY
wait_alerts 4 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "tcp: the POST to the local server" 1 \
	"a['artifact']=={'type':'socket','proto':'tcp','peer':'127.0.0.1:$HTTP_PORT'} and a['process']['comm']=='python3' and a['secret']['name']=='SOCK_KEY'"
expect_alerts "udp over IPv4" 1 "a['artifact']=={'type':'socket','proto':'udp','peer':'127.0.0.1:9'}"
expect_alerts "udp over IPv6" 1 "a['artifact']=={'type':'socket','proto':'udp','peer':'[::1]:9'}"
expect_alerts "unix stream socket names the peer's path" 1 \
	"a['artifact']=={'type':'socket','proto':'unix','peer':'$UNIX_SOCK'}"
expect_alerts "four alerts in all" 4 "a['kind']!='session_summary'"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
