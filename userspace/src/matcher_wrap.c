// SPDX-License-Identifier: Apache-2.0
/* Base64 and hex as tools print them: wrapped into lines (base64 at 76 columns, openssl at 64,
 * xxd -p at 60 hex digits; LF or CRLF), a secret's encoding cut by line breaks.
 *
 * A second, line-joined view of the stream is scanned with the same index, and only its base64
 * and hex matches that span a break are reported (the plain scan reports the rest). It stays
 * cheap because an encoded match holds nothing but alphabet characters and breaks: only the
 * alphabet run on either side of a break that has alphabet characters on both sides can be
 * part of one, and only its last and first (longest pattern - 1) characters. So text pays a
 * memchr for '\n' and a look at the bytes around each break; wrapped base64 or hex is scanned
 * a second time, which is where such matches are. The joined bytes are gathered in a buffer
 * and scanned in batches, with a map from joined offsets back to stream offsets, so a match is
 * reported at its stream offset with its length in the stream (breaks included): what a
 * redaction must cover. The joined stream carries over across writes like the plain one. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "matcher_priv.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define WRAP_BUF (64u << 10) /* joined bytes scanned per batch */

/* Joined offsets [s2, s2 + len) are stream offsets [raw, raw + len). */
struct piece {
	uint64_t s2, raw;
	uint64_t len;
};

struct sw_wrap {
	struct sw_stream *s2; /* the joined view's own stream: its offsets, its carry */
	uint64_t fed_end;     /* stream offset just past the last byte joined */
	int live;	      /* the joined run may continue at fed_end (or after a break) */
	int brk;	      /* break characters followed fed_end up to the end of the data */
	uint8_t *buf;	      /* joined bytes not scanned yet; only during a scan */
	size_t blen, bcap;
	struct piece *pc;
	size_t npc, cap;
};

struct wctx {
	const struct sw_matcher *m;
	struct sw_wrap *w;
	size_t want; /* the batch's first size: about what this data may add to the view */
	sw_match_fn cb;
	void *ctx;
};

/* The base64 (both alphabets, padding) and hex characters: a table, as the run ends are found
 * byte by byte. */
#define R1(c) [c] = 1
#define R10(c)                                                                                     \
	R1(c), R1(c + 1), R1(c + 2), R1(c + 3), R1(c + 4), R1(c + 5), R1(c + 6), R1(c + 7),        \
		R1(c + 8), R1(c + 9)
static const uint8_t run_tab[256] = {
	R10('0'), R10('A'), R10('A' + 10), R1('U'), R1('V'), R1('W'), R1('X'), R1('Y'),
	R1('Z'),  R10('a'), R10('a' + 10), R1('u'), R1('v'), R1('w'), R1('x'), R1('y'),
	R1('z'),  R1('+'),  R1('/'),	   R1('='), R1('-'), R1('_'),
};

static inline int is_run(uint8_t c)
{
	return run_tab[c];
}

static inline int is_brk(uint8_t c)
{
	return c == '\n' || c == '\r';
}

static int wrapped_variant(uint8_t v)
{
	return v == SW_VAR_BASE64 || v == SW_VAR_BASE64URL || v == SW_VAR_HEX ||
	       v == SW_VAR_HEX_UPPER;
}

/* The stream offset of joined offset o, or UINT64_MAX when no piece holds it. */
static uint64_t to_raw(const struct sw_wrap *w, uint64_t o)
{
	size_t i = w->npc;

	while (i--) {
		const struct piece *p = &w->pc[i];

		if (o >= p->s2 && o < p->s2 + p->len)
			return p->raw + (o - p->s2);
		if (o >= p->s2 + p->len)
			break;
	}
	return UINT64_MAX;
}

