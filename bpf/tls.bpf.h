/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* TLS: the plaintext a session process hands its TLS library (SSL_write, SSL_write_ex,
 * gnutls_record_send), seen by a uprobe before it is encrypted, and the stops that make sure
 * no such write runs before its uprobes are attached (or, in guard mode, before the daemon's
 * verdict). */
#ifndef SPRAWL_TLS_BPF_H
#define SPRAWL_TLS_BPF_H

#include "maps.bpf.h"
#include "capture.bpf.h"
#include "path.bpf.h"
#include "side.bpf.h"

#define SW_SIGSTOP 19

/* A daemon gave a sign of life within this long: someone will resume what is stopped. */
#define SW_ALIVE_NS (3ull * 1000000000ull)

/* Stops the current process (at its return to user mode) and remembers why — only while a
 * daemon runs: the programs stay pinned with none, and a process stopped then would wait for
 * the next daemon (it runs on unwatched instead; its TLS record still tells that daemon). */
static __always_inline void tls_hold(__u32 tgid, __u32 why)
{
	struct sw_hold h = {.ktime = bpf_ktime_get_ns(), .why = why};
	__u32 zero = 0;
	struct sw_meta *m = bpf_map_lookup_elem(&meta, &zero);

	if (!m || h.ktime - m->alive_ktime_ns > SW_ALIVE_NS)
		return;
	h.tid = (__u32)bpf_get_current_pid_tgid();
	if (bpf_map_update_elem(&tls_held, &tgid, &h, BPF_ANY))
		return; /* never stop what nobody would resume */
	bpf_send_signal(SW_SIGSTOP);
}

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

#define SW_PF_EXITING 0x00000004

/* Whether the daemon's process is there and not exiting. A stop to wait for it is made only
 * while it can answer: one killed a moment ago (its sign of life still fresh) would leave the
 * process stopped until the next daemon starts, and a session that runs on meanwhile (a shell
 * running dd) would hang. Such a process runs on unstopped, as a foreground job does. */
static __always_inline int daemon_alive(void)
{
	struct task_struct *t;
	struct sw_meta *m;
	__u32 zero = 0;
	int alive;

	m = bpf_map_lookup_elem(&meta, &zero);
	if (!m || !m->daemon_tgid)
		return 0;
	t = bpf_task_from_pid((s32)m->daemon_tgid);
	if (!t)
		return 0;
	alive = !t->exit_state && !(t->flags & SW_PF_EXITING);
	bpf_task_release(t);
	return alive;
}

/* Whether the current process is a job a job-control shell runs in its terminal's foreground
 * (a process group of its own, the terminal's foreground group, not its parent's): a stop
 * would be the shell's to report ("Stopped", status 147), and it would take the terminal back
 * from the job. Such a process is not stopped to wait for uprobes; the daemon attaches them as
 * soon as it can and says when it was too late. */
static __always_inline int foreground_job(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pid *pg = BPF_CORE_READ(t, signal, pids[PIDTYPE_PGID]);
	struct pid *fg = BPF_CORE_READ(t, signal, tty, ctrl.pgrp);

	return pg && pg == fg && pg != BPF_CORE_READ(t, real_parent, signal, pids[PIDTYPE_PGID]);
}

/* A record that stops its process says whether it did not: no daemon could answer, or a
 * foreground job. */
static __always_inline __u32 tls_stop_flags(void)
{
	if (!daemon_alive())
		return SW_TLSLIB_NOT_STOPPED | SW_TLSLIB_NO_DAEMON;
	return foreground_job() ? SW_TLSLIB_NOT_STOPPED : 0;
}

/* Sends r with len bytes of tail after it, then stops the current process unless r says not
 * to. 0 when sent (nothing is stopped that nobody would hear of). */
