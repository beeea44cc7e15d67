/* SPDX-License-Identifier: Apache-2.0 */
/* The trace log: kernel records, redacted of known secrets, kept on disk for replay.
 *
 * A trace directory holds segment files named trace-<unix-us, 16 digits>-<seq, 8 digits>.swt,
 * so name order is time order. A segment is a sequence of blocks; a block is a 12-byte preamble
 * ("SWTB", u32 LE header length, u32 LE crc32 of the header), a protobuf BlockHeader, and
 * compressed_length bytes of zlib data holding `events` length-delimited protobuf Events.
 * Neither side is thread-safe; use one object per thread. */
#ifndef SW_TRACELOG_H
#define SW_TRACELOG_H

#include <stddef.h>
#include <stdint.h>

/* Format 2: typed Events (proto/sprawl.proto); 1 held the C record as bytes. */
#define SW_TRACELOG_VERSION		  2
#define SW_TRACELOG_SEGMENT_BYTES_DEFAULT (64ull << 20)
#define SW_TRACELOG_SEGMENTS_DEFAULT	  16u
/* A segment is closed after a block once it has been open this long. */
#define SW_TRACELOG_SEGMENT_SPAN_US (3600ull * 1000000)
/* How often flush() applies retention when no segment rotates. */
#define SW_TRACELOG_PRUNE_US (60ull * 1000000)
/* A state dir's trace log (the daemon records there unless told otherwise). */
#define SW_TRACELOG_SUBDIR		"trace"
#define SW_TRACELOG_BLOCK_BYTES_DEFAULT (256u << 10)
/* A block whose raw (uncompressed) length exceeds this is corrupt; block_bytes may not. */
#define SW_TRACELOG_BLOCK_RAW_MAX (64u << 20)
/* Largest record append() takes (kernel records are ~20 KiB). */
/* Raw bytes compressed per second of record time at most; past it, blocks are stored (still
 * zlib streams) for the rest of that second. Compressing source text costs ~6 ns a byte here
 * (libdeflate level 1, 169 MB/s), storing ~0.3 (a copy, the zlib Adler-32 and the block's
 * CRC-32): the budget is a fixed cost per second of a flood, at 2 MiB ~12 ms of CPU. At 48 MiB a
 * 200 MB/s writer spent 60-70% of the daemon's CPU here; at 8 MiB still a third of it on source
 * text (perf), while the trace of such a flood shrank by 3% for it. An ordinary session (well
 * under 2 MiB a second) stays compressed; a flood makes its segments bigger (rotated sooner). */
#define SW_TRACELOG_COMPRESS_PER_SEC (2u << 20)
#define SW_TRACELOG_RECORD_MAX	     (1u << 20)
/* Most redactions one record may carry. */
#define SW_TRACELOG_REDACTIONS_MAX 65536u
/* Most segment files a reader takes from one directory. */
#define SW_TRACELOG_DIR_FILES_MAX 100000u
/* The byte a redacted span is filled with. */
#define SW_TRACELOG_FILLER '*'

struct sw_tracelog_opts {
	const char *dir;	    /* created 0700 if missing (one level) */
	uint64_t max_segment_bytes; /* 0 = default; a segment ends after the block crossing it */
	uint32_t max_segments;	    /* 0 = default; the oldest beyond it are deleted */
	uint64_t max_total_bytes;   /* 0 = no bound; the oldest segments go until all fit */
	uint64_t max_age_s;	    /* 0 = no bound; segments whose records are all older go */
	uint32_t block_bytes;	    /* 0 = default; raw bytes buffered before a block is written */
};

/* A span of a record that matched a tracked secret. */
struct sw_redaction {
	uint32_t offset, length;
	uint8_t secret_id[8]; /* SW_SECRET_ID_BYTES */
	uint32_t variant;     /* enum sw_variant */
};

struct sw_tracelog_stats {
	uint64_t events, blocks, bytes_raw, bytes_compressed, segments_rotated;
	uint64_t events_dropped;   /* lost in blocks whose write failed */
	uint64_t segments_deleted; /* oldest segments removed to stay within max_segments */
};

struct sw_tracelog_writer;

/* Opens a writer on opts->dir. Nothing is written before the first block; every writer starts
 * a new segment (it never appends after what may be a torn tail). Existing segments count
 * toward max_segments. NULL + errno on failure (EINVAL for bad options). */
