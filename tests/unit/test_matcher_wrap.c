// SPDX-License-Identifier: Apache-2.0
/* Matcher, wrapped encodings (matcher_wrap.c): base64 and hex wrapped into lines of every width
 * 1..120, the secret starting at every column (so every break position inside it), LF and CRLF,
 * in one write and split across writes at every boundary; exactly one match, at the right
 * stream offset, whose bytes are the pattern once the breaks are taken out. Secrets are made at
 * run time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "matcher.h"
#include "testutil.h"

#define WIDTH_MAX 120

struct hits {
	struct sw_match v[64];
	size_t n;
};

static int collect(const struct sw_match *m, void *ctx)
{
	struct hits *h = ctx;

	if (h->n < 64)
		h->v[h->n] = *m;
	h->n++;
	return 0;
}

struct fx {
	struct sw_key key;
	uint8_t val[64];
	size_t len;
	struct sw_secret sec;
	struct sw_matcher *m;
};

static void fx_build(struct fx *f, uint64_t seed, enum gen_kind kind, size_t len)
{
	struct rng r = {seed};
	uint8_t tmp[64];

	memset(f, 0, sizeof(*f));
	test_key(&f->key, seed);
	f->len = len;
	gen_secret(&r, kind, f->val, len);
	memcpy(tmp, f->val, len);
	assert_int_equal(sw_fingerprint__secret(&f->key, tmp, len, &f->sec), 0);
	f->m = sw_matcher__new(&f->key, &f->sec, 1);
	assert_non_null(f->m);
}

static void fx_free(struct fx *f)
{
	sw_matcher__free(f->m);
	sw_secret__clear(&f->sec);
	sodium_memzero(f->val, sizeof(f->val));
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The variant the index keeps for form vi: a form identical to an earlier one is kept once,
 * under the earlier variant (base64url without '-_' is base64, HEX of digits is hex). */
static enum sw_variant kept_variant(const struct fx *f, int vi)
{
	char a[256], b[256];
	size_t na, nb;

	na = form_text(f->val, f->len, vi, a);
	if (vi >= 4 && vi <= 6) {
		nb = form_text(f->val, f->len, vi - 3, b);
		if (na == nb && !memcmp(a, b, na))
			return SW_VAR_BASE64;
	}
	if (vi == 8) {
		nb = form_text(f->val, f->len, 7, b);
		if (na == nb && !memcmp(a, b, na))
			return SW_VAR_HEX;
	}
	return form_variant(vi);
}

/* Lays out filler (pre chars) + form text + filler (8 chars), wrapped every width characters
 * with LF or CRLF, as base64 and xxd -p print. Returns the length; *at is where the form starts
 * in the output. */
static size_t layout(struct rng *r, const char *form, size_t flen, size_t pre, size_t width,
		     int crlf, int hex, char *out, size_t *at)
{
	size_t total = pre + flen + 8, i, o = 0, col = 0;
	char c;

	for (i = 0; i < total; i++) {
		if (col == width) {
			if (crlf)
				out[o++] = '\r';
			out[o++] = '\n';
			col = 0;
		}
		if (i == pre)
			*at = o;
		if (i >= pre && i < pre + flen)
			c = form[i - pre];
		else
			c = hex ? "0123456789abcdef"[rng_next(r) % 16] : b64[rng_next(r) % 64];
		out[o++] = c;
		col++;
	}
	out[o++] = '\n';
	return o;
}

/* The match must be the form, breaks aside, starting at the form's first byte. */
static void check_one(const struct hits *h, const char *text, size_t base, size_t at,
		      const char *form, size_t flen, enum sw_variant v)
{
	char joined[512];
	size_t i, n = 0, off;

	assert_int_equal(h->n, 1);
	assert_int_equal(h->v[0].secret, 0);
	assert_int_equal(h->v[0].variant, v);
	assert_int_equal(h->v[0].offset, base + at);
	off = (size_t)(h->v[0].offset - base);
	for (i = off; i < off + h->v[0].len; i++)
		if (text[i] != '\r' && text[i] != '\n')
			joined[n++] = text[i];
	assert_int_equal(n, flen);
	assert_memory_equal(joined, form, flen);
	assert_true(text[off + h->v[0].len - 1] != '\n' && text[off + h->v[0].len - 1] != '\r');
}