static __always_inline int tls_tell(struct sw_tlslib_rec *r, __u64 len)
{
	r->hdr.size = sizeof(*r) + len;
	if (bpf_ringbuf_output(&events, r, sizeof(*r) + len, 0)) {
		LOSS_INC(ringbuf_full);
		return -1;
	}
	if (!(r->flags & SW_TLSLIB_NOT_STOPPED))
		tls_hold(bpf_get_current_pid_tgid() >> 32, SW_HOLD_ATTACH);
	return 0;
}

/* A session process mapped executable file f at addr (or exec'd it: addr 0): if it carries a
 * TLS stack we hook, or the daemon has not looked at it yet, tell the daemon and stop until it
 * has looked and attached the uprobes for this process. */
static __always_inline void tls_lib_check(const struct sw_scope *s, struct file *f, __u64 addr)
{
	struct sw_inode_key k = {};
	struct path_scratch *ps;
	struct sw_tlslib_rec *r;
	struct misc_scratch *m;
	__u64 start = 0, len = 0;
	struct inode *inode;
	__u32 tgid, gen, flags = 0, trunc = 0, one = 1, *seen;

	if (!f)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(inode, i_ino);
	gen = BPF_CORE_READ(inode, i_generation);
	if (!bpf_map_lookup_elem(&tls_files, &k)) {
		seen = bpf_map_lookup_elem(&tls_seen, &k);
		if (seen && *seen == gen)
			return;
		flags |= SW_TLSLIB_UNKNOWN;
	}
	flags |= tls_stop_flags();
	m = misc();
	if (!m)
		return;
	r = &m->tlslib;
	fill_hdr(&r->hdr, SW_EV_TLSLIB, s);
	r->dev = k.dev;
	r->ino = k.ino;
	r->addr = addr;
	r->gen = gen;
	r->flags = flags;
	if (flags & SW_TLSLIB_UNKNOWN) {
		ps = file_path(f, &start, &len, &trunc);
		len = copy_path(m->tail, ps, start, len) & (SW_PATH_LEN - 1);
	}
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!tls_tell(r, len) && !(flags & SW_TLSLIB_UNKNOWN))
		bpf_map_update_elem(&tls_procs, &tgid, &one, BPF_ANY);
}

/* A record about the current process as a whole (no file: dev, ino 0), sent, then the stop
 * (tls_tell). 0 when sent. */
static __always_inline int tls_tell_process(const struct sw_scope *s, __u64 addr, __u32 flags)
{
	struct sw_tlslib_rec *r;
	struct misc_scratch *m = misc();

	if (!m)
		return -1;
	r = &m->tlslib;
	fill_hdr(&r->hdr, SW_EV_TLSLIB, s);
	r->dev = 0;
	r->ino = 0;
	r->addr = addr;
	r->gen = 0;
	r->flags = flags | tls_stop_flags();
	return tls_tell(r, 0);
}

/* A new process (not a thread, not sharing its creator's memory: those pass its uprobes'
 * filter) made by a process with TLS hooks has the same libraries mapped, with no uprobe of its
 * own: marked now (by its creator, which CLONE_PARENT does not make its parent), checked at
 * its first return. */
static __always_inline void tls_fork_mark(struct task_struct *creator, struct task_struct *child)
{
	__u32 ctgid = child->tgid, ptgid = creator->tgid, forked = SW_TLS_PROC_FORKED;

	if (child->mm != creator->mm && bpf_map_lookup_elem(&tls_procs, &ptgid))
		bpf_map_update_elem(&tls_procs, &ctgid, &forked, BPF_ANY);
}

/* The current task is a child returning from fork or clone for the first time: marked by
 * tls_fork_mark, it is told (SW_TLSLIB_FORKED) and stopped until the daemon has attached its
 * uprobes. */
