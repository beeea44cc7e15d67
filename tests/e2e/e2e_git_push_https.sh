#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A push over https: the pack a session sends inside TLS (git-remote-https: libcurl-gnutls,
# gnutls_record_send) is inflated and scanned too, and the alert names the remote. A loopback
# https git server (python, a self-signed certificate made here, `git http-backend` as CGI for
# a bare repository with http.receivepack; it runs outside any session) takes two pushes from a
# session: (a) a small one (a body with Content-Length) -> one alert for the local repository
# and one for the remote, the latter a `tls` artifact naming the peer, the server name and
# git {repo: https://localhost:PORT/remote.git, blob, kind, ref}; (b) one over http.postBuffer
# (a chunked body, after git's probe) with another secret -> the same again for it; the packs
# reach the server unchanged (their trailing SHA-1 holds, the remote has the commits); (c) a
# secret that only a thin pack's delta carries (its base is the server's already, read from the
# pushing repository) -> one alert for the remote naming the new blob, no delta_unresolved.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || e2e_skip "needs git"
[ -x "$(git --exec-path)/git-http-backend" ] || e2e_skip "needs git http-backend"
e2e_start
export GIT_CONFIG_NOSYSTEM=1 HOME=$E2E_TMP GIT_TERMINAL_PROMPT=0
git config --global user.email e2e@example.invalid
git config --global user.name e2e
git config --global init.defaultBranch main
ROOT=$WORK/srv
git init -q --bare "$ROOT/remote.git"
git -C "$ROOT/remote.git" config http.receivepack true

# The server: every receive-pack body's pack (after the ref updates' flush, de-chunked) is kept
# as pushed.N.pack, to check what arrived.
CA=$E2E_TMP/git.crt
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$E2E_TMP/git.key" \
	-out "$CA" 2>/dev/null || e2e_skip "needs openssl"
python3 - "$E2E_TMP/git.port" "$CA" "$E2E_TMP/git.key" "$ROOT" "$E2E_TMP" \
	<<'PY' >"$E2E_TMP/git-server.log" 2>&1 &
