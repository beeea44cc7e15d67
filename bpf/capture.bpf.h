/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capturing the bytes a session process wrote: one record per SW_CHUNK bytes, in order, the
 * first carrying the artifact's path. Read at sys_exit, so the byte count is the true one. */
#ifndef SPRAWL_CAPTURE_BPF_H
#define SPRAWL_CAPTURE_BPF_H

#include "maps.bpf.h"
#include "path.bpf.h"
#include "spill.bpf.h"
#include "fileorder.bpf.h"

#define SW_IOV_MAX     1024 /* UIO_MAXIOV */
#define SW_S_IFMT      00170000
#define SW_S_IFREG     0100000
#define SW_S_IFIFO     0010000
#define SW_S_IFCHR     0020000
#define SW_S_IFSOCK    0140000
#define SW_AF_UNIX     1
#define SW_AF_INET     2
#define SW_AF_INET6    10
#define SW_IPPROTO_TCP 6

/* A session thread wrote to a TCP socket: the peer of its next TLS write, and of the SSL
 * object whose write it is flushing. */
static __always_inline void tls_note_socket(__s32 fd)
{
	__u64 id = bpf_get_current_pid_tgid(), *ssl;
	__u32 tid = (__u32)id;
	struct ssl_key k = {};

	bpf_map_update_elem(&tls_sock, &tid, &fd, BPF_ANY);
	ssl = bpf_map_lookup_elem(&tls_pend, &tid);
	if (ssl) {
		k.ssl = *ssl;
		k.tgid = id >> 32;
		bpf_map_update_elem(&ssl_fd, &k, &fd, BPF_ANY);
		bpf_map_delete_elem(&tls_pend, &tid);
	}
}

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
	if ((ds->rec.art_kind == SW_AK_FILE && spill_first()) ||
	    bpf_ringbuf_output(&events, &ds->rec, sizeof(ds->rec) + plen + n, 0)) {
		/* Counted by capture_write(): a file's rest is spilled, not lost. */
		st->ring_full = 1;
		st->lost_at = ds->rec.offset;
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

/* A terminal: the pty slaves (136-143), the virtual consoles (4) and /dev/tty, console (5). */
static __always_inline int is_tty(__u32 rdev)
{
	__u32 major = rdev >> 20;

	return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

/* /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom (major 1): written bytes go
 * nowhere anyone reads. /dev/kmsg (1:11) is not one: dmesg shows it. */
static __always_inline int is_sink(__u32 rdev)
{
	__u32 minor = rdev & 0xfffff;

	return (rdev >> 20) == 1 &&
	       (minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9);
}

/* Names a socket's peer: from an explicit destination (sendto/sendmsg on an unconnected
 * socket) or from the connected peer. A unix peer's path goes into the path tail. */
static __always_inline void name_socket(struct data_scratch *ds, struct file *f, __u64 *plen)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	struct unix_address *ua;
	struct sock *peer;
	struct {
		__u16 family;
		__u16 port;
		__u32 v4;
		__u8 rest[20];
	} sa = {};
	__u64 len;
	int alen;

	ds->rec.art_kind = SW_AK_SOCKET;
	ds->rec.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ds->rec.sock_type = BPF_CORE_READ(sk, sk_type);
	ds->rec.protocol = BPF_CORE_READ(sk, sk_protocol);
	__builtin_memset(ds->rec.addr, 0, sizeof(ds->rec.addr));
	ds->rec.port = 0;
	if (ds->rec.family == SW_AF_UNIX) {
		peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		ua = peer ? BPF_CORE_READ((struct unix_sock *)peer, addr) : NULL;
		if (!ua)
			ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
		if (!ua && peer) {
			/* A socketpair: a pipe in all but name (node gives its child processes
			 * these for stdio). Named by the peer socket's inode, which is what
			 * note_pipe_read() records for its reader. */
			struct socket *psock = BPF_CORE_READ(peer, sk_socket);
			struct inode *pino =
				(struct inode *)((char *)psock +
						 bpf_core_field_offset(struct socket_alloc,
								       vfs_inode));

			ds->rec.art_kind = SW_AK_PIPE;
			ds->rec.dev = BPF_CORE_READ(pino, i_sb, s_dev);
			ds->rec.ino = BPF_CORE_READ(pino, i_ino);
			return;
		}
		alen = ua ? BPF_CORE_READ(ua, len) : 0;
		if (alen > 2 && alen < 110) {
			len = (alen - 2) & 127; /* without sun_family */
			bpf_probe_read_kernel(ds->tail, len, &ua->name[0].sun_path[0]);
			if (ds->tail[0] == 0)
				ds->tail[0] = '@'; /* abstract namespace */
			*plen = len;
		}
		return;
	}
	if (ds->st.dest && !bpf_probe_read_user(&sa, sizeof(sa), (void *)ds->st.dest) &&
	    (sa.family == SW_AF_INET || sa.family == SW_AF_INET6)) {
		ds->rec.port = bpf_ntohs(sa.port);
		if (sa.family == SW_AF_INET)
			__builtin_memcpy(ds->rec.addr, &sa.v4, 4);
		else
			__builtin_memcpy(ds->rec.addr, &sa.rest[0], 16); /* after flowinfo */
		return;
	}
	ds->rec.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (ds->rec.family == SW_AF_INET6)
		BPF_CORE_READ_INTO(&ds->rec.addr, sk, __sk_common.skc_v6_daddr);
	else
		BPF_CORE_READ_INTO(&ds->rec.addr, sk, __sk_common.skc_daddr);
}

/* Names the source of a copy: kind, dev, ino, path (after the destination's, at tail +
 * plen) and where the copied bytes started. The syscall has already advanced the offset (user
 * loff_t or the file position) by total. */
static __always_inline void name_source(struct data_scratch *ds, __u64 total, __u64 plen)
{
	struct file *f = fd_file(ds->st.src_fd);
	struct path_scratch *ps;
	struct inode *inode;
	__u64 start = 0, len = 0;
	__u32 trunc = 0;
	__s64 pos = -1;
	__u16 mode;

	ds->rec.src_path_len = 0;
	ds->rec.src_kind = SW_AK_NONE;
	ds->rec.src_dev = 0;
	ds->rec.src_ino = 0;
	ds->rec.src_pos = -1;
	if (!f) {
		LOSS_INC(copies_unread);
		return;
	}
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & SW_S_IFMT;
	ds->rec.src_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ds->rec.src_ino = BPF_CORE_READ(inode, i_ino);
	if (mode == SW_S_IFREG) {
		ds->rec.src_kind = SW_AK_FILE;
		if (ds->st.clone) {
			pos = ds->st.src_off;
		} else if (ds->st.src_off) {
			if (bpf_probe_read_user(&pos, sizeof(pos), (void *)ds->st.src_off))
				pos = -1;
		} else {
			pos = BPF_CORE_READ(f, f_pos);
		}
		ds->rec.src_pos = pos >= (__s64)total ? pos - (__s64)total : -1;
		ps = file_path(f, &start, &len, &trunc);
		ds->rec.src_path_len =
			copy_path(&ds->tail[plen & (SW_PATH_LEN - 1)], ps, start, len);
	} else if (mode == SW_S_IFIFO) {
		ds->rec.src_kind = SW_AK_PIPE;
	} else if (mode == SW_S_IFSOCK) {
		ds->rec.src_kind = SW_AK_SOCKET;
	}
}

/* Fills the syscall's arguments into the per-CPU capture state; capture_write() takes them
 * from there (a BPF function has at most five arguments). */
static __always_inline struct chunk_state *capture_args(__u32 nr, int fd, __u64 buf, __u64 iov,
							__u32 iovcnt, __s64 pos, __u64 dest,
							__s64 src_fd, __u64 src_off)
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
	ds->st.dest = dest;
	ds->st.src_fd = src_fd;
	ds->st.src_off = src_off;
	ds->st.dst_off = 0;
	ds->st.clone = 0;
	ds->st.tls = 0;
	return &ds->st;
}

