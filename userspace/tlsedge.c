// SPDX-License-Identifier: Apache-2.0
/* The TLS edge; see tlsedge.h. A uprobe on a shared library traps in every process that maps
 * it unless it is attached per process: so every uprobe here is attached with the pid of one
 * session process, when that process maps (or execs) a file of the set. The kernel stops the
 * process at that mmap or exec (tls_lib_check) and tells us; we attach and resume it, so no
 * TLS write of a session process runs before its uprobe is in place. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "naming.h"
#include "procfs.h"
#include "source.h"
#include "tlsedge.h"
#include "tlsfind.h"

#define FILES_MAX      64
#define PROCS_MAX      4096
#define LINKS_MAX      8	     /* uprobes per process */
#define EXES_MAX       256	     /* executables already looked at */
#define HOLD_ATTACH_NS 1000000000ull /* a stop whose record was lost: resumed after this */
#define HOLD_GUARD_NS  100000000ull  /* no verdict within 100 ms: fail-open */
#define HOOKS_MAX      3	     /* SSL_write, SSL_write_ex, gnutls_record_send */
#define SCANS_MAX      8	     /* large binaries being looked at off the loop */
#define SCAN_WAIT_MAX  16	     /* processes waiting for one */
#define SCAN_SYNC_MAX  (16u << 20)   /* binaries up to this size are looked at on the loop */

static const char *const fn_name[] = {
	[SW_TLSW_SSL_WRITE] = "SSL_write",
	[SW_TLSW_SSL_WRITE_EX] = "SSL_write_ex",
	[SW_TLSW_GNUTLS_SEND] = "gnutls_record_send2",
};

/* A file as it was looked at: its device and inode, and what tells a new file that got the
 * inode after it was removed (a copy of libssl deleted, then any new file) from it: the inode
 * generation where the kernel gave it (a new inode's is random: it cannot be chosen), and the
 * size and modification time (an unlink changes the change time, not these). */
struct fid {
	uint64_t dev, ino; /* stat's encoding */
	int64_t mtime_ns, size;
	int64_t gen; /* -1: not known */
};

struct tfile {
	struct fid id; /* all 0: a slot free again */
	char path[PATH_MAX];
	struct sw_tls_hook hooks[HOOKS_MAX]; /* where its TLS write functions are */
	size_t nhooks;
};

struct tproc {
	uint32_t tgid;
	uint32_t nlinks;
	struct bpf_link *links[LINKS_MAX];
	uint64_t attached; /* bit per index in files[] */
	/* A job in a terminal's foreground is not stopped for its uprobes: from late_from (its
	 * record) until late_to (attached; 0 while its file is being looked at) its TLS writes
	 * pass unseen. A TCP write of it then (sock_first) is told as a TLS channel hooked late. */
	uint64_t late_from, late_to, sock_first, late_session;
	int late_idx, late_told;
};

struct texe {
	struct fid id;
	uint32_t stack; /* enum sw_tls_stack + 1 (0: none) of a binary we cannot hook */
};

/* A large binary looked at by the worker thread (a 250 MB Bun binary takes ~0.4 s: not on the
 * event loop). The processes that exec'd it wait stopped until it is done. */
struct scan {
	int used, busy, done; /* under mu */
	struct fid id;
	char path[PATH_MAX];
	struct sw_tls_hook hooks[HOOKS_MAX];
	int nhooks;
	uint32_t stack;
	int64_t gen; /* the inode generation a stopped process's record gave (-1: none yet) */
	uint32_t tgid[SCAN_WAIT_MAX]; /* the loop's alone */
	uint64_t session[SCAN_WAIT_MAX];
	uint8_t stopped[SCAN_WAIT_MAX]; /* 0: a foreground job, left running */
	size_t nwait;
};

struct tlsedge {
	struct daemon *d;
	pthread_t worker;
	int worker_ok, quit, efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct scan scans[SCANS_MAX];
	struct tfile files[FILES_MAX];
	size_t nfiles;
	struct tproc procs[PROCS_MAX];
	struct texe exes[EXES_MAX];
	size_t exes_next;
	uint64_t nprocs, nlinks, attach_failed, failopen;
	uint64_t unresolved; /* files mapped whose path was gone before they were looked at */
	uint64_t forks;	     /* children of hooked processes stopped until hooked */
	uint64_t stale;	     /* files looked at whose inode a new file took */
	uint64_t rescans;    /* processes whose executable mappings were all looked at again */
};

static void *worker(void *arg);
static int scan_async(struct tlsedge *t, uint32_t tgid, uint64_t session, const char *real,
		      const struct stat *st, int64_t gen, int stop);
