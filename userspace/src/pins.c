// SPDX-License-Identifier: Apache-2.0
/* See pins.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "pins.h"
#include "sprawl_events.h"

static int is_build(const char *name)
{
	return name[0] == 'b' && strlen(name) == 17 && strspn(name + 1, "0123456789abcdef") == 16;
}

static int by_dir(const void *a, const void *b)
{
	return strcmp(((const struct sw_pins_build *)a)->dir,
		      ((const struct sw_pins_build *)b)->dir);
}

/* The meta map's last sign of life, when it is readable and laid out as this build's. */
static uint64_t alive_of(const char *dir)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info), key = 0;
	struct sw_meta m = {};
	char path[SW_PINS_DIR_MAX + 8];
	int fd;

	if (snprintf(path, sizeof(path), "%s/meta", dir) >= (int)sizeof(path))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size != sizeof(m) ||
	    bpf_map_lookup_elem(fd, &key, &m))
		m.alive_real_ns = 0;
	close(fd);
	return m.alive_real_ns;
}

static int count_links(const char *dir)
{
	struct dirent *de;
	DIR *dh = opendir(dir);
	int n = 0, i = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh)) && i++ < 256)
		n += !strncmp(de->d_name, "link_", 5);
	closedir(dh);
	return n;
}

int sw_pins__list(const char *pin_dir, struct sw_pins_build *out, size_t max)
{
	struct dirent *de;
	DIR *dh = opendir(pin_dir);
	size_t n = 0, i = 0;

	if (!dh)
		return -errno;
	while ((de = readdir(dh)) && i++ < 4096) {
		struct sw_pins_build *b;

		if (!is_build(de->d_name))
			continue;
		if (n++ >= max)
			continue;
		b = &out[n - 1];
		memset(b, 0, sizeof(*b));
		if (snprintf(b->dir, sizeof(b->dir), "%s/%s", pin_dir, de->d_name) >=
		    (int)sizeof(b->dir)) {
			n--;
			continue;
		}
		memcpy(b->build, de->d_name + 1, 16);
		b->links = count_links(b->dir);
		b->alive_real_ns = alive_of(b->dir);
	}
	closedir(dh);
	qsort(out, n < max ? n : max, sizeof(*out), by_dir);
	return (int)n;
}
