/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records other than data: opens of a secret's origin (exposure), renames and links (an
 * artifact's new name), and channels that syscalls cannot show (io_uring, shared mmap,
 * process_vm_writev). */
#ifndef SPRAWL_SIDE_BPF_H
#define SPRAWL_SIDE_BPF_H

#include "maps.bpf.h"
#include "path.bpf.h"
#include "proc.bpf.h"
#include "capture.bpf.h"

#define SW_AT_FDCWD -100
#define SW_O_PATH   010000000
#define SW_O_CREAT  0100

static __always_inline struct misc_scratch *misc(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&misc_buf, &zero);
}

static __always_inline void capture_channel(const struct sw_scope *s, __u32 channel, long fd);

/* An open that returned fd: reported only when the file is a secret's origin or an O_CREAT
 * left it empty (a name made), so ordinary opens cost one lookup. A process using io_uring also
 * reports its writable opens: io_uring writes never pass the write syscalls, so those files are
 * read back at its exit. */
static __always_inline void capture_open(const struct sw_scope *s, long fd, __u32 oflags)
{
	struct sw_inode_key k = {};
	struct path_scratch *ps;
	struct misc_scratch *m;
	struct inode *inode;
	struct file *f;
	__u64 start = 0, len = 0;
	__u32 trunc = 0, origin;

	f = fd_file(fd);
	if (!f)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(inode, i_ino);
	/* An O_PATH open reads nothing (agents use it to check a path before running a tool). */
	origin = bpf_map_lookup_elem(&origins, &k) && !(oflags & SW_O_PATH);
	if (!origin) {
		if ((s->flags & SW_SCOPE_IO_URING) && (oflags & 3))
			capture_channel(s, SW_CH_IO_URING, fd);
		/* A name made (an empty file after O_CREAT: created, or emptied) is reported
		 * too: the name is the process's bytes, even if nothing is ever written. */
		if (!(oflags & SW_O_CREAT) || BPF_CORE_READ(inode, i_size))
			return;
	}
	m = misc();
	if (!m)
		return;
	fill_hdr(&m->open.hdr, SW_EV_OPEN, s);
	m->open.dev = k.dev;
	m->open.ino = k.ino;
	m->open.open_flags = oflags;
	m->open.gen = BPF_CORE_READ(inode, i_generation);
	m->open.origin = origin;
	ps = file_path(f, &start, &len, &trunc);
	len = copy_path(m->tail, ps, start, len) & (SW_PATH_LEN - 1);
	m->open.path_len = len;
	m->open.hdr.size = sizeof(m->open) + len;
	if (bpf_ringbuf_output(&events, &m->open, sizeof(m->open) + len, 0))
		LOSS_INC(ringbuf_full);
}

/* A name the process gave (rename, link, mkdir, mknod, symlink, a unix socket's bind), at most
 * namemax bytes, with the directory it is relative to (dirfd -1: none, an abstract socket's
 * name), and a symlink's target (NULL otherwise). tail = dir name target; the name is read
 * first into the third quarter of the tail, then moved after the directory. */
static __always_inline void capture_rename(const struct sw_scope *s, __u32 nr, long dirfd,
					   const char *newname, __u32 namemax, const char *target)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct path_scratch *ps = NULL;
	struct misc_scratch *m;
	struct file *f;
	__u64 start = 0, dlen = 0, nlen, tlen = 0;
	__u32 trunc = 0;
	long n;

	m = misc();
	if (!m)
		return;
	fill_hdr(&m->rename.hdr, SW_EV_RENAME, s);
	m->rename.syscall_nr = nr;
	/* (the mask for the verifier: callers pass SW_PATH_LEN at most) */
	n = bpf_probe_read_user_str(&m->tail[SW_PATH_LEN * 2], namemax & (SW_PATH_LEN * 2 - 1),
				    newname);
	if (n <= 1)
		return;
	nlen = (n - 1) & (SW_PATH_LEN - 1);
	m->rename.name_len = nlen;
	if (m->tail[SW_PATH_LEN * 2] != '/') {
		if (dirfd == SW_AT_FDCWD) {
			ps = walk_path(BPF_CORE_READ(task, fs, pwd.dentry),
				       BPF_CORE_READ(task, fs, pwd.mnt), &start, &dlen, &trunc);
		} else {
			f = fd_file(dirfd);
			if (f)
				ps = file_path(f, &start, &dlen, &trunc);
		}
	}
	dlen = copy_path(m->tail, ps, start, dlen) & (SW_PATH_LEN - 1);
	m->rename.dir_len = dlen;
	if (bpf_probe_read_kernel(&m->tail[dlen], nlen, &m->tail[SW_PATH_LEN * 2]))
		return;
	if (target) {
		n = bpf_probe_read_user_str(&m->tail[(dlen + nlen) & (SW_PATH_LEN * 2 - 1)],
					    SW_PATH_LEN, target);
		tlen = n > 1 ? (n - 1) & (SW_PATH_LEN - 1) : 0;
	}
	m->rename.target_len = tlen;
	n = sizeof(m->rename) + dlen + nlen + tlen;
	m->rename.hdr.size = n;
	if (bpf_ringbuf_output(&events, &m->rename, n & (SW_PATH_LEN * 4 - 1), 0))
		LOSS_INC(ringbuf_full);
}

