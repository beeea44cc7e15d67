// SPDX-License-Identifier: Apache-2.0
/* What a previous daemon left pinned (see kernel.h): the build directories under the pin dir,
 * their links, rings, loss counts and meta map; reused, read or replaced at open. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel_priv.h"

/* dir/prefix+name into out (PIN_PATH_MAX bytes); -ENAMETOOLONG when it does not fit. */
int kp_join(char *out, const char *dir, const char *prefix, const char *name)
{
	if (snprintf(out, PIN_PATH_MAX, "%s/%s%s", dir, prefix, name) >= PIN_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Removes a build's pin directory: its links go, and with them its programs. */
void kp_unpin_dir(const char *dir)
{
	struct dirent *de;
	char path[PIN_PATH_MAX];
	DIR *dh = opendir(dir);
	int n = 0;

	if (!dh)
		return;
	while ((de = readdir(dh)) && n++ < 256) {
		if (de->d_name[0] == '.')
			continue;
		if (!kp_join(path, dir, "", de->d_name))
			unlink(path);
	}
	closedir(dh);
	rmdir(dir);
}

/* Bytes in a ring not yet consumed, from its position pages. */
int kp_ring_used(int fd, uint64_t *used)
{
	long page = sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	void *p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	int e = 0;

	if (c == MAP_FAILED || p == MAP_FAILED)
		e = -errno;
	else
		*used = __atomic_load_n((uint64_t *)p, __ATOMIC_ACQUIRE) -
			__atomic_load_n((uint64_t *)c, __ATOMIC_ACQUIRE);
	if (c != MAP_FAILED)
		munmap(c, page);
	if (p != MAP_FAILED)
		munmap(p, page);
	return e;
}

void kp_loss_add(struct sw_loss *to, const struct sw_loss *a, const struct sw_loss *minus)
{
	to->ringbuf_full += a->ringbuf_full - minus->ringbuf_full;
	to->truncated += a->truncated - minus->truncated;
	to->read_errors += a->read_errors - minus->read_errors;
	to->path_truncated += a->path_truncated - minus->path_truncated;
	to->scope_full += a->scope_full - minus->scope_full;
	to->copies_unread += a->copies_unread - minus->copies_unread;
	to->spilled += a->spilled - minus->spilled;
}

/* Per-CPU loss counters summed, from a loss map of this layout. */
int kp_loss_sum(int fd, int ncpus, struct sw_loss *out)
{
	struct sw_loss *per = calloc(ncpus, sizeof(*per)), zero = {};
	uint32_t key = 0;
	int i;

	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, per)) {
		free(per);
		return -errno;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpus; i++)
		kp_loss_add(out, &per[i], &zero);
	free(per);
	return 0;
}