static struct tproc *proc_of(struct tlsedge *t, uint32_t tgid, int create);

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct fid fid_of(const struct stat *st, int64_t gen)
{
	return (struct fid){.dev = st->st_dev,
			    .ino = st->st_ino,
			    .mtime_ns =
				    (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
			    .size = st->st_size,
			    .gen = gen};
}

static int fid_same(const struct fid *a, const struct fid *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns &&
	       a->size == b->size && (a->gen < 0 || b->gen < 0 || a->gen == b->gen);
}

/* The inode generation of the file at path (FS_IOC_GETVERSION), -1 where the filesystem does
 * not tell it. */
static int64_t gen_of(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	unsigned int gen = 0;
	int r;

	if (fd < 0)
		return -1;
	r = ioctl(fd, FS_IOC_GETVERSION, &gen);
	close(fd);
	return r ? -1 : (int64_t)gen;
}

static int file_find(const struct tlsedge *t, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].id.dev == dev && t->files[i].id.ino == ino && (dev || ino))
			return (int)i;
	return -1;
}

/* A file of the set whose inode a new file has now: out of the set (and the kernel's map). Its
 * slot is taken again once no process has its uprobes. */
static void file_forget(struct tlsedge *t, int idx)
{
	struct tfile *f = &t->files[idx];

	if (t->d->k)
		sw_kernel__tls_file_del(t->d->k, sw_naming__kernel_dev(f->id.dev), f->id.ino);
	memset(&f->id, 0, sizeof(f->id));
	f->path[0] = 0;
	f->nhooks = 0;
	t->stale++;
}

/* The index in the set of the file st is (gen: its inode generation, -1 when not known), or
 * -1. One of the set at st's device and inode that st is not (the inode reused since) leaves
 * the set; one whose generation was not known learns it. */
static int file_of(struct tlsedge *t, const struct stat *st, int64_t gen)
{
	struct fid id = fid_of(st, gen);
	int idx = file_find(t, st->st_dev, st->st_ino);

	if (idx < 0)
		return -1;
	if (!fid_same(&t->files[idx].id, &id)) {
		file_forget(t, idx);
		return -1;
	}
	if (t->files[idx].id.gen < 0)
		t->files[idx].id.gen = gen;
	return idx;
}

/* What the binary at path (resolved) carries: its hooks (the count), or 0 and *stack = 1 + the
 * enum sw_tls_stack it carries that we cannot hook (0: none). Reads the file only: the worker
 * thread calls it too. */
static int scan_file(const char *path, struct sw_tls_hook *hooks, uint32_t *stack)
{
	char what[64];
	int n = sw_tlsfind__scan(path, hooks, HOOKS_MAX);

	*stack = 0;
	if (n > 0)
		return n;
	if (sw_tlsfind__unhookable(path, what, sizeof(what)) == 1)
		*stack = 1 + (!strncmp(what, "rustls", 6)      ? SW_STACK_RUSTLS
			      : !strncmp(what, "go", 2)	       ? SW_STACK_GO
			      : !strncmp(what, "boringssl", 9) ? SW_STACK_BORINGSSL
			      : !strncmp(what, "openssl", 7)   ? SW_STACK_OPENSSL
			      : !strncmp(what, "java", 4)      ? SW_STACK_JAVA
							       : SW_STACK_UNKNOWN);
	return 0;
}

/* A slot for a file: one forgotten that no process has uprobes of, else a new one; -1. */
static int free_slot(const struct tlsedge *t)
{
	size_t i, j;

	for (i = 0; i < t->nfiles; i++) {
		if (t->files[i].id.dev || t->files[i].id.ino)
			continue;
		for (j = 0; j < PROCS_MAX; j++)
			if (t->procs[j].tgid && (t->procs[j].attached & (1ull << i)))
				break;
		if (j == PROCS_MAX)
			return (int)i;
	}
	return t->nfiles < FILES_MAX ? (int)t->nfiles : -1;
}

/* A hookable file into the set (and the kernel's map); its index, or -1. */
static int file_install(struct tlsedge *t, const char *real, const struct fid *id,
			const struct sw_tls_hook *hooks, int n)
{
	struct tfile *f;
	int idx = free_slot(t);

	if (n <= 0 || idx < 0)
		return -1;
	f = &t->files[idx];
	f->id = *id;
	memcpy(f->hooks, hooks, n * sizeof(hooks[0]));
	f->nhooks = n;
	snprintf(f->path, sizeof(f->path), "%s", real);
	if (t->d->k)
		sw_kernel__tls_file_add(t->d->k, sw_naming__kernel_dev(f->id.dev), f->id.ino);
	if (idx == (int)t->nfiles)
		t->nfiles++;
	return idx;
}

