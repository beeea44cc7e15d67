// SPDX-License-Identifier: Apache-2.0
/* Trace log: round trip across blocks and segments, rotation, redaction (the file never holds a
 * span's plaintext, compressed or not), torn tails cut at every byte, corrupt middle blocks
 * flipped at every byte, lying length fields, empty and foreign inputs, throughput.
 * SW_TRACELOG_BENCH=1 runs the throughput test with 100k records instead of a smoke-sized one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <sodium.h>
#include <zlib.h>

#include "sprawl.pb-c.h"
#include "sprawl_events.h"
#include "testutil.h"
#include "tracelog.h"

#define PRE_LEN 12

struct ctx {
	char dir[64];
};

static void rm_tree(const char *path)
{
	struct dirent *d;
	char p[512];
	DIR *dir = opendir(path);

	while (dir && (d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, d->d_name);
		if (unlink(p))
			rm_tree(p);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	snprintf(c->dir, sizeof(c->dir), "/tmp/sw-tracelog-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	rm_tree(c->dir);
	free(c);
	return 0;
}

/* ---- helpers ---- */

#define DREC sizeof(struct sw_data_rec)

/* Makes buf[0..len) a data record whose data is what follows the fixed part (len >= DREC). */
static void mkrec(uint8_t *buf, size_t len, uint64_t ktime)
{
	struct sw_data_rec d = {.hdr = {.type = SW_EV_DATA, .size = (uint32_t)len, .ktime = ktime}};

	d.data_len = (uint32_t)(len - DREC);
	d.fd = 3;
	d.art_kind = SW_AK_FILE;
	memcpy(buf, &d, sizeof(d));
}

/* Record i: a data record of text-like bytes (words and numbers), deterministic in i. */
static size_t gen_record(uint64_t i, uint8_t *buf, size_t max)
{
	static const char *const words[] = {"const", "return", "the",  "secret", "export", "{",
					    "}",     "import", "def",  "=",	 "\n\t",   "api",
					    "token", "value",  "json", "GET /",	 "200 OK", ";"};
	struct rng r = {i * 7919 + 1};
	struct sw_hdr *h = (struct sw_hdr *)buf;
	size_t len = rng_range(&r, DREC, max), pos;
	const char *w;
	int k;

	mkrec(buf, len, i);
	h->pid = (uint32_t)(i % 977);
	h->tgid = (uint32_t)(i % 131);
	for (pos = DREC; pos < len;) {
		if (rng_next(&r) % 4 == 0) {
			char num[24];

			k = snprintf(num, sizeof(num), "%llu ",
				     (unsigned long long)rng_next(&r) % 100000);
			w = num;
			k = (int)(len - pos < (size_t)k ? len - pos : (size_t)k);
			memcpy(buf + pos, w, (size_t)k);
		} else {
			w = words[rng_next(&r) % (sizeof(words) / sizeof(words[0]))];
			k = (int)strlen(w);
			k = (int)(len - pos < (size_t)k ? len - pos : (size_t)k);
			memcpy(buf + pos, w, (size_t)k);
		}
		pos += (size_t)k;
	}
	return len;
}

static void fill_id(uint8_t id[8], uint64_t v)
{
	memcpy(id, &v, 8);
}

static size_t count_segments(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	size_t n = 0;

	while (dp && (d = readdir(dp)))
		if (!strncmp(d->d_name, "trace-", 6))
			n++;
	if (dp)
		closedir(dp);
	return n;
}

/* The path of the only (or first in name order) segment in dir. */
static void first_segment(const char *dir, char *out, size_t n)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	char best[256] = "";

	while (dp && (d = readdir(dp)))
		if (!strncmp(d->d_name, "trace-", 6) && (!best[0] || strcmp(d->d_name, best) < 0))
			snprintf(best, sizeof(best), "%s", d->d_name);
	if (dp)
		closedir(dp);
	assert_true(best[0]);
	snprintf(out, n, "%s/%s", dir, best);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spit(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

struct damage_log {
	int n;
	enum sw_tracelog_damage kind;
	uint64_t off, skipped;
	char seg[256];
};

static void on_damage(void *ctx, enum sw_tracelog_damage kind, const char *segment, uint64_t off,
		      uint64_t skipped, const char *why)
{
	struct damage_log *d = ctx;

	assert_non_null(why);
	if (!d->n++) {
		d->kind = kind;
		d->off = off;
		d->skipped = skipped;
		snprintf(d->seg, sizeof(d->seg), "%s", segment);
	}
}

/* Reads everything under path; returns the event count (asserting no error) and the stats. */
static uint64_t read_all(const char *path, struct sw_tracelog_read_stats *st, struct damage_log *d)
{
	struct sw_tracelog_reader *r = sw_tracelog_reader__open(path);
	const struct sw_redaction *red;
	const uint8_t *rec;
	uint64_t n = 0, kt;
	size_t len, nred;
	int rc;

	assert_non_null(r);
	if (d)
		sw_tracelog_reader__set_damage_cb(r, on_damage, d);
	while ((rc = sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred)) == 1)
		n++;
	assert_int_equal(rc, 0);
	sw_tracelog_reader__stats(r, st);
	assert_int_equal(st->events, n);
	sw_tracelog_reader__free(r);
	return n;
}

/* Writes one block with valid CRCs around whatever header and data the test wants. */
static size_t make_block(uint8_t *out, const Sprawl__BlockHeader *h, const uint8_t *data,
			 size_t dlen)
{
	size_t hlen = sprawl__block_header__get_packed_size(h);
	uint8_t hdr[64];
	uint32_t crc;

	sprawl__block_header__pack(h, hdr);
	memcpy(out, "SWTB", 4);
	memcpy(out + 4, &(uint32_t){(uint32_t)hlen}, 4);
	crc = (uint32_t)crc32(0, hdr, (uInt)hlen);
	memcpy(out + 8, &crc, 4);
	memcpy(out + PRE_LEN, hdr, hlen);
	memcpy(out + PRE_LEN + hlen, data, dlen);
	return PRE_LEN + hlen + dlen;
}