/* A map pinned by another build, if its value is laid out as this build's. */
int kp_old_map(const char *dir, const char *name, uint32_t value_size)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	char path[PIN_PATH_MAX];
	int fd;

	if (kp_join(path, dir, "", name))
		return -1;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	if (value_size &&
	    (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size != value_size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* How many entries (files) the old map holds; 0 when there is none. */
uint64_t kp_old_entries(const char *dir, const char *name, uint32_t value_size)
{
	struct sw_inode_key a, b;
	int fd = kp_old_map(dir, name, value_size), n = 0;

	if (fd < 0)
		return 0;
	while (n < 1 << 16 && !bpf_map_get_next_key(fd, n ? &a : NULL, &b)) {
		a = b;
		n++;
	}
	close(fd);
	return (uint64_t)n;
}

/* Programs of another build left pinned in dir: what they lost, and their ring. A ring of
 * our record format is kept to be read (sw_kernel__drain_previous); of another, its bytes are
 * counted as thrown away. */
void kp_take_old(struct sw_kernel *k, const char *dir)
{
	struct sw_meta m = {};
	struct sw_loss l;
	uint64_t used = 0;
	uint32_t key = 0;
	int fd, same = 0;

	k->prev.found = k->prev.replaced = 1;
	fd = kp_old_map(dir, "meta", sizeof(m));
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &key, &m)) {
		if (m.alive_real_ns > k->prev.alive_real_ns)
			k->prev.alive_real_ns = m.alive_real_ns;
		snprintf(k->prev.build, sizeof(k->prev.build), "%016llx",
			 (unsigned long long)m.build);
		same = m.format == SW_RECORD_FORMAT;
	}
	if (fd >= 0)
		close(fd);
	fd = kp_old_map(dir, "loss", sizeof(struct sw_loss));
	if (fd >= 0 && !kp_loss_sum(fd, k->ncpus, &l))
		kp_loss_add(&k->prev.lost, &l, &m.told);
	if (fd >= 0)
		close(fd);
	/* File ranges its programs spilled and no daemon read back, and ranges a daemon took
	 * and had not read back when it stopped: they go with its maps. */
	k->prev.lost.ringbuf_full += kp_old_entries(dir, "spills", sizeof(struct sw_spill));
	k->prev.lost.ringbuf_full +=
		kp_old_entries(dir, "spill_reading", sizeof(struct sw_spill_reading));
	fd = kp_old_map(dir, "events", 0);
	if (fd >= 0 && !kp_ring_used(fd, &used) && same && k->nold < OLD_MAX) {
		k->prev.drained_bytes += used;
		k->old_ring[k->nold++] = fd;
		return;
	}
	k->prev.dropped_bytes += used;
	if (fd >= 0)
		close(fd);
}

/* Detaches another build's programs: their links unpinned. Its maps stay until its ring is
 * read. */
void kp_unlink_links(struct sw_kernel *k, const char *dir)
{
	struct dirent *de;
	char path[PIN_PATH_MAX];
	DIR *dh = opendir(dir);
	int n = 0;

	(void)k;
	if (!dh)
		return;
	while ((de = readdir(dh)) && n++ < 256)
		if (!strncmp(de->d_name, "link_", 5) && !kp_join(path, dir, "", de->d_name))
			unlink(path);
	closedir(dh);
}

/* The maps pinned with the programs: every map of the object but its read-only data and the
 * ones pinned beside the builds (scope, tls_held), so that the programs a daemon finds running
 * and the ones it loads (the TLS uprobe) share them all, the ring among them. */
struct bpf_map **kp_pinned_maps(struct sprawl *s, size_t *n)
{
	static struct bpf_map *m[64];
	struct bpf_map *map;

	*n = 0;
	bpf_object__for_each_map(map, s->obj)
	{
		if (bpf_map__is_internal(map) || map == s->maps.scope || map == s->maps.tls_held)
			continue;
		if (*n < sizeof(m) / sizeof(m[0]))
			m[(*n)++] = map;
	}
	return m;
}

/* Programs pinned with their links: all but the TLS uprobe, which this daemon attaches per
 * process (a link of a process that lives no longer than the daemon's interest in it). */
int kp_pinned_prog(const struct bpf_program *prog)
{
	return strcmp(bpf_program__section_name(prog), "uprobe") != 0;
}

/* Programs of this build pinned in dir with all their links: reused as they run. */
int kp_links_pinned(struct sw_kernel *k, const char *dir)
{
	struct bpf_program *prog;
	char path[PIN_PATH_MAX];

	bpf_object__for_each_program(prog, k->skel->obj)
	{
		if (!kp_pinned_prog(prog))
			continue;
		if (kp_join(path, dir, "link_", bpf_program__name(prog)) || access(path, F_OK))
			return 0;
	}
	return !kp_join(path, dir, "", "meta") && access(path, F_OK) == 0;
}

