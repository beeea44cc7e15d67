/* SPDX-License-Identifier: Apache-2.0 */
/* Which container a process runs in, from its cgroup v2 path (/proc/PID/cgroup "0::PATH").
 * Pure: text in, answer out. Recognised (innermost container wins when they nest):
 *   docker      /system.slice/docker-<id>.scope, /docker/<id>
 *   podman      .../libpod-<id>.scope[/container], /libpod_parent/libpod-<id>
 *   containerd  .../cri-containerd-<id>.scope (Kubernetes through containerd)
 *   cri-o       .../crio-<id>.scope
 *   kubernetes  /kubepods/<qos>/pod<uid>/<id> (cgroupfs driver: the runtime is not named)
 * The conmon scopes of podman and CRI-O (libpod-conmon-, crio-conmon-) are not containers. */
#ifndef SW_CONTAINER_H
#define SW_CONTAINER_H

#include <stddef.h>

#define SW_CONTAINER_ID_MAX	 64 /* hex digits of a full container id */
#define SW_CONTAINER_RUNTIME_MAX 16

struct sw_container {
	char runtime[SW_CONTAINER_RUNTIME_MAX];
	char id[SW_CONTAINER_ID_MAX + 1];
};

/* 1 with *out filled when path names a container, 0 when it does not. */
int sw_container__parse(const char *path, struct sw_container *out);

/* The cgroup v2 path in the text of /proc/PID/cgroup (the "0::" line) into out. Returns its
 * length, or -ENOENT when there is none (a v1-only host) and -ENAMETOOLONG when it does not
 * fit. */
int sw_container__cgroup_v2(const char *text, size_t len, char *out, size_t size);

#endif
