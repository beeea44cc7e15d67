// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sprawlwatch kernel programs: thin entry points, logic in the *.bpf.h helpers. Only the
 * tracepoint path is used: fentry, BPF-LSM and kprobes are unavailable on the target kernels. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "sprawl_events.h"
#include "maps.bpf.h"
#include "proc.bpf.h"
#include "path.bpf.h"
#include "capture.bpf.h"
#include "exec.bpf.h"
#include "side.bpf.h"
#include "tls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* x86-64 syscall numbers: the arguments are still in pt_regs at sys_exit. */
#define NR_write		1
#define NR_pwrite64		18
#define NR_writev		20
#define NR_pwritev		296
#define NR_pwritev2		328
#define NR_sendto		44
#define NR_sendmsg		46
#define NR_sendmmsg		307
#define NR_sendfile		40
#define NR_splice		275
#define NR_tee			276
#define NR_copy_file_range	326
#define NR_open			2
#define NR_creat		85
#define NR_openat		257
#define NR_openat2		437
#define NR_rename		82
#define NR_renameat		264
#define NR_renameat2		316
#define NR_link			86
#define NR_linkat		265
#define NR_mkdir		83
#define NR_mkdirat		258
#define NR_mknod		133
#define NR_mknodat		259
#define NR_symlink		88
#define NR_symlinkat		266
#define NR_bind			49
#define NR_memfd_create		319
#define NR_mq_open		240
#define NR_fallocate		285
#define SW_FALLOC_SHIFTS	0x28 /* FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE */
#define NR_mmap			9
#define NR_mprotect		10
#define NR_pkey_mprotect	329
#define NR_io_uring_setup	425
#define NR_clone		56
#define NR_fork			57
#define NR_vfork		58
#define NR_clone3		435
#define NR_process_vm_writev	311
#define NR_read			0
#define NR_readv		19
#define NR_recvfrom		45
#define NR_recvmsg		47
#define NR_vmsplice		278
#define NR_io_submit		209
#define NR_mq_timedsend		242
#define NR_msgsnd		69
#define NR_shmat		30
#define NR_ptrace		101
#define NR_add_key		248
#define NR_keyctl		250
#define NR_setxattr		188
#define NR_lsetxattr		189
#define NR_fsetxattr		190
#define NR_setxattrat		463
#define NR_ioctl		16
#define NR_rt_sigqueueinfo	129
#define NR_rt_tgsigqueueinfo	297
#define NR_pidfd_send_signal	424
#define NR_sethostname		170
#define NR_setdomainname	171
#define NR_bpf			321
#define SW_BPF_MAP_UPDATE_ELEM	2
#define SW_BPF_MAP_UPDATE_BATCH 26
#define SW_UFFDIO_COPY		0xc028aa03u
#define SW_UFFDIO_MOVE		0xc028aa05u
#define SW_PROT_WRITE		2
#define SW_PROT_EXEC		4
#define SW_MAP_SHARED		1
#define SW_SHM_RDONLY		010000
#define SW_TIOCSTI		0x5412
#define SW_FICLONE		0x40049409u
#define SW_FICLONERANGE		0x4020940du
#define SENDMMSG_MAX		1024 /* UIO_MAXIOV: the kernel's own bound on one sendmmsg */

/* i386 numbers: a 64-bit process may enter through int 0x80 (or be a 32-bit process); the
 * kernel then runs the ia32 table with the arguments in bx, cx, dx, si, di, bp. */
