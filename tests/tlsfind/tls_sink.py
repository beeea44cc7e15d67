#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A loopback HTTPS sink for tests/tlsfind/verify_uprobe.sh: accepts TLS connections, reads
each HTTP/1.1 request (headers, then Content-Length or chunked body) and records every
plaintext byte it received, per connection, in LOG_DIR/conn-N.bin; answers each request with
an Anthropic-style 400 error and closes. Writes its port to LOG_DIR/port.

    tls_sink.py CERT KEY LOG_DIR
"""
import os
import socket
import ssl
import sys
import threading

CERT, KEY, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
BODY = b'{"type":"error","error":{"type":"invalid_request_error","message":"tlsfind sink"}}'
counter = iter(range(1, 1 << 30))
lock = threading.Lock()


def read_request(conn, got):
    """Reads one request into got (a bytearray); False at EOF before a full request."""
    start = len(got)
    while b"\r\n\r\n" not in got[start:]:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        got += chunk
    head_end = got.index(b"\r\n\r\n", start) + 4
    head = bytes(got[start:head_end]).lower()
    length = 0
    chunked = b"transfer-encoding: chunked" in head
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if chunked:
        while not got.endswith(b"0\r\n\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return False
            got += chunk
    else:
        while len(got) < head_end + length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            got += chunk
    return True


def serve(raw):
    with lock:
        n = next(counter)
    got = bytearray()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    try:
        conn.settimeout(30)
        if read_request(conn, got):
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
            # Whatever else the client sends before it closes is counted too.
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                got += chunk
    except (ssl.SSLError, OSError):
        pass
    finally:
        with open(os.path.join(LOG, "conn-%d.bin" % n), "wb") as f:
            f.write(got)
        try:
            conn.close()
        except OSError:
            pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
ctx.set_alpn_protocols(["http/1.1"])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(os.path.join(LOG, "port.tmp"), "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(os.path.join(LOG, "port.tmp"), os.path.join(LOG, "port"))
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