static int wrap_cb(const struct sw_match *j, void *ctx)
{
	struct wctx *c = ctx;
	struct sw_match m = *j;
	uint64_t start, last;

	if (!wrapped_variant(j->variant) || !j->len)
		return 0;
	start = to_raw(c->w, j->offset);
	last = to_raw(c->w, j->offset + j->len - 1);
	/* Unbroken: the plain scan has reported it. */
	if (start == UINT64_MAX || last == UINT64_MAX || last - start + 1 == j->len)
		return 0;
	m.offset = start;
	m.len = (uint32_t)(last - start + 1);
	return c->cb ? c->cb(&m, c->ctx) : 0;
}

static int flush(struct wctx *c)
{
	struct sw_wrap *w = c->w;
	int rc;

	if (!w->blen)
		return 0;
	rc = sw_matcher_scan_plain(c->m, w->s2, w->buf, w->blen, wrap_cb, c);
	sodium_memzero(w->buf, w->blen);
	w->blen = 0;
	return rc;
}

/* Pieces the joined stream can no longer reach (older than its carry) are dropped. */
static void prune(struct sw_wrap *w, uint64_t keep_from)
{
	size_t i = 0;

	while (i < w->npc && w->pc[i].s2 + w->pc[i].len <= keep_from)
		i++;
	if (i) {
		memmove(w->pc, w->pc + i, (w->npc - i) * sizeof(*w->pc));
		w->npc -= i;
	}
}

/* Only buf[0, blen) ever holds joined bytes not wiped yet: a flush wipes what it scanned. */
static void drop_buf(struct sw_wrap *w)
{
	if (w->buf) {
		sodium_memzero(w->buf, w->blen);
		free(w->buf);
	}
	w->buf = NULL;
	w->blen = w->bcap = 0;
}

static void restart(struct sw_wrap *w)
{
	sw_stream__reset(w->s2);
	drop_buf(w);
	w->npc = 0;
	w->live = 0;
	w->brk = 0;
}

/* Room for one more byte in the batch (grown up to WRAP_BUF, scanned when full). It starts at
 * the size the data may need: growing from 1 KiB copied and wiped ~2x the batch again
 * (wrapped base64 joins nearly every byte). */
static int buf_room(struct wctx *c)
{
	struct sw_wrap *w = c->w;
	size_t cap;
	uint8_t *nb;

	if (w->blen >= WRAP_BUF)
		return flush(c);
	if (w->blen < w->bcap)
		return 0;
	cap = w->bcap ? 2 * w->bcap : c->want < 1024 ? 1024 : c->want;
	if (cap > WRAP_BUF)
		cap = WRAP_BUF;
	nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	if (w->buf) {
		memcpy(nb, w->buf, w->blen);
		sodium_memzero(w->buf, w->blen);
		free(w->buf);
	}
	w->buf = nb;
	w->bcap = cap;
	return 0;
}

/* Joins data[a, b) (stream offsets base + a..) to the view: after what it holds when cont (the
 * gap is nothing or break characters), else as the start of a new run. */