/* Adds path to the set when it has a TLS write function we can hook (the daemon's seed). */
static void file_add(struct tlsedge *t, const char *path)
{
	struct sw_tls_hook hooks[HOOKS_MAX];
	char real[PATH_MAX];
	uint32_t stack;
	struct stat st;
	struct fid id;

	if (!realpath(path, real) || stat(real, &st) || !S_ISREG(st.st_mode) ||
	    file_find(t, st.st_dev, st.st_ino) >= 0)
		return;
	id = fid_of(&st, gen_of(real));
	file_install(t, real, &id, hooks, scan_file(real, hooks, &stack));
}

static struct tproc *proc_of(struct tlsedge *t, uint32_t tgid, int create)
{
	size_t i, h = tgid % PROCS_MAX;

	for (i = 0; i < PROCS_MAX; i++) {
		struct tproc *p = &t->procs[(h + i) % PROCS_MAX];

		if (p->tgid == tgid)
			return p;
		if (!p->tgid) {
			if (!create)
				return NULL;
			p->tgid = tgid;
			t->nprocs++;
			return p;
		}
	}
	return NULL;
}

/* enum sw_tlsw of a hook (the uprobe's cookie). */
static uint32_t cookie_of(const struct sw_tls_hook *h)
{
	switch (h->fn) {
	case SW_TLS_SSL_WRITE:
		return SW_TLSW_SSL_WRITE;
	case SW_TLS_SSL_WRITE_EX:
		return SW_TLSW_SSL_WRITE_EX;
	default:
		return SW_TLSW_GNUTLS_SEND;
	}
}

/* Attaches the functions of files[idx] for tgid alone: by the file's path while it is still
 * that file, else by alt (the process's own link to its mapping: a library deleted or replaced
 * since, as an upgrade does). One that cannot be attached leaves that process's TLS writes
 * through it unseen: told as a TLS channel we could not hook. */
static void attach_at(struct tlsedge *t, uint32_t tgid, uint64_t session, int idx, const char *alt)
{
	struct tproc *p = proc_of(t, tgid, 1);
	const struct tfile *f = &t->files[idx];
	struct bpf_link *l;
	const char *path;
	struct stat st;
	struct fid id;
	int failed = 0;
	size_t i;

	if (!p) { /* PROCS_MAX processes hooked already: this one is not */
		t->attach_failed++;
		source__channel(t->d, tgid, session, SW_CH_TLS, SW_STACK_UNHOOKED, f->id.dev,
				f->id.ino, f->path);
		return;
	}
	if (p->attached & (1ull << idx))
		return;
	if (!stat(f->path, &st)) {
		id = fid_of(&st, f->id.gen >= 0 ? gen_of(f->path) : -1);
		if (fid_same(&id, &f->id))
			alt = f->path;
	}
	path = alt;
	p->attached |= 1ull << idx;
	/* Its children forked from now on are stopped until they have their own. */
	if (t->d->k)
		sw_kernel__tls_proc_add(t->d->k, tgid);
	for (i = 0; i < f->nhooks; i++) {
		uint32_t fn = cookie_of(&f->hooks[i]);

		if (p->nlinks >= LINKS_MAX) {
			t->attach_failed++;
			failed = 1;
			continue;
		}
		l = path ? sw_kernel__tls_attach(t->d->k, tgid, path, NULL, f->hooks[i].offset, fn)
			 : NULL;
		if (!l) {
			t->attach_failed++;
			failed = 1;
			log_warn("tls: cannot attach to %s in %s for pid %u: %s", fn_name[fn],
				 f->path, tgid, path ? strerror(errno) : "the file is gone");
			continue;
		}
		p->links[p->nlinks++] = l;
		t->nlinks++;
	}
	/* (a process gone already has nothing left to hook) */
	if (failed && !(kill((pid_t)tgid, 0) && errno == ESRCH))
		source__channel(t->d, tgid, session, SW_CH_TLS, SW_STACK_UNHOOKED, f->id.dev,
				f->id.ino, f->path);
}

static void attach(struct tlsedge *t, uint32_t tgid, uint64_t session, int idx)
{
	attach_at(t, tgid, session, idx, NULL);
}

static void resume(struct tlsedge *t, uint32_t tgid)
{
	sw_kernel__tls_held_del(t->d->k, tgid);
	kill(tgid, SIGCONT);
}

static void resume_any(uint32_t tgid, const struct sw_hold *h, void *ctx)
{
	(void)h;
	resume(ctx, tgid);
}

/* The libraries of the host that carry a TLS stack we hook, and the node executables on the
 * PATH (node exports OpenSSL's SSL_write). Other executables are learned when a session runs
 * them. */
