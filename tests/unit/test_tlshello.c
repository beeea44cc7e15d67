// SPDX-License-Identifier: Apache-2.0
/* The server name of a ClientHello: found where it is, nothing taken from what is not one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tlshello.h"

/* A ClientHello as a TLS 1.3 client sends it: one record; exts is the extensions block's
 * content (each extension with its type and length). */
static size_t hello(uint8_t *b, const uint8_t *exts, size_t elen, int with_exts)
{
	size_t n = 0, body, hs;

	b[n++] = 22;
	b[n++] = 3;
	b[n++] = 1;
	n += 2; /* record length */
	b[n++] = 1;
	n += 3; /* handshake length */
	hs = n;
	b[n++] = 3;
	b[n++] = 3;
	memset(b + n, 0xab, 32); /* random */
	n += 32;
	b[n++] = 32; /* session id */
	memset(b + n, 0xcd, 32);
	n += 32;
	b[n++] = 0;
	b[n++] = 4; /* two cipher suites */
	b[n++] = 0x13;
	b[n++] = 0x01;
	b[n++] = 0x13;
	b[n++] = 0x02;
	b[n++] = 1; /* compression: null */
	b[n++] = 0;
	if (with_exts) {
		b[n++] = elen >> 8;
		b[n++] = elen & 0xff;
		memcpy(b + n, exts, elen);
		n += elen;
	}
	body = n - hs;
	b[hs - 3] = body >> 16;
	b[hs - 2] = body >> 8;
	b[hs - 1] = body;
	b[3] = (n - 5) >> 8;
	b[4] = (n - 5) & 0xff;
	return n;
}

/* A server_name extension naming name, after an unrelated extension (supported_versions). */
static size_t exts_with(uint8_t *e, const char *name, uint8_t name_type)
{
	size_t n = 0, len = strlen(name);

	e[n++] = 0;
	e[n++] = 43; /* supported_versions */
	e[n++] = 0;
	e[n++] = 3;
	e[n++] = 2;
	e[n++] = 3;
	e[n++] = 4;
	e[n++] = 0;
	e[n++] = 0; /* server_name */
	e[n++] = (len + 5) >> 8;
	e[n++] = (len + 5) & 0xff;
	e[n++] = (len + 3) >> 8;
	e[n++] = (len + 3) & 0xff;
	e[n++] = name_type;
	e[n++] = len >> 8;
	e[n++] = len & 0xff;
	memcpy(e + n, name, len);
	return n + len;
}

static void test_sni_found(void **state)
{
	uint8_t b[1024], e[512] = {0};
	char out[256];
	size_t n = hello(b, e, exts_with(e, "api.example.com", 0), 1);

	assert_int_equal(sw_tlshello__sni(b, n, out, sizeof(out)), 1);
	assert_string_equal(out, "api.example.com");
	(void)state;
}

static void test_no_name(void **state)
{
	uint8_t b[1024], e[512] = {0};
	char out[256] = "x";
	size_t n;

	/* no extensions at all */
	n = hello(b, e, 0, 0);
	assert_int_equal(sw_tlshello__sni(b, n, out, sizeof(out)), 1);
	assert_string_equal(out, "");
	/* a name of another type than host_name */
	n = hello(b, e, exts_with(e, "api.example.com", 7), 1);
	assert_int_equal(sw_tlshello__sni(b, n, out, sizeof(out)), 1);
	assert_string_equal(out, "");
	/* bytes no host name has */
	n = hello(b, e, exts_with(e, "a b/c", 0), 1);
	assert_int_equal(sw_tlshello__sni(b, n, out, sizeof(out)), 1);
	assert_string_equal(out, "");
	/* longer than the caller's buffer */
	n = hello(b, e, exts_with(e, "api.example.com", 0), 1);
	assert_int_equal(sw_tlshello__sni(b, n, out, 8), 1);
	assert_string_equal(out, "");
	(void)state;
}

static void test_not_a_hello(void **state)
{
	uint8_t b[1024], e[512] = {0};
	char out[256];
	size_t n = hello(b, e, exts_with(e, "api.example.com", 0), 1), i;

	/* application data, a ServerHello, plain HTTP */
	b[0] = 23;
	assert_int_equal(sw_tlshello__sni(b, n, out, sizeof(out)), 0);
	b[0] = 22;
	b[5] = 2;
	assert_int_equal(sw_tlshello__sni(b, n, out, sizeof(out)), 0);
	b[5] = 1;
	assert_int_equal(
		sw_tlshello__sni((const uint8_t *)"POST / HTTP/1.1\r\n", 17, out, sizeof(out)), 0);
	/* cut anywhere before the name: never read past the end, never a name */
	for (i = 0; i < n - 1; i++) {
		int r = sw_tlshello__sni(b, i, out, sizeof(out));

		assert_true(r == 0 || r == 1);
		assert_true(strcmp(out, "api.example.com") != 0);
	}
	assert_int_equal(sw_tlshello__sni(b, n, out, 0), 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_found),
		cmocka_unit_test(test_no_name),
		cmocka_unit_test(test_not_a_hello),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
