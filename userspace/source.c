// SPDX-License-Identifier: Apache-2.0
/* The live source: every input of the pipeline passes here, and all of the daemon's I/O on the
 * pipeline's behalf. Kernel records from the ring; records of its own for what it reads itself
 * (/proc, files read back, fanotify closes, the clock); the pipeline's requests carried out and
 * answered with records. Every record goes to the trace log with the spans the pipeline marked,
 * so a replay feeds the pipeline exactly this sequence. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "gitstore.h"
#include "naming.h"
#include "procfs.h"
#include "rulesrec.h"
#include "source.h"
#include "tlsedge.h"

#define QUEUE_MAX      65536	  /* requests waiting for an answer; more are counted as lost */
#define READBACK_SLICE (1u << 20) /* bytes read back a turn of the event loop (scanned, traced) */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void own_hdr(struct sw_hdr *h, uint16_t type, uint32_t size)
{
	h->type = type;
	h->size = size;
	h->ktime = mono_ns();
}

static void to_sinks(const struct sw_alert *a, void *ctx)
{
	struct daemon *d = ctx;
	size_t i;

	for (i = 0; i < d->nout_sinks; i++)
		sw_sink__emit(d->out_sinks[i], a);
}

static void feed(struct daemon *d, const void *rec, size_t size);

/* What /proc says of a process the pipeline has not met (it was in the scope before the daemon
 * started, or its exec record was lost). */
static void tell_proc(struct daemon *d, const struct sw_hdr *h)
{
	static struct { /* static: argv may be SW_ARGS_LEN (256 KiB); one thread */
		struct sw_proc_rec r;
		char tail[SW_PATH_LEN + SW_ARGS_LEN + SW_PATH_LEN];
	} pr;
	size_t args_len = 0, exe_len, cg_len;
	char *exe = sw_procfs__exe(h->tgid), *args = sw_procfs__cmdline(h->tgid, &args_len);
	char *cg = sw_procfs__cgroup(h->tgid);

	memset(&pr.r, 0, sizeof(pr.r));
	pr.r.hdr = *h;
	exe_len = exe ? strnlen(exe, SW_PATH_LEN) : 0;
	if (args_len > SW_ARGS_LEN)
		args_len = SW_ARGS_LEN;
	if (exe_len)
		memcpy(pr.tail, exe, exe_len);
	if (args_len)
		memcpy(pr.tail + exe_len, args, args_len);
	cg_len = cg ? strnlen(cg, SW_PATH_LEN) : 0;
	if (cg_len)
		memcpy(pr.tail + exe_len + args_len, cg, cg_len);
	pr.r.exe_len = exe_len;
	pr.r.args_len = args_len;
	pr.r.cgroup_len = cg_len;
	own_hdr(&pr.r.hdr, SW_EV_PROC, sizeof(pr.r) + exe_len + args_len + cg_len);
	free(exe);
	free(args);
	free(cg);
	feed(d, &pr, pr.r.hdr.size);
}

/* The cgroup of a session process that exec'd (a proc record with nothing else). */
static void tell_cgroup(struct daemon *d, const struct sw_hdr *h)
{
	struct {
		struct sw_proc_rec r;
		char cg[SW_PATH_LEN];
	} pr;
	uint64_t id = h->type == SW_EV_FORK ? ((const struct sw_fork_rec *)h)->cgroup_id
					    : ((const struct sw_exec_rec *)h)->cgroup_id;
	/* The cgroup the kernel saw at the fork or exec, while its directory lasts: the
	 * process may be gone by now (a subshell that wrote and exited), its parent too. */
	char *cg = sw_procfs__cgroup_of_id(id);
	size_t len;

	if (!cg)
		cg = sw_procfs__cgroup(h->tgid);
	/* A child gone already was forked in its parent's cgroup. */
	if (cg && !cg[0] && h->type == SW_EV_FORK && h->ppid) {
		free(cg);
		cg = sw_procfs__cgroup(h->ppid);
	}
	len = cg ? strnlen(cg, SW_PATH_LEN) : 0;
	if (len) {
		memset(&pr.r, 0, sizeof(pr.r));
		pr.r.hdr = *h;
		pr.r.hdr.flags = 0;
		pr.r.cgroup_len = len;
		memcpy(pr.cg, cg, len);
		own_hdr(&pr.r.hdr, SW_EV_PROC, sizeof(pr.r) + len);
		feed(d, &pr, pr.r.hdr.size);
	}
	free(cg);
}

