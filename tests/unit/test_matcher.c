// SPDX-License-Identifier: Apache-2.0
/* Matcher: every variant of random secrets at random offsets in random and text data, split at
 * every boundary; exact counts; streams; and a 1 GiB zero-false-positive run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "matcher.h"
#include "secretset.h"
#include "testutil.h"

struct hits {
	struct sw_match *v;
	size_t n, cap;
};

static int collect(const struct sw_match *m, void *ctx)
{
	struct hits *h = ctx;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		assert_non_null(h->v);
	}
	h->v[h->n++] = *m;
	return 0;
}

static int cmp_match(const void *a, const void *b)
{
	const struct sw_match *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->secret != y->secret)
		return x->secret < y->secret ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (int)x->variant - (int)y->variant;
}

struct fixture {
	struct sw_key key;
	size_t n;
	uint8_t **val; /* plaintext kept by the test only, to build its inputs */
	size_t *len;
	struct sw_secret *sec;
	struct sw_matcher *m;
};

static void fixture_build(struct fixture *f, uint64_t seed, size_t n, size_t minlen, size_t maxlen)
{
	struct rng r = {seed};
	uint8_t *tmp;
	size_t i;

	memset(f, 0, sizeof(*f));
	test_key(&f->key, seed ^ 0x1234);
	f->n = n;
	f->val = calloc(n, sizeof(*f->val));
	f->len = calloc(n, sizeof(*f->len));
	f->sec = calloc(n, sizeof(*f->sec));
	assert_true(f->val && f->len && f->sec);
	for (i = 0; i < n; i++) {
		f->len[i] = i == 0 ? minlen : rng_range(&r, minlen, maxlen);
		f->val[i] = malloc(f->len[i]);
		tmp = malloc(f->len[i]);
		assert_true(f->val[i] && tmp);
		gen_secret(&r, (enum gen_kind)(i % GEN__COUNT), f->val[i], f->len[i]);
		memcpy(tmp, f->val[i], f->len[i]);
		assert_int_equal(sw_fingerprint__secret(&f->key, tmp, f->len[i], &f->sec[i]), 0);
		free(tmp);
	}
	f->m = sw_matcher__new(&f->key, f->sec, n);
	assert_non_null(f->m);
}

static void fixture_free(struct fixture *f)
{
	size_t i;

	sw_matcher__free(f->m);
	for (i = 0; i < f->n; i++) {
		sw_secret__clear(&f->sec[i]);
		free(f->val[i]);
	}
	free(f->val);
	free(f->len);
	free(f->sec);
}

static void fill_text(struct rng *r, uint8_t *p, size_t n)
{
	static const char *const words[] = {"int ", "return ",	 "config", " = ",	"{\n",
					    "}\n",  "\t",	 "value",  "(",		")",
					    ";\n",  "path/to/x", ", ",	   "\"key\": ", "// note\n",
					    "0x1f", "import ",	 "self."};
	size_t i = 0, wl;
	const char *w;

	while (i < n) {
		w = words[rng_next(r) % (sizeof(words) / sizeof(words[0]))];
		wl = strlen(w);
		if (wl > n - i)
			wl = n - i;
		memcpy(p + i, w, wl);
		i += wl;
	}
}

/* Builds the inserted text for form vi of secret s: base64 forms are cut from a real base64
 * encoding of random prefix || value || random suffix, so the stable-part logic is checked
 * against the encoder. Returns its length; *at is where the expected match starts in it. */
static size_t make_insert(struct rng *r, const uint8_t *v, size_t n, int vi, char *out, size_t *at,
			  size_t *elen)
{
	char *expect = malloc(SW_ENC_JSON_MAX(n) + 8);
	uint8_t *blob;
	size_t pl, sl, tl, a;
	int url;

	assert_non_null(expect);
	*elen = form_text(v, n, vi, expect);
	if (vi >= 1 && vi <= 6) {
		url = vi >= 4;
		a = (size_t)(vi - (url ? 4 : 1));
		pl = a + 3 * rng_range(r, 0, 2);
		sl = rng_range(r, 0, 4);
		blob = malloc(pl + n + sl);
		assert_non_null(blob);
		rng_fill(r, blob, pl);
		memcpy(blob + pl, v, n);
		rng_fill(r, blob + pl + n, sl);
		tl = sw_encode__base64(blob, pl + n + sl, url, 1, out);
		free(blob);
		*at = pl / 3 * 4 + (a == 0 ? 0 : a == 1 ? 2 : 3);
		assert_true(*at + *elen <= tl);
		assert_memory_equal(out + *at, expect, *elen);
	} else {
		memcpy(out, expect, *elen);
		tl = *elen;
		*at = 0;
	}
	free(expect);
	return tl;
}