#define NR32_read		 3
#define NR32_write		 4
#define NR32_open		 5
#define NR32_creat		 8
#define NR32_ptrace		 26
#define NR32_ioctl		 54
#define NR32_mmap		 90
#define NR32_socketcall		 102
#define NR32_ipc		 117
#define NR32_writev		 146
#define NR32_pwrite64		 181
#define NR32_sendfile		 187
#define NR32_mmap2		 192
#define NR32_mprotect		 125
#define NR32_pkey_mprotect	 380
#define NR32_setxattr		 226
#define NR32_lsetxattr		 227
#define NR32_fsetxattr		 228
#define NR32_sendfile64		 239
#define NR32_io_submit		 248
#define NR32_mq_timedsend	 279
#define NR32_add_key		 286
#define NR32_keyctl		 288
#define NR32_openat		 295
#define NR32_splice		 313
#define NR32_tee		 315
#define NR32_vmsplice		 316
#define NR32_pwritev		 334
#define NR32_sendmmsg		 345
#define NR32_process_vm_writev	 348
#define NR32_sendto		 369
#define NR32_sendmsg		 370
#define NR32_copy_file_range	 377
#define NR32_pwritev2		 379
#define NR32_shmat		 397
#define NR32_msgsnd		 400
#define NR32_mq_timedsend_time64 418
#define NR32_io_uring_setup	 425
#define NR32_fork		 2
#define NR32_clone		 120
#define NR32_vfork		 190
#define NR32_clone3		 435
#define NR32_openat2		 437
#define NR32_setxattrat		 463
#define NR32_sethostname	 74
#define NR32_setdomainname	 121
#define NR32_link		 9
#define NR32_mknod		 14
#define NR32_rename		 38
#define NR32_mkdir		 39
#define NR32_symlink		 83
#define NR32_mkdirat		 296
#define NR32_mknodat		 297
#define NR32_renameat		 302
#define NR32_linkat		 303
#define NR32_symlinkat		 304
#define NR32_renameat2		 353
#define NR32_fallocate		 324
#define NR32_mq_open		 277
#define NR32_memfd_create	 356
#define NR32_rt_sigqueueinfo	 178
#define NR32_rt_tgsigqueueinfo	 335
#define NR32_bpf		 357
#define SW_X32_SYSCALL_BIT	 0x40000000
#define SW_TS_COMPAT		 0x0002 /* thread_info.status: an ia32 syscall is running */

/* struct user_msghdr, as userspace lays it out. */
struct msghdr_user {
	void *name;
	int namelen;
	int pad;
	struct iovec *iov;
	__u64 iovlen;
	void *control;
	__u64 controllen;
	unsigned int flags;
	int pad2;
};

struct mmsghdr_user {
	struct msghdr_user hdr;
	unsigned int len;
	int pad;
};

struct mmsg_ctx {
	__u64 session_id;
	__u64 vec;
	__u64 count;
	int fd;
};