static int feed(struct wctx *c, uint64_t base, const uint8_t *d, size_t a, size_t b, int cont)
{
	struct sw_wrap *w = c->w;
	uint64_t s2;
	struct piece *p;
	size_t n;
	int rc;

	/* A new run: after a byte no base64 or hex match can hold, so none spans the two (a
	 * scan per run would cost more than the runs). */
	if (!cont && w->s2->off + w->blen) {
		rc = buf_room(c);
		if (rc)
			return rc;
		w->buf[w->blen++] = '\n';
	}
	s2 = w->s2->off + w->blen;
	while (a < b) {
		if (w->npc == w->cap) {
			size_t cap = w->cap ? 2 * w->cap : 64;

			p = realloc(w->pc, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			w->pc = p;
			w->cap = cap;
		}
		rc = buf_room(c);
		if (rc)
			return rc;
		if (w->blen == 0)
			prune(w, w->s2->off > c->m->maxlen ? w->s2->off - c->m->maxlen : 0);
		s2 = w->s2->off + w->blen;
		p = w->npc ? &w->pc[w->npc - 1] : NULL;
		n = b - a < w->bcap - w->blen ? b - a : w->bcap - w->blen;
		if (p && p->s2 + p->len == s2 && p->raw + p->len == base + a)
			p->len += n;
		else
			w->pc[w->npc++] = (struct piece){.s2 = s2, .raw = base + a, .len = n};
		memcpy(w->buf + w->blen, d + a, n);
		w->blen += n;
		s2 += n;
		a += n;
	}
	w->fed_end = base + b;
	w->live = 1;
	w->brk = 0;
	return 0;
}

/* The alphabet run that ends at b, as far back as it can matter and not before lo (what was
 * handled), joined: continuing the view when it starts where the view ends. */
static int feed_back(struct wctx *c, uint64_t base, const uint8_t *d, size_t lo, size_t b,
		     size_t lim)
{
	struct sw_wrap *w = c->w;
	size_t stop = b > lo + lim ? b - lim : lo, a = b;

	if (w->live && !w->brk && w->fed_end > base + stop && w->fed_end <= base + b)
		stop = w->fed_end - base;
	while (a > stop && run_tab[d[a - 1]])
		a--;
	if (w->live && !w->brk && w->fed_end == base + a)
		return a < b ? feed(c, base, d, a, b, 1) : 0;
	return feed(c, base, d, a, b, 0);
}

#if defined(__SSE2__)
/* 16 bytes at a time: a mask of the alphabet characters among them. */
static inline unsigned int run_mask16(const uint8_t *p)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)p);
	const __m128i lo = _mm_or_si128(v, _mm_set1_epi8(0x20));
	/* unsigned ranges as signed compares: x - lo + 128 < 128 + n */
	__m128i al = _mm_cmplt_epi8(_mm_add_epi8(lo, _mm_set1_epi8((char)(128 - 'a'))),
				    _mm_set1_epi8((char)(-128 + 26)));
	__m128i dg = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(128 - '0'))),
				    _mm_set1_epi8((char)(-128 + 10)));
	__m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')),
					       _mm_cmpeq_epi8(v, _mm_set1_epi8('/'))),
				  _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('=')),
							    _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))),
					       _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));

	return (unsigned int)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(al, dg), sp));
}
#endif

/* The end of the alphabet run that starts at a, as far as it can matter. A base64 or hex match
 * holds nothing but its alphabet, so only the runs beside each break are looked at. */
#if SW_MATCHER_AVX512
static size_t run_end64(const uint8_t *d, size_t a, size_t end);
#endif

static size_t run_end(const uint8_t *d, size_t a, size_t len, size_t lim, int simd)
{
	size_t end = len - a < lim ? len : a + lim, f = a;

#if SW_MATCHER_AVX512
	if (simd) {
		f = run_end64(d, a, end);
		if (f < end && !run_tab[d[f]])
			return f;
	}
#else
	(void)simd;
#endif
#if defined(__SSE2__)
	for (; f + 16 <= end; f += 16) {
		unsigned int m = run_mask16(d + f);

		if (m != 0xffff)
			return f + (size_t)__builtin_ctz(~m);
	}
#endif
	while (f < end && run_tab[d[f]])
		f++;
	return f;
}

#if SW_MATCHER_AVX512
#define BW_TARGET __attribute__((target("avx512f,avx512bw")))

/* Alphabet characters and breaks among 64 bytes, by nibble tables: the high nibble picks a
 * bit, the low nibble's entry holds the bit of every high nibble it makes a member with
 * (0x0a 0x0d, "+-/", "0-9=", "A-Z_", "a-z"). */
