// SPDX-License-Identifier: Apache-2.0
/* Secret set: round trip, atomic 0600 save, and every corruption or wrong key rejected with
 * the documented errno, never a crash and never an empty set. */
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

#include "learn.h"
#include "secretset.h"
#include "secretset_priv.h"
#include "testutil.h"

static char dir[] = "/tmp/sw-secretset-XXXXXX";
static char path[256];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/secrets.pb", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct sw_secretset *make_set(const struct sw_key *key, size_t n, uint64_t seed)
{
	struct sw_secretset *set = sw_secretset__new();
	struct rng r = {seed};
	struct sw_secret s;
	uint8_t v[80];
	size_t i, len;

	assert_non_null(set);
	for (i = 0; i < n; i++) {
		memset(&s, 0, sizeof(s));
		len = rng_range(&r, 8, sizeof(v));
		gen_secret(&r, (enum gen_kind)(i % GEN__COUNT), v, len);
		assert_int_equal(sw_fingerprint__secret(key, v, len, &s), 0);
		snprintf(s.name, sizeof(s.name), "SECRET_%zu", i);
		s.owner_uid = 1000 + (uint32_t)i;
		if (i % 2) {
			char o[64];

			snprintf(o, sizeof(o), "/home/u/proj%zu/.env", i);
			assert_int_equal(sw_secret__set_origin(&s, o), 0);
		}
		s.origin_dev = 2049;
		s.origin_ino = 100 + i;
		s.created = 1700000000 + (int64_t)i;
		s.learned = i % 3 == 0;
		if (s.learned)
			snprintf(s.detector, sizeof(s.detector), "rule-%zu", i);
		assert_int_equal(sw_secretset__put(set, &s), 0);
		assert_null(s.patterns);
	}
	return set;
}

static void assert_same(const struct sw_secretset *a, const struct sw_secretset *b)
{
	size_t i, k;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		const struct sw_secret *x = &a->secrets[i], *y = &b->secrets[i];

		assert_memory_equal(x->id, y->id, SW_SECRET_ID_BYTES);
		assert_string_equal(x->name, y->name);
		assert_string_equal(sw_secret__origin(x), sw_secret__origin(y));
		assert_string_equal(x->detector, y->detector);
		assert_int_equal(x->owner_uid, y->owner_uid);
		assert_true(x->origin_dev == y->origin_dev && x->origin_ino == y->origin_ino);
		assert_true(x->created == y->created);
		assert_int_equal(x->value_len, y->value_len);
		assert_int_equal(x->learned, y->learned);
		assert_int_equal(x->npatterns, y->npatterns);
		for (k = 0; k < x->npatterns; k++) {
			const struct sw_pattern *p = &x->patterns[k], *q = &y->patterns[k];

			assert_int_equal(p->variant, q->variant);
			assert_int_equal(p->len, q->len);
			assert_int_equal(p->nwin, q->nwin);
			assert_memory_equal(p->full_hash, q->full_hash, SW_FULL_HASH_BYTES);
			assert_memory_equal(p->win, q->win, p->nwin * sizeof(p->win[0]));
		}
	}
}

static void test_round_trip(void **state)
{
	struct sw_key key;
	struct sw_secretset *set, *back = NULL;
	struct stat st;

	test_key(&key, 1);
	set = make_set(&key, 40, 11);
	assert_int_equal(sw_secretset__save(set, path, &key), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sw_secretset__load(path, &key, &back), 0);
	assert_non_null(back);
	assert_same(set, back);
	assert_non_null(sw_secretset__find_id(back, set->secrets[7].id));
	sw_secretset__free(back);
	sw_secretset__free(set);
}

static void test_missing_is_empty(void **state)
{
	struct sw_key key;
	struct sw_secretset *set = NULL;
	char p[300];

	test_key(&key, 1);
	snprintf(p, sizeof(p), "%s/nope.pb", dir);
	assert_int_equal(sw_secretset__load(p, &key, &set), 0);
	assert_non_null(set);
	assert_int_equal(set->n, 0);
	sw_secretset__free(set);
	/* an empty set saves and loads too */
	set = sw_secretset__new();
	assert_int_equal(sw_secretset__save(set, path, &key), 0);
	sw_secretset__free(set);
	set = NULL;
	assert_int_equal(sw_secretset__load(path, &key, &set), 0);
	assert_int_equal(set->n, 0);
	sw_secretset__free(set);
}

