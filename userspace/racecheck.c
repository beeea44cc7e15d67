// SPDX-License-Identifier: Apache-2.0
/* A racing writer: the kernel hook reads a write's buffer at the syscall's exit, and another
 * thread of the writer may have rewritten it since the kernel copied it into the file. So for
 * a file write of a process whose memory is shared (SW_F_SHARED_MM, with the file position of
 * its first byte in src_pos), the bytes of the records are hashed as they pass (keyed BLAKE2b:
 * the writer cannot aim at a collision), and once the syscall's last chunk has passed, the same
 * range is read from the file and hashed too. Equal: what was scanned is what the file holds,
 * nothing more to do (no record, so an agent's ordinary writes cost a hash and a pread). They
 * differ: the range (and a little before it, for a secret across its start) is read back as
 * read-back records of a fresh stream of the file, which the pipeline matches like any. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "event.h"
#include "naming.h"
#include "source.h"

#define RACE_SLOTS   256	   /* syscalls in flight at once (threads mid-write) */
#define RACE_MAX     (16ull << 20) /* bytes of one write compared; a larger one is cut anyway */
#define RACE_OVERLAP 4096	   /* bytes before the range read back with it */
#define RACE_HASH    32

struct race_ent {
	crypto_generichash_state h;
	struct sw_hdr hdr;
	uint64_t dev, ino, pos, total, next, used;
	uint32_t gen;
	int32_t fd;
	int live;
	size_t plen;
	char path[SW_PATH_LEN + 1]; /* the file's, from a record that named it; "" when none did */
};

/* Files named by earlier records: the kernel names a file once per open file, and the
 * writer may have closed it before its records are handled. */
struct race_name {
	uint64_t dev, ino;
	size_t plen;
	char path[SW_PATH_LEN + 1];
};
#define RACE_NAMES 64

struct racecheck {
	struct race_ent ent[RACE_SLOTS];
	struct race_name names[RACE_NAMES];
	size_t next_name;
	uint8_t key[crypto_generichash_KEYBYTES];
	uint64_t clock;
	uint8_t buf[SW_CHUNK];
	union { /* a read-back record, its own: the source's buffer may be in use under it */
		struct sw_data_rec r;
		uint8_t b[sizeof(struct sw_data_rec) + SW_PATH_LEN + SW_CHUNK];
	} out;
};

/* The entry of (thread, fd): the live one, else a free or the least recently used slot. */
static struct race_ent *slot(struct racecheck *rc, uint32_t tid, int32_t fd, int make)
{
	struct race_ent *e, *old = NULL;
	size_t i, h = ((size_t)tid * 2654435761u ^ (uint32_t)fd) % RACE_SLOTS;

	for (i = 0; i < RACE_SLOTS; i++) {
		e = &rc->ent[(h + i) % RACE_SLOTS];
		if (e->live && e->hdr.pid == tid && e->fd == fd)
			return e;
		if (!old || !e->live || (old->live && e->used < old->used))
			old = e;
		if (!e->live)
			break;
	}
	return make ? old : NULL;
}

/* The file the write went to, still the same one (dev, ino): by the name a record gave it,
 * else through the writer's descriptor if still open. -1 when it cannot be had. */
