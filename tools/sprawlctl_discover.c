// SPDX-License-Identifier: Apache-2.0
/* sprawlctl secrets discover: the detectors run over the well-known credential files of every
 * home directory and over the environments of running agents; what they find is tracked,
 * under the detector's name, with the file as its origin. No value is ever printed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "detect.h"
#include "procfs.h"
#include "rules.h"
#include "sprawlctl.h"

#define FILE_MAX  (1u << 20) /* credential files larger than this are not read */
#define HOMES_MAX 4096
#define PIDS_MAX  65536

/* Relative to a home directory. */
static const char *const cred_files[] = {
	".aws/credentials",
	".git-credentials",
	".netrc",
	".npmrc",
	".pypirc",
	".docker/config.json",
	".config/gh/hosts.yml",
	".kube/config",
	".config/gcloud/application_default_credentials.json",
	".claude/.credentials.json",
	".gemini/oauth_creds.json",
	".codex/auth.json",
};

struct found {
	struct locked_set *ls;
	const uint8_t *data;
	const char *origin; /* path, or NULL for an environment */
	const struct stat *st;
	const char *where; /* for messages: file or "pid N (agent)" */
	int dry_run;
	size_t added, known;
};

static int on_hit(const struct sw_detect_hit *h, void *ctx)
{
	struct found *f = ctx;
	uint8_t value[SW_SECRET_MAX];
	struct sw_secret probe;
	char name[SW_NAME_MAX], id[2 * SW_SECRET_ID_BYTES + 1];

	if (h->len < SW_SECRET_MIN || h->len > SW_SECRET_MAX)
		return 0;
	/* The id first, to name it and to skip what is tracked already. */
	memset(&probe, 0, sizeof(probe));
	memcpy(value, h->value, h->len);
	if (sw_fingerprint__secret(&f->ls->key, value, h->len, &probe))
		return 0;
	if (sw_secretset__find_id(f->ls->set, probe.id)) {
		sw_secret__clear(&probe);
		f->known++;
		return 0;
	}
	sw_secret__id_hex(&probe, id);
	sw_secret__clear(&probe);
	snprintf(name, sizeof(name), "%s-%.8s", h->rule->id, id);
	printf("%s %s: %s (%s)\n", f->dry_run ? "would track" : "tracking", f->where, name,
	       h->rule->name);
	f->added++;
	if (f->dry_run)
		return 0;
	memcpy(value, h->value, h->len);
	return put_secret(f->ls, name, value, h->len, f->origin, f->st, f->where) ? 1 : 0;
}

static void scan_file(struct found *f, const struct sw_rules *r, const char *path)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		close(fd);
		return;
	}
	buf = sodium_malloc(FILE_MAX);
	if (buf) {
		n = read(fd, buf, FILE_MAX);
		if (n > 0) {
			f->data = buf;
			f->origin = path;
			f->st = &st;
			f->where = path;
			sw_detect__scan(r, buf, n, on_hit, f);
		}
		sodium_free(buf); /* wipes */
	}
	close(fd);
}

static void scan_homes(struct found *f, const struct sw_rules *r)
{
	char path[1024];
	struct dirent *de;
	size_t i, n = 0;
	DIR *d;

	for (i = 0; i < sizeof(cred_files) / sizeof(cred_files[0]); i++) {
		snprintf(path, sizeof(path), "/root/%s", cred_files[i]);
		scan_file(f, r, path);
	}
	d = opendir("/home");
	while (d && (de = readdir(d)) && n++ < HOMES_MAX) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < sizeof(cred_files) / sizeof(cred_files[0]); i++) {
			snprintf(path, sizeof(path), "/home/%s/%s", de->d_name, cred_files[i]);
			scan_file(f, r, path);
		}
	}
	if (d)
		closedir(d);
}

/* The environment of every running process an agent rule matches. */
static void scan_agents(struct found *f, const struct sw_rules *r)
{
	char path[64], where[128], comm[32], *exe, *args;
	const char *argv[64], *label, *s, *end;
	struct dirent *de;
	size_t alen, n = 0;
	uint8_t *env;
	ssize_t len;
	int fd, argc;
	uint32_t pid;
	DIR *d;

	env = sodium_malloc(FILE_MAX);
	d = opendir("/proc");
	while (env && d && (de = readdir(d)) && n++ < PIDS_MAX) {
		pid = strtoul(de->d_name, NULL, 10);
		if (!pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		len = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (len <= 0)
			continue;
		comm[len - (comm[len - 1] == '\n')] = 0;
		exe = sw_procfs__exe(pid);
		args = sw_procfs__cmdline(pid, &alen);
		for (argc = 0, s = args, end = args + alen; args && s < end && argc < 64; argc++) {
			argv[argc] = s;
			s += strnlen(s, end - s) + 1;
		}
		label = NULL;
		if (exe && args && alen && args[alen - 1] == 0 &&
		    sw_rules__agent_match(r, exe, comm, argv, argc, &label) == 1) {
			snprintf(path, sizeof(path), "/proc/%u/environ", pid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			len = fd >= 0 ? read(fd, env, FILE_MAX) : -1;
			if (fd >= 0)
				close(fd);
			if (len > 0) {
				snprintf(where, sizeof(where), "pid %u (%s) environment", pid,
					 label);
				f->data = env;
				f->origin = NULL;
				f->st = NULL;
				f->where = where;
				sw_detect__scan(r, env, len, on_hit, f);
				sodium_memzero(env, len);
			}
		}
		free(exe);
		free(args);
	}
	if (d)
		closedir(d);
	if (env)
		sodium_free(env);
}

int cmd_secrets_discover(int argc, char **argv)
{
	struct locked_set ls;
	struct found f = {.ls = &ls};
	struct sw_rules *r;
	int e;

	const char *rules_dir = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run")) {
			f.dry_run = 1;
		} else if (!strcmp(argv[i], "--rules") && i + 1 < argc) {
			rules_dir = argv[++i];
		} else {
			err("usage: secrets discover [--dry-run] [--rules DIR]");
			return -EINVAL;
		}
	}
	r = ctl_load_rules(rules_dir);
	if (!r)
		return -EINVAL;
	e = open_set(&ls);
	if (!e) {
		scan_homes(&f, r);
		scan_agents(&f, r);
		printf("%s %zu new secret(s); %zu found already tracked\n",
		       f.dry_run ? "would track" : "tracking", f.added, f.known);
		if (f.added && !f.dry_run)
			e = commit_set(&ls);
	}
	close_set(&ls);
	sw_rules__free(r);
	return e;
}
