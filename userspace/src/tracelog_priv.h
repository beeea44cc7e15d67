/* SPDX-License-Identifier: Apache-2.0 */
/* The trace log's internals, shared by its segment listing and framing (tracelog.c), its writer
 * (tracelog_writer.c), its reader (tracelog_reader.c) and the reader's block parser
 * (tracelog_parse.c). Nothing else includes this. The on-disk format is described in
 * tracelog.c. */
#ifndef SW_TRACELOG_PRIV_H
#define SW_TRACELOG_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libdeflate.h>

#include "sprawl.pb-c.h"
#include "tracelog.h"
#include "tracerec.h"

static const uint8_t magic[4] = {'S', 'W', 'T', 'B'};
#define PRE_LEN 12u
/* A packed BlockHeader is at most 3 u32 varints of 6 bytes, 2 more and 2 u64 varints of 11. */
#define HDR_MAX	    64u
#define NAME_PREFIX "trace-"
#define NAME_SUFFIX ".swt"
/* trace-<16 digits>-<8 digits>.swt */
#define NAME_LEN (sizeof(NAME_PREFIX) - 1 + 16 + 1 + 8 + sizeof(NAME_SUFFIX) - 1)

static inline uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Decodes a varint of at most 5 bytes (lengths here are < 2^32) from p[0..avail). Returns the
 * bytes used, 0 if malformed or cut short. */
static inline size_t varint_get32(const uint8_t *p, size_t avail, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < avail && i < 5; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (v > UINT32_MAX)
				return 0;
			*out = (uint32_t)v;
			return i + 1;
		}
	}
	return 0;
}

/* A bump allocator for protobuf-c: what one event's unpack allocates comes from one buffer,
 * and is all released at once by the next reset. An event bigger than the buffer spills into
 * malloc'd chunks, and the buffer grows at the reset after it. */
struct arena_chunk {
	struct arena_chunk *next;
	uint64_t pad; /* keeps what follows 16-byte aligned */
};

struct arena {
	uint8_t *buf;
	size_t cap, used, want;
	struct arena_chunk *extra;
};

#define ARENA_MIN (64u << 10)

struct sw_tracelog_reader {
	int dirfd;  /* directory mode; -1 = one file */
	char *base; /* directory path or the file's name, for damage reports */
	char **names;
	size_t nnames, next_name;
	int single_fd; /* file mode: the fd not yet taken as the segment */

	int fd;	   /* current segment, -1 = none */
	char *seg; /* its name as reported */
	uint64_t size, off, block_off, block_len;

	uint8_t *cbuf; /* compressed block */
	size_t ccap;
	uint8_t *raw; /* inflated block */
	size_t rcap, rlen, rpos;
	uint32_t left; /* events of the block not yet returned */
	struct libdeflate_decompressor *zd;

	/* Events are unpacked into an arena reset per event: no malloc per field. */
	struct arena arena;
	ProtobufCAllocator alloc;
	struct sw_tracerec *tr; /* Event -> record */
	const uint8_t *rec;	/* the record last returned, its redactions */
	size_t rec_len, nred;
	const struct sw_redaction *red;
	uint32_t version; /* of a block in a format this reader does not read */

	sw_tracelog_damage_fn cb;
	void *cb_ctx;
	struct sw_tracelog_read_stats st;
};

/* tracelog.c */
int tl_grow(uint8_t **buf, size_t *cap, size_t need);
void tl_free_names(char **names, size_t n);
/* Lists the segment files of dirfd in name order. */
int tl_list_segments(int dirfd, int strict, char ***out, size_t *nout);
/* The wall-clock microseconds a segment's name starts with. */
uint64_t tl_name_us(const char *name);

/* tracelog_parse.c */
/* Reads up to n bytes at off. Returns the count (short only at end of file) or -errno. */
ssize_t tl_read_at(int fd, void *buf, size_t n, uint64_t off);
void tl_damage(struct sw_tracelog_reader *r, enum sw_tracelog_damage kind, uint64_t off,
	       uint64_t skipped, const char *why);
/* Reads the block at r->off. 1 = a block is ready, 0 = the segment ended, < 0 = error. */
int tl_load_block(struct sw_tracelog_reader *r);

#endif