static void seed(struct tlsedge *t)
{
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
					   "/usr/lib64", "/usr/lib", "/usr/local/lib"};
	static const char *const libs[] = {"libssl.so.3", "libgnutls.so.30"};
	const char *path = getenv("PATH");
	char buf[PATH_MAX], *dup, *dir, *save = NULL;
	size_t i, j;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		for (j = 0; j < sizeof(libs) / sizeof(libs[0]); j++) {
			snprintf(buf, sizeof(buf), "%s/%s", dirs[i], libs[j]);
			if (!access(buf, R_OK))
				file_add(t, buf);
		}
	dup = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = dup ? strtok_r(dup, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/node", dir);
		if (!access(buf, X_OK))
			file_add(t, buf);
	}
	free(dup);
}

struct tlsedge *tlsedge__new(struct daemon *d)
{
	struct tlsedge *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->d = d;
	t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->worker_ok = t->efd >= 0 && !pthread_create(&t->worker, NULL, worker, t);
	seed(t);
	/* A previous daemon may have left processes stopped: they go on (unhooked until they
	 * map a TLS library again; counted). */
	if (d->k)
		sw_kernel__tls_held_each(d->k, resume_any, t);
	return t;
}

void tlsedge__free(struct tlsedge *t)
{
	size_t i, j;

	if (!t)
		return;
	if (t->worker_ok) {
		pthread_mutex_lock(&t->mu);
		t->quit = 1;
		pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->worker, NULL);
	}
	if (t->efd >= 0)
		close(t->efd);
	/* A daemon that stops leaves nobody stopped: what waits for it goes on, unhooked. */
	if (t->d->k)
		sw_kernel__tls_held_each(t->d->k, resume_any, t);
	for (i = 0; i < PROCS_MAX; i++)
		for (j = 0; j < t->procs[i].nlinks; j++)
			sw_kernel__tls_detach(t->procs[i].links[j]);
	free(t);
}

static void remember_exe(struct tlsedge *t, const struct fid *id, uint32_t stack)
{
	t->exes[t->exes_next].id = *id;
	t->exes[t->exes_next].stack = stack;
	t->exes_next = (t->exes_next + 1) % EXES_MAX;
}

/* The verdict on the binary st is (gen as file_of takes it), looked at before (stack as in
 * struct texe): 1, or 0 when not (a new file at the inode of one looked at is not that one). */
static int exe_known(const struct tlsedge *t, const struct stat *st, int64_t gen, uint32_t *stack)
{
	struct fid id = fid_of(st, gen);
	size_t i;

	for (i = 0; i < EXES_MAX; i++)
		if (fid_same(&t->exes[i].id, &id) && (id.dev || id.ino)) {
			*stack = t->exes[i].stack;
			return 1;
		}
	return 0;
}

/* A file looked at with no TLS stack to hook: the kernel stops nobody for it again. */
static void mark_seen(struct tlsedge *t, uint64_t dev, uint64_t ino, int64_t gen)
{
	if (gen >= 0 && t->d->k)
		sw_kernel__tls_seen_add(t->d->k, sw_naming__kernel_dev(dev), ino, (uint32_t)gen);
}

/* A look at a binary (n hooks found in it; *stack the TLS stack it carries that we cannot
 * hook) applied: hooked when it has hooks and there is room (its index), else -1 and *stack (a
 * hookable file with no room left for it is a stack we cannot hook); remembered either way. */
static int settle(struct tlsedge *t, const char *path, const struct fid *id,
		  const struct sw_tls_hook *hooks, int n, uint32_t *stack)
{
	int idx = file_install(t, path, id, hooks, n);

	if (idx >= 0)
		*stack = 0;
	else if (n > 0)
		*stack = 1 + SW_STACK_UNKNOWN;
	remember_exe(t, id, *stack);
	return idx;
}

/* Looks at the binary at path (st its stat), not looked at before: a large one off the loop
 * (0: tgid waits for it, stopped unless stop is 0), else here (1, *stack as settle gives). */
static int look(struct tlsedge *t, uint32_t tgid, uint64_t session, const char *path,
		const struct stat *st, int64_t gen, int stop, uint32_t *stack)
{
	struct sw_tls_hook hooks[HOOKS_MAX];
	struct fid id = fid_of(st, gen);
	int n;

	if (!scan_async(t, tgid, session, path, st, gen, stop))
		return 0;
	n = scan_file(path, hooks, stack);
	settle(t, path, &id, hooks, n, stack);
	return 1;
}

/* The path of what r's process mapped at r->addr (or exec'd: addr 0), checked to be that file
 * (dev, ino): the one the record carries, else the process's; else the process's own link to
 * the mapping (a file deleted or replaced since). 0, or -1 when none is there. */
struct at_addr {
	unsigned long long addr;
	struct sw_mapping m; /* the one that starts there */
};

static int starts_at(const struct sw_mapping *m, void *ctx)
{
	struct at_addr *a = ctx;

	if (m->lo != a->addr)
		return 0;
	a->m = *m;
	return 1;
}

