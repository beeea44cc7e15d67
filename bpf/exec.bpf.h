/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Exec records: filename, argv and environment read from the new process image. */
#ifndef SPRAWL_EXEC_BPF_H
#define SPRAWL_EXEC_BPF_H

#include "maps.bpf.h"
#include "proc.bpf.h"
#include "path.bpf.h"

static __always_inline void capture_exec(const struct sw_scope *s, struct task_struct *p,
					 struct linux_binprm *bprm, __u32 old_pid, __u16 flags)
{
	struct exec_scratch *es;
	struct mm_struct *mm;
	unsigned long a0, a1, e0, e1;
	__u64 fl, al, el, off, start = 0, plen = 0;
	struct path_scratch *ps;
	__u32 cpu = bpf_get_smp_processor_id(), trunc = 0;
	long n;
	const long cap = sizeof(*es);

	es = bpf_map_lookup_elem(&exec_buf, &cpu);
	if (!es)
		return;
	fill_hdr(&es->rec.hdr, SW_EV_EXEC, s);
	es->rec.hdr.flags = flags;
	es->rec.old_pid = old_pid;
	es->rec.cgroup_id = bpf_get_current_cgroup_id();

	/* The executable as /proc/PID/exe names it: bprm->file, walked to an absolute path with
	 * symlinks resolved (bprm->filename is as given: relative, or a link). */
	ps = file_path(BPF_CORE_READ(bprm, file), &start, &plen, &trunc);
	fl = copy_path(es->tail, ps, start, plen);
	if (!fl) {
		n = bpf_probe_read_kernel_str(es->tail, SW_PATH_LEN, BPF_CORE_READ(bprm, filename));
		fl = n > 0 ? n - 1 : 0; /* without the NUL */
	}
	fl &= SW_PATH_LEN - 1;

	mm = BPF_CORE_READ(p, mm);
	a0 = BPF_CORE_READ(mm, arg_start);
	a1 = BPF_CORE_READ(mm, arg_end);
	e0 = BPF_CORE_READ(mm, env_start);
	e1 = BPF_CORE_READ(mm, env_end);
	al = a1 > a0 ? a1 - a0 : 0;
	if (al > SW_ARGS_LEN) {
		al = SW_ARGS_LEN;
		es->rec.hdr.flags |= SW_F_ARGS_TRUNC;
	}
	el = e1 > e0 ? e1 - e0 : 0;
	if (el > SW_ENV_LEN) {
		el = SW_ENV_LEN;
		es->rec.hdr.flags |= SW_F_ENV_TRUNC;
	}
	/* The new image's argv and env are in user memory of the current (new) mm. */
	off = fl;
	/* 64-bit lengths and masks right at the call keep the verifier's bounds on the very
	 * registers passed (a 32-bit copy would lose them). */
	if (al > SW_ARGS_LEN)
		al = SW_ARGS_LEN;
	if (al && bpf_probe_read_user(&es->tail[off & (SW_PATH_LEN - 1)], al, (void *)a0)) {
		al = 0;
		es->rec.hdr.flags |= SW_F_READ_ERR;
	}
	off = (fl + al) & (2 * SW_ARGS_LEN - 1);
	if (el > SW_ENV_LEN)
		el = SW_ENV_LEN;
	if (el && bpf_probe_read_user(&es->tail[off], el, (void *)e0)) {
		el = 0;
		es->rec.hdr.flags |= SW_F_READ_ERR;
	}
	es->rec.filename_len = fl;
	es->rec.args_len = al;
	es->rec.env_len = el;
	n = sizeof(es->rec) + fl + al + el;
	es->rec.hdr.size = n;
	if (n > cap)
		return;
	if (bpf_ringbuf_output(&events, es, n, 0))
		LOSS_INC(ringbuf_full);
}

#endif
