// SPDX-License-Identifier: Apache-2.0
/* Names in records: a file's path, a copy's source, a new name (rename, link, mkdir, mknod,
 * symlink and its target), an exec's file, an exe, a cgroup. The agent chooses them, so a
 * tracked secret can be one (a file named after a token): it would then go wherever the daemon
 * writes that name (alerts, the registry, status, the trace). Each name is matched as a fresh
 * stream before the record is handled; a secret found is replaced by the trace's filler in a
 * copy that the record's handlers see instead, and is kept out of the trace by a redaction span
 * naming it, from which a replay finds it again (so live and replay see the same names). A name
 * a session process gave that holds a secret (a file made or written under it, a directory, a
 * link) is a spread of the secret into that name. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "naming.h"
#include "pipeline_priv.h"

/* Fills the part of match [off, off + mlen) that lies in s[0, len). */
static void fill_at(char *s, size_t len, uint64_t off, size_t mlen)
{
	if (off < len)
		memset(s + off, SW_TRACELOG_FILLER, mlen < len - off ? mlen : len - off);
}

/* Room for size bytes in buffer k; NULL when out of memory. */
static char *name_room(struct sw_pipeline *p, int k, size_t size)
{
	char *b;

	if (size > p->name_cap[k]) {
		b = realloc(p->name_buf[k], size);
		if (!b)
			return NULL;
		p->name_buf[k] = b;
		p->name_cap[k] = size;
	}
	return p->name_buf[k];
}

/* Matches name s (len bytes of ev's record) as a fresh stream, its secrets kept out of the
 * trace; h holds the matches (offsets in s). */
static size_t name_hits(struct sw_pipeline *p, const struct sw_event *ev, const char *s, size_t len,
			struct hits *h)
{
	struct sw_stream *st;

	h->p = p;
	h->n = 0;
	h->redact = 0;
	if (!s || len < SW_SECRET_MIN || !(st = sw_stream__new()))
		return 0;
	pl_scan(p, h, st, NULL, s, len, (size_t)(s - (const char *)ev->hdr), 1, 0);
	sw_stream__free(st);
	return h->n;
}

/* Name *s (a field of ev's record): when it holds a tracked secret, *s becomes a copy in buffer
 * k with the secret filled (left out when out of memory: better no name than the secret). */
static void name_scan(struct sw_pipeline *p, struct sw_event *ev, int k, const char **s,
		      size_t *len, struct hits *h)
{
	char *b;
	size_t i;

	if (!name_hits(p, ev, *s, *len, h))
		return;
	b = name_room(p, k, *len);
	if (b) {
		memcpy(b, *s, *len);
		for (i = 0; i < h->n; i++)
			fill_at(b, *len, h->m[i].offset, h->m[i].len);
	} else {
		*len = 0;
	}
	*s = b;
}

/* Where the last part of a name of len bytes begins (after its last '/'). */
static size_t last_part(const char *s, size_t len)
{
	while (len && s[len - 1] != '/')
		len--;
	return len;
}

/* Keeps in h the matches that reach into the last part of a name of len bytes: the part this
 * record's process gave. The rest were named when their directory was made. Returns how many
 * are kept. */
static size_t last_part_only(struct hits *h, const char *s, size_t len)
{
	size_t from = last_part(s, len), i, n = 0;

	for (i = 0; i < h->n; i++)
		if (h->m[i].offset + h->m[i].len > from) {
			h->m[n] = h->m[i];
			h->learned[n++] = h->learned[i];
		}
	return h->n = n;
}

/* A name that holds a secret (a file made or written under it, a directory, node or link made,
 * a symlink's target): the secret spread into that name, a place of its own, told from the
 * file's bytes by its key ("name:" and the path) and the alert's message. path is the name
 * in full; (kdev, ino, gen) the file's when the record knows it, else ino 0. */
static void name_spread(struct sw_pipeline *p, const struct sw_event *ev, struct hits *h,
			const char *path, size_t path_len, uint64_t kdev, uint64_t ino,
			uint32_t gen)
{
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_artifact *a;

	if (!h->n || !path_len || !(a = calloc(1, sizeof(*a))))
		return;
	a->type = SW_ART_FILE;
	if (ino) {
		a->dev = sw_naming__user_dev(kdev);
		a->ino = ino;
		a->gen = gen;
	}
	a->in_name = 1;
	snprintf(a->path, sizeof(a->path), "%.*s", (int)path_len, path);
	snprintf(key, sizeof(key), "name:%s", a->path);
	if (!(ev->hdr->flags & SW_F_READBACK))
		pl_proc_of(p, ev->hdr);
	p->in_name = 1;
	pl_spread(p, h, ev->hdr, a, key);
	p->in_name = 0;
	free(a);
}

