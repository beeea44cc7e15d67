// SPDX-License-Identifier: Apache-2.0
/* The secret index, built off the event loop. A changed secret set (a CLI edit, SIGHUP, the
 * one-second poll, or secrets the detectors learned to be saved) is a job for one worker
 * thread: save what was learned into the file (under the CLI's lock), read the set, build its
 * matcher. The loop hears of the result through an eventfd, stages it in the pipeline and
 * feeds the tick record that puts it in force (SW_F_INDEX, the job's generation): the switch
 * is a record, so a replay switches at the same point. A small set (the file under
 * INLINE_BYTES) is built on the loop at once, the same way: that takes less than a millisecond
 * or two, and a reload asked for by a CLI that leaks next is then in force before it answers. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "learn.h"
#include "matcher.h"
#include "originwatch.h"
#include "secretset.h"
#include "source.h"

#define INLINE_BYTES (64u << 10) /* ~100 secrets: built on the loop, well under 50 ms */

struct job {
	uint64_t gen;
	struct sw_secretset *learned; /* to save before reading (NULL: none) */
	/* results */
	int err, save_err, saved;
	struct sw_secretset *set;
	struct sw_matcher *m;
	struct stat st; /* of the file read */
	/* while building */
	const struct sw_key *key;
	struct sw_matcher_build *mb;
};

struct daemon_index {
	pthread_t th;
	int started, efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit, busy, want;		   /* want: another job after this one */
	struct sw_secretset *want_learned; /* learned secrets for that job */
	struct job job;			   /* the worker's, while busy; then the result */
	int done;
	uint64_t gen_next;
	const char *secrets, *lock;
	struct sw_key key;
};

/* The index, built as the set file is read (secretset.c reads it twice: counted, then each
 * secret's patterns handed here), so that the patterns of 100,000 secrets are never all held
 * at once: the set kept is lean (names, ids, origins; the index has the patterns). */
static int index_begin(void *ctx, const struct sw_secretset_stats *st)
{
	struct job *j = ctx;

	j->mb = sw_matcher__build_new(j->key, st->npat, st->minlen, st->maxlen,
				      SW_PIPELINE_INDEX_RESERVE);
	return j->mb ? 0 : -errno;
}

static int index_add(void *ctx, const struct sw_secret *s, uint32_t index)
{
	struct job *j = ctx;

	return sw_matcher__build_add(j->mb, s, index);
}

/* Saves learned into the file (under the lock), then reads it and builds its index. */
static void run_job(const struct daemon_index *x, struct job *j)
{
	struct sw_secretset_sink sink = {.begin = index_begin, .add = index_add, .ctx = j};
	int fd, n;

	fd = open(x->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		j->err = -errno;
		if (fd >= 0)
			close(fd);
		return;
	}
	if (j->learned && j->learned->n) {
		n = sw_learn__save(x->secrets, &x->key, j->learned);
		j->saved = n > 0 ? n : 0;
		j->save_err = n < 0 ? n : 0;
	}
	if (stat(x->secrets, &j->st))
		memset(&j->st, 0, sizeof(j->st));
	j->key = &x->key;
	j->err = sw_secretset__load_lean(x->secrets, &x->key, &sink, &j->set);
	close(fd);
	if (!j->err) {
		j->m = sw_matcher__build_finish(j->mb);
		if (!j->m)
			j->err = -errno;
		else /* the loop's first lookup (status, a detector's find) would build it */
			j->err = sw_secretset__index(j->set);
	} else {
		sw_matcher__build_free(j->mb);
	}
	j->mb = NULL;
	if (j->err) {
		sw_secretset__free(j->set);
		sw_matcher__free(j->m);
		j->set = NULL;
		j->m = NULL;
	}
	/* What the read and the build freed (buffers, lists, a failed build): back to the
	 * system (glibc keeps a thread's freed arena otherwise). */
	malloc_trim(0);
}