static void scan_cuts(const struct sw_matcher *m, const char *text, size_t n, const size_t *cuts,
		      size_t ncuts, struct hits *h)
{
	struct sw_stream *s = sw_stream__new();
	size_t prev = 0, i;

	assert_non_null(s);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;

		assert_true(sw_matcher__scan(m, s, text + prev, end - prev, collect, h) >= 0);
		prev = end;
	}
	sw_stream__free(s);
}

/* Every width 1..120, every column the form can start at, LF and CRLF, each base64 and hex
 * form, one write: exactly the one match. */
static void test_every_width_and_break(void **state)
{
	static const int forms[] = {1, 2, 3, 4, 5, 6, 7, 8};
	char *text = malloc(64 * 1024), form[256];
	struct rng r = {7};
	struct hits h;
	size_t fi, w, pre, n, at, flen, cases = 0;
	struct fx f;
	int crlf;

	(void)state;
	assert_non_null(text);
	fx_build(&f, 11, GEN_BYTES, 33);
	for (fi = 0; fi < sizeof(forms) / sizeof(forms[0]); fi++) {
		flen = form_text(f.val, f.len, forms[fi], form);
		for (w = 1; w <= WIDTH_MAX; w++)
			for (pre = 0; pre < w && pre < 130; pre++)
				for (crlf = 0; crlf <= 1; crlf++) {
					n = layout(&r, form, flen, pre, w, crlf, forms[fi] >= 7,
						   text, &at);
					h.n = 0;
					scan_cuts(f.m, text, n, NULL, 0, &h);
					check_one(&h, text, 0, at, form, flen,
						  kept_variant(&f, forms[fi]));
					cases++;
				}
	}
	assert_true(cases > 100000);
	fx_free(&f);
	free(text);
}

/* A form cut by one to three breaks with nothing of the alphabet around it (a space on each
 * side), amid lines of short words: a stretch just as long as the form and its breaks, which
 * the SIMD loop must keep while it drops the line ends of the words. Every start in a 128-byte
 * span, so the form meets each 64-byte step's edges. */
static void test_tight_in_text(void **state)
{
	static const int forms[] = {1, 2, 3, 4, 5, 6, 7, 8};
	char *text = malloc(8192), form[256];
	size_t fi, nb, start, n, i, o, at, flen, w, cases = 0;
	struct rng r = {19};
	struct hits h;
	struct fx f;
	int crlf;

	(void)state;
	assert_non_null(text);
	fx_build(&f, 23, GEN_BASE62, 31);
	sw_matcher__use_simd(f.m, 1);
	for (fi = 0; fi < sizeof(forms) / sizeof(forms[0]); fi++) {
		flen = form_text(f.val, f.len, forms[fi], form);
		for (nb = 1; nb <= 3; nb++)
			for (crlf = 0; crlf <= 1; crlf++)
				for (start = 2048; start < 2048 + 128; start++) {
					for (n = 0; n < start;) /* words of 1-6 characters */
						for (i = rng_range(&r, 1, 6),
						    text[n++] = " \n"[rng_range(&r, 0, 3) == 0];
						     i-- && n < start;)
							text[n++] = b64[rng_next(&r) % 64];
					text[start - 1] = ' ';
					w = flen / (nb + 1) + 1;
					for (i = 0, o = start; i < flen; i++) {
						if (i && i % w == 0) {
							if (crlf)
								text[o++] = '\r';
							text[o++] = '\n';
						}
						text[o++] = form[i];
					}
					text[o++] = ' ';
					for (n = o; n < o + 2048; n++)
						text[n] = rng_range(&r, 0, 5)
								  ? b64[rng_next(&r) % 64]
								  : " \n"[rng_range(&r, 0, 1)];
					at = start;
					h.n = 0;
					scan_cuts(f.m, text, n, NULL, 0, &h);
					check_one(&h, text, 0, at, form, flen,
						  kept_variant(&f, forms[fi]));
					cases++;
				}
	}
	assert_int_equal(cases, 8 * 3 * 2 * 128);
	fx_free(&f);
	free(text);
}

