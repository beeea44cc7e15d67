// SPDX-License-Identifier: Apache-2.0
/* Fingerprints: key file creation and checks, derived constants, pattern expansion (variants,
 * dedupe, windows), ids, and the wiping of the value. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "testutil.h"

static void test_key_file(void **state)
{
	char dir[] = "/tmp/sw-key-XXXXXX", path[128];
	struct sw_key a, b, c;
	struct stat st;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	assert_int_equal(sw_key__load_or_create(path, &a), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, SW_KEY_BYTES);
	assert_int_equal(sw_key__load_or_create(path, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(a.mix[1] & 1);
	memcpy(&c, &a, sizeof(c));
	sw_key__derive(&c);
	assert_memory_equal(&a, &c, sizeof(a));
	/* group/world-readable key: refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(sw_key__load_or_create(path, &b), -EPERM);
	/* wrong size: refused */
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(path, "ab");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
	assert_int_equal(sw_key__load_or_create(path, &b), -EBADMSG);
	unlink(path);
	/* a new key is a different key */
	assert_int_equal(sw_key__load_or_create(path, &b), 0);
	assert_memory_not_equal(a.id, b.id, SW_KEY_ID_BYTES);
	unlink(path);
	rmdir(dir);
}

static void test_value_wiped(void **state)
{
	struct sw_key k;
	struct sw_secret s;
	struct rng r = {8};
	uint8_t v[100], zero[100] = {0};

	test_key(&k, 1);
	memset(&s, 0, sizeof(s));
	gen_secret(&r, GEN_BASE62, v, sizeof(v));
	assert_int_equal(sw_fingerprint__secret(&k, v, sizeof(v), &s), 0);
	assert_memory_equal(v, zero, sizeof(v));
	sw_secret__clear(&s);
	/* also on failure */
	gen_secret(&r, GEN_BASE62, v, 7);
	assert_int_equal(sw_fingerprint__secret(&k, v, 7, &s), -EINVAL);
	assert_memory_equal(v, zero, 7);
	assert_null(s.patterns);
}

static void test_patterns(void **state)
{
	struct sw_key k, k2;
	struct sw_secret s, t;
	struct rng r = {9};
	uint8_t v[64], w[64];
	uint8_t *txt = malloc(SW_ENC_JSON_MAX(64));
	uint8_t full[SW_FULL_HASH_BYTES];
	char hex[2 * SW_SECRET_ID_BYTES + 1];
	size_t i, j, l, n;
	int vi, kind, found;

	assert_non_null(txt);
	test_key(&k, 1);
	test_key(&k2, 2);
	for (kind = 0; kind < GEN__COUNT; kind++) {
		for (n = 8; n <= 64; n += 7) {
			memset(&s, 0, sizeof(s));
			memset(&t, 0, sizeof(t));
			gen_secret(&r, (enum gen_kind)kind, v, n);
			memcpy(w, v, n);
			assert_int_equal(sw_fingerprint__secret(&k, w, n, &s), 0);
			assert_int_equal(s.value_len, n);
			assert_true(s.npatterns >= 5 && s.npatterns <= 11);
			assert_int_equal(s.patterns[0].variant, SW_VAR_RAW);
			/* every form is present exactly once (as itself or as an identical one) */
			for (vi = 0; vi < N_FORMS; vi++) {
				l = form_text(v, n, vi, (char *)txt);
				sw_fingerprint__full(&k, txt, l, full);
				found = 0;
				for (i = 0; i < s.npatterns; i++) {
					if (s.patterns[i].len != l ||
					    memcmp(s.patterns[i].full_hash, full, sizeof(full)))
						continue;
					found++;
					assert_int_equal(s.patterns[i].nwin,
							 l - 7 < SW_STRIDE_MAX ? l - 7
									       : SW_STRIDE_MAX);
					for (j = 0; j < s.patterns[i].nwin; j++)
						assert_true(s.patterns[i].win[j] ==
							    sw_fingerprint__window(&k, txt + j));
				}
				assert_int_equal(found, 1);
			}
			/* the id: stable per key, different under another key, not the raw hash */
			memcpy(w, v, n);
			assert_int_equal(sw_fingerprint__secret(&k, w, n, &t), 0);
			assert_memory_equal(s.id, t.id, SW_SECRET_ID_BYTES);
			sw_secret__clear(&t);
			assert_memory_not_equal(s.id, s.patterns[0].full_hash, SW_SECRET_ID_BYTES);
			memcpy(w, v, n);
			assert_int_equal(sw_fingerprint__secret(&k2, w, n, &t), 0);
			assert_memory_not_equal(s.id, t.id, SW_SECRET_ID_BYTES);
			sw_secret__id_hex(&s, hex);
			assert_int_equal(strlen(hex), 2 * SW_SECRET_ID_BYTES);
			sw_secret__clear(&t);
			sw_secret__clear(&s);
		}
	}
	/* lengths out of range */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sw_fingerprint__secret(&k, v, 0, &s), -EINVAL);
	free(txt);
	txt = calloc(1, SW_SECRET_MAX + 1); /* the value is wiped even when refused */
	assert_non_null(txt);
	assert_int_equal(sw_fingerprint__secret(&k, txt, SW_SECRET_MAX + 1, &s), -EINVAL);
	assert_string_equal(sw_variant__name(SW_VAR_BASE64URL), "base64url");
	assert_string_equal(sw_variant__name(SW_VAR_HEX_UPPER), "hex");
	free(txt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_value_wiped),
		cmocka_unit_test(test_patterns),
	};

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