/* The match must be for secret s at the expected place, with a variant whose text is the
 * inserted one (an identical form of another variant is deduplicated at expansion). */
static void check_variant(const struct fixture *f, size_t s, const struct sw_match *mt,
			  const char *text, size_t tlen)
{
	char *buf = malloc(SW_ENC_JSON_MAX(f->len[s]) + 8);
	size_t l;
	int vi, ok = 0;

	assert_non_null(buf);
	for (vi = 0; vi < N_FORMS && !ok; vi++) {
		if (form_variant(vi) != mt->variant)
			continue;
		l = form_text(f->val[s], f->len[s], vi, buf);
		ok = l == tlen && !memcmp(buf, text, l);
	}
	free(buf);
	assert_true(ok);
}

static void scan_chunks(const struct sw_matcher *m, const uint8_t *d, size_t n, const size_t *cut,
			size_t ncut, struct hits *h)
{
	struct sw_stream *s = sw_stream__new();
	size_t prev = 0, i;

	assert_non_null(s);
	h->n = 0;
	for (i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cut[i] : n;

		assert_int_equal(sw_matcher__scan(m, s, d + prev, end - prev, collect, h), 0);
		prev = end;
	}
	assert_true(sw_stream__offset(s) == n);
	sw_stream__free(s);
}

static void expect_one(const struct fixture *f, const struct hits *h, size_t s, uint64_t off,
		       const char *text, size_t tlen)
{
	assert_int_equal(h->n, 1);
	assert_int_equal(h->v[0].secret, s);
	assert_true(h->v[0].offset == off);
	assert_int_equal(h->v[0].len, tlen);
	check_variant(f, s, &h->v[0], text, tlen);
}

/* simd = 0 runs the portable loop, so both loops are held to the same exact counts. */
static void run_insertions(size_t minlen, uint64_t seed, int simd)
{
	struct fixture f;
	struct rng r = {seed * 31 + 7};
	struct hits h = {0};
	size_t s, pre, post, tl, at, elen, n, i, j, cut[2];
	uint8_t *buf;
	char *ins;
	int vi, text;

	fixture_build(&f, seed, 24, minlen, 200);
	if (!simd)
		assert_int_equal(sw_matcher__use_simd(f.m, 0), 0);
	assert_int_equal(sw_matcher__stride(f.m), minlen - 7 < 8 ? minlen - 7 : 8);
	ins = malloc(4 * (SW_ENC_JSON_MAX(200) + 16));
	buf = malloc(8 * 1024);
	assert_true(ins && buf);
	for (s = 0; s < f.n; s++) {
		for (vi = 0; vi < N_FORMS; vi++) {
			for (text = 0; text <= 1; text++) {
				tl = make_insert(&r, f.val[s], f.len[s], vi, ins, &at, &elen);
				pre = rng_range(&r, 0, 80);
				post = rng_range(&r, 0, 80);
				if (text) {
					fill_text(&r, buf, pre);
					fill_text(&r, buf + pre + tl, post);
				} else {
					rng_fill(&r, buf, pre);
					rng_fill(&r, buf + pre + tl, post);
				}
				memcpy(buf + pre, ins, tl);
				n = pre + tl + post;

				scan_chunks(f.m, buf, n, NULL, 0, &h);
				expect_one(&f, &h, s, pre + at, ins + at, elen);
				for (i = 0; i <= n; i++) { /* two chunks, every boundary */
					cut[0] = i;
					scan_chunks(f.m, buf, n, cut, 1, &h);
					expect_one(&f, &h, s, pre + at, ins + at, elen);
				}
				for (i = 0; i < 48; i++) { /* three chunks, random boundaries */
					cut[0] = rng_range(&r, 0, n);
					cut[1] = rng_range(&r, cut[0], n);
					scan_chunks(f.m, buf, n, cut, 2, &h);
					expect_one(&f, &h, s, pre + at, ins + at, elen);
				}
				if (s < 2 && vi == 0) { /* three chunks, every pair of boundaries */
					for (i = 0; i <= n; i++) {
						for (j = i; j <= n; j++) {
							cut[0] = i;
							cut[1] = j;
							scan_chunks(f.m, buf, n, cut, 2, &h);
							expect_one(&f, &h, s, pre + at, ins + at,
								   elen);
						}
					}
				}
			}
		}
	}
	free(h.v);
	free(ins);
	free(buf);
	fixture_free(&f);
}

