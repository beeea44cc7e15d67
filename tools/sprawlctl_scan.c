// SPDX-License-Identifier: Apache-2.0
/* sprawlctl scan PATH...: tracked secrets (the matcher, with the state dir's key and secret
 * set: every variant) and detector hits in files, directory trees and git repositories (the
 * working tree and the staged blobs of the index). Prints where and what, never a value; exits
 * 1 on a finding. `--install-git-hook REPO` makes that the repository's pre-commit hook.
 * Also the rules every offline command runs (ctl_load_rules). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "detect.h"
#include "fingerprint.h"
#include "matcher.h"
#include "rules.h"
#include "secretset.h"
#include "sprawlctl.h"

#define INSTALLED_RULES "/etc/sprawlwatch/rules"
#define CHUNK		65536
#define DEPTH_MAX	64
#define HOOK_MARK	"# sprawlwatch pre-commit hook"
#define GIT_NAMES_MAX	(16u << 20) /* bytes of staged path names read from git */

struct sw_rules *ctl_load_rules(const char *dir)
{
	struct sw_rules_error e;
	struct sw_rules *r;
	struct stat st;
	char msg[1024];

	const char *installed = getenv("SPRAWL_RULES_DIR");

	if (!installed || !*installed)
		installed = INSTALLED_RULES;
	if (!dir && !stat(installed, &st) && S_ISDIR(st.st_mode))
		dir = installed;
	r = dir ? sw_rules__load_dir(dir, &e) : sw_rules__load_embedded(&e);
	if (!r) {
		sw_rules_error__format(&e, msg, sizeof(msg));
		err("%s (check with: sprawlctl rules check%s%s)", msg, dir ? " " : "",
		    dir ? dir : "");
	}
	return r;
}

struct scan {
	const struct sw_rules *r;
	struct sw_key key;
	struct sw_secretset *set;
	struct sw_matcher *m;
	uint8_t *buf;
	const char *where; /* the file being scanned, for messages */
	size_t findings, files, errors;
};

static int on_match(const struct sw_match *m, void *ctx)
{
	struct scan *s = ctx;

	printf("%s: tracked secret %s (%s) at byte %llu\n", s->where,
	       s->set->secrets[m->secret].name, sw_variant__name((enum sw_variant)m->variant),
	       (unsigned long long)m->offset);
	s->findings++;
	return 0;
}

static int on_detect(const struct sw_detect_hit *h, void *ctx)
{
	struct scan *s = ctx;
	uint8_t value[SW_SECRET_MAX];
	struct sw_secret probe;

	/* A detector hit on a value that is tracked is the matcher's finding already. */
	if (h->len >= SW_SECRET_MIN && h->len <= SW_SECRET_MAX) {
		memset(&probe, 0, sizeof(probe));
		memcpy(value, h->value, h->len);
		if (!sw_fingerprint__secret(&s->key, value, h->len, &probe)) {
			int known = sw_secretset__find_id(s->set, probe.id) != NULL;

			sw_secret__clear(&probe);
			if (known)
				return 0;
		}
		sodium_memzero(value, sizeof(value));
	}
	printf("%s: detector %s (%s): a %zu-byte secret at byte %llu\n", s->where, h->rule->id,
	       h->rule->name, h->len, (unsigned long long)h->offset);
	s->findings++;
	return 0;
}

/* Scans what fd yields, as one stream. */
static void scan_fd(struct scan *s, int fd, const char *where)
{
	struct sw_detect_stream *ds = sw_detect__stream_new(s->r);
	struct sw_stream *ms = sw_stream__new();
	ssize_t n;

	s->where = where;
	if (!ds || !ms) {
		err("%s: out of memory", where);
		s->errors++;
		goto out;
	}
	for (;;) {
		n = read(fd, s->buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err("%s: %s", where, strerror(errno));
			s->errors++;
			break;
		}
		if (!n)
			break;
		sw_detect__scan_stream(s->r, ds, s->buf, (size_t)n, on_detect, s);
		sw_matcher__scan(s->m, ms, s->buf, (size_t)n, on_match, s);
	}
	s->files++;
out:
	sodium_memzero(s->buf, CHUNK);
	sw_detect__stream_free(ds);
	sw_stream__free(ms);
}

