// SPDX-License-Identifier: Apache-2.0
/* The trace log: segment files of zlib-compressed blocks of length-delimited protobuf Events.
 *
 * Block on disk: "SWTB" | u32 LE header length | u32 LE crc32(header) | BlockHeader |
 * compressed_length bytes of zlib data (crc32 in the header). The header has its own CRC so that
 * its lengths can be trusted: a block whose trusted lengths run past the end of its segment is a
 * torn tail (crash mid-write), anything else that does not check out is corruption, and the
 * reader then resumes at the next magic. Each block is written with one write(); a writer never
 * appends to an existing segment, so a torn tail is always the end of its file.
 *
 * Principle 1: the writer copies a record in with the redacted spans already replaced by filler,
 * so no buffer of this module ever holds a tracked secret's plaintext; the raw and compressed
 * buffers only ever see redacted bytes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dirent.h>

#include <libdeflate.h>
#include <sodium.h>

#include "fingerprint.h"
#include "sprawl.pb-c.h"
#include "sprawl_events.h"
#include "fileio.h"
#include "tracelog.h"
#include "tracerec.h"

_Static_assert(sizeof(((struct sw_redaction *)0)->secret_id) == SW_SECRET_ID_BYTES,
	       "redaction secret id size");

static const uint8_t magic[4] = {'S', 'W', 'T', 'B'};
#define PRE_LEN 12u
/* A packed BlockHeader is at most 3 u32 varints of 6 bytes, 2 more and 2 u64 varints of 11. */
#define HDR_MAX 64u
/* Worst-case deflate ratio is ~1032:1; a header claiming more is lying about raw_length, and this
 * keeps what a small file can make the reader allocate proportional to its size. */
#define ZLIB_RATIO_MAX 1032u
#define SCAN_WINDOW    (64u << 10)
#define NAME_PREFIX    "trace-"
#define NAME_SUFFIX    ".swt"
/* trace-<16 digits>-<8 digits>.swt */
#define NAME_LEN   (sizeof(NAME_PREFIX) - 1 + 16 + 1 + 8 + sizeof(NAME_SUFFIX) - 1)
#define OPEN_TRIES 16
/* Blocks stored uncompressed after one that did not compress, before trying again. */
#define STORE_BLOCKS	 15
#define STORE_BLOCKS_MAX 255

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static size_t varint_put(uint8_t *p, uint64_t v)
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
static size_t varint_get32(const uint8_t *p, size_t avail, uint32_t *out)
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

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;
	size_t n = *cap ? *cap : 4096;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static void wipe_free(void *p, size_t n)
{
	if (p)
		sodium_memzero(p, n);
	free(p);
}

