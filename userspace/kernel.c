// SPDX-License-Identifier: Apache-2.0
/* Loading and attaching the kernel programs; see kernel.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel.h"
#include "sprawl.skel.h"

struct sw_kernel {
	struct sprawl *skel;
	struct ring_buffer *rb;
	int ncpus;
	void *cons_pos, *prod_pos; /* the ring's position pages, mapped for its fill level */
};

static int ensure_mount(const char *dir, const char *type, unsigned long magic)
{
	struct statfs st;

	if (statfs(dir, &st) == 0 && (unsigned long)st.f_type == magic)
		return 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (mount(type, dir, type, 0, NULL))
		return -errno;
	return 0;
}

struct sw_kernel *sw_kernel__open(const struct sw_kernel_opts *o, sw_record_fn fn, void *ctx,
				  char *err, size_t errlen)
{
	struct sw_kernel *k;
	char pin[512];
	int e;

	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->ncpus = libbpf_num_possible_cpus();
	e = ensure_mount("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);
	if (e) {
		snprintf(err, errlen, "mounting tracefs at /sys/kernel/tracing: %s", strerror(-e));
		goto fail;
	}
	e = ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC);
	if (e) {
		snprintf(err, errlen, "mounting bpffs at /sys/fs/bpf: %s", strerror(-e));
		goto fail;
	}
	if (mkdir(o->pin_dir, 0700) && errno != EEXIST) {
		e = -errno;
		snprintf(err, errlen, "creating %s: %s", o->pin_dir, strerror(-e));
		goto fail;
	}
	k->skel = sprawl__open();
	if (!k->skel) {
		e = -errno;
		snprintf(err, errlen, "opening the BPF object: %s", strerror(-e));
		goto fail;
	}
	k->skel->rodata->max_bytes = o->max_bytes;
	k->skel->rodata->daemon_tgid = getpid();
	bpf_map__set_max_entries(k->skel->maps.events, o->ringbuf_bytes);
	/* One exec scratch per CPU (too big for a per-CPU map), indexed by the CPU id. */
	bpf_map__set_max_entries(k->skel->maps.exec_buf, k->ncpus > 0 ? k->ncpus : 1);
	snprintf(pin, sizeof(pin), "%s/scope", o->pin_dir);
	bpf_map__set_pin_path(k->skel->maps.scope, pin);
	e = sprawl__load(k->skel);
	if (e) {
		snprintf(err, errlen,
			 "loading the BPF programs: %s (needs root, BTF at /sys/kernel/btf/vmlinux "
			 "and a kernel with tp_btf and bpf_loop; a scope map pinned at %s by an "
			 "incompatible version must be removed)",
			 strerror(-e), pin);
		goto fail;
	}
	e = sprawl__attach(k->skel);
	if (e) {
		snprintf(err, errlen, "attaching the BPF programs: %s", strerror(-e));
		goto fail;
	}
	k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.events), (ring_buffer_sample_fn)fn, ctx,
				 NULL);
	if (!k->rb) {
		e = -errno;
		snprintf(err, errlen, "opening the ring buffer: %s", strerror(-e));
		goto fail;
	}
	return k;
fail:
	sw_kernel__free(k);
	errno = -e;
	return NULL;
}

void sw_kernel__free(struct sw_kernel *k)
{
	if (!k)
		return;
	if (k->cons_pos)
		munmap(k->cons_pos, sysconf(_SC_PAGESIZE));
	if (k->prod_pos)
		munmap(k->prod_pos, sysconf(_SC_PAGESIZE));
	ring_buffer__free(k->rb);
	sprawl__destroy(k->skel);
	free(k);
}

int sw_kernel__epoll_fd(const struct sw_kernel *k)
{
	return ring_buffer__epoll_fd(k->rb);
}

int sw_kernel__ring_fill(struct sw_kernel *k, uint64_t *used, uint64_t *size)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = bpf_map__fd(k->skel->maps.events);
	volatile uint64_t *cons, *prod;

	*size = bpf_map__max_entries(k->skel->maps.events);
	/* The ring's positions, read the way libbpf's consumer does: the consumer page at 0,
	 * the producer page after it (read-only). libbpf 1.1 has no call for it. */
	if (!k->cons_pos) {
		void *c = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
		void *p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);

		if (c == MAP_FAILED || p == MAP_FAILED) {
			if (c != MAP_FAILED)
				munmap(c, page);
			if (p != MAP_FAILED)
				munmap(p, page);
			return -errno;
		}
		k->cons_pos = c;
		k->prod_pos = p;
	}
	cons = k->cons_pos;
	prod = k->prod_pos;
	*used = __atomic_load_n(prod, __ATOMIC_ACQUIRE) - __atomic_load_n(cons, __ATOMIC_ACQUIRE);
	return 0;
}