static int mapped_path(const struct sw_tlslib_rec *r, uint64_t dev, char *out, size_t cap)
{
	size_t tail = r->hdr.size > sizeof(*r) ? r->hdr.size - sizeof(*r) : 0;
	struct at_addr a = {.addr = r->addr};
	char range[64];
	struct stat st;

	if (tail && tail < cap) {
		memcpy(out, r + 1, tail);
		out[tail] = 0;
		if (!stat(out, &st) && st.st_dev == dev && st.st_ino == r->ino)
			return 0;
	}
	if (!r->addr) {
		snprintf(range, sizeof(range), "/proc/%u/exe", r->hdr.tgid);
		if (!realpath(range, out) || stat(out, &st) || st.st_dev != dev ||
		    st.st_ino != r->ino)
			snprintf(out, cap, "%s", range);
		return stat(out, &st) ? -1 : 0;
	}
	if (sw_procfs__each_mapping(r->hdr.tgid, starts_at, &a) != 1)
		return -1;
	if (a.m.path[0] == '/' && !stat(a.m.path, &st) && st.st_dev == dev && st.st_ino == r->ino)
		snprintf(out, cap, "%s", a.m.path);
	else
		snprintf(out, cap, "/proc/%u/map_files/%llx-%llx", r->hdr.tgid, a.m.lo, a.m.hi);
	return stat(out, &st) ? -1 : 0;
}

/* A file a session process mapped executable or exec'd (path, st: where it is now; gen: its
 * inode generation, -1 when not known) that is not in the set: looked at now unless it was before
 * (a large one off the loop, the process waiting stopped), hooked when it has a TLS write function,
 * else marked seen; a TLS stack we cannot hook is reported as a channel. 0 when the process waits
 * for a look off the loop. */
static int learn_mapped(struct tlsedge *t, const struct sw_tlslib_rec *r, const char *path,
			const struct stat *st, int64_t gen, int stopped)
{
	uint32_t stack = 0;

	if (!exe_known(t, st, gen, &stack) &&
	    !look(t, r->hdr.tgid, r->hdr.session_id, path, st, gen, stopped, &stack))
		return 0;
	if (file_of(t, st, gen) >= 0)
		return -1; /* attached by the caller */
	mark_seen(t, st->st_dev, st->st_ino, gen);
	/* (an exec's stack is told with its exec record: learn_exe) */
	if (stack && r->addr)
		source__channel(t->d, r->hdr.tgid, r->hdr.session_id, SW_CH_TLS, stack - 1,
				st->st_dev, st->st_ino, path);
	return -1;
}

/* A foreground job that was not stopped: its TLS writes from ktime since until now passed
 * unseen (attached is 0 while its file is still being looked at: the window stays open). */
static void late_window(struct tlsedge *t, uint32_t tgid, uint64_t session, uint64_t since, int idx,
			int attached)
{
	struct tproc *p = proc_of(t, tgid, 1);

	if (!p || p->late_told)
		return;
	if (!p->late_from || since < p->late_from)
		p->late_from = since;
	p->late_session = session;
	p->late_idx = idx;
	p->late_to = attached ? mono_ns() : 0;
	if (attached && p->sock_first && idx >= 0) {
		const struct tfile *f = &t->files[idx];

		p->late_told = 1;
		source__channel(t->d, tgid, session, SW_CH_TLS, SW_STACK_LATE, f->id.dev, f->id.ino,
				f->path);
	}
}

/* A file r's process mapped executable: hooked for it, looked at first when it is not in the
 * set (the kernel knew it not, or it is a new file at the inode of one in the set). 0 when the
 * process waits for a look off the loop (resumed when it is done). */
static int on_mapped(struct tlsedge *t, const struct sw_tlslib_rec *r, int stopped, int late)
{
	uint64_t dev = sw_naming__user_dev(r->dev);
	/* (a rescan does not know the generation) */
	int64_t gen = r->flags & SW_TLSLIB_RESCAN ? -1 : (int64_t)r->gen;
	char path[PATH_MAX];
	struct stat st;
	int idx;

	if (mapped_path(r, dev, path, sizeof(path)) || stat(path, &st)) {
		t->unresolved++; /* gone already: fails open, counted */
		return 1;
	}
	idx = file_of(t, &st, gen);
	if (idx < 0 && !learn_mapped(t, r, path, &st, gen, stopped)) {
		if (late) /* being looked at: its TCP writes meanwhile are noted */
			late_window(t, r->hdr.tgid, r->hdr.session_id, r->hdr.ktime, -1, 0);
		return 0;
	}
	idx = file_of(t, &st, gen);
	if (idx >= 0) {
		attach_at(t, r->hdr.tgid, r->hdr.session_id, idx, path);
		if (late)
			late_window(t, r->hdr.tgid, r->hdr.session_id, r->hdr.ktime, idx, 1);
	}
	return 1;
}

