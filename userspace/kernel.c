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
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel.h"
#include "kernel_priv.h"
#include "sprawl.skel.h"

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

/* The build: the BPF object's bytes and the knobs set before load. A daemon reuses pinned
 * programs only of its own build; anything else may read records another way. */
static uint64_t build_of(const struct sw_kernel_opts *o)
{
	const uint8_t *b;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n, i;

	b = sprawl__elf_bytes(&n);
	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	h = (h ^ o->ringbuf_bytes) * 0x100000001b3ull;
	h = (h ^ o->max_bytes) * 0x100000001b3ull;
	h = (h ^ o->guard) *
	    0x100000001b3ull; /* the guard mode is read-only data of the programs */
	return h;
}

/* Hands a record on; a batch full, or the handler saying the loop's turn is up (a negative
 * return), stops the consumer (the record counts as consumed), so a ring that fills as fast as
 * it is read cannot hold the event loop. */
static int sample(void *ctx, void *data, size_t size)
{
	struct sw_kernel *k = ctx;
	int e = k->fn(k->ctx, data, size);

	return ++k->batch >= CONSUME_BATCH || e < 0 ? -EAGAIN : 0;
}

struct sw_kernel *sw_kernel__open(const struct sw_kernel_opts *o, sw_record_fn fn, void *ctx,
				  char *err, size_t errlen)
{
	struct bpf_program *prog;
	struct bpf_map **maps;
	struct sw_kernel *k;
	struct sw_meta m = {};
	char pin[PIN_PATH_MAX], dir[PIN_PATH_MAX];
	uint32_t zero = 0;
	size_t nmaps, i;
	int e, reuse;

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
	k->build = build_of(o);
	if (snprintf(dir, sizeof(dir), "%s/b%016llx", o->pin_dir, (unsigned long long)k->build) >=
	    (int)sizeof(dir) - 32) {
		e = -ENAMETOOLONG;
		snprintf(err, errlen, "%s: pin path too long", o->pin_dir);
		goto fail;
	}
	/* Programs of this build that ran on without a daemon are kept as they are: nothing is
	 * detached, the ring holds what they captured. A half-pinned directory is replaced. */
	reuse = kp_links_pinned(k, dir);
	if (!reuse)
		kp_unpin_dir(dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		e = -errno;
		snprintf(err, errlen, "creating %s: %s", dir, strerror(-e));
		goto fail;
	}
	k->skel->rodata->max_bytes = o->max_bytes;
	k->skel->rodata->guard_mode = o->guard;
	bpf_map__set_max_entries(k->skel->maps.events, o->ringbuf_bytes);
	if (kp_join(pin, o->pin_dir, "", "scope") ||
	    bpf_map__set_pin_path(k->skel->maps.scope, pin)) {
		e = -ENAMETOOLONG;
		snprintf(err, errlen, "%s: pin path too long", o->pin_dir);
		goto fail;
	}
	maps = kp_pinned_maps(k->skel, &nmaps);
	for (i = 0; i < nmaps; i++) {
		if (kp_join(pin, dir, "", bpf_map__name(maps[i])) ||
		    bpf_map__set_pin_path(maps[i], pin)) {
			e = -ENAMETOOLONG;
			snprintf(err, errlen, "%s: pin path too long", dir);
			goto fail;
		}
	}
	/* Processes stopped for the TLS uprobes: a restarted daemon resumes them. */
	snprintf(pin, sizeof(pin), "%s/tls_held", o->pin_dir);
	bpf_map__set_pin_path(k->skel->maps.tls_held, pin);
	/* One exec scratch per CPU (too big for a per-CPU map), indexed by the CPU id. */
	bpf_map__set_max_entries(k->skel->maps.exec_buf, k->ncpus > 0 ? k->ncpus : 1);
	snprintf(pin, sizeof(pin), "%s/scope", o->pin_dir);
	/* The pinned programs run on; the TLS uprobe program (attached per process by this
	 * daemon, never pinned) is loaded anew over the pinned maps. */
	if (reuse)
		bpf_object__for_each_program(prog, k->skel->obj) if (kp_pinned_prog(prog))
			bpf_program__set_autoload(prog, false);
	e = sprawl__load(k->skel);
	if (e) {
		snprintf(err, errlen,
			 "loading the BPF programs: %s (needs root, BTF at /sys/kernel/btf/vmlinux "
			 "and a kernel with tp_btf and bpf_loop; a scope map pinned at %s by an "
			 "incompatible version must be removed)",
			 strerror(-e), pin);
		goto fail;
	}
	if (reuse) {
		e = kp_open_links(k, dir);
		if (e) {
			snprintf(err, errlen, "opening the links pinned in %s: %s", dir,
				 strerror(-e));
			goto fail;
		}
		bpf_map__lookup_elem(k->skel->maps.meta, &zero, sizeof(zero), &m, sizeof(m), 0);
		k->prev.found = 1;
		k->prev.alive_real_ns = m.alive_real_ns;
		snprintf(k->prev.build, sizeof(k->prev.build), "%016llx",
			 (unsigned long long)k->build);
		k->told = m.told;
		if (!sw_kernel__loss(k, &k->prev.lost)) {
			struct sw_loss now = k->prev.lost;

			memset(&k->prev.lost, 0, sizeof(k->prev.lost));
			kp_loss_add(&k->prev.lost, &now, &m.told);
			k->told = now;
		}
		kp_ring_used(bpf_map__fd(k->skel->maps.events), &k->prev.drained_bytes);
		/* Open files the previous daemon was told the names of: this one was not. */
		kp_clear_map(k->skel->maps.named, sizeof(struct named_key_u));
		/* Ranges it took and had not read back: lost, and no longer being read. */
		k->prev.lost.ringbuf_full +=
			kp_old_entries(dir, "spill_reading", sizeof(struct sw_spill_reading));
		kp_clear_map(k->skel->maps.spill_reading, sizeof(struct sw_inode_key));
	}
	/* Another build's programs: what they hold is taken, then they are detached and ours
	 * attached (loaded already: the blind moment is the attach alone). */
	kp_each_old(o->pin_dir, dir, kp_take_old, k);
	kp_each_old(o->pin_dir, dir, kp_unlink_links, k);
	if (!reuse) {
		e = sprawl__attach(k->skel);
		if (e) {
			snprintf(err, errlen, "attaching the BPF programs: %s", strerror(-e));
			goto fail;
		}
		e = kp_pin_links(k, dir);
		if (e) {
			snprintf(err, errlen, "pinning the links in %s: %s", dir, strerror(-e));
			goto fail;
		}
	}
	snprintf(k->pin_dir, sizeof(k->pin_dir), "%s", o->pin_dir);
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	k->fn = (ring_buffer_sample_fn)fn;
	k->ctx = ctx;
	m.build = k->build;
	m.format = SW_RECORD_FORMAT;
	m.daemon_tgid = getpid();
	m.told = k->told;
	m.alive_real_ns = k->prev.alive_real_ns;
	if (bpf_map__update_elem(k->skel->maps.meta, &zero, sizeof(zero), &m, sizeof(m), 0)) {
		e = -errno;
		snprintf(err, errlen, "writing the meta map: %s", strerror(-e));
		goto fail;
	}
	k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.events), sample, k, NULL);
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
	/* Closing a pinned link's descriptor leaves it attached: capture goes on. */
	while (k->nlinks)
		bpf_link__destroy(k->links[--k->nlinks]);
	while (k->nold)
		close(k->old_ring[--k->nold]);
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
	int n;

	k->batch = 0;
	n = ring_buffer__consume(k->rb);
	return n == -EAGAIN ? (int)k->batch : n;
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

