// SPDX-License-Identifier: Apache-2.0
/* Encoders: RFC 4648 vectors, cross-checks against libsodium on random input, the stable
 * base64 part at each alignment, percent and JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "testutil.h"

static void test_base64_vectors(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"",	      "Zg==",	  "Zm8=",    "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char buf[16];
	size_t i, n;

	for (i = 0; i < 7; i++) {
		n = sw_encode__base64((const uint8_t *)in[i], strlen(in[i]), 0, 1, buf);
		assert_int_equal(n, strlen(out[i]));
		assert_memory_equal(buf, out[i], n);
	}
}

static void test_against_libsodium(void **state)
{
	struct rng r = {3};
	uint8_t in[300];
	char a[2 * 300 + 1], b[2 * 300 + 1]; /* hex doubles: base64 needs less */
	size_t n, l, i;
	int url, pad;

	for (i = 0; i < 2000; i++) {
		n = rng_range(&r, 0, sizeof(in));
		rng_fill(&r, in, n);
		for (url = 0; url <= 1; url++) {
			for (pad = 0; pad <= 1; pad++) {
				int v = url ? (pad ? sodium_base64_VARIANT_URLSAFE
						   : sodium_base64_VARIANT_URLSAFE_NO_PADDING)
					    : (pad ? sodium_base64_VARIANT_ORIGINAL
						   : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);

				l = sw_encode__base64(in, n, url, pad, a);
				sodium_bin2base64(b, sizeof(b), in, n, v);
				assert_int_equal(l, strlen(b));
				assert_memory_equal(a, b, l);
			}
		}
		l = sw_encode__hex(in, n, 0, a);
		sodium_bin2hex(b, sizeof(b), in, n);
		assert_int_equal(l, 2 * n);
		assert_memory_equal(a, b, l);
	}
}

/* The stable part is exactly what every surrounding stream has in common. */
static void test_base64_stable(void **state)
{
	struct rng r = {4};
	uint8_t v[64], blob[80];
	char st[128], enc[128];
	size_t n, l, pl, el, at, t;
	unsigned int a;

	for (t = 0; t < 3000; t++) {
		n = rng_range(&r, 1, sizeof(v));
		rng_fill(&r, v, n);
		for (a = 0; a < 3; a++) {
			l = sw_encode__base64_stable(v, n, a, (int)(t & 1), st);
			assert_true(l <= SW_ENC_BASE64_MAX(n));
			if (n >= 3)
				assert_true(l >= 4 * n / 3 - 2);
			pl = a + 3 * rng_range(&r, 0, 2);
			rng_fill(&r, blob, pl);
			memcpy(blob + pl, v, n);
			rng_fill(&r, blob + pl + n, 4);
			el = sw_encode__base64(blob, pl + n + rng_range(&r, 0, 4), (int)(t & 1), 1,
					       enc);
			at = pl / 3 * 4 + (a == 0 ? 0 : a == 1 ? 2 : 3);
			assert_true(at + l <= el);
			assert_memory_equal(enc + at, st, l);
		}
	}
	assert_int_equal(sw_encode__base64_stable(v, 8, 3, 0, st), 0);
}

static void test_percent_json(void **state)
{
	const uint8_t in[] = {'a', '-', '~', ' ', '/', '"', '\\', '\n', 0x01, 0x7f, 0xc3, 0xa9};
	const char pct[] = "a-~%20%2F%22%5C%0A%01%7F%C3%A9";
	const char js[] = "a-~ /\\\"\\\\\\n\\u0001\x7f\xc3\xa9";
	char out[128];
	size_t n;

	n = sw_encode__percent(in, sizeof(in), out);
	assert_int_equal(n, strlen(pct));
	assert_memory_equal(out, pct, n);
	n = sw_encode__json(in, sizeof(in), out);
	assert_int_equal(n, strlen(js));
	assert_memory_equal(out, js, n);
	n = sw_encode__hex(in, 2, 1, out);
	assert_memory_equal(out, "612D", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_against_libsodium),
		cmocka_unit_test(test_base64_stable),
		cmocka_unit_test(test_percent_json),
	};

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
