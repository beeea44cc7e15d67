/* SPDX-License-Identifier: Apache-2.0 */
/* A git push over smart HTTP, seen in the bytes a client writes to one connection (TLS
 * plaintext or a plain TCP socket): HTTP/1.1 requests one after another; the one that is
 * "POST <path>/git-receive-pack" (Content-Type application/x-git-receive-pack-request) has a
 * body of pkt-lines (ref updates "<old> <new> <ref>\0caps"), a flush "0000", then the raw
 * pack. The body comes with Content-Length or chunked (de-chunked here). Pure: a function of
 * the bytes fed, in order, however they are split. A connection that is not HTTP, or a request
 * this parser cannot follow (a chunked body of another request, a line over 8 KiB), stops it. */
#ifndef SW_HTTPPUSH_H
#define SW_HTTPPUSH_H

#include <stddef.h>

struct sw_httppush;

struct sw_httppush_ops {
	/* A receive-pack request's ref updates ended (the flush): host (its Host header), path
	 * (the request path without "/git-receive-pack" and any query), ref (the first ref
	 * update's, "" when none). */
	void (*push)(void *ctx, const char *host, const char *path, const char *ref);
	/* The pack's next bytes. */
	void (*pack)(void *ctx, const void *p, size_t n);
	/* The receive-pack request's body ended. */
	void (*end)(void *ctx);
};

/* NULL with errno set. */
struct sw_httppush *sw_httppush__new(void);
void sw_httppush__free(struct sw_httppush *h);
/* Whether the next len bytes (b) would be looked at (a trace must keep them whole for a replay
 * to parse the same): 0 when they all fall in the body of a request that is no push. At the
 * start of a request, bytes that cannot begin one stop the parser (then 0). */
int sw_httppush__wants(struct sw_httppush *h, const void *b, size_t len);
/* The connection's next len bytes. Returns 0, or -1 once stopped (later bytes are ignored). */
int sw_httppush__feed(struct sw_httppush *h, const void *b, size_t len,
		      const struct sw_httppush_ops *ops, void *ctx);
/* Whether it stopped. */
int sw_httppush__stopped(const struct sw_httppush *h);

#endif