static __always_inline void tls_fork_check(const struct sw_scope *s)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, one = 1, *v;

	if ((__u32)id != tgid)
		return;
	v = bpf_map_lookup_elem(&tls_procs, &tgid);
	if (!v || *v != SW_TLS_PROC_FORKED)
		return;
	bpf_map_update_elem(&tls_procs, &tgid, &one, BPF_ANY);
	tls_tell_process(s, 0, SW_TLSLIB_FORKED);
}

/* What bpf_find_vma found at an address. */
struct vma_look {
	struct file *f;
	__u64 start, end, flags;
};

static long vma_look_cb(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct vma_look *v = ctx;

	v->f = BPF_CORE_READ(vma, vm_file);
	v->start = BPF_CORE_READ(vma, vm_start);
	v->end = BPF_CORE_READ(vma, vm_end);
	v->flags = BPF_CORE_READ(vma, vm_flags);
	return 0;
}

#define SW_VM_EXEC	  0x4
#define SW_EBUSY	  16
#define SW_MPROTECT_VMAS  8 /* mappings of one mprotect looked at one by one */
#define SW_FIND_VMA_TRIES 8

/* An mprotect the kernel does not look at mapping by mapping (the process's mapping lock was
 * taken, the range spans several files or more mappings than are looked at): the daemon
 * looks at all of the process's executable mappings, the process stopped meanwhile (one stop,
 * resumed once all are hooked). One at a time (tls_rescan): the daemon clears it before it
 * reads the mappings, so an mprotect after that is told again. */
static __always_inline void tls_rescan_tell(const struct sw_scope *s, __u64 addr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, one = 1;

	if (bpf_map_update_elem(&tls_rescan, &tgid, &one, BPF_NOEXIST))
		return; /* one is pending: its look comes after this mprotect */
	if (tls_tell_process(s, addr, SW_TLSLIB_RESCAN | SW_TLSLIB_UNKNOWN))
		bpf_map_delete_elem(&tls_rescan, &tgid);
}

/* A session process's mprotect made [start, start + len) executable: a file mapping in it is
 * checked as an executable mmap of that file is (a loader of its own may map a library
 * readable and make its code executable afterwards). Anonymous memory (a JIT's code) is not a
 * file and is left alone. */
static __always_inline void tls_mprotect_check(const struct sw_scope *s, __u64 start, __u64 len)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 at = start, end = start + len, fstart = 0;
	struct file *f = NULL;
	struct vma_look v;
	long err;
	int i, j;

	for (i = 0; i < SW_MPROTECT_VMAS && at < end; i++) {
		err = -SW_EBUSY;
		for (j = 0; j < SW_FIND_VMA_TRIES && err == -SW_EBUSY; j++) {
			v.f = NULL;
			v.end = 0;
			err = bpf_find_vma(t, at, vma_look_cb, &v, 0);
		}
		if (err == -SW_EBUSY)
			break;
		if (err || v.end <= at)
			return; /* nothing mapped there (the mprotect failed) */
		if (v.f && (v.flags & SW_VM_EXEC)) {
			if (f)
				break; /* a second file: one look at them all */
			f = v.f;
			fstart = v.start;
		}
		at = v.end;
	}
	if (at < end)
		tls_rescan_tell(s, at);
	else if (f)
		tls_lib_check(s, f, fstart);
}

/* The socket a TLS write goes to: the one its SSL object flushed to before, else the one the
 * thread wrote last (its handshake went there). The SSL object is tied to the socket at the
 * thread's next socket write. */
static __always_inline __s32 tls_fd_of(__u64 ssl, int *guess)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_key k = {.ssl = ssl, .tgid = id >> 32};
	__u32 tid = (__u32)id;
	__s32 *fd;

	*guess = 0;
	fd = bpf_map_lookup_elem(&ssl_fd, &k);
	if (fd)
		return *fd;
	*guess = 1;
	bpf_map_update_elem(&tls_pend, &tid, &ssl, BPF_ANY);
	fd = bpf_map_lookup_elem(&tls_sock, &tid);
	return fd ? *fd : -1;
}

#endif