static void tell_renamed(struct daemon *d, const struct sw_hdr *h, const char *path,
			 const struct stat *sb)
{
	struct {
		struct sw_renamed_rec r;
		char path[SW_PATH_LEN];
	} rr;
	size_t len = strnlen(path, SW_PATH_LEN);

	memset(&rr.r, 0, sizeof(rr.r));
	rr.r.hdr = *h;
	rr.r.dev = sb->st_dev;
	rr.r.ino = sb->st_ino;
	rr.r.path_len = len;
	memcpy(rr.path, path, len);
	own_hdr(&rr.r.hdr, SW_EV_RENAMED, sizeof(rr.r) + len);
	feed(d, &rr, rr.r.hdr.size);
}

void source__renamed(struct daemon *d, const char *path, const struct stat *st)
{
	struct stat none = {0};
	struct sw_hdr h;

	memset(&h, 0, sizeof(h));
	tell_renamed(d, &h, path, st ? st : &none);
}

/* A name given (a rename, a link, ...): what it turned out to be (dev, ino), checked now. */
static void after_rename(struct daemon *d, const struct sw_event *ev)
{
	char path[2 * SW_PATH_LEN + 2];
	struct stat sb;

	/* Names that are no file's: a memfd's, a message queue's, an abstract socket's (no
	 * directory known). */
	if (ev->rename->syscall_nr == SYS_memfd_create || ev->rename->syscall_nr == SYS_mq_open ||
	    (!ev->path_len && (!ev->src_path_len || ev->src_path[0] != '/')))
		return;
	if (ev->path_len)
		snprintf(path, sizeof(path), "%.*s/%.*s", (int)ev->path_len, ev->path,
			 (int)ev->src_path_len, ev->src_path);
	else
		snprintf(path, sizeof(path), "%.*s", (int)ev->src_path_len, ev->src_path);
	if (!lstat(path, &sb) && S_ISREG(sb.st_mode))
		tell_renamed(d, ev->hdr, path, &sb);
}

static void answer_reader(struct daemon *d, const struct sw_request *q)
{
	struct {
		struct sw_reader_rec r;
		char exe[SW_PATH_LEN];
	} rr;
	uint32_t pid = 0;
	char *exe = NULL;
	size_t len = 0;

	/* A terminal: which of the session's agent processes holds its pty's master side. */
	if (!q->ino) {
		uint32_t masters[16], index;
		size_t n, i, j;
		char *end;

		if (q->path && !strncmp(q->path, "/dev/pts/", 9) && q->path[9]) {
			index = strtoul(q->path + 9, &end, 10);
			n = *end ? 0 : sw_procfs__pty_masters(index, q->hdr.tgid, masters, 16);
			for (i = 0; i < q->ncand && !pid; i++)
				for (j = 0; j < n && !pid; j++)
					if (masters[j] == q->cand[i])
						pid = masters[j];
		}
	} else if (!d->k || !sw_kernel__pipe_reader(d->k, q->dev, q->ino, &pid) ||
		   pid == q->hdr.tgid) {
		/* The session process the kernel saw read it last (it may have exited), else
		 * whoever holds its read end now. */
		pid = sw_procfs__pipe_reader(q->ino, q->hdr.tgid);
	}
	if (pid && (exe = sw_procfs__exe(pid)))
		len = strnlen(exe, SW_PATH_LEN);
	memset(&rr.r, 0, sizeof(rr.r));
	rr.r.hdr.pid = rr.r.hdr.tgid = pid;
	rr.r.dev = q->dev;
	rr.r.ino = q->ino;
	rr.r.exe_len = len;
	if (len)
		memcpy(rr.exe, exe, len);
	free(exe);
	own_hdr(&rr.r.hdr, SW_EV_READER, sizeof(rr.r) + len);
	feed(d, &rr, rr.r.hdr.size);
}

static void answer_adopt(struct daemon *d, const struct sw_request *q)
{
	struct sw_session_rec r;
	struct sw_scope sc;
	uint64_t id = 0;

	if (d->k && sw_kernel__scope_get(d->k, q->hdr.tgid, &sc) == 1) {
		id = sc.session_id;
	} else if (d->k) {
		id = new_session_id(d);
		if (sw_kernel__scope_add(d->k, q->hdr.tgid, id, q->hdr.tgid))
			id = 0;
	}
	memset(&r, 0, sizeof(r));
	r.hdr.pid = r.hdr.tgid = q->hdr.tgid;
	r.hdr.session_id = id;
	snprintf(r.agent, sizeof(r.agent), "%s", q->label);
	own_hdr(&r.hdr, SW_EV_SESSION, sizeof(r));
	feed(d, &r, sizeof(r));
	if (id && d->tls)
		tlsedge__on_proc(d->tls, q->hdr.tgid, id); /* adopted: its TLS stacks are mapped */
}