/* Split across writes at every boundary (two writes), and into many small writes. */
static void test_split_across_writes(void **state)
{
	static const size_t widths[] = {1, 2, 3, 4, 5, 7, 16, 60, 64, 76, 120};
	static const int forms[] = {1, 3, 5, 7, 8};
	char *text = malloc(8192), form[256];
	struct rng r = {13};
	size_t cuts[4096], wi, fi, n, at, flen, cut, nc, pos;
	struct hits h;
	struct fx f;
	int crlf;

	(void)state;
	assert_non_null(text);
	fx_build(&f, 17, GEN_BASE62, 29);
	for (fi = 0; fi < sizeof(forms) / sizeof(forms[0]); fi++) {
		flen = form_text(f.val, f.len, forms[fi], form);
		for (wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++)
			for (crlf = 0; crlf <= 1; crlf++) {
				n = layout(&r, form, flen, rng_range(&r, 0, widths[wi] - 1),
					   widths[wi], crlf, forms[fi] >= 7, text, &at);
				for (cut = 1; cut < n; cut++) {
					/* both loops that find the breaks: SIMD and portable */
					sw_matcher__use_simd(f.m, cut & 1);
					h.n = 0;
					scan_cuts(f.m, text, n, &cut, 1, &h);
					check_one(&h, text, 0, at, form, flen,
						  kept_variant(&f, forms[fi]));
				}
				sw_matcher__use_simd(f.m, 1);
				/* writes of 1..7 bytes, and one byte each */
				for (nc = 0, pos = 0; nc < 4096; nc++) {
					pos += rng_range(&r, 1, 7);
					if (pos >= n)
						break;
					cuts[nc] = pos;
				}
				h.n = 0;
				scan_cuts(f.m, text, n, cuts, nc, &h);
				check_one(&h, text, 0, at, form, flen, kept_variant(&f, forms[fi]));
				for (nc = 0; nc + 1 < n && nc < 4096; nc++)
					cuts[nc] = nc + 1;
				h.n = 0;
				scan_cuts(f.m, text, n, cuts, nc, &h);
				check_one(&h, text, 0, at, form, flen, kept_variant(&f, forms[fi]));
			}
	}
	fx_free(&f);
	free(text);
}

/* Random text, as both loops that find breaks and run ends see it: the SIMD one (64 bytes a
 * step) and the portable one report the same matches, for writes of random sizes. The text mixes
 * the secret's forms wrapped at random widths (LF, CRLF), alphabet runs of every length with
 * breaks, and other characters. */
static void test_simd_agrees(void **state)
{
	static const int forms[] = {0, 1, 2, 3, 5, 7, 8};
	char *text = malloc(1 << 16), form[256], *p;
	struct rng r = {29};
	struct hits a, b;
	size_t round, n, k, flen, w, i, cuts[64], nc, at;
	struct fx f;

	(void)state;
	assert_non_null(text);
	fx_build(&f, 31, GEN_BASE62, 33);
	for (round = 0; round < 300; round++) {
		for (n = 0; n < (1 << 16) - 1024;) {
			p = text + n;
			switch (rng_range(&r, 0, 4)) {
			case 0: /* a form, wrapped */
				flen = form_text(f.val, f.len, forms[rng_range(&r, 0, 6)], form);
				w = rng_range(&r, 1, 90);
				n += layout(&r, form, flen, rng_range(&r, 0, w - 1), w,
					    (int)rng_range(&r, 0, 1), 0, p, &at);
				break;
			case 1: /* an alphabet run, maybe broken */
				for (i = rng_range(&r, 1, 200); i--;)
					text[n++] = rng_range(&r, 0, 40) ? b64[rng_next(&r) % 64]
									 : "\n\r"[rng_next(&r) % 2];
				break;
			case 2: /* lines of short words (source text): breaks with words around */
				for (i = rng_range(&r, 1, 120); i--;)
					text[n++] = rng_range(&r, 0, 7) ? b64[rng_next(&r) % 64]
						    : rng_range(&r, 0, 5)
							    ? " ;(){}"[rng_next(&r) % 6]
							    : "\n\r"[rng_next(&r) % 2];
				break;
			default: /* other characters */
				for (i = rng_range(&r, 1, 12); i--;)
					text[n++] = " .,;:\"'(){}\n\t#*"[rng_next(&r) % 16];
			}
		}
		for (nc = 0, k = 0; nc < 64; nc++) {
			k += rng_range(&r, 1, n / 8);
			if (k >= n)
				break;
			cuts[nc] = k;
		}
		sw_matcher__use_simd(f.m, 1);
		a.n = 0;
		scan_cuts(f.m, text, n, cuts, nc, &a);
		sw_matcher__use_simd(f.m, 0);
		b.n = 0;
		scan_cuts(f.m, text, n, cuts, nc, &b);
		assert_true(a.n > 0);
		assert_int_equal(a.n, b.n);
		for (i = 0; i < a.n && i < 64; i++) {
			assert_int_equal(a.v[i].offset, b.v[i].offset);
			assert_int_equal(a.v[i].len, b.v[i].len);
			assert_int_equal(a.v[i].variant, b.v[i].variant);
		}
	}
	fx_free(&f);
	free(text);
}

