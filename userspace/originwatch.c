// SPDX-License-Identifier: Apache-2.0
/* Origin paths followed; see originwatch.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "originwatch.h"
#include "source.h"

#define DIRS_MAX 256 /* directories watched; origins elsewhere are checked every few seconds */
#define EVENTS	 (IN_CREATE | IN_MOVED_TO | IN_Q_OVERFLOW)
#define KEPT_CHECK_MAX                                                                             \
	64 /* origin files kept under other names checked (src/origins.c keeps 64)                 \
	    */

struct originwatch {
	int fd;
	char *dirs[DIRS_MAX];
	int wds[DIRS_MAX];
	size_t ndirs;
	int full_told;
};

struct originwatch *originwatch__new(void)
{
	struct originwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		log_warn("origins: inotify: %s (origins saved by rename are found every few "
			 "seconds instead)",
			 strerror(errno));
	return w;
}

void originwatch__free(struct originwatch *w)
{
	size_t i;

	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w);
}

int originwatch__fd(const struct originwatch *w)
{
	return w ? w->fd : -1;
}

/* path's directory watched (once). */
static void watch_dir(struct originwatch *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t i;
	int wd;

	if (w->fd < 0 || !slash || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, slash - path);
	dir[slash == path ? 1 : slash - path] = 0;
	for (i = 0; i < w->ndirs; i++)
		if (!strcmp(w->dirs[i], dir))
			return;
	if (w->ndirs == DIRS_MAX) {
		if (!w->full_told++)
			log_warn("origins: more than %d directories hold origin files: the others "
				 "are checked every few seconds",
				 DIRS_MAX);
		return;
	}
	wd = inotify_add_watch(w->fd, dir, EVENTS);
	if (wd < 0)
		return; /* gone, or not a directory: the path is checked as it is */
	w->dirs[w->ndirs] = strdup(dir);
	w->wds[w->ndirs] = wd;
	if (w->dirs[w->ndirs])
		w->ndirs++;
}

/* One origin: told when path names another regular file than (dev, ino). */
static void check(const char *path, uint64_t dev, uint64_t ino, void *ctx)
{
	struct daemon *d = ctx;
	struct stat st;

	watch_dir(d->origins, path);
	if (stat(path, &st) || !S_ISREG(st.st_mode) ||
	    ((uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino))
		return;
	source__renamed(d, path, &st);
}

struct kept_names {
	struct {
		char name[PATH_MAX];
		uint64_t dev, ino;
	} k[KEPT_CHECK_MAX];
	size_t n;
};

static void kept_name(const char *name, uint64_t dev, uint64_t ino, void *ctx)
{
	struct kept_names *kn = ctx;

	if (kn->n < KEPT_CHECK_MAX &&
	    snprintf(kn->k[kn->n].name, PATH_MAX, "%s", name) < PATH_MAX) {
		kn->k[kn->n].dev = dev;
		kn->k[kn->n++].ino = ino;
	}
}

/* Each origin's file kept under another name: told when the name names another file or none
 * (collected first: telling the pipeline changes what it keeps). */
static void check_kept(struct daemon *d)
{
	static struct kept_names kn;
	struct stat st;
	size_t i;

	kn.n = 0;
	sw_pipeline__kept_origins(d->pl, kept_name, &kn);
	for (i = 0; i < kn.n; i++) {
		if (lstat(kn.k[i].name, &st) || !S_ISREG(st.st_mode))
			source__renamed(d, kn.k[i].name, NULL);
		else if ((uint64_t)st.st_dev != kn.k[i].dev || (uint64_t)st.st_ino != kn.k[i].ino)
			source__renamed(d, kn.k[i].name, &st);
	}
}

void originwatch__sync(struct daemon *d)
{
	if (!d->origins)
		return;
	sw_pipeline__origin_paths(d->pl, check, d);
	check_kept(d);
}

/* A name made or moved into a watched directory: told when it names an origin's file (mv .env
 * .env.bak, ln: the file keeps its secrets under that name). */
static void named(struct daemon *d, const struct inotify_event *ev)
{
	struct originwatch *w = d->origins;
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	if (!ev->len || !(ev->mask & (IN_CREATE | IN_MOVED_TO)))
		return;
	for (i = 0; i < w->ndirs && w->wds[i] != ev->wd; i++)
		;
	if (i == w->ndirs ||
	    snprintf(path, sizeof(path), "%s/%s", strcmp(w->dirs[i], "/") ? w->dirs[i] : "",
		     ev->name) >= (int)sizeof(path) ||
	    lstat(path, &st) || !S_ISREG(st.st_mode))
		return;
	if (sw_pipeline__origin_file(d->pl, st.st_dev, st.st_ino))
		source__renamed(d, path, &st);
}

void originwatch__event(struct daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	int any = 0;
	ssize_t n, off;

	while ((n = read(d->origins->fd, buf, sizeof(buf))) > 0) {
		any = 1;
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			named(d, ev);
		}
	}
	if (any)
		originwatch__sync(d);
}