/* ---- tests ---- */

static void test_round_trip(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir,
				     .max_segment_bytes = 64 << 10,
				     .max_segments = 1000,
				     .block_bytes = 16 << 10};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	uint8_t *buf = malloc(8192), *exp = malloc(8192);
	struct sw_redaction rd[3];
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_stats ws;
	struct sw_tracelog_reader *r;
	const struct sw_redaction *red;
	const uint8_t *rec;
	size_t len, nred, n, nr, k;
	uint64_t i, kt, N = 3000;
	struct stat st;
	char seg[512];

	assert_non_null(w);
	for (i = 0; i < N; i++) {
		n = gen_record(i, buf, 6000);
		nr = 0;
		if (n > 300 && i % 3 == 0) {
			rd[0] = (struct sw_redaction){.offset = 260, .length = 20, .variant = 3};
			fill_id(rd[0].secret_id, i);
			nr = 1;
		}
		assert_int_equal(sw_tracelog_writer__append(w, buf, n, i * 1000 + 7, rd, nr), 0);
		if (i % 500 == 0)
			assert_int_equal(sw_tracelog_writer__flush(w), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &ws);
	sw_tracelog_writer__free(w);
	assert_true(ws.blocks > 50);
	assert_true(ws.segments_rotated > 5);
	assert_int_equal(ws.events_dropped, 0);
	assert_true(ws.bytes_compressed < ws.bytes_raw);

	/* Private: dir 0700, files 0600. */
	assert_int_equal(stat(c->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	first_segment(c->dir, seg, sizeof(seg));
	assert_int_equal(stat(seg, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	r = sw_tracelog_reader__open(c->dir);
	assert_non_null(r);
	for (i = 0; i < N; i++) {
		assert_int_equal(sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred), 1);
		n = gen_record(i, exp, 6000);
		assert_int_equal(len, n);
		assert_int_equal(kt, i); /* the record's own time */
		if (n > 300 && i % 3 == 0) {
			assert_int_equal(nred, 1);
			assert_int_equal(red[0].offset, 260);
			assert_int_equal(red[0].length, 20);
			assert_int_equal(red[0].variant, 3);
			fill_id(rd[0].secret_id, i);
			assert_memory_equal(red[0].secret_id, rd[0].secret_id, 8);
			for (k = 260; k < 280; k++)
				exp[k] = SW_TRACELOG_FILLER;
		} else {
			assert_int_equal(nred, 0);
		}
		assert_memory_equal(rec, exp, n);
	}
	assert_int_equal(sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred), 0);
	assert_int_equal(sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred), 0);
	sw_tracelog_reader__stats(r, &rs);
	assert_int_equal(rs.events, N);
	assert_int_equal(rs.blocks, ws.blocks);
	assert_int_equal(rs.segments, count_segments(c->dir));
	assert_int_equal(rs.torn_blocks + rs.corrupt_blocks + rs.skipped_bytes, 0);
	sw_tracelog_reader__free(r);
	sw_tracelog_reader__free(NULL);
	sw_tracelog_writer__free(NULL);
	free(buf);
	free(exp);
}

/* A block holds typed Events: inflated with plain zlib, each decodes with the .proto alone. */
static void test_event_fields(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	const char tail[] = "/usr/bin/envcurl\0-H\0x\0A=1\0";
	uint8_t rec[256] = {0}, *file, *raw = malloc(1 << 16);
	struct sw_exec_rec *x = (void *)rec;
	uLongf rawlen = 1 << 16;
	size_t flen, hlen;
	Sprawl__BlockHeader *bh;
	Sprawl__Event *ev;
	char seg[512];

	x->hdr = (struct sw_hdr){.type = SW_EV_EXEC,
				 .flags = SW_F_NEW_SESSION,
				 .size = (uint32_t)(sizeof(*x) + sizeof(tail) - 1),
				 .ktime = 5,
				 .pid = 11,
				 .tgid = 12,
				 .ppid = 13,
				 .uid = 1000,
				 .session_id = 99,
				 .comm = "curl"};
	x->filename_len = 12;
	x->args_len = 5 + 3 + 2;
	x->env_len = 4;
	memcpy(rec + sizeof(*x), tail, sizeof(tail) - 1);
	assert_non_null(w);
	assert_int_equal(sw_tracelog_writer__append(w, rec, x->hdr.size, 5, NULL, 0), 0);
	sw_tracelog_writer__free(w);
	first_segment(c->dir, seg, sizeof(seg));
	file = slurp(seg, &flen);
	hlen = file[4];
	bh = sprawl__block_header__unpack(NULL, hlen, file + PRE_LEN);
	assert_non_null(bh);
	assert_int_equal(bh->version, SW_TRACELOG_VERSION);
	assert_int_equal(bh->version, 2);
	assert_int_equal(bh->events, 1);
	assert_int_equal(bh->first_ktime, 5);
	assert_int_equal(flen, PRE_LEN + hlen + bh->compressed_length);
	assert_int_equal(uncompress(raw, &rawlen, file + PRE_LEN + hlen, bh->compressed_length),
			 Z_OK);
	assert_int_equal(rawlen, bh->raw_length);
	ev = sprawl__event__unpack(NULL, raw[0], raw + 1);
	assert_non_null(ev);
	assert_int_equal(ev->record_case, SPRAWL__EVENT__RECORD_EXEC);
	assert_int_equal(ev->hdr->flags, SW_F_NEW_SESSION);
	assert_int_equal(ev->hdr->pid, 11);
	assert_int_equal(ev->hdr->tgid, 12);
	assert_int_equal(ev->hdr->ppid, 13);
	assert_int_equal(ev->hdr->uid, 1000);
	assert_int_equal(ev->hdr->session_id, 99);
	assert_int_equal(ev->hdr->ktime, 5);
	assert_int_equal(ev->hdr->comm.len, 4);
	assert_memory_equal(ev->exec->filename.data, "/usr/bin/env", 12);
	assert_int_equal(ev->exec->n_argv, 3);
	assert_memory_equal(ev->exec->argv[1].data, "-H", 2);
	assert_int_equal(ev->exec->n_env, 1);
	assert_memory_equal(ev->exec->env[0].data, "A=1", 3);
	sprawl__event__free_unpacked(ev, NULL);
	sprawl__block_header__free_unpacked(bh, NULL);
	free(file);
	free(raw);
}

static void test_rotation(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {
		.dir = c->dir, .max_segment_bytes = 4096, .max_segments = 3, .block_bytes = 1024};
	struct sw_tracelog_writer *w;
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_reader *r;
	const struct sw_redaction *red;
	const uint8_t *rec;
	struct sw_tracelog_stats ws;
	uint64_t i, kt, prev = 0, first = 0, n = 0;
	uint8_t buf[600];
	size_t len, nred;
	int round;

	for (round = 0; round < 2; round++) {
		w = sw_tracelog_writer__new(&o);
		assert_non_null(w);
		for (i = 0; i < 400; i++) {
			uint64_t id = (uint64_t)round * 1000 + i;

			rng_fill(&(struct rng){id + 1}, buf, sizeof(buf));
			mkrec(buf, sizeof(buf), id);
			assert_int_equal(
				sw_tracelog_writer__append(w, buf, sizeof(buf), id, NULL, 0), 0);
		}
		assert_int_equal(sw_tracelog_writer__flush(w), 0);
		sw_tracelog_writer__stats(w, &ws);
		sw_tracelog_writer__free(w);
		assert_true(ws.segments_rotated >= 30);
		assert_true(ws.segments_deleted >= 30);
		assert_true(count_segments(c->dir) <= 3);
	}
	assert_int_equal(count_segments(c->dir), 3);

	/* What is left is the newest events, in order and without gaps, ending with the last. */
	r = sw_tracelog_reader__open(c->dir);
	assert_non_null(r);
	while (sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred) == 1) {
		assert_int_equal(len, sizeof(buf));
		if (n++)
			assert_int_equal(kt, prev + 1);
		else
			first = kt;
		prev = kt;
	}
	assert_true(n > 3);
	assert_int_equal(prev, 1399);
	assert_true(first > 1000);
	sw_tracelog_reader__stats(r, &rs);
	assert_int_equal(rs.segments, 3);
	assert_int_equal(rs.torn_blocks + rs.corrupt_blocks, 0);
	sw_tracelog_reader__free(r);
}