int sw_kernel__spill_take(struct sw_kernel *k, struct sw_inode_key *key, struct sw_spill *out)
{
	if (bpf_map__get_next_key(k->skel->maps.spills, NULL, key, sizeof(*key)))
		return errno == ENOENT ? 0 : -errno;
	if (bpf_map__lookup_and_delete_elem(k->skel->maps.spills, key, sizeof(*key), out,
					    sizeof(*out), 0))
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

int sw_kernel__spill_reading(struct sw_kernel *k, const struct sw_inode_key *key,
			     const struct sw_spill_reading *r)
{
	int e;

	if (r)
		e = bpf_map__update_elem(k->skel->maps.spill_reading, key, sizeof(*key), r,
					 sizeof(*r), BPF_ANY);
	else
		e = bpf_map__delete_elem(k->skel->maps.spill_reading, key, sizeof(*key), 0);
	return e && errno != ENOENT ? -errno : 0;
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
		out->spilled += per[i].spilled;
	}
	free(per);
	return 0;
}

static int inode_map_put(struct bpf_map *m, uint64_t kdev, uint64_t ino, uint32_t v)
{
	struct sw_inode_key key = {.dev = kdev, .ino = ino};

	if (bpf_map__update_elem(m, &key, sizeof(key), &v, sizeof(v), BPF_ANY))
		return -errno;
	return 0;
}