/* SW_TLSLIB_RESCAN: an mprotect made something executable that the kernel could not look at.
 * Every executable file mapping of the process is taken as if it had just been mapped (the
 * kernel is told first that a later mprotect needs a look of its own). 0 when the process
 * waits for a look off the loop. */
struct rescan_ctx {
	struct tlsedge *t;
	const struct sw_tlslib_rec *r;
	int stopped, late, resume;
};

static int rescan_one(const struct sw_mapping *mp, void *ctx)
{
	struct rescan_ctx *c = ctx;
	struct {
		struct sw_tlslib_rec r;
		char tail[sizeof(mp->path)]; /* the path the maps line gives (mapped_path checks) */
	} m;
	size_t len = mp->path[0] == '/' ? strlen(mp->path) : 0;

	if (!strchr(mp->perms, 'x') || !mp->ino)
		return 0;
	m.r = *c->r;
	memcpy(m.tail, mp->path, len);
	m.r.hdr.size = sizeof(m.r) + len;
	m.r.dev = sw_naming__kernel_dev(mp->dev);
	m.r.ino = mp->ino;
	m.r.addr = mp->lo;
	m.r.gen = 0; /* (not known here: learn_mapped leaves tls_seen alone) */
	/* (one looked at before is not looked at again: learn_mapped knows it) */
	m.r.flags = c->r->flags | SW_TLSLIB_UNKNOWN;
	if (!on_mapped(c->t, &m.r, c->stopped, c->late))
		c->resume = 0;
	return 0;
}

static int rescan(struct tlsedge *t, const struct sw_tlslib_rec *r, int stopped, int late)
{
	struct rescan_ctx c = {.t = t, .r = r, .stopped = stopped, .late = late, .resume = 1};

	t->rescans++;
	if (t->d->k)
		sw_kernel__tls_rescan_done(t->d->k, r->hdr.tgid);
	sw_procfs__each_mapping(r->hdr.tgid, rescan_one, &c);
	return c.resume;
}

void tlsedge__on_tlslib(struct tlsedge *t, const struct sw_tlslib_rec *r)
{
	int stopped = !(r->flags & SW_TLSLIB_NOT_STOPPED);
	/* (a process left running while no daemon ran is the no-daemon gap's to tell) */
	int late = !stopped && !(r->flags & SW_TLSLIB_NO_DAEMON);
	int done;

	/* A child forked by a process with TLS hooks: the files it maps (its parent's) get its
	 * own uprobes, then it goes on. */
	if (r->flags & SW_TLSLIB_FORKED) {
		t->forks++;
		tlsedge__on_proc(t, r->hdr.tgid, r->hdr.session_id);
		done = 1;
	} else if (r->flags & SW_TLSLIB_RESCAN) {
		done = rescan(t, r, stopped, late);
	} else {
		done = on_mapped(t, r, stopped, late);
	}
	if (done && stopped)
		resume(t, r->hdr.tgid);
}

void tlsedge__on_data(struct tlsedge *t, const struct sw_data_rec *d)
{
	struct tproc *p;

	if (d->art_kind != SW_AK_SOCKET || d->protocol != IPPROTO_TCP || d->family == AF_UNIX)
		return;
	p = proc_of(t, d->hdr.tgid, 0);
	if (!p || !p->late_from || p->late_told || p->sock_first || d->hdr.ktime < p->late_from ||
	    (p->late_to && d->hdr.ktime > p->late_to))
		return;
	p->sock_first = d->hdr.ktime;
	if (p->late_to) /* attached, but after this write */
		late_window(t, d->hdr.tgid, p->late_session, p->late_from, p->late_idx, 1);
}