int sw_kernel__consume(struct sw_kernel *k)
{
	return ring_buffer__consume(k->rb);
}

int sw_kernel__scope_add(struct sw_kernel *k, uint32_t tgid, uint64_t session_id, uint32_t root_pid)
{
	struct sw_scope s = {.session_id = session_id, .root_pid = root_pid};

	if (bpf_map__update_elem(k->skel->maps.scope, &tgid, sizeof(tgid), &s, sizeof(s), BPF_ANY))
		return -errno;
	return 0;
}

int sw_kernel__scope_get(struct sw_kernel *k, uint32_t tgid, struct sw_scope *out)
{
	if (bpf_map__lookup_elem(k->skel->maps.scope, &tgid, sizeof(tgid), out, sizeof(*out), 0))
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

int sw_kernel__scope_each(struct sw_kernel *k,
			  void (*fn)(uint32_t tgid, const struct sw_scope *s, void *ctx), void *ctx)
{
	uint32_t key, next;
	struct sw_scope s;
	int n = 0, r;

	r = bpf_map__get_next_key(k->skel->maps.scope, NULL, &next, sizeof(next));
	while (r == 0 && n < 1 << 20) {
		key = next;
		if (!bpf_map__lookup_elem(k->skel->maps.scope, &key, sizeof(key), &s, sizeof(s), 0))
			fn(key, &s, ctx);
		n++;
		r = bpf_map__get_next_key(k->skel->maps.scope, &key, &next, sizeof(next));
	}
	return r == 0 || errno == ENOENT ? 0 : -errno;
}

int sw_kernel__set_agent_comms(struct sw_kernel *k, const char (*comms)[16], size_t nagents,
			       size_t ninterp)
{
	size_t n = nagents + ninterp;
	struct bpf_map *m = k->skel->maps.agent_comms;
	char key[16], next[16];
	uint32_t v;
	size_t i;

	/* Delete all, then insert: the table is tiny and changes only on rule reload. */
	while (!bpf_map__get_next_key(m, NULL, next, sizeof(next))) {
		memcpy(key, next, sizeof(key));
		if (bpf_map__delete_elem(m, key, sizeof(key), 0))
			return -errno;
	}
	for (i = 0; i < n; i++) {
		memset(key, 0, sizeof(key));
		strncpy(key, comms[i], sizeof(key) - 1);
		v = i < nagents ? i : SW_AGENT_INTERP;
		/* An agent's own name wins over an interpreter of the same name. */
		if (bpf_map__update_elem(m, key, sizeof(key), &v, sizeof(v),
					 i < nagents ? BPF_ANY : BPF_NOEXIST) &&
		    i < nagents)
			return -errno;
	}
	return 0;
}

int sw_kernel__set_origins(struct sw_kernel *k, const struct sw_inode_key *keys, size_t n)
{
	struct bpf_map *m = k->skel->maps.origins;
	struct sw_inode_key key, next;
	uint32_t one = 1;
	size_t i;

	while (!bpf_map__get_next_key(m, NULL, &next, sizeof(next))) {
		key = next;
		if (bpf_map__delete_elem(m, &key, sizeof(key), 0))
			return -errno;
	}
	for (i = 0; i < n; i++)
		if (bpf_map__update_elem(m, &keys[i], sizeof(keys[i]), &one, sizeof(one), BPF_ANY))
			return -errno;
	return 0;
}

int sw_kernel__pipe_reader(struct sw_kernel *k, uint64_t kdev, uint64_t ino, uint32_t *tgid)
{
	struct sw_inode_key key = {.dev = kdev, .ino = ino};

	return bpf_map__lookup_elem(k->skel->maps.pipe_readers, &key, sizeof(key), tgid,
				    sizeof(*tgid), 0) == 0;
}

int sw_kernel__loss(struct sw_kernel *k, struct sw_loss *out)
{
	struct sw_loss *per;
	uint32_t zero = 0;
	int i;

	per = calloc(k->ncpus, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map__lookup_elem(k->skel->maps.loss, &zero, sizeof(zero), per,
				 sizeof(*per) * k->ncpus, 0)) {
		free(per);
		return -errno;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < k->ncpus; i++) {
		out->ringbuf_full += per[i].ringbuf_full;
		out->truncated += per[i].truncated;
		out->read_errors += per[i].read_errors;
		out->path_truncated += per[i].path_truncated;
		out->scope_full += per[i].scope_full;
		out->copies_unread += per[i].copies_unread;
	}
	free(per);
	return 0;
}
