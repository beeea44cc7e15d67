// SPDX-License-Identifier: Apache-2.0
/* A git push over smart HTTP, parsed from a connection's bytes (httppush.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httppush.h"

#define LINE_MAX_ 8192
#define PKT_MAX	  1024 /* of a ref update kept (the rest of a longer one is skipped) */

enum state {
	S_REQLINE,
	S_HEADER,
	S_BODY,	       /* Content-Length: left bytes */
	S_CHUNK_SIZE,  /* a chunk-size line */
	S_CHUNK_DATA,  /* left bytes of a chunk */
	S_CHUNK_CRLF,  /* the CRLF after a chunk's data */
	S_CHUNK_TRAIL, /* trailer lines up to an empty one */
	S_STOPPED,
};

enum pkt_state { P_LEN, P_DATA, P_PACK };

struct sw_httppush {
	enum state st;
	char line[LINE_MAX_];
	size_t nline;
	/* The current request. */
	int post, receive_pack, content_type, chunked;
	unsigned long long left;
	char host[256], path[1024];
	/* Its body, when a push: pkt-lines, then the pack. */
	enum pkt_state ps;
	char hex[4];
	size_t nhex, pkt_left, npkt;
	char pkt[PKT_MAX];
	char ref[256];
};

struct sw_httppush *sw_httppush__new(void)
{
	return calloc(1, sizeof(struct sw_httppush));
}

void sw_httppush__free(struct sw_httppush *h)
{
	free(h);
}

int sw_httppush__stopped(const struct sw_httppush *h)
{
	return h->st == S_STOPPED;
}

static const char *const methods[] = {"GET ",	"POST ",    "PUT ",	"HEAD ", "DELETE ",
				      "PATCH ", "OPTIONS ", "CONNECT ", NULL};

/* Whether b (n bytes) can begin a request line: 1 yes, 0 no, -1 too short to tell. */
static int method_start(const char *b, size_t n)
{
	size_t i, l;
	int shorter = 0;

	for (i = 0; methods[i]; i++) {
		l = strlen(methods[i]);
		if (!memcmp(b, methods[i], n < l ? n : l)) {
			if (n >= l)
				return 1;
			shorter = 1;
		}
	}
	return shorter ? -1 : 0;
}

int sw_httppush__wants(struct sw_httppush *h, const void *b, size_t len)
{
	if (h->st == S_STOPPED)
		return 0;
	if (h->st == S_REQLINE && !h->nline && len && method_start(b, len) == 0) {
		h->st = S_STOPPED;
		return 0;
	}
	if (h->receive_pack)
		return 1;
	if (h->st == S_BODY)
		return h->left < len;
	return 1;
}

