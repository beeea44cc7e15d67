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

struct originwatch {
	int fd;
	char *dirs[DIRS_MAX];
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
	if (inotify_add_watch(w->fd, dir, EVENTS) < 0)
		return; /* gone, or not a directory: the path is checked as it is */
	w->dirs[w->ndirs] = strdup(dir);
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

void originwatch__sync(struct daemon *d)
{
	if (d->origins)
		sw_pipeline__origin_paths(d->pl, check, d);
}

void originwatch__event(struct daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int any = 0;
	ssize_t n;

	while ((n = read(d->origins->fd, buf, sizeof(buf))) > 0)
		any = 1;
	if (any)
		originwatch__sync(d);
}
