// SPDX-License-Identifier: Apache-2.0
/* httppush: a git push over smart HTTP followed in a connection's bytes, however they are
 * split: a GET before it, the receive-pack POST with Content-Length or chunked, its first ref
 * update, the pack bytes exactly (de-chunked), and what stops the parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httppush.h"

struct seen {
	int pushes, ends;
	char host[256], path[1024], ref[256];
	uint8_t pack[8192];
	size_t npack;
};

static void on_push(void *ctx, const char *host, const char *path, const char *ref)
{
	struct seen *s = ctx;

	s->pushes++;
	snprintf(s->host, sizeof(s->host), "%s", host);
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->ref, sizeof(s->ref), "%s", ref);
}

static void on_pack(void *ctx, const void *p, size_t n)
{
	struct seen *s = ctx;

	assert_true(s->npack + n <= sizeof(s->pack));
	memcpy(s->pack + s->npack, p, n);
	s->npack += n;
}

static void on_end(void *ctx)
{
	((struct seen *)ctx)->ends++;
}

static const struct sw_httppush_ops ops = {on_push, on_pack, on_end};

/* A pack-like body made at run time: "PACK" and bytes of every value, CR and LF included. */
static size_t make_pack(uint8_t *out, size_t n)
{
	size_t i;

	memcpy(out, "PACK\0\0\0\2", 8);
	for (i = 8; i < n; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 3));
	return n;
}

/* A connection's bytes: a GET, then the push (chunked or with Content-Length). */
static size_t make_stream(uint8_t *out, const uint8_t *pack, size_t npack, int chunked)
{
	static const char upd[] = "0000000000000000000000000000000000000000 "
				  "1111111111111111111111111111111111111111 refs/heads/main";
	char pkt[256], *o = (char *)out;
	size_t body, i, k;
	int n;

	n = snprintf(pkt, sizeof(pkt), "%04zx%s%c report-status side-band-64k",
		     sizeof(upd) - 1 + 4 + 1 + 28, upd, 0);
	body = (size_t)n + 4 + npack;
	o += sprintf(o, "GET /r/repo.git/info/refs?service=git-receive-pack HTTP/1.1\r\n"
			"Host: localhost:8443\r\nAccept: */*\r\n\r\n");
	o += sprintf(o, "POST /r/repo.git/git-receive-pack HTTP/1.1\r\nHost: localhost:8443\r\n"
			"Content-Type: application/x-git-receive-pack-request\r\n");
	if (!chunked) {
		o += sprintf(o, "Content-Length: %zu\r\n\r\n", body);
		memcpy(o, pkt, n);
		o += n;
		memcpy(o, "0000", 4);
		o += 4;
		memcpy(o, pack, npack);
		o += npack;
	} else {
		uint8_t *b = malloc(body);

		memcpy(b, pkt, n);
		memcpy(b + n, "0000", 4);
		memcpy(b + n + 4, pack, npack);
		o += sprintf(o, "Transfer-Encoding: chunked\r\n\r\n");
		/* Chunks of uneven sizes, as a client's buffer hands them out. */
		for (i = 0; i < body; i += k) {
			k = body - i < 700 + i % 313 ? body - i : 700 + i % 313;
			o += sprintf(o, "%zx\r\n", k);
			memcpy(o, b + i, k);
			o += k;
			o += sprintf(o, "\r\n");
		}
		o += sprintf(o, "0\r\n\r\n");
		free(b);
	}
	/* And a request after it on the same connection. */
	o += sprintf(o, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
	return (uint8_t *)o - out;
}

static void check_split(const uint8_t *s, size_t n, const uint8_t *pack, size_t npack, size_t step)
{
	struct sw_httppush *h = sw_httppush__new();
	struct seen *got = calloc(1, sizeof(*got));
	size_t i, k;

	assert_non_null(h);
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		assert_true(sw_httppush__wants(h, s + i, k) || i > 0);
		assert_int_equal(sw_httppush__feed(h, s + i, k, &ops, got), 0);
	}
	assert_int_equal(got->pushes, 1);
	assert_int_equal(got->ends, 1);
	assert_string_equal(got->host, "localhost:8443");
	assert_string_equal(got->path, "/r/repo.git");
	assert_string_equal(got->ref, "refs/heads/main");
	assert_int_equal(got->npack, npack);
	assert_memory_equal(got->pack, pack, npack);
	assert_false(sw_httppush__stopped(h));
	sw_httppush__free(h);
	free(got);
}

static void test_push_split_anywhere(void **state)
{
	static const size_t steps[] = {1, 2, 3, 7, 64, 1000, 1 << 20};
	uint8_t pack[5000], *s = malloc(1 << 14);
	size_t np = make_pack(pack, sizeof(pack)), n, i;
	int chunked;

	(void)state;
	for (chunked = 0; chunked < 2; chunked++) {
		n = make_stream(s, pack, np, chunked);
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			check_split(s, n, pack, np, steps[i]);
	}
	free(s);
}

static void test_not_a_push(void **state)
{
	static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	static const char other[] = "POST /v1/messages HTTP/1.1\r\nHost: api\r\n"
				    "Content-Type: application/x-git-receive-pack-request\r\n"
				    "Content-Length: 12\r\n\r\n0000PACKxxxx";
	static const char chunked[] = "POST /v1/x HTTP/1.1\r\nHost: api\r\n"
				      "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n";
	static const char no_type[] = "POST /r.git/git-receive-pack HTTP/1.1\r\nHost: h\r\n"
				      "Content-Length: 8\r\n\r\n0000PACK";
	struct seen *got = calloc(1, sizeof(*got));
	struct sw_httppush *h;

	(void)state;
	/* Not HTTP (a ClientHello): stopped before anything is kept. */
	h = sw_httppush__new();
	assert_false(sw_httppush__wants(h, tls, sizeof(tls) - 1));
	assert_true(sw_httppush__stopped(h));
	sw_httppush__free(h);
	/* Another request's body: followed by its length, not looked at (not kept), no push. */
	h = sw_httppush__new();
	assert_true(sw_httppush__wants(h, other, sizeof(other) - 1));
	assert_int_equal(sw_httppush__feed(h, other, sizeof(other) - 1, &ops, got), 0);
	assert_int_equal(got->pushes, 0);
	assert_int_equal(got->npack, 0);
	sw_httppush__free(h);
	h = sw_httppush__new();
	assert_int_equal(sw_httppush__feed(h, other, sizeof(other) - 13, &ops, got), 0);
	assert_false(sw_httppush__wants(h, "0000PACKxxxx", 12));
	assert_true(sw_httppush__wants(h, "0000PACKxxxxGET ", 16));
	sw_httppush__free(h);
	/* A receive-pack path without its content type is no push. */
	h = sw_httppush__new();
	assert_int_equal(sw_httppush__feed(h, no_type, sizeof(no_type) - 1, &ops, got), 0);
	assert_int_equal(got->pushes, 0);
	sw_httppush__free(h);
	/* Another request's chunked body is not followed: stopped. */
	h = sw_httppush__new();
	assert_int_equal(sw_httppush__feed(h, chunked, sizeof(chunked) - 1, &ops, got), -1);
	assert_true(sw_httppush__stopped(h));
	assert_false(sw_httppush__wants(h, "x", 1));
	sw_httppush__free(h);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_split_anywhere),
		cmocka_unit_test(test_not_a_push),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
