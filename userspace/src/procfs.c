// SPDX-License-Identifier: Apache-2.0
/* See procfs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container.h"
#include "procfs.h"

#define LINK_MAX_LEN 4096

char *sw_procfs__exe(uint32_t pid)
{
	char path[64], buf[LINK_MAX_LEN];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	return strdup(buf);
}

/* One read of up to cap bytes of a /proc file (they are made whole for one read), or -1. */
static ssize_t read_once(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

char *sw_procfs__cmdline(uint32_t pid, size_t *len)
{
	char path[64], *buf;
	ssize_t n;

	*len = 0;
	buf = malloc(4096);
	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_once(path, buf, 4096);
	if (n > 0)
		*len = n;
	return buf;
}

char *sw_procfs__cgroup(uint32_t pid)
{
	char path[64], buf[4096], cg[SW_PROCFS_CGROUP_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_once(path, buf, sizeof(buf));
	if (n <= 0 || sw_container__cgroup_v2(buf, n, cg, sizeof(cg)) < 0)
		cg[0] = 0;
	return strdup(cg);
}

/* The cgroup v2 mount (from /proc/self/mountinfo): a descriptor of it for open_by_handle_at,
 * and its path in *at; found once, -1 when there is none. */
static int cgroup2_mount(const char **at)
{
	static char mnt[SW_PROCFS_CGROUP_MAX];
	static int fd = -2;
	char line[4096], point[SW_PROCFS_CGROUP_MAX];
	const char *dash;
	FILE *f;

	*at = mnt;
	if (fd != -2)
		return fd;
	fd = -1;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return fd;
	while (fd < 0 && fgets(line, sizeof(line), f)) {
		/* id parent major:minor root mountpoint options... - fstype source super */
		dash = strstr(line, " - cgroup2 ");
		if (dash && sscanf(line, "%*s %*s %*s %*s %1023s", point) == 1 &&
		    (fd = open(point, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
			snprintf(mnt, sizeof(mnt), "%s", point);
	}
	fclose(f);
	return fd;
}

char *sw_procfs__cgroup_of_id(uint64_t id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = {.fh = {.handle_bytes = sizeof(uint64_t), .handle_type = 0xfe /* FILEID_KERNFS */},
	       .id = id};
	char link[64], path[SW_PROCFS_CGROUP_MAX + 64];
	const char *at;
	size_t mlen;
	ssize_t n;
	int mfd = cgroup2_mount(&at), fd;

	if (mfd < 0 || !id)
		return NULL;
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	mlen = strlen(at);
	if (n <= 0 || (size_t)n < mlen || memcmp(path, at, mlen) ||
	    (size_t)n - mlen >= SW_PROCFS_CGROUP_MAX)
		return NULL;
	path[n] = 0;
	return strdup((size_t)n == mlen ? "/" : path + mlen);
}

char *sw_procfs__fd_path(uint32_t pid, int fd)
{
	char link[64], target[LINK_MAX_LEN];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%u/fd/%d", pid, fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0 || target[0] != '/')
		return NULL;
	target[n] = 0;
	return strdup(target);
}

/* The number after `field` in /proc/PID/fdinfo/FD (in base), or -1. */
static long fdinfo_field(uint32_t pid, const char *fd, const char *field, int base)
{
	char info[320], buf[512], *f;
	ssize_t len;

	snprintf(info, sizeof(info), "/proc/%u/fdinfo/%s", pid, fd);
	len = read_once(info, buf, sizeof(buf) - 1);
	if (len <= 0)
		return -1;
	buf[len] = 0;
	f = strstr(buf, field);
	return f ? strtol(f + strlen(field), NULL, base) : -1;
}

/* The access mode of pid's fd (O_RDONLY, O_WRONLY, O_RDWR), or -1: fdinfo says
 * "flags:\t0100002", the mode is the low two octal bits. */
static int fd_mode(uint32_t pid, const char *fd)
{
	long flags = fdinfo_field(pid, fd, "flags:", 8);

	return flags < 0 ? -1 : (int)(flags & 3);
}

/* Calls fn for each of pid's fds with its link target; stops when fn returns non-zero. */
static int each_fd(uint32_t pid,
		   int (*fn)(uint32_t pid, const char *fd, const char *target, void *ctx),
		   void *ctx)
{
	char dir[64], link[320], target[LINK_MAX_LEN];
	struct dirent *de;
	int n = 0, r = 0;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%u/fd", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!r && (de = readdir(d)) && n++ < SW_PROCFS_FDS_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		r = fn(pid, de->d_name, target, ctx);
	}
	closedir(d);
	return r;
}

static int is_pipe_reader(uint32_t pid, const char *fd, const char *target, void *ctx)
{
	return !strcmp(target, ctx) && fd_mode(pid, fd) == O_RDONLY;
}

uint32_t sw_procfs__pipe_reader(uint64_t ino, uint32_t exclude)
{
	char want[64];
	struct dirent *de;
	uint32_t pid = 0, cand;
	int seen = 0;
	DIR *d;

	snprintf(want, sizeof(want), "pipe:[%llu]", (unsigned long long)ino);
	d = opendir("/proc");
	while (d && (de = readdir(d)) && seen++ < SW_PROCFS_PIDS_MAX) {
		cand = strtoul(de->d_name, NULL, 10);
		if (cand && cand != exclude && each_fd(cand, is_pipe_reader, want)) {
			pid = cand;
			break;
		}
	}
	if (d)
		closedir(d);
	return pid;
}

/* fdinfo's "tty-index:" of pid's fd, or -1. */
static long fd_tty_index(uint32_t pid, const char *fd)
{
	return fdinfo_field(pid, fd, "tty-index:", 10);
}

static int is_pty_master(uint32_t pid, const char *fd, const char *target, void *ctx)
{
	return (!strcmp(target, "/dev/ptmx") || !strcmp(target, "/dev/pts/ptmx")) &&
	       fd_tty_index(pid, fd) == (long)*(const uint32_t *)ctx;
}

size_t sw_procfs__pty_masters(uint32_t index, uint32_t exclude, uint32_t *out, size_t max)
{
	struct dirent *de;
	uint32_t cand;
	size_t n = 0;
	int seen = 0;
	DIR *d;

	d = opendir("/proc");
	while (d && n < max && (de = readdir(d)) && seen++ < SW_PROCFS_PIDS_MAX) {
		cand = strtoul(de->d_name, NULL, 10);
		if (cand && cand != exclude && each_fd(cand, is_pty_master, &index))
			out[n++] = cand;
	}
	if (d)
		closedir(d);
	return n;
}

struct inode_id {
	uint64_t dev, ino;
};

static int refers_to(uint32_t pid, const char *fd, const char *target, void *ctx)
{
	const struct inode_id *id = ctx;
	char link[320];
	struct stat st;

	if (target[0] != '/')
		return 0;
	snprintf(link, sizeof(link), "/proc/%u/fd/%s", pid, fd);
	return !stat(link, &st) && st.st_dev == id->dev && st.st_ino == id->ino;
}

int sw_procfs__each_mapping(uint32_t pid, int (*fn)(const struct sw_mapping *m, void *ctx),
			    void *ctx)
{
	struct sw_mapping m;
	char line[sizeof(m.path) + 128];
	unsigned long long ino;
	unsigned int maj, min;
	int r = 0, n = 0;
	FILE *f;

	snprintf(line, sizeof(line), "/proc/%u/maps", pid);
	f = fopen(line, "re");
	if (!f)
		return -1;
	/* "start-end perms offset major:minor inode path"; bounded like every /proc walk. */
	while (!r && n++ < SW_PROCFS_MAPS_MAX && fgets(line, sizeof(line), f)) {
		m.path[0] = 0;
		if (sscanf(line, "%llx-%llx %7s %*s %x:%x %llu %4095[^\n]", &m.lo, &m.hi, m.perms,
			   &maj, &min, &ino, m.path) < 6)
			continue;
		m.dev = makedev(maj, min);
		m.ino = ino;
		r = fn(&m, ctx);
	}
	fclose(f);
	return r;
}

static int is_mapping(const struct sw_mapping *m, void *ctx)
{
	const struct inode_id *id = ctx;

	return m->ino == id->ino && m->dev == id->dev;
}

int sw_procfs__has_mapping(uint32_t pid, uint64_t dev, uint64_t ino)
{
	struct inode_id id = {.dev = dev, .ino = ino};

	return sw_procfs__each_mapping(pid, is_mapping, &id) == 1;
}

int sw_procfs__has_open(uint32_t pid, uint64_t dev, uint64_t ino)
{
	struct inode_id id = {.dev = dev, .ino = ino};

	return each_fd(pid, refers_to, &id) != 0;
}

/* ppid, pgrp and the terminal's foreground group of pid (/proc/PID/stat: fields 4, 5, 8; the
 * command in parentheses may hold anything, so fields count from its last ')'). */
static int stat_groups(uint32_t pid, long *ppid, long *pgrp, long *tpgid)
{
	char path[64], buf[1024], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_once(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %ld %ld %*d %*d %ld", ppid, pgrp, tpgid) != 3)
		return -1;
	return 0;
}

int sw_procfs__foreground_job(uint32_t pid)
{
	long ppid, pgrp, tpgid, pppid, ppgrp, ptpgid;

	if (stat_groups(pid, &ppid, &pgrp, &tpgid) || pgrp <= 0 || pgrp != tpgid)
		return 0;
	if (ppid <= 0 || stat_groups((uint32_t)ppid, &pppid, &ppgrp, &ptpgid))
		return 0; /* no parent left to be told: a stop is nobody's to report */
	return ppgrp != pgrp;
}
