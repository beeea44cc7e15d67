/* SPDX-License-Identifier: Apache-2.0 */
/* Where an ELF binary's TLS writes can be hooked: the file offsets of SSL_write, SSL_write_ex
 * and gnutls_record_send for uprobes, and which binaries carry a TLS stack no uprobe here can
 * see (rustls, Go crypto/tls, a BoringSSL build we cannot place). Reads the file only (libelf
 * over a read-only mapping); loads and runs nothing.
 *
 * Three ways to find a function:
 *  - SW_TLS_BY_SYMBOL: .dynsym or .symtab names it (libssl.so.3, node, libgnutls.so.30); its
 *    value becomes a file offset through the executable PT_LOAD that holds it, as libbpf does
 *    for uprobes.
 *  - SW_TLS_BY_BUILD_ID: a stripped binary whose .note.gnu.build-id is in our table (the Bun
 *    builds of Claude Code we pin); the offset was derived once by analysis (tools/tlsfind/).
 *  - SW_TLS_BY_PATTERN: a stripped static BoringSSL we do not know by build id. BoringSSL's
 *    SSL_write is the one function that raises, from ssl/ssl_lib.cc, the SSL errors
 *    SHOULD_NOT_HAVE_BEEN_CALLED (a QUIC connection), UNINITIALIZED, HANDSHAKE_FAILURE and
 *    BAD_LENGTH, in that source order; we find the code that passes that file name to
 *    ERR_put_error, read each call's reason and line, and map the calls to their function
 *    through .eh_frame_hdr. Error codes are part of BoringSSL's ABI, so this survives
 *    rebuilds and other Bun versions as long as SSL_write's body keeps those four errors. */
#ifndef SW_TLSFIND_H
#define SW_TLSFIND_H

#include <stddef.h>

enum sw_tls_fn { SW_TLS_SSL_WRITE, SW_TLS_SSL_WRITE_EX, SW_TLS_GNUTLS_RECORD_SEND };
enum sw_tls_how { SW_TLS_BY_SYMBOL, SW_TLS_BY_PATTERN, SW_TLS_BY_BUILD_ID };

/* One hookable entry point. SSL_write(ssl, buf, num) and SSL_write_ex(ssl, buf, num, written)
 * and gnutls_record_send(session, data, size) all carry the plaintext in the 2nd argument and
 * its length in the 3rd. */
struct sw_tls_hook {
	enum sw_tls_fn fn;
	enum sw_tls_how how;
	unsigned long long offset; /* file offset for the uprobe */
	char stack[16];		   /* "openssl", "boringssl", "gnutls" */
};

/* Up to max hooks of the ELF file at path into out, at most one per function: symbols first,
 * then (no SSL_write symbol) the build-id table, then the BoringSSL pattern. Returns how many
 * it stored (0: none found), or -errno: -ENOEXEC not an ELF file, -EINVAL bad arguments, or
 * what open/fstat failed with. */
int sw_tlsfind__scan(const char *path, struct sw_tls_hook *out, size_t max);

/* Whether the binary at path carries a TLS stack whose writes no hook from sw_tlsfind__scan
 * sees: 1 and what (NUL-terminated, cut to len) is "go crypto/tls", "rustls" or
 * "boringssl (unknown build)" (BoringSSL is linked in but its SSL_write was not found);
 * 0 none; -errno as sw_tlsfind__scan. */
int sw_tlsfind__unhookable(const char *path, char *what, size_t len);

/* sw_tlsfind__scan restricted to the BoringSSL byte pattern (no symbols, no build-id table):
 * how a test or tools/tlsfind/ checks that the pattern agrees with the table. */
int sw_tlsfind__scan_pattern(const char *path, struct sw_tls_hook *out, size_t max);

/* The .note.gnu.build-id of path as lowercase hex into hex (len >= 2 * bytes + 1): 0, or
 * -ENOENT no such note, -ENOSPC too short, -errno as above. */
int sw_tlsfind__build_id(const char *path, char *hex, size_t len);

#endif