static void *worker(void *arg)
{
	struct daemon_index *x = arg;
	uint64_t one = 1;
	struct job j;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (!x->quit && !(x->busy && !x->done))
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->quit)
			break;
		j = x->job;
		pthread_mutex_unlock(&x->mu);
		run_job(x, &j);
		pthread_mutex_lock(&x->mu);
		x->job = j;
		x->done = 1;
		if (write(x->efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow here; nothing to do */
		}
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

int daemon_index__new(struct daemon *d)
{
	struct daemon_index *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->efd = -1;
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	x->secrets = d->paths.secrets;
	x->lock = d->paths.lock;
	x->key = d->key;
	d->index = x;
	return 0;
}

int daemon_index__start(struct daemon *d)
{
	struct daemon_index *x = d->index;

	x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->efd < 0)
		return -errno;
	if (pthread_create(&x->th, NULL, worker, x))
		return -EAGAIN;
	x->started = 1;
	return add_fd(d, x->efd, TAG_INDEX) ? -errno : 0;
}

void daemon_index__stop(struct daemon *d)
{
	struct daemon_index *x = d->index;

	if (!x)
		return;
	if (x->started) {
		pthread_mutex_lock(&x->mu);
		x->quit = 1;
		pthread_cond_signal(&x->cv);
		pthread_mutex_unlock(&x->mu);
		/* a job running finishes first (bounded by one load and build) */
		pthread_join(x->th, NULL);
	}
	if (x->done) {
		sw_secretset__free(x->job.set);
		sw_matcher__free(x->job.m);
	}
	sw_secretset__free(x->job.learned);
	sw_secretset__free(x->want_learned);
	if (x->efd >= 0)
		close(x->efd);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->cv);
	sodium_memzero(&x->key, sizeof(x->key));
	free(x);
	d->index = NULL;
}

struct retired {
	struct sw_secretset *set;
	struct sw_matcher *m;
};

static void *free_retired(void *arg)
{
	struct retired *r = arg;

	sw_secretset__free(r->set);
	sw_matcher__free(r->m);
	free(r);
	malloc_trim(0);
	return NULL;
}

/* The index a switch replaced is freed by a thread of its own, not on the loop. */
static void retire(struct daemon *d)
{
	struct retired *r = calloc(1, sizeof(*r));
	pthread_attr_t at;
	pthread_t th;
	int ok = 0;

	if (!r)
		return; /* the pipeline frees it at the next switch */
	sw_pipeline__retired(d->pl, &r->set, &r->m);
	if (!r->set && !r->m) {
		free(r);
		return;
	}
	if (!pthread_attr_init(&at)) {
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		ok = !pthread_create(&th, &at, free_retired, r);
		pthread_attr_destroy(&at);
	}
	if (!ok)
		free_retired(r);
}

/* A finished job's result into the pipeline, put in force by its tick record. */
static int apply(struct daemon *d, struct job *j)
{
	const struct sw_secretset *set;

	sw_secretset__free(j->learned);
	j->learned = NULL;
	if (j->save_err)
		log_err("%s: cannot save learned secrets: %s", d->paths.secrets,
			strerror(-j->save_err));
	else if (j->saved)
		logmsg("learned %d secret(s) from detectors", j->saved);
	d->secrets_st = j->st;
	if (j->err) {
		/* At start the caller decides (refuse or warn); later, a state_warning per change
		 * of the file, and the set in force stays (daemon_state.c). */
		if (d->k)
			daemon_state__secrets_failed(d, j->err, 0);
		return j->err;
	}
	d->secrets_damaged = 0;
	sw_pipeline__stage_secrets(d->pl, j->gen, j->set, j->m);
	j->set = NULL;
	j->m = NULL;
	source__index(d, j->gen);
	retire(d);
	push_origins(d);
	originwatch__sync(d); /* the new set's origins as their paths name them now */
	set = sw_pipeline__secrets(d->pl);
	logmsg("tracking %zu secret(s)", set->n);
	return 0;
}

