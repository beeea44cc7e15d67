/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A flood cannot buy silence for files: when the ring has no room for a write to a regular
 * file, the file and the byte range are kept in the spills map (merged per file) and userspace
 * reads that range back from the file. Only a spill the map cannot hold is lost (and counted
 * as ringbuf_full). */
#ifndef SPRAWL_SPILL_BPF_H
#define SPRAWL_SPILL_BPF_H

#include "maps.bpf.h"
#include "path.bpf.h"

#define SW_SPILL_MAX 1024

/* file (kernel dev, ino) -> the range the ring had no room for. A plain hash, not an LRU: an
 * eviction would lose a range silently; a full map is a counted loss instead. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_SPILL_MAX);
	__type(key, struct sw_inode_key);
	__type(value, struct sw_spill);
} spills SEC(".maps");

/* file -> what userspace took from spills and is reading back (struct sw_spill_reading). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct sw_inode_key);
	__type(value, struct sw_spill_reading);
} spill_reading SEC(".maps");

/* file -> where its last write ended (fileorder.bpf.h) and where the bytes it last spilled end
 * (a write the ring carries from there on continues bytes the ring did not carry:
 * spill_edge_ring). One element per file, looked up once per write (file_ends_of); its write
 * creates it. An LRU: a file forgotten starts over (its next write is taken as in order, and
 * its last spill's end is not read across). */
struct sw_file_ends {
	__u32 gen;
	__u32 pad;
	__u64 next;    /* where the last write to the file ended */
	__u64 spilled; /* where the bytes it last spilled end; 0: read across already */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sw_inode_key);
	__type(value, struct sw_file_ends);
} file_ends SEC(".maps");

/* The file_ends element of ds's file (this generation of it), or NULL. */
static __always_inline struct sw_file_ends *file_ends_of(struct data_scratch *ds)
{
	struct sw_inode_key key = {.dev = ds->rec.dev, .ino = ds->rec.ino};
	struct sw_file_ends *fe = bpf_map_lookup_elem(&file_ends, &key);

	return fe && fe->gen == ds->rec.gen ? fe : NULL;
}

/* Per-CPU scratch where a new entry is built: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sw_spill);
} spill_buf SEC(".maps");

/* A file's bytes leave the last quarter of the ring to what cannot be read back (process
 * events, sockets, pipes): past three quarters full, a file write is spilled instead. */
static __always_inline int spill_first(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
	       bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4 * 3;
}

/* 1 when [start, end) and r overlap or adjoin (r used). */
static __always_inline int touches(const struct sw_spill_range *r, __u64 start, __u64 end)
{
	return r->start != r->end && start <= r->end && end >= r->start;
}

/* 1 when [start, end) overlaps a used range of r[0..SW_SPILL_RANGES) other than one of bytes the
 * ring carried too (bit i of carried). */
static __always_inline int overlaps_any(const struct sw_spill_range *r, __u32 carried, __u64 start,
					__u64 end)
{
	int i, o = 0;

#pragma unroll
	for (i = 0; i < SW_SPILL_RANGES; i++)
		o |= r[i].start < r[i].end && start < r[i].end && end > r[i].start &&
		     !(carried & (1u << i));
	return o;
}

/* The spills entry of ds's file (this generation of it), or NULL. */
static __always_inline struct sw_spill *spill_entry(struct data_scratch *ds)
{
	struct sw_inode_key key = {.dev = ds->rec.dev, .ino = ds->rec.ino};
	struct sw_spill *sp = bpf_map_lookup_elem(&spills, &key);

	return sp && sp->gen == ds->rec.gen ? sp : NULL;
}

/* 1 when file bytes [start, end) touch bytes of sp spilled and not read back yet (overlap or
 * adjoin them): such a write joins the spill instead of taking ring room. So a read-back range
 * holds no bytes the ring carried too (a union over writes the ring took in between would be
 * scanned twice), and the spill ends when userspace takes it. An edge range (bytes the ring
 * carried, read back for what is around them, alone in its range) is not joined. */
static __always_inline int spill_joins(const struct sw_spill *sp, __u64 start, __u64 end)
{
	int i, t = 0;

#pragma unroll
	for (i = 0; i < SW_SPILL_RANGES; i++)
		t |= touches(&sp->r[i], start, end) && !(sp->carried & (1u << i));
	return t;
}

/* Keeps file bytes [start, end) of the write described by ds (f its file) in sp, its file's
 * entry (spill_entry), or in a new entry when sp is NULL. 1 when kept. The merge of concurrent
 * spills into one entry is not atomic: two writers of one file racing may keep a narrower
 * range (both ranges are written, the later widening may be lost). */