static void test_wrong_key(void **state)
{
	struct sw_key key, other;
	struct sw_secretset *set, *back = (void *)1;

	test_key(&key, 1);
	test_key(&other, 2);
	set = make_set(&key, 5, 12);
	assert_int_equal(sw_secretset__save(set, path, &key), 0);
	assert_int_equal(sw_secretset__load(path, &other, &back), -EKEYREJECTED);
	assert_null(back);
	sw_secretset__free(set);
}

static uint8_t *slurp(size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long sz;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	b = malloc((size_t)sz);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return b;
}

static void spit(const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static int count_begin(void *ctx, const struct sw_secretset_stats *st)
{
	*(size_t *)ctx = st->npat;
	return 0;
}

static int count_add(void *ctx, const struct sw_secret *s, uint32_t index)
{
	(void)index;
	*(size_t *)ctx -= s->npatterns;
	return 0;
}

/* The whole-set load's result; the lean load (read as it streams) must agree. */
static int load_rc(const struct sw_key *key)
{
	struct sw_secretset *back = NULL, *lean = NULL;
	size_t left = 0;
	struct sw_secretset_sink sink = {.begin = count_begin, .add = count_add, .ctx = &left};
	int rc = sw_secretset__load(path, key, &back);

	assert_int_equal(sw_secretset__load_lean(path, key, &sink, &lean), rc);
	if (!rc) {
		assert_int_equal(lean->n, back->n);
		assert_int_equal(left, 0); /* every counted pattern handed over */
		sw_secretset__free(back);
		sw_secretset__free(lean);
	} else {
		assert_null(back);
		assert_null(lean);
	}
	return rc;
}

/* Every truncation and every single-byte flip of a saved file fails to load, with -EBADMSG
 * (or the version/key error when the flip lands in those fields). */
static void test_corrupt(void **state)
{
	struct sw_key key;
	struct sw_secretset *set;
	uint8_t *orig, *b;
	size_t n, i;
	int rc, bit;

	test_key(&key, 1);
	set = make_set(&key, 3, 13);
	assert_int_equal(sw_secretset__save(set, path, &key), 0);
	sw_secretset__free(set);
	orig = slurp(&n);
	b = malloc(n);
	assert_non_null(b);
	for (i = 0; i < n; i++) {
		spit(orig, i);
		rc = load_rc(&key);
		assert_true(rc == -EBADMSG || rc == -EPROTONOSUPPORT || rc == -EKEYREJECTED ||
			    (i == 0 && rc == -EPROTONOSUPPORT));
	}
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			memcpy(b, orig, n);
			b[i] ^= (uint8_t)(1u << bit);
			spit(b, n);
			rc = load_rc(&key);
			assert_true(rc == -EBADMSG || rc == -EPROTONOSUPPORT ||
				    rc == -EKEYREJECTED);
		}
	}
	spit(orig, n);
	assert_int_equal(load_rc(&key), 0);
	/* garbage */
	memset(b, 0xff, n);
	spit(b, n);
	assert_int_equal(load_rc(&key), -EBADMSG);
	free(b);
	free(orig);
}

/* The fleet's export: the same secrets back under the same key; refused under another key,
 * when altered, and when it is a secret-set file rather than an export (MAC domains differ). */
static void test_export_import(void **state)
{
	struct sw_secretset_export_info info;
	struct sw_secretset *set, *back = NULL;
	struct sw_key key, other;
	uint8_t *b;
	size_t n;

	test_key(&key, 1);
	test_key(&other, 2);
	set = make_set(&key, 12, 21);
	assert_int_equal(sw_secretset__export(set, path, &key, "host-a", 1790000000), 0);
	assert_int_equal(sw_secretset__import(path, &key, &back, &info), 0);
	assert_same(set, back);
	assert_string_equal(info.host, "host-a");
	assert_int_equal(info.exported, 1790000000);
	assert_int_equal(info.n, 12);
	assert_memory_equal(info.key_id, key.id, SW_KEY_ID_BYTES);
	sw_secretset__free(back);
	back = (void *)1;
	assert_int_equal(sw_secretset__import(path, &other, &back, &info), -EKEYREJECTED);
	assert_null(back);
	assert_memory_equal(info.key_id, key.id, SW_KEY_ID_BYTES);
	/* An export is not a secret-set file, nor the other way round. */
	assert_int_equal(sw_secretset__load(path, &key, &back), -EBADMSG);
	b = slurp(&n);
	b[n / 2] ^= 0x01;
	spit(b, n);
	free(b);
	assert_int_equal(sw_secretset__import(path, &key, &back, NULL), -EBADMSG);
	assert_int_equal(sw_secretset__save(set, path, &key), 0);
	assert_int_equal(sw_secretset__import(path, &key, &back, NULL), -EBADMSG);
	assert_null(back);
	sw_secretset__free(set);
}

