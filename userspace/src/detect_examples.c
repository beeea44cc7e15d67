// SPDX-License-Identifier: Apache-2.0
/* Example templates of detectors.yaml: deterministic expansion (sw_detect__expand) and the
 * check that every detector finds its match examples and none of its nomatch ones. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "detect.h"

static uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const struct {
	const char *name, *set;
} classes[] = {
	{"alnum", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"},
	{"alpha", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
	{"upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"lower", "abcdefghijklmnopqrstuvwxyz"},
	{"digit", "0123456789"},
	{"hex", "0123456789abcdef"},
	{"HEX", "0123456789ABCDEF"},
	{"b64", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"},
	{"b64url", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"},
	{"b32", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"},
	{"lowalnum", "abcdefghijklmnopqrstuvwxyz0123456789"},
	{"upalnum", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
	{"pw", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%^*_+~"},
	{"bech32up", "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"},
};

struct out {
	char *p;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_rand(struct out *o, const char *set, size_t n, uint64_t *rng)
{
	size_t k = strlen(set), i;
	char c;

	for (i = 0; i < n; i++) {
		c = set[mix64(rng) % k];
		put(o, &c, 1);
	}
}

static void put_b64url(struct out *o, const char *json)
{
	char b[1024];

	sodium_bin2base64(b, sizeof(b), (const unsigned char *)json, strlen(json),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	put(o, b, strlen(b));
}

static void put_pem(struct out *o, const char *what, const char *label)
{
	/* Built from parts so that no source line reads like a key block. */
	put(o, "-----", 5);
	put(o, what, strlen(what));
	put(o, " ", 1);
	if (*label) {
		put(o, label, strlen(label));
		put(o, " ", 1);
	}
	put(o, "PRIVATE", 7);
	put(o, " KEY-----", 9);
}