/* Sends the bytes of one write-family syscall of a session process, described by
 * capture_args(). A global function: verified once, not once per call site. */
__noinline int capture_write(__u64 session_id, __u64 total)
{
	struct sw_scope s = {.session_id = session_id}, *sp;
	struct sw_file_ends *fe = NULL;
	struct chunk_state *st;
	struct path_scratch *ps;
	struct data_scratch *ds;
	struct inode *inode;
	struct file *f;
	__u64 start = 0, plen = 0, slen;
	__u32 zero = 0, ptrunc = 0, one = 1;
	struct named_key nk;
	__u16 mode;

	ds = bpf_map_lookup_elem(&data_buf, &zero);
	if (!ds)
		return 0;
	st = &ds->st;
	f = fd_file(st->fd);
	if (!f && !st->tls)
		return 0;
	inode = f ? BPF_CORE_READ(f, f_inode) : NULL;
	mode = inode ? BPF_CORE_READ(inode, i_mode) & SW_S_IFMT : 0;
	fill_hdr(&ds->rec.hdr, SW_EV_DATA, &s);
	ds->rec.hdr.flags = SW_F_FIRST | (st->tls & ~1ull);
	ds->rec.syscall_nr = st->nr;
	ds->rec.fd = st->fd;
	ds->rec.total = total;
	ds->rec.file_pos = st->pos;
	ds->rec.dev = inode ? BPF_CORE_READ(inode, i_sb, s_dev) : 0;
	ds->rec.ino = inode ? BPF_CORE_READ(inode, i_ino) : 0;
	ds->rec.gen = inode ? BPF_CORE_READ(inode, i_generation) : 0;
	ds->rec.rdev = 0;
	ds->rec.family = 0;
	ds->rec.port = 0;
	ds->rec.sock_type = 0;
	ds->rec.protocol = 0;
	ds->rec.guard = (st->tls & SW_F_HELD) ? guard_mode : 0;
	__builtin_memset(ds->rec.addr, 0, sizeof(ds->rec.addr));
	plen = 0;
	if (st->tls) {
		/* The plaintext of a TLS write: named by the socket its thread wrote last. */
		if (mode == SW_S_IFSOCK)
			name_socket(ds, f, &plen);
		plen = 0;
		ds->rec.art_kind = SW_AK_TLS;
	} else if (mode == SW_S_IFREG) {
		ds->rec.art_kind = SW_AK_FILE;
		/* Another thread (or CLONE_VM process) may rewrite the buffer between the kernel's
		 * copy and ours: the daemon compares the file's range with what it got. */
		if (BPF_CORE_READ(bpf_get_current_task_btf(), mm, mm_users.counter) > 1) {
			ds->rec.hdr.flags |= SW_F_SHARED_MM;
		} else {
			sp = scope_of(bpf_get_current_pid_tgid() >> 32); /* shared before? */
			if (sp && (sp->flags & SW_SCOPE_SHARED_MM))
				ds->rec.hdr.flags |= SW_F_SHARED_MM;
		}
	} else if (mode == SW_S_IFSOCK) {
		name_socket(ds, f, &plen);
		if (ds->rec.protocol == SW_IPPROTO_TCP && ds->rec.family != SW_AF_UNIX)
			tls_note_socket(st->fd);
	} else if (mode == SW_S_IFIFO) {
		ds->rec.art_kind = SW_AK_PIPE;
	} else if (mode == SW_S_IFCHR && is_tty(BPF_CORE_READ(inode, i_rdev))) {
		ds->rec.art_kind = SW_AK_TTY;
		ds->rec.rdev = BPF_CORE_READ(inode, i_rdev);
	} else if (mode == SW_S_IFCHR && !is_sink(BPF_CORE_READ(inode, i_rdev))) {
		/* Any other device (/dev/kmsg, /dev/fuse, a tun, a serial line): a place named
		 * by its path, like a file. */
		ds->rec.art_kind = SW_AK_FILE;
	} else {
		return 0;
	}
	nk.file = (__u64)f;
	nk.ino = ds->rec.ino;
	nk.dev = ds->rec.dev;
	nk.gen = ds->rec.gen;
	if ((ds->rec.art_kind == SW_AK_FILE || ds->rec.art_kind == SW_AK_TTY) && st->src_fd < 0 &&
	    bpf_map_lookup_elem(&named, &nk)) {
		plen = 0; /* named before: the walk is the costliest part of a write */
	} else if (ds->rec.art_kind == SW_AK_FILE || ds->rec.art_kind == SW_AK_TTY ||
		   ds->rec.art_kind == SW_AK_PIPE) {
		ps = file_path(f, &start, &plen, &ptrunc);
		if (ps && plen > 0 && plen < SW_PATH_LEN) {
			if (bpf_probe_read_kernel(ds->tail, plen,
						  &ps->buf[start & (SW_PATH_LEN - 1)]))
				plen = 0;
		} else {
			plen = 0;
		}
		if (ptrunc) {
			ds->rec.hdr.flags |= SW_F_PATH_TRUNC;
			LOSS_INC(path_truncated);
		}
		if (plen && ds->rec.art_kind != SW_AK_PIPE)
			bpf_map_update_elem(&named, &nk, &one, BPF_ANY);
	}
	if (st->src_fd >= 0) {
		plen &= SW_PATH_LEN - 1;
		name_source(ds, total, plen);
		/* Where the copy landed in a regular file: read there when the source cannot be. */
		ds->rec.file_pos = -1;
		if (ds->rec.art_kind == SW_AK_FILE && mode == SW_S_IFREG) {
			__s64 end = -1;

			if (st->clone)
				end = st->dst_off;
			else if (!st->dst_off)
				end = BPF_CORE_READ(f, f_pos);
			else if (bpf_probe_read_user(&end, sizeof(end), (void *)st->dst_off))
				end = -1;
			ds->rec.file_pos = end >= (__s64)total ? end - (__s64)total : -1;
		}
		ds->rec.hdr.flags |= SW_F_COPY | SW_F_LAST;
		ds->rec.offset = 0;
		ds->rec.path_len = plen;
		ds->rec.data_len = 0;
		slen = ds->rec.src_path_len & (SW_PATH_LEN - 1);
		ds->rec.hdr.size = sizeof(ds->rec) + plen + slen;
		if (bpf_ringbuf_output(&events, &ds->rec, sizeof(ds->rec) + plen + slen, 0))
			LOSS_INC(ringbuf_full);
		return 0;
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
	st->ring_full = 0;
	st->ooo = 0;
	st->left = st->iov ? 0 : total;
	if (ds->rec.art_kind == SW_AK_FILE) {
		struct sw_spill *sp = spill_entry(ds);

		fe = file_ends_of(ds);
		st->fbase = st->pos >= 0 ? (__u64)st->pos : BPF_CORE_READ(f, f_pos) - total;
		st->ooo = out_of_order(ds, f, fe, st->fbase, st->fbase + total) && st->pos < 0;
		if (st->ooo)
			ds->rec.file_pos = (__s64)st->fbase;
		/* Where a shared-mm write's bytes went: the daemon compares them with the file. */
		ds->rec.src_pos = (ds->rec.hdr.flags & SW_F_SHARED_MM) ? (__s64)st->fbase : -1;
		spill_reading_overwrite(ds, st->fbase, st->fbase + st->limit);
		if (sp && spill_joins(sp, st->fbase, st->fbase + st->limit)) {
			spill_or_lose(ds, f, sp, st->fbase, st->fbase + st->limit);
			spill_out_of_order(ds, f);
			return 0;
		}
	}
	/* Enough steps for the largest cap (32 MiB, SW_POLICY_MAX_BYTES_MAX) over the most
	 * iovecs: one step loads an iovec, one sends a chunk, and each iovec may end in a part
	 * chunk. Fewer would end a syscall early without SW_F_LAST. */
	bpf_loop((32u << 20) / SW_CHUNK + 2 * SW_IOV_MAX + 2, chunk_step, NULL, 0);
	if (ds->rec.art_kind != SW_AK_FILE) {
		if (st->ring_full)
			LOSS_INC(ringbuf_full);
		return 0;
	}
	/* A write the ring took, from its start at least, may continue spilled bytes. */
	if (!st->ring_full || st->lost_at)
		spill_edge_ring(ds, f, fe, st->fbase);
	/* A write the ring took did not touch bytes spilled before (it would have joined them).
	 * The rest of one it had no room for is spilled: a fresh look, the entry may be new since
	 * (another writer of the file). */
	if (st->ring_full)
		spill_or_lose(ds, f, spill_entry(ds), st->fbase + st->lost_at,
			      st->fbase + st->limit);
	if (st->ring_full && !st->lost_at)
		spill_out_of_order(ds, f);
	return 0;
}

#endif