static void test_put_remove(void **state)
{
	struct sw_key key;
	struct sw_secretset *set = sw_secretset__new();
	struct sw_secret a, b, c;
	struct rng r = {99};
	uint8_t v[32], w[32];

	test_key(&key, 1);
	gen_secret(&r, GEN_BASE62, v, sizeof(v));
	memcpy(w, v, sizeof(v));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_fingerprint__secret(&key, v, sizeof(v), &a), 0);
	assert_int_equal(sw_fingerprint__secret(&key, w, sizeof(w), &b), 0);
	strcpy(a.name, "A");
	strcpy(b.name, "B");
	assert_int_equal(sw_secretset__put(set, &a), 0);
	assert_int_equal(sw_secretset__put(set, &b), -EEXIST); /* same value, other name */
	sw_secret__clear(&b);
	gen_secret(&r, GEN_BASE62, v, sizeof(v));
	assert_int_equal(sw_fingerprint__secret(&key, v, sizeof(v), &c), 0);
	strcpy(c.name, "A");
	assert_int_equal(sw_secretset__put(set, &c), 0); /* replaces A */
	assert_int_equal(set->n, 1);
	assert_int_equal(sw_secretset__remove(set, "B"), -ENOENT);
	assert_int_equal(sw_secretset__remove(set, "A"), 0);
	assert_int_equal(set->n, 0);
	sw_secretset__free(set);
	sw_secretset__free(NULL);
}

/* An import of 50,000: put and find_id stay exact through growth, a replace by name, a duplicate
 * value under another name, a removal, and fields changed behind the index (a load). */
static void test_large_index(void **state)
{
	struct sw_secretset *set = sw_secretset__new();
	struct rng r = {99};
	const size_t n = 50000;
	struct sw_secret s;
	uint8_t(*ids)[SW_SECRET_ID_BYTES] = calloc(n, SW_SECRET_ID_BYTES);
	size_t i;

	(void)state;
	assert_true(set && ids);
	for (i = 0; i < n; i++) {
		memset(&s, 0, sizeof(s));
		rng_fill(&r, ids[i], SW_SECRET_ID_BYTES);
		memcpy(s.id, ids[i], SW_SECRET_ID_BYTES);
		snprintf(s.name, sizeof(s.name), "K%zu", i);
		assert_int_equal(sw_secretset__put(set, &s), 0);
	}
	assert_int_equal(set->n, n);
	for (i = 0; i < n; i += 7)
		assert_ptr_equal(sw_secretset__find_id(set, ids[i]), &set->secrets[i]);
	/* the same value under another name */
	memset(&s, 0, sizeof(s));
	memcpy(s.id, ids[123], SW_SECRET_ID_BYTES);
	snprintf(s.name, sizeof(s.name), "OTHER");
	assert_int_equal(sw_secretset__put(set, &s), -EEXIST);
	/* a new value under a known name replaces it */
	rng_fill(&r, s.id, SW_SECRET_ID_BYTES);
	snprintf(s.name, sizeof(s.name), "K%d", 456);
	assert_int_equal(sw_secretset__put(set, &s), 0);
	assert_int_equal(set->n, n);
	assert_null(sw_secretset__find_id(set, ids[456]));
	assert_ptr_equal(sw_secretset__find_id(set, s.id), &set->secrets[456]);
	assert_int_equal(sw_secretset__remove(set, "K0"), 0);
	assert_null(sw_secretset__find_id(set, ids[0]));
	assert_ptr_equal(sw_secretset__find_id(set, ids[1]), &set->secrets[0]);
	/* changed behind the index with the count unchanged is not seen; a changed count is */
	set->n--;
	assert_null(sw_secretset__find_id(set, ids[n - 1]));
	set->n++;
	assert_ptr_equal(sw_secretset__find_id(set, ids[n - 1]), &set->secrets[n - 2]);
	free(ids);
	sw_secretset__free(set);
}

