// SPDX-License-Identifier: Apache-2.0
/* The trace log's writer: records appended into blocks, blocks compressed and written to
 * segments, segments rotated and pruned (retention). See tracelog.h; the format is described in
 * tracelog.c.
 *
 * Two threads: the caller's builds blocks (append: redact, encode); a writer thread of this
 * module compresses, writes, rotates, prunes and fsyncs them, so none of that disk work runs
 * on the daemon's event loop (in a flood it was a quarter of the loop's CPU, and an fsync of a
 * busy segment could hold the loop far past 50 ms). Up to QUEUE_BLOCKS finished blocks wait
 * for it; past that, append waits (a trace is never thinned). Fields are the caller's, the
 * writer thread's, or shared under mu, as marked.
 *
 * Principle 1: the writer copies a record in with the redacted spans already replaced by filler,
 * so no buffer of this module ever holds a tracked secret's plaintext; the raw and compressed
 * buffers only ever see redacted bytes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libdeflate.h>
#include <sodium.h>

#include "fileio.h"
#include "tracelog_priv.h"

#define OPEN_TRIES 16
/* Finished blocks waiting for the writer thread at most: 16 MiB, what a flood's trace is for
 * ~50 ms, the pauses write() takes while a writer flat out dirties the page cache
 * (balance_dirty_pages). With 8 the loop waited for the thread through them: turns of 30-41 ms
 * holding 7-11 ms of CPU; with 64, 12-17 ms in two runs of three (bench index). */
#define QUEUE_BLOCKS 64
/* Blocks stored uncompressed after one that did not compress, before trying again. */
#define STORE_BLOCKS	 15
#define STORE_BLOCKS_MAX 255
/* Write-behind: every WINDOW bytes of a segment, its writeback is started and what was written
 * back before is dropped from the page cache (the trace is written once and read rarely). A
 * flood's trace otherwise took fresh pages all the time: on a VM host-backed on first touch,
 * copying 1 GB into new page-cache pages cost ~2 s of CPU, into pages just freed ~0.15 s. */
#define WINDOW (8u << 20)

static void wipe_free(void *p, size_t n)
{
	if (p)
		sodium_memzero(p, n);
	free(p);
}

struct span {
	uint32_t off, end;
};

/* A block: length-delimited redacted Events, and what its header and segment name need. */
struct block {
	uint8_t *raw;
	size_t len, cap;
	uint32_t nev;
	uint64_t first_ktime, last_ktime;
	uint64_t block_us; /* wall clock at the block's first append: names its segment */
};

struct sw_tracelog_writer {
	/* the writer thread's */
	int dirfd;
	int fd; /* current segment, -1 = none open */
	char name[NAME_LEN + 1];
	uint64_t seg_bytes;
	uint64_t behind; /* the segment's bytes before this are dropped from the page cache */
	int unsynced;
	uint64_t max_segment_bytes;
	uint32_t max_segments, block_bytes;
	uint64_t max_total_bytes, max_age_us;
	uint64_t seg_start_us; /* when the open segment was named */
	uint64_t pruned_us;    /* when retention last ran */
	uint64_t last_us;      /* names never go backwards, even when the clock does */
	uint32_t seq;

	uint8_t *out; /* preamble + header + compressed block */
	size_t out_cap;
	/* libdeflate: whole-buffer zlib streams (blocks are whole buffers), faster than zlib's
	 * streaming API at the same format */
	struct libdeflate_compressor *zc;
	struct libdeflate_compressor *zstore; /* level 0: stored blocks, still a zlib stream */
	uint32_t store_left; /* blocks to store uncompressed: the data did not compress */
	uint64_t sec;	     /* the second of record time compress_bytes counts in */
	uint64_t compress_bytes;
	uint32_t store_run; /* the length of the last such run: doubles while it stays so */
	struct sw_tracelog_stats st;

