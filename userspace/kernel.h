/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel side as the daemon sees it: load, pin, attach, knobs, scope, loss counters.
 * The only code that touches the BPF skeleton. */
#ifndef SW_KERNEL_H
#define SW_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "sprawl_events.h"

struct sw_kernel;

struct sw_kernel_opts {
	uint32_t ringbuf_bytes; /* power of two, >= 1 MiB */
	uint32_t max_bytes;	/* per-syscall capture cap */
	uint32_t guard;		/* 0: TLS writes are seen; else they stop their writer */
	const char *pin_dir;	/* bpffs dir: the scope map, and b<build>/ for programs and maps */
};

/* Programs a previous daemon left pinned, found at open. */
struct sw_kernel_prev {
	int found;		/* programs ran on with no daemon */
	int replaced;		/* some were of another build: detached, their ring thrown away */
	char build[17];		/* the build found */
	uint64_t alive_real_ns; /* the previous daemon's last sign of life, wall clock; 0 unknown */
	uint64_t drained_bytes; /* ring bytes held for this daemon (of our record format) */
	uint64_t dropped_bytes; /* ring bytes of another record format, not read */
	struct sw_loss lost;	/* loss counts no daemon reported */
};

struct bpf_link;

typedef int (*sw_record_fn)(void *ctx, void *data, size_t size);

/* Mounts tracefs and bpffs when absent, opens, loads and attaches every program, and pins
 * programs, links, ring and maps so that capture goes on while no daemon runs. Programs of this
 * build found pinned are reused as they run (their ring is read next); of another build,
 * replaced once this build's are attached. On failure
 * returns NULL with errno set and a reason in err. */
struct sw_kernel *sw_kernel__open(const struct sw_kernel_opts *o, sw_record_fn fn, void *ctx,
				  char *err, size_t errlen);
void sw_kernel__free(struct sw_kernel *k); /* detaches everything */
int sw_kernel__epoll_fd(const struct sw_kernel *k);
/* Consumes available records, at most a batch (4096) a call, so that the loop serves the rest
 * between batches; returns the count or a negative errno. */
int sw_kernel__consume(struct sw_kernel *k);
/* Bytes in the ring not yet consumed, and the ring's size. */
int sw_kernel__ring_fill(struct sw_kernel *k, uint64_t *used, uint64_t *size);
/* Puts tgid into the scope as a session root. */
int sw_kernel__scope_add(struct sw_kernel *k, uint32_t tgid, uint64_t session_id,
			 uint32_t root_pid);
/* Looks tgid up in the scope: 1 found (and *out filled), 0 not, <0 error. */
int sw_kernel__scope_get(struct sw_kernel *k, uint32_t tgid, struct sw_scope *out);
/* Calls fn for every scope entry (sessions surviving a restart). */
int sw_kernel__scope_each(struct sw_kernel *k,
			  void (*fn)(uint32_t tgid, const struct sw_scope *s, void *ctx),
			  void *ctx);
/* Replaces the agent comm table: comms[0..nagents) start a session at exec, the next ninterp
 * are interpreters whose execs are reported for userspace to judge. */
int sw_kernel__set_agent_comms(struct sw_kernel *k, const char (*comms)[16], size_t nagents,
			       size_t ninterp);
/* Replaces the set of origin files whose opening is an exposure. */
int sw_kernel__set_origins(struct sw_kernel *k, const struct sw_inode_key *keys, size_t n);
/* The session process that last read pipe (kernel dev, ino): 1 and *tgid, 0 unknown. */
int sw_kernel__pipe_reader(struct sw_kernel *k, uint64_t kdev, uint64_t ino, uint32_t *tgid);
/* TLS (tlsedge.c): a file with a TLS stack (kernel dev, ino): a session process that maps or
 * execs it is stopped and told of (SW_EV_TLSLIB). */
int sw_kernel__tls_file_add(struct sw_kernel *k, uint64_t kdev, uint64_t ino);
/* A file out of the TLS set (a new file took its inode). */
int sw_kernel__tls_file_del(struct sw_kernel *k, uint64_t kdev, uint64_t ino);
/* An executable file (kernel dev, ino, gen) looked at, with no TLS stack to hook: mapping or
 * exec'ing it no longer stops a session process. */
int sw_kernel__tls_seen_add(struct sw_kernel *k, uint64_t kdev, uint64_t ino, uint32_t gen);
/* A session process the daemon hooked: a child it forks is stopped until hooked too. */
int sw_kernel__tls_proc_add(struct sw_kernel *k, uint32_t tgid);
/* tgid's executable mappings are about to be read for a rescan (SW_TLSLIB_RESCAN): an
 * mprotect from now on is told again. */
int sw_kernel__tls_rescan_done(struct sw_kernel *k, uint32_t tgid);
/* Attaches the TLS write uprobe to pid's copy of path: at func (a symbol) or at the file
 * offset off (func NULL); cookie = enum sw_tlsw. NULL with errno on failure. */
struct bpf_link *sw_kernel__tls_attach(struct sw_kernel *k, int pid, const char *path,
				       const char *func, uint64_t off, uint64_t cookie);
void sw_kernel__tls_detach(struct bpf_link *l); /* takes NULL */
/* Calls fn for every process the kernel stopped (tls_held); fn may release it. */
int sw_kernel__tls_held_each(struct sw_kernel *k,
			     void (*fn)(uint32_t tgid, const struct sw_hold *h, void *ctx),
			     void *ctx);
/* Remembers that the daemon stopped tgid (why: enum sw_hold_why): resumed like the kernel's. */
int sw_kernel__tls_held_add(struct sw_kernel *k, uint32_t tgid, uint32_t why);
/* Forgets that tgid was stopped (the caller resumes it). */
int sw_kernel__tls_held_del(struct sw_kernel *k, uint32_t tgid);
/* Reads the rings of other builds of our record format found at open (their programs
 * detached), then removes their pins; returns the records read. */
int sw_kernel__drain_previous(struct sw_kernel *k);
/* What open() found pinned by a previous daemon. */
const struct sw_kernel_prev *sw_kernel__previous(const struct sw_kernel *k);
/* Loss counts reported by the daemons before, as the meta map keeps them. */
const struct sw_loss *sw_kernel__told(const struct sw_kernel *k);
/* A sign of life for the next daemon: the wall clock, and the loss counts reported. */
int sw_kernel__alive(struct sw_kernel *k, uint64_t real_ns, const struct sw_loss *told);
/* Takes one file range the ring had no room for out of the spills map: 1 (and *key, the file,
 * and *out), 0 none, or a negative errno. */
int sw_kernel__spill_take(struct sw_kernel *k, struct sw_inode_key *key, struct sw_spill *out);
/* Tells the kernel which ranges of a taken entry are still to be read back (r), or that none
 * are (r NULL): a write over them is counted as lost. 0 or -errno. */
int sw_kernel__spill_reading(struct sw_kernel *k, const struct sw_inode_key *key,
			     const struct sw_spill_reading *r);
/* Sums the per-CPU loss counters. */
int sw_kernel__loss(struct sw_kernel *k, struct sw_loss *out);

#endif
