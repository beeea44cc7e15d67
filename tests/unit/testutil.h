/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the fingerprint/matcher/secretset unit tests: a seeded PRNG and generators
 * of secret-like values. Every secret is generated at run time, none is written in the tree. */
#ifndef SW_TESTUTIL_H
#define SW_TESTUTIL_H

#include <stdint.h>
#include <string.h>

#include "encode.h"
#include "fingerprint.h"

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline size_t rng_range(struct rng *r, size_t lo, size_t hi) /* inclusive */
{
	return lo + (size_t)(rng_next(r) % (hi - lo + 1));
}

static inline void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	uint64_t x;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		x = rng_next(r);
		memcpy(p + i, &x, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)rng_next(r);
}

enum gen_kind { GEN_BYTES, GEN_BASE62, GEN_HEX, GEN_PREFIXED, GEN__COUNT };

/* Fills v with a secret-like value of length len: random bytes, base62, hex, or a vendor-style
 * prefix followed by base62. */
static inline void gen_secret(struct rng *r, enum gen_kind kind, uint8_t *v, size_t len)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static const char hx[] = "0123456789abcdef";
	static const char *const prefixes[] = {"sk-", "ghp_", "xoxb-", "AKIA", "glpat-", "tok_"};
	size_t i = 0, pl;
	const char *pf;

	switch (kind) {
	case GEN_BYTES:
		rng_fill(r, v, len);
		return;
	case GEN_HEX:
		for (i = 0; i < len; i++)
			v[i] = (uint8_t)hx[rng_next(r) % 16];
		return;
	case GEN_PREFIXED:
		pf = prefixes[rng_next(r) % (sizeof(prefixes) / sizeof(prefixes[0]))];
		pl = strlen(pf);
		if (pl < len) {
			memcpy(v, pf, pl);
			i = pl;
		}
		/* fall through */
	default:
		for (; i < len; i++)
			v[i] = (uint8_t)b62[rng_next(r) % 62];
		return;
	}
}

/* Fixed, seed-derived key for deterministic tests. */
static inline void test_key(struct sw_key *k, uint64_t seed)
{
	struct rng r = {seed};

	memset(k, 0, sizeof(*k));
	rng_fill(&r, k->bytes, sizeof(k->bytes));
	sw_key__derive(k);
}

/* The encoded form of variant index vi (0 raw, 1-3 base64 aligned 0-2, 4-6 base64url aligned
 * 0-2, 7 hex, 8 HEX, 9 percent, 10 json) as the fingerprint module expands it. */
#define N_FORMS 11
static inline size_t form_text(const uint8_t *v, size_t n, int vi, char *out)
{
	if (vi == 0) {
		memcpy(out, v, n);
		return n;
	}
	if (vi <= 3)
		return sw_encode__base64_stable(v, n, (unsigned int)(vi - 1), 0, out);
	if (vi <= 6)
		return sw_encode__base64_stable(v, n, (unsigned int)(vi - 4), 1, out);
	if (vi == 7)
		return sw_encode__hex(v, n, 0, out);
	if (vi == 8)
		return sw_encode__hex(v, n, 1, out);
	if (vi == 9)
		return sw_encode__percent(v, n, out);
	return sw_encode__json(v, n, out);
}

static inline enum sw_variant form_variant(int vi)
{
	static const enum sw_variant map[N_FORMS] = {
		SW_VAR_RAW,	  SW_VAR_BASE64,    SW_VAR_BASE64,    SW_VAR_BASE64,
		SW_VAR_BASE64URL, SW_VAR_BASE64URL, SW_VAR_BASE64URL, SW_VAR_HEX,
		SW_VAR_HEX_UPPER, SW_VAR_PERCENT,   SW_VAR_JSON,
	};
	return map[vi];
}

#endif