static void scan_path(struct scan *s, const char *path, int depth);

static void scan_dir(struct scan *s, const char *path, int depth)
{
	char sub[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (depth > DEPTH_MAX)
		return;
	d = opendir(path);
	if (!d) {
		err("%s: %s", path, strerror(errno));
		s->errors++;
		return;
	}
	while ((e = readdir(d))) {
		/* .git holds objects (compressed) and the index: the staged blobs are read
		 * through git instead. */
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".git"))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
			continue;
		scan_path(s, sub, depth + 1);
	}
	closedir(d);
}

static void scan_path(struct scan *s, const char *path, int depth)
{
	struct stat st;
	int fd;

	if (lstat(path, &st)) {
		err("%s: %s", path, strerror(errno));
		s->errors++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		scan_dir(s, path, depth);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		err("%s: %s", path, strerror(errno));
		s->errors++;
		return;
	}
	scan_fd(s, fd, path);
	close(fd);
}

/* Runs git -C repo ARGS with stdout on a pipe; returns the read end, *pid set. */
static int git_pipe(const char *repo, const char *const *args, pid_t *pid)
{
	const char *argv[16];
	int p[2], i = 0, k;

	argv[i++] = "git";
	argv[i++] = "-C";
	argv[i++] = repo;
	for (k = 0; args[k] && i < 15; k++)
		argv[i++] = args[k];
	argv[i] = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!*pid) {
		dup2(p[1], 1);
		execvp("git", (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	return p[0];
}

static int git_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

/* The staged version of every added, copied, modified or renamed file: what a commit takes. */
static void scan_staged(struct scan *s, const char *repo)
{
	static const char *const names_args[] = {"diff", "--cached",	       "--name-only",
						 "-z",	 "--diff-filter=ACMR", NULL};
	char *names = malloc(GIT_NAMES_MAX + 1), spec[PATH_MAX + 2], where[PATH_MAX * 2];
	const char *blob_args[] = {"cat-file", "blob", spec, NULL};
	size_t len = 0, off;
	ssize_t n;
	pid_t pid;
	int fd;

	if (!names) {
		s->errors++;
		return;
	}
	fd = git_pipe(repo, names_args, &pid);
	if (fd < 0) {
		err("%s: cannot run git: %s", repo, strerror(-fd));
		s->errors++;
		free(names);
		return;
	}
	while (len < GIT_NAMES_MAX && (n = read(fd, names + len, GIT_NAMES_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (git_wait(pid)) {
		err("%s: git diff --cached failed (not a git repository?)", repo);
		s->errors++;
		free(names);
		return;
	}
	names[len] = '\0';
	for (off = 0; off < len; off += strlen(names + off) + 1) {
		if (!names[off])
			continue;
		snprintf(spec, sizeof(spec), ":%s", names + off);
		snprintf(where, sizeof(where), "%s/%s (staged)", repo, names + off);
		fd = git_pipe(repo, blob_args, &pid);
		if (fd < 0) {
			s->errors++;
			continue;
		}
		scan_fd(s, fd, where);
		close(fd);
		if (git_wait(pid)) {
			err("%s: git cat-file failed", where);
			s->errors++;
		}
	}
	free(names);
}

static int is_repo(const char *path)
{
	char p[PATH_MAX];
	struct stat st;

	return snprintf(p, sizeof(p), "%s/.git", path) < (int)sizeof(p) && !stat(p, &st);
}

static int install_hook(const char *repo)
{
	char dir[PATH_MAX], hook[PATH_MAX], self[PATH_MAX], buf[4096];
	const char *state = getenv("SPRAWL_STATE_DIR");
	ssize_t n;
	FILE *f;
	int fd;

	/* The hooks dir as git sees it (core.hooksPath, worktrees). */
	{
		pid_t pid;
		size_t len = 0;

		fd = git_pipe(repo, (const char *const[]){"rev-parse", "--git-path", "hooks", NULL},
			      &pid);
		if (fd < 0) {
			err("%s: cannot run git: %s", repo, strerror(-fd));
			return fd;
		}
		while (len < sizeof(dir) - 1 &&
		       (n = read(fd, dir + len, sizeof(dir) - 1 - len)) > 0)
			len += (size_t)n;
		close(fd);
		dir[len] = '\0';
		dir[strcspn(dir, "\n")] = '\0';
		if (git_wait(pid) || !dir[0]) {
			err("%s: not a git repository", repo);
			return -EINVAL;
		}
	}
	if (dir[0] != '/') {
		char rel[PATH_MAX];

		snprintf(rel, sizeof(rel), "%s", dir);
		if (snprintf(dir, sizeof(dir), "%s/%s", repo, rel) >= (int)sizeof(dir))
			return -ENAMETOOLONG;
	}
	mkdir(dir, 0755);
	if (snprintf(hook, sizeof(hook), "%s/pre-commit", dir) >= (int)sizeof(hook))
		return -ENAMETOOLONG;
	f = fopen(hook, "re");
	if (f) {
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = '\0';
		if (!strstr(buf, HOOK_MARK)) {
			err("%s exists and is not sprawlwatch's: add `sprawlctl scan --staged "
			    "\"$(git rev-parse --show-toplevel)\"` to it yourself",
			    hook);
			return -EEXIST;
		}
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = '\0';
	f = fopen(hook, "we");
	if (!f) {
		err("%s: %s", hook, strerror(errno));
		return -errno;
	}
	fprintf(f, "#!/bin/sh\n" HOOK_MARK
		   " (sprawlctl scan --install-git-hook): a commit whose staged files hold a\n"
		   "# tracked secret (any encoding) or a detector hit is refused.\n");
	if (state && !strchr(state, '\'') && !strchr(state, '\n'))
		fprintf(f,
			"SPRAWL_STATE_DIR=\"${SPRAWL_STATE_DIR:-%s}\"\nexport SPRAWL_STATE_DIR\n",
			state);
	fprintf(f, "exec '%s' scan --staged \"$(git rev-parse --show-toplevel)\"\n", self);
	if (fclose(f) || chmod(hook, 0755)) {
		err("%s: %s", hook, strerror(errno));
		return -EIO;
	}
	printf("installed %s\n", hook);
	return 0;
}

int cmd_scan(int argc, char **argv)
{
	const char *rules_dir = NULL, *hook_repo = NULL;
	struct locked_set ls;
	struct scan s = {0};
	int i, e, staged = 0, npaths = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rules") && i + 1 < argc)
			rules_dir = argv[++i];
		else if (!strcmp(argv[i], "--install-git-hook") && i + 1 < argc)
			hook_repo = argv[++i];
		else if (!strcmp(argv[i], "--staged"))
			staged = 1;
		else if (argv[i][0] == '-')
			goto usage;
		else
			npaths++;
	}
	if (hook_repo)
		return npaths ? -EINVAL : install_hook(hook_repo);
	if (!npaths)
		goto usage;
	s.r = ctl_load_rules(rules_dir);
	if (!s.r)
		return -EINVAL;
	e = open_set(&ls);
	if (e) {
		close_set(&ls);
		sw_rules__free((struct sw_rules *)s.r);
		return e;
	}
	/* Keep what the scan needs and let go of the lock at once. */
	s.key = ls.key;
	s.set = ls.set;
	ls.set = NULL;
	close_set(&ls);
	s.m = sw_matcher__new(&s.key, s.set->secrets, s.set->n);
	s.buf = malloc(CHUNK);
	if (!s.m || !s.buf) {
		err("building the matcher: %s", strerror(errno));
		e = -ENOMEM;
		goto out;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rules") || !strcmp(argv[i], "--install-git-hook")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (!staged)
			scan_path(&s, argv[i], 0);
		if (is_repo(argv[i]) || staged)
			scan_staged(&s, argv[i]);
	}
	fflush(stdout);
	fprintf(stderr, "sprawlctl scan: %zu file(s), %zu finding(s)%s\n", s.files, s.findings,
		s.findings ? ": refused" : "");
	e = s.findings ? 1 : s.errors ? -EIO : 0;
out:
	sw_matcher__free(s.m);
	sw_secretset__free(s.set);
	sodium_memzero(&s.key, sizeof(s.key));
	free(s.buf);
	sw_rules__free((struct sw_rules *)s.r);
	return e;
usage:
	err("usage: scan [--rules DIR] [--staged] PATH... | scan --install-git-hook REPO");
	return -EINVAL;
}