/* A file's path in a data record (written under it) or an open that made it: the name's last
 * part. */
static void file_name(struct sw_pipeline *p, const struct sw_event *ev, struct hits *h)
{
	if (!last_part_only(h, ev->path_raw, ev->path_raw_len))
		return;
	if (ev->hdr->type == SW_EV_DATA)
		name_spread(p, ev, h, ev->path_raw, ev->path_raw_len, ev->data->dev, ev->data->ino,
			    ev->data->gen);
	else
		name_spread(p, ev, h, ev->path_raw, ev->path_raw_len, ev->open->dev, ev->open->ino,
			    ev->open->gen);
}

/* How a name with no directory is shown: a memfd's as /proc shows it, a message queue's where
 * its file system lists it, an abstract socket's as ss(8) does. */
static const char *name_prefix(const struct sw_event *ev)
{
	if (ev->path_raw_len)
		return "/";
	switch (ev->rename->syscall_nr) {
	case SYS_memfd_create:
		return "memfd:";
	case SYS_mq_open:
		return "/dev/mqueue/";
	case SYS_bind:
		return ev->src_raw_len && ev->src_raw[0] == '/' ? "" : "@";
	default:
		return "";
	}
}

/* The whole new name of a rename record (dir + "/" + name) in buffer PL_NAME_JOIN. */
static size_t joined(struct sw_pipeline *p, const struct sw_event *ev, const char **out)
{
	const char *pre = name_prefix(ev);
	size_t n = ev->path_raw_len + strlen(pre) + ev->src_raw_len;
	char *b = name_room(p, PL_NAME_JOIN, n + 1);

	*out = b;
	if (!b)
		return 0;
	return (size_t)snprintf(b, n + 1, "%.*s%s%.*s", (int)ev->path_raw_len, ev->path_raw, pre,
				(int)ev->src_raw_len, ev->src_raw);
}

/* An exec of a program whose file name holds a secret: the kernel names the process after the
 * file (its first 15 bytes), so comm holds a part of the secret too short to match. That
 * comm, with the part filled, is kept to be filled wherever it shows up (the process's
 * children inherit it). */
static void comm_taint(struct sw_pipeline *p, const struct sw_event *ev, struct hits *h)
{
	const char *f = ev->filename, *c = ev->hdr->comm;
	size_t len = ev->filename_len, base = last_part(f, len), n, i, k;
	char filled[SW_COMM_LEN];
	int any = 0;

	n = strnlen(c, SW_COMM_LEN - 1);
	if (!n || len - base < n || memcmp(f + base, c, n) || !name_hits(p, ev, f, len, h))
		return;
	memcpy(filled, c, SW_COMM_LEN);
	for (i = 0; i < h->n; i++)
		for (k = h->m[i].offset; k < h->m[i].offset + h->m[i].len; k++)
			if (k >= base && k - base < n) {
				filled[k - base] = SW_TRACELOG_FILLER;
				any = 1;
			}
	if (!any)
		return;
	k = p->ncomm_taint++ % PL_COMM_TAINTS;
	memcpy(p->comm_taint[k].raw, c, SW_COMM_LEN);
	memcpy(p->comm_taint[k].filled, filled, SW_COMM_LEN);
}

/* The process's name (comm: prctl sets any 15 bytes; a program's name sets them too) can hold a
 * whole short secret, or the part of one a program's name left (comm_taint), and every record
 * of the process carries it in its header: the record is copied with it filled, and decoded
 * again from the copy, so each pointer into it holds. */
static void comm_scan(struct sw_pipeline *p, struct sw_event *ev, const void *rec, size_t size,
		      struct hits *h)
{
	const char *c = ev->hdr->comm;
	size_t n = strnlen(c, SW_COMM_LEN), off = (size_t)(c - (const char *)ev->hdr), i, j;
	const char *taint = NULL;
	struct sw_event copy;
	char *b;