static BW_TARGET inline uint64_t class64(const uint8_t *p, int brk)
{
	const __m512i lo_tab = _mm512_broadcast_i32x4(
		_mm_setr_epi8(0x54, 0x7c, 0x7c, 0x7c, 0x7c, 0x7c, 0x7c, 0x7c, 0x7c, 0x7c, 0x79,
			      0x2a, 0x28, 0x2f, 0x28, 0x3a));
	const __m512i hi_tab = _mm512_broadcast_i32x4(_mm_setr_epi8(
		brk ? 0x01 : 0, 0, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0, 0, 0, 0, 0, 0, 0, 0));
	const __m512i nib = _mm512_set1_epi8(0x0f);
	const __m512i v = _mm512_loadu_si512(p);
	__m512i l = _mm512_shuffle_epi8(lo_tab, _mm512_and_si512(v, nib));
	__m512i h = _mm512_shuffle_epi8(hi_tab, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));

	return _mm512_test_epi8_mask(l, h);
}

/* The '\n's of d[b, b + 64) with an alphabet character or a break on both sides: a superset of
 * the breaks wrap_scan() looks at, so text, whose lines mostly end or start otherwise, costs a
 * few instructions per 64 bytes. Needs d[b - 1] and d[b + 64]. */
static BW_TARGET NOINLINE uint64_t breaks64(const uint8_t *d, size_t b)
{
	uint64_t n = _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(d + b), _mm512_set1_epi8('\n'));

	if (n)
		n &= class64(d + b - 1, 1);
	return n ? n & class64(d + b + 1, 1) : 0;
}

/* Of the breaks n among d[b, b + 64), the ones inside a stretch of alphabet characters and
 * breaks that reaches wmin bytes, or that another character does not close within d[b - 64,
 * b + 128): a stretch shorter than every wrapped pattern cannot hold one (text's line ends),
 * and wrap_scan() would only walk its runs byte by byte to find that out. */
static BW_TARGET NOINLINE uint64_t long_breaks64(const uint8_t *d, size_t b, uint64_t n,
						 size_t wmin)
{
	uint64_t here = ~class64(d + b, 1), before, after, keep = 0, lo, hi;
	unsigned int i;
	long l, r;

	if (!here) /* wrapped lines: every break is kept */
		return n;
	before = ~class64(d + b - 64, 1);
	after = ~class64(d + b + 64, 1);
	for (; n; n &= n - 1) {
		i = (unsigned int)__builtin_ctzll(n);
		lo = here & ((1ull << i) - 1);
		hi = i == 63 ? 0 : here & (~0ull << (i + 1));
		if (lo)
			l = 63 - __builtin_clzll(lo);
		else if (before)
			l = (63 - __builtin_clzll(before)) - 64;
		else
			l = LONG_MIN;
		if (hi)
			r = __builtin_ctzll(hi);
		else if (after)
			r = 64 + __builtin_ctzll(after);
		else
			r = LONG_MAX;
		if (l == LONG_MIN || r == LONG_MAX || (size_t)(r - l - 1) >= wmin)
			keep |= 1ull << i;
	}
	return keep;
}

/* The first byte of d[a, end) that is not in the alphabet (end when none). */
static BW_TARGET NOINLINE size_t run_end64(const uint8_t *d, size_t a, size_t end)
{
	uint64_t m;

	for (; a + 64 <= end; a += 64) {
		m = ~class64(d + a, 0);
		if (m)
			return a + (size_t)__builtin_ctzll(m);
	}
	/* the rest, as the last 64 bytes before end (the run starts well inside d) */
	if (a < end && end >= 64) {
		m = ~class64(d + end - 64, 0) >> (a - (end - 64));
		return m ? a + (size_t)__builtin_ctzll(m) : end;
	}
	return a;
}
#endif

int sw_matcher_wrap_simd(int on)
{
#if SW_MATCHER_AVX512
	__builtin_cpu_init();
	return on && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
	(void)on;
	return 0;
#endif
}

/* The next '\n' at or after pos that may be a break worth a look (len when none): memchr
 * costs a call per line, which short lines feel, so 64 bytes are looked at per step and their
 * mask kept for the next call. */
