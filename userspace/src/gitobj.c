// SPDX-License-Identifier: Apache-2.0
/* See gitobj.h. The formats are git's (Documentation/gitformat-pack.txt); every length read
 * from the bytes is checked against what is there before it is used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gitobj.h"

static const char *const type_names[] = {
	[SW_GIT_COMMIT] = "commit",
	[SW_GIT_TREE] = "tree",
	[SW_GIT_BLOB] = "blob",
	[SW_GIT_TAG] = "tag",
};

const char *sw_gitobj__type_name(int type)
{
	if (type < SW_GIT_COMMIT || type > SW_GIT_TAG)
		return NULL;
	return type_names[type];
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A directory of two hex digits (loose objects' fan-out). */
static int fanout(const char *s, size_t n)
{
	return n == 2 && is_hex(s[0]) && is_hex(s[1]);
}

enum sw_git_place sw_gitobj__classify(const char *path, size_t len, size_t *gitdir_len)
{
	const char *o = NULL, *s, *end = path + len, *slash, *name;
	size_t i;

	*gitdir_len = 0;
	/* The last "/objects/" or "/refs/" whose parent is a gitdir. */
	for (i = 0; i + 9 <= len; i++) {
		if (!memcmp(path + i, "/objects/", 9))
			o = path + i;
		else if (!memcmp(path + i, "/refs/", 6) && i + 6 < len)
			o = path + i;
	}
	if (!o || o == path)
		return SW_GIT_NONE;
	*gitdir_len = o - path;
	/* A program that runs in its gitdir (receive-pack) names it "<gitdir>/.". */
	if (*gitdir_len > 2 && !memcmp(o - 2, "/.", 2))
		*gitdir_len -= 2;
	if (!memcmp(o, "/refs/", 6))
		return SW_GIT_REF;
	s = o + 9;
	/* A push's quarantine: objects/tmp_objdir-incoming-XXXXXX/ (receive-pack; older git:
	 * objects/incoming-XXXXXX/). */
	if ((end - s > 9 && !memcmp(s, "incoming-", 9)) ||
	    (end - s > 11 && !memcmp(s, "tmp_objdir-", 11))) {
		slash = memchr(s, '/', end - s);
		if (!slash)
			return SW_GIT_NONE;
		s = slash + 1;
	}
	slash = memchr(s, '/', end - s);
	if (!slash)
		return SW_GIT_NONE;
	name = slash + 1;
	if (name >= end || memchr(name, '/', end - name))
		return SW_GIT_NONE;
	if (fanout(s, slash - s))
		return SW_GIT_LOOSE;
	if (slash - s == 4 && !memcmp(s, "pack", 4) &&
	    ((end - name > 5 && !memcmp(end - 5, ".pack", 5)) ||
	     (end - name > 9 && !memcmp(name, "tmp_pack_", 9))))
		return SW_GIT_PACK;
	return SW_GIT_NONE;
}

size_t sw_gitobj__repo_len(const char *path, size_t gitdir_len)
{
	if (gitdir_len > 5 && !memcmp(path + gitdir_len - 5, "/.git", 5))
		return gitdir_len - 5;
	return gitdir_len;
}

static int type_of(const uint8_t *s, size_t n)
{
	int t;

	for (t = SW_GIT_COMMIT; t <= SW_GIT_TAG; t++)
		if (strlen(type_names[t]) == n && !memcmp(s, type_names[t], n))
			return t;
	return 0;
}

int sw_gitobj__loose_hdr(const uint8_t *p, size_t n, int *type, uint64_t *size)
{
	const uint8_t *sp, *nul;
	uint64_t v = 0;
	size_t lim = n < 32 ? n : 32, i;

	nul = memchr(p, 0, lim);
	if (!nul)
		return n >= 32 ? -EINVAL : 0;
	sp = memchr(p, ' ', nul - p);
	if (!sp || !(*type = type_of(p, sp - p)) || sp + 1 == nul)
		return -EINVAL;
	for (i = sp + 1 - p; p + i < nul; i++) {
		if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (p[i] - '0');
	}
	*size = v;
	return (int)(nul + 1 - p);
}