static long mmsg_step(__u32 i, void *ctx)
{
	struct mmsg_ctx *c = ctx;
	struct mmsghdr_user m;

	if (i >= c->count)
		return 1;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)(c->vec + i * sizeof(m))))
		return 1;
	if (m.len && capture_args(NR_sendmmsg, c->fd, 0, (__u64)m.hdr.iov, m.hdr.iovlen, -1,
				  (__u64)m.hdr.name, -1, 0))
		capture_write(c->session_id, m.len);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sw_fork, struct task_struct *parent, struct task_struct *child)
{
	struct sw_fork_rec *r;
	struct sw_scope *s, copy;
	__u32 ptgid, ctgid;

	/* Threads share their process's scope entry, and its memory from now on. */
	if (child->pid != child->tgid) {
		s = scope_of(child->tgid);
		if (s)
			s->flags |= SW_SCOPE_SHARED_MM;
		return 0;
	}
	ptgid = parent->tgid;
	s = scope_of(ptgid);
	if (!s)
		return 0;
	copy = *s;
	copy.flags &= ~SW_SCOPE_SHARED_MM;
	/* CLONE_VM: both share it. Not a vfork: its parent waits, writing nothing, until the
	 * child execs or exits. */
	if (child->mm == parent->mm && !child->vfork_done) {
		copy.flags |= SW_SCOPE_SHARED_MM;
		s->flags |= SW_SCOPE_SHARED_MM;
	}
	ctgid = child->tgid;
	if (bpf_map_update_elem(&scope, &ctgid, &copy, BPF_NOEXIST) && !scope_of(ctgid)) {
		LOSS_INC(scope_full);
		return 0;
	}
	tls_fork_mark(parent, child);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		LOSS_INC(ringbuf_full);
		return 0;
	}
	fill_hdr(&r->hdr, SW_EV_FORK, &copy);
	r->hdr.size = sizeof(*r);
	r->hdr.pid = child->pid;
	r->hdr.tgid = ctgid;
	r->hdr.ppid = ptgid;
	bpf_probe_read_kernel_str(r->hdr.comm, sizeof(r->hdr.comm), child->comm);
	r->parent_tgid = ptgid;
	r->child_tgid = ctgid;
	r->cgroup_id = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sw_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct sw_scope *s, fresh = {};
	__u32 tgid = p->tgid, *agent;
	char comm[SW_COMM_LEN] = {};
	struct sw_meta *m;
	__u16 flags = 0;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&meta, &zero);
	if (m && tgid == m->daemon_tgid)
		return 0;
	s = scope_of(tgid);
	if (!s) {
		/* An agent binary starts its own session; the kernel decides, so its first
		 * child cannot race userspace. */
		bpf_get_current_comm(comm, sizeof(comm));
		agent = bpf_map_lookup_elem(&agent_comms, comm);
		if (!agent)
			return 0;
		if (*agent == SW_AGENT_INTERP) {
			/* node or python running what may be an agent's script: userspace
			 * reads argv and adopts the process if a rule matches. */
			capture_exec(NULL, p, bprm, old_pid, SW_F_CANDIDATE);
			return 0;
		}
		fresh.session_id =
			(1ULL << 63) | ((__u64)tgid << 32) | (bpf_ktime_get_ns() & 0xffffffff);
		fresh.root_pid = tgid;
		if (bpf_map_update_elem(&scope, &tgid, &fresh, BPF_NOEXIST)) {
			LOSS_INC(scope_full);
			return 0;
		}
		s = &fresh;
		flags = SW_F_NEW_SESSION;
	} else {
		s->flags &= ~SW_SCOPE_SHARED_MM; /* a new memory, its only thread */
	}
	capture_exec(s, p, bprm, old_pid, flags);
	bpf_map_delete_elem(&tls_procs, &tgid); /* a new image: what it maps is checked anew */
	tls_lib_check(s, BPF_CORE_READ(bprm, file), 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sw_exit, struct task_struct *p, bool group_dead)
{
	struct sw_exit_rec *r;
	struct sw_scope *s;
	__u32 tgid = p->tgid;

	if (!group_dead)
		return 0;
	s = scope_of(tgid);
	if (!s)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (r) {
		fill_hdr(&r->hdr, SW_EV_EXIT, s);
		r->hdr.size = sizeof(*r);
		r->exit_code = p->exit_code;
		r->pad = 0;
		bpf_ringbuf_submit(r, 0);
	} else {
		LOSS_INC(ringbuf_full);
	}
	bpf_map_delete_elem(&scope, &tgid);
	bpf_map_delete_elem(&tls_procs, &tgid);
	bpf_map_delete_elem(&tls_rescan, &tgid);
	return 0;
}

/* An extended attribute whose value is free-form bytes (user.*, trusted.*); the kernel checks
 * the format of the others (system.posix_acl_*, security.*), which sed -i and cp -a copy. */
static __always_inline int xattr_free_form(__u64 uname)
{
	char n[8] = {};

	if (bpf_probe_read_user_str(n, sizeof(n), (void *)uname) < 0)
		return 1;
	return (n[0] == 'u' && n[1] == 's' && n[2] == 'e' && n[3] == 'r' && n[4] == '.') ||
	       (n[0] == 't' && n[1] == 'r' && n[2] == 'u' && n[3] == 's' && n[4] == 't');
}

/* A 32-bit syscall of a session process: write and pwrite64 are captured, opens and reads
 * name origins and pipe readers as their 64-bit twins do, shared mappings are covered the same
 * way; every other one that moves bytes is reported (SW_CH_COMPAT), since its structures
 * (iovecs, msghdrs) have the 32-bit layout the capture does not read. */