static int open_written(const struct race_ent *e, char *path, size_t cap, size_t *plen)
{
	char proc[64];
	struct stat sb;
	int fd = -1, i;
	ssize_t n;

	*plen = 0;
	for (i = 0; i < 2 && fd < 0; i++) {
		if (i == 0 && e->plen) {
			fd = open(e->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		} else if (i == 1) {
			snprintf(proc, sizeof(proc), "/proc/%u/fd/%d", e->hdr.tgid, e->fd);
			fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		}
		if (fd >= 0 && (fstat(fd, &sb) || !S_ISREG(sb.st_mode) ||
				sb.st_dev != sw_naming__user_dev(e->dev) || sb.st_ino != e->ino)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0 && i == 0) {
			memcpy(path, e->path, e->plen);
			*plen = e->plen;
		} else if (fd >= 0) {
			n = readlink(proc, path, cap);
			*plen = n > 0 && (size_t)n < cap && path[0] == '/' ? (size_t)n : 0;
		}
	}
	return fd;
}

/* The name of (dev, ino): remembered from the record that gave it, or looked up. */
static void name_of(struct racecheck *rc, struct race_ent *e, const struct sw_event *ev)
{
	struct race_name *n;
	size_t i;

	if (ev->path_len && ev->path_len < sizeof(e->path) && !(ev->hdr->flags & SW_F_PATH_TRUNC)) {
		memcpy(e->path, ev->path, ev->path_len);
		e->plen = ev->path_len;
		n = &rc->names[rc->next_name++ % RACE_NAMES];
		n->dev = e->dev;
		n->ino = e->ino;
		memcpy(n->path, ev->path, ev->path_len);
		n->path[ev->path_len] = 0;
		n->plen = ev->path_len;
	} else {
		for (i = 0; i < RACE_NAMES; i++) {
			n = &rc->names[i];
			if (n->plen && n->dev == e->dev && n->ino == e->ino) {
				memcpy(e->path, n->path, n->plen);
				e->plen = n->plen;
				break;
			}
		}
	}
	e->path[e->plen] = 0;
}

/* The file's [from, e->pos + e->total) as read-back records of a fresh stream of the file,
 * attributed to the writer. */
static void read_back(struct daemon *d, struct racecheck *rc, const struct race_ent *e, int fd,
		      const char *path, size_t plen)
{
	struct sw_data_rec *r = &rc->out.r;
	uint64_t from = e->pos > RACE_OVERLAP ? e->pos - RACE_OVERLAP : 0;
	uint64_t len = e->pos + e->total - from, done = 0;
	uint16_t fl;
	size_t n;

	do {
		size_t want = len - done < SW_CHUNK ? len - done : SW_CHUNK;

		fl = SW_F_READBACK | SW_F_RESCAN;
		memset(r, 0, sizeof(*r));
		r->hdr = e->hdr;
		r->art_kind = SW_AK_FILE;
		r->dev = e->dev;
		r->ino = e->ino;
		r->gen = e->gen;
		r->fd = -1;
		r->file_pos = -1;
		r->src_pos = -1;
		r->total = len;
		r->offset = done;
		if (!done) {
			fl |= SW_F_FIRST;
			r->path_len = plen;
			memcpy(r + 1, path, plen);
		}
		if (done + want >= len)
			fl |= SW_F_LAST;
		fl = source__readback_chunk(d, r, fd, from + done, want, fl, &n);
		done += n;
	} while (!(fl & SW_F_LAST));
}

/* The syscall's bytes all passed: compare them with the file's range. */
static void settle(struct daemon *d, struct racecheck *rc, struct race_ent *e)
{
	uint8_t got[RACE_HASH], file[RACE_HASH];
	crypto_generichash_state fh;
	char path[SW_PATH_LEN + 1];
	uint64_t done = 0;
	size_t plen = 0;
	ssize_t n = 0;
	int fd;

	e->live = 0;
	crypto_generichash_final(&e->h, got, sizeof(got));
	fd = open_written(e, path, sizeof(path), &plen);
	if (fd < 0) {
		d->race_unread++; /* the descriptor closed already: nothing to compare with */
		return;
	}
	crypto_generichash_init(&fh, rc->key, sizeof(rc->key), sizeof(file));
	while (done < e->total) {
		size_t want = e->total - done < sizeof(rc->buf) ? e->total - done : sizeof(rc->buf);

		n = pread(fd, rc->buf, want, e->pos + done);
		if (n <= 0)
			break;
		crypto_generichash_update(&fh, rc->buf, n);
		done += n;
	}
	sodium_memzero(rc->buf, sizeof(rc->buf));
	crypto_generichash_final(&fh, file, sizeof(file));
	d->race_checked++;
	/* Shorter now (truncated since): the bytes are not there to hold anything; otherwise a
	 * difference is read back. */
	if (done == e->total && sodium_memcmp(got, file, sizeof(got))) {
		d->race_differed++;
		read_back(d, rc, e, fd, path, plen);
	}
	close(fd);
}

void racecheck__note(struct daemon *d, const void *rec, size_t size)
{
	struct racecheck *rc = d->race;
	const struct sw_data_rec *r;
	struct race_ent *e;
	struct sw_event ev;
	uint16_t fl;

	if (!rc || sw_event__decode(rec, size, &ev) || !ev.data)
		return;
	r = ev.data;
	fl = ev.hdr->flags;
	if (r->art_kind != SW_AK_FILE || (fl & (SW_F_READBACK | SW_F_COPY | SW_F_TRUNCATED)) ||
	    r->src_pos < 0 || r->total > RACE_MAX)
		return;
	e = slot(rc, ev.hdr->pid, r->fd, fl & SW_F_FIRST);
	if (!e)
		return; /* its first chunk was lost: the ring's loss covers it (spill) */
	if (fl & SW_F_FIRST) {
		if (e->live)
			d->race_unread++; /* a syscall whose last chunk never came, or evicted */
		memset(e, 0, sizeof(*e));
		e->hdr = *ev.hdr;
		e->dev = r->dev;
		e->ino = r->ino;
		e->gen = r->gen;
		e->fd = r->fd;
		e->pos = (uint64_t)r->src_pos;
		e->total = r->total;
		e->live = 1;
		name_of(rc, e, &ev);
		crypto_generichash_init(&e->h, rc->key, sizeof(rc->key), RACE_HASH);
	} else if (r->offset != e->next) {
		e->live = 0; /* a chunk missing: spilled or lost, said elsewhere */
		return;
	}
	e->used = ++rc->clock;
	crypto_generichash_update(&e->h, ev.bytes, ev.bytes_len);
	e->next = r->offset + ev.bytes_len;
	if (fl & SW_F_LAST)
		settle(d, rc, e);
}

int racecheck__new(struct daemon *d)
{
	struct racecheck *rc = sodium_malloc(sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	memset(rc, 0, sizeof(*rc));
	randombytes_buf(rc->key, sizeof(rc->key));
	d->race = rc;
	return 0;
}

void racecheck__free(struct daemon *d)
{
	if (d->race)
		sodium_free(d->race);
	d->race = NULL;
}