int sw_kernel__tls_file_add(struct sw_kernel *k, uint64_t kdev, uint64_t ino)
{
	return inode_map_put(k->skel->maps.tls_files, kdev, ino, 1);
}

int sw_kernel__tls_file_del(struct sw_kernel *k, uint64_t kdev, uint64_t ino)
{
	struct sw_inode_key key = {.dev = kdev, .ino = ino};

	if (bpf_map__delete_elem(k->skel->maps.tls_files, &key, sizeof(key), 0) && errno != ENOENT)
		return -errno;
	return 0;
}

int sw_kernel__tls_seen_add(struct sw_kernel *k, uint64_t kdev, uint64_t ino, uint32_t gen)
{
	return inode_map_put(k->skel->maps.tls_seen, kdev, ino, gen);
}

int sw_kernel__tls_proc_add(struct sw_kernel *k, uint32_t tgid)
{
	uint32_t one = 1;

	if (bpf_map__update_elem(k->skel->maps.tls_procs, &tgid, sizeof(tgid), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

int sw_kernel__tls_rescan_done(struct sw_kernel *k, uint32_t tgid)
{
	if (bpf_map__delete_elem(k->skel->maps.tls_rescan, &tgid, sizeof(tgid), 0) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

struct bpf_link *sw_kernel__tls_attach(struct sw_kernel *k, int pid, const char *path,
				       const char *func, uint64_t off, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = cookie, .func_name = func);

	return bpf_program__attach_uprobe_opts(k->skel->progs.sw_tls_write, pid, path,
					       func ? 0 : off, &o);
}

void sw_kernel__tls_detach(struct bpf_link *l)
{
	bpf_link__destroy(l);
}

int sw_kernel__tls_held_each(struct sw_kernel *k,
			     void (*fn)(uint32_t tgid, const struct sw_hold *h, void *ctx),
			     void *ctx)
{
	uint32_t keys[4096], key, next;
	struct sw_hold h;
	size_t n = 0, i;
	int r;

	/* Keys first: fn deletes entries, which would restart a walk in progress. */
	r = bpf_map__get_next_key(k->skel->maps.tls_held, NULL, &next, sizeof(next));
	while (r == 0 && n < sizeof(keys) / sizeof(keys[0])) {
		key = keys[n++] = next;
		r = bpf_map__get_next_key(k->skel->maps.tls_held, &key, &next, sizeof(next));
	}
	for (i = 0; i < n; i++)
		if (!bpf_map__lookup_elem(k->skel->maps.tls_held, &keys[i], sizeof(keys[i]), &h,
					  sizeof(h), 0))
			fn(keys[i], &h, ctx);
	return 0;
}

int sw_kernel__tls_held_del(struct sw_kernel *k, uint32_t tgid)
{
	if (bpf_map__delete_elem(k->skel->maps.tls_held, &tgid, sizeof(tgid), 0) && errno != ENOENT)
		return -errno;
	return 0;
}

int sw_kernel__tls_held_add(struct sw_kernel *k, uint32_t tgid, uint32_t why)
{
	struct sw_hold h = {.why = why, .tid = tgid};
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	h.ktime = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (bpf_map__update_elem(k->skel->maps.tls_held, &tgid, sizeof(tgid), &h, sizeof(h),
				 BPF_ANY))
		return -errno;
	return 0;
}
