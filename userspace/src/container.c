// SPDX-License-Identifier: Apache-2.0
/* See container.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "container.h"

/* Container ids are hex: 64 digits in full (docker, podman, containerd, CRI-O). Fewer than 12
 * is not an id but a name that happens to be hex. */
static int is_id(const char *s, size_t n)
{
	size_t i;

	if (n < 12 || n > SW_CONTAINER_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int found(struct sw_container *out, const char *runtime, const char *id, size_t n)
{
	snprintf(out->runtime, sizeof(out->runtime), "%s", runtime);
	memcpy(out->id, id, n);
	out->id[n] = 0;
	return 1;
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n >= p && !memcmp(s, prefix, p);
}

/* One path component c[0..n), with its parent component par[0..pn) (pn 0 at the root). */
static int component(const char *c, size_t n, const char *par, size_t pn, const char *path,
		     struct sw_container *out)
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = {
		/* conmon first: "libpod-conmon-" also starts with "libpod-" */
		{"libpod-conmon-", NULL},
		{"crio-conmon-", NULL},
		{"docker-", "docker"},
		{"libpod-", "podman"},
		{"cri-containerd-", "containerd"},
		{"crio-", "cri-o"},
	};
	size_t i, p;

	if (n > 6 && !memcmp(c + n - 6, ".scope", 6))
		n -= 6;
	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		if (!starts(c, n, scopes[i].prefix))
			continue;
		if (!scopes[i].runtime)
			return 0;
		p = strlen(scopes[i].prefix);
		return is_id(c + p, n - p) ? found(out, scopes[i].runtime, c + p, n - p) : 0;
	}
	if (!is_id(c, n) || !pn)
		return 0;
	/* A bare id: its parent says whose it is. */
	if (pn == 6 && !memcmp(par, "docker", 6))
		return found(out, "docker", c, n);
	if (pn == 13 && !memcmp(par, "libpod_parent", 13))
		return found(out, "podman", c, n);
	if (starts(par, pn, "pod") && strstr(path, "/kubepods"))
		return found(out, "kubernetes", c, n);
	return 0;
}

int sw_container__parse(const char *path, struct sw_container *out)
{
	const char *end, *s, *par, *pe;

	memset(out, 0, sizeof(*out));
	if (!path || path[0] != '/')
		return 0;
	/* From the innermost component outwards. */
	end = path + strlen(path);
	while (end > path) {
		while (end > path && end[-1] == '/')
			end--;
		s = end;
		while (s > path && s[-1] != '/')
			s--;
		if (s == end)
			break;
		pe = s;
		while (pe > path && pe[-1] == '/')
			pe--;
		par = pe;
		while (par > path && par[-1] != '/')
			par--;
		if (component(s, end - s, par, pe - par, path, out))
			return 1;
		end = s;
	}
	memset(out, 0, sizeof(*out));
	return 0;
}

int sw_container__cgroup_v2(const char *text, size_t len, char *out, size_t size)
{
	const char *s = text, *end = text + len, *nl;
	size_t n;

	while (s < end) {
		nl = memchr(s, '\n', end - s);
		if (!nl)
			nl = end;
		if (nl - s >= 3 && !memcmp(s, "0::", 3)) {
			n = nl - s - 3;
			if (n >= size)
				return -ENAMETOOLONG;
			memcpy(out, s + 3, n);
			out[n] = 0;
			return (int)n;
		}
		s = nl + 1;
	}
	return -ENOENT;
}
