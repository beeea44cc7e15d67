// SPDX-License-Identifier: Apache-2.0
/* The hook sink: a program (no shell) gets each alert's JSON on its stdin, run asynchronously
 * under a deadline and a bound on how many run at once. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fileio.h"
#include "sink.h"

extern char **environ;

#include "sink_priv.h"

/* ---- hook ---- */

struct sw_sink *sw_sink__hook(char *const argv[], int timeout_ms)
{
	struct sw_sink *s;
	size_t n = 0, i;

	if (!argv || !argv[0] || timeout_ms <= 0) {
		errno = EINVAL;
		return NULL;
	}
	while (argv[n] && n < 256)
		n++;
	if (argv[n]) {
		errno = E2BIG;
		return NULL;
	}
	s = sink_new(K_HOOK, SW_FMT_JSON);
	if (!s)
		return NULL;
	s->timeout_ms = timeout_ms;
	s->argv = calloc(n + 1, sizeof(char *));
	if (!s->argv)
		goto fail;
	for (i = 0; i < n; i++) {
		s->argv[i] = strdup(argv[i]);
		if (!s->argv[i])
			goto fail;
	}
	return s;
fail:
	sw_sink__free(s);
	errno = ENOMEM;
	return NULL;
}

/* write() that cannot raise SIGPIPE in the daemon: the hook may exit without reading. */
static ssize_t write_nosigpipe(int fd, const char *p, size_t len)
{
	sigset_t pipe_set, old, pending;
	int was_pending, err;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, p, len);
	err = errno;
	if (n < 0 && err == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

static void hook_feed(struct hook_run *h)
{
	while (h->fd >= 0 && h->off < h->len) {
		ssize_t n = write_nosigpipe(h->fd, h->buf + h->off, h->len - h->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break; /* EPIPE: the hook does not read its stdin; its exit status decides
				*/
		h->off += (size_t)n;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

void hook_clear(struct hook_run *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	memset(h, 0, sizeof(*h));
	h->pid = -1;
	h->fd = -1;
}

int hooks_poll(struct sw_sink *s)
{
	uint64_t now = sink_now_ms();
	int i, running = 0;

	for (i = 0; i < SW_SINK_HOOKS_MAX; i++) {
		struct hook_run *h = &s->hooks[i];
		int status;
		pid_t r;

		if (h->pid <= 0)
			continue;
		hook_feed(h);
		r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid || (r < 0 && errno == ECHILD)) {
			if (h->killed)
				s->st.timeouts++;
			else if (r == h->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
				s->st.sent++;
			else
				s->st.failed++;
			hook_clear(h);
			continue;
		}
		if (!h->killed && now >= h->deadline_ms) {
			/* The whole process group: a hook script's own children go too. */
			kill(-h->pid, SIGKILL);
			kill(h->pid, SIGKILL);
			h->killed = 1;
			if (h->fd >= 0) {
				close(h->fd);
				h->fd = -1;
			}
		}
		running++;
	}
	return running;
}

static int hook_spawn(struct sw_sink *s, struct hook_run *h, const char *json, size_t len)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int fds[2], ret;
	pid_t pid;

	h->buf = malloc(len + 1);
	if (!h->buf)
		return -ENOMEM;
	memcpy(h->buf, json, len);
	h->buf[len] = '\n';
	h->len = len + 1;
	h->off = 0;
	if (pipe2(fds, O_CLOEXEC)) {
		ret = -errno;
		goto fail;
	}
	/* posix_spawnp rather than fork + execvp: the daemon is multi-threaded, and spawn does
	 * no unsafe work between fork and exec. Same PATH search, same argv, no shell. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	ret = posix_spawnp(&pid, s->argv[0], &fa, &at, s->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[0]);
	if (ret) {
		close(fds[1]);
		ret = -ret;
		goto fail;
	}
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	h->pid = pid;
	h->fd = fds[1];
	h->killed = 0;
	h->deadline_ms = sink_now_ms() + (uint64_t)s->timeout_ms;
	hook_feed(h);
	return 0;
fail:
	free(h->buf);
	h->buf = NULL;
	return ret;
}

int hook_emit(struct sw_sink *s, const struct sw_alert *a)
{
	struct hook_run *slot = NULL;
	int i, n, ret;

	hooks_poll(s);
	for (i = 0; i < SW_SINK_HOOKS_MAX && !slot; i++)
		if (s->hooks[i].pid <= 0)
			slot = &s->hooks[i];
	if (!slot) {
		s->st.dropped++;
		return -EBUSY;
	}
	n = sink_format(s, a, SW_FMT_JSON, 0);
	if (n < 0) {
		s->st.failed++;
		return n;
	}
	ret = hook_spawn(s, slot, s->buf, (size_t)n);
	if (ret) {
		s->st.failed++;
		return ret;
	}
	return 0;
}