int kp_open_links(struct sw_kernel *k, const char *dir)
{
	struct bpf_program *prog;
	char path[PIN_PATH_MAX];

	bpf_object__for_each_program(prog, k->skel->obj)
	{
		if (!kp_pinned_prog(prog))
			continue;
		if (k->nlinks >= sizeof(k->links) / sizeof(k->links[0]))
			return -E2BIG;
		if (kp_join(path, dir, "link_", bpf_program__name(prog)))
			return -ENAMETOOLONG;
		k->links[k->nlinks] = bpf_link__open(path);
		if (!k->links[k->nlinks])
			return -errno;
		k->nlinks++;
	}
	return 0;
}

int kp_pin_links(struct sw_kernel *k, const char *dir)
{
	struct bpf_program *prog;
	char path[PIN_PATH_MAX];
	struct bpf_link **l = (struct bpf_link **)&k->skel->links;
	size_t i = 0;

	/* The skeleton's links are in the order of its programs. */
	bpf_object__for_each_program(prog, k->skel->obj)
	{
		if (!kp_pinned_prog(prog)) {
			i++;
			continue;
		}
		if (kp_join(path, dir, "link_", bpf_program__name(prog)))
			return -ENAMETOOLONG;
		if (!l[i] || bpf_link__pin(l[i], path))
			return l[i] ? -errno : -ENOENT;
		i++;
	}
	return 0;
}

/* Other builds' pin directories (b<hex>), handed to fn; returns how many. */
int kp_each_old(const char *pin_dir, const char *mine, void (*fn)(struct sw_kernel *, const char *),
		struct sw_kernel *k)
{
	char path[PIN_PATH_MAX];
	struct dirent *de;
	DIR *dh = opendir(pin_dir);
	int n = 0, i = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh)) && i++ < 1024) {
		if (de->d_name[0] != 'b' || strlen(de->d_name) != 17)
			continue;
		if (kp_join(path, pin_dir, "", de->d_name) || !strcmp(path, mine))
			continue;
		if (fn)
			fn(k, path);
		n++;
	}
	closedir(dh);
	return n;
}

void kp_unpin_old(struct sw_kernel *k, const char *dir)
{
	(void)k;
	kp_unpin_dir(dir);
}

int sw_kernel__drain_previous(struct sw_kernel *k)
{
	struct ring_buffer *rb;
	int n = 0, r, i;

	while (k->nold) {
		rb = ring_buffer__new(k->old_ring[--k->nold], k->fn, k->ctx, NULL);
		for (i = 0; rb && i < 1 << 16 && (r = ring_buffer__consume(rb)) > 0; i++)
			n += r;
		ring_buffer__free(rb);
		close(k->old_ring[k->nold]);
	}
	kp_each_old(k->pin_dir, k->dir, kp_unpin_old, k);
	return n;
}

void kp_clear_map(struct bpf_map *m, size_t key_size)
{
	char key[64], next[64];
	int n = 0;

	while (key_size <= sizeof(key) && n++ < 1 << 16 &&
	       !bpf_map__get_next_key(m, NULL, next, key_size)) {
		memcpy(key, next, key_size);
		if (bpf_map__delete_elem(m, key, key_size, 0))
			return;
	}
}

const struct sw_kernel_prev *sw_kernel__previous(const struct sw_kernel *k)
{
	return &k->prev;
}

const struct sw_loss *sw_kernel__told(const struct sw_kernel *k)
{
	return &k->told;
}

int sw_kernel__alive(struct sw_kernel *k, uint64_t real_ns, const struct sw_loss *told)
{
	struct sw_meta m = {};
	uint32_t zero = 0;
	struct timespec ts;

	m.build = k->build;
	m.format = SW_RECORD_FORMAT;
	m.daemon_tgid = getpid();
	m.alive_real_ns = real_ns;
	if (!clock_gettime(CLOCK_MONOTONIC, &ts))
		m.alive_ktime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	m.told = *told;
	k->told = *told;
	if (bpf_map__update_elem(k->skel->maps.meta, &zero, sizeof(zero), &m, sizeof(m), 0))
		return -errno;
	return 0;
}
