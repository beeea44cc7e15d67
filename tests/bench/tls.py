#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""make bench, TLS rows: the time one SSL_write takes (OpenSSL's libssl.so.3 through python's
ssl.SSLObject, which calls SSL_write_ex), each call timed alone. A client and a server
SSLObject talk through memory BIOs in this one process, so nothing but the call itself (and
whatever the uprobe on it adds) is measured.

Usage: tls.py N SIZE CERT KEY  ->  JSON {"ns": [per-call ns...]} on stdout."""
import json
import ssl
import sys
import time


def main():
    n, size, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(c_in, c_out, server_hostname="localhost")
    s = sctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(20):  # the handshake, by hand
        for side in (c, s):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    data = b"x" * size
    out = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        c.write(data)
        out.append(time.perf_counter_ns() - t0)
        s_in.write(c_out.read())
        try:
            s.read(1 << 16)
        except ssl.SSLWantReadError:
            pass
    print(json.dumps({"ns": out}))


main()