/* Retention by total size and by age, beside the count. */
static void test_retention(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir,
				     .max_segment_bytes = 8192,
				     .max_segments = 1000,
				     .block_bytes = 2048,
				     .max_total_bytes = 64 << 10};
	struct sw_tracelog_writer *w;
	struct sw_tracelog_stats ws;
	struct timespec ts;
	uint64_t now, total = 0, i;
	uint8_t buf[1500];
	struct dirent *d;
	struct stat st;
	char path[512];
	DIR *dp;

	w = sw_tracelog_writer__new(&o);
	assert_non_null(w);
	for (i = 0; i < 2000; i++) {
		rng_fill(&(struct rng){i + 1}, buf, sizeof(buf)); /* incompressible */
		mkrec(buf, sizeof(buf), i);
		assert_int_equal(sw_tracelog_writer__append(w, buf, sizeof(buf), i, NULL, 0), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &ws);
	sw_tracelog_writer__free(w);
	assert_true(ws.segments_deleted > 100);
	dp = opendir(c->dir);
	while ((d = readdir(dp))) {
		snprintf(path, sizeof(path), "%s/%s", c->dir, d->d_name);
		if (!strncmp(d->d_name, "trace-", 6) && !stat(path, &st))
			total += (uint64_t)st.st_size;
	}
	closedir(dp);
	/* Within the bound, give or take the open segment's last block. */
	assert_true(total <= (64 << 10) + 8192 + 2048);
	assert_true(total >= (64 << 10) - 8192 - 2048);

	/* Age: a segment goes once the next one was opened before the bound, i.e. all its records
	 * are older; the newest old one stays (it may hold records up to the next one). */
	rm_tree(c->dir);
	assert_int_equal(mkdir(c->dir, 0700), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u;
	const uint64_t ages_h[] = {240, 216, 130, 1};
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/trace-%016llu-%08llu.swt", c->dir,
			 (unsigned long long)(now - ages_h[i] * 3600000000ull),
			 (unsigned long long)i);
		spit(path, "", 0);
	}
	o = (struct sw_tracelog_opts){.dir = c->dir, .max_age_s = 5 * 24 * 3600};
	w = sw_tracelog_writer__new(&o);
	assert_non_null(w);
	mkrec(buf, 300, 1);
	assert_int_equal(sw_tracelog_writer__append(w, buf, 300, 1, NULL, 0), 0);
	assert_int_equal(sw_tracelog_writer__flush(w), 0); /* opens a segment: retention runs */
	sw_tracelog_writer__stats(w, &ws);
	sw_tracelog_writer__free(w);
	assert_int_equal(ws.segments_deleted, 2);
	assert_int_equal(count_segments(c->dir), 3);
}

/* Data that does not compress is stored as it is (a zlib stream all the same) and reads back;
 * text after it is compressed again. */
