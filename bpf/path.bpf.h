/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Naming a file from its struct file: the absolute path walked from the dentry across mounts.
 * bpf_d_path is not callable from tracepoints, so the walk is done by hand. */
#ifndef SPRAWL_PATH_BPF_H
#define SPRAWL_PATH_BPF_H

#include "maps.bpf.h"

#define SW_PATH_DEPTH 64 /* components walked; deeper paths are flagged truncated */

static long walk_step(__u32 i, void *ctx)
{
	struct dentry *d, *parent;
	struct mount *mnt, *mparent;
	const unsigned char *name;
	struct path_scratch *ps;
	__u32 zero = 0;
	__u64 len;
	long off;

	ps = bpf_map_lookup_elem(&path_buf, &zero);
	if (!ps)
		return 1;
	d = (struct dentry *)ps->dentry;
	mnt = (struct mount *)ps->mnt;
	if (BPF_CORE_READ(mnt, mnt.mnt_root) == d) {
		mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt) {
			ps->done = 1;
			return 1;
		}
		ps->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		ps->mnt = (__u64)mparent;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d) {
		ps->done = 1;
		return 1;
	}
	name = BPF_CORE_READ(d, d_name.name);
	len = BPF_CORE_READ(d, d_name.len) & 255;
	off = (long)(ps->off & (SW_PATH_LEN * 2 - 1)) - (long)len - 1;
	if (off < 0 || off >= SW_PATH_LEN) {
		ps->truncated = 1;
		return 1;
	}
	/* Masks let the verifier see both writes stay inside ps->buf. */
	ps->buf[off & (SW_PATH_LEN - 1)] = '/';
	if (bpf_probe_read_kernel(&ps->buf[(off + 1) & (SW_PATH_LEN - 1)], len, name)) {
		ps->truncated = 1;
		return 1;
	}
	ps->off = off;
	ps->dentry = (__u64)parent;
	return 0;
}

/* Walks (dentry, vmnt) into the per-CPU path scratch. Returns the scratch and sets *start and
 * *len to the path inside it, or NULL. *truncated is set when components were lost. */
static __always_inline struct path_scratch *walk_path(struct dentry *dentry, struct vfsmount *vmnt,
						      __u64 *start, __u64 *len, __u32 *truncated)
{
	struct path_scratch *ps;
	__u32 zero = 0;

	ps = bpf_map_lookup_elem(&path_buf, &zero);
	if (!ps)
		return NULL;
	ps->dentry = (__u64)dentry;
	ps->mnt = (__u64)container_of(vmnt, struct mount, mnt);
	ps->off = SW_PATH_LEN;
	ps->truncated = 0;
	ps->done = 0;
	bpf_loop(SW_PATH_DEPTH, walk_step, NULL, 0);
	if (!ps->done)
		ps->truncated = 1;
	if (ps->off >= SW_PATH_LEN) {
		ps->off = SW_PATH_LEN - 1;
		ps->buf[SW_PATH_LEN - 1] = '/';
	}
	*start = ps->off;
	*len = SW_PATH_LEN - ps->off;
	*truncated = ps->truncated;
	return ps;
}

static __always_inline struct path_scratch *file_path(struct file *f, __u64 *start, __u64 *len,
						      __u32 *truncated)
{
	return walk_path(BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), start, len,
			 truncated);
}

/* Copies a walked path into dst (at most SW_PATH_LEN - 1 bytes). Returns its length. */
static __always_inline __u64 copy_path(char *dst, struct path_scratch *ps, __u64 start, __u64 len)
{
	if (!ps || len == 0 || len >= SW_PATH_LEN)
		return 0;
	if (bpf_probe_read_kernel(dst, len, &ps->buf[start & (SW_PATH_LEN - 1)]))
		return 0;
	return len;
}

#endif
