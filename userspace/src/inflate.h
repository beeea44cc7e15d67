/* SPDX-License-Identifier: Apache-2.0 */
/* Inflation of deflate streams (zlib or gzip framing) as their bytes arrive, with zlib, under a
 * budget: output per stream and output over input. Knows nothing of where the bytes come from
 * (a file, a pipe, a TLS write): the caller feeds whatever it has. */
#ifndef SW_INFLATE_H
#define SW_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum sw_inflate_format {
	SW_INFLATE_ZLIB = 0, /* one zlib stream (a git object) */
	SW_INFLATE_GZIP,     /* gzip members, one after another */
};

enum sw_inflate_status {
	SW_INFLATE_MORE = 0, /* every byte given was taken: feed more */
	SW_INFLATE_END,	     /* the stream ended; bytes after it were not taken */
	SW_INFLATE_BOUND,    /* output reached budget max_out: stop */
	SW_INFLATE_RATIO,    /* output outgrew max_ratio times the input: stop */
	SW_INFLATE_ERROR,    /* not a valid stream */
};

/* Shared by every stream of one artifact (a pack's objects count together). Output may run
 * past max_out or the ratio by one piece (SW_INFLATE_PIECE) before the stop. */
struct sw_inflate_budget {
	uint64_t in, out;   /* taken so far */
	uint64_t max_out;   /* 0: no bound */
	uint32_t max_ratio; /* 0: no bound; checked once out passes SW_INFLATE_RATIO_FLOOR */
};

#define SW_INFLATE_PIECE       65536
#define SW_INFLATE_RATIO_FLOOR (1u << 20)

/* Output, in pieces of at most SW_INFLATE_PIECE bytes, valid during the call. */
typedef void (*sw_inflate_fn)(const void *data, size_t len, void *ctx);

struct sw_inflate;

/* NULL with errno set. */
struct sw_inflate *sw_inflate__new(enum sw_inflate_format fmt);
void sw_inflate__free(struct sw_inflate *z);
/* The next stream starts (after SW_INFLATE_END). Returns 0 or a negative errno. */
int sw_inflate__reset(struct sw_inflate *z);
/* Inflates in[0..len); *used: the bytes taken. Returns an enum sw_inflate_status; after a
 * stop (BOUND, RATIO, ERROR) it takes nothing more until a reset. */
int sw_inflate__feed(struct sw_inflate *z, struct sw_inflate_budget *b, const void *in, size_t len,
		     size_t *used, sw_inflate_fn fn, void *ctx);

#endif
