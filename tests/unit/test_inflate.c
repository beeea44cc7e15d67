// SPDX-License-Identifier: Apache-2.0
/* inflate: zlib and gzip streams inflated as their bytes arrive (split at every size), gzip
 * members one after another, the output and ratio bounds, and garbage. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "inflate.h"
#include "testutil.h"
#include "gitutil.h"

struct sink {
	uint8_t *buf;
	size_t n, cap, calls;
};

static void collect(const void *data, size_t len, void *ctx)
{
	struct sink *s = ctx;

	assert_true(len <= SW_INFLATE_PIECE);
	if (s->n + len <= s->cap)
		memcpy(s->buf + s->n, data, len);
	s->n += len;
	s->calls++;
}

static void test_split_at_every_size(void **state)
{
	static uint8_t plain[200000], packed[210000], back[200000];
	struct rng r = {3};
	size_t n, step, off, used;
	int fmt, rc;

	(void)state;
	/* Text-like: compressible, with a random value in it. */
	for (off = 0; off < sizeof(plain); off++)
		plain[off] = "abcdefgh \n"[rng_next(&r) % 10];
	gen_secret(&r, GEN_BASE62, plain + 123456, 40);
	for (fmt = 0; fmt < 2; fmt++) {
		n = zpack(plain, sizeof(plain), fmt, packed, sizeof(packed));
		for (step = 1; step < 20000; step = step * 3 + 1) {
			struct sw_inflate *z =
				sw_inflate__new(fmt ? SW_INFLATE_GZIP : SW_INFLATE_ZLIB);
			struct sw_inflate_budget b = {0};
			struct sink s = {back, 0, sizeof(back), 0};

			assert_non_null(z);
			for (off = 0, rc = 0; off < n; off += used) {
				size_t k = n - off < step ? n - off : step;

				rc = sw_inflate__feed(z, &b, packed + off, k, &used, collect, &s);
				if (rc == SW_INFLATE_END) {
					off += used;
					break;
				}
				assert_int_equal(rc, SW_INFLATE_MORE);
				assert_int_equal(used, k);
			}
			assert_int_equal(off, n);
			if (!fmt)
				assert_int_equal(rc, SW_INFLATE_END);
			assert_int_equal(s.n, sizeof(plain));
			assert_memory_equal(back, plain, sizeof(plain));
			assert_int_equal(b.in, n);
			assert_int_equal(b.out, sizeof(plain));
			sw_inflate__free(z);
		}
	}
}

static void test_gzip_members_and_trailing(void **state)
{
	static uint8_t packed[4096];
	const char *a = "first member\n", *b2 = "second member\n";
	struct sw_inflate *z = sw_inflate__new(SW_INFLATE_GZIP);
	struct sw_inflate_budget b = {0};
	uint8_t back[64];
	struct sink s = {back, 0, sizeof(back), 0};
	size_t n, used;

	(void)state;
	n = zpack((const uint8_t *)a, strlen(a), 1, packed, sizeof(packed));
	n += zpack((const uint8_t *)b2, strlen(b2), 1, packed + n, sizeof(packed) - n);
	memcpy(packed + n, "junk", 4); /* not a member: the stream ends before it */
	assert_int_equal(sw_inflate__feed(z, &b, packed, n + 4, &used, collect, &s),
			 SW_INFLATE_END);
	assert_int_equal(used, n);
	assert_int_equal(s.n, strlen(a) + strlen(b2));
	assert_memory_equal(back, "first member\nsecond member\n", s.n);
	sw_inflate__free(z);
}

/* A zip bomb (100 MiB of zeros): stopped by the ratio after little output. */
static void test_ratio_and_bound(void **state)
{
	const size_t big = 100u << 20;
	uint8_t *zeros = calloc(1, big), *packed = malloc(big / 100);
	struct sink s = {NULL, 0, 0, 0};
	struct sw_inflate_budget b = {.max_ratio = 100};
	struct sw_inflate *z = sw_inflate__new(SW_INFLATE_GZIP);
	size_t n, used;

	(void)state;
	assert_non_null(zeros);
	assert_non_null(packed);
	n = zpack(zeros, big, 1, packed, big / 100);
	assert_true(n < big / 500);
	assert_int_equal(sw_inflate__feed(z, &b, packed, n, &used, collect, &s), SW_INFLATE_RATIO);
	assert_true(s.n <= 100 * b.in + SW_INFLATE_RATIO_FLOOR + SW_INFLATE_PIECE);
	assert_true(s.n < 4u << 20);
	/* Stopped: nothing more is taken. */
	assert_int_equal(sw_inflate__feed(z, &b, packed, n, &used, collect, &s), SW_INFLATE_RATIO);
	assert_int_equal(used, 0);
	/* The output bound, with no ratio. */
	sw_inflate__reset(z);
	memset(&b, 0, sizeof(b));
	b.max_out = 2u << 20;
	s.n = 0;
	assert_int_equal(sw_inflate__feed(z, &b, packed, n, &used, collect, &s), SW_INFLATE_BOUND);
	assert_true(s.n >= 2u << 20 && s.n <= (2u << 20) + SW_INFLATE_PIECE);
	sw_inflate__free(z);
	free(zeros);
	free(packed);
}

static void test_garbage_is_an_error(void **state)
{
	struct sw_inflate *z = sw_inflate__new(SW_INFLATE_ZLIB);
	struct sw_inflate_budget b = {0};
	struct sink s = {NULL, 0, 0, 0};
	uint8_t junk[64];
	size_t used;

	(void)state;
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(sw_inflate__feed(z, &b, junk, sizeof(junk), &used, collect, &s),
			 SW_INFLATE_ERROR);
	assert_int_equal(s.n, 0);
	sw_inflate__free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_at_every_size),
		cmocka_unit_test(test_gzip_members_and_trailing),
		cmocka_unit_test(test_ratio_and_bound),
		cmocka_unit_test(test_garbage_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