/* Learned secrets are appended to the file as it streams (sw_learn__save): the file then loads
 * as the whole-set way (load, export, save) would have left it; what it has is not added
 * twice; a damaged file is refused and left as it is; a learned name the file gives another
 * value is replaced, the whole-set way. */
static void test_learn_save(void **state)
{
	struct sw_key key;
	struct sw_secretset *disk, *learned, *want, *back;
	uint8_t *before;
	size_t n, i;

	(void)state;
	test_key(&key, 7);
	/* 9 secrets, every third learned (make_set): 3 learned, one of them already on disk */
	learned = make_set(&key, 9, 77);
	for (i = 0; i < learned->n; i++)
		snprintf(learned->secrets[i].name, sizeof(learned->secrets[i].name), "rule-%zu", i);
	sw_secretset_index_free(learned);
	/* what the whole-set way leaves */
	want = make_set(&key, 30, 21);
	assert_int_equal(sw_learn__export(learned, want), 3);
	/* the file with one of the three: the other two appended */
	disk = make_set(&key, 30, 21);
	{
		struct sw_secretset *one = sw_secretset__new();
		struct sw_secretset *l1 = make_set(&key, 9, 77);

		for (i = 0; i < l1->n; i++)
			snprintf(l1->secrets[i].name, sizeof(l1->secrets[i].name), "rule-%zu", i);
		sw_secretset_index_free(l1);
		l1->secrets[3].learned = 0; /* only secret 0 */
		l1->secrets[6].learned = 0;
		assert_int_equal(sw_learn__export(l1, one), 1);
		assert_int_equal(sw_learn__export(one, disk), 1);
		sw_secretset__free(one);
		sw_secretset__free(l1);
	}
	assert_int_equal(sw_secretset__save(disk, path, &key), 0);
	sw_secretset__free(disk);
	assert_int_equal(sw_learn__save(path, &key, learned), 2);
	assert_int_equal(sw_secretset__load(path, &key, &back), 0);
	assert_same(back, want);
	sw_secretset__free(back);
	/* nothing new the second time; the file is unchanged */
	before = slurp(&n);
	assert_int_equal(sw_learn__save(path, &key, learned), 0);
	{
		size_t m;
		uint8_t *after = slurp(&m);

		assert_int_equal(m, n);
		assert_memory_equal(after, before, n);
		free(after);
	}
	/* damaged: refused, left as it is */
	before[n / 2] ^= 1;
	spit(before, n);
	learned->secrets[0].id[0] ^= 0xff; /* a new value, not on disk */
	assert_true(sw_learn__save(path, &key, learned) < 0);
	{
		size_t m;
		uint8_t *after = slurp(&m);

		assert_int_equal(m, n);
		assert_memory_equal(after, before, n);
		free(after);
	}
	free(before);
	/* a learned name the file has with another value: replaced (the whole-set way) */
	assert_int_equal(sw_secretset__save(want, path, &key), 0);
	assert_int_equal(sw_learn__save(path, &key, learned), 1);
	assert_int_equal(sw_secretset__load(path, &key, &back), 0);
	assert_int_equal(back->n, want->n);
	assert_non_null(sw_secretset__find_id(back, learned->secrets[0].id));
	sw_secretset__free(back);
	/* no file yet: written whole */
	unlink(path);
	assert_int_equal(sw_learn__save(path, &key, learned), 3);
	assert_int_equal(sw_secretset__load(path, &key, &back), 0);
	assert_int_equal(back->n, 3);
	sw_secretset__free(back);
	sw_secretset__free(want);
	sw_secretset__free(learned);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_missing_is_empty),
		cmocka_unit_test(test_wrong_key),   cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_put_remove),  cmocka_unit_test(test_export_import),
		cmocka_unit_test(test_large_index), cmocka_unit_test(test_learn_save),
	};

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	return cmocka_run_group_tests(tests, setup, teardown);
}
