// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target for the trace-log reader: the input is one segment file, read to the end
 * through a memfd. Every event handed out is checked against the reader's own promises
 * (redaction spans inside the record, the record rebuilt from its typed Event valid for
 * sw_event__decode). Inputs starting with "B!" are a recipe instead: a list
 * of (events, raw-length delta, length, raw bytes) that this target compresses and frames with
 * valid CRCs, so that the inflated contents - event framing, Event and Redaction decoding - are
 * fuzzed past the checksums random mutation rarely gets through. Built with -DSW_FUZZ_SEEDGEN
 * instead, this file is a program that writes seed segments with the real writer into the directory
 * it is given. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <zlib.h>

#include "event.h"
#include "sprawl.pb-c.h"
#include "tracelog.h"
#include "tracerec.h"

#ifndef SW_FUZZ_SEEDGEN

#define RECIPE_MAX (1u << 17)

/* Builds a segment from a recipe into out; returns its length. */
static size_t from_recipe(const uint8_t *d, size_t n, uint8_t *out, size_t cap)
{
	Sprawl__BlockHeader h;
	uint8_t hdr[64];
	size_t pos = 0, o = 0, hlen, raw;
	uLongf clen;
	uint32_t crc;

	while (pos + 4 <= n) {
		raw = (size_t)d[pos + 2] | (size_t)d[pos + 3] << 8;
		if (raw > n - pos - 4)
			raw = n - pos - 4;
		clen = compressBound(raw);
		if (o + 12 + sizeof(hdr) + clen > cap)
			break;
		if (compress(out + o + 12 + sizeof(hdr), &clen, d + pos + 4, raw) != Z_OK)
			abort();
		sprawl__block_header__init(&h);
		h.version = SW_TRACELOG_VERSION;
		h.events = d[pos];
		h.raw_length = (uint32_t)raw + (uint32_t)(int8_t)d[pos + 1];
		h.compressed_length = (uint32_t)clen;
		h.crc32 = (uint32_t)crc32(0, out + o + 12 + sizeof(hdr), (uInt)clen);
		hlen = sprawl__block_header__pack(&h, hdr);
		memmove(out + o + 12 + hlen, out + o + 12 + sizeof(hdr), clen);
		memcpy(out + o, "SWTB", 4);
		out[o + 4] = (uint8_t)hlen;
		out[o + 5] = out[o + 6] = out[o + 7] = 0;
		crc = (uint32_t)crc32(0, hdr, (uInt)hlen);
		memcpy(out + o + 8, &crc, 4);
		memcpy(out + o + 12, hdr, hlen);
		o += 12 + hlen + clen;
		pos += 4 + raw;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t built[RECIPE_MAX * 2];
	static int mfd = -1;
	struct sw_tracelog_reader *r;
	const struct sw_redaction *red;
	const uint8_t *rec;
	struct sw_tracelog_read_stats st;
	size_t len, nred, i;
	uint64_t kt, n = 0;
	volatile uint8_t sink = 0;
	int rc, fd;

	if (mfd < 0) {
		mfd = memfd_create("fuzz_tracelog", MFD_CLOEXEC);
		if (mfd < 0)
			abort();
	}
	if (size >= 2 && data[0] == 'B' && data[1] == '!') {
		size = from_recipe(data + 2, size - 2 < RECIPE_MAX ? size - 2 : RECIPE_MAX, built,
				   sizeof(built));
		data = built;
	}
	if (ftruncate(mfd, 0) || (size && pwrite(mfd, data, size, 0) != (ssize_t)size))
		abort();
	fd = dup(mfd);
	if (fd < 0)
		abort();
	r = sw_tracelog_reader__open_fd(fd, "fuzz");
	if (!r) {
		if (errno != EBADMSG)
			abort();
		return 0;
	}
	while ((rc = sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred)) == 1) {
		struct sw_event ev;

		if (sw_event__decode(rec, len, &ev) || ev.hdr->size != len || ev.hdr->ktime != kt)
			abort();
		for (i = 0; i < nred; i++)
			if (red[i].offset > len || red[i].length > len - red[i].offset)
				abort();
		if (len)
			sink ^= rec[0] ^ rec[len - 1];
		n++;
	}
	(void)sink;
	/* Damage is never an error; only memory can fail here, or a block header (CRC-valid)
	 * can name another format. */
	if (rc < 0 && rc != -ENOMEM && rc != -EPROTONOSUPPORT)
		abort();
	sw_tracelog_reader__stats(r, &st);
	if (st.events != n || st.skipped_bytes > size)
		abort();
	sw_tracelog_reader__free(r);
	return 0;
}