	if (ev->hdr->type == SW_EV_EXEC && ev->filename_len)
		comm_taint(p, ev, h);
	for (i = 0; i < PL_COMM_TAINTS && i < p->ncomm_taint; i++)
		if (!memcmp(p->comm_taint[i].raw, c, SW_COMM_LEN))
			taint = p->comm_taint[i].filled;
	if ((!name_hits(p, ev, c, n, h) && !taint) || !(b = name_room(p, PL_NAME_REC, size)))
		return;
	memcpy(b, rec, size);
	/* The part a taint fills stays out of the trace too (a span naming no secret). */
	for (i = 0; taint && i < SW_COMM_LEN; i = j) {
		for (j = i; j < SW_COMM_LEN && taint[j] != c[j]; j++)
			b[off + j] = taint[j];
		if (j > i) {
			sw_redact__scope(&p->red, off + i, 0, j - i);
			sw_redact__unsettled(&p->red, 0);
		} else {
			j++;
		}
	}
	for (i = 0; i < h->n; i++)
		fill_at(b + off, n, h->m[i].offset, h->m[i].len);
	if (!sw_event__decode(b, size, &copy)) /* the bytes decoded before, the name aside */
		*ev = copy;
}

void pl_names(struct sw_pipeline *p, struct sw_event *ev, const void *rec, size_t size)
{
	struct hits *h = &p->name_hits;
	const char *path;
	size_t len;
	int made = ev->hdr->type == SW_EV_RENAME; /* a name given: its part of it spread */

	if (ev->hdr->type == SW_EV_RULES) /* the daemon's own rule files */
		return;
	comm_scan(p, ev, rec, size, h);
	ev->path_raw = ev->path;
	ev->path_raw_len = ev->path_len;
	ev->src_raw = ev->src_path;
	ev->src_raw_len = ev->src_path_len;
	name_scan(p, ev, 0, &ev->path, &ev->path_len, h);
	if (h->n && ((ev->hdr->type == SW_EV_DATA && ev->data->art_kind == SW_AK_FILE) ||
		     (ev->hdr->type == SW_EV_OPEN && (ev->open->open_flags & O_CREAT))))
		file_name(p, ev, h);
	name_scan(p, ev, 1, &ev->src_path, &ev->src_path_len, h);
	if (made && last_part_only(h, ev->src_raw, ev->src_raw_len) && (len = joined(p, ev, &path)))
		name_spread(p, ev, h, path, len, 0, 0, 0);
	name_scan(p, ev, 2, &ev->filename, &ev->filename_len, h);
	if (made && h->n && (len = joined(p, ev, &path))) /* a symlink's target: all of it */
		name_spread(p, ev, h, path, len, 0, 0, 0);
	name_scan(p, ev, 3, &ev->cgroup, &ev->cgroup_len, h);
}

static int fill_match(const struct sw_match *m, void *ctx)
{
	struct {
		char *s;
		size_t len;
	} *t = ctx;

	fill_at(t->s, t->len, m->offset, m->len);
	return 0;
}

void pl_fill_secrets(struct sw_pipeline *p, char *s, size_t len)
{
	struct {
		char *s;
		size_t len;
	} t = {s, len};
	struct sw_stream *st;

	if (len < SW_SECRET_MIN || !p->m)
		return;
	st = sw_stream__new();
	if (!st) {
		memset(s, SW_TRACELOG_FILLER, len); /* cannot tell: nothing of it */
		return;
	}
	sw_matcher__scan(p->m, st, s, len, fill_match, &t);
	sw_stream__free(st);
}

static void fill_str(struct sw_pipeline *p, char *s, size_t size)
{
	pl_fill_secrets(p, s, strnlen(s, size));
}

const struct sw_artifact *pl_fill_artifact(struct sw_pipeline *p, const struct sw_artifact *art,
					   const char **key)
{
	struct sw_artifact *f = &p->fill_art;

	*f = *art;
	fill_str(p, f->path, sizeof(f->path));
	fill_str(p, f->peer, sizeof(f->peer));
	fill_str(p, f->sni, sizeof(f->sni));
	fill_str(p, f->name, sizeof(f->name));
	fill_str(p, f->reader_exe, sizeof(f->reader_exe));
	fill_str(p, f->git.repo, sizeof(f->git.repo));
	fill_str(p, f->git.ref, sizeof(f->git.ref));
	if (*key) {
		snprintf(p->fill_key, sizeof(p->fill_key), "%s", *key);
		fill_str(p, p->fill_key, sizeof(p->fill_key));
		*key = p->fill_key;
	}
	return f;
}

void pl_names_free(struct sw_pipeline *p)
{
	size_t k;

	for (k = 0; k < PL_NAMES; k++) {
		free(p->name_buf[k]);
		p->name_buf[k] = NULL;
		p->name_cap[k] = 0;
	}
}