struct nl_iter {
	const uint8_t *d;
	size_t len, blk, wmin;
	uint64_t mask;
	int simd;
};

static size_t next_nl(struct nl_iter *it, size_t pos)
{
	const uint8_t *q;
	uint64_t m;
	size_t b;

	for (b = pos & ~(size_t)63; b < it->len; b += 64) {
		if (b + 64 > it->len) {
			q = memchr(it->d + (b > pos ? b : pos), '\n',
				   it->len - (b > pos ? b : pos));
			return q ? (size_t)(q - it->d) : it->len;
		}
		if (b != it->blk) {
#if SW_MATCHER_AVX512
			if (it->simd && b > 0 && b + 65 <= it->len) {
				m = breaks64(it->d, b);
				if (m && b >= 64 && b + 128 <= it->len)
					m = long_breaks64(it->d, b, m, it->wmin);
			} else
#endif
			{
#if defined(__SSE2__)
				const __m128i nl = _mm_set1_epi8('\n');
				size_t k;

				m = 0;
				for (k = 0; k < 4; k++)
					m |= (uint64_t)(unsigned int)_mm_movemask_epi8(
						     _mm_cmpeq_epi8(
							     _mm_loadu_si128(
								     (const __m128i *)(it->d + b +
										       16 * k)),
							     nl))
					     << (16 * k);
#else
				size_t k;

				m = 0;
				for (k = 0; k < 64; k++)
					m |= (uint64_t)(it->d[b + k] == '\n') << k;
#endif
			}
			it->blk = b;
			it->mask = m;
		}
		m = it->mask;
		if (pos > b)
			m &= ~0ull << (pos - b);
		if (m)
			return b + (size_t)__builtin_ctzll(m);
	}
	return it->len;
}

/* 1 when the alphabet runs on both sides of the break d[b0, b1) are closed by a character
 * that is neither in the alphabet nor a break, and together are shorter than every wrapped
 * pattern (wmin): no match can span that break, so it is not joined (in text, most breaks
 * with the alphabet on both sides are words). *f is where the run after the break ends. Only
 * bytes of d from lo on are looked at. */
static int closed_short(const uint8_t *d, size_t len, size_t lo, size_t b0, size_t b1, size_t wmin,
			size_t *f)
{
	size_t a = b0, e = b1;

	while (a > lo && b0 - a < wmin && is_run(d[a - 1]))
		a--;
	if (a == 0 || is_run(d[a - 1]) || is_brk(d[a - 1]))
		return 0;
	while (e < len && (b0 - a) + (e - b1) < wmin && is_run(d[e]))
		e++;
	if (e == len || is_run(d[e]) || is_brk(d[e]) || (b0 - a) + (e - b1) >= wmin)
		return 0;
	*f = e;
	return 1;
}

