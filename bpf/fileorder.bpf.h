/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Writes at the file position come in file order, mostly: the daemon scans a file's writes as
 * one stream in the order they come. A process that moves the position between writes (lseek)
 * can put a secret's second half in the file first and its first half after: neither write
 * holds the secret, the file does. Such a write is flagged positional (file_pos), as a pwrite
 * is, and the daemon reads the file back whole at its close (the file is still there then:
 * git's index-pack rewrites a pack's header, then the pack is moved). One the ring had no room
 * for at all sends no record: it is kept as an edge range (spill.bpf.h), read back with the 4
 * KiB before it and up to 4 KiB after it. */
#ifndef SPRAWL_FILEORDER_BPF_H
#define SPRAWL_FILEORDER_BPF_H

#include "maps.bpf.h"
#include "spill.bpf.h"

/* For a write of file bytes [start, end) at the file position (its exit: the file holds them),
 * fe its file's file_ends element (file_ends_of): 1 when it does not begin where the last write
 * to the file ended. A write from 0 that leaves the file that long (a file cut and written
 * again) is in order. Moves the file's next write's expected start to end. */
static __always_inline int out_of_order(struct data_scratch *ds, struct file *f,
					struct sw_file_ends *fe, __u64 start, __u64 end)
{
	struct sw_inode_key key = {.dev = ds->rec.dev, .ino = ds->rec.ino};
	struct sw_file_ends n = {.gen = ds->rec.gen, .next = end};
	int out = fe && fe->next != start;

	if (out && !start && (__u64)BPF_CORE_READ(f, f_inode, i_size) == end)
		out = 0;
	if (fe)
		fe->next = end; /* in place: an LRU update would take a new element every write */
	else
		bpf_map_update_elem(&file_ends, &key, &n, BPF_ANY);
	return out;
}

/* The write of ds, out of order and spilled whole: its bytes as an edge range. Not kept:
 * counted lost. */
static __always_inline void spill_out_of_order(struct data_scratch *ds, struct file *f)
{
	struct chunk_state *st = &ds->st;

	if (st->ooo && !spill_range(ds, f, spill_entry(ds), st->fbase, st->fbase + st->limit, 1))
		LOSS_INC(ringbuf_full);
}

#endif
