// SPDX-License-Identifier: Apache-2.0
/* See tlshello.h. RFC 8446 4.1.2 (ClientHello) and RFC 6066 3 (server_name). Every length is
 * checked against what is left before it is used. */
#include <string.h>

#include "tlshello.h"

#define EXT_SERVER_NAME 0
#define SNI_HOST_NAME	0

struct rd {
	const uint8_t *p;
	size_t left;
};

static int skip(struct rd *r, size_t n)
{
	if (r->left < n)
		return -1;
	r->p += n;
	r->left -= n;
	return 0;
}

static int u8(struct rd *r, size_t *v)
{
	if (r->left < 1)
		return -1;
	*v = r->p[0];
	return skip(r, 1);
}

static int u16(struct rd *r, size_t *v)
{
	if (r->left < 2)
		return -1;
	*v = (size_t)r->p[0] << 8 | r->p[1];
	return skip(r, 2);
}

static int u24(struct rd *r, size_t *v)
{
	if (r->left < 3)
		return -1;
	*v = (size_t)r->p[0] << 16 | (size_t)r->p[1] << 8 | r->p[2];
	return skip(r, 3);
}

/* A sub-reader over the next n bytes of r. */
static int sub(struct rd *r, size_t n, struct rd *out)
{
	if (r->left < n)
		return -1;
	out->p = r->p;
	out->left = n;
	return skip(r, n);
}

/* A host name's characters; '*' too: the trace's filler where a tracked secret was in the name
 * (a replay reads the name the live run showed). */
static int host_ok(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_' ||
		      s[i] == '*'))
			return 0;
	return n > 0;
}

static void server_name(struct rd *ext, char *out, size_t len)
{
	struct rd list, name;
	size_t n, type, nlen;

	if (u16(ext, &n) || sub(ext, n, &list))
		return;
	while (list.left) {
		if (u8(&list, &type) || u16(&list, &nlen) || sub(&list, nlen, &name))
			return;
		if (type == SNI_HOST_NAME && nlen < len && host_ok(name.p, nlen)) {
			memcpy(out, name.p, nlen);
			out[nlen] = 0;
			return;
		}
	}
}

int sw_tlshello__sni(const uint8_t *buf, size_t n, char *out, size_t len)
{
	struct rd r = {buf, n}, exts, ext;
	size_t v, type, hlen, elen;

	if (!len)
		return 0;
	out[0] = 0;
	/* record: handshake (22), version 3.x, length; handshake: client_hello (1), length */
	if (u8(&r, &type) || type != 22 || u8(&r, &v) || v != 3 || skip(&r, 1) || u16(&r, &v) ||
	    u8(&r, &type) || type != 1 || u24(&r, &hlen))
		return 0;
	if (r.left > hlen)
		r.left = hlen;
	/* version, random, session id, cipher suites, compression methods */
	if (skip(&r, 2 + 32) || u8(&r, &v) || skip(&r, v) || u16(&r, &v) || skip(&r, v) ||
	    u8(&r, &v) || skip(&r, v))
		return 0;
	if (!r.left)
		return 1; /* no extensions: a ClientHello without a name */
	if (u16(&r, &elen) || sub(&r, elen, &exts))
		return 0;
	while (exts.left) {
		if (u16(&exts, &type) || u16(&exts, &v) || sub(&exts, v, &ext))
			return 0;
		if (type == EXT_SERVER_NAME) {
			server_name(&ext, out, len);
			break;
		}
	}
	return 1;
}