static int is_segment_name(const char *s, int strict)
{
	size_t n = strlen(s), i;

	if (n < sizeof(NAME_PREFIX) - 1 + sizeof(NAME_SUFFIX) - 1 ||
	    strncmp(s, NAME_PREFIX, sizeof(NAME_PREFIX) - 1) ||
	    strcmp(s + n - (sizeof(NAME_SUFFIX) - 1), NAME_SUFFIX))
		return 0;
	if (!strict)
		return 1;
	if (n != NAME_LEN || s[sizeof(NAME_PREFIX) - 1 + 16] != '-')
		return 0;
	for (i = sizeof(NAME_PREFIX) - 1; i < NAME_LEN - (sizeof(NAME_SUFFIX) - 1); i++)
		if (i != sizeof(NAME_PREFIX) - 1 + 16 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* Lists the segment files of dirfd in name order. */
static int list_segments(int dirfd, int strict, char ***out, size_t *nout)
{
	char **names = NULL, **p;
	size_t n = 0, cap = 0;
	struct dirent *d;
	int fd, err = 0;
	DIR *dir;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((errno = 0, d = readdir(dir))) {
		if (!is_segment_name(d->d_name, strict))
			continue;
		if (n == SW_TRACELOG_DIR_FILES_MAX) {
			err = -E2BIG;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(names, cap * sizeof(*names));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			names = p;
		}
		names[n] = strdup(d->d_name);
		if (!names[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	if (!err && errno)
		err = -errno;
	closedir(dir);
	if (err) {
		free_names(names, n);
		return err;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*nout = n;
	return 0;
}

/* ---- writer ---- */

struct span {
	uint32_t off, end;
};

struct sw_tracelog_writer {
	int dirfd;
	int fd; /* current segment, -1 = none open */
	char name[NAME_LEN + 1];
	uint64_t seg_bytes;
	int unsynced;
	uint64_t max_segment_bytes;
	uint32_t max_segments, block_bytes;
	uint64_t max_total_bytes, max_age_us;
	uint64_t seg_start_us; /* when the open segment was named */
	uint64_t pruned_us;    /* when retention last ran */
	uint64_t last_us;      /* names never go backwards, even when the clock does */
	uint32_t seq;

	uint8_t *raw; /* the block being built: length-delimited redacted Events */
	size_t raw_len, raw_cap;
	uint32_t nev;
	uint64_t first_ktime, last_ktime;
	uint64_t block_us; /* wall clock at the block's first append: names its segment */
	uint8_t *out;	   /* preamble + header + compressed block */
	size_t out_cap;
	uint8_t *rec; /* the redacted copy of the record being appended */
	size_t rec_cap;
	struct span *spans;
	size_t red_cap;
	struct sw_tracerec *tr; /* record -> Event */
	/* libdeflate: whole-buffer zlib streams (blocks are whole buffers), faster than zlib's
	 * streaming API at the same format */
	struct libdeflate_compressor *zc;
	struct libdeflate_compressor *zstore; /* level 0: stored blocks, still a zlib stream */
	uint32_t store_left; /* blocks to store uncompressed: the data did not compress */
	uint32_t store_run;  /* the length of the last such run: doubles while it stays so */
	struct sw_tracelog_stats st;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Microseconds since t; 0 when the clock went back. */
static uint64_t elapsed(uint64_t t)
{
	uint64_t now = now_us();

	return now > t ? now - t : 0;
}

static uint64_t name_us(const char *name)
{
	return strtoull(name + sizeof(NAME_PREFIX) - 1, NULL, 10);
}

/* Retention: deletes the oldest segments while there are more than max_segments, while they
 * hold more than max_total_bytes, or while a segment's records are all older than max_age (the
 * segment after it was opened before that); never the open one. */
static int prune(struct sw_tracelog_writer *w)
{
	char **names = NULL;
	uint64_t total = 0, *size = NULL, now = now_us();
	size_t n = 0, i;
	struct stat st;
	int err, removed = 0, old;

	w->pruned_us = now;
	err = list_segments(w->dirfd, 1, &names, &n);
	if (err)
		return err;
	size = calloc(n ? n : 1, sizeof(*size));
	if (!size) {
		free_names(names, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!fstatat(w->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW))
			size[i] = (uint64_t)st.st_size;
		total += size[i];
	}
	for (i = 0; i < n; i++) {
		old = w->max_age_us && i + 1 < n && now > w->max_age_us &&
		      name_us(names[i + 1]) < now - w->max_age_us;
		if (n - i <= w->max_segments &&
		    (!w->max_total_bytes || total <= w->max_total_bytes) && !old)
			break;
		if (!strcmp(names[i], w->name))
			continue;
		if (unlinkat(w->dirfd, names[i], 0) && errno != ENOENT) {
			err = -errno;
			break;
		}
		total -= size[i];
		removed = 1;
		w->st.segments_deleted++;
	}
	free(size);
	free_names(names, n);
	if (removed)
		fsync(w->dirfd);
	return err;
}

/* Named for the wall clock when its first record came in, not when the block was written: a
 * segment then holds nothing older than its name says (replay --since relies on it). */
static int open_segment(struct sw_tracelog_writer *w)
{
	uint64_t us = w->block_us ? w->block_us : now_us();
	int i, fd = -1;

	if (us < w->last_us)
		us = w->last_us;
	for (i = 0; i < OPEN_TRIES; i++) {
		snprintf(w->name, sizeof(w->name),
			 NAME_PREFIX "%016" PRIu64 "-%08" PRIu32 NAME_SUFFIX, us,
			 w->seq++ % 100000000u);
		fd = openat(w->dirfd, w->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		w->name[0] = 0;
		return -errno;
	}
	w->last_us = us;
	w->seg_start_us = us;
	w->fd = fd;
	w->seg_bytes = 0;
	w->unsynced = 0;
	/* The new name must survive a crash for the blocks fsync'd into it to be found. */
	fsync(w->dirfd);
	/* Failing to prune must not stop recording; it is retried at the next segment. */
	prune(w);
	return 0;
}

static int close_segment(struct sw_tracelog_writer *w)
{
	int err = 0;

	if (w->fd < 0)
		return 0;
	if (w->unsynced && fsync(w->fd))
		err = -errno;
	close(w->fd);
	w->fd = -1;
	w->unsynced = 0;
	return err;
}

static void reset_block(struct sw_tracelog_writer *w)
{
	w->raw_len = 0;
	w->nev = 0;
}

static int write_block(struct sw_tracelog_writer *w)
{
	Sprawl__BlockHeader h = SPRAWL__BLOCK_HEADER__INIT;
	uint8_t hdr[HDR_MAX];
	size_t bound, clen, hlen, start, total;
	int err;

	if (!w->nev)
		return 0;
	bound = libdeflate_zlib_compress_bound(w->zc, w->raw_len);
	err = grow(&w->out, &w->out_cap, PRE_LEN + HDR_MAX + bound);
	if (err)
		goto drop;
	/* Data that hardly compresses (already compressed, random, high-entropy text) costs the
	 * most CPU to try, live, for little disk: after a block that shrank by less than a third,
	 * the next ones are stored as they are (same format) and compression is tried again
	 * after STORE_BLOCKS, then after twice as many each time it still does not pay, up to
	 * STORE_BLOCKS_MAX. */
	if (w->store_left) {
		w->store_left--;
		clen = libdeflate_zlib_compress(w->zstore, w->raw, w->raw_len,
						w->out + PRE_LEN + HDR_MAX, bound);
	} else {
		clen = libdeflate_zlib_compress(w->zc, w->raw, w->raw_len,
						w->out + PRE_LEN + HDR_MAX, bound);
		if (clen && clen * 3 > w->raw_len * 2) {
			w->store_run = w->store_run ? w->store_run * 2 : STORE_BLOCKS;
			if (w->store_run > STORE_BLOCKS_MAX)
				w->store_run = STORE_BLOCKS_MAX;
			w->store_left = w->store_run;
		} else {
			w->store_run = 0;
		}
	}
	if (!clen) {
		err = -EIO;
		goto drop;
	}

	h.version = SW_TRACELOG_VERSION;
	h.events = w->nev;
	h.raw_length = (uint32_t)w->raw_len;
	h.compressed_length = (uint32_t)clen;
	h.crc32 = libdeflate_crc32(0, w->out + PRE_LEN + HDR_MAX, clen);
	h.first_ktime = w->first_ktime;
	h.last_ktime = w->last_ktime;
	hlen = sprawl__block_header__get_packed_size(&h);
	if (hlen > HDR_MAX) {
		err = -EOVERFLOW;
		goto drop;
	}
	sprawl__block_header__pack(&h, hdr);
	/* Preamble and header go right before the compressed bytes: one buffer, one write(). */
	start = HDR_MAX - hlen;
	memcpy(w->out + start, magic, sizeof(magic));
	le32_put(w->out + start + 4, (uint32_t)hlen);
	le32_put(w->out + start + 8, libdeflate_crc32(0, hdr, hlen));
	memcpy(w->out + start + PRE_LEN, hdr, hlen);
	total = PRE_LEN + hlen + clen;

	if (w->fd < 0) {
		err = open_segment(w);
		if (err)
			goto drop;
	}
	err = sw_fileio__write_all(w->fd, w->out + start, total);
	if (err) {
		/* Cut what was written off so the segment ends on a whole block, and put later
		 * blocks in a new segment. Best effort: if the cut fails too, readers see a torn
		 * tail, which they skip. */
		if (ftruncate(w->fd, (off_t)w->seg_bytes) == 0)
			w->unsynced = 1;
		close_segment(w);
		goto drop;
	}
	w->seg_bytes += total;
	w->unsynced = 1;
	w->st.events += w->nev;
	w->st.blocks++;
	w->st.bytes_raw += w->raw_len;
	w->st.bytes_compressed += total;
	reset_block(w);
	/* A segment also ends after SEGMENT_SPAN: age retention and replay --since work in whole
	 * segments, so none may cover much time. */
	if (w->seg_bytes >= w->max_segment_bytes ||
	    elapsed(w->seg_start_us) >= SW_TRACELOG_SEGMENT_SPAN_US) {
		w->st.segments_rotated++;
		return close_segment(w);
	}
	return 0;
drop:
	w->st.events_dropped += w->nev;
	reset_block(w);
	return err;
}

struct sw_tracelog_writer *sw_tracelog_writer__new(const struct sw_tracelog_opts *o)
{
	struct sw_tracelog_writer *w;
	char **names = NULL;
	size_t n = 0;
	struct stat st;
	int err;

	if (!o || !o->dir || !*o->dir || o->block_bytes > SW_TRACELOG_BLOCK_RAW_MAX) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = -1;
	w->dirfd = -1;
	w->max_segment_bytes = o->max_segment_bytes ?: SW_TRACELOG_SEGMENT_BYTES_DEFAULT;
	w->max_segments = o->max_segments ?: SW_TRACELOG_SEGMENTS_DEFAULT;
	w->max_total_bytes = o->max_total_bytes;
	w->max_age_us = o->max_age_s * 1000000ull;
	if (o->max_age_s > UINT64_MAX / 1000000ull) {
		errno = EINVAL;
		goto fail_errno;
	}
	w->block_bytes = o->block_bytes ?: SW_TRACELOG_BLOCK_BYTES_DEFAULT;
	w->tr = sw_tracerec__new();
	if (!w->tr)
		goto fail_errno;

	if (mkdir(o->dir, 0700) && errno != EEXIST)
		goto fail_errno;
	w->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0 || fstat(w->dirfd, &st))
		goto fail_errno;
	/* The records are redacted, but still say what agents did: owner only. */
	if ((st.st_mode & 077) && fchmod(w->dirfd, 0700))
		goto fail_errno;
	/* Start after the newest existing segment, whatever the clock says. */
	err = list_segments(w->dirfd, 1, &names, &n);
	if (err) {
		errno = -err;
		goto fail_errno;
	}
	if (n)
		w->last_us = strtoull(names[n - 1] + sizeof(NAME_PREFIX) - 1, NULL, 10) + 1;
	free_names(names, n);

	/* Level 1: the daemon records while agents run; throughput matters more than ratio. */
	w->zc = libdeflate_alloc_compressor(1);
	w->zstore = libdeflate_alloc_compressor(0);
	if (!w->zc || !w->zstore) {
		errno = ENOMEM;
		goto fail_errno;
	}
	return w;
fail_errno:
	err = errno;
	sw_tracelog_writer__free(w);
	errno = err;
	return NULL;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Copies rec into w->rec with every span replaced by filler, never copying a span's bytes. */
static void copy_redacted(struct sw_tracelog_writer *w, const uint8_t *src, size_t len, size_t ns)
{
	size_t pos = 0, i;

	if (ns > 1)
		qsort(w->spans, ns, sizeof(*w->spans), cmp_span);
	for (i = 0; i < ns; i++) {
		if (w->spans[i].end <= pos)
			continue;
		if (w->spans[i].off > pos) {
			memcpy(w->rec + pos, src + pos, w->spans[i].off - pos);
			pos = w->spans[i].off;
		}
		memset(w->rec + pos, SW_TRACELOG_FILLER, w->spans[i].end - pos);
		pos = w->spans[i].end;
	}
	if (pos < len)
		memcpy(w->rec + pos, src + pos, len - pos);
}

static int grow_redactions(struct sw_tracelog_writer *w, size_t nr)
{
	size_t cap = w->red_cap ? w->red_cap : 16;
	void *a;

	if (nr <= w->red_cap)
		return 0;
	while (cap < nr)
		cap *= 2;
	a = realloc(w->spans, cap * sizeof(*w->spans));
	if (!a)
		return -ENOMEM;
	w->spans = a;
	w->red_cap = cap;
	return 0;
}

int sw_tracelog_writer__append(struct sw_tracelog_writer *w, const void *rec, size_t len,
			       uint64_t ktime, const struct sw_redaction *r, size_t nr)
{
	const Sprawl__Event *ev;
	size_t i, sz, need;
	int err, werr = 0;

	if (!w || (!rec && len) || (!r && nr))
		return -EINVAL;
	if (len > SW_TRACELOG_RECORD_MAX || nr > SW_TRACELOG_REDACTIONS_MAX)
		return -E2BIG;
	err = grow_redactions(w, nr);
	if (err)
		return err;
	for (i = 0; i < nr; i++) {
		if (r[i].offset > len || r[i].length > len - r[i].offset)
			return -EINVAL;
		w->spans[i].off = r[i].offset;
		w->spans[i].end = r[i].offset + r[i].length;
	}
	err = grow(&w->rec, &w->rec_cap, len ?: 1);
	if (err)
		return err;
	copy_redacted(w, rec, len, nr);
	/* The Event is built from the redacted copy: its byte fields point into it. */
	err = sw_tracerec__to_event(w->tr, w->rec, len, r, nr, &ev);
	if (err)
		return err;
	sz = sprawl__event__get_packed_size(ev);
	need = 10 + sz;
	if (w->raw_len && w->raw_len + need > w->block_bytes)
		werr = write_block(w);
	err = grow(&w->raw, &w->raw_cap, w->raw_len + need);
	if (err)
		return err;
	w->raw_len += varint_put(w->raw + w->raw_len, sz);
	w->raw_len += sprawl__event__pack(ev, w->raw + w->raw_len);
	if (!w->nev) {
		w->first_ktime = ktime;
		w->block_us = now_us();
	}
	w->last_ktime = ktime;
	w->nev++;
	if (w->raw_len >= w->block_bytes || w->nev == UINT32_MAX) {
		err = write_block(w);
		if (err && !werr)
			werr = err;
	}
	return werr;
}

int sw_tracelog_writer__flush(struct sw_tracelog_writer *w)
{
	int err;

	if (!w)
		return -EINVAL;
	err = write_block(w);
	/* Age retention also runs while one segment stays open (a quiet host). */
	if (elapsed(w->pruned_us) >= SW_TRACELOG_PRUNE_US)
		prune(w);
	if (w->fd >= 0 && w->unsynced) {
		if (fsync(w->fd)) {
			if (!err)
				err = -errno;
		} else {
			w->unsynced = 0;
		}
	}
	return err;
}

void sw_tracelog_writer__stats(const struct sw_tracelog_writer *w, struct sw_tracelog_stats *out)
{
	if (w)
		*out = w->st;
	else
		memset(out, 0, sizeof(*out));
}

void sw_tracelog_writer__free(struct sw_tracelog_writer *w)
{
	if (!w)
		return;
	if (w->zc && w->zstore)
		sw_tracelog_writer__flush(w);
	libdeflate_free_compressor(w->zc);
	libdeflate_free_compressor(w->zstore);
	close_segment(w);
	if (w->dirfd >= 0)
		close(w->dirfd);
	/* Only redacted bytes were ever here; wiped all the same, it costs nothing at exit. */
	wipe_free(w->raw, w->raw_cap);
	wipe_free(w->out, w->out_cap);
	wipe_free(w->rec, w->rec_cap);
	free(w->spans);
	sw_tracerec__free(w->tr);
	free(w);
}

/* ---- reader ---- */

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

static void *arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	size_t n = (size + 15) & ~(size_t)15;
	struct arena_chunk *c;
	void *p;

	if (n < size)
		return NULL;
	a->want += n;
	if (n <= a->cap - a->used) {
		p = a->buf + a->used;
		a->used += n;
		return p;
	}
	c = malloc(sizeof(*c) + n);
	if (!c)
		return NULL;
	c->next = a->extra;
	a->extra = c;
	return c + 1;
}

static void arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

static void arena_fini(struct arena *a)
{
	struct arena_chunk *c;

	while ((c = a->extra)) {
		a->extra = c->next;
		free(c);
	}
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

static int arena_reset(struct arena *a)
{
	struct arena_chunk *c;
	size_t cap;

	while ((c = a->extra)) {
		a->extra = c->next;
		free(c);
	}
	if (a->want > a->cap || !a->buf) {
		cap = a->want * 2 > ARENA_MIN ? a->want * 2 : ARENA_MIN;
		free(a->buf);
		a->buf = malloc(cap);
		a->cap = a->buf ? cap : 0;
		if (!a->buf)
			return -ENOMEM;
	}
	a->used = 0;
	a->want = 0;
	return 0;
}

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

/* Reads up to n bytes at off. Returns the count (short only at end of file) or -errno. */
static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void damage(struct sw_tracelog_reader *r, enum sw_tracelog_damage kind, uint64_t off,
		   uint64_t skipped, const char *why)
{
	if (kind == SW_TRACELOG_TORN)
		r->st.torn_blocks++;
	else
		r->st.corrupt_blocks++;
	r->st.skipped_bytes += skipped;
	if (r->cb)
		r->cb(r->cb_ctx, kind, r->seg ? r->seg : "", off, skipped, why);
}

/* Finds the first block magic at or after from; returns its offset or the segment size, and
 * whether everything before it was zero bytes (a zero-filled tail is what some filesystems leave
 * of a write a crash interrupted). */
static int64_t find_magic(struct sw_tracelog_reader *r, uint64_t from, int *allzero)
{
	uint8_t buf[SCAN_WINDOW + sizeof(magic) - 1];
	uint64_t pos = from;
	const uint8_t *m;
	ssize_t k;
	size_t i, n;

	*allzero = 1;
	while (pos < r->size) {
		n = r->size - pos < sizeof(buf) ? (size_t)(r->size - pos) : sizeof(buf);
		k = read_at(r->fd, buf, n, pos);
		if (k < 0)
			return k;
		if ((size_t)k < n)
			n = (size_t)k;
		if (n < sizeof(magic))
			m = NULL;
		else
			m = memmem(buf, n, magic, sizeof(magic));
		for (i = 0; *allzero && i < (m ? (size_t)(m - buf) : n); i++)
			if (buf[i])
				*allzero = 0;
		if (m)
			return (int64_t)(pos + (uint64_t)(m - buf));
		if ((size_t)k < sizeof(buf) || n < sizeof(magic))
			break;
		/* Overlap so a magic across two windows is seen. */
		pos += n - (sizeof(magic) - 1);
	}
	return (int64_t)r->size;
}

/* Damage at off: skips to the next magic after it. Returns 0 or a negative errno. */
static int resync(struct sw_tracelog_reader *r, uint64_t off, const char *why)
{
	int allzero;
	int64_t next = find_magic(r, off + 1, &allzero);

	if (next < 0)
		return (int)next;
	damage(r, SW_TRACELOG_CORRUPT, off, (uint64_t)next - off, why);
	r->off = (uint64_t)next;
	return 0;
}

static void torn(struct sw_tracelog_reader *r, uint64_t off, const char *why)
{
	damage(r, SW_TRACELOG_TORN, off, r->size - off, why);
	r->off = r->size;
}

/* Bytes at off that are not a block: torn if they are zeros to the end of the segment, corrupt
 * otherwise. */
static int bad_magic(struct sw_tracelog_reader *r, uint64_t off)
{
	int allzero;
	int64_t next;

	next = find_magic(r, off, &allzero);
	if (next < 0)
		return (int)next;
	if ((uint64_t)next == r->size && allzero) {
		torn(r, off, "zero-filled tail");
		return 0;
	}
	damage(r, SW_TRACELOG_CORRUPT, off, (uint64_t)next - off, "no block magic");
	r->off = (uint64_t)next;
	return 0;
}

/* Checks that the inflated block is exactly `events` length-delimited messages. */
static int framing_ok(const uint8_t *p, size_t n, uint32_t events)
{
	size_t pos = 0, k;
	uint32_t len, i;

	for (i = 0; i < events; i++) {
		k = varint_get32(p + pos, n - pos, &len);
		if (!k || len > n - pos - k)
			return 0;
		pos += k + len;
	}
	return pos == n;
}

/* Reads the block at r->off. 1 = a block is ready, 0 = the segment ended, < 0 = error. */
static int load_block(struct sw_tracelog_reader *r)
{
	uint8_t pre[PRE_LEN], hdr[HDR_MAX];
	Sprawl__BlockHeader *h;
	uint64_t off, avail, total;
	uint32_t hlen, clen, rawlen, events, crc;
	ssize_t k;
	enum libdeflate_result zrc;
	size_t zin, zout;
	int err;

	/* Every pass moves r->off forward (a block, a skip, or to the end), so this ends. */
	while (r->off < r->size) {
		off = r->off;
		avail = r->size - off;
		k = read_at(r->fd, pre, avail < PRE_LEN ? (size_t)avail : PRE_LEN, off);
		if (k < 0)
			return (int)k;
		if ((uint64_t)k < (avail < PRE_LEN ? avail : PRE_LEN)) {
			torn(r, off, "segment shrank while read");
			break;
		}
		if (memcmp(pre, magic, avail < sizeof(magic) ? (size_t)avail : sizeof(magic))) {
			err = bad_magic(r, off);
			if (err)
				return err;
			continue;
		}
		if (avail < PRE_LEN) {
			torn(r, off, "cut-short block preamble");
			break;
		}
		hlen = le32_get(pre + 4);
		if (!hlen || hlen > HDR_MAX) {
			err = resync(r, off, "bad header length");
			if (err)
				return err;
			continue;
		}
		if (avail < PRE_LEN + hlen) {
			torn(r, off, "cut-short block header");
			break;
		}
		k = read_at(r->fd, hdr, hlen, off + PRE_LEN);
		if (k < 0)
			return (int)k;
		if ((uint32_t)k < hlen) {
			torn(r, off, "segment shrank while read");
			break;
		}
		if (libdeflate_crc32(0, hdr, hlen) != le32_get(pre + 8)) {
			err = resync(r, off, "bad header crc");
			if (err)
				return err;
			continue;
		}
		h = sprawl__block_header__unpack(NULL, hlen, hdr);
		if (!h) {
			err = resync(r, off, "undecodable header");
			if (err)
				return err;
			continue;
		}
		events = h->events;
		rawlen = h->raw_length;
		clen = h->compressed_length;
		crc = h->crc32;
		r->version = h->version;
		sprawl__block_header__free_unpacked(h, NULL);
		/* The header checked out: this is a trace in another format, not damage. */
		if (r->version != SW_TRACELOG_VERSION)
			return -EPROTONOSUPPORT;
		if (!events || rawlen < events || rawlen > SW_TRACELOG_BLOCK_RAW_MAX || !clen ||
		    rawlen > (uint64_t)clen * ZLIB_RATIO_MAX) {
			err = resync(r, off, "bad block lengths");
			if (err)
				return err;
			continue;
		}
		total = PRE_LEN + (uint64_t)hlen + clen;
		if (total > avail) {
			/* The header checked out, so its lengths are true: the data was cut short.
			 */
			torn(r, off, "cut-short block data");
			break;
		}
		err = grow(&r->cbuf, &r->ccap, clen);
		if (err)
			return err;
		k = read_at(r->fd, r->cbuf, clen, off + PRE_LEN + hlen);
		if (k < 0)
			return (int)k;
		if ((uint32_t)k < clen) {
			torn(r, off, "segment shrank while read");
			break;
		}
		/* From here on the block's extent is trusted: damage skips exactly this block. */
		r->off = off + total;
		if (libdeflate_crc32(0, r->cbuf, clen) != crc) {
			damage(r, SW_TRACELOG_CORRUPT, off, total, "bad data crc");
			continue;
		}
		err = grow(&r->raw, &r->rcap, rawlen);
		if (err)
			return err;
		/* Exactly clen bytes of zlib stream inflating to exactly rawlen bytes. */
		zrc = libdeflate_zlib_decompress_ex(r->zd, r->cbuf, clen, r->raw, rawlen, &zin,
						    &zout);
		if (zrc != LIBDEFLATE_SUCCESS || zout != rawlen || zin != clen) {
			damage(r, SW_TRACELOG_CORRUPT, off, total, "bad zlib data");
			continue;
		}
		if (!framing_ok(r->raw, rawlen, events)) {
			damage(r, SW_TRACELOG_CORRUPT, off, total, "bad event framing");
			continue;
		}
		r->rlen = rawlen;
		r->rpos = 0;
		r->left = events;
		r->block_off = off;
		r->block_len = total;
		r->st.blocks++;
		return 1;
	}
	return 0;
}

static void close_seg(struct sw_tracelog_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->left = 0;
}

/* 1 = a segment is open, 0 = no more segments, < 0 = error. */
static int open_next(struct sw_tracelog_reader *r)
{
	struct stat st;
	char *seg;
	int fd;

	close_seg(r);
	for (;;) {
		if (r->dirfd < 0) {
			if (r->single_fd < 0)
				return 0;
			fd = r->single_fd;
			r->single_fd = -1;
			seg = strdup(r->base);
		} else {
			if (r->next_name >= r->nnames)
				return 0;
			fd = openat(r->dirfd, r->names[r->next_name],
				    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0 && errno == ENOENT) {
				/* Rotated away by a live writer since the listing. */
				r->next_name++;
				continue;
			}
			if (fd < 0)
				return -errno;
			if (asprintf(&seg, "%s/%s", r->base, r->names[r->next_name]) < 0)
				seg = NULL;
			r->next_name++;
		}
		if (!seg) {
			close(fd);
			return -ENOMEM;
		}
		free(r->seg);
		r->seg = seg;
		if (fstat(fd, &st)) {
			fd = -errno;
			close(-fd);
			return fd;
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		r->fd = fd;
		r->size = (uint64_t)st.st_size;
		r->off = 0;
		r->st.segments++;
		return 1;
	}
}

/* Decodes the next event of the block. 1 = ok, 0 = the event is bad (block corrupt). */
static int decode_event(struct sw_tracelog_reader *r)
{
	Sprawl__Event *ev;
	uint32_t len;
	size_t k;
	int rc;

	k = varint_get32(r->raw + r->rpos, r->rlen - r->rpos, &len);
	if (!k || len > r->rlen - r->rpos - k)
		return 0;
	if (arena_reset(&r->arena))
		return -ENOMEM;
	ev = sprawl__event__unpack(&r->alloc, len, r->raw + r->rpos + k);
	if (!ev)
		return 0;
	r->rpos += k + len;
	r->left--;
	rc = sw_tracerec__from_event(r->tr, ev, &r->rec, &r->rec_len, &r->red, &r->nred);
	if (rc == -ENOMEM)
		return rc;
	return rc == 0;
}

int sw_tracelog_reader__next(struct sw_tracelog_reader *r, const uint8_t **rec, size_t *len,
			     uint64_t *ktime, const struct sw_redaction **red, size_t *nred)
{
	int rc;

	if (!r)
		return -EINVAL;
	/* Every pass returns, or consumes an event, a block's worth of a segment, or a segment. */
	for (;;) {
		if (r->left) {
			rc = decode_event(r);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				r->st.events++;
				*rec = r->rec;
				*len = r->rec_len;
				*ktime = ((const struct sw_hdr *)r->rec)->ktime;
				*red = r->red;
				*nred = r->nred;
				return 1;
			}
			/* The CRC held, so this was written so: count the block, drop its rest. */
			damage(r, SW_TRACELOG_CORRUPT, r->block_off, r->block_len, "bad event");
			r->left = 0;
			continue;
		}
		if (r->fd < 0) {
			rc = open_next(r);
			if (rc <= 0)
				return rc;
		}
		rc = load_block(r);
		if (rc < 0)
			return rc;
		if (rc == 0)
			close_seg(r);
	}
}

static struct sw_tracelog_reader *reader_alloc(const char *base)
{
	struct sw_tracelog_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->dirfd = -1;
	r->single_fd = -1;
	r->fd = -1;
	r->base = strdup(base);
	r->tr = sw_tracerec__new();
	r->zd = libdeflate_alloc_decompressor();
	if (!r->base || !r->tr || !r->zd) {
		libdeflate_free_decompressor(r->zd);
		sw_tracerec__free(r->tr);
		free(r->base);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->alloc.alloc = arena_alloc;
	r->alloc.free = arena_free;
	r->alloc.allocator_data = &r->arena;
	return r;
}

struct sw_tracelog_reader *sw_tracelog_reader__open_fd(int fd, const char *name)
{
	struct sw_tracelog_reader *r;
	uint8_t head[sizeof(magic)];
	struct stat st;
	ssize_t k;
	int err;

	if (fd < 0 || !name) {
		if (fd >= 0)
			close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (fstat(fd, &st)) {
		err = errno;
		goto fail_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		goto fail_fd;
	}
	k = read_at(fd, head, sizeof(head), 0);
	if (k < 0) {
		err = (int)-k;
		goto fail_fd;
	}
	/* A file that does not start with a block (or a cut-short one) is not a trace log. */
	if (memcmp(head, magic, (size_t)k)) {
		err = EBADMSG;
		goto fail_fd;
	}
	r = reader_alloc(name);
	if (!r) {
		err = errno;
		goto fail_fd;
	}
	r->single_fd = fd;
	return r;
fail_fd:
	close(fd);
	errno = err;
	return NULL;
}

struct sw_tracelog_reader *sw_tracelog_reader__open(const char *path)
{
	struct sw_tracelog_reader *r;
	struct stat st;
	int fd, err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	/* O_NONBLOCK: a FIFO given by mistake must not hang the open; reads are pread() only. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	if (!S_ISDIR(st.st_mode))
		return sw_tracelog_reader__open_fd(fd, path);
	r = reader_alloc(path);
	if (!r) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	r->dirfd = fd;
	err = list_segments(fd, 0, &r->names, &r->nnames);
	if (err) {
		sw_tracelog_reader__free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void sw_tracelog_reader__set_damage_cb(struct sw_tracelog_reader *r, sw_tracelog_damage_fn fn,
				       void *ctx)
{
	if (!r)
		return;
	r->cb = fn;
	r->cb_ctx = ctx;
}

void sw_tracelog_reader__stats(const struct sw_tracelog_reader *r,
			       struct sw_tracelog_read_stats *out)
{
	if (r)
		*out = r->st;
	else
		memset(out, 0, sizeof(*out));
}

int sw_tracelog__segments(const char *dir, struct sw_tracelog_segment **out, size_t *n)
{
	struct sw_tracelog_segment *v;
	char **names = NULL;
	size_t k = 0, i;
	int fd, err;

	if (!dir || !out || !n)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = list_segments(fd, 1, &names, &k);
	close(fd);
	if (err)
		return err;
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		free_names(names, k);
		return -ENOMEM;
	}
	for (i = 0; i < k; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s", names[i]);
		v[i].start_us = name_us(names[i]);
	}
	free_names(names, k);
	*out = v;
	*n = k;
	return 0;
}

uint32_t sw_tracelog_reader__version(const struct sw_tracelog_reader *r)
{
	return r ? r->version : 0;
}

void sw_tracelog_reader__free(struct sw_tracelog_reader *r)
{
	if (!r)
		return;
	close_seg(r);
	if (r->single_fd >= 0)
		close(r->single_fd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	libdeflate_free_decompressor(r->zd);
	free_names(r->names, r->nnames);
	free(r->seg);
	free(r->base);
	free(r->cbuf);
	free(r->raw);
	arena_fini(&r->arena);
	sw_tracerec__free(r->tr);
	free(r);
}