static void test_incompressible(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir, .block_bytes = 64 << 10};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_stats a, b;
	uint8_t buf[3000];
	uint64_t i;

	assert_non_null(w);
	for (i = 0; i < 200; i++) {
		rng_fill(&(struct rng){i + 1}, buf, sizeof(buf));
		mkrec(buf, sizeof(buf), i);
		assert_int_equal(sw_tracelog_writer__append(w, buf, sizeof(buf), i, NULL, 0), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &a);
	/* Stored blocks cost a few bytes of framing each, nothing more. */
	assert_true(a.bytes_compressed > a.bytes_raw);
	assert_true(a.bytes_compressed < a.bytes_raw + a.bytes_raw / 100);
	for (i = 200; i < 3000; i++) {
		size_t n = gen_record(i, buf, sizeof(buf));

		assert_int_equal(sw_tracelog_writer__append(w, buf, n, i, NULL, 0), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &b);
	sw_tracelog_writer__free(w);
	assert_true((b.bytes_compressed - a.bytes_compressed) * 4 <
		    (b.bytes_raw - a.bytes_raw) * 3);
	assert_int_equal(read_all(c->dir, &rs, NULL), 3000);
	assert_int_equal(rs.torn_blocks + rs.corrupt_blocks, 0);
}

/* flush_soon only asks: the writer thread writes and fsyncs the open block on its own (the
 * caller's thread makes no further call), and everything is in the segment after free. */
static void test_flush_soon(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_stats ws;
	uint8_t buf[2000];
	uint64_t i;
	int tries;

	assert_non_null(w);
	for (i = 0; i < 50; i++) {
		size_t n = gen_record(i, buf, sizeof(buf));

		assert_int_equal(sw_tracelog_writer__append(w, buf, n, i, NULL, 0), 0);
	}
	sw_tracelog_writer__stats(w, &ws);
	assert_int_equal(ws.events, 0); /* one open block, under block_bytes */
	assert_int_equal(sw_tracelog_writer__flush_soon(w), 0);
	for (tries = 0; tries < 500; tries++) {
		sw_tracelog_writer__stats(w, &ws);
		if (ws.events == 50)
			break;
		usleep(10000);
	}
	assert_int_equal(ws.events, 50);
	assert_int_equal(ws.blocks, 1);
	assert_int_equal(read_all(c->dir, &rs, NULL), 50);
	sw_tracelog_writer__free(w);
	assert_int_equal(read_all(c->dir, &rs, NULL), 50);
}

/* Compressing stops once SW_TRACELOG_COMPRESS_PER_SEC raw bytes were compressed within one second
 * of record time; the rest of that second is stored, and the next second compresses again. */
static void test_compress_budget(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir, .block_bytes = 256 << 10};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_stats a, b;
	uint8_t buf[6000];
	uint64_t i, n = 0, sec = 1000000000ull;
	size_t len;

	assert_non_null(w);
	/* Three budgets' worth of text, all in second 5 of record time. */
	for (i = 0; n < 3ull * SW_TRACELOG_COMPRESS_PER_SEC; i++) {
		len = gen_record(i, buf, sizeof(buf));
		n += len;
		assert_int_equal(sw_tracelog_writer__append(w, buf, len, 5 * sec + i, NULL, 0), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &a);
	/* About a third compressed (to well under half), two thirds stored as they are. */
	assert_true(a.bytes_compressed > a.bytes_raw * 2 / 3);
	assert_true(a.bytes_compressed < a.bytes_raw * 5 / 6);
	/* The next second compresses again. */
	for (n = 0; n < SW_TRACELOG_COMPRESS_PER_SEC / 2; i++) {
		len = gen_record(i, buf, sizeof(buf));
		n += len;
		assert_int_equal(sw_tracelog_writer__append(w, buf, len, 6 * sec + i, NULL, 0), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &b);
	sw_tracelog_writer__free(w);
	assert_true((b.bytes_compressed - a.bytes_compressed) * 2 < b.bytes_raw - a.bytes_raw);
	assert_int_equal(read_all(c->dir, &rs, NULL), i);
	assert_int_equal(rs.torn_blocks + rs.corrupt_blocks, 0);
}

/* Writes records holding a secret in several encodings, redacted, and checks that no byte of the
 * file, compressed or inflated, holds any of them. */
static void test_redaction(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_opts o = {.dir = c->dir, .block_bytes = 8192};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	uint8_t secret[40], rec[2048], exp[2048], *file, *raw;
	char forms[N_FORMS][128];
	size_t flen, flens[N_FORMS], pos, hlen = 0, clen = 0, vi, i, nr, len, nred;
	struct sw_redaction rd[8];
	struct rng rg = {4242};
	const struct sw_redaction *red;
	const uint8_t *out;
	struct sw_tracelog_reader *r;
	uint64_t kt, blocks = 0, events = 0;
	Sprawl__BlockHeader *bh;
	uLongf rawlen;
	char seg[512];

	assert_non_null(w);
	gen_secret(&rg, GEN_PREFIXED, secret, sizeof(secret));
	for (vi = 0; vi < N_FORMS; vi++)
		flens[vi] = form_text(secret, sizeof(secret), (int)vi, forms[vi]);

	/* A span outside the record is refused and nothing is stored. */
	memset(rec, 'a', 100);
	rd[0] = (struct sw_redaction){.offset = 90, .length = 11};
	assert_int_equal(sw_tracelog_writer__append(w, rec, 100, 1, rd, 1), -EINVAL);
	rd[0] = (struct sw_redaction){.offset = UINT32_MAX, .length = 2};
	assert_int_equal(sw_tracelog_writer__append(w, rec, 100, 1, rd, 1), -EINVAL);

	for (i = 0; i < 200; i++) {
		/* Filler text, then the forms at random offsets; some spans overlap. */
		rng_fill(&rg, rec, sizeof(rec));
		for (pos = 0; pos < sizeof(rec); pos++)
			rec[pos] = (uint8_t)('a' + rec[pos] % 26);
		mkrec(rec, sizeof(rec), i);
		nr = 0;
		for (vi = i % N_FORMS; nr < 4; vi = (vi + 3) % N_FORMS) {
			pos = rng_range(&rg, DREC, sizeof(rec) - flens[vi]);
			memcpy(rec + pos, forms[vi], flens[vi]);
			rd[nr] = (struct sw_redaction){.offset = (uint32_t)pos,
						       .length = (uint32_t)flens[vi],
						       .variant = form_variant((int)vi)};
			fill_id(rd[nr].secret_id, 0x5ec0000 + vi);
			nr++;
		}
		/* Spans written later may have overwritten part of earlier ones; all are redacted
		 * anyway. Also a secret at both ends of the record. */
		memcpy(rec + DREC, secret, sizeof(secret));
		rd[nr++] = (struct sw_redaction){.offset = DREC, .length = sizeof(secret)};
		memcpy(rec + sizeof(rec) - sizeof(secret), secret, sizeof(secret));
		rd[nr++] = (struct sw_redaction){.offset = sizeof(rec) - sizeof(secret),
						 .length = sizeof(secret)};
		rd[nr++] = (struct sw_redaction){.offset = 5, .length = 0};
		assert_int_equal(sw_tracelog_writer__append(w, rec, sizeof(rec), i, rd, nr), 0);
	}
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__free(w);

	first_segment(c->dir, seg, sizeof(seg));
	file = slurp(seg, &flen);
	raw = malloc(1 << 20);
	for (vi = 0; vi < N_FORMS; vi++)
		assert_null(memmem(file, flen, forms[vi], flens[vi]));
	/* Inflate every block independently of the reader and look again. */
	for (pos = 0; pos < flen; pos += PRE_LEN + hlen + clen) {
		assert_memory_equal(file + pos, "SWTB", 4);
		hlen = file[pos + 4];
		bh = sprawl__block_header__unpack(NULL, hlen, file + pos + PRE_LEN);
		assert_non_null(bh);
		clen = bh->compressed_length;
		rawlen = 1 << 20;
		assert_int_equal(uncompress(raw, &rawlen, file + pos + PRE_LEN + hlen, clen), Z_OK);
		assert_int_equal(rawlen, bh->raw_length);
		for (vi = 0; vi < N_FORMS; vi++)
			assert_null(memmem(raw, rawlen, forms[vi], flens[vi]));
		events += bh->events;
		blocks++;
		sprawl__block_header__free_unpacked(bh, NULL);
	}
	assert_int_equal(events, 200);
	assert_true(blocks > 1);

	/* The reader gives the filled record and every span back. */
	r = sw_tracelog_reader__open(c->dir);
	assert_non_null(r);
	i = 0;
	while (sw_tracelog_reader__next(r, &out, &len, &kt, &red, &nred) == 1) {
		assert_int_equal(len, sizeof(rec));
		assert_int_equal(nred, 7);
		memcpy(exp, out, len);
		for (nr = 0; nr < nred; nr++)
			for (pos = red[nr].offset; pos < red[nr].offset + red[nr].length; pos++)
				assert_int_equal(out[pos], SW_TRACELOG_FILLER);
		assert_int_equal(red[0].secret_id[0], (uint8_t)(0x5ec0000 + i % N_FORMS));
		assert_int_equal(red[0].variant, form_variant((int)(i % N_FORMS)));
		for (vi = 0; vi < N_FORMS; vi++)
			assert_null(memmem(out, len, forms[vi], flens[vi]));
		i++;
	}
	assert_int_equal(i, 200);
	sw_tracelog_reader__free(r);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(forms, sizeof(forms));
	free(file);
	free(raw);
}

/* Writes blocks of known size to one segment; returns the offsets where each block starts. */
static size_t write_blocks(const char *dir, const size_t *events_per_block, size_t nblocks,
			   uint64_t *offs)
{
	struct sw_tracelog_opts o = {.dir = dir, .block_bytes = 1 << 20};
	struct sw_tracelog_writer *w = sw_tracelog_writer__new(&o);
	struct sw_tracelog_stats ws;
	uint8_t buf[400];
	uint64_t id = 0;
	size_t b, e, total = 0;

	assert_non_null(w);
	for (b = 0; b < nblocks; b++) {
		sw_tracelog_writer__stats(w, &ws);
		offs[b] = ws.bytes_compressed;
		for (e = 0; e < events_per_block[b]; e++, id++) {
			size_t n = gen_record(id, buf, sizeof(buf));

			assert_int_equal(sw_tracelog_writer__append(w, buf, n, id, NULL, 0), 0);
		}
		assert_int_equal(sw_tracelog_writer__flush(w), 0);
		total += events_per_block[b];
	}
	sw_tracelog_writer__stats(w, &ws);
	offs[nblocks] = ws.bytes_compressed;
	sw_tracelog_writer__free(w);
	return total;
}

static void test_torn_last_block(void **state)
{
	struct ctx *c = *state;
	const size_t epb[] = {20, 30, 2};
	struct sw_tracelog_read_stats rs;
	struct damage_log d;
	uint64_t offs[4], cut, n;
	char seg[512];

	write_blocks(c->dir, epb, 3, offs);
	first_segment(c->dir, seg, sizeof(seg));
	/* Every cut inside the last block, longest first: the first two blocks' events, one torn
	 * block, never an error. */
	for (cut = offs[3] - 1; cut > offs[2]; cut--) {
		assert_int_equal(truncate(seg, (off_t)cut), 0);
		memset(&d, 0, sizeof(d));
		n = read_all(c->dir, &rs, &d);
		assert_int_equal(n, 50);
		assert_int_equal(rs.blocks, 2);
		assert_int_equal(rs.torn_blocks, 1);
		assert_int_equal(rs.corrupt_blocks, 0);
		assert_int_equal(rs.skipped_bytes, cut - offs[2]);
		assert_int_equal(d.n, 1);
		assert_int_equal(d.kind, SW_TRACELOG_TORN);
		assert_int_equal(d.off, offs[2]);
		assert_string_equal(d.seg, seg);
		/* The single-file path too. */
		n = read_all(seg, &rs, NULL);
		assert_int_equal(n, 50);
		assert_int_equal(rs.torn_blocks, 1);
	}
	/* Cut exactly at a block boundary: nothing torn. */
	assert_int_equal(truncate(seg, (off_t)offs[2]), 0);
	assert_int_equal(read_all(c->dir, &rs, NULL), 50);
	assert_int_equal(rs.torn_blocks + rs.corrupt_blocks, 0);
	/* A zero-filled tail (what a crash can leave) is torn too. */
	assert_int_equal(truncate(seg, (off_t)offs[2] + 777), 0);
	assert_int_equal(read_all(c->dir, &rs, NULL), 50);
	assert_int_equal(rs.torn_blocks, 1);
	assert_int_equal(rs.corrupt_blocks, 0);
}

/* After a crash the next writer starts a new segment: the torn tail stays in the old one. */
static void test_torn_then_restart(void **state)
{
	struct ctx *c = *state;
	const size_t epb[] = {10, 10};
	struct sw_tracelog_opts o = {.dir = c->dir};
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_writer *w;
	uint64_t offs[3];
	char seg[512];

	write_blocks(c->dir, epb, 2, offs);
	first_segment(c->dir, seg, sizeof(seg));
	assert_int_equal(truncate(seg, (off_t)offs[2] - 5), 0);
	w = sw_tracelog_writer__new(&o);
	assert_non_null(w);
	{
		uint8_t buf[DREC + 1];

		mkrec(buf, sizeof(buf), 1);
		assert_int_equal(sw_tracelog_writer__append(w, buf, sizeof(buf), 1, NULL, 0), 0);
	}
	sw_tracelog_writer__free(w);
	assert_int_equal(count_segments(c->dir), 2);
	assert_int_equal(read_all(c->dir, &rs, NULL), 11);
	assert_int_equal(rs.torn_blocks, 1);
	assert_int_equal(rs.segments, 2);
}

static void test_corrupt_middle_block(void **state)
{
	struct ctx *c = *state;
	const size_t epb[] = {7, 9, 11, 5};
	struct sw_tracelog_read_stats rs;
	struct damage_log d;
	uint64_t offs[5], pos, n;
	uint8_t *orig, *file;
	size_t flen;
	char seg[512];

	write_blocks(c->dir, epb, 4, offs);
	first_segment(c->dir, seg, sizeof(seg));
	orig = slurp(seg, &flen);
	file = malloc(flen + 64);
	/* Every byte of block 1 flipped in turn: magic, lengths, header, its CRC, data. */
	for (pos = offs[1]; pos < offs[2]; pos++) {
		memcpy(file, orig, flen);
		file[pos] ^= 0xa5;
		spit(seg, file, flen);
		memset(&d, 0, sizeof(d));
		n = read_all(c->dir, &rs, &d);
		assert_int_equal(n, 7 + 11 + 5);
		assert_int_equal(rs.corrupt_blocks, 1);
		assert_int_equal(rs.torn_blocks, 0);
		assert_int_equal(rs.blocks, 3);
		assert_int_equal(rs.skipped_bytes, offs[2] - offs[1]);
		assert_int_equal(d.kind, SW_TRACELOG_CORRUPT);
		assert_int_equal(d.off, offs[1]);
	}
	/* Garbage between blocks 1 and 2 is skipped, counted once. */
	memcpy(file, orig, offs[2]);
	memset(file + offs[2], 'g', 50);
	memcpy(file + offs[2] + 50, orig + offs[2], flen - offs[2]);
	spit(seg, file, flen + 50);
	memset(&d, 0, sizeof(d));
	assert_int_equal(read_all(c->dir, &rs, &d), 32);
	assert_int_equal(rs.corrupt_blocks, 1);
	assert_int_equal(rs.skipped_bytes, 50);
	assert_int_equal(d.off, offs[2]);
	/* A whole block zeroed in the middle is corruption, not a torn tail. */
	memcpy(file, orig, flen);
	memset(file + offs[1], 0, offs[2] - offs[1]);
	spit(seg, file, flen);
	assert_int_equal(read_all(c->dir, &rs, NULL), 23);
	assert_int_equal(rs.corrupt_blocks, 1);
	assert_int_equal(rs.torn_blocks, 0);
	free(orig);
	free(file);
}

/* Headers with valid CRCs that lie: huge lengths, too many events, bad event framing, bad
 * redactions, unknown version. Each is one corrupt block; the good block after it is read, and
 * nothing close to the claimed sizes is allocated (the fuzz target runs under an RSS limit). */
static void test_lying_headers(void **state)
{
	struct ctx *c = *state;
	uint8_t *file = calloc(1, 1 << 16), raw[256], comp[512], good[512];
	Sprawl__Redaction x = SPRAWL__REDACTION__INIT, *xp = &x;
	Sprawl__Event ev = SPRAWL__EVENT__INIT;
	Sprawl__Header eh = SPRAWL__HEADER__INIT;
	Sprawl__Tick tick = SPRAWL__TICK__INIT;
	Sprawl__BlockHeader h;
	struct sw_tracelog_read_stats rs;
	uLongf clen;
	size_t rawlen, glen, flen, k;
	char path[512];
	int t;

	/* A good one-event block to follow each bad one. */
	eh.ktime = 1;
	tick.realtime_ns = 1;
	ev.hdr = &eh;
	ev.record_case = SPRAWL__EVENT__RECORD_TICK;
	ev.tick = &tick;
	rawlen = 1 + sprawl__event__pack(&ev, raw + 1);
	raw[0] = (uint8_t)(rawlen - 1);
	clen = sizeof(comp);
	assert_int_equal(compress(comp, &clen, raw, rawlen), Z_OK);
	h = (Sprawl__BlockHeader)SPRAWL__BLOCK_HEADER__INIT;
	h.version = SW_TRACELOG_VERSION;
	h.events = 1;
	h.raw_length = (uint32_t)rawlen;
	h.compressed_length = (uint32_t)clen;
	h.crc32 = (uint32_t)crc32(0, comp, (uInt)clen);
	glen = make_block(good, &h, comp, clen);

	snprintf(path, sizeof(path), "%s/trace-0000000000000001-00000000.swt", c->dir);
	for (t = 0; t < 12; t++) {
		Sprawl__BlockHeader b = h;
		uint8_t braw[256];
		size_t brawlen = rawlen;
		uLongf bclen = sizeof(comp);

		memcpy(braw, raw, rawlen);
		switch (t) {
		case 0:
			b.raw_length = UINT32_MAX;
			break;
		case 1:
			b.raw_length = 60u << 20; /* under the cap, but no zlib ratio gets there */
			break;
		case 2:
			b.events = UINT32_MAX;
			break;
		case 3:
			b.events = 0;
			break;
		case 4:	 /* an Event without its record */
		case 10: /* or without its header */
			ev.record_case = t == 4 ? SPRAWL__EVENT__RECORD__NOT_SET : ev.record_case;
			ev.hdr = t == 10 ? NULL : &eh;
			brawlen = 1 + sprawl__event__pack(&ev, braw + 1);
			braw[0] = (uint8_t)(brawlen - 1);
			ev.record_case = SPRAWL__EVENT__RECORD_TICK;
			ev.hdr = &eh;
			b.raw_length = (uint32_t)brawlen;
			break;
		case 11: /* not an Event at all */
			memset(braw + 1, 0xff, rawlen - 1);
			break;
		case 5:
			b.raw_length = (uint32_t)rawlen + 1;
			break;
		case 6: /* two events claimed, one framed */
			b.events = 2;
			break;
		case 7: /* a length prefix running past the block */
			braw[0] = 0x7f;
			break;
		case 8: /* a redaction outside the record */
		case 9: /* a redaction with a short secret id */
			x.offset = t == 8 ? sizeof(struct sw_tick_rec) - 2 : 0;
			x.length = t == 8 ? 3 : 1;
			x.secret_id.data = (uint8_t *)"12345678";
			x.secret_id.len = t == 8 ? 8 : 4;
			ev.n_redaction = 1;
			ev.redaction = &xp;
			brawlen = 1 + sprawl__event__pack(&ev, braw + 1);
			braw[0] = (uint8_t)(brawlen - 1);
			ev.n_redaction = 0;
			b.raw_length = (uint32_t)brawlen;
			break;
		}
		assert_int_equal(compress(comp, &bclen, braw, brawlen), Z_OK);
		b.compressed_length = (uint32_t)bclen;
		b.crc32 = (uint32_t)crc32(0, comp, (uInt)bclen);
		flen = make_block(file, &b, comp, bclen);
		memcpy(file + flen, good, glen);
		spit(path, file, flen + glen);
		assert_int_equal(read_all(c->dir, &rs, NULL), 1);
		assert_int_equal(rs.corrupt_blocks, 1);
		assert_int_equal(rs.torn_blocks, 0);
	}
	/* A huge header length in the preamble. */
	memcpy(file, good, glen);
	memset(file + 4, 0xff, 4);
	memcpy(file + glen, good, glen);
	spit(path, file, 2 * glen);
	assert_int_equal(read_all(c->dir, &rs, NULL), 1);
	assert_int_equal(rs.corrupt_blocks, 1);
	/* A CRC-valid header whose data would run far past the end: a torn tail, not an error. */
	h.compressed_length = UINT32_MAX;
	memcpy(file, good, glen);
	k = make_block(file + glen, &h, comp, clen);
	spit(path, file, glen + k);
	assert_int_equal(read_all(c->dir, &rs, NULL), 1);
	assert_int_equal(rs.torn_blocks, 1);
	assert_int_equal(rs.corrupt_blocks, 0);
	free(file);
}

/* A trace of another format is not damage: the read stops and says which version it found. */
static void test_other_version(void **state)
{
	struct ctx *c = *state;
	const uint32_t versions[] = {1, SW_TRACELOG_VERSION + 1};
	uint8_t file[512], comp[64];
	Sprawl__BlockHeader h = SPRAWL__BLOCK_HEADER__INIT;
	struct sw_tracelog_reader *r;
	const struct sw_redaction *red;
	const uint8_t *rec;
	uint64_t kt;
	size_t len, nred, i;
	uLongf clen = sizeof(comp);
	char path[512];

	/* What a format-1 block held: an Event with the C record in field 10. */
	const uint8_t v1_event[] = {0x0b, 0x08, 0x04, 0x52, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0};

	assert_int_equal(compress(comp, &clen, v1_event, 12), Z_OK);
	snprintf(path, sizeof(path), "%s/trace-0000000000000001-00000000.swt", c->dir);
	for (i = 0; i < 2; i++) {
		h.version = versions[i];
		h.events = 1;
		h.raw_length = 12;
		h.compressed_length = (uint32_t)clen;
		h.crc32 = (uint32_t)crc32(0, comp, (uInt)clen);
		spit(path, file, make_block(file, &h, comp, clen));
		r = sw_tracelog_reader__open(c->dir);
		assert_non_null(r);
		assert_int_equal(sw_tracelog_reader__version(r), 0);
		assert_int_equal(sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred),
				 -EPROTONOSUPPORT);
		assert_int_equal(sw_tracelog_reader__version(r), versions[i]);
		sw_tracelog_reader__free(r);
	}
}

/* A block whose write fails (here: the file size limit) is dropped and counted, the segment is
 * cut back to its last whole block, and recording goes on in a new segment. */
static void test_write_failure(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_read_stats rs;
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sw_tracelog_opts o = {.dir = c->dir, .block_bytes = 2048};
		struct rlimit rl = {10000, 10000};
		struct sw_tracelog_writer *w;
		struct sw_tracelog_stats ws;
		uint8_t buf[1024];
		int i, rc, fails = 0;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(2);
		w = sw_tracelog_writer__new(&o);
		if (!w)
			_exit(3);
		for (i = 0; i < 40; i++) {
			rng_fill(&(struct rng){(uint64_t)i + 1}, buf, sizeof(buf));
			mkrec(buf, sizeof(buf), (uint64_t)i);
			rc = sw_tracelog_writer__append(w, buf, sizeof(buf), (uint64_t)i, NULL, 0);
			if (rc == -EFBIG)
				fails++;
			else if (rc)
				_exit(4);
		}
		/* The writer thread's error comes back with a later call: an append's, or the
		 * flush's when every block fitted in the queue. */
		rc = sw_tracelog_writer__flush(w);
		if (rc == -EFBIG)
			fails++;
		else if (rc && sw_tracelog_writer__flush(w))
			_exit(5);
		sw_tracelog_writer__stats(w, &ws);
		sw_tracelog_writer__free(w);
		if (!fails || ws.events_dropped < (uint64_t)fails ||
		    ws.events + ws.events_dropped != 40)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(count_segments(c->dir) > 1);
	assert_true(read_all(c->dir, &rs, NULL) > 0);
	assert_int_equal(rs.torn_blocks + rs.corrupt_blocks, 0);
}

static void test_empty_and_foreign(void **state)
{
	struct ctx *c = *state;
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_opts o = {.dir = c->dir};
	struct sw_tracelog_writer *w;
	const size_t epb[] = {3};
	uint64_t offs[2];
	char path[512], sub[512];

	/* Empty dir: an empty trace. */
	assert_int_equal(read_all(c->dir, &rs, NULL), 0);
	assert_int_equal(rs.segments, 0);
	/* Missing path. */
	snprintf(path, sizeof(path), "%s/nope", c->dir);
	assert_null(sw_tracelog_reader__open(path));
	assert_int_equal(errno, ENOENT);
	/* A file that is not a trace log is refused when named, ignored in a directory unless
	 * named like a segment. */
	snprintf(path, sizeof(path), "%s/notes.txt", c->dir);
	spit(path, "hello, not a trace\n", 19);
	assert_null(sw_tracelog_reader__open(path));
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(read_all(c->dir, &rs, NULL), 0);
	/* An empty segment (crash before the first block) and an empty file. */
	snprintf(path, sizeof(path), "%s/trace-0000000000000001-00000000.swt", c->dir);
	spit(path, "", 0);
	assert_int_equal(read_all(path, &rs, NULL), 0);
	assert_int_equal(read_all(c->dir, &rs, NULL), 0);
	assert_int_equal(rs.segments, 1);
	/* A foreign file named like a segment: counted as corrupt, the others still read. */
	snprintf(path, sizeof(path), "%s/trace-0000000000000002-00000000.swt", c->dir);
	spit(path, "hello, not a trace\n", 19);
	snprintf(sub, sizeof(sub), "%s/trace-0000000000000003-00000000.swt", c->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_blocks(c->dir, epb, 1, offs);
	assert_int_equal(read_all(c->dir, &rs, NULL), 3);
	assert_int_equal(rs.corrupt_blocks, 1);
	assert_int_equal(rs.skipped_bytes, 19);
	rmdir(sub);
	/* Bad options. */
	o.block_bytes = SW_TRACELOG_BLOCK_RAW_MAX + 1;
	assert_null(sw_tracelog_writer__new(&o));
	assert_int_equal(errno, EINVAL);
	assert_null(sw_tracelog_writer__new(NULL));
	/* A too-open existing directory is made private. */
	o.block_bytes = 0;
	assert_int_equal(chmod(c->dir, 0755), 0);
	w = sw_tracelog_writer__new(&o);
	assert_non_null(w);
	/* Not a record: refused, nothing stored. */
	assert_int_equal(sw_tracelog_writer__append(w, NULL, 0, 1, NULL, 0), -EBADMSG);
	assert_int_equal(sw_tracelog_writer__append(w, "hello, no record", 16, 1, NULL, 0),
			 -EBADMSG);
	assert_int_equal(
		sw_tracelog_writer__append(w, path, SW_TRACELOG_RECORD_MAX + 1, 1, NULL, 0),
		-E2BIG);
	sw_tracelog_writer__free(w);
	{
		struct stat st;

		assert_int_equal(stat(c->dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Throughput with 4 KiB text-like records; prints figures, asserts only that it works. */
static void test_throughput(void **state)
{
	struct ctx *c = *state;
	const char *env = getenv("SW_TRACELOG_BENCH");
	uint64_t i, n = env && *env == '1' ? 100000 : 5000, nrec = 64, kt;
	struct sw_tracelog_opts o = {.dir = c->dir, .max_segments = 1000};
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_stats ws;
	struct sw_tracelog_writer *w;
	struct sw_tracelog_reader *r;
	const struct sw_redaction *red;
	const uint8_t *rec;
	uint8_t *pool = malloc(nrec * 4096);
	struct sw_redaction rd = {.offset = 300, .length = 40};
	size_t len, nred;
	double t0, tw, tr;

	for (i = 0; i < nrec; i++) {
		struct rng g = {i};
		size_t k = 0;

		/* Exactly 4 KiB: gen_record picks a random length, so fill from several. */
		while (k < 4096) {
			uint8_t tmp[4096];
			size_t m = gen_record(rng_next(&g), tmp, 4096);

			m = m > 4096 - k ? 4096 - k : m;
			memcpy(pool + i * 4096 + k, tmp, m);
			k += m;
		}
		mkrec(pool + i * 4096, 4096, i);
	}
	t0 = now_s();
	w = sw_tracelog_writer__new(&o);
	assert_non_null(w);
	for (i = 0; i < n; i++)
		assert_int_equal(sw_tracelog_writer__append(w, pool + (i % nrec) * 4096, 4096, i,
							    &rd, i % 4 == 0),
				 0);
	assert_int_equal(sw_tracelog_writer__flush(w), 0);
	sw_tracelog_writer__stats(w, &ws);
	sw_tracelog_writer__free(w);
	tw = now_s() - t0;

	t0 = now_s();
	r = sw_tracelog_reader__open(c->dir);
	assert_non_null(r);
	while (sw_tracelog_reader__next(r, &rec, &len, &kt, &red, &nred) == 1)
		;
	sw_tracelog_reader__stats(r, &rs);
	sw_tracelog_reader__free(r);
	tr = now_s() - t0;
	assert_int_equal(rs.events, n);
	printf("tracelog: %llu x 4 KiB: write %.0f ev/s %.1f MB/s (raw) ratio %.2f, %llu blocks, "
	       "%llu segments; read %.0f ev/s %.1f MB/s\n",
	       (unsigned long long)n, n / tw, ws.bytes_raw / tw / 1e6,
	       (double)ws.bytes_raw / ws.bytes_compressed, (unsigned long long)ws.blocks,
	       (unsigned long long)rs.segments, n / tr, ws.bytes_raw / tr / 1e6);
	free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incompressible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_soon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_then_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lying_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
