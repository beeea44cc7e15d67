// SPDX-License-Identifier: Apache-2.0
/* See inflate.h. zlib does the inflating; this module only frames, bounds and hands out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "inflate.h"

struct sw_inflate {
	z_stream zs;
	enum sw_inflate_format fmt;
	int stopped;	  /* a stop status, returned again */
	int member_ended; /* gzip: a member ended at the end of the last input */
	unsigned char out[SW_INFLATE_PIECE];
};

static int window_bits(enum sw_inflate_format fmt)
{
	return fmt == SW_INFLATE_GZIP ? 16 + MAX_WBITS : MAX_WBITS;
}

struct sw_inflate *sw_inflate__new(enum sw_inflate_format fmt)
{
	struct sw_inflate *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->fmt = fmt;
	if (inflateInit2(&z->zs, window_bits(fmt)) != Z_OK) {
		free(z);
		errno = ENOMEM;
		return NULL;
	}
	return z;
}

void sw_inflate__free(struct sw_inflate *z)
{
	if (!z)
		return;
	inflateEnd(&z->zs);
	/* Inflated bytes may hold a secret. */
	sodium_memzero(z->out, sizeof(z->out));
	free(z);
}

int sw_inflate__reset(struct sw_inflate *z)
{
	z->stopped = 0;
	z->member_ended = 0;
	return inflateReset(&z->zs) == Z_OK ? 0 : -EINVAL;
}

static int over(const struct sw_inflate_budget *b)
{
	if (b->max_out && b->out >= b->max_out)
		return SW_INFLATE_BOUND;
	if (b->max_ratio && b->out > SW_INFLATE_RATIO_FLOOR &&
	    b->out > (uint64_t)b->max_ratio * b->in + SW_INFLATE_RATIO_FLOOR)
		return SW_INFLATE_RATIO;
	return 0;
}

int sw_inflate__feed(struct sw_inflate *z, struct sw_inflate_budget *b, const void *in, size_t len,
		     size_t *used, sw_inflate_fn fn, void *ctx)
{
	const unsigned char *p = in;
	int rc = SW_INFLATE_MORE, zr, stop;
	size_t have;

	*used = 0;
	if (z->stopped)
		return z->stopped;
	for (;;) {
		/* gzip: another member may follow the one that ended. */
		if (z->member_ended) {
			if (*used == len)
				break;
			if (p[*used] != 0x1f) {
				rc = SW_INFLATE_END;
				break;
			}
			inflateReset(&z->zs);
			z->member_ended = 0;
		}
		if ((stop = over(b))) {
			z->stopped = stop;
			return stop;
		}
		z->zs.next_in = (unsigned char *)p + *used;
		z->zs.avail_in = len - *used > (1u << 30) ? (1u << 30) : (uInt)(len - *used);
		z->zs.next_out = z->out;
		z->zs.avail_out = sizeof(z->out);
		zr = inflate(&z->zs, Z_NO_FLUSH);
		have = sizeof(z->out) - z->zs.avail_out;
		b->in += (size_t)(z->zs.next_in - (p + *used));
		*used = z->zs.next_in - p;
		b->out += have;
		if (have)
			fn(z->out, have, ctx);
		if (zr == Z_STREAM_END) {
			if (z->fmt != SW_INFLATE_GZIP)
				return SW_INFLATE_END;
			z->member_ended = 1;
			continue;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			z->stopped = SW_INFLATE_ERROR;
			return SW_INFLATE_ERROR;
		}
		/* No progress possible, or the input taken and the output drained. */
		if (zr == Z_BUF_ERROR || (*used == len && have < sizeof(z->out)))
			break;
	}
	if (rc == SW_INFLATE_MORE && (stop = over(b))) {
		z->stopped = stop;
		return stop;
	}
	return rc;
}