static int wrap_scan(struct wctx *c, uint64_t base, const uint8_t *d, size_t len)
{
	struct sw_wrap *w = c->w;
	size_t lim = c->m->maxlen - 1, pos = 0, j, f, b0, b1;
	struct nl_iter it = {.d = d,
			     .len = len,
			     .blk = SIZE_MAX,
			     .wmin = c->m->wrap_minlen,
			     .simd = c->m->wrap_simd};
	int rc;

	/* The data may go on with the line the last data ended in, or after its break. */
	if (w->live && (w->fed_end == base || w->brk)) {
		for (j = 0; j < len && is_brk(d[j]); j++)
			;
		if (j == len) {
			w->brk = 1;
			return 0;
		}
		if (!is_run(d[j])) {
			w->live = 0;
			pos = j;
		} else {
			if (j)
				w->brk = 1;
			f = run_end(d, j, len, lim, it.simd);
			rc = feed(c, base, d, j, f, 1);
			if (rc)
				return rc;
			pos = f;
		}
	} else {
		w->live = 0;
	}
	while (pos < len && (b0 = next_nl(&it, pos)) < len) {
		b1 = b0 + 1;
		while (b0 > pos && d[b0 - 1] == '\r')
			b0--;
		while (b1 < len && is_brk(d[b1]))
			b1++;
		/* Only a break with the alphabet on both sides can be inside a match. */
		if (b0 == 0 || !is_run(d[b0 - 1]) || (b1 < len && !is_run(d[b1]))) {
			pos = b1;
			continue;
		}
		/* The run before the break joined up to it already (wrapped lines): it goes on. */
		if (pos < b0 || !w->live || w->brk || w->fed_end != base + b0) {
			if (closed_short(d, len, pos, b0, b1, c->m->wrap_minlen, &f)) {
				pos = f;
				continue;
			}
			rc = feed_back(c, base, d, pos, b0, lim);
			if (rc)
				return rc;
		}
		if (b1 == len) { /* what follows the break comes with the next data */
			w->brk = 1;
			return 0;
		}
		f = run_end(d, b1, len, lim, it.simd);
		rc = feed(c, base, d, b1, f, 1);
		if (rc)
			return rc;
		pos = f;
	}
	/* The end of the data, or it and the start of a break ('\r' of a CRLF), may meet a break
	 * or the rest of the line in the next data. */
	for (j = len; j > pos && is_brk(d[j - 1]); j--)
		;
	if (j && j > pos && is_run(d[j - 1])) {
		rc = feed_back(c, base, d, pos, j, lim);
		if (rc)
			return rc;
		w->brk = j < len;
		return 0;
	}
	if (j && j == pos && w->live && w->fed_end == base + j && is_run(d[j - 1])) {
		w->brk = j < len;
		return 0;
	}
	w->live = 0;
	return 0;
}

int sw_matcher_wrap_scan(const struct sw_matcher *m, struct sw_stream *s, uint64_t base,
			 const uint8_t *data, size_t len, sw_match_fn cb, void *ctx)
{
	struct wctx c = {.m = m, .cb = cb, .ctx = ctx, .want = len + 64};
	struct sw_wrap *w = s->wrap;
	int rc;

	if (!m->nwrapped || !len || m->maxlen < 2)
		return 0;
	if (!w) {
		/* Nothing to continue and no break: nothing to join (the common case in text). */
		if (!memchr(data, '\n', len) && !is_run(data[len - 1]) && data[len - 1] != '\r')
			return 0;
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		w->s2 = sw_stream__new();
		if (!w->s2) {
			free(w);
			return -ENOMEM;
		}
		s->wrap = w;
	}
	c.w = w;
	rc = wrap_scan(&c, base, data, len);
	if (!rc)
		rc = flush(&c);
	drop_buf(w);
	if (rc) { /* after an early stop the view's state is unknown: it starts over */
		restart(w);
		return rc;
	}
	prune(w, w->s2->off > m->maxlen ? w->s2->off - m->maxlen : 0);
	if (!w->live)
		restart(w);
	return 0;
}

uint64_t sw_matcher_wrap_unsettled(const struct sw_stream *s, const struct sw_matcher *m)
{
	const struct sw_wrap *w = s->wrap;
	uint64_t u;
	size_t i;

	if (!w || !w->live || !w->npc)
		return UINT64_MAX;
	u = sw_stream__unsettled(w->s2, m);
	for (i = 0; i < w->npc; i++)
		if (w->pc[i].s2 + w->pc[i].len > u)
			return w->pc[i].raw + (u > w->pc[i].s2 ? u - w->pc[i].s2 : 0);
	return UINT64_MAX;
}

void sw_matcher_wrap_reset(struct sw_stream *s)
{
	if (s->wrap)
		restart(s->wrap);
}

void sw_matcher_wrap_free(struct sw_stream *s)
{
	struct sw_wrap *w = s->wrap;

	if (!w)
		return;
	restart(w);
	sw_stream__free(w->s2);
	free(w->pc);
	free(w);
	s->wrap = NULL;
}
