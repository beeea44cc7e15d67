/* SPDX-License-Identifier: Apache-2.0 */
/* What /proc still says about a live process: its exe, argv, open files. Every walk is
 * bounded. Used only by the live daemon, never in replay. */
#ifndef SW_PROCFS_H
#define SW_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define SW_PROCFS_FDS_MAX    4096  /* fds looked at per process */
#define SW_PROCFS_PIDS_MAX   8192  /* processes looked at per /proc walk */
#define SW_PROCFS_CGROUP_MAX 1024  /* a cgroup path; a longer one is not kept */
#define SW_PROCFS_MAPS_MAX   65536 /* lines of /proc/PID/maps looked at */

/* /proc/PID/exe, or "" (malloc'd; NULL only without memory). */
char *sw_procfs__exe(uint32_t pid);
/* /proc/PID/cmdline (NUL-separated, at most 4096 bytes; malloc'd, *len set). */
char *sw_procfs__cmdline(uint32_t pid, size_t *len);
/* pid's cgroup v2 path (/proc/PID/cgroup "0::" line), or "" (malloc'd; NULL only without
 * memory). */
char *sw_procfs__cgroup(uint32_t pid);
/* The path (as /proc/PID/cgroup gives it) of the cgroup v2 whose id is id (a fork or exec
 * record's), resolved through the cgroup2 mount by file handle (CAP_DAC_READ_SEARCH); NULL
 * when it is gone or cannot be resolved (malloc'd). */
char *sw_procfs__cgroup_of_id(uint64_t id);
/* The absolute path of pid's fd, or NULL (malloc'd). */
char *sw_procfs__fd_path(uint32_t pid, int fd);
/* A process other than exclude that holds a read end of pipe inode ino, or 0. */
uint32_t sw_procfs__pipe_reader(uint64_t ino, uint32_t exclude);
/* Processes other than exclude holding the master side of pseudo-terminal /dev/pts/index
 * (an fd on ptmx whose fdinfo says tty-index: index): up to max pids into out; returns how
 * many. */
size_t sw_procfs__pty_masters(uint32_t index, uint32_t exclude, uint32_t *out, size_t max);
/* One line of /proc/PID/maps: [lo, hi), its permissions ("r-xp"), the file's device (stat's
 * encoding) and inode (0 for anonymous memory), its path ("" when none). */
struct sw_mapping {
	unsigned long long lo, hi;
	char perms[8];
	uint64_t dev, ino;
	char path[4096];
};
/* Calls fn for each mapping of pid (bounded by SW_PROCFS_MAPS_MAX lines) until it returns
 * nonzero: that value, 0 when it never did, -1 when pid's maps cannot be read. */
int sw_procfs__each_mapping(uint32_t pid, int (*fn)(const struct sw_mapping *m, void *ctx),
			    void *ctx);
/* 1 when pid maps the file (dev, ino) (/proc/PID/maps), 0 when not (or pid is gone). */
int sw_procfs__has_mapping(uint32_t pid, uint64_t dev, uint64_t ino);
/* 1 when one of pid's fds refers to the file (dev, ino), 0 when none does (or pid is gone). */
int sw_procfs__has_open(uint32_t pid, uint64_t dev, uint64_t ino);
/* 1 when pid is a job a job-control shell runs in its terminal's foreground (its process group
 * is the terminal's foreground group and not its parent's): a stop of it would be reported by
 * the shell, which takes the terminal back. 0 otherwise (or pid is gone). */
int sw_procfs__foreground_job(uint32_t pid);

#endif