	/* the caller's */
	struct block cur; /* the block being built */
	uint8_t *rec;	  /* the redacted copy of the record being appended */
	size_t rec_cap;
	struct span *spans;
	size_t red_cap;
	struct sw_tracerec *tr; /* record -> Event */

	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t work, done; /* to the writer thread; from it */
	struct block q[QUEUE_BLOCKS];
	unsigned int qhead, qlen; /* q[qhead] is being written while qlen > 0 */
	uint64_t sync_asked, sync_done;
	int err;  /* the first error since the caller last heard of one */
	int stop; /* free(): write what is queued, fsync, end */
	struct sw_tracelog_stats st_pub;
	pthread_t thread;
	int started;
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
	err = tl_list_segments(w->dirfd, 1, &names, &n);
	if (err)
		return err;
	size = calloc(n ? n : 1, sizeof(*size));
	if (!size) {
		tl_free_names(names, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!fstatat(w->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW))
			size[i] = (uint64_t)st.st_size;
		total += size[i];
	}
	for (i = 0; i < n; i++) {
		old = w->max_age_us && i + 1 < n && now > w->max_age_us &&
		      tl_name_us(names[i + 1]) < now - w->max_age_us;
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
	tl_free_names(names, n);
	if (removed)
		fsync(w->dirfd);
	return err;
}

/* Named for the wall clock when its first record came in, not when the block was written: a
 * segment then holds nothing older than its name says (replay --since relies on it). */
static int open_segment(struct sw_tracelog_writer *w, uint64_t block_us)
{
	uint64_t us = block_us ? block_us : now_us();
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
	w->behind = 0;
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

/* The segment's writeback started up to its end, and the windows before the last dropped
 * from the page cache where written back (pages still dirty or under writeback stay). Nothing
 * waits for the disk: the fsync each second is what makes the blocks durable. */
static void write_behind(struct sw_tracelog_writer *w)
{
	uint64_t upto;

	if (w->seg_bytes - w->behind < 2 * (uint64_t)WINDOW)
		return;
	upto = w->seg_bytes - WINDOW;
	sync_file_range(w->fd, (off_t)w->behind, (off_t)(w->seg_bytes - w->behind),
			SYNC_FILE_RANGE_WRITE);
	posix_fadvise(w->fd, 0, (off_t)upto, POSIX_FADV_DONTNEED);
	w->behind = upto;
}

static int write_block(struct sw_tracelog_writer *w, struct block *b)
{
	Sprawl__BlockHeader h = SPRAWL__BLOCK_HEADER__INIT;
	uint8_t hdr[HDR_MAX];
	size_t bound, clen, hlen, start, total;
	int err;

	if (!b->nev)
		return 0;
	bound = libdeflate_zlib_compress_bound(w->zc, b->len);
	err = tl_grow(&w->out, &w->out_cap, PRE_LEN + HDR_MAX + bound);
	if (err)
		goto drop;
	/* Data that hardly compresses (already compressed, random, high-entropy text) costs the
	 * most CPU to try, live, for little disk: after a block that shrank by less than a third,
	 * the next ones are stored as they are (same format) and compression is tried again
	 * after STORE_BLOCKS, then after twice as many each time it still does not pay, up to
	 * STORE_BLOCKS_MAX. */
	if (b->last_ktime / 1000000000ull != w->sec) {
		w->sec = b->last_ktime / 1000000000ull;
		w->compress_bytes = 0;
	}
	if (w->store_left || w->compress_bytes >= SW_TRACELOG_COMPRESS_PER_SEC) {
		if (w->store_left)
			w->store_left--;
		clen = libdeflate_zlib_compress(w->zstore, b->raw, b->len,
						w->out + PRE_LEN + HDR_MAX, bound);
	} else {
		w->compress_bytes += b->len;
		clen = libdeflate_zlib_compress(w->zc, b->raw, b->len, w->out + PRE_LEN + HDR_MAX,
						bound);
		if (clen && clen * 3 > b->len * 2) {
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
	h.events = b->nev;
	h.raw_length = (uint32_t)b->len;
	h.compressed_length = (uint32_t)clen;
	h.crc32 = libdeflate_crc32(0, w->out + PRE_LEN + HDR_MAX, clen);
	h.first_ktime = b->first_ktime;
	h.last_ktime = b->last_ktime;
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
		err = open_segment(w, b->block_us);
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
	write_behind(w);
	w->st.events += b->nev;
	w->st.blocks++;
	w->st.bytes_raw += b->len;
	w->st.bytes_compressed += total;
	/* A segment also ends after SEGMENT_SPAN: age retention and replay --since work in whole
	 * segments, so none may cover much time. */
	if (w->seg_bytes >= w->max_segment_bytes ||
	    elapsed(w->seg_start_us) >= SW_TRACELOG_SEGMENT_SPAN_US) {
		w->st.segments_rotated++;
		return close_segment(w);
	}
	return 0;
drop:
	w->st.events_dropped += b->nev;
	return err;
}

/* The writer thread's fsync of the open segment, and age retention while one segment stays
 * open (a quiet host). */
static int sync_segment(struct sw_tracelog_writer *w)
{
	int err = 0;

	if (elapsed(w->pruned_us) >= SW_TRACELOG_PRUNE_US)
		prune(w);
	if (w->fd >= 0 && w->unsynced) {
		if (fsync(w->fd))
			err = -errno;
		else
			w->unsynced = 0;
	}
	return err;
}

static void note_err(struct sw_tracelog_writer *w, int err)
{
	if (err && !w->err)
		w->err = err;
}

/* The writer thread: the queued blocks in order, then an fsync when one was asked for. */
static void *writer_main(void *arg)
{
	struct sw_tracelog_writer *w = arg;
	struct block *b;
	uint64_t asked;
	int err;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->qlen && w->sync_done == w->sync_asked && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->qlen && w->sync_done == w->sync_asked)
			break; /* stop, and nothing left */
		b = w->qlen ? &w->q[w->qhead] : NULL;
		asked = w->sync_asked;
		pthread_mutex_unlock(&w->mu);
		err = b ? write_block(w, b) : sync_segment(w);
		pthread_mutex_lock(&w->mu);
		note_err(w, err);
		if (b) {
			b->len = 0;
			b->nev = 0;
			w->qhead = (w->qhead + 1) % QUEUE_BLOCKS;
			w->qlen--;
		} else {
			w->sync_done = asked;
		}
		w->st_pub = w->st;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hands the block being built to the writer thread (waiting while QUEUE_BLOCKS are queued);
 * the caller builds the next one in the buffer that slot held. Called with mu held. */
static void submit_locked(struct sw_tracelog_writer *w)
{
	struct block *slot, t;

	if (!w->cur.nev)
		return;
	while (w->qlen == QUEUE_BLOCKS)
		pthread_cond_wait(&w->done, &w->mu);
	slot = &w->q[(w->qhead + w->qlen) % QUEUE_BLOCKS];
	t = *slot;
	*slot = w->cur;
	w->cur = t;
	w->cur.len = 0;
	w->cur.nev = 0;
	w->qlen++;
	pthread_cond_signal(&w->work);
}

/* The first error the writer thread met since the last call (0 when none), forgotten. */
static int take_err_locked(struct sw_tracelog_writer *w)
{
	int err = w->err;

	w->err = 0;
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
	if (pthread_mutex_init(&w->mu, NULL)) {
		free(w);
		return NULL;
	}
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
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
	err = tl_list_segments(w->dirfd, 1, &names, &n);
	if (err) {
		errno = -err;
		goto fail_errno;
	}
	if (n)
		w->last_us = strtoull(names[n - 1] + sizeof(NAME_PREFIX) - 1, NULL, 10) + 1;
	tl_free_names(names, n);

	/* Level 1: the daemon records while agents run; throughput matters more than ratio. */
	w->zc = libdeflate_alloc_compressor(1);
	w->zstore = libdeflate_alloc_compressor(0);
	if (!w->zc || !w->zstore) {
		errno = ENOMEM;
		goto fail_errno;
	}
	err = pthread_create(&w->thread, NULL, writer_main, w);
	if (err) {
		errno = err;
		goto fail_errno;
	}
	w->started = 1;
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
	err = tl_grow(&w->rec, &w->rec_cap, len ?: 1);
	if (err)
		return err;
	copy_redacted(w, rec, len, nr);
	/* The Event is built from the redacted copy: its byte fields point into it. */
	err = sw_tracerec__to_event(w->tr, w->rec, len, r, nr, &ev);
	if (err)
		return err;
	sz = sprawl__event__get_packed_size(ev);
	need = 10 + sz;
	pthread_mutex_lock(&w->mu);
	if (w->cur.len && w->cur.len + need > w->block_bytes)
		submit_locked(w);
	werr = take_err_locked(w);
	pthread_mutex_unlock(&w->mu);
	err = tl_grow(&w->cur.raw, &w->cur.cap, w->cur.len + need);
	if (err)
		return err;
	w->cur.len += varint_put(w->cur.raw + w->cur.len, sz);
	w->cur.len += sprawl__event__pack(ev, w->cur.raw + w->cur.len);
	if (!w->cur.nev) {
		w->cur.first_ktime = ktime;
		w->cur.block_us = now_us();
	}
	w->cur.last_ktime = ktime;
	w->cur.nev++;
	if (w->cur.len >= w->block_bytes || w->cur.nev == UINT32_MAX) {
		pthread_mutex_lock(&w->mu);
		submit_locked(w);
		pthread_mutex_unlock(&w->mu);
	}
	return werr;
}

/* Hands the open block over and asks for an fsync after it; returns the request's number. */
static uint64_t ask_sync_locked(struct sw_tracelog_writer *w)
{
	submit_locked(w);
	w->sync_asked++;
	pthread_cond_signal(&w->work);
	return w->sync_asked;
}

int sw_tracelog_writer__flush(struct sw_tracelog_writer *w)
{
	uint64_t n;
	int err;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	n = ask_sync_locked(w);
	while (w->sync_done < n)
		pthread_cond_wait(&w->done, &w->mu);
	err = take_err_locked(w);
	pthread_mutex_unlock(&w->mu);
	return err;
}

int sw_tracelog_writer__flush_soon(struct sw_tracelog_writer *w)
{
	int err;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	ask_sync_locked(w);
	err = take_err_locked(w);
	pthread_mutex_unlock(&w->mu);
	return err;
}

void sw_tracelog_writer__stats(struct sw_tracelog_writer *w, struct sw_tracelog_stats *out)
{
	if (!w) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&w->mu);
	*out = w->st_pub;
	pthread_mutex_unlock(&w->mu);
}

void sw_tracelog_writer__free(struct sw_tracelog_writer *w)
{
	unsigned int i;

	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		ask_sync_locked(w);
		w->stop = 1;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	libdeflate_free_compressor(w->zc);
	libdeflate_free_compressor(w->zstore);
	close_segment(w);
	if (w->dirfd >= 0)
		close(w->dirfd);
	/* Only redacted bytes were ever here; wiped all the same, it costs nothing at exit. */
	wipe_free(w->cur.raw, w->cur.cap);
	for (i = 0; i < QUEUE_BLOCKS; i++)
		wipe_free(w->q[i].raw, w->q[i].cap);
	wipe_free(w->out, w->out_cap);
	wipe_free(w->rec, w->rec_cap);
	free(w->spans);
	sw_tracerec__free(w->tr);
	free(w);
}
