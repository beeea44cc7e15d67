// SPDX-License-Identifier: Apache-2.0
/* The trace log reader's block parser: reads the block at the reader's offset and checks its
 * preamble, header, CRCs, zlib data and event framing. What does not check out is reported as
 * damage (a torn tail or corruption) and skipped: to the end of the segment, past the block
 * whose header held, or to the next block magic. See tracelog.c for the format. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>

#include "tracelog_priv.h"

/* Worst-case deflate ratio is ~1032:1; a header claiming more is lying about raw_length, and this
 * keeps what a small file can make the reader allocate proportional to its size. */
#define ZLIB_RATIO_MAX 1032u
#define SCAN_WINDOW    (64u << 10)

ssize_t tl_read_at(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

void tl_damage(struct sw_tracelog_reader *r, enum sw_tracelog_damage kind, uint64_t off,
	       uint64_t skipped, const char *why)
{
	if (kind == SW_TRACELOG_TORN)
		r->st.torn_blocks++;
	else
		r->st.corrupt_blocks++;
	r->st.skipped_bytes += skipped;
	if (r->cb)
		r->cb(r->cb_ctx, kind, r->seg ? r->seg : "", off, skipped, why);
}

/* Finds the first block magic at or after from; returns its offset or the segment size, and
 * whether everything before it was zero bytes (a zero-filled tail is what some filesystems leave
 * of a write a crash interrupted). */
static int64_t find_magic(struct sw_tracelog_reader *r, uint64_t from, int *allzero)
{
	uint8_t buf[SCAN_WINDOW + sizeof(magic) - 1];
	uint64_t pos = from;
	const uint8_t *m;
	ssize_t k;
	size_t i, n;

	*allzero = 1;
	while (pos < r->size) {
		n = r->size - pos < sizeof(buf) ? (size_t)(r->size - pos) : sizeof(buf);
		k = tl_read_at(r->fd, buf, n, pos);
		if (k < 0)
			return k;
		if ((size_t)k < n)
			n = (size_t)k;
		if (n < sizeof(magic))
			m = NULL;
		else
			m = memmem(buf, n, magic, sizeof(magic));
		for (i = 0; *allzero && i < (m ? (size_t)(m - buf) : n); i++)
			if (buf[i])
				*allzero = 0;
		if (m)
			return (int64_t)(pos + (uint64_t)(m - buf));
		if ((size_t)k < sizeof(buf) || n < sizeof(magic))
			break;
		/* Overlap so a magic across two windows is seen. */
		pos += n - (sizeof(magic) - 1);
	}
	return (int64_t)r->size;
}

/* Damage at off: skips to the next magic after it. Returns 0 or a negative errno. */
static int resync(struct sw_tracelog_reader *r, uint64_t off, const char *why)
{
	int allzero;
	int64_t next = find_magic(r, off + 1, &allzero);

	if (next < 0)
		return (int)next;
	tl_damage(r, SW_TRACELOG_CORRUPT, off, (uint64_t)next - off, why);
	r->off = (uint64_t)next;
	return 0;
}

static void torn(struct sw_tracelog_reader *r, uint64_t off, const char *why)
{
	tl_damage(r, SW_TRACELOG_TORN, off, r->size - off, why);
	r->off = r->size;
}

/* Bytes at off that are not a block: torn if they are zeros to the end of the segment, corrupt
 * otherwise. */
static int bad_magic(struct sw_tracelog_reader *r, uint64_t off)
{
	int allzero;
	int64_t next;

	next = find_magic(r, off, &allzero);
	if (next < 0)
		return (int)next;
	if ((uint64_t)next == r->size && allzero) {
		torn(r, off, "zero-filled tail");
		return 0;
	}
	tl_damage(r, SW_TRACELOG_CORRUPT, off, (uint64_t)next - off, "no block magic");
	r->off = (uint64_t)next;
	return 0;
}

/* Checks that the inflated block is exactly `events` length-delimited messages. */
static int framing_ok(const uint8_t *p, size_t n, uint32_t events)
{
	size_t pos = 0, k;
	uint32_t len, i;

	for (i = 0; i < events; i++) {
		k = varint_get32(p + pos, n - pos, &len);
		if (!k || len > n - pos - k)
			return 0;
		pos += k + len;
	}
	return pos == n;
}

/* Reads the block at r->off. 1 = a block is ready, 0 = the segment ended, < 0 = error. */
int tl_load_block(struct sw_tracelog_reader *r)
{
	uint8_t pre[PRE_LEN], hdr[HDR_MAX];
	Sprawl__BlockHeader *h;
	uint64_t off, avail, total;
	uint32_t hlen, clen, rawlen, events, crc;
	ssize_t k;
	enum libdeflate_result zrc;
	size_t zin, zout;
	int err;

	/* Every pass moves r->off forward (a block, a skip, or to the end), so this ends. */
	while (r->off < r->size) {
		off = r->off;
		avail = r->size - off;
		k = tl_read_at(r->fd, pre, avail < PRE_LEN ? (size_t)avail : PRE_LEN, off);
		if (k < 0)
			return (int)k;
		if ((uint64_t)k < (avail < PRE_LEN ? avail : PRE_LEN)) {
			torn(r, off, "segment shrank while read");
			break;
		}
		if (memcmp(pre, magic, avail < sizeof(magic) ? (size_t)avail : sizeof(magic))) {
			err = bad_magic(r, off);
			if (err)
				return err;
			continue;
		}
		if (avail < PRE_LEN) {
			torn(r, off, "cut-short block preamble");
			break;
		}
		hlen = le32_get(pre + 4);
		if (!hlen || hlen > HDR_MAX) {
			err = resync(r, off, "bad header length");
			if (err)
				return err;
			continue;
		}
		if (avail < PRE_LEN + hlen) {
			torn(r, off, "cut-short block header");
			break;
		}
		k = tl_read_at(r->fd, hdr, hlen, off + PRE_LEN);
		if (k < 0)
			return (int)k;
		if ((uint32_t)k < hlen) {
			torn(r, off, "segment shrank while read");
			break;
		}
		if (libdeflate_crc32(0, hdr, hlen) != le32_get(pre + 8)) {
			err = resync(r, off, "bad header crc");
			if (err)
				return err;
			continue;
		}
		h = sprawl__block_header__unpack(NULL, hlen, hdr);
		if (!h) {
			err = resync(r, off, "undecodable header");
			if (err)
				return err;
			continue;
		}
		events = h->events;
		rawlen = h->raw_length;
		clen = h->compressed_length;
		crc = h->crc32;
		r->version = h->version;
		sprawl__block_header__free_unpacked(h, NULL);
		/* The header checked out: this is a trace in another format, not damage. */
		if (r->version != SW_TRACELOG_VERSION)
			return -EPROTONOSUPPORT;
		if (!events || rawlen < events || rawlen > SW_TRACELOG_BLOCK_RAW_MAX || !clen ||
		    rawlen > (uint64_t)clen * ZLIB_RATIO_MAX) {
			err = resync(r, off, "bad block lengths");
			if (err)
				return err;
			continue;
		}
		total = PRE_LEN + (uint64_t)hlen + clen;
		if (total > avail) {
			/* The header checked out, so its lengths are true: the data was cut short.
			 */
			torn(r, off, "cut-short block data");
			break;
		}
		err = tl_grow(&r->cbuf, &r->ccap, clen);
		if (err)
			return err;
		k = tl_read_at(r->fd, r->cbuf, clen, off + PRE_LEN + hlen);
		if (k < 0)
			return (int)k;
		if ((uint32_t)k < clen) {
			torn(r, off, "segment shrank while read");
			break;
		}
		/* From here on the block's extent is trusted: damage skips exactly this block. */
		r->off = off + total;
		if (libdeflate_crc32(0, r->cbuf, clen) != crc) {
			tl_damage(r, SW_TRACELOG_CORRUPT, off, total, "bad data crc");
			continue;
		}
		err = tl_grow(&r->raw, &r->rcap, rawlen);
		if (err)
			return err;
		/* Exactly clen bytes of zlib stream inflating to exactly rawlen bytes. */
		zrc = libdeflate_zlib_decompress_ex(r->zd, r->cbuf, clen, r->raw, rawlen, &zin,
						    &zout);
		if (zrc != LIBDEFLATE_SUCCESS || zout != rawlen || zin != clen) {
			tl_damage(r, SW_TRACELOG_CORRUPT, off, total, "bad zlib data");
			continue;
		}
		if (!framing_ok(r->raw, rawlen, events)) {
			tl_damage(r, SW_TRACELOG_CORRUPT, off, total, "bad event framing");
			continue;
		}
		r->rlen = rawlen;
		r->rpos = 0;
		r->left = events;
		r->block_off = off;
		r->block_len = total;
		r->st.blocks++;
		return 1;
	}
	return 0;
}