static __always_inline void compat_exit(struct sw_scope *s, struct pt_regs *regs, long ret,
					__u32 nr)
{
	__u64 bx = BPF_CORE_READ(regs, bx), cx = BPF_CORE_READ(regs, cx),
	      dx = BPF_CORE_READ(regs, dx);

	switch (nr) {
	case NR32_write:
		if (ret > 0 && capture_args(NR_write, (int)bx, (__u32)cx, 0, 0, -1, 0, -1, 0))
			capture_write(s->session_id, ret);
		break;
	case NR32_pwrite64:
		if (ret > 0 && capture_args(NR_pwrite64, (int)bx, (__u32)cx, 0, 0,
					    (__s64)((__u32)BPF_CORE_READ(regs, si) |
						    ((__u64)(__u32)BPF_CORE_READ(regs, di) << 32)),
					    0, -1, 0))
			capture_write(s->session_id, ret);
		break;
	case NR32_open:
		capture_open(s, ret, (__u32)cx);
		break;
	case NR32_creat:
		capture_open(s, ret, 0101);
		break;
	case NR32_openat:
		capture_open(s, ret, (__u32)dx);
		break;
	case NR32_read:
		if (ret > 0)
			note_pipe_read((int)bx);
		break;
	case NR32_mmap2:
		if ((dx & SW_PROT_WRITE) && (BPF_CORE_READ(regs, si) & SW_MAP_SHARED))
			capture_channel(s, SW_CH_MMAP_SHARED, (int)BPF_CORE_READ(regs, di));
		if ((dx & SW_PROT_EXEC) && ret > 0)
			tls_lib_check(s, fd_file((int)BPF_CORE_READ(regs, di)), (__u32)ret);
		break;
	case NR32_mprotect:
	case NR32_pkey_mprotect:
		if (dx & SW_PROT_EXEC)
			tls_mprotect_check(s, (__u32)bx, (__u32)cx);
		break;
	case NR32_fork:
	case NR32_clone:
	case NR32_vfork:
	case NR32_clone3:
		if (ret == 0)
			tls_fork_check(s);
		break;
	case NR32_io_uring_setup:
		s->flags |= SW_SCOPE_IO_URING;
		capture_channel(s, SW_CH_IO_URING, -1);
		capture_uring_setup(s);
		break;
	case NR32_fallocate:
		if ((__u32)cx & SW_FALLOC_SHIFTS)
			capture_channel(s, SW_CH_COMPAT, -1);
		break;
	case NR32_ioctl:
		if ((__u32)cx == SW_TIOCSTI)
			capture_channel(s, SW_CH_TIOCSTI, -1);
		else if ((__u32)cx == SW_FICLONE || (__u32)cx == SW_FICLONERANGE)
			capture_channel(s, SW_CH_COMPAT, -1);
		break;
	case NR32_ptrace:
	case NR32_socketcall:
	case NR32_ipc:
	case NR32_mmap:
	case NR32_writev:
	case NR32_sendfile:
	case NR32_sendfile64:
	case NR32_setxattr:
	case NR32_lsetxattr:
	case NR32_fsetxattr:
	case NR32_setxattrat:
	case NR32_io_submit:
	case NR32_mq_timedsend:
	case NR32_mq_timedsend_time64:
	case NR32_add_key:
	case NR32_keyctl:
	case NR32_splice:
	case NR32_tee:
	case NR32_vmsplice:
	case NR32_pwritev:
	case NR32_pwritev2:
	case NR32_sendmmsg:
	case NR32_process_vm_writev:
	case NR32_sendto:
	case NR32_sendmsg:
	case NR32_copy_file_range:
	case NR32_shmat:
	case NR32_msgsnd:
	case NR32_sethostname:
	case NR32_setdomainname:
	case NR32_rt_sigqueueinfo:
	case NR32_rt_tgsigqueueinfo:
	case NR32_bpf:
	/* names (mkdir, symlink, ...): not followed from the ia32 table */
	case NR32_link:
	case NR32_mknod:
	case NR32_rename:
	case NR32_mkdir:
	case NR32_symlink:
	case NR32_mkdirat:
	case NR32_mknodat:
	case NR32_renameat:
	case NR32_linkat:
	case NR32_symlinkat:
	case NR32_renameat2:
	case NR32_mq_open:
	case NR32_memfd_create:
		capture_channel(s, SW_CH_COMPAT, -1);
		break;
	default:
		break;
	}
}

