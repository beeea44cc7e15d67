// SPDX-License-Identifier: Apache-2.0
/* The ClickHouse sink's spool on disk: the spool files, the acknowledgement file, reading a
 * batch after the acknowledgement and moving on to the next file (see sink_clickhouse.h for
 * the layout). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "sink_clickhouse.h"
#include "sink_clickhouse_priv.h"

#define ROTATE_BYTES (1u << 20) /* a fully delivered spool file this big is replaced */

static void spool_path(const struct sw_clickhouse *c, uint64_t gen, char *out, size_t size)
{
	snprintf(out, size, "%s/spool-%016" PRIx64 ".jsonl", c->dir, gen);
}

/* ---- acknowledgement file ---- */

static int ack_write(struct sw_clickhouse *c, uint64_t gen, uint64_t off)
{
	char path[1100], tmp[1100], line[64];
	int fd, n, e = 0;

	snprintf(path, sizeof(path), "%s/ack", c->dir);
	snprintf(tmp, sizeof(tmp), "%s/ack.tmp", c->dir);
	n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", gen, off);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	e = sw_fileio__write_all(fd, line, (size_t)n);
	return sw_fileio__replace(fd, tmp, path, e);
}

static void ack_read(struct sw_clickhouse *c, uint64_t *gen, uint64_t *off)
{
	char path[1100], line[64] = "";
	FILE *f;

	*gen = *off = 0;
	snprintf(path, sizeof(path), "%s/ack", c->dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%" SCNu64 " %" SCNu64, gen, off) != 2)
		*gen = *off = 0;
	fclose(f);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* A crash in the middle of an append leaves a partial last row: cut it off. */
static uint64_t cut_partial_row(int fd, uint64_t size)
{
	char buf[4096];
	uint64_t pos = size;

	while (pos > 0) {
		size_t n = pos > sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t r = pread(fd, buf, n, (off_t)(pos - n));

		if (r != (ssize_t)n)
			return size;
		while (n > 0 && buf[n - 1] != '\n')
			n--;
		if (n > 0) {
			pos -= (uint64_t)(r - (ssize_t)n);
			break;
		}
		pos -= (uint64_t)r;
	}
	if (pos != size && ftruncate(fd, (off_t)pos))
		return size;
	return pos;
}

/* Finds the spool files, drops those already delivered, opens the last for appending. */
int ch_spool_open(struct sw_clickhouse *c)
{
	uint64_t ack_gen, ack_off, last, g, sz;
	char path[1100];
	struct dirent *de;
	DIR *d;

	ack_read(c, &ack_gen, &ack_off);
	last = ack_gen;
	d = opendir(c->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "spool-%" SCNx64 ".jsonl", &g) != 1)
			continue;
		if (g < ack_gen) {
			spool_path(c, g, path, sizeof(path));
			unlink(path);
		} else if (g > last) {
			last = g;
		}
	}
	closedir(d);
	c->st.pending = 0;
	for (g = ack_gen; g <= last; g++) {
		spool_path(c, g, path, sizeof(path));
		sz = file_size(path);
		if (g == ack_gen)
			sz = sz > ack_off ? sz - ack_off : 0;
		c->st.pending += sz;
	}
	spool_path(c, last, path, sizeof(path));
	c->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd < 0)
		return -errno;
	c->gen = last;
	sz = file_size(path);
	c->end = cut_partial_row(c->fd, sz);
	c->st.pending -= sz - c->end;
	if (last == ack_gen && ack_off > c->end)
		ack_off = c->end;
	c->ack_gen = ack_gen;
	c->ack_off = ack_off;
	c->uncertain = c->st.pending > 0; /* a crash may have come between insert and ack */
	return 0;
}

/* ---- the reader side (delivery thread) ---- */

/* Reads the next batch of whole rows after the ack; 0 bytes when none. */
ssize_t ch_read_batch(struct sw_clickhouse *c, char *buf, uint64_t *gen, uint64_t *off,
		      size_t *rows)
{
	uint64_t limit, wgen, wend;
	char path[1100];
	ssize_t r;
	size_t want, n, i, k = 0;

	pthread_mutex_lock(&c->mu);
	*gen = c->ack_gen;
	*off = c->ack_off;
	wgen = c->gen;
	wend = c->end;
	pthread_mutex_unlock(&c->mu);
	if (c->rfd < 0 || c->rgen != *gen) {
		if (c->rfd >= 0)
			close(c->rfd);
		spool_path(c, *gen, path, sizeof(path));
		c->rfd = open(path, O_RDONLY | O_CLOEXEC);
		c->rgen = *gen;
		if (c->rfd < 0)
			return -errno;
	}
	if (*gen == wgen) {
		limit = wend;
	} else {
		struct stat st;

		if (fstat(c->rfd, &st))
			return -errno;
		limit = (uint64_t)st.st_size;
	}
	if (limit <= *off)
		return 0;
	want = limit - *off > SW_CLICKHOUSE_BATCH_BYTES ? SW_CLICKHOUSE_BATCH_BYTES
							: (size_t)(limit - *off);
	r = pread(c->rfd, buf, want, (off_t)*off);
	if (r < 0)
		return -errno;
	/* Whole rows only, at most BATCH_ROWS of them. */
	for (i = 0, n = 0; i < (size_t)r; i++) {
		if (buf[i] == '\n') {
			n = i + 1;
			if (++k == SW_CLICKHOUSE_BATCH_ROWS)
				break;
		}
	}
	if (!n && (size_t)r == SW_CLICKHOUSE_BATCH_BYTES)
		return -EMSGSIZE; /* one row larger than a batch: cannot be, rows are bounded */
	*rows = k;
	return (ssize_t)n;
}

void ch_acknowledge(struct sw_clickhouse *c, uint64_t gen, uint64_t off, size_t bytes, size_t rows,
		    uint64_t skipped)
{
	char err[300];
	int e = ack_write(c, gen, off + bytes);

	if (e) {
		/* The rows are in ClickHouse; an ack that did not persist only means a check of
		 * their ids after a restart. */
		snprintf(err, sizeof(err), "spool: cannot write the ack file: %s", strerror(-e));
		ch_set_error(c, err);
	}
	pthread_mutex_lock(&c->mu);
	c->ack_off = off + bytes;
	c->st.pending -= bytes;
	c->st.delivered += rows;
	c->st.skipped += skipped;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* After the current file is fully delivered: move to the next one, or start a new file when
 * this one has grown large. */
void ch_advance_file(struct sw_clickhouse *c, uint64_t gen)
{
	char path[1100];
	int newfd = -1, moved = 0;

	pthread_mutex_lock(&c->mu);
	if (c->ack_gen == gen && c->gen == gen && c->ack_off == c->end && c->end >= ROTATE_BYTES) {
		spool_path(c, gen + 1, path, sizeof(path));
		newfd = open(path, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (newfd >= 0) {
			close(c->fd);
			c->fd = newfd;
			c->gen = gen + 1;
			c->end = 0;
		}
	}
	if (c->ack_gen == gen && c->gen > gen) {
		c->ack_gen = gen + 1;
		c->ack_off = 0;
		moved = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (!moved)
		return;
	if (!ack_write(c, gen + 1, 0)) {
		spool_path(c, gen, path, sizeof(path));
		unlink(path);
	}
}
