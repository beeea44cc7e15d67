/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capturing the bytes a session process wrote: one record per SW_CHUNK bytes, in order, the
 * first carrying the artifact's path. Read at sys_exit, so the byte count is the true one. */
#ifndef SPRAWL_CAPTURE_BPF_H
#define SPRAWL_CAPTURE_BPF_H

#include "maps.bpf.h"
#include "path.bpf.h"

#define SW_IOV_MAX 1024		/* UIO_MAXIOV */
#define SW_S_IFMT 00170000
#define SW_S_IFREG 0100000

static long chunk_step(__u32 i, void *ctx)
{
	struct data_scratch *ds;
	struct chunk_state *st;
	struct iovec v;
	__u64 n, plen;
	__u32 zero = 0;

	ds = bpf_map_lookup_elem(&data_buf, &zero);
	if (!ds)
		return 1;
	st = &ds->st;
	if (st->sent >= st->limit)
		return 1;
	if (st->left == 0) {
		if (!st->iov || st->iov_idx >= st->iovcnt)
			return 1;
		if (bpf_probe_read_user(&v, sizeof(v),
					(void *)(st->iov + st->iov_idx * sizeof(struct iovec)))) {
			st->failed = 1;
			return 1;
		}
		st->iov_idx++;
		st->buf = (__u64)v.iov_base;
		st->left = v.iov_len;
		return 0;
	}
	n = SW_CHUNK;
	if (st->left < n)
		n = st->left;
	if (st->limit - st->sent < n)
		n = st->limit - st->sent;
	plen = st->path_len & (SW_PATH_LEN - 1);
	if (n > SW_CHUNK)
		return 1;
	ds->rec.offset = st->sent;
	ds->rec.path_len = plen;
	ds->rec.data_len = n;
	if (bpf_probe_read_user(&ds->tail[plen], n, (void *)st->buf)) {
		ds->rec.hdr.flags |= SW_F_READ_ERR;
		ds->rec.data_len = 0;
		n = 0;
		st->failed = 1;
		LOSS_INC(read_errors);
	}
	st->sent += n;
	st->buf += n;
	st->left -= n;
	if (st->sent >= st->limit || st->failed)
		ds->rec.hdr.flags |= SW_F_LAST;
	ds->rec.hdr.size = sizeof(ds->rec) + plen + n;
	if (bpf_ringbuf_output(&events, &ds->rec, sizeof(ds->rec) + plen + n, 0)) {
		LOSS_INC(ringbuf_full);
		return 1;
	}
	ds->rec.hdr.flags &= ~(SW_F_FIRST | SW_F_PATH_TRUNC | SW_F_TRUNCATED);
	st->path_len = 0;
	return st->failed ? 1 : 0;
}

/* The file behind fd of the current task, or NULL. */
static __always_inline struct file *fd_file(__s64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds;
	struct file *f = NULL;
	unsigned int max;

	if (fd < 0)
		return NULL;
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* Fills the syscall's arguments into the per-CPU capture state; capture_write() takes them
 * from there (a BPF function has at most five arguments). */
static __always_inline struct chunk_state *capture_args(__u32 nr, int fd, __u64 buf, __u64 iov,
							__u32 iovcnt, __s64 pos)
{
	struct data_scratch *ds;
	__u32 zero = 0;

	ds = bpf_map_lookup_elem(&data_buf, &zero);
	if (!ds)
		return NULL;
	ds->st.nr = nr;
	ds->st.fd = fd;
	ds->st.buf = buf;
	ds->st.iov = iov;
	ds->st.iovcnt = iovcnt > SW_IOV_MAX ? SW_IOV_MAX : iovcnt;
	ds->st.pos = pos;
	return &ds->st;
}

/* Sends the bytes of one write-family syscall of a session process, described by
 * capture_args(). A global function: verified once, not once per call site. */
__noinline int capture_write(__u64 session_id, __u64 total)
{
	struct sw_scope s = { .session_id = session_id };
	struct chunk_state *st;
	struct path_scratch *ps;
	struct data_scratch *ds;
	struct inode *inode;
	struct file *f;
	__u64 start = 0, plen = 0;
	__u32 zero = 0, ptrunc = 0;
	__u16 mode;

	ds = bpf_map_lookup_elem(&data_buf, &zero);
	if (!ds)
		return 0;
	st = &ds->st;
	f = fd_file(st->fd);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & SW_S_IFMT) != SW_S_IFREG)
		return 0;
	fill_hdr(&ds->rec.hdr, SW_EV_DATA, &s);
	ds->rec.hdr.flags = SW_F_FIRST;
	ds->rec.syscall_nr = st->nr;
	ds->rec.fd = st->fd;
	ds->rec.total = total;
	ds->rec.file_pos = st->pos;
	ds->rec.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ds->rec.ino = BPF_CORE_READ(inode, i_ino);
	ds->rec.art_kind = SW_AK_FILE;

	ps = file_path(f, &start, &plen, &ptrunc);
	if (ps && plen > 0 && plen < SW_PATH_LEN) {
		if (bpf_probe_read_kernel(ds->tail, plen, &ps->buf[start & (SW_PATH_LEN - 1)]))
			plen = 0;
	} else {
		plen = 0;
	}
	if (ptrunc) {
		ds->rec.hdr.flags |= SW_F_PATH_TRUNC;
		LOSS_INC(path_truncated);
	}
	st->limit = total;
	if (st->limit > max_bytes) {
		st->limit = max_bytes;
		ds->rec.hdr.flags |= SW_F_TRUNCATED;
		LOSS_INC(truncated);
	}
	st->path_len = plen;
	st->sent = 0;
	st->failed = 0;
	st->iov_idx = 0;
	st->left = st->iov ? 0 : total;
	bpf_loop(SW_DEFAULT_MAX_BYTES / SW_CHUNK * 16 + SW_IOV_MAX + 2, chunk_step, NULL, 0);
	return 0;
}

#endif