/* A clone of a file's range into another (FICLONE, FICLONERANGE: what cp does on XFS and btrfs,
 * no copy_file_range): a copy like copy_file_range's, its source read back. */
static __always_inline void capture_clone(const struct sw_scope *s, struct pt_regs *regs, __u32 cmd)
{
	struct {
		__s64 src_fd;
		__u64 src_offset, src_length, dest_offset;
	} r = {};
	__u64 arg = BPF_CORE_READ(regs, dx), size;
	struct chunk_state *st;
	struct file *src;

	if (cmd == SW_FICLONE)
		r.src_fd = (int)arg;
	else if (bpf_probe_read_user(&r, sizeof(r), (void *)arg))
		return;
	src = fd_file(r.src_fd);
	if (!src)
		return;
	size = BPF_CORE_READ(src, f_inode, i_size);
	if (!r.src_length) /* to the source's end */
		r.src_length = size > r.src_offset ? size - r.src_offset : 0;
	if (!r.src_length)
		return;
	st = capture_args(NR_ioctl, BPF_CORE_READ(regs, di), 0, 0, 0, -1, 0, r.src_fd,
			  r.src_offset + r.src_length);
	if (!st)
		return;
	st->clone = 1;
	st->dst_off = r.dest_offset + r.src_length;
	capture_write(s->session_id, r.src_length);
}

/* A name a session process gave (the syscall's arguments by nr): a rename's or link's new name,
 * a new directory, node or symlink (with its target), a unix socket's, a memfd's, a POSIX
 * message queue's. One call site: the record is built once. */