import http.server, socketserver, ssl, subprocess, sys, os
port_file, cert, key, root, out = sys.argv[1:6]
pushes = [0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            b = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if not n:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""): pass
                    return b
                b += self.rfile.read(n); self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))
    def cgi(self, body):
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1",
                   REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(body)), REMOTE_ADDR="127.0.0.1", REMOTE_USER="e2e")
        if path.endswith("/git-receive-pack") and len(body) > 4:
            i = 0
            while body[i:i + 4] != b"0000": i += int(body[i:i + 4], 16)
            pushes[0] += 1
            open(os.path.join(out, "pushed.%d.pack" % pushes[0]), "wb").write(body[i + 4:])
        r = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = r.stdout.partition(b"\r\n\r\n")
        status = 200
        hdrs = []
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            if k.lower() == "status": status = int(v.split()[0])
            elif k: hdrs.append((k, v.strip()))
        self.send_response(status)
        for k, v in hdrs: self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload))); self.end_headers()
        self.wfile.write(payload)
    def do_GET(self): self.cgi(b"")
    def do_POST(self): self.cgi(self.body())
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(port_file, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
E2E_KILL="${E2E_KILL:-} $!"
for _ in $(seq 50); do [ -s "$E2E_TMP/git.port" ] && break; sleep 0.1; done
PORT=$(cat "$E2E_TMP/git.port")
URL="https://localhost:$PORT/remote.git"
export GIT_SSL_CAINFO=$CA

REPO=$WORK/proj
git init -q "$REPO"
git -C "$REPO" remote add origin "$URL"
A=$(new_secret PUSH_A ghp_ 30)
B=$(new_secret PUSH_B ghp_ 30)
# The files are made outside any session: only what git writes and sends is the session's.
printf 'service:\n  token: %s\n' "$A" >"$REPO/config.yml"

# (a) a small push: its body has a Content-Length
"$SPRAWLCTL" run -- sh -c "cd '$REPO' && git add config.yml && git commit -qm a && git push -q origin main"
check "(a) the remote has the commit" \
	test "$(git -C "$ROOT/remote.git" rev-parse main)" = "$(git -C "$REPO" rev-parse HEAD)"
BLOB_A=$(git -C "$REPO" rev-parse HEAD:config.yml)
wait_alerts 2 "a['kind']=='secret_spread' and a['secret']['name']=='PUSH_A'" 15
barrier "push (a) processed"
GITP="a['kind']=='secret_spread' and a['artifact'].get('inflated')=='zlib' and a['artifact']['git']['kind']=='blob'"
REMOTE="$GITP and a['artifact']=={'type':'tls','peer':'127.0.0.1:$PORT','sni':'localhost','inflated':'zlib','git':{'repo':'$URL','object':a['artifact']['git']['object'],'kind':'blob','ref':'refs/heads/main'}} and a['process']['exe'].endswith('/git-remote-http')"
expect_alerts "(a) one alert for the remote over https: peer, sni, URL, blob and ref" 1 \
	"$REMOTE and a['secret']['name']=='PUSH_A' and a['artifact']['git']['object']=='$BLOB_A'"
expect_alerts "(a) one alert for the local repository" 1 \
	"$GITP and a['secret']['name']=='PUSH_A' and a['artifact']['type']=='file' and a['artifact']['git']['repo']=='$REPO' and a['artifact']['git']['object']=='$BLOB_A'"
expect_alerts "(a) nothing else" 2 "a['kind']!='session_summary'"

# (b) a push over http.postBuffer (64 KiB at least): incompressible bytes beside the secret
# make its pack larger, so git sends it chunked (after a probe request)
head -c 200000 /dev/urandom | base64 >"$REPO/noise.txt"
printf 'service:\n  token: %s\n' "$B" >"$REPO/other.yml"
"$SPRAWLCTL" run -- sh -c "cd '$REPO' && git add noise.txt other.yml && git commit -qm b && git -c http.postBuffer=65536 push -q origin main"
check "(b) the remote has the commit" \
	test "$(git -C "$ROOT/remote.git" rev-parse main)" = "$(git -C "$REPO" rev-parse HEAD)"
BLOB_B=$(git -C "$REPO" rev-parse HEAD:other.yml)
wait_alerts 2 "a['kind']=='secret_spread' and a['secret']['name']=='PUSH_B'" 15
barrier "push (b) processed"
expect_alerts "(b) chunked: one alert for the remote over https" 1 \
	"$REMOTE and a['secret']['name']=='PUSH_B' and a['artifact']['git']['object']=='$BLOB_B'"
expect_alerts "(b) one alert for the local repository" 1 \
	"$GITP and a['secret']['name']=='PUSH_B' and a['artifact']['type']=='file' and a['artifact']['git']['object']=='$BLOB_B'"
expect_alerts "(b) nothing else" 4 "a['kind']!='session_summary'"

# (c) a thin pack: a file of 24 KiB is pushed, then one line of it changed to hold a secret
# and pushed again; the second pack carries the blob as a delta on the first version, which
# the server has and the pack does not (a REF_DELTA on a base outside it). The base is read
# from the pushing repository's object store: one alert for the remote, naming the new blob,
# and no delta_unresolved gap.
thin_push "$REPO" PUSH_C
check "(c) the remote has the commit" \
	test "$(git -C "$ROOT/remote.git" rev-parse main)" = "$(git -C "$REPO" rev-parse HEAD)"
BLOB_C=$(git -C "$REPO" rev-parse HEAD:big.txt)
BASE_C=$(git -C "$REPO" rev-parse HEAD~1:big.txt)
# The second push's pack is thin: the new blob is a REF_DELTA on the old one, which it lacks.
check "(c) the pack's blob is a delta on a base outside the pack" python3 - "$E2E_TMP/pushed.4.pack" "$BASE_C" <<'PY'
import sys, zlib
b = open(sys.argv[1], "rb").read()
n = int.from_bytes(b[8:12], "big")
i, ref_bases = 12, []
for _ in range(n):
    c = b[i]; t = (c >> 4) & 7; i += 1
    while c & 0x80:
        c = b[i]; i += 1
    if t == 6:
        while b[i] & 0x80: i += 1
        i += 1
    elif t == 7:
        ref_bases.append(b[i:i + 20].hex()); i += 20
    d = zlib.decompressobj(); d.decompress(b[i:]); i = len(b) - len(d.unused_data)
assert sys.argv[2] in ref_bases, ref_bases
PY
wait_alerts 2 "a['kind']=='secret_spread' and a['secret']['name']=='PUSH_C'" 15
barrier "push (c) processed"
expect_alerts "(c) thin pack: one alert for the remote over https, naming the blob the delta made" 1 \
	"$REMOTE and a['secret']['name']=='PUSH_C' and a['artifact']['git']['object']=='$BLOB_C'"
expect_alerts "(c) one alert for the local repository" 1 \
	"$GITP and a['secret']['name']=='PUSH_C' and a['artifact']['type']=='file' and a['artifact']['git']['object']=='$BLOB_C'"
expect_alerts "(c) no delta left unresolved" 0 "a['kind']=='coverage_gap'"
expect_alerts "(c) nothing else" 6 "a['kind']!='session_summary'"

# What the server got: four packs, each whole (its trailing SHA-1 over the rest holds), the
# second over 64 KiB (so it went chunked).
check "four packs reached the server" test -s "$E2E_TMP/pushed.4.pack" -a ! -e "$E2E_TMP/pushed.5.pack"
check "the packs are unchanged (their SHA-1 trailers hold)" python3 - "$E2E_TMP"/pushed.[1234].pack <<'PY'
import hashlib, sys
for f in sys.argv[1:]:
    b = open(f, "rb").read()
    assert b[:4] == b"PACK" and hashlib.sha1(b[:-20]).digest() == b[-20:], f
PY
check "the second pack is over http.postBuffer" test "$(stat -c %s "$E2E_TMP/pushed.2.pack")" -gt 65536
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
