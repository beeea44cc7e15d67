/* SPDX-License-Identifier: Apache-2.0 */
/* Unpacking what a compressed artifact holds, as its bytes arrive: a gzip file (its members'
 * content), a git loose object (one zlib stream: header, content) or a git pack (objects one
 * after another, each a zlib stream; deltas resolved against a base earlier in the same pack,
 * kept in a bounded cache). Content goes out through callbacks, object by object, with its
 * git id once it is known. The byte source does not matter (file writes, a read-back, a pipe
 * or TLS writes): the caller feeds the stream in order. Bounded: output per stream (all
 * objects together), output over input, cache bytes. */
#ifndef SW_UNPACK_H
#define SW_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "gitobj.h"
#include "inflate.h"

enum sw_unpack_kind {
	SW_UNPACK_GZIP = 1,
	SW_UNPACK_LOOSE,
	SW_UNPACK_PACK,
};

struct sw_unpack_limits {
	uint64_t max_out;   /* inflated bytes per stream (0: none) */
	uint32_t max_ratio; /* inflated over compressed (0: none) */
	uint64_t cache_max; /* bytes of a pack's objects kept as delta bases (and of one delta) */
};

/* One object (a gzip stream is one object of type 0). */
struct sw_unpack_obj {
	int type; /* enum sw_git_type; a resolved delta has its base's type; 0: gzip */
	uint64_t size;
	uint64_t offset; /* of its header in the pack */
	int has_id;
	uint8_t id[SW_GIT_ID_BYTES];
	/* At end: the whole content when it was kept (up to cache_max bytes), else NULL. */
	const uint8_t *content;
	size_t content_len;
};

struct sw_unpack_ops {
	void (*begin)(void *ctx, const struct sw_unpack_obj *o);
	void (*data)(void *ctx, const void *p, size_t n); /* the current object's next bytes */
	void (*end)(void *ctx, const struct sw_unpack_obj *o);
	/* A pack's delta o (at o->offset) whose base is not at hand: a REF_DELTA's base id
	 * (base_id; a thin pack's base in the receiver's object store), or an OFS_DELTA's base at
	 * pack offset base_ofs (base_id NULL) no longer cached. delta: its instructions, valid
	 * during the call. Return 0 when the caller takes it (it resolves it itself), else it is
	 * counted unresolved. NULL: every such delta is unresolved. */
	int (*missing)(void *ctx, const struct sw_unpack_obj *o, const uint8_t *base_id,
		       uint64_t base_ofs, const uint8_t *delta, size_t len);
};

/* Why a stream stopped being unpacked (besides its end). */
enum sw_unpack_stop {
	SW_UNPACK_GOING = 0,
	SW_UNPACK_BOUND = SW_INFLATE_BOUND,
	SW_UNPACK_RATIO = SW_INFLATE_RATIO,
	SW_UNPACK_ERROR = SW_INFLATE_ERROR,
	SW_UNPACK_DONE, /* the stream ended (a pack's last object, a loose object's end) */
};

struct sw_unpack;

/* NULL with errno set. */
struct sw_unpack *sw_unpack__new(enum sw_unpack_kind kind, const struct sw_unpack_limits *l);
void sw_unpack__free(struct sw_unpack *u);
/* The stream's next len bytes. Returns SW_UNPACK_GOING, or why it stopped: a bound, an error,
 * or DONE (said once each; later bytes are ignored). */
int sw_unpack__feed(struct sw_unpack *u, const void *data, size_t len,
		    const struct sw_unpack_ops *ops, void *ctx);
/* Deltas whose base was not in the cache (nor earlier in the pack) and that ops->missing did
 * not take, and deltas too large to resolve, since the last call (then zeroed). */
uint64_t sw_unpack__take_unresolved(struct sw_unpack *u);
/* Inflated bytes so far. */
uint64_t sw_unpack__out(const struct sw_unpack *u);

#endif