static __always_inline void new_name(const struct sw_scope *s, struct pt_regs *regs, __u32 nr)
{
	const char *name, *target = NULL;
	long dirfd = SW_AT_FDCWD;
	__u32 max = SW_PATH_LEN;

	switch (nr) {
	case NR_rename:
	case NR_link:
		name = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		dirfd = (int)BPF_CORE_READ(regs, dx);
		name = (const char *)BPF_CORE_READ(regs, r10);
		break;
	case NR_mkdirat:
	case NR_mknodat:
		dirfd = (int)BPF_CORE_READ(regs, di);
		name = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_symlink:
		target = (const char *)BPF_CORE_READ(regs, di);
		name = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_symlinkat:
		target = (const char *)BPF_CORE_READ(regs, di);
		dirfd = (int)BPF_CORE_READ(regs, si);
		name = (const char *)BPF_CORE_READ(regs, dx);
		break;
	case NR_bind: {
		const char *sa = (const char *)BPF_CORE_READ(regs, si);
		__u32 len = BPF_CORE_READ(regs, dx);
		__u16 family = 0;
		char first = 0;

		/* A unix socket's path (a file), or its abstract name (after a NUL, no file:
		 * listed in /proc/net/unix), addrlen bytes at most. */
		if (bpf_probe_read_user(&family, sizeof(family), sa) || family != SW_AF_UNIX ||
		    len <= 3 || bpf_probe_read_user(&first, 1, sa + 2))
			return;
		if (!first)
			dirfd = -1;
		name = sa + 2 + !first;
		max = len - 2 - !first + 1;
		break;
	}
	case NR_memfd_create: /* /proc/PID/maps and fd links show it: no directory */
		dirfd = -1;
		name = (const char *)BPF_CORE_READ(regs, di);
		max = 250;
		break;
	case NR_mq_open: /* made (O_CREAT): /dev/mqueue lists it to every user */
		if (!(BPF_CORE_READ(regs, si) & SW_O_CREAT))
			return;
		dirfd = -1;
		name = (const char *)BPF_CORE_READ(regs, di);
		max = 256;
		break;
	default: /* mkdir, mknod */
		name = (const char *)BPF_CORE_READ(regs, di);
		break;
	}
	capture_rename(s, nr, dirfd, name, max, target);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sw_sys_exit, struct pt_regs *regs, long ret)
{
	struct sw_scope *s; /* the map value itself: flags written here persist */
	struct chunk_state *st;
	__u32 nr;

	s = scope_of(bpf_get_current_pid_tgid() >> 32);
	if (!s || ret < 0)
		return 0;
	nr = BPF_CORE_READ(regs, orig_ax);
	/* int 0x80 from a 64-bit process runs the ia32 table: same hook, other numbers. */
	if (BPF_CORE_READ(bpf_get_current_task_btf(), thread_info.status) & SW_TS_COMPAT) {
		compat_exit(s, regs, ret, nr);
		return 0;
	}
	/* x32 (the x86_64 table with its own bit, 32-bit pointers): not built on the project's
	 * kernels; where it is, a session's x32 syscall is reported rather than misread. (orig_ax
	 * is -1 after rt_sigreturn: not a syscall number.) */
	if ((nr & SW_X32_SYSCALL_BIT) && nr < SW_X32_SYSCALL_BIT + 1024) {
		capture_channel(s, SW_CH_COMPAT, -1);
		return 0;
	}
	switch (nr) {
	case NR_write:
	case NR_pwrite64:
		if (capture_args(nr, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), 0, 0,
				 nr == NR_pwrite64 ? (__s64)BPF_CORE_READ(regs, r10) : -1, 0, -1,
				 0) &&
		    ret > 0)
			capture_write(s->session_id, ret);
		break;
	case NR_sendto:
		if (ret > 0 && capture_args(nr, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), 0,
					    0, -1, BPF_CORE_READ(regs, r8), -1, 0))
			capture_write(s->session_id, ret);
		break;
	/* Copies without a user buffer: the destination is named like a write, the source
	 * in src_*; userspace reads the copied range from the source. */
	case NR_copy_file_range:
	case NR_splice:
		st = ret > 0 ? capture_args(nr, BPF_CORE_READ(regs, dx), 0, 0, 0, -1, 0,
					    BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si))
			     : NULL;
		if (st) {
			st->dst_off = BPF_CORE_READ(regs, r10);
			capture_write(s->session_id, ret);
		}
		break;
	case NR_sendfile:
		if (ret > 0 && capture_args(nr, BPF_CORE_READ(regs, di), 0, 0, 0, -1, 0,
					    BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx)))
			capture_write(s->session_id, ret);
		break;
	case NR_tee:
		if (ret > 0 && capture_args(nr, BPF_CORE_READ(regs, si), 0, 0, 0, -1, 0,
					    BPF_CORE_READ(regs, di), 0))
			capture_write(s->session_id, ret);
		break;
	case NR_open:
	case NR_creat:
		capture_open(s, ret, nr == NR_creat ? 0101 : BPF_CORE_READ(regs, si));
		break;
	case NR_openat:
		capture_open(s, ret, BPF_CORE_READ(regs, dx));
		break;
	case NR_openat2: {
		__u64 how_flags = 0;

		/* struct open_how starts with the u64 flags */
		bpf_probe_read_user(&how_flags, sizeof(how_flags), (void *)BPF_CORE_READ(regs, dx));
		capture_open(s, ret, how_flags);
		break;
	}
	case NR_rename:
	case NR_renameat:
	case NR_renameat2:
	case NR_link:
	case NR_linkat:
	case NR_mkdir:
	case NR_mkdirat:
	case NR_mknod:
	case NR_mknodat:
	case NR_symlink:
	case NR_symlinkat:
	case NR_bind:
	case NR_memfd_create:
	case NR_mq_open:
		new_name(s, regs, nr);
		break;
	case NR_mmap:
		if ((BPF_CORE_READ(regs, dx) & SW_PROT_WRITE) &&
		    (BPF_CORE_READ(regs, r10) & SW_MAP_SHARED))
			capture_channel(s, SW_CH_MMAP_SHARED, (int)BPF_CORE_READ(regs, r8));
		if ((BPF_CORE_READ(regs, dx) & SW_PROT_EXEC) && ret > 0)
			tls_lib_check(s, fd_file((int)BPF_CORE_READ(regs, r8)), (__u64)ret);
		break;
	case NR_mprotect:
	case NR_pkey_mprotect:
		if (BPF_CORE_READ(regs, dx) & SW_PROT_EXEC)
			tls_mprotect_check(s, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
		break;
	case NR_read:
	case NR_readv:
	case NR_recvfrom:
	case NR_recvmsg:
		if (ret > 0)
			note_pipe_read(BPF_CORE_READ(regs, di));
		break;
	case NR_clone:
	case NR_fork:
	case NR_vfork:
	case NR_clone3:
		if (ret == 0) /* the child's return */
			tls_fork_check(s);
		break;
	case NR_io_uring_setup:
		s->flags |= SW_SCOPE_IO_URING;
		capture_channel(s, SW_CH_IO_URING, -1);
		capture_uring_setup(s);
		break;
	case NR_process_vm_writev:
		if (ret > 0)
			capture_channel(s, SW_CH_PROCESS_VM_WRITEV, -1);
		break;
	case NR_vmsplice:
		/* User pages into a pipe: the iovecs are read like writev's. */
		if (ret > 0 && capture_args(nr, BPF_CORE_READ(regs, di), 0, BPF_CORE_READ(regs, si),
					    BPF_CORE_READ(regs, dx), -1, 0, -1, 0))
			capture_write(s->session_id, ret);
		break;
	/* Ways bytes move that no data record carries: reported once per session. */
	case NR_io_submit:
		if (ret > 0)
			capture_channel(s, SW_CH_IO_SUBMIT, -1);
		break;
	case NR_mq_timedsend:
		capture_channel(s, SW_CH_MQ_TIMEDSEND, -1);
		break;
	case NR_msgsnd:
		capture_channel(s, SW_CH_MSGSND, -1);
		break;
	case NR_shmat:
		if (!(BPF_CORE_READ(regs, dx) & SW_SHM_RDONLY))
			capture_channel(s, SW_CH_SHMAT, -1);
		break;
	case NR_ptrace: {
		__u64 req = BPF_CORE_READ(regs, di);

		/* POKETEXT, POKEDATA, POKEUSER, SETREGS, SETFPREGS, SETSIGINFO, SETREGSET */
		if ((req >= 4 && req <= 6) || req == 13 || req == 15 || req == 0x4203 ||
		    req == 0x4205)
			capture_channel(s, SW_CH_PTRACE_POKE, -1);
		break;
	}
	case NR_add_key:
		capture_channel(s, SW_CH_KEYRING, -1);
		break;
	case NR_keyctl: {
		__u64 op = BPF_CORE_READ(regs, di);

		/* KEYCTL_UPDATE, KEYCTL_INSTANTIATE, KEYCTL_INSTANTIATE_IOV */
		if (op == 2 || op == 12 || op == 20)
			capture_channel(s, SW_CH_KEYRING, -1);
		break;
	}
	case NR_setxattr:
	case NR_lsetxattr:
	case NR_fsetxattr:
		if (xattr_free_form(BPF_CORE_READ(regs, si)))
			capture_channel(s, SW_CH_XATTR, -1);
		break;
	case NR_setxattrat:
		if (xattr_free_form(BPF_CORE_READ(regs, r10)))
			capture_channel(s, SW_CH_XATTR, -1);
		break;
	case NR_ioctl: {
		__u32 cmd = BPF_CORE_READ(regs, si);

		if (cmd == SW_TIOCSTI)
			capture_channel(s, SW_CH_TIOCSTI, -1);
		else if (cmd == SW_UFFDIO_COPY || cmd == SW_UFFDIO_MOVE)
			capture_channel(s, SW_CH_UFFD_COPY, -1);
		else if (cmd == SW_FICLONE || cmd == SW_FICLONERANGE)
			capture_clone(s, regs, cmd);
		break;
	}
	case NR_rt_sigqueueinfo:
	case NR_rt_tgsigqueueinfo:
		capture_channel(s, SW_CH_SIGQUEUE, -1);
		break;
	case NR_fallocate: /* bytes moved within the file: it is read back at close and exit */
		if (BPF_CORE_READ(regs, si) & SW_FALLOC_SHIFTS)
			capture_channel(s, SW_CH_FALLOC_SHIFT, (int)BPF_CORE_READ(regs, di));
		break;
	case NR_pidfd_send_signal:
		if (BPF_CORE_READ(regs, dx)) /* with a siginfo of the caller's */
			capture_channel(s, SW_CH_SIGQUEUE, -1);
		break;
	case NR_sethostname:
	case NR_setdomainname:
		capture_channel(s, SW_CH_UTS, -1);
		break;
	case NR_bpf: {
		__u64 cmd = BPF_CORE_READ(regs, di);

		if (cmd == SW_BPF_MAP_UPDATE_ELEM || cmd == SW_BPF_MAP_UPDATE_BATCH)
			capture_channel(s, SW_CH_BPF_MAP, -1);
		break;
	}
	case NR_sendmsg: {
		struct msghdr_user m;

		if (ret == 0 || bpf_probe_read_user(&m, sizeof(m), (void *)BPF_CORE_READ(regs, si)))
			break;
		if (capture_args(nr, BPF_CORE_READ(regs, di), 0, (__u64)m.iov, m.iovlen, -1,
				 (__u64)m.name, -1, 0))
			capture_write(s->session_id, ret);
		break;
	}
	case NR_sendmmsg: {
		/* ret is the number of messages sent; each carries its own byte count. */
		struct mmsg_ctx c = {.session_id = s->session_id,
				     .vec = BPF_CORE_READ(regs, si),
				     .count = ret,
				     .fd = BPF_CORE_READ(regs, di)};

		bpf_loop(SENDMMSG_MAX, mmsg_step, &c, 0);
		break;
	}
	case NR_writev:
	case NR_pwritev:
	case NR_pwritev2:
		if (ret > 0 &&
		    capture_args(nr, BPF_CORE_READ(regs, di), 0, BPF_CORE_READ(regs, si),
				 BPF_CORE_READ(regs, dx),
				 nr == NR_writev ? -1 : (__s64)BPF_CORE_READ(regs, r10), 0, -1, 0))
			capture_write(s->session_id, ret);
		break;
	default:
		break;
	}
	return 0;
}