int sw_gitobj__pack_hdr(const uint8_t *p, size_t n, int *type, uint64_t *size, uint64_t *ofs,
			uint8_t base[SW_GIT_ID_BYTES])
{
	size_t i = 0;
	unsigned int shift = 4;
	uint64_t v;
	uint8_t c;

	if (!n)
		return 0;
	c = p[i++];
	*type = (c >> 4) & 7;
	v = c & 15;
	while (c & 0x80) {
		if (i >= n)
			return 0;
		if (shift > 57)
			return -EINVAL;
		c = p[i++];
		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	*size = v;
	*ofs = 0;
	switch (*type) {
	case SW_GIT_COMMIT:
	case SW_GIT_TREE:
	case SW_GIT_BLOB:
	case SW_GIT_TAG:
		return (int)i;
	case SW_GIT_OFS_DELTA:
		/* Big-endian base-128 with an offset of one per continuation (git's encoding). */
		if (i >= n)
			return 0;
		c = p[i++];
		v = c & 0x7f;
		while (c & 0x80) {
			if (i >= n)
				return 0;
			if (v > (UINT64_MAX >> 8))
				return -EINVAL;
			c = p[i++];
			v = ((v + 1) << 7) | (c & 0x7f);
		}
		*ofs = v;
		return (int)i;
	case SW_GIT_REF_DELTA:
		if (n - i < SW_GIT_ID_BYTES)
			return 0;
		memcpy(base, p + i, SW_GIT_ID_BYTES);
		return (int)(i + SW_GIT_ID_BYTES);
	default:
		return -EINVAL;
	}
}

/* A delta's size varint (little-endian base-128). */
static int delta_size(const uint8_t *d, size_t n, size_t *i, uint64_t *out)
{
	unsigned int shift = 0;
	uint64_t v = 0;
	uint8_t c;

	do {
		if (*i >= n || shift > 57)
			return -EINVAL;
		c = d[(*i)++];
		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*out = v;
	return 0;
}

int sw_gitobj__delta(const uint8_t *base, size_t blen, const uint8_t *d, size_t dlen, size_t max,
		     uint8_t **out, size_t *olen)
{
	uint64_t src, dst, off, len;
	size_t i = 0, o = 0;
	uint8_t *r, c;
	int k;

	*out = NULL;
	*olen = 0;
	if (delta_size(d, dlen, &i, &src) || delta_size(d, dlen, &i, &dst) || src != blen)
		return -EINVAL;
	if (dst > max)
		return -EFBIG;
	r = malloc(dst ? dst : 1);
	if (!r)
		return -ENOMEM;
	while (i < dlen) {
		c = d[i++];
		if (c & 0x80) { /* copy from the base */
			off = len = 0;
			for (k = 0; k < 4; k++)
				if (c & (1u << k)) {
					if (i >= dlen)
						goto bad;
					off |= (uint64_t)d[i++] << (8 * k);
				}
			for (k = 0; k < 3; k++)
				if (c & (0x10u << k)) {
					if (i >= dlen)
						goto bad;
					len |= (uint64_t)d[i++] << (8 * k);
				}
			if (!len)
				len = 0x10000;
			if (off > blen || len > blen - off || len > dst - o)
				goto bad;
			memcpy(r + o, base + off, len);
			o += len;
		} else if (c) { /* insert c literal bytes */
			if (c > dlen - i || c > dst - o)
				goto bad;
			memcpy(r + o, d + i, c);
			o += c;
			i += c;
		} else {
			goto bad; /* reserved */
		}
	}
	if (o != dst)
		goto bad;
	*out = r;
	*olen = o;
	return 0;
bad:
	free(r);
	return -EINVAL;
}

int sw_gitobj__tree(const uint8_t *p, size_t n, void (*fn)(const uint8_t *id, void *ctx), void *ctx)
{
	const uint8_t *nul;
	size_t i = 0;
	int count = 0;

	while (i < n) {
		nul = memchr(p + i, 0, n - i);
		if (!nul || (size_t)(p + n - (nul + 1)) < SW_GIT_ID_BYTES)
			return -EINVAL;
		fn(nul + 1, ctx);
		i = nul + 1 + SW_GIT_ID_BYTES - p;
		count++;
	}
	return count;
}

int sw_gitobj__parse_id(const char *hex, size_t n, uint8_t id[SW_GIT_ID_BYTES])
{
	size_t i;
	int hi, lo;

	if (n < 40)
		return -EINVAL;
	for (i = 0; i < SW_GIT_ID_BYTES; i++) {
		char a = hex[2 * i] | 0x20, b = hex[2 * i + 1] | 0x20;

		if (!is_hex(a) || !is_hex(b))
			return -EINVAL;
		hi = a <= '9' ? a - '0' : a - 'a' + 10;
		lo = b <= '9' ? b - '0' : b - 'a' + 10;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int sw_gitobj__commit_tree(const uint8_t *p, size_t n, uint8_t tree[SW_GIT_ID_BYTES])
{
	if (n < 45 || memcmp(p, "tree ", 5))
		return -EINVAL;
	return sw_gitobj__parse_id((const char *)p + 5, n - 5, tree);
}

void sw_gitobj__hex(const uint8_t id[SW_GIT_ID_BYTES], char out[SW_GIT_ID_HEX])
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SW_GIT_ID_BYTES; i++) {
		out[2 * i] = hx[id[i] >> 4];
		out[2 * i + 1] = hx[id[i] & 15];
	}
	out[40] = 0;
}

struct sw_gitid {
	EVP_MD_CTX *md;
};

struct sw_gitid *sw_gitid__new_raw(void)
{
	struct sw_gitid *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->md = EVP_MD_CTX_new();
	if (!g->md || EVP_DigestInit_ex(g->md, EVP_sha1(), NULL) != 1) {
		sw_gitid__free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

struct sw_gitid *sw_gitid__new(int type, uint64_t size)
{
	struct sw_gitid *g = sw_gitid__new_raw();
	char hdr[48];
	int n;

	if (!g)
		return NULL;
	n = snprintf(hdr, sizeof(hdr), "%s %llu", sw_gitobj__type_name(type) ?: "blob",
		     (unsigned long long)size);
	sw_gitid__update(g, hdr, (size_t)n + 1);
	return g;
}

void sw_gitid__update(struct sw_gitid *g, const void *p, size_t n)
{
	if (n)
		EVP_DigestUpdate(g->md, p, n);
}

void sw_gitid__final(struct sw_gitid *g, uint8_t id[SW_GIT_ID_BYTES])
{
	unsigned int len = 0;
	uint8_t md[EVP_MAX_MD_SIZE];

	EVP_DigestFinal_ex(g->md, md, &len);
	memcpy(id, md, SW_GIT_ID_BYTES);
}

void sw_gitid__free(struct sw_gitid *g)
{
	if (!g)
		return;
	EVP_MD_CTX_free(g->md);
	free(g);
}
