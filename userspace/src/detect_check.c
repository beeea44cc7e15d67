// SPDX-License-Identifier: Apache-2.0
/* Checks of a value a detector's regex matched: entropy, a keyword before it, a JWT's header. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "detect.h"
#include "detect_priv.h"

/* log2 without libm: exponent from the bits, mantissa by the atanh series (|z| <= 1/3, 16
 * terms: error far below what an entropy threshold needs). */
static double log2_approx(double x)
{
	union {
		double d;
		uint64_t u;
	} v = {.d = x};
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	double m, z, z2, t, sum = 0;
	int k;

	v.u = (v.u & ~(0x7ffull << 52)) | (1023ull << 52);
	m = v.d;
	z = (m - 1) / (m + 1);
	z2 = z * z;
	t = z;
	for (k = 1; k < 32; k += 2) {
		sum += t / k;
		t *= z2;
	}
	return e + 2 * sum * 1.4426950408889634;
}

double sw_detect__entropy(const void *p, size_t len)
{
	const uint8_t *s = p;
	uint32_t count[256] = {0};
	double h = 0, n = (double)len;
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		count[s[i]]++;
	for (i = 0; i < 256; i++)
		if (count[i])
			h -= count[i] / n * log2_approx(count[i] / n);
	return h;
}

int dx_fold_eq(const uint8_t *fold, const uint8_t *p, const char *lit, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (fold[p[i]] != (uint8_t)lit[i])
			return 0;
	return 1;
}

int dx_keyword_before(const struct sw_detect_index *ix, const struct sw_detector *d,
		      const uint8_t *data, size_t off)
{
	size_t from = off > d->keyword_window ? off - d->keyword_window : 0, i, k, kl;

	for (k = 0; k < d->nkeywords; k++) {
		kl = strlen(d->keywords[k]);
		for (i = from; i + kl <= off; i++)
			if (dx_fold_eq(ix->fold, data + i, d->keywords[k], kl))
				return 1;
	}
	return 0;
}

/* A JWT's header (before the first '.') must decode to a JSON object with an "alg" member. */
int dx_jwt_ok(const uint8_t *v, size_t len)
{
	unsigned char hdr[JWT_HEADER_MAX];
	const uint8_t *dot = memchr(v, '.', len);
	size_t n = 0, a = 0, b;
	int ok = 0;

	if (!dot || (size_t)(dot - v) > JWT_HEADER_MAX)
		return 0;
	if (sodium_base642bin(hdr, sizeof(hdr), (const char *)v, dot - v, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		goto out;
	while (a < n && isspace(hdr[a]))
		a++;
	b = n;
	while (b > a && isspace(hdr[b - 1]))
		b--;
	ok = b - a >= 2 && hdr[a] == '{' && hdr[b - 1] == '}' &&
	     memmem(hdr + a, b - a, "\"alg\"", 5) != NULL;
out:
	/* A header carries no secret, but it was part of a credential: wipe it anyway. */
	sodium_memzero(hdr, sizeof(hdr));
	return ok;
}