static void tell_closed(struct daemon *d, const struct sw_hdr *h, uint64_t dev, uint64_t ino)
{
	struct sw_closed_rec r;

	memset(&r, 0, sizeof(r));
	r.hdr = *h;
	r.dev = dev;
	r.ino = ino;
	own_hdr(&r.hdr, SW_EV_CLOSED, sizeof(r));
	feed(d, &r, sizeof(r));
}

/* Hear of closes of a file a session wrote around write(2): an inode mark, so nothing else on
 * the host pays for it. Closed before we could ask: that is the close. */
static void answer_watch(struct daemon *d, const struct sw_request *q)
{
	if (d->fan_fd >= 0 &&
	    fanotify_mark(d->fan_fd, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, q->path))
		d->fan_errors++;
	if (!sw_procfs__has_open(q->hdr.tgid, q->dev, q->ino))
		tell_closed(d, &q->hdr, q->dev, q->ino);
}

static void answer_name_fd(struct daemon *d, const struct sw_request *q)
{
	char *path = sw_procfs__fd_path(q->hdr.tgid, q->fd);
	struct stat sb = {.st_dev = q->dev, .st_ino = q->ino};

	if (path && path[0] == '/')
		tell_renamed(d, &q->hdr, path, &sb);
	free(path);
}

/* Reads a file range back as data records: a copy's source for its destination, or a whole
 * file as a fresh stream of its own. A range that fits in one slice (READBACK_SLICE) is read at
 * once, right after the record that asked for it; a larger one is parked and read a slice a turn
 * of the event loop (while the turns go on: records, clients, other requests), so it never holds
 * the loop. */