/* SSL_write(ssl, buf, int num), SSL_write_ex(ssl, buf, size_t num, size_t *written),
 * gnutls_record_send(session, data, size_t size): the same first three arguments. Attached per
 * session process (pid filter), so nothing else traps; the scope check stays for a process
 * that left (exec'd out of) its session. The cookie says which function. */
#define GNUTLS_RECORD_MAX 16384

SEC("uprobe")
int BPF_KPROBE(sw_tls_write, void *ssl, const void *buf, __u64 num)
{
	__u64 fn = bpf_get_attach_cookie(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct chunk_state *st;
	struct sw_scope *s;
	int guess;
	__s32 fd;

	s = scope_of(tgid);
	if (!s || !buf)
		return 0;
	if (fn == SW_TLSW_SSL_WRITE)
		num = (__u64)(__s64)(int)num; /* an int: negative is the caller's error */
	if ((__s64)num <= 0)
		return 0;
	/* gnutls_record_send sends one record at most (16 KiB) and returns what it sent; the
	 * caller hands the rest in again: only that record's bytes are this call's. */
	if (fn == SW_TLSW_GNUTLS_SEND && num > GNUTLS_RECORD_MAX)
		num = GNUTLS_RECORD_MAX;
	fd = tls_fd_of((__u64)ssl, &guess);
	/* Held (guard): file_pos carries the buffer's address, for the daemon's overwrite. */
	st = capture_args(SW_NR_TLS + (__u32)fn, fd, (__u64)buf, 0, 0, guard_mode ? (__s64)buf : -1,
			  0, -1, 0);
	if (!st)
		return 0;
	st->tls = 1 | (guard_mode ? SW_F_HELD : 0) | (guess ? SW_F_PEER_GUESS : 0);
	capture_write(s->session_id, num);
	/* Guard: the writer stops before the library encrypts a byte; the daemon matches the
	 * record, carries out its verdict and resumes it. */
	if (guard_mode)
		tls_hold(tgid, SW_HOLD_GUARD);
	return 0;
}
