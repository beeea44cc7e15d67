/* SPDX-License-Identifier: Apache-2.0 */
/* The artifact streams the pipeline is matching: per artifact, its display path and the
 * matcher's carry-over state, so a secret split across writes, chunks or iovecs is found.
 * Bounded: past SW_STREAMS_MAX the least recently used stream is forgotten. */
#ifndef SW_STREAMS_H
#define SW_STREAMS_H

#include <stddef.h>
#include <stdint.h>

#include "matcher.h"
#include "sprawl_events.h"

struct sw_httppush;

#define SW_STREAMS_MAX 8192
/* Compressed streams being inflated at once (each holds zlib's window and buffers, ~110 KiB);
 * past it a new one is not inflated and the pipeline counts a gap. */
#define SW_STREAMS_DEC_MAX 256
/* Of them, packs (each may keep up to twice policy inflate.cache_bytes of objects). */
#define SW_STREAMS_DEC_PACKS_MAX 4

/* What a data record continues: files and pipes by device and inode, sockets by process, fd
 * and inode, ttys by device. Binary and hashed without formatting: looked up per record.
 * kind is enum sw_art_kind, or SW_STREAM_RESCAN | kind for a whole-file read-back. */
#define SW_STREAM_RESCAN 0x100u
struct sw_stream_id {
	uint32_t kind;
	uint32_t tgid;
	uint64_t a, b;
};

/* A compressed artifact being inflated (pipeline_decode.c): the unpacker, the matcher's
 * carry-over in the object being inflated, and matches waiting for that object's end (a git
 * object's id is known only then). */
#define SW_DEC_PEND_MAX 16
struct sw_stream_dec {
	struct sw_unpack *u;
	struct sw_stream *s;
	struct sw_detect_stream *ds; /* the detectors' carry-over in that object */
	int kind;		     /* enum sw_unpack_kind */
	uint64_t serial;	     /* which pack (deltas waiting for a base name it) */
	uint32_t gitdir_len;	     /* the path's gitdir prefix; 0: not git */
	char *remote;		     /* a pack pushed over HTTP: the remote's URL (else NULL) */
	char ref[256];		     /* and the ref its first update names */
	uint32_t npend;
	struct sw_dec_pend {
		struct sw_match m;
		struct sw_hdr hdr; /* of the record it completed in */
		int learned;	   /* a detector found the secret there */
	} pend[SW_DEC_PEND_MAX];
};

struct sw_stream_ent {
	struct sw_stream_id key;
	char *path; /* display name, NULL until known */
	struct sw_stream *s;
	struct sw_detect_stream *ds; /* the detectors' carry-over; made on first use */
	struct sw_stream_dec *dec;   /* compressed: being inflated */
	int dec_decided;	     /* whether it is compressed was decided (at offset 0) */
	uint32_t gen;		     /* a file's inode generation at its last write */
	int gen_known;
	struct sw_httppush *http; /* a connection: HTTP requests followed for a git push */
	int http_decided;	  /* whether it is followed was decided (at offset 0) */
	uint64_t next_chunk;	  /* offset in the syscall the next chunk must have */
	int in_syscall;		  /* a chunk came without SW_F_LAST: more must follow */
	uint64_t used;
	struct sw_stream_ent *next;
};

struct sw_streams;

struct sw_streams *sw_streams__new(void);
void sw_streams__free(struct sw_streams *t);
/* The stream for key, made when new (evicting the least recently used past the bound). NULL
 * only when out of memory. */
struct sw_stream_ent *sw_streams__get(struct sw_streams *t, const struct sw_stream_id *key);
/* The stream for key if it exists. */
struct sw_stream_ent *sw_streams__find(struct sw_streams *t, const struct sw_stream_id *key);
/* Forgets the stream (its carry-over is wiped). */
void sw_streams__drop(struct sw_streams *t, const struct sw_stream_id *key);
/* Sets the display path (a copy of len bytes). Returns 0 or -ENOMEM. */
int sw_stream_ent__set_path(struct sw_stream_ent *e, const char *path, size_t len);
size_t sw_streams__count(const struct sw_streams *t);
/* Frees a decoder (NULL is fine); its carry-over and waiting matches are wiped. */
void sw_stream_dec__free(struct sw_stream_dec *d);
/* Gives e the decoder d (owned from then on). -EBUSY (d not taken) when SW_STREAMS_DEC_MAX
 * decoders (SW_STREAMS_DEC_PACKS_MAX for a pack) are attached already. */
int sw_streams__dec_attach(struct sw_streams *t, struct sw_stream_ent *e, struct sw_stream_dec *d);
/* Frees e's decoder, if any. */
void sw_streams__dec_detach(struct sw_streams *t, struct sw_stream_ent *e);

#endif
