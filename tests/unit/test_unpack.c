// SPDX-License-Identifier: Apache-2.0
/* unpack: a git pack (plain objects, an OFS_DELTA and a REF_DELTA against an earlier object, a
 * REF_DELTA whose base is not in the pack), a loose object and a gzip file, each fed in pieces
 * of every size; ids as git computes them; bounds and damage. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "testutil.h"
#include "gitutil.h"
#include "gitutil.h"
#include "unpack.h"

#define OBJS 8

struct seen {
	size_t n, begun;
	struct {
		int type;
		uint8_t id[SW_GIT_ID_BYTES];
		int has_id;
		uint8_t data[4096];
		size_t len;
		int kept;
	} o[OBJS];
};

static void on_begin(void *ctx, const struct sw_unpack_obj *o)
{
	struct seen *s = ctx;

	assert_true(s->n < OBJS);
	s->begun++;
	s->o[s->n].type = o->type;
	s->o[s->n].len = 0;
}

static void on_data(void *ctx, const void *p, size_t n)
{
	struct seen *s = ctx;

	assert_true(s->o[s->n].len + n <= sizeof(s->o[0].data));
	memcpy(s->o[s->n].data + s->o[s->n].len, p, n);
	s->o[s->n].len += n;
}

static void on_end(void *ctx, const struct sw_unpack_obj *o)
{
	struct seen *s = ctx;

	s->o[s->n].has_id = o->has_id;
	memcpy(s->o[s->n].id, o->id, SW_GIT_ID_BYTES);
	s->o[s->n].kept = o->content && o->content_len == s->o[s->n].len &&
			  !memcmp(o->content, s->o[s->n].data, o->content_len);
	s->n++;
}

static const struct sw_unpack_ops ops = {on_begin, on_data, on_end, NULL};

static struct sw_unpack_limits lim = {64u << 20, 100, 1u << 20};

static void feed_all(enum sw_unpack_kind kind, const uint8_t *b, size_t n, size_t step,
		     struct seen *s, int want)
{
	struct sw_unpack *u = sw_unpack__new(kind, &lim);
	size_t off, k;
	int rc = 0, last = 0;

	assert_non_null(u);
	memset(s, 0, sizeof(*s));
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		rc = sw_unpack__feed(u, b + off, k, &ops, s);
		if (rc)
			last = rc;
	}
	assert_int_equal(last, want);
	sw_unpack__free(u);
}

static void test_pack_with_deltas(void **state)
{
	static uint8_t pack[8192];
	uint8_t base[300], target[300], delta[64], id[SW_GIT_ID_BYTES], missing[SW_GIT_ID_BYTES];
	struct seen *s = calloc(1, sizeof(*s));
	struct rng r = {9};
	size_t n = 12, dl = 0, ofs_base, here, step, d;

	(void)state;
	gen_secret(&r, GEN_BASE62, base, sizeof(base));
	/* target = base with 40 bytes in the middle replaced. */
	memcpy(target, base, sizeof(target));
	gen_secret(&r, GEN_BASE62, target + 100, 40);
	delta[dl++] = 0xac; /* 300 = 0b10_0101100 */
	delta[dl++] = 0x02;
	delta[dl++] = 0xac;
	delta[dl++] = 0x02;
	delta[dl++] = 0x90; /* copy 100 from 0 */
	delta[dl++] = 100;
	delta[dl++] = 40; /* insert 40 */
	memcpy(delta + dl, target + 100, 40);
	dl += 40;
	delta[dl++] = 0x91; /* copy 160 from 140 */
	delta[dl++] = 140;
	delta[dl++] = 160;
	memcpy(pack, "PACK\0\0\0\2\0\0\0\4", 12);
	ofs_base = n;
	n += pack_entry_hdr(pack + n, SW_GIT_BLOB, sizeof(base));
	n += zpack(base, sizeof(base), 0, pack + n, sizeof(pack) - n);
	/* OFS_DELTA: the distance back to the base, as git encodes it. */
	here = n;
	n += pack_entry_hdr(pack + n, SW_GIT_OFS_DELTA, dl);
	{
		uint8_t dh[10];
		size_t pos = sizeof(dh) - 1, ofs = here - ofs_base;

		dh[pos] = ofs & 127;
		while (ofs >>= 7)
			dh[--pos] = 128 | (--ofs & 127);
		memcpy(pack + n, dh + pos, sizeof(dh) - pos);
		n += sizeof(dh) - pos;
	}
	n += zpack(delta, dl, 0, pack + n, sizeof(pack) - n);
	/* REF_DELTA against the base's id. */
	blob_id(base, sizeof(base), id);
	n += pack_entry_hdr(pack + n, SW_GIT_REF_DELTA, dl);
	memcpy(pack + n, id, SW_GIT_ID_BYTES);
	n += SW_GIT_ID_BYTES;
	n += zpack(delta, dl, 0, pack + n, sizeof(pack) - n);
	/* REF_DELTA against an object the pack does not hold. */
	memset(missing, 0x5a, sizeof(missing));
	n += pack_entry_hdr(pack + n, SW_GIT_REF_DELTA, dl);
	memcpy(pack + n, missing, SW_GIT_ID_BYTES);
	n += SW_GIT_ID_BYTES;
	n += zpack(delta, dl, 0, pack + n, sizeof(pack) - n);
	memset(pack + n, 0, 20); /* the trailer's checksum is not checked */
	n += 20;
	for (step = 1; step <= n; step = step < 64 ? step + 1 : step * 2) {
		struct sw_unpack *u = sw_unpack__new(SW_UNPACK_PACK, &lim);
		size_t off, k;
		int rc = 0;

		memset(s, 0, sizeof(*s));
		for (off = 0; off < n && !rc; off += k) {
			k = n - off < step ? n - off : step;
			rc = sw_unpack__feed(u, pack + off, k, &ops, s);
		}
		assert_int_equal(rc, SW_UNPACK_DONE);
		assert_int_equal(s->n, 3);
		assert_int_equal(sw_unpack__take_unresolved(u), 1);
		assert_int_equal(s->o[0].len, sizeof(base));
		assert_memory_equal(s->o[0].data, base, sizeof(base));
		assert_memory_equal(s->o[0].id, id, SW_GIT_ID_BYTES);
		assert_true(s->o[0].kept);
		blob_id(target, sizeof(target), id);
		for (d = 1; d <= 2; d++) {
			assert_int_equal(s->o[d].type, SW_GIT_BLOB);
			assert_int_equal(s->o[d].len, sizeof(target));
			assert_memory_equal(s->o[d].data, target, sizeof(target));
			assert_true(s->o[d].has_id);
			assert_memory_equal(s->o[d].id, id, SW_GIT_ID_BYTES);
		}
		blob_id(base, sizeof(base), id);
		sw_unpack__free(u);
	}
	/* Damage: not a pack. */
	pack[0] = 'X';
	feed_all(SW_UNPACK_PACK, pack, n, n, s, SW_UNPACK_ERROR);
	assert_int_equal(s->n, 0);
	free(s);
}