static void test_insert_stride8(void **state)
{
	run_insertions(20, 101, 1);
	run_insertions(20, 101, 0);
}

static void test_insert_stride3(void **state)
{
	run_insertions(10, 202, 1);
	run_insertions(10, 202, 0);
}

static void test_insert_stride1(void **state)
{
	run_insertions(8, 303, 1);
	run_insertions(8, 303, 0);
}

/* Many secrets, thousands of insertions in one stream fed in random chunk sizes: the set of
 * matches equals the set of insertions exactly, with the fastest loop and the portable one. */
static void test_bulk_stream(void **state)
{
	struct fixture f;
	struct rng r = {0x77aa};
	struct hits h = {0}, want = {0};
	struct sw_match e;
	size_t cap = 4u << 20, n = 0, s, tl, at, elen, fill, pos, ch;
	uint8_t *buf = malloc(cap);
	char *ins = malloc(SW_ENC_JSON_MAX(200) * 2);
	struct sw_stream *st;
	struct rng rc;
	int vi, simd;

	assert_true(buf && ins);
	fixture_build(&f, 77, 300, 16, 120);
	while (n + 8192 < cap) {
		fill = rng_range(&r, 0, 1500);
		if (rng_next(&r) & 1)
			fill_text(&r, buf + n, fill);
		else
			rng_fill(&r, buf + n, fill);
		n += fill;
		s = rng_range(&r, 0, f.n - 1);
		vi = (int)rng_range(&r, 0, N_FORMS - 1);
		tl = make_insert(&r, f.val[s], f.len[s], vi, ins, &at, &elen);
		memcpy(buf + n, ins, tl);
		e.secret = (uint32_t)s;
		e.offset = n + at;
		e.len = (uint32_t)elen;
		e.variant = 0;
		collect(&e, &want);
		n += tl;
	}
	qsort(want.v, want.n, sizeof(*want.v), cmp_match);
	for (simd = 1; simd >= 0; simd--) {
		sw_matcher__use_simd(f.m, simd);
		rc = r; /* the same chunking for both loops */
		h.n = 0;
		st = sw_stream__new();
		assert_non_null(st);
		for (pos = 0; pos < n; pos += ch) {
			ch = rng_next(&rc) % 8 == 0 ? rng_range(&rc, 1, 16)
						    : rng_range(&rc, 1, 9000);
			if (ch > n - pos)
				ch = n - pos;
			assert_int_equal(sw_matcher__scan(f.m, st, buf + pos, ch, collect, &h), 0);
		}
		sw_stream__free(st);
		for (s = 0; s < h.n; s++)
			h.v[s].variant = 0;
		qsort(h.v, h.n, sizeof(*h.v), cmp_match);
		assert_int_equal(h.n, want.n);
		for (s = 0; s < h.n; s++)
			assert_int_equal(cmp_match(&h.v[s], &want.v[s]), 0);
	}
	free(h.v);
	free(want.v);
	free(buf);
	free(ins);
	fixture_free(&f);
}

static int stop_at_first(const struct sw_match *m, void *ctx)
{
	(*(int *)ctx)++;
	return 42;
}