/* A session process read a pipe or a unix socket: remember it as the reader (no record). */
static __always_inline void note_pipe_read(long fd)
{
	struct sw_inode_key k = {};
	struct inode *inode;
	struct file *f;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *cur;
	__u16 mode;

	f = fd_file(fd);
	if (!f)
		return;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & SW_S_IFMT;
	if (mode == SW_S_IFSOCK) {
		struct socket *sock = BPF_CORE_READ(f, private_data);

		if (BPF_CORE_READ(sock, sk, __sk_common.skc_family) != SW_AF_UNIX)
			return;
	} else if (mode != SW_S_IFIFO) {
		return;
	}
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.ino = BPF_CORE_READ(inode, i_ino);
	cur = bpf_map_lookup_elem(&pipe_readers, &k);
	if (!cur || *cur != tgid)
		bpf_map_update_elem(&pipe_readers, &k, &tgid, BPF_ANY);
}

static __always_inline void capture_channel(const struct sw_scope *s, __u32 channel, long fd)
{
	struct path_scratch *ps;
	struct misc_scratch *m;
	struct inode *inode;
	struct file *f = NULL;
	__u64 start = 0, len = 0;
	__u32 trunc = 0;

	if (fd >= 0) {
		f = fd_file(fd);
		if (!f)
			return;
		inode = BPF_CORE_READ(f, f_inode);
		if ((BPF_CORE_READ(inode, i_mode) & SW_S_IFMT) != SW_S_IFREG)
			return;
	}
	m = misc();
	if (!m)
		return;
	fill_hdr(&m->channel.hdr, SW_EV_CHANNEL, s);
	m->channel.channel = channel;
	m->channel.dev = 0;
	m->channel.ino = 0;
	m->channel.gen = 0;
	m->channel.detail = 0;
	if (f) {
		inode = BPF_CORE_READ(f, f_inode);
		m->channel.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		m->channel.ino = BPF_CORE_READ(inode, i_ino);
		m->channel.gen = BPF_CORE_READ(inode, i_generation);
		ps = file_path(f, &start, &len, &trunc);
		len = copy_path(m->tail, ps, start, len);
	}
	len &= SW_PATH_LEN - 1;
	m->channel.path_len = len;
	m->channel.hdr.size = sizeof(m->channel) + len;
	if (bpf_ringbuf_output(&events, &m->channel, sizeof(m->channel) + len, 0))
		LOSS_INC(ringbuf_full);
}

/* io_uring_setup: files the process already has open for writing may be written through the
 * ring from now on. Reported one by one, so userspace reads them back at close and exit. */
#define SW_URING_FDS_MAX 1024
#define SW_FMODE_WRITE	 0x2

struct uring_fds {
	__u64 session_id;
	__u32 max;
};

static long uring_fd_step(__u32 i, void *ctx)
{
	struct uring_fds *c = ctx;
	struct sw_scope s = {.session_id = c->session_id};
	struct file *f;

	if (i >= c->max)
		return 1;
	f = fd_file(i);
	if (f && (BPF_CORE_READ(f, f_mode) & SW_FMODE_WRITE))
		capture_channel(&s, SW_CH_IO_URING, i);
	return 0;
}

static __always_inline void capture_uring_setup(const struct sw_scope *s)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct uring_fds c = {.session_id = s->session_id};

	c.max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (c.max > SW_URING_FDS_MAX)
		c.max = SW_URING_FDS_MAX;
	bpf_loop(SW_URING_FDS_MAX, uring_fd_step, &c, 0);
}

#endif