#else

/* A data record of len bytes (at least the fixed part) whose data is text. */
static size_t data_rec(uint8_t *rec, size_t len, uint64_t ktime)
{
	struct sw_data_rec d = {.hdr = {.type = SW_EV_DATA, .size = (uint32_t)len, .ktime = ktime}};
	size_t i;

	d.data_len = (uint32_t)(len - sizeof(d));
	for (i = sizeof(d); i < len; i++)
		rec[i] = (uint8_t)("abcdefgh 0123\n"[i % 14]);
	memcpy(rec, &d, sizeof(d));
	return len;
}

/* An exec record with argv and environment. */
static size_t exec_rec(uint8_t *rec)
{
	static const char tail[] = "/bin/shsh\0-c\0echo **\0A=1\0";
	struct sw_exec_rec x = {.hdr = {.type = SW_EV_EXEC, .ktime = 9, .comm = "sh"}};

	x.filename_len = 7;
	x.args_len = 3 + 3 + 8;
	x.env_len = 4;
	x.hdr.size = (uint32_t)(sizeof(x) + sizeof(tail) - 1);
	memcpy(rec, &x, sizeof(x));
	memcpy(rec + sizeof(x), tail, sizeof(tail) - 1);
	return x.hdr.size;
}

/* Seeds: a few small segments covering redactions and several blocks, written by the real
 * writer, and a recipe ("B!" + events, raw-length delta, u16 LE length, raw bytes) of two
 * typed Events, the second with a redaction. */
int main(int argc, char **argv)
{
	struct sw_tracelog_opts o = {.max_segment_bytes = 1 << 20, .max_segments = 1000};
	struct sw_redaction rd[3] = {
		{.offset = 185, .length = 3, .secret_id = {1, 2, 3, 4, 5, 6, 7, 8}, .variant = 1},
		{.offset = 186, .length = 6, .secret_id = {8, 7, 6, 5, 4, 3, 2, 1}, .variant = 7},
		{.offset = 0, .length = 0, .secret_id = {0}, .variant = 0},
	};
	struct sw_tracelog_writer *w;
	struct sw_tracerec *t;
	const Sprawl__Event *ev;
	uint8_t rec[600], raw[2048];
	unsigned int s, i;
	size_t len, n = 0, k;
	char path[4096];
	FILE *f;

	if (argc != 2)
		return EXIT_FAILURE;
	o.dir = argv[1];
	for (s = 0; s < 4; s++) {
		o.block_bytes = s == 3 ? 64 : 4096;
		w = sw_tracelog_writer__new(&o);
		if (!w)
			return EXIT_FAILURE;
		for (i = 0; i < 4 + s * 3; i++) {
			len = i == 2 ? exec_rec(rec)
				     : data_rec(rec,
						sizeof(struct sw_data_rec) + (i * 37 + s) % 300, i);
			if (sw_tracelog_writer__append(w, rec, len, i, rd,
						       len >= 200 && i != 2 ? (i + s) % 4 : 0))
				return EXIT_FAILURE;
		}
		if (sw_tracelog_writer__flush(w))
			return EXIT_FAILURE;
		sw_tracelog_writer__free(w);
	}
	t = sw_tracerec__new();
	for (i = 0; t && i < 2; i++) {
		len = i ? data_rec(rec, 200, 7) : exec_rec(rec);
		if (sw_tracerec__to_event(t, rec, len, rd, i, &ev))
			return EXIT_FAILURE;
		k = sprawl__event__get_packed_size(ev);
		raw[n++] = (uint8_t)k; /* one-byte varints: both are under 128 bytes */
		n += sprawl__event__pack(ev, raw + n);
	}
	sw_tracerec__free(t);
	snprintf(path, sizeof(path), "%s/recipe", argv[1]);
	f = fopen(path, "wb");
	if (!f || fprintf(f, "B!%c%c%c%c", 2, 0, (int)(n & 0xff), (int)(n >> 8)) != 6 ||
	    fwrite(raw, 1, n, f) != n || fclose(f))
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

#endif