static void test_stream_api(void **state)
{
	struct fixture f;
	struct hits h = {0};
	struct sw_stream *s = sw_stream__new();
	uint8_t buf[256];
	struct sw_matcher *empty;
	struct rng r = {0x5bb};
	size_t L;
	int calls = 0;

	assert_non_null(s);
	fixture_build(&f, 5, 4, 24, 40);
	L = f.len[0];
	assert_true(sw_matcher__max_len(f.m) >= 2 * L);
	assert_true(sw_matcher__memory(f.m) > 0);

	/* split across a reset: not found; offset keeps counting */
	rng_fill(&r, buf, sizeof(buf));
	memcpy(buf + 100, f.val[0], L);
	assert_int_equal(sw_matcher__scan(f.m, s, buf, 110, collect, &h), 0);
	sw_stream__reset(s);
	assert_int_equal(sw_matcher__scan(f.m, s, buf + 110, sizeof(buf) - 110, collect, &h), 0);
	assert_int_equal(h.n, 0);
	assert_true(sw_stream__offset(s) == sizeof(buf));
	/* the same bytes again, contiguous: found at the absolute offset */
	assert_int_equal(sw_matcher__scan(f.m, s, buf, sizeof(buf), collect, &h), 0);
	assert_int_equal(h.n, 1);
	assert_true(h.v[0].offset == sizeof(buf) + 100);
	/* an empty scan changes nothing */
	assert_int_equal(sw_matcher__scan(f.m, s, NULL, 0, collect, &h), 0);
	assert_int_equal(sw_matcher__scan(f.m, NULL, buf, 1, collect, &h), -EINVAL);
	/* the callback's non-zero value stops the scan and is returned */
	memcpy(buf + 10, f.val[1], f.len[1]);
	assert_int_equal(sw_matcher__scan(f.m, s, buf, sizeof(buf), stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);
	sw_stream__free(s);
	sw_stream__free(NULL);

	empty = sw_matcher__new(&f.key, NULL, 0);
	assert_non_null(empty);
	assert_int_equal(sw_matcher__max_len(empty), 0);
	s = sw_stream__new();
	assert_int_equal(sw_matcher__scan(empty, s, buf, sizeof(buf), collect, &h), 0);
	assert_true(sw_stream__offset(s) == sizeof(buf));
	sw_stream__free(s);
	sw_matcher__free(empty);
	sw_matcher__free(NULL);
	free(h.v);
	fixture_free(&f);
}

/* 1 GiB of random data (a 64 MiB buffer refilled from 16 seeds) against 10,000 secrets of
 * 20-64 bytes in every variant: not a single match. */
static void test_no_false_positives(void **state)
{
	const size_t sz = 64u << 20;
	struct fixture f;
	struct hits h = {0};
	struct sw_stream *s;
	struct rng r;
	struct timespec t0, t1;
	double secs = 0;
	uint8_t *buf = malloc(sz);
	int round;

	assert_non_null(buf);
	fixture_build(&f, 999, 10000, 20, 64);
	for (round = 0; round < 16; round++) {
		r.s = 0xfeed0000u + (uint64_t)round;
		rng_fill(&r, buf, sz);
		s = sw_stream__new();
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(sw_matcher__scan(f.m, s, buf, sz, collect, &h), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		sw_stream__free(s);
	}
	assert_int_equal(h.n, 0);
	print_message("1 GiB random vs 10000 secrets: 0 matches, %.0f MB/s, index %zu KiB\n",
		      16.0 * (double)sz / 1e6 / secs, sw_matcher__memory(f.m) >> 10);
	free(buf);
	fixture_free(&f);
}

/* 1 MiB of text with inserts of the fixture's secrets in every form, matched 4 KiB at a time
 * by m and by the fixture's own matcher: the same matches, and more than min of them. */
static void same_as_fixture(const struct fixture *f, struct rng *r, const struct sw_matcher *m,
			    size_t inserts, size_t min)
{
	size_t i, k, tl, at, elen, n = 1u << 20, pos;
	uint8_t *buf = malloc(n);
	char *ins = malloc(SW_ENC_JSON_MAX(200) * 2);
	struct sw_stream *s1 = sw_stream__new(), *s2 = sw_stream__new();
	struct hits a = {0}, b = {0};

	assert_true(buf && ins && s1 && s2);
	fill_text(r, buf, n);
	for (pos = 0, k = 0; k < inserts; k++) {
		i = rng_range(r, 0, f->n - 1);
		tl = make_insert(r, f->val[i], f->len[i], (int)rng_range(r, 0, N_FORMS - 1), ins,
				 &at, &elen);
		pos += rng_range(r, 10, 200);
		if (pos + tl >= n)
			break;
		memcpy(buf + pos, ins, tl);
		pos += tl;
	}
	for (pos = 0; pos < n; pos += 4096) {
		assert_int_equal(sw_matcher__scan(m, s1, buf + pos, 4096, collect, &a), 0);
		assert_int_equal(sw_matcher__scan(f->m, s2, buf + pos, 4096, collect, &b), 0);
	}
	assert_true(a.n > min);
	assert_int_equal(a.n, b.n);
	qsort(a.v, a.n, sizeof(*a.v), cmp_match);
	qsort(b.v, b.n, sizeof(*b.v), cmp_match);
	for (k = 0; k < a.n; k++)
		assert_int_equal(cmp_match(&a.v[k], &b.v[k]), 0);
	sw_stream__free(s1);
	sw_stream__free(s2);
	free(a.v);
	free(b.v);
	free(buf);
	free(ins);
}

/* Secrets added one at a time to a matcher built with room for them find exactly what a
 * matcher built over all of them finds; past the room, or with a pattern too short for the
 * stride, the add is refused and nothing changes. */
static void test_add(void **state)
{
	struct fixture f;
	struct rng r = {0xadd};
	struct sw_matcher *inc, *tight;
	struct sw_secret small;
	uint8_t v[8];
	size_t i;

	(void)state;
	fixture_build(&f, 0x5eed, 300, 16, 48);
	inc = sw_matcher__new_reserve(&f.key, f.sec, 100, 300 * 11);
	assert_non_null(inc);
	for (i = 100; i < f.n; i++)
		assert_int_equal(sw_matcher__add(inc, &f.sec[i], (uint32_t)i), 0);
	assert_int_equal(sw_matcher__max_len(inc), sw_matcher__max_len(f.m));
	same_as_fixture(&f, &r, inc, 2000, 1000);
	/* no room */
	tight = sw_matcher__new_reserve(&f.key, f.sec, 10, 0);
	assert_non_null(tight);
	assert_int_equal(sw_matcher__add(tight, &f.sec[20], 20), -ENOSPC);
	/* an 8-byte value: its raw pattern has one window, the stride is 8 */
	memset(&small, 0, sizeof(small));
	rng_fill(&r, v, sizeof(v));
	assert_int_equal(sw_fingerprint__secret(&f.key, v, sizeof(v), &small), 0);
	assert_int_equal(sw_matcher__add(inc, &small, 999), -EINVAL);
	sw_secret__clear(&small);
	sw_matcher__free(inc);
	sw_matcher__free(tight);
	fixture_free(&f);
}

/* The index built as a set file streams (sw_secretset__load_lean handing each secret to
 * sw_matcher__build_add) finds exactly what the index built from the whole set in memory finds,
 * and the lean set keeps patterns for learned secrets only. */
struct lean_sink {
	const struct sw_key *key;
	struct sw_matcher_build *mb;
	size_t added, npat;
};

static int lean_begin(void *ctx, const struct sw_secretset_stats *st)
{
	struct lean_sink *l = ctx;

	l->npat = st->npat;
	l->mb = sw_matcher__build_new(l->key, st->npat, st->minlen, st->maxlen, 64);
	return l->mb ? 0 : -errno;
}

static int lean_add(void *ctx, const struct sw_secret *s, uint32_t index)
{
	struct lean_sink *l = ctx;

	assert_int_equal(index, l->added);
	l->added++;
	return sw_matcher__build_add(l->mb, s, index);
}

static void test_build_streamed(void **state)
{
	char dir[] = "/tmp/sw-matcher-XXXXXX", path[64];
	struct fixture f;
	struct rng r = {0x1ea7};
	struct sw_secretset *set, *lean = NULL;
	struct lean_sink l = {0};
	struct sw_secretset_sink sink = {.begin = lean_begin, .add = lean_add, .ctx = &l};
	struct sw_matcher *streamed;
	size_t i, npat = 0;

	(void)state;
	assert_true(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secrets.pb", dir);
	fixture_build(&f, 0x57e4, 200, 12, 60);
	set = sw_secretset__new();
	assert_non_null(set);
	for (i = 0; i < f.n; i++) {
		struct sw_secret c = f.sec[i];

		npat += c.npatterns;
		c.patterns = malloc(c.npatterns * sizeof(*c.patterns));
		assert_non_null(c.patterns);
		memcpy(c.patterns, f.sec[i].patterns, c.npatterns * sizeof(*c.patterns));
		snprintf(c.name, sizeof(c.name), "S%zu", i);
		c.learned = i % 5 == 0;
		assert_int_equal(sw_secretset__put(set, &c), 0);
	}
	assert_int_equal(sw_secretset__save(set, path, &f.key), 0);
	l.key = &f.key;
	assert_int_equal(sw_secretset__load_lean(path, &f.key, &sink, &lean), 0);
	assert_int_equal(l.added, f.n);
	assert_int_equal(l.npat, npat);
	streamed = sw_matcher__build_finish(l.mb);
	assert_non_null(streamed);
	assert_true(lean->lean);
	assert_int_equal(lean->n, f.n);
	for (i = 0; i < f.n; i++) {
		assert_memory_equal(lean->secrets[i].id, f.sec[i].id, SW_SECRET_ID_BYTES);
		assert_int_equal(lean->secrets[i].npatterns, i % 5 == 0 ? f.sec[i].npatterns : 0);
		assert_int_equal(!!lean->secrets[i].patterns, i % 5 == 0);
	}
	/* a lean set cannot be saved: the file would lose the patterns */
	assert_int_equal(sw_secretset__save(lean, path, &f.key), -EINVAL);
	assert_int_equal(sw_matcher__stride(streamed), sw_matcher__stride(f.m));
	assert_int_equal(sw_matcher__max_len(streamed), sw_matcher__max_len(f.m));
	same_as_fixture(&f, &r, streamed, 1000, 500);
	sw_matcher__free(streamed);
	sw_secretset__free(lean);
	sw_secretset__free(set);
	unlink(path);
	rmdir(dir);
	fixture_free(&f);
}

/* A build given other secrets than it was sized for fails, never a wrong index. */
static void test_build_counts(void **state)
{
	struct fixture f;
	struct sw_matcher_build *mb;
	size_t minlen = SIZE_MAX, maxlen = 0, npat = 0, i, k;

	(void)state;
	fixture_build(&f, 0xc0, 20, 16, 40);
	for (i = 0; i < f.n; i++)
		for (k = 0; k < f.sec[i].npatterns; k++, npat++) {
			if (f.sec[i].patterns[k].len < minlen)
				minlen = f.sec[i].patterns[k].len;
			if (f.sec[i].patterns[k].len > maxlen)
				maxlen = f.sec[i].patterns[k].len;
		}
	/* fewer than counted */
	mb = sw_matcher__build_new(&f.key, npat, minlen, maxlen, 0);
	assert_non_null(mb);
	assert_int_equal(sw_matcher__build_add(mb, &f.sec[0], 0), 0);
	errno = 0;
	assert_null(sw_matcher__build_finish(mb));
	assert_int_equal(errno, EINVAL);
	/* more than counted */
	mb = sw_matcher__build_new(&f.key, f.sec[0].npatterns, minlen, maxlen, 0);
	assert_non_null(mb);
	assert_int_equal(sw_matcher__build_add(mb, &f.sec[0], 0), 0);
	assert_int_equal(sw_matcher__build_add(mb, &f.sec[1], 1), -EINVAL);
	sw_matcher__build_free(mb);
	/* a pattern shorter than the counted shortest */
	mb = sw_matcher__build_new(&f.key, npat, maxlen, maxlen, 0);
	assert_non_null(mb);
	assert_int_equal(sw_matcher__build_add(mb, &f.sec[0], 0), -EINVAL);
	sw_matcher__build_free(mb);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_stride8),
		cmocka_unit_test(test_insert_stride3),
		cmocka_unit_test(test_insert_stride1),
		cmocka_unit_test(test_bulk_stream),
		cmocka_unit_test(test_stream_api),
		cmocka_unit_test(test_no_false_positives),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_build_streamed),
		cmocka_unit_test(test_build_counts),
	};

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