int sw_detect__expand(const char *tmpl, uint64_t seed, char *buf, size_t cap, size_t *len,
		      size_t *vs, size_t *vl, char *err, size_t errsize)
{
	struct out o = {buf, 0, cap, 0};
	uint64_t rng = seed;
	const char *p = tmpl, *e, *colon;
	char name[32], arg[64], pl[64];
	size_t i, n, nl, lines, start = SIZE_MAX, end = SIZE_MAX;

	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	while (*p) {
		if (*p != '{') {
			put(&o, p++, 1);
			continue;
		}
		e = strchr(p, '}');
		if (!e || e - p - 1 >= (long)sizeof(name) + (long)sizeof(arg)) {
			snprintf(err, errsize, "unclosed or too long '{' at %zu",
				 (size_t)(p - tmpl));
			return -EINVAL;
		}
		colon = memchr(p, ':', e - p);
		nl = (size_t)((colon ? colon : e) - p - 1);
		if (nl >= sizeof(name)) {
			snprintf(err, errsize, "bad placeholder at %zu", (size_t)(p - tmpl));
			return -EINVAL;
		}
		memcpy(name, p + 1, nl);
		name[nl] = '\0';
		arg[0] = '\0';
		if (colon) {
			if ((size_t)(e - colon - 1) >= sizeof(arg)) {
				snprintf(err, errsize, "bad placeholder at %zu",
					 (size_t)(p - tmpl));
				return -EINVAL;
			}
			memcpy(arg, colon + 1, e - colon - 1);
			arg[e - colon - 1] = '\0';
		}
		n = strtoul(arg, NULL, 10);
		p = e + 1;
		if (!strcmp(name, "<")) {
			start = o.len;
			continue;
		}
		if (!strcmp(name, ">")) {
			end = o.len;
			continue;
		}
		if (!strcmp(name, "lb")) {
			put(&o, "{", 1);
			continue;
		}
		if (!strcmp(name, "rep")) {
			/* {rep:C:N}: the character C, N times */
			if (!arg[0] || arg[1] != ':') {
				snprintf(err, errsize, "rep needs {rep:C:N}");
				return -EINVAL;
			}
			n = strtoul(arg + 2, NULL, 10);
			for (i = 0; i < n && i < 4096; i++)
				put(&o, arg, 1);
			continue;
		}
		if (!strcmp(name, "uuid")) {
			put_rand(&o, "0123456789abcdef", 8, &rng);
			for (i = 0; i < 3; i++) {
				put(&o, "-", 1);
				put_rand(&o, "0123456789abcdef", 4, &rng);
			}
			put(&o, "-", 1);
			put_rand(&o, "0123456789abcdef", 12, &rng);
			continue;
		}
		if (!strcmp(name, "jwt")) {
			put_b64url(&o, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
			put(&o, ".", 1);
			snprintf(pl, sizeof(pl), "{\"sub\":\"%llu\",\"iat\":%llu}",
				 (unsigned long long)(mix64(&rng) % 1000000000),
				 (unsigned long long)(1600000000 + mix64(&rng) % 100000000));
			put_b64url(&o, pl);
			put(&o, ".", 1);
			put_rand(&o, classes[8].set, 43, &rng);
			continue;
		}
		if (!strcmp(name, "pembegin") || !strcmp(name, "pemend")) {
			put_pem(&o, name[3] == 'b' ? "BEGIN" : "END", arg);
			continue;
		}
		if (!strcmp(name, "pembody")) {
			/* {pembody:N}: N lines of 64 base64 characters, the last one short */
			lines = n ? n : 1;
			for (i = 0; i < lines && i < 64; i++) {
				if (i)
					put(&o, "\n", 1);
				put_rand(&o, classes[7].set, i + 1 == lines ? 44 : 64, &rng);
			}
			put(&o, "==", 2);
			continue;
		}
		for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
			if (!strcmp(name, classes[i].name))
				break;
		if (i == sizeof(classes) / sizeof(classes[0]) || !n || n > 4096) {
			snprintf(err, errsize, "unknown placeholder '{%s%s%s}'", name,
				 colon ? ":" : "", arg);
			return -EINVAL;
		}
		put_rand(&o, classes[i].set, n, &rng);
	}
	if (o.full) {
		snprintf(err, errsize, "expands to more than %zu bytes", cap - 1);
		return -ENOSPC;
	}
	if ((start == SIZE_MAX) != (end == SIZE_MAX) || (start != SIZE_MAX && end < start)) {
		snprintf(err, errsize, "'{<}' and '{>}' must come in this order, both or neither");
		return -EINVAL;
	}
	*len = o.len;
	*vs = start == SIZE_MAX ? 0 : start;
	*vl = start == SIZE_MAX ? o.len : end - start;
	return 0;
}

struct ex_ctx {
	const struct sw_detector *d;
	uint64_t off, len;
	int exact, any;
};

static int ex_hit(const struct sw_detect_hit *h, void *ctx)
{
	struct ex_ctx *c = ctx;

	if (h->rule != c->d)
		return 0;
	c->any = 1;
	if (h->offset == c->off && h->len == c->len)
		c->exact = 1;
	return 0;
}

/* The text as one write, and as two writes split inside the value: both must find it. */
static int ex_scan(const struct sw_rules *r, const char *t, size_t n, size_t split,
		   struct ex_ctx *c)
{
	struct sw_detect_stream *st;
	int rc;

	if (!split)
		return sw_detect__scan(r, t, n, ex_hit, c);
	st = sw_detect__stream_new(r);
	if (!st)
		return -errno;
	rc = sw_detect__scan_stream(r, st, t, split, ex_hit, c);
	if (!rc)
		rc = sw_detect__scan_stream(r, st, t + split, n - split, ex_hit, c);
	sw_detect__stream_free(st);
	return rc;
}

int sw_detect__check_examples(const struct sw_rules *r, size_t i, uint64_t seed, char *msg,
			      size_t size)
{
	const struct sw_detector *dets, *d;
	char *buf, err[128];
	size_t ndet, k, len, vs, vl, round, split;
	struct ex_ctx c;
	int rc = 0;

	dets = sw_rules__detectors(r, &ndet);
	if (i >= ndet)
		return -EINVAL;
	d = &dets[i];
	buf = malloc(SW_DETECT_EXAMPLE_MAX);
	if (!buf)
		return -ENOMEM;
	for (k = 0; k < d->nmatch + d->nnomatch && !rc; k++) {
		const char *t = k < d->nmatch ? d->match[k] : d->nomatch[k - d->nmatch];
		int positive = k < d->nmatch;

		for (round = 0; round < 2 && !rc; round++) {
			err[0] = '\0';
			rc = sw_detect__expand(
				t, seed ^ (0x100000001b3ull * (k + 1)) ^ (round << 32), buf,
				SW_DETECT_EXAMPLE_MAX, &len, &vs, &vl, err, sizeof(err));
			if (rc) {
				snprintf(msg, size, "detector '%s' %s example %zu: %s", d->id,
					 positive ? "match" : "nomatch",
					 positive ? k + 1 : k - d->nmatch + 1, err);
				break;
			}
			split = round && positive && vl > 1 ? vs + vl / 2 : 0;
			c = (struct ex_ctx){d, vs, vl, 0, 0};
			rc = ex_scan(r, buf, len, split, &c);
			if (rc < 0 && rc != -ERANGE)
				break;
			rc = 0;
			if (positive && !c.exact) {
				snprintf(msg, size, "detector '%s' match example %zu (%s): %s%s",
					 d->id, k + 1,
					 split ? "split across two writes" : "one write",
					 c.any ? "found, but not the marked value" : "not found",
					 " (the example is generated: nothing is printed)");
				rc = -EINVAL;
			} else if (!positive && c.any) {
				snprintf(msg, size, "detector '%s' nomatch example %zu: matched",
					 d->id, k - d->nmatch + 1);
				rc = -EINVAL;
			}
		}
	}
	sodium_memzero(buf, SW_DETECT_EXAMPLE_MAX);
	free(buf);
	return rc;
}