/* As the tools print it: the real base64 encoding of prefix || value || suffix, wrapped at
 * 76 (base64), 64 (openssl base64) with CRLF too, and hex wrapped at 60 (xxd -p). */
static void test_real_encoding(void **state)
{
	static const size_t widths[] = {64, 76};
	uint8_t blob[256];
	char enc[512], form[256], *text = malloc(4096);
	struct rng r = {23};
	size_t pl, bl, el, n, o, i, at, flen, wi, found;
	struct hits h;
	struct fx f;
	int crlf;

	(void)state;
	assert_non_null(text);
	fx_build(&f, 29, GEN_PREFIXED, 40);
	for (pl = 0; pl < 80; pl++)
		for (wi = 0; wi < 2; wi++)
			for (crlf = 0; crlf <= 1; crlf++) {
				rng_fill(&r, blob, pl);
				memcpy(blob + pl, f.val, f.len);
				rng_fill(&r, blob + pl + f.len, 5);
				bl = pl + f.len + 5;
				el = sw_encode__base64(blob, bl, 0, 1, enc);
				for (i = 0, o = 0; i < el; i++) {
					if (i && i % widths[wi] == 0) {
						if (crlf)
							text[o++] = '\r';
						text[o++] = '\n';
					}
					text[o++] = enc[i];
				}
				text[o++] = '\n';
				h.n = 0;
				scan_cuts(f.m, text, o, NULL, 0, &h);
				flen = form_text(f.val, f.len, 1 + (int)(pl % 3), form);
				assert_int_equal(h.n, 1);
				assert_int_equal(h.v[0].variant, SW_VAR_BASE64);
				/* where the stable part starts in the unwrapped encoding */
				at = (pl * 4 + 2) / 3;
				at += (at / widths[wi]) * (crlf ? 2 : 1);
				(void)flen;
				assert_int_equal(h.v[0].offset, at);
			}
	/* xxd -p: 30 bytes (60 hex digits) a line */
	for (pl = 0; pl < 70; pl++) {
		rng_fill(&r, blob, pl);
		memcpy(blob + pl, f.val, f.len);
		bl = pl + f.len + 3;
		rng_fill(&r, blob + pl + f.len, 3);
		el = sw_encode__hex(blob, bl, 0, enc);
		for (i = 0, o = 0; i < el; i++) {
			if (i && i % 60 == 0)
				text[o++] = '\n';
			text[o++] = enc[i];
		}
		text[o++] = '\n';
		n = o;
		h.n = 0;
		scan_cuts(f.m, text, n, NULL, 0, &h);
		assert_int_equal(h.n, 1);
		assert_int_equal(h.v[0].variant, SW_VAR_HEX);
		found = 2 * pl + (2 * pl) / 60;
		assert_int_equal(h.v[0].offset, found);
	}
	fx_free(&f);
	free(text);
}

/* Breaks with something other than the alphabet beside them join nothing; text with many
 * lines and wrapped noise find nothing. */
static void test_no_false_joins(void **state)
{
	char form[256], text[1024];
	struct rng r = {31};
	size_t flen, n, i, half;
	uint8_t *noise;
	struct hits h;
	struct fx f;

	(void)state;
	fx_build(&f, 37, GEN_BASE62, 32);
	flen = form_text(f.val, f.len, 7, form);
	half = flen / 2;
	/* a space or a quote beside the break: not one wrapped token */
	n = 0;
	memcpy(text + n, form, half);
	n += half;
	memcpy(text + n, " \n", 2);
	n += 2;
	memcpy(text + n, form + half, flen - half);
	n += flen - half;
	h.n = 0;
	scan_cuts(f.m, text, n, NULL, 0, &h);
	assert_int_equal(h.n, 0);
	n = 0;
	memcpy(text + n, form, half);
	n += half;
	memcpy(text + n, "\n\"", 2);
	n += 2;
	memcpy(text + n, form + half, flen - half);
	n += flen - half;
	h.n = 0;
	scan_cuts(f.m, text, n, NULL, 0, &h);
	assert_int_equal(h.n, 0);
	/* 1 MiB of wrapped base64 noise and of short lines */
	noise = malloc(1 << 20);
	assert_non_null(noise);
	for (i = 0; i < (1u << 20); i++)
		noise[i] = (i % 77 == 76) ? '\n' : (uint8_t)b64[rng_next(&r) % 64];
	h.n = 0;
	scan_cuts(f.m, (const char *)noise, 1 << 20, NULL, 0, &h);
	assert_int_equal(h.n, 0);
	for (i = 0; i < (1u << 20); i++)
		noise[i] = (rng_next(&r) % 9 == 0) ? '\n' : (uint8_t)b64[rng_next(&r) % 64];
	h.n = 0;
	scan_cuts(f.m, (const char *)noise, 1 << 20, NULL, 0, &h);
	assert_int_equal(h.n, 0);
	free(noise);
	fx_free(&f);
}

