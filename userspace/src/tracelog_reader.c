// SPDX-License-Identifier: Apache-2.0
/* The trace log's reader: opens a segment file or a directory of them, walks the segments in
 * name order and the events of each block (blocks come from tracelog_parse.c), and rebuilds each
 * event's C record. See tracelog.h; the format is described in tracelog.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libdeflate.h>

#include "sprawl_events.h"
#include "tracelog_priv.h"

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
			tl_damage(r, SW_TRACELOG_CORRUPT, r->block_off, r->block_len, "bad event");
			r->left = 0;
			continue;
		}
		if (r->fd < 0) {
			rc = open_next(r);
			if (rc <= 0)
				return rc;
		}
		rc = tl_load_block(r);
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
	k = tl_read_at(fd, head, sizeof(head), 0);
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
	err = tl_list_segments(fd, 0, &r->names, &r->nnames);
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
	tl_free_names(r->names, r->nnames);
	free(r->seg);
	free(r->base);
	free(r->cbuf);
	free(r->raw);
	arena_fini(&r->arena);
	sw_tracerec__free(r->tr);
	free(r);
}