struct sw_tracelog_writer *sw_tracelog_writer__new(const struct sw_tracelog_opts *o);
/* Buffers one record (a C record of bpf/sprawl_events.h, valid for sw_event__decode, else
 * -EBADMSG; ktime: its hdr.ktime, which orders the block index), stored as a typed Event. The spans
 * in r[0..nr) are replaced by SW_TRACELOG_FILLER bytes while the record is copied in, so the writer
 * never holds the plaintext of a span; the caller must pass the part of a match that falls in this
 * record when the match straddles records. Spans may overlap. A span outside the record fails the
 * append with -EINVAL and stores nothing. May write a block (block_bytes reached); returns 0 or a
 * negative errno (the record is then not stored if the error is about it, or it was buffered and
 * the block that failed was dropped: see stats.events_dropped). */
int sw_tracelog_writer__append(struct sw_tracelog_writer *w, const void *rec, size_t len,
			       uint64_t ktime, const struct sw_redaction *r, size_t nr);
/* Writes buffered events as a block and fsyncs the segment; returns when that is done, with the
 * first error of the writer thread since the last call that returned one (0 when none). */
int sw_tracelog_writer__flush(struct sw_tracelog_writer *w);
/* The same, but only asks: the writer thread writes and fsyncs after the blocks before it. */
int sw_tracelog_writer__flush_soon(struct sw_tracelog_writer *w);
/* What the writer thread has done so far (flush first for all that was appended). */
void sw_tracelog_writer__stats(struct sw_tracelog_writer *w, struct sw_tracelog_stats *out);
/* Flushes (errors are lost: call flush first to see them), closes and frees; takes NULL. */
void sw_tracelog_writer__free(struct sw_tracelog_writer *w);

enum sw_tracelog_damage {
	SW_TRACELOG_TORN = 1,	 /* incomplete block at the end of a segment (crash) */
	SW_TRACELOG_CORRUPT = 2, /* bad block: skipped, reading resumed at the next magic */
};

/* Called once per damaged block: segment path, byte offset of the block in it, bytes skipped,
 * and a short reason ("bad header crc", ...) for the caller to report. */
typedef void (*sw_tracelog_damage_fn)(void *ctx, enum sw_tracelog_damage kind, const char *segment,
				      uint64_t offset, uint64_t skipped, const char *why);

struct sw_tracelog_read_stats {
	uint64_t events, blocks, torn_blocks, corrupt_blocks, skipped_bytes, segments;
};

struct sw_tracelog_reader;

/* Reads one segment file, or every trace-*.swt file of a directory in name order (the others
 * are ignored). A regular file that does not start with a block is refused: NULL, errno
 * EBADMSG. An empty directory is an empty trace. NULL + errno on failure. */
struct sw_tracelog_reader *sw_tracelog_reader__open(const char *path);
/* Reads one segment from fd, which the reader owns from now on (closed on failure too); name is
 * what the damage callback gets as the segment. */
struct sw_tracelog_reader *sw_tracelog_reader__open_fd(int fd, const char *name);
void sw_tracelog_reader__set_damage_cb(struct sw_tracelog_reader *r, sw_tracelog_damage_fn fn,
				       void *ctx);
/* 1 = an event (the redacted record rebuilt from its Event, its ktime and its redactions;
 * pointers valid until the next call), 0 = end, < 0 = a negative errno that ends the read (I/O,
 * memory; -EPROTONOSUPPORT: a block of another trace format, see __version). Damage is never an
 * error: it is counted, reported to the callback and skipped. */
int sw_tracelog_reader__next(struct sw_tracelog_reader *r, const uint8_t **rec, size_t *len,
			     uint64_t *ktime, const struct sw_redaction **red, size_t *nred);
void sw_tracelog_reader__stats(const struct sw_tracelog_reader *r,
			       struct sw_tracelog_read_stats *out);
/* A segment of a trace directory: its file name and when it was opened (from the name). */
struct sw_tracelog_segment {
	char name[64];
	uint64_t start_us; /* unix microseconds */
};

/* The segments of dir in name (= time) order; *out is the caller's to free(). Files not named
 * like segments are left out. 0 or a negative errno. */
int sw_tracelog__segments(const char *dir, struct sw_tracelog_segment **out, size_t *n);

/* The format version of the block that ended a read with -EPROTONOSUPPORT. */
uint32_t sw_tracelog_reader__version(const struct sw_tracelog_reader *r);
void sw_tracelog_reader__free(struct sw_tracelog_reader *r);

#endif