static void rb_begin(struct source_readback *rb, struct sw_request *q)
{
	struct sw_data_rec *r = &rb->rec;
	int fd;

	memset(rb, 0, sizeof(*rb));
	rb->q = *q;
	if (q->rescan) {
		/* A stream of its own, named like the file in its first chunk. */
		r->hdr = q->hdr;
		r->art_kind = SW_AK_FILE;
		r->dev = sw_naming__kernel_dev(q->dev);
		r->ino = q->ino;
		r->gen = q->gen;
		r->fd = -1;
		rb->path_len = strnlen(q->path, SW_PATH_LEN);
	} else {
		*r = q->copy; /* the destination's stream, named already by the copy record */
		r->src_path_len = 0;
	}
	r->file_pos = -1;
	r->total = q->length;
	/* At a close, the file the close event handed over (dup'd when the request was queued)
	 * is this very file, whatever its name is now (SQLite removes its -shm file on the last
	 * close). */
	if (q->fd >= 0)
		fd = q->fd;
	else
		fd = open(q->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	/* A rescanned file deleted or replaced since: nothing is left there. A copy's source gone
	 * is loss: its bytes are in the destination. */
	rb->gone = q->rescan && fd < 0 && errno == ENOENT;
	if (fd >= 0 && (fstat(fd, &rb->sb) || !S_ISREG(rb->sb.st_mode) || rb->sb.st_dev != q->dev ||
			rb->sb.st_ino != q->ino)) {
		rb->gone = q->rescan; /* another file has the name now */
		close(fd);
		fd = -1;
	}
	rb->off = q->offset;
	if (fd < 0 && !q->rescan && q->dst_path && q->copy.file_pos >= 0) {
		/* The copy's source replaced or gone: its bytes are in the destination. */
		fd = open(q->dst_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0 && (fstat(fd, &rb->sb) || !S_ISREG(rb->sb.st_mode) ||
				rb->sb.st_dev != sw_naming__user_dev(q->copy.dev) ||
				rb->sb.st_ino != q->copy.ino)) {
			close(fd);
			fd = -1;
		}
		rb->off = fd >= 0 ? (uint64_t)q->copy.file_pos : rb->off;
	}
	rb->fd = fd;
	rb->first = 1;
	rb->active = 1;
}

/* Bytes the read-back still has to read, as far as the file goes now. */
static uint64_t rb_left(const struct source_readback *rb)
{
	uint64_t left = rb->q.length - rb->done, in_file;

	if (rb->fd < 0)
		return 0;
	in_file = (uint64_t)rb->sb.st_size > rb->off ? (uint64_t)rb->sb.st_size - rb->off : 0;
	return left < in_file ? left : in_file;
}

static void rb_end(struct source_readback *rb)
{
	if (rb->fd >= 0)
		close(rb->fd);
	free(rb->q.path);
	free(rb->q.dst_path);
	memset(rb, 0, sizeof(*rb));
	rb->fd = -1;
}

/* The read-back rb, as far as *budget goes (spent as it reads); 1 while more is left. */
static int rb_step(struct daemon *d, struct source_readback *rb, uint64_t *budget)
{
	const struct sw_request *q = &rb->q;
	struct sw_data_rec *r = d->readbuf;
	uint8_t *tail = (uint8_t *)(r + 1), *data;
	ssize_t n;

	while (*budget) {
		size_t want = q->length - rb->done < SW_CHUNK ? q->length - rb->done : SW_CHUNK;
		uint16_t fl = SW_F_READBACK | (q->rescan ? SW_F_RESCAN : 0);

		*r = rb->rec; /* readbuf is shared by the parked read-backs */
		r->path_len = rb->first ? rb->path_len : 0;
		if (r->path_len)
			memcpy(tail, q->path, r->path_len);
		data = tail + r->path_len;
		n = rb->fd >= 0 && want ? pread(rb->fd, data, want, rb->off) : 0;
		if (n < 0 || rb->fd < 0)
			fl |= SW_F_READ_ERR | SW_F_LAST | (rb->gone ? SW_F_GONE : 0);
		if (n <= 0 || (size_t)n < want || rb->done + n >= q->length)
			fl |= SW_F_LAST;
		/* Stopped at the bound with more in the file: say so. */
		if (n > 0 && rb->done + n >= q->length && q->rescan &&
		    rb->sb.st_size > (off_t)(rb->off + n))
			fl |= SW_F_TRUNCATED;
		if (rb->first)
			fl |= SW_F_FIRST;
		/* The closer let go of the file: what it wrote through a mapping is all here. */
		if ((fl & SW_F_LAST) && !(fl & SW_F_READ_ERR) && q->settle &&
		    !sw_procfs__has_open(q->hdr.tgid, q->dev, q->ino) &&
		    !sw_procfs__has_mapping(q->hdr.tgid, q->dev, q->ino))
			fl |= SW_F_SETTLED;
		r->hdr.flags = fl;
		r->offset = rb->done;
		r->data_len = n > 0 ? n : 0;
		own_hdr(&r->hdr, SW_EV_DATA, sizeof(*r) + r->path_len + r->data_len);
		rb->rec.hdr.ktime = r->hdr.ktime;
		feed(d, r, r->hdr.size);
		sodium_memzero(data, r->data_len);
		rb->first = 0;
		if (n > 0) {
			rb->done += n;
			rb->off += n;
			*budget -= (uint64_t)n < *budget ? (uint64_t)n : *budget;
		}
		if (fl & SW_F_LAST) {
			rb_end(rb);
			return 0;
		}
	}
	return 1;
}

static struct source_readback *rb_free_slot(struct daemon *d)
{
	size_t i;

	for (i = 0; i < SOURCE_READBACKS_MAX; i++)
		if (!d->rb[i].active)
			return &d->rb[i];
	return NULL;
}

void source__guarded(struct daemon *d, const struct sw_hdr *h, uint32_t action, int32_t result,
		     uint32_t spans)
{
	struct sw_guarded_rec r;

	memset(&r, 0, sizeof(r));
	r.hdr = *h;
	r.hdr.flags = 0;
	r.action = action;
	r.result = result;
	r.spans = spans;
	own_hdr(&r.hdr, SW_EV_GUARDED, sizeof(r));
	feed(d, &r, sizeof(r));
}

/* The guard's verdict on a held TLS write, carried out: the secret's spans overwritten in the
 * stopped writer's buffer (same length), or the writer killed; then it goes on. An overwrite
 * that fails kills the writer: the secret would leave as it is. */
static void answer_verdict(struct daemon *d, const struct sw_request *q)
{
	static const char marker[] = "********************************";
	uint32_t tgid = q->hdr.tgid, i, done = 0;
	uint32_t action = q->action;
	int32_t result = 0;

	for (i = 0; action == SW_GA_REDACTED && i < q->nspans && !result; i++) {
		uint64_t off = 0, len = q->spans[i].length;

		if (q->spans[i].offset + len > q->length) {
			result = -ERANGE;
			break;
		}
		while (off < len && !result) {
			size_t n = len - off < sizeof(marker) - 1 ? len - off : sizeof(marker) - 1;
			struct iovec l = {.iov_base = (void *)marker, .iov_len = n};
			struct iovec r = {.iov_base = (void *)(uintptr_t)(q->offset +
									  q->spans[i].offset + off),
					  .iov_len = n};

			if (process_vm_writev(tgid, &l, 1, &r, 1, 0) != (ssize_t)n)
				result = -errno ? -errno : -EIO;
			off += n;
		}
		if (!result)
			done++;
	}
	if (result)
		action = SW_GA_KILLED;
	if (d->k)
		sw_kernel__tls_held_del(d->k, tgid);
	if (kill(tgid, action == SW_GA_KILLED ? SIGKILL : SIGCONT) && !result)
		result = -errno;
	source__guarded(d, &q->hdr, action, result, done);
}

/* A delta's base from a repository's object store (the pipeline's SW_REQ_GIT_BASE), as data
 * records of their own kind: read whole (bounded by the request's length, so a few reads and
 * at most that much inflating, on the loop like a read-back's slice), fed in chunks; one that
 * cannot be had is one record flagged SW_F_READ_ERR. */
static void answer_git_base(struct daemon *d, const struct sw_request *q)
{
	struct sw_data_rec *r = d->readbuf;
	uint8_t id[SW_GIT_ID_BYTES], *obj = NULL, *data = (uint8_t *)(r + 1);
	char dir[PATH_MAX];
	size_t len = 0, off = 0, n;
	uint16_t fl;
	int type = 0, e;

	if (q->path)
		e = snprintf(dir, sizeof(dir), "%s", q->path) < (int)sizeof(dir) ? 0
										 : -ENAMETOOLONG;
	else
		e = sw_gitstore__gitdir_of((pid_t)q->hdr.tgid, dir, sizeof(dir));
	if (!e)
		e = sw_gitobj__parse_id(q->label, strnlen(q->label, sizeof(q->label)), id);
	if (!e)
		e = sw_gitstore__read(dir, id, q->length, &type, &obj, &len);
	if (e)
		len = 0;
	do {
		n = len - off < SW_CHUNK ? len - off : SW_CHUNK;
		memset(r, 0, sizeof(*r));
		r->hdr = q->hdr;
		fl = SW_F_READBACK | (off ? 0 : SW_F_FIRST);
		if (off + n >= len)
			fl |= SW_F_LAST;
		if (e)
			fl |= SW_F_READ_ERR | (e == -EFBIG ? SW_F_TRUNCATED : 0);
		r->hdr.flags = fl;
		r->art_kind = SW_AK_GITOBJ;
		r->ino = q->ino;
		r->syscall_nr = (uint32_t)type;
		r->total = len;
		r->offset = off;
		r->fd = -1;
		r->file_pos = -1;
		r->src_pos = -1;
		r->data_len = (uint32_t)n;
		if (n)
			memcpy(data, obj + off, n);
		own_hdr(&r->hdr, SW_EV_DATA, sizeof(*r) + n);
		feed(d, r, r->hdr.size);
		sodium_memzero(data, n);
		off += n;
	} while (!(fl & SW_F_LAST));
	if (obj) {
		sodium_memzero(obj, len);
		free(obj);
	}
}

/* The pipeline's requests wait in a queue: answering one feeds records, which may ask more.
 * Answered in order, one at a time, never from inside a record. */
static void enqueue(struct daemon *d)
{
	const struct sw_request *rq;
	struct sw_request *q;
	size_t n, i;

	rq = sw_pipeline__requests(d->pl, &n);
	for (i = 0; i < n; i++) {
		if (d->nreq - d->reqhead >= QUEUE_MAX) {
			d->requests_lost += n - i;
			return;
		}
		if (d->nreq == d->reqcap) {
			size_t live = d->nreq - d->reqhead, cap = live * 2 + 64;

			q = malloc(cap * sizeof(*q));
			if (!q) {
				d->requests_lost += n - i;
				return;
			}
			memcpy(q, d->reqq + d->reqhead, live * sizeof(*q));
			free(d->reqq);
			d->reqq = q;
			d->reqcap = cap;
			d->nreq = live;
			d->reqhead = 0;
		}
		q = &d->reqq[d->nreq];
		*q = rq[i];
		q->path = rq[i].path ? strdup(rq[i].path) : NULL;
		q->dst_path = rq[i].dst_path ? strdup(rq[i].dst_path) : NULL;
		if (rq[i].path && !q->path) {
			free(q->dst_path);
			d->requests_lost++;
			continue;
		}
		/* A read-back asked at a close may wait behind another: it keeps the file the close
		 * handed over (its name may be gone by the time it runs). */
		if (q->kind == SW_REQ_READBACK)
			q->fd = d->close_fd >= 0 && d->close_dev == q->dev && d->close_ino == q->ino
					? fcntl(d->close_fd, F_DUPFD_CLOEXEC, 0)
					: -1;
		d->nreq++;
	}
}

static void answer_all(struct daemon *d)
{
	struct source_readback *rb;
	struct sw_request q;
	size_t i;

	for (;;) {
		/* Parked read-backs go on while this turn's budget lasts. */
		for (i = 0; i < SOURCE_READBACKS_MAX && d->rb_budget; i++)
			if (d->rb[i].active)
				rb_step(d, &d->rb[i], &d->rb_budget);
		if (d->reqhead >= d->nreq)
			break;
		/* Every slot parked: the requests wait, in order, for one to finish. */
		if (d->reqq[d->reqhead].kind == SW_REQ_READBACK && !rb_free_slot(d))
			return;
		q = d->reqq[d->reqhead++];
		switch (q.kind) {
		case SW_REQ_ADOPT:
			answer_adopt(d, &q);
			break;
		case SW_REQ_READER:
			answer_reader(d, &q);
			break;
		case SW_REQ_READBACK:
			if (q.path) {
				uint64_t all = UINT64_MAX;

				rb = rb_free_slot(d);
				rb_begin(rb, &q); /* owns the path and the fd from now on */
				if (rb_left(rb) <= READBACK_SLICE)
					rb_step(d, rb, &all); /* small: at once, in order */
				continue;
			}
			break;
		case SW_REQ_WATCH_CLOSE:
			if (q.path)
				answer_watch(d, &q);
			break;
		case SW_REQ_NAME_FD:
			answer_name_fd(d, &q);
			break;
		case SW_REQ_VERDICT:
			answer_verdict(d, &q);
			break;
		case SW_REQ_GIT_BASE:
			answer_git_base(d, &q);
			break;
		}
		if (q.kind == SW_REQ_READBACK && q.fd >= 0)
			close(q.fd);
		free(q.path);
		free(q.dst_path);
	}
	d->reqhead = d->nreq = 0;
}

static void feed(struct daemon *d, const void *rec, size_t size)
{
	const struct sw_hdr *h = rec;
	const struct sw_redaction *red;
	struct sw_event ev;
	size_t nred;

	if (size < sizeof(*h))
		return;
	/* A session process the pipeline has not met: /proc first, while it still runs. */
	if (h->session_id && h->type != SW_EV_FORK && h->type != SW_EV_EXEC &&
	    h->type != SW_EV_EXIT && h->type < SW_EV_SESSION && !(h->flags & SW_F_READBACK) &&
	    !sw_pipeline__knows(d->pl, h->tgid))
		tell_proc(d, h);
	sw_pipeline__record(d->pl, rec, size);
	red = sw_pipeline__redactions(d->pl, &nred);
	if (d->trace && sw_tracelog_writer__append(d->trace, rec, size, h->ktime, red, nred))
		d->trace_errors++;
	sw_pipeline__drain_alerts(d->pl, to_sinks, d);
	enqueue(d);
	if (h->type == SW_EV_DATA && (h->flags & SW_F_SHARED_MM) && !(h->flags & SW_F_READBACK))
		racecheck__note(d, rec, size); /* after it: the write's own alerts come first */
	if (h->type == SW_EV_RENAME && !sw_event__decode(rec, size, &ev))
		after_rename(d, &ev);
	/* The cgroup of a session process that exec'd (a container starts by exec) or was forked
	 * (a runtime moves its child before the exec; a shell moves itself, then forks). */
	if (((h->type == SW_EV_EXEC && size >= sizeof(struct sw_exec_rec)) ||
	     (h->type == SW_EV_FORK && size >= sizeof(struct sw_fork_rec))) &&
	    h->session_id && !(h->flags & SW_F_CANDIDATE))
		tell_cgroup(d, h);
}

/* Every entry point feeds its record, then answers what it asked, and what that asked. */
void source__feed(struct daemon *d, const void *rec, size_t size)
{
	feed(d, rec, size);
	answer_all(d);
}

int source__open_written(uint32_t tgid, int32_t fd, const char *path, uint64_t dev, uint64_t ino)
{
	char proc[64];
	struct stat sb;
	int f = -1, i;

	for (i = 0; i < 2 && f < 0; i++) {
		if (i == 0 && path && path[0]) {
			f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		} else if (i == 1 && fd >= 0) {
			snprintf(proc, sizeof(proc), "/proc/%u/fd/%d", tgid, fd);
			f = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		}
		if (f >= 0 && (fstat(f, &sb) || !S_ISREG(sb.st_mode) ||
			       sb.st_dev != sw_naming__user_dev(dev) || sb.st_ino != ino)) {
			close(f);
			f = -1;
		}
	}
	return f;
}

uint16_t source__rescan_step(struct daemon *d, struct sw_data_rec *r, struct source_rescan *rs)
{
	size_t want = rs->len - rs->done < SW_CHUNK ? rs->len - rs->done : SW_CHUNK, got;
	uint16_t fl = SW_F_READBACK | SW_F_RESCAN;
	uint8_t *data;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->hdr = rs->hdr;
	r->art_kind = SW_AK_FILE;
	r->dev = rs->dev;
	r->ino = rs->ino;
	r->gen = rs->gen;
	r->fd = -1;
	r->file_pos = -1;
	r->src_pos = -1;
	r->total = rs->len;
	r->offset = rs->done;
	if (!rs->done) {
		fl |= SW_F_FIRST;
		r->path_len = rs->path_len < SW_PATH_LEN ? rs->path_len : 0;
		memcpy(r + 1, rs->path, r->path_len);
	}
	if (rs->done + want >= rs->len)
		fl |= SW_F_LAST;
	data = (uint8_t *)(r + 1) + r->path_len;
	n = rs->fd >= 0 && want ? pread(rs->fd, data, want, rs->start + rs->done) : -1;
	/* Gone, replaced, unreadable or shorter than the range: the rest is not there. */
	if (n < 0 || (size_t)n < want)
		fl |= SW_F_READ_ERR | SW_F_LAST;
	got = n > 0 ? (size_t)n : 0;
	rs->done += got;
	r->hdr.flags = fl;
	r->data_len = got;
	r->hdr.type = SW_EV_DATA;
	r->hdr.ktime = mono_ns();
	r->hdr.size = sizeof(*r) + r->path_len + got;
	/* Answering may read back into the source's buffer (r, for some callers): the data is
	 * wiped by what was read, not by what r says after. */
	source__feed(d, r, sizeof(*r) + r->path_len + got);
	sodium_memzero(data, got);
	return fl;
}

int source__busy(const struct daemon *d)
{
	size_t i;

	for (i = 0; i < SOURCE_READBACKS_MAX; i++)
		if (d->rb[i].active)
			return 1;
	return d->reqhead < d->nreq; /* requests waiting for a slot */
}

void source__resume(struct daemon *d)
{
	d->rb_budget = READBACK_SLICE;
	answer_all(d);
	d->rb_budget = 0; /* one slice a turn for the parked read-backs, all of them together */
}

static void tick(struct daemon *d, uint16_t flags)
{
	struct sw_tick_rec r;
	struct timespec ts;

	memset(&r, 0, sizeof(r));
	own_hdr(&r.hdr, SW_EV_TICK, sizeof(r));
	r.hdr.flags = flags;
	if (!d->ticked++)
		r.hdr.flags |= SW_F_FIRST; /* a daemon starts: a replay forgets what it knew */
	clock_gettime(CLOCK_REALTIME, &ts);
	r.realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	source__feed(d, &r, sizeof(r));
}

void source__tick(struct daemon *d)
{
	tick(d, 0);
}

void source__index(struct daemon *d, uint64_t gen)
{
	struct sw_tick_rec r;
	struct timespec ts;

	memset(&r, 0, sizeof(r));
	own_hdr(&r.hdr, SW_EV_TICK, sizeof(r));
	r.hdr.flags = SW_F_INDEX;
	r.hdr.session_id = gen;
	if (!d->ticked++)
		r.hdr.flags |= SW_F_FIRST;
	clock_gettime(CLOCK_REALTIME, &ts);
	r.realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	source__feed(d, &r, sizeof(r));
}

void source__loss(struct daemon *d)
{
	struct sw_loss_rec r;
	struct sw_loss now, *l = &r.loss;

	if (!d->k || sw_kernel__loss(d->k, &now))
		return;
	memset(&r, 0, sizeof(r));
	l->ringbuf_full = now.ringbuf_full - d->loss_seen.ringbuf_full;
	l->truncated = now.truncated - d->loss_seen.truncated;
	l->read_errors = now.read_errors - d->loss_seen.read_errors;
	l->path_truncated = now.path_truncated - d->loss_seen.path_truncated;
	l->scope_full = now.scope_full - d->loss_seen.scope_full;
	l->copies_unread = now.copies_unread - d->loss_seen.copies_unread;
	l->spilled = now.spilled - d->loss_seen.spilled;
	d->loss_seen = now;
	/* The next daemon learns when this one was last alive and what it told already. */
	sw_kernel__alive(d->k, real_ns(), &now);
	if (!l->ringbuf_full && !l->truncated && !l->read_errors && !l->path_truncated &&
	    !l->scope_full && !l->copies_unread)
		return; /* nothing lost: nothing to say, nothing to record */
	own_hdr(&r.hdr, SW_EV_LOSS, sizeof(r));
	source__feed(d, &r, sizeof(r));
}

void source__down(struct daemon *d)
{
	const struct sw_kernel_prev *pv;
	struct sw_loss_rec r;

	if (!d->k)
		return;
	pv = sw_kernel__previous(d->k);
	d->loss_seen = *sw_kernel__told(d->k);
	if (!pv->found) {
		sw_kernel__alive(d->k, real_ns(),
				 &d->loss_seen); /* the kernel may stop for us now */
		return;
	}
	memset(&r, 0, sizeof(r));
	r.loss = pv->lost;
	r.down_since_ns = pv->alive_real_ns;
	r.drained_bytes = pv->drained_bytes;
	r.dropped_bytes = pv->dropped_bytes;
	own_hdr(&r.hdr, SW_EV_LOSS, sizeof(r));
	r.hdr.flags = SW_F_DOWN;
	source__feed(d, &r, sizeof(r));
	sw_kernel__alive(d->k, real_ns(), &d->loss_seen);
}

void source__session(struct daemon *d, uint64_t id, uint32_t root, const char *agent)
{
	struct sw_session_rec r;

	memset(&r, 0, sizeof(r));
	r.hdr.pid = r.hdr.tgid = root;
	r.hdr.session_id = id;
	snprintf(r.agent, sizeof(r.agent), "%s", agent ? agent : "");
	own_hdr(&r.hdr, SW_EV_SESSION, sizeof(r));
	source__feed(d, &r, sizeof(r));
}

int source__rules(struct daemon *d, const struct sw_embedded_file *files)
{
	long n = sw_rulesrec__pack(files, d->rulesbuf,
				   SW_RULES_REC_MAX + sizeof(struct sw_rules_rec));

	if (n < 0)
		return (int)n;
	own_hdr(d->rulesbuf, SW_EV_RULES, n);
	source__feed(d, d->rulesbuf, n);
	return 0;
}

void source__channel(struct daemon *d, uint32_t tgid, uint64_t session, uint32_t channel,
		     uint32_t detail, uint64_t dev, uint64_t ino, const char *path)
{
	struct {
		struct sw_channel_rec r;
		char path[SW_PATH_LEN];
	} c;
	size_t len = strnlen(path, SW_PATH_LEN);

	memset(&c.r, 0, sizeof(c.r));
	c.r.hdr.pid = c.r.hdr.tgid = tgid;
	c.r.hdr.session_id = session;
	c.r.channel = channel;
	c.r.detail = detail;
	c.r.dev = dev;
	c.r.ino = ino;
	c.r.path_len = len;
	memcpy(c.path, path, len);
	own_hdr(&c.r.hdr, SW_EV_CHANNEL, sizeof(c.r) + len);
	/* Told from inside a request's answer (an adoption) too: the queue answers what it
	 * raises. */
	feed(d, &c, c.r.hdr.size);
}

void source__fanotify(struct daemon *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct fanotify_event_metadata *md;
	struct sw_hdr h;
	struct stat st;
	ssize_t n;

	n = read(d->fan_fd, buf, sizeof(buf));
	if (n <= 0)
		return;
	for (md = (void *)buf; FAN_EVENT_OK(md, n); md = FAN_EVENT_NEXT(md, n)) {
		if (md->vers != FANOTIFY_METADATA_VERSION)
			break;
		if (md->fd < 0)
			continue;
		if (!fstat(md->fd, &st)) {
			memset(&h, 0, sizeof(h));
			h.pid = h.tgid = md->pid;
			d->close_fd = md->fd;
			d->close_dev = st.st_dev;
			d->close_ino = st.st_ino;
			tell_closed(d, &h, st.st_dev, st.st_ino);
			answer_all(d);
			d->close_fd = -1;
		}
		close(md->fd);
	}
}

void source__stop(struct daemon *d)
{
	int i;

	for (i = 0; d->k && i < 1 << 16 && sw_kernel__consume(d->k) > 0; i++)
		;
	spill__stop(d); /* file bytes the ring had no room for */
	/* Files of live writers awaiting a read-back are read back now, then every held alert
	 * goes out. */
	tick(d, SW_F_LAST);	   /* the stop, as a record: the pipeline asks for its read-backs */
	d->rb_budget = UINT64_MAX; /* the loop has stopped: nothing else waits */
	while (source__busy(d))
		answer_all(d);
	sw_pipeline__finish(d->pl);
	sw_pipeline__drain_alerts(d->pl, to_sinks, d);
}