static __always_inline int spill_range(struct data_scratch *ds, struct file *f, struct sw_spill *sp,
				       __u64 start, __u64 end, int edge)
{
	struct sw_inode_key key = {.dev = ds->rec.dev, .ino = ds->rec.ino};
	struct path_scratch *ps;
	__u64 pstart = 0, plen = 0;
	__u32 trunc = 0, zero = 0;

	if (end <= start)
		return 1;
	/* Bytes spilled end here: a write the ring carries from here on needs them (an edge
	 * range itself was carried on by the ring). */
	if (!edge) {
		struct sw_file_ends *fe = file_ends_of(ds);

		if (fe)
			fe->spilled = end;
	}
	if (sp) {
		struct sw_spill_range *r = &sp->r[SW_SPILL_RANGES - 1];
		int i;

		/* Over bytes spilled before and not read back yet: those are gone unseen. */
		if (!edge && overlaps_any(sp->r, sp->carried, start, end))
			LOSS_INC(ringbuf_full);
			/* The first range it touches, else the first free one, else the last. */
#pragma unroll
		for (i = SW_SPILL_RANGES - 1; i >= 0; i--)
			if (sp->r[i].start == sp->r[i].end)
				r = &sp->r[i];
#pragma unroll
		for (i = SW_SPILL_RANGES - 1; i >= 0; i--)
			if (touches(&sp->r[i], start, end))
				r = &sp->r[i];
#pragma unroll
		for (i = 0; i < SW_SPILL_RANGES; i++) {
			if (r != &sp->r[i])
				continue;
			/* An edge range in a free range holds only carried bytes; joined to a
			 * range, it reads that range on past its end. Spilled bytes make a range
			 * not carried. */
			if (edge)
				sp->edge |= 1u << i;
			if (edge && r->start == r->end)
				sp->carried |= 1u << i;
			if (!edge)
				sp->carried &= ~(1u << i);
		}
		if (r->start == r->end) {
			r->start = start;
			r->end = end;
		} else {
			if (start < r->start)
				r->start = start;
			if (end > r->end)
				r->end = end;
		}
		if (!edge)
			__sync_fetch_and_add(&sp->writes, 1);
		return 1;
	}
	sp = bpf_map_lookup_elem(&spill_buf, &zero);
	if (!sp)
		return 0;
	sp->hdr = ds->rec.hdr;
	sp->hdr.flags = 0;
	__builtin_memset(sp->r, 0, sizeof(sp->r));
	sp->r[0].start = start;
	sp->r[0].end = end;
	sp->gen = ds->rec.gen;
	sp->fd = ds->st.fd;
	sp->writes = !edge;
	sp->edge = edge ? 1 : 0;
	sp->carried = edge ? 1 : 0;
	ps = file_path(f, &pstart, &plen, &trunc);
	sp->path_len = trunc ? 0 : copy_path(sp->path, ps, pstart, plen);
	return bpf_map_update_elem(&spills, &key, sp, BPF_ANY) == 0;
}

/* spill_range, counted: spilled when kept, else lost. */
static __always_inline void spill_or_lose(struct data_scratch *ds, struct file *f,
					  struct sw_spill *sp, __u64 start, __u64 end)
{
	if (spill_range(ds, f, sp, start, end, 0))
		LOSS_INC(spilled);
	else
		LOSS_INC(ringbuf_full);
}

/* A write the ring carried from file byte start on, where bytes spilled before end: the ring's
 * stream of the file lacks them, and the read-back of them stops there, so neither would see
 * a secret across start. The last spilled byte is kept as an edge range, read back with what
 * precedes it and on past it (the ring's write is in the file by now). Its first write only:
 * the ring's stream holds this write, so later ones continue it. Not kept: counted lost. */
static __always_inline void spill_edge_ring(struct data_scratch *ds, struct file *f,
					    struct sw_file_ends *fe, __u64 start)
{
	if (!fe || fe->spilled != start || !start)
		return;
	fe->spilled = 0;
	if (!spill_range(ds, f, spill_entry(ds), start - 1, start, 1))
		LOSS_INC(ringbuf_full);
}

/* A write of file bytes [start, end) over bytes userspace took to read back and has not read
 * yet: those bytes are gone unseen (the read-back finds the new ones). */
static __always_inline void spill_reading_overwrite(struct data_scratch *ds, __u64 start, __u64 end)
{
	struct sw_inode_key key = {.dev = ds->rec.dev, .ino = ds->rec.ino};
	struct sw_spill_reading *sr = bpf_map_lookup_elem(&spill_reading, &key);

	if (sr && sr->gen == ds->rec.gen && overlaps_any(sr->r, sr->carried, start, end))
		LOSS_INC(ringbuf_full);
}

#endif