static void *worker(void *arg)
{
	struct tlsedge *t = arg;
	struct sw_tls_hook hooks[HOOKS_MAX];
	char path[PATH_MAX];
	uint64_t one = 1;
	uint32_t stack;
	struct scan *sc;
	size_t i;
	int n;

	pthread_mutex_lock(&t->mu);
	while (!t->quit) {
		for (i = 0, sc = NULL; i < SCANS_MAX && !sc; i++)
			if (t->scans[i].used && !t->scans[i].busy && !t->scans[i].done)
				sc = &t->scans[i];
		if (!sc) {
			pthread_cond_wait(&t->cv, &t->mu);
			continue;
		}
		sc->busy = 1;
		snprintf(path, sizeof(path), "%s", sc->path);
		pthread_mutex_unlock(&t->mu);
		n = scan_file(path, hooks, &stack);
		pthread_mutex_lock(&t->mu);
		memcpy(sc->hooks, hooks, sizeof(hooks));
		sc->nhooks = n;
		sc->stack = stack;
		sc->done = 1;
		sc->busy = 0;
		if (write(t->efd, &one, sizeof(one)) < 0)
			continue; /* the loop's tick polls too */
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Whether tgid waits, stopped, for a look still running (a rescan may start several). */
static int waits_for_scan(struct tlsedge *t, uint32_t tgid)
{
	size_t i, j;
	int found = 0;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < SCANS_MAX && !found; i++)
		for (j = 0; t->scans[i].used && j < t->scans[i].nwait && !found; j++)
			found = t->scans[i].tgid[j] == tgid && t->scans[i].stopped[j];
	pthread_mutex_unlock(&t->mu);
	return found;
}

/* The processes waiting for a binary's look are told what it is (the caller resumes them). */
static void scan_done(struct tlsedge *t, struct scan *sc)
{
	int idx = settle(t, sc->path, &sc->id, sc->hooks, sc->nhooks, &sc->stack);
	size_t i;

	if (idx < 0)
		mark_seen(t, sc->id.dev, sc->id.ino, sc->gen);
	for (i = 0; i < sc->nwait; i++) {
		struct tproc *p = proc_of(t, sc->tgid[i], 0);

		if (idx >= 0)
			attach(t, sc->tgid[i], sc->session[i], idx);
		else if (sc->stack)
			source__channel(t->d, sc->tgid[i], sc->session[i], SW_CH_TLS, sc->stack - 1,
					sc->id.dev, sc->id.ino, sc->path);
		if (sc->stopped[i])
			continue; /* resumed by the caller */
		if (idx >= 0)	  /* (a window opened at its record stays as it was opened) */
			late_window(t, sc->tgid[i], sc->session[i], mono_ns(), idx, 1);
		else if (p && !p->late_to) /* nothing to hook there: no window */
			p->late_from = p->sock_first = 0;
	}
}

void tlsedge__poll(struct tlsedge *t)
{
	struct scan done[SCANS_MAX];
	uint64_t n;
	size_t i, j, nd = 0;

	if (!t || !t->worker_ok)
		return;
	if (read(t->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&t->mu);
	for (i = 0; i < SCANS_MAX; i++)
		if (t->scans[i].used && t->scans[i].done) {
			done[nd++] = t->scans[i];
			memset(&t->scans[i], 0, sizeof(t->scans[i]));
		}
	pthread_mutex_unlock(&t->mu);
	for (i = 0; i < nd; i++)
		scan_done(t, &done[i]);
	/* Once every look done is applied: a process waits for no other look (a rescan may
	 * start several) before it goes on. */
	for (i = 0; i < nd; i++)
		for (j = 0; j < done[i].nwait; j++)
			if (done[i].stopped[j] && !waits_for_scan(t, done[i].tgid[j]))
				resume(t, done[i].tgid[j]);
}

/* A large binary: looked at by the worker while the process that exec'd it waits, stopped (so
 * no TLS write of it runs unseen). 0 when queued, -1 to look at it here. */
static int scan_async(struct tlsedge *t, uint32_t tgid, uint64_t session, const char *real,
		      const struct stat *st, int64_t gen, int stop)
{
	struct fid id = fid_of(st, gen);
	struct scan *sc = NULL;
	size_t i;

	if (!t->worker_ok || (uint64_t)st->st_size <= SCAN_SYNC_MAX)
		return -1;
	pthread_mutex_lock(&t->mu);
	for (i = 0; i < SCANS_MAX && !sc; i++)
		if (t->scans[i].used && fid_same(&t->scans[i].id, &id))
			sc = &t->scans[i];
	for (i = 0; i < SCANS_MAX && !sc; i++)
		if (!t->scans[i].used) {
			sc = &t->scans[i];
			memset(sc, 0, sizeof(*sc));
			sc->used = 1;
			sc->gen = -1;
			sc->id = id;
			snprintf(sc->path, sizeof(sc->path), "%s", real);
			pthread_cond_signal(&t->cv);
		}
	if (sc && gen >= 0)
		sc->gen = gen;
	if (sc && sc->nwait < SCAN_WAIT_MAX) {
		sc->tgid[sc->nwait] = tgid;
		sc->stopped[sc->nwait] = (uint8_t)stop;
		sc->session[sc->nwait++] = session;
	}
	pthread_mutex_unlock(&t->mu);
	if (!sc)
		return -1;
	/* Stopped like at an mmap of a TLS library; a look that takes too long fails open. A
	 * foreground job runs on (late_window). */
	if (stop && t->d->k && !sw_kernel__tls_held_add(t->d->k, tgid, SW_HOLD_ATTACH))
		kill(tgid, SIGSTOP);
	return 0;
}

/* An executable not seen before: where its TLS writes can be hooked, or which TLS stack it
 * carries that cannot be (told to the pipeline as a channel record). Looked at once per
 * binary; a large one off the loop. */
static void learn_exe(struct tlsedge *t, uint32_t tgid, uint64_t session, const char *exe)
{
	char real[PATH_MAX];
	uint32_t stack = 0;
	struct stat st;

	int64_t gen;

	if (!realpath(exe, real) || stat(real, &st) || !S_ISREG(st.st_mode))
		return;
	gen = gen_of(real);
	if (file_of(t, &st, gen) >= 0)
		return;
	if (!exe_known(t, &st, gen, &stack) &&
	    !look(t, tgid, session, real, &st, gen, !sw_procfs__foreground_job(tgid), &stack))
		return;
	if (stack)
		source__channel(t->d, tgid, session, SW_CH_TLS, stack - 1, st.st_dev, st.st_ino,
				real);
}

struct proc_ctx {
	struct tlsedge *t;
	uint32_t tgid;
	uint64_t session;
};

/* By the device and inode the maps line gives: a library deleted or replaced since it was
 * mapped (an upgrade, a copy removed) is still that file, hooked through the process's own
 * link to it. */
static int attach_mapped(const struct sw_mapping *m, void *ctx)
{
	struct proc_ctx *c = ctx;
	char path[128];
	struct stat st;
	int idx;

	if (!strchr(m->perms, 'x') || !m->ino || file_find(c->t, m->dev, m->ino) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", c->tgid, m->lo, m->hi);
	idx = stat(path, &st) ? -1 : file_of(c->t, &st, gen_of(path));
	if (idx >= 0)
		attach_at(c->t, c->tgid, c->session, idx, path);
	return 0;
}

void tlsedge__on_proc(struct tlsedge *t, uint32_t tgid, uint64_t session)
{
	struct proc_ctx c = {.t = t, .tgid = tgid, .session = session};
	char *exe;

	if (!t->d->k)
		return;
	exe = sw_procfs__exe(tgid);
	if (exe && exe[0] == '/')
		learn_exe(t, tgid, session, exe);
	free(exe);
	sw_procfs__each_mapping(tgid, attach_mapped, &c);
}

void tlsedge__on_exit(struct tlsedge *t, uint32_t tgid)
{
	struct tproc *p = proc_of(t, tgid, 0);
	size_t i, h, j;

	if (!p)
		return;
	for (i = 0; i < p->nlinks; i++)
		sw_kernel__tls_detach(p->links[i]);
	t->nlinks -= p->nlinks;
	t->nprocs--;
	/* Open addressing: re-insert the entries after the hole. */
	memset(p, 0, sizeof(*p));
	h = p - t->procs;
	for (j = (h + 1) % PROCS_MAX; t->procs[j].tgid; j = (j + 1) % PROCS_MAX) {
		struct tproc moved = t->procs[j], *q;

		memset(&t->procs[j], 0, sizeof(t->procs[j]));
		t->nprocs--;
		q = proc_of(t, moved.tgid, 1);
		if (q)
			*q = moved;
	}
}

struct stale {
	struct tlsedge *t;
	uint64_t now;
};

static void resume_stale(uint32_t tgid, const struct sw_hold *h, void *ctx)
{
	struct stale *s = ctx;
	uint64_t limit = h->why == SW_HOLD_GUARD ? HOLD_GUARD_NS : HOLD_ATTACH_NS;

	struct sw_hdr hd = {.pid = h->tid, .tgid = tgid};

	if (s->now > h->ktime && s->now - h->ktime > limit) {
		s->t->failopen++;
		resume(s->t, tgid);
		/* A held write nobody decided in time went out as it was: a gap. */
		if (h->why == SW_HOLD_GUARD)
			source__guarded(s->t->d, &hd, SW_GA_FAILOPEN, -ETIMEDOUT, 0);
	}
}

void tlsedge__tick(struct tlsedge *t)
{
	struct stale s = {.t = t, .now = mono_ns()};

	if (t->d->k)
		sw_kernel__tls_held_each(t->d->k, resume_stale, &s);
}

void tlsedge__stats(const struct tlsedge *t, struct tlsedge_stats *out)
{
	size_t i, live = 0;

	for (i = 0; i < t->nfiles; i++)
		live += t->files[i].id.dev || t->files[i].id.ino;
	*out = (struct tlsedge_stats){.files = live,
				      .processes = t->nprocs,
				      .uprobes = t->nlinks,
				      .attach_failed = t->attach_failed,
				      .failopen = t->failopen,
				      .unresolved = t->unresolved,
				      .forks = t->forks,
				      .rescans = t->rescans,
				      .stale = t->stale};
}

int tlsedge__fd(const struct tlsedge *t)
{
	return t && t->worker_ok ? t->efd : -1;
}
