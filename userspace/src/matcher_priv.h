/* SPDX-License-Identifier: Apache-2.0 */
/* The matcher's internals, shared by its index builder (matcher.c) and its scan loops
 * (matcher_scan.c). Nothing else includes this. */
#ifndef SW_MATCHER_PRIV_H
#define SW_MATCHER_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "matcher.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SW_MATCHER_AVX512 1
#else
#define SW_MATCHER_AVX512 0
#endif

#define BUCKET_SLOTS   16
#define TABLE_LOAD_PCT 85
#ifndef BLOOM_BITS_PER_ENTRY
#define BLOOM_BITS_PER_ENTRY 16
#endif
#define BLOOM_MIN_WORDS 64
#ifndef BLOOM_MAX_BYTES
/* 16 bits per entry keeps the filter in the 2 MiB L2 up to ~10,000 secrets; past that a larger
 * filter in L3 beats a saturated one in L2 (measured: 100,000 secrets, 2 MiB: 0.2-0.4 GB/s;
 * 8 MiB: 1.1-1.3 GB/s). */
#define BLOOM_MAX_BYTES (8u << 20)
#endif
#define REF_BITS_MAX   28 /* keeps a tag of at least 4 bits in each slot */
#define CACHE_LINE     64
#define PAT_LEN_MAX    65535u		     /* struct mpat.len */
#define HASH_CMP_BYTES 16		     /* of the 32-byte full hash, kept in memory */
#define TABLE_MIX      0x9e3779b97f4a7c15ull /* decorrelates table bits from Bloom bits */

#if defined(__GNUC__)
#define likely(x)     __builtin_expect(!!(x), 1)
#define unlikely(x)   __builtin_expect(!!(x), 0)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define NOINLINE      __attribute__((noinline))
#else
#define likely(x)     (x)
#define unlikely(x)   (x)
#define ALWAYS_INLINE inline
#define NOINLINE
#endif

struct sw_matcher;
struct scan;
typedef int (*scan_fn)(const struct sw_matcher *m, struct scan *sc, size_t i0, size_t last);

struct mpat {
	uint8_t hash[HASH_CMP_BYTES];
	uint32_t secret;
	uint16_t len;
	uint8_t variant;
	uint8_t pad;
};

struct sw_matcher {
	uint64_t k0, k1;
	uint8_t key[SW_KEY_BYTES];
	size_t stride, maxlen;
	size_t npat, patcap; /* patterns, and room for more (sw_matcher__add) */
	struct mpat *pat;
	uint64_t *bloom;
	unsigned int bloom_shift;
	size_t bloom_words;
	uint32_t *table;
	uint32_t nbuckets;
	unsigned int refbits, tagshift;
	uint32_t refmask, listflag;
	uint32_t *post; /* shared windows: [count, ref, ref, ...] per list */
	size_t npost;
	size_t memory;
	size_t nwrapped;    /* base64 and hex patterns: the ones looked for across line breaks */
	size_t wrap_minlen; /* the shortest of them (SIZE_MAX when none) */
	int wrap_simd;	    /* matcher_wrap.c may use AVX-512BW to find the breaks worth a look */
	scan_fn scan;	    /* data loop for this stride and CPU */
};

/* Build-time posting lists of windows shared by several (pattern, j): e.g. the hex form of a
 * common token prefix. One slot per distinct (bucket walk, tag) keeps clusters short. The
 * lists are kept as (list, ref) pairs in insertion order, one array for all of them, and laid
 * out list by list at the end: a vector per list cost ~50 bytes a list in malloc and slack
 * (16 MiB of a 110,000-secret build). */
struct lref {
	uint32_t list, ref;
};

struct build {
	uint32_t *cnt; /* refs per list */
	size_t n, cap; /* lists */
	struct lref *pr;
	size_t npr, prcap;
};

struct sw_stream {
	uint64_t off;  /* absolute offset of the next byte */
	uint64_t pend; /* earliest sample with an open candidate; UINT64_MAX: none */
	const struct sw_matcher *last; /* matcher that computed pend */
	uint8_t *carry;
	size_t clen, ccap;
	struct sw_wrap *wrap; /* the line-joined view (matcher_wrap.c); made on first use */
};

/* One scan's view: carry [bufstart, old_off) followed by data [old_off, bufend). */
struct scan {
	const uint8_t *carry;
	const uint8_t *data;
	uint64_t bufstart, old_off, bufend;
	uint64_t pend;
	sw_match_fn cb;
	void *ctx;
};

/* 4 bits rather than 3: past 10,000 secrets the filter is capped (BLOOM_MAX_BYTES) and fills up,
 * and each false positive costs a window-table miss in L3. Measured at 100,000 secrets: 0.5-0.8%
 * of samples passed with 3 bits, 0.33% with 4, and the scan ran 1.2-1.25x faster; unchanged at
 * 10,000. The bits come from the low 24 bits of h, the word index from its top bits. */
static ALWAYS_INLINE uint64_t bloom_mask(uint64_t h)
{
	return (1ull << (h & 63)) | (1ull << ((h >> 6) & 63)) | (1ull << ((h >> 12) & 63)) |
	       (1ull << ((h >> 18) & 63));
}

static ALWAYS_INLINE void table_pos(const struct sw_matcher *m, uint64_t h, uint32_t *bucket,
				    uint32_t *tag)
{
	uint64_t t = h * TABLE_MIX;

	t ^= t >> 32;
	*bucket = (uint32_t)(((t & 0xffffffffull) * m->nbuckets) >> 32);
	*tag = (uint32_t)(t >> m->tagshift);
}

/* The data loop for a stride on this CPU (matcher_scan.c). */
scan_fn sw_matcher_pick_scan(size_t stride, int simd);
/* One stream's scan of data as it is, no line joining (matcher_scan.c). */
int sw_matcher_scan_plain(const struct sw_matcher *m, struct sw_stream *s, const void *data,
			  size_t len, sw_match_fn cb, void *ctx);

/* matcher_wrap.c: base64 and hex wrapped into lines, matched across the line breaks. data are
 * the bytes at stream offset base that sw_matcher_scan_plain just scanned. */
int sw_matcher_wrap_scan(const struct sw_matcher *m, struct sw_stream *s, uint64_t base,
			 const uint8_t *data, size_t len, sw_match_fn cb, void *ctx);
/* The earliest stream offset a wrapped match still open may start at; UINT64_MAX: none. */
uint64_t sw_matcher_wrap_unsettled(const struct sw_stream *s, const struct sw_matcher *m);
void sw_matcher_wrap_reset(struct sw_stream *s);
int sw_matcher_wrap_simd(int on); /* whether the AVX-512BW loop can be used (on = 1) */
void sw_matcher_wrap_free(struct sw_stream *s);

#endif