/* What the detectors learned since the last job, for the next one to save. */
static struct sw_secretset *take_learned(struct daemon *d)
{
	struct sw_secretset *l;

	if (!sw_pipeline__learned_pending(d->pl))
		return NULL;
	l = sw_secretset__new();
	if (l && sw_pipeline__learned(d->pl, l) < 0) {
		sw_secretset__free(l);
		l = NULL;
	}
	return l;
}

static void merge_learned(struct sw_secretset **into, struct sw_secretset *more)
{
	if (!more)
		return;
	if (!*into) {
		*into = more;
		return;
	}
	sw_learn__export(more, *into);
	sw_secretset__free(more);
}

int daemon_index__request(struct daemon *d, int wait)
{
	struct daemon_index *x = d->index;
	struct sw_secretset *learned = take_learned(d);
	struct stat st;
	struct job j;
	int e = 0, busy;

	pthread_mutex_lock(&x->mu);
	busy = x->busy;
	if (busy) { /* after the running job, once more */
		x->want = 1;
		merge_learned(&x->want_learned, learned);
		e = (int)(x->job.gen + 1);
	} else if (x->started && !wait && !stat(d->paths.secrets, &st) &&
		   st.st_size > INLINE_BYTES) {
		memset(&x->job, 0, sizeof(x->job));
		x->job.gen = ++x->gen_next;
		x->job.learned = learned;
		x->busy = 1;
		x->done = 0;
		e = (int)x->job.gen;
		pthread_cond_signal(&x->cv);
	}
	pthread_mutex_unlock(&x->mu);
	if (busy || e)
		return e;
	/* Small, or the daemon's start (nothing to serve yet): here and now. */
	memset(&j, 0, sizeof(j));
	j.gen = ++x->gen_next;
	j.learned = learned;
	run_job(x, &j);
	return apply(d, &j);
}

/* Whether path is still the file st was taken of (a set file is replaced, never rewritten). */
static int same_file(const char *path, const struct stat *st)
{
	struct stat now;

	if (stat(path, &now))
		return 0;
	return now.st_dev == st->st_dev && now.st_ino == st->st_ino && now.st_size == st->st_size &&
	       now.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == st->st_mtim.tv_nsec;
}

void daemon_index__ready(struct daemon *d)
{
	struct daemon_index *x = d->index;
	struct stat st;
	uint64_t n;
	struct job j;
	int again, applied;

	if (read(x->efd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&x->mu);
	if (!x->done) {
		pthread_mutex_unlock(&x->mu);
		return;
	}
	j = x->job;
	memset(&x->job, 0, sizeof(x->job));
	x->busy = 0;
	x->done = 0;
	again = x->want;
	x->want = 0;
	pthread_mutex_unlock(&x->mu);
	st = j.st;
	applied = !apply(d, &j);
	if (again) {
		/* the learned secrets held for it go to the new job */
		struct sw_secretset *held = x->want_learned;

		x->want_learned = NULL;
		merge_learned(&held, take_learned(d));
		/* Asked for while the file was being read (the CLI's reload after the one-second
		 * poll saw its file change): when the file is the one just put in force and there
		 * is nothing to save, that index is the answer. Its generation still comes, as a
		 * tick, for whoever waits on it: building the same 100,000 again held a second
		 * index
		 * (~110 MiB) for nothing. */
		if (applied && !held && same_file(d->paths.secrets, &st)) {
			source__index(d, ++x->gen_next);
			return;
		}
		pthread_mutex_lock(&x->mu);
		x->job.gen = ++x->gen_next;
		x->job.learned = held;
		x->busy = 1;
		pthread_cond_signal(&x->cv);
		pthread_mutex_unlock(&x->mu);
	}
}

uint64_t daemon_index__pending(const struct daemon *d)
{
	return d->index ? d->index->gen_next : 0;
}
