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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "event.h"
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
	char path[SW_PATH_LEN + 1];
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

/* Names files as records give them: the kernel names a file once per open file, and the
 * writer may have closed it before its records are handled. */
static void remember_name(struct racecheck *rc, const struct race_ent *e, const struct sw_event *ev)
{
	struct race_name *n;

	if (!ev->path_len || ev->path_len >= sizeof(n->path) || (ev->hdr->flags & SW_F_PATH_TRUNC))
		return;
	n = &rc->names[rc->next_name++ % RACE_NAMES];
	n->dev = e->dev;
	n->ino = e->ino;
	memcpy(n->path, ev->path, ev->path_len);
	n->path[ev->path_len] = 0;
	n->plen = ev->path_len;
}

/* The file the write went to, still the same one: by the name a record gave it (rc->path),
 * else through the writer's descriptor, if still open (rc->path read from it). -1 when it
 * cannot be had. */
static int open_written(struct racecheck *rc, const struct race_ent *e, size_t *plen)
{
	char proc[64];
	ssize_t n;
	size_t i;
	int fd;

	*plen = 0;
	rc->path[0] = 0;
	for (i = 0; i < RACE_NAMES; i++)
		if (rc->names[i].plen && rc->names[i].dev == e->dev && rc->names[i].ino == e->ino) {
			memcpy(rc->path, rc->names[i].path, rc->names[i].plen + 1);
			*plen = rc->names[i].plen;
			break;
		}
	fd = source__open_written(e->hdr.tgid, e->fd, rc->path, e->dev, e->ino);
	if (fd >= 0 && !*plen) {
		snprintf(proc, sizeof(proc), "/proc/%u/fd/%d", e->hdr.tgid, e->fd);
		n = readlink(proc, rc->path, sizeof(rc->path) - 1);
		*plen = n > 0 && rc->path[0] == '/' ? (size_t)n : 0;
	}
	return fd;
}

/* The syscall's bytes all passed: compare them with the file's range. */
static void settle(struct daemon *d, struct racecheck *rc, struct race_ent *e)
{
	uint8_t got[RACE_HASH], file[RACE_HASH];
	crypto_generichash_state fh;
	struct source_rescan rs;
	uint64_t done = 0;
	size_t plen = 0;
	ssize_t n = 0;
	int fd;

	e->live = 0;
	crypto_generichash_final(&e->h, got, sizeof(got));
	fd = open_written(rc, e, &plen);
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
	 * difference is read back, with a little before it for a secret across its start. */
	if (done == e->total && sodium_memcmp(got, file, sizeof(got))) {
		d->race_differed++;
		rs = (struct source_rescan){.hdr = e->hdr,
					    .dev = e->dev,
					    .ino = e->ino,
					    .gen = e->gen,
					    .path = rc->path,
					    .path_len = plen,
					    .fd = fd,
					    .start = e->pos > RACE_OVERLAP ? e->pos - RACE_OVERLAP
									   : 0};
		rs.len = e->pos + e->total - rs.start;
		while (!(source__rescan_step(d, &rc->out.r, &rs) & SW_F_LAST))
			;
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
		remember_name(rc, e, &ev);
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
