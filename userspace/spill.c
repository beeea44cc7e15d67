// SPDX-License-Identifier: Apache-2.0
/* File bytes the ring had no room for: the kernel left (file, range) in its spills map; they
 * are read back here from the file, as read-back records of a fresh stream of that file, a
 * budget per call so that a flood's read-back does not hold the loop. What cannot be read
 * back (the file gone, replaced or shorter than the range) is a read-back failure, which the
 * pipeline reports as a coverage_gap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "daemon.h"
#include "kernel.h"
#include "source.h"

#define SPILL_BUDGET (32ull << 20) /* bytes read back per call at most */
/* Time one turn of the event loop gives the read-back beyond the ring's (RING_TURN_US), at
 * least SPILL_MIN_US, then the other descriptors get theirs and the next turn goes on
 * (spill_more): 32 MiB in one go held the loop up to 0.45 s under a flood (matched, detected
 * and traced on the loop). */
#define SPILL_SLICE_US 5000
#define SPILL_MIN_US   1000
#define SPILL_STOP     (1ull << 30) /* bytes read back at the daemon's stop */
#define SPILL_OVERLAP  4096	    /* bytes before a spilled range read back with it */

/* Where the read-back of r starts: the bytes just before it included (a secret across the
 * edge of what the ring took and what it did not: read again, a place seen again does not
 * alert again). */
static uint64_t read_from(const struct sw_spill_range *r)
{
	return r->start > SPILL_OVERLAP ? r->start - SPILL_OVERLAP : 0;
}

/* Where the read-back of the current range stops: its end; past it for an edge range (a write
 * the ring carried begins there, after bytes it did not carry: sw_spill.edge), SPILL_OVERLAP
 * more, as far as the file goes, so a secret across the edge is read whole. */
static uint64_t read_to(const struct daemon *d, const struct sw_spill_range *r)
{
	struct stat st;

	if (!(d->spill->edge & (1u << d->spill_ri)) || d->spill_fd < 0 || fstat(d->spill_fd, &st) ||
	    st.st_size <= (off_t)r->end)
		return r->end;
	return (uint64_t)st.st_size - r->end > SPILL_OVERLAP ? r->end + SPILL_OVERLAP
							     : (uint64_t)st.st_size;
}

/* Moves to the next used range of the current entry from d->spill_ri on; 0 when none is left. */
static int next_range(struct daemon *d)
{
	const struct sw_spill_range *r;

	for (; d->spill_ri < SW_SPILL_RANGES; d->spill_ri++) {
		r = &d->spill->r[d->spill_ri];
		if (r->end > r->start) {
			d->spill_done = 0;
			return 1;
		}
	}
	return 0;
}

/* Tells the kernel what of the entry is still to be read: ranges before the current one are
 * done, the current one from what was read on. */
static void tell_reading(struct daemon *d)
{
	struct sw_spill_reading r = {.gen = d->spill->gen, .carried = d->spill->carried};
	unsigned int i;
	uint64_t at;

	for (i = d->spill_ri; i < SW_SPILL_RANGES; i++)
		r.r[i] = d->spill->r[i];
	if (d->spill_ri < SW_SPILL_RANGES) {
		at = read_from(&r.r[d->spill_ri]) + d->spill_done;
		if (at > r.r[d->spill_ri].start)
			r.r[d->spill_ri].start = at;
	}
	sw_kernel__spill_reading(d->k, &d->spill_key, &r);
}

static void drop_entry(struct daemon *d)
{
	if (d->spill_fd >= 0)
		close(d->spill_fd);
	free(d->spill);
	d->spill = NULL;
}

/* The entry is read back: the kernel no longer counts writes over it. */
static void free_entry(struct daemon *d)
{
	if (d->k)
		sw_kernel__spill_reading(d->k, &d->spill_key, NULL);
	drop_entry(d);
}

/* Feeds up to budget bytes of the current entry's ranges; returns the bytes read, and frees
 * the entry once its ranges are done. */
static uint64_t read_some(struct daemon *d, uint64_t budget, uint64_t until_us)
{
	struct sw_spill *s = d->spill;
	struct sw_spill_range *r = &s->r[d->spill_ri];
	struct source_rescan rs = {.hdr = s->hdr,
				   .dev = d->spill_key.dev,
				   .ino = d->spill_key.ino,
				   .gen = s->gen,
				   .path = s->path,
				   .path_len = s->path_len < SW_PATH_LEN ? s->path_len : 0,
				   .start = read_from(r),
				   .done = d->spill_done};
	uint64_t got = 0;
	uint16_t fl;

	if (d->spill_fd == -1) {
		char path[SW_PATH_LEN + 1];

		memcpy(path, s->path, rs.path_len);
		path[rs.path_len] = 0;
		d->spill_fd = source__open_written(s->hdr.tgid, s->fd, path, rs.dev, rs.ino);
		if (d->spill_fd < 0)
			d->spill_fd = -2;
	}
	rs.fd = d->spill_fd;
	if (!d->spill_done)
		d->spill_end = read_to(d, r);
	rs.len = d->spill_end - rs.start;
	do {
		fl = source__rescan_step(d, d->readbuf, &rs);
		got += rs.done - d->spill_done;
		d->spill_done = rs.done;
		if (fl & SW_F_LAST) {
			d->spills_read++;
			d->spill_bytes += d->spill_done;
			d->spills_failed += !!(fl & SW_F_READ_ERR);
			d->spill_ri++;
			if (!next_range(d))
				free_entry(d);
			break;
		}
	} while (got < budget && !(until_us && now_us() >= until_us));
	if (d->spill)
		tell_reading(d);
	return got + 1; /* an entry that failed at once costs something too */
}

/* Reads back up to budget bytes, until until_us (0: no deadline); 1 when it stopped with
 * ranges possibly left, 0 when the kernel has none left. */
static int read_budget(struct daemon *d, uint64_t budget, uint64_t until_us)
{
	uint64_t used = 0;
	int e, n = 0;

	while (d->k && used < budget && n++ < 4096) {
		if (until_us && now_us() >= until_us)
			return 1;
		if (!d->spill) {
			d->spill = malloc(sizeof(*d->spill));
			if (!d->spill)
				return 1;
			e = sw_kernel__spill_take(d->k, &d->spill_key, d->spill);
			d->spill_fd = -1;
			d->spill_ri = 0;
			if (e <= 0 || !next_range(d)) {
				drop_entry(d);
				if (e <= 0)
					return 0;
				continue;
			}
			/* Before any of it is read: a write over it from now on is counted. */
			tell_reading(d);
		}
		used += read_some(d, budget - used, until_us);
	}
	return d->k != NULL;
}

void spill__read(struct daemon *d)
{
	uint64_t now = now_us(), until = now + SPILL_SLICE_US;

	/* In a turn, what the ring left of it and SPILL_SLICE_US more: one bound for the turn. */
	if (d->turn_deadline_us)
		until = d->turn_deadline_us + SPILL_SLICE_US > now + SPILL_MIN_US
				? d->turn_deadline_us + SPILL_SLICE_US
				: now + SPILL_MIN_US;
	d->spill_more = read_budget(d, SPILL_BUDGET, until);
}

void spill__stop(struct daemon *d)
{
	read_budget(d, SPILL_STOP, 0);
	d->spill_more = 0;
}

/* What is left unread stays in the kernel's spill_reading: the next daemon counts it lost. */
void spill__free(struct daemon *d)
{
	if (d->spill)
		drop_entry(d);
}