static void new_request(struct sw_httppush *h)
{
	h->st = S_REQLINE;
	h->post = h->receive_pack = h->content_type = h->chunked = 0;
	h->left = 0;
	h->host[0] = h->path[0] = h->ref[0] = 0;
	h->ps = P_LEN;
	h->nhex = h->pkt_left = h->npkt = 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void request_line(struct sw_httppush *h)
{
	const char *sp1 = memchr(h->line, ' ', h->nline), *sp2, *q;
	size_t n;

	if (!sp1 || method_start(h->line, h->nline) != 1) {
		h->st = S_STOPPED;
		return;
	}
	sp2 = memchr(sp1 + 1, ' ', h->nline - (sp1 + 1 - h->line));
	if (!sp2) {
		h->st = S_STOPPED;
		return;
	}
	h->post = !strncmp(h->line, "POST ", 5);
	n = sp2 - (sp1 + 1);
	q = memchr(sp1 + 1, '?', n);
	if (q)
		n = q - (sp1 + 1);
	if (n >= 17 && !memcmp(sp1 + 1 + n - 17, "/git-receive-pack", 17) &&
	    n - 17 < sizeof(h->path)) {
		h->receive_pack = h->post;
		snprintf(h->path, sizeof(h->path), "%.*s", (int)(n - 17), sp1 + 1);
	}
	h->st = S_HEADER;
}

/* A header line (without its CRLF); an empty one ends the headers. */
static void header_line(struct sw_httppush *h)
{
	const char *v;
	size_t nl, vl;

	if (!h->nline) {
		h->receive_pack = h->receive_pack && h->content_type;
		if (h->chunked) {
			/* Another request's chunked body is not followed. */
			h->st = h->receive_pack ? S_CHUNK_SIZE : S_STOPPED;
		} else if (h->left) {
			h->st = S_BODY;
		} else {
			new_request(h);
		}
		return;
	}
	v = memchr(h->line, ':', h->nline);
	if (!v)
		return;
	nl = v - h->line;
	for (v++; v < h->line + h->nline && (*v == ' ' || *v == '\t'); v++)
		;
	vl = h->line + h->nline - v;
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (nl == 4 && !strncasecmp(h->line, "host", 4) && vl < sizeof(h->host)) {
		snprintf(h->host, sizeof(h->host), "%.*s", (int)vl, v);
	} else if (nl == 14 && !strncasecmp(h->line, "content-length", 14)) {
		char num[24];

		snprintf(num, sizeof(num), "%.*s", (int)(vl < 23 ? vl : 23), v);
		h->left = strtoull(num, NULL, 10);
	} else if (nl == 17 && !strncasecmp(h->line, "transfer-encoding", 17)) {
		h->chunked = vl >= 7 && !strncasecmp(v + vl - 7, "chunked", 7);
	} else if (nl == 12 && !strncasecmp(h->line, "content-type", 12)) {
		h->content_type =
			vl >= 38 && !strncasecmp(v, "application/x-git-receive-pack-request", 38);
	}
}

/* The first ref update: "<old> <new> <ref>\0caps". */
static void ref_update(struct sw_httppush *h)
{
	const char *a, *b, *end;

	if (h->ref[0])
		return;
	end = memchr(h->pkt, 0, h->npkt);
	if (!end)
		end = h->pkt + h->npkt;
	while (end > h->pkt && end[-1] == '\n')
		end--;
	a = memchr(h->pkt, ' ', end - h->pkt);
	b = a ? memchr(a + 1, ' ', end - (a + 1)) : NULL;
	if (b && end - (b + 1) < (long)sizeof(h->ref))
		snprintf(h->ref, sizeof(h->ref), "%.*s", (int)(end - (b + 1)), b + 1);
}

/* n bytes of a push's body. */
static void body(struct sw_httppush *h, const uint8_t *b, size_t n,
		 const struct sw_httppush_ops *ops, void *ctx)
{
	size_t k;

	while (n) {
		switch (h->ps) {
		case P_LEN:
			h->hex[h->nhex++] = (char)*b++;
			n--;
			if (h->nhex < 4)
				break;
			h->nhex = 0;
			h->pkt_left = 0;
			for (k = 0; k < 4; k++) {
				int v = hexval(h->hex[k]);

				if (v < 0) {
					h->receive_pack = 0; /* not pkt-lines: not followed */
					return;
				}
				h->pkt_left = h->pkt_left << 4 | (size_t)v;
			}
			if (!h->pkt_left) {
				h->ps = P_PACK;
				if (ops->push)
					ops->push(ctx, h->host, h->path, h->ref);
			} else if (h->pkt_left < 4) {
				h->receive_pack = 0;
				return;
			} else {
				h->pkt_left -= 4;
				h->npkt = 0;
				h->ps = h->pkt_left ? P_DATA : P_LEN;
			}
			break;
		case P_DATA:
			k = n < h->pkt_left ? n : h->pkt_left;
			if (h->npkt < PKT_MAX) {
				size_t c = k < PKT_MAX - h->npkt ? k : PKT_MAX - h->npkt;

				memcpy(h->pkt + h->npkt, b, c);
				h->npkt += c;
			}
			b += k;
			n -= k;
			h->pkt_left -= k;
			if (!h->pkt_left) {
				ref_update(h);
				h->ps = P_LEN;
			}
			break;
		case P_PACK:
			if (ops->pack)
				ops->pack(ctx, b, n);
			return;
		}
	}
}

static void body_end(struct sw_httppush *h, const struct sw_httppush_ops *ops, void *ctx)
{
	if (h->receive_pack && h->ps == P_PACK && ops->end)
		ops->end(ctx);
	new_request(h);
}

/* A line ended (its CRLF taken off). */
static void line(struct sw_httppush *h, const struct sw_httppush_ops *ops, void *ctx)
{
	unsigned long long size = 0;
	size_t i;
	int v;

	switch (h->st) {
	case S_REQLINE:
		request_line(h);
		break;
	case S_HEADER:
		header_line(h);
		break;
	case S_CHUNK_SIZE:
		for (i = 0; i < h->nline && (v = hexval(h->line[i])) >= 0 && i < 16; i++)
			size = size << 4 | (unsigned)v;
		if (!i) {
			h->st = S_STOPPED;
			break;
		}
		h->left = size;
		h->st = size ? S_CHUNK_DATA : S_CHUNK_TRAIL;
		break;
	case S_CHUNK_TRAIL:
		if (!h->nline)
			body_end(h, ops, ctx);
		break;
	default:
		break;
	}
	h->nline = 0;
}

int sw_httppush__feed(struct sw_httppush *h, const void *data, size_t len,
		      const struct sw_httppush_ops *ops, void *ctx)
{
	const uint8_t *b = data, *end = b + len;
	size_t k;

	while (b < end && h->st != S_STOPPED) {
		switch (h->st) {
		case S_BODY:
		case S_CHUNK_DATA:
			k = (size_t)(end - b) < h->left ? (size_t)(end - b) : (size_t)h->left;
			if (h->receive_pack)
				body(h, b, k, ops, ctx);
			b += k;
			h->left -= k;
			if (!h->left) {
				if (h->st == S_BODY)
					body_end(h, ops, ctx);
				else
					h->st = S_CHUNK_CRLF;
			}
			break;
		case S_CHUNK_CRLF:
			/* "\r\n": the next chunk-size line begins after it. */
			if (*b == '\n')
				h->st = S_CHUNK_SIZE;
			else if (*b != '\r')
				h->st = S_STOPPED;
			b++;
			break;
		default:
			if (*b == '\n') {
				if (h->nline && h->line[h->nline - 1] == '\r')
					h->nline--;
				b++;
				line(h, ops, ctx);
				break;
			}
			if (h->nline == LINE_MAX_) {
				h->st = S_STOPPED;
				break;
			}
			h->line[h->nline++] = (char)*b++;
			break;
		}
	}
	return h->st == S_STOPPED ? -1 : 0;
}