static void test_loose_and_gzip(void **state)
{
	static const char obj[] = "blob 21\0a file in a repository";
	static uint8_t z[256];
	struct seen *s = calloc(1, sizeof(*s));
	uint8_t id[SW_GIT_ID_BYTES];
	size_t n, step;

	(void)state;
	/* "blob 21\0" + 21 bytes: "a file in a repositor" (the header says 21). */
	n = zpack(obj, 8 + 21, 0, z, sizeof(z));
	blob_id(obj + 8, 21, id);
	for (step = 1; step <= n; step++) {
		feed_all(SW_UNPACK_LOOSE, z, n, step, s, SW_UNPACK_DONE);
		assert_int_equal(s->n, 1);
		assert_int_equal(s->o[0].type, SW_GIT_BLOB);
		assert_int_equal(s->o[0].len, 21);
		assert_memory_equal(s->o[0].data, obj + 8, 21);
		assert_true(s->o[0].has_id);
		assert_memory_equal(s->o[0].id, id, SW_GIT_ID_BYTES);
	}
	/* Not a git object once inflated. */
	n = zpack("hello world", 11, 0, z, sizeof(z));
	feed_all(SW_UNPACK_LOOSE, z, n, n, s, SW_UNPACK_ERROR);
	/* gzip: content flows as it comes; the stream has no id. */
	n = zpack(obj + 8, 21, 1, z, sizeof(z));
	for (step = 1; step <= n; step++) {
		feed_all(SW_UNPACK_GZIP, z, n, step, s, 0);
		assert_int_equal(s->begun, 1);
		assert_int_equal(s->o[0].len, 21);
		assert_memory_equal(s->o[0].data, obj + 8, 21);
	}
	free(s);
}

static void count_data(void *ctx, const void *p, size_t n)
{
	(void)p;
	*(size_t *)ctx += n;
}

static void no_obj(void *ctx, const struct sw_unpack_obj *o)
{
	(void)ctx;
	(void)o;
}

/* 64 MiB of zeros in 4 KiB writes, as a program writes a zip bomb: the ratio stops it early. */
static void test_bomb_stops(void **state)
{
	static const struct sw_unpack_ops counting = {no_obj, count_data, no_obj, NULL};
	const size_t big = 64u << 20;
	uint8_t *zeros = calloc(1, big), *z = malloc(big / 100);
	struct sw_unpack *u = sw_unpack__new(SW_UNPACK_GZIP, &lim);
	size_t n, off, k, out = 0;
	int rc = 0;

	(void)state;
	assert_non_null(zeros);
	n = zpack(zeros, big, 1, z, big / 100);
	free(zeros);
	for (off = 0; off < n && !rc; off += k) {
		k = n - off < 4096 ? n - off : 4096;
		rc = sw_unpack__feed(u, z + off, k, &counting, &out);
	}
	assert_int_equal(rc, SW_UNPACK_RATIO);
	assert_int_equal(out, sw_unpack__out(u));
	assert_true(out < 4u << 20);
	/* Stopped: later bytes are ignored, and the stop is not said again. */
	assert_int_equal(sw_unpack__feed(u, z, n, &counting, &out), SW_UNPACK_GOING);
	assert_int_equal(out, sw_unpack__out(u));
	sw_unpack__free(u);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_with_deltas),
		cmocka_unit_test(test_loose_and_gzip),
		cmocka_unit_test(test_bomb_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
