/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Scope decisions and the common record header. */
#ifndef SPRAWL_PROC_BPF_H
#define SPRAWL_PROC_BPF_H

#include "maps.bpf.h"

/* The one lookup every syscall of every process pays. */
static __always_inline struct sw_scope *scope_of(__u32 tgid)
{
	return bpf_map_lookup_elem(&scope, &tgid);
}

static __always_inline void fill_hdr(struct sw_hdr *h, __u16 type, const struct sw_scope *s)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->flags = 0;
	h->size = 0;
	h->ktime = bpf_ktime_get_ns();
	h->pid = (__u32)id;
	h->tgid = id >> 32;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->session_id = s ? s->session_id : 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

#endif
