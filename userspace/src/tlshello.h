/* SPDX-License-Identifier: Apache-2.0 */
/* The server name (SNI) of a TLS ClientHello: the first bytes a TLS client writes to its
 * socket are plaintext and name the server it means. Pure: bytes in, name out. */
#ifndef SW_TLSHELLO_H
#define SW_TLSHELLO_H

#include <stddef.h>
#include <stdint.h>

/* 1 when buf starts with a TLS handshake record holding a ClientHello: the host_name of its
 * server_name extension into out (NUL-terminated, "" when it has none; a name longer than
 * len - 1 or with bytes outside [-.0-9A-Za-z_] is not taken). 0 when buf is no ClientHello
 * (or is cut before its extensions). */
int sw_tlshello__sni(const uint8_t *buf, size_t n, char *out, size_t len);

#endif