/* Lays out `x\nyz = "` + form + `";\nab cd\nef;` with a break (CRLF when crlf) before form
 * character i whenever (i + pre) % width == 0: a quoted string wrapped in code or JSON, the
 * alphabet run closed on both sides, among short words on both sides of breaks. */
static size_t layout_quoted(const char *form, size_t flen, size_t pre, size_t width, int crlf,
			    char *out, size_t *at)
{
	size_t i, o = 0;

	memcpy(out + o, "x\nyz = \"", 8);
	o += 8;
	*at = o;
	for (i = 0; i < flen; i++) {
		if (i && (i + pre) % width == 0) {
			if (crlf)
				out[o++] = '\r';
			out[o++] = '\n';
		}
		out[o++] = form[i];
	}
	memcpy(out + o, "\";\nab cd\nef;", 13);
	return o + 13;
}

/* A form closed on both sides by characters outside the alphabet is a run no longer than
 * itself: it is joined and found at every width, column and cut; the short words beside it,
 * breaks between them, give nothing (matcher_wrap.c does not join runs shorter than every
 * wrapped pattern). */
static void test_quoted_forms(void **state)
{
	static const int forms[] = {1, 2, 3, 4, 5, 6, 7, 8};
	char text[1024], form[256];
	size_t fi, w, pre, n, at, flen, cut, cases = 0;
	struct hits h;
	struct fx f;
	int crlf;

	(void)state;
	fx_build(&f, 41, GEN_BYTES, 24);
	for (fi = 0; fi < sizeof(forms) / sizeof(forms[0]); fi++) {
		flen = form_text(f.val, f.len, forms[fi], form);
		for (w = 1; w <= WIDTH_MAX; w++)
			for (pre = 0; pre < w && pre < flen; pre++)
				for (crlf = 0; crlf <= 1; crlf++) {
					n = layout_quoted(form, flen, pre, w, crlf, text, &at);
					h.n = 0;
					scan_cuts(f.m, text, n, NULL, 0, &h);
					check_one(&h, text, 0, at, form, flen,
						  kept_variant(&f, forms[fi]));
					cases++;
					if (w != 5 && w != 76)
						continue;
					for (cut = 1; cut < n; cut++) {
						h.n = 0;
						scan_cuts(f.m, text, n, &cut, 1, &h);
						check_one(&h, text, 0, at, form, flen,
							  kept_variant(&f, forms[fi]));
					}
				}
	}
	assert_true(cases > 10000);
	fx_free(&f);
}

/* A wrapped match still open at the end of a write is unsettled from its first byte: a trace
 * must not keep that part. */
static void test_unsettled(void **state)
{
	char form[256], text[1024];
	struct rng r = {41};
	struct sw_stream *s;
	size_t flen, n, at, cut;
	struct hits h = {0};
	struct fx f;

	(void)state;
	fx_build(&f, 43, GEN_BASE62, 36);
	flen = form_text(f.val, f.len, 1, form);
	n = layout(&r, form, flen, 50, 64, 0, 0, text, &at);
	for (cut = at + 1; cut < at + flen; cut++) {
		s = sw_stream__new();
		assert_non_null(s);
		assert_int_equal(sw_matcher__scan(f.m, s, text, cut, collect, &h), 0);
		assert_true(sw_stream__unsettled(s, f.m) <= at);
		sw_stream__free(s);
	}
	(void)n;
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_width_and_break),
		cmocka_unit_test(test_split_across_writes),
		cmocka_unit_test(test_real_encoding),
		cmocka_unit_test(test_no_false_joins),
		cmocka_unit_test(test_quoted_forms),
		cmocka_unit_test(test_unsettled),
		cmocka_unit_test(test_simd_agrees),
		cmocka_unit_test(test_tight_in_text),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
