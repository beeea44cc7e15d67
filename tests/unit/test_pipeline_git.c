// SPDX-License-Identifier: Apache-2.0
/* The pipeline's git and gzip artifacts beyond plain matching: detectors run over what is
 * inflated (a GitHub token in a gzip file split across writes, an AWS key in a git loose
 * object: one secret_discovered each, on the archive and on the object; a replay the same),
 * and a thin pack's delta whose base is in the repository's object store, not the pack: kept,
 * its base asked for, and matched once the base is answered. Every credential-shaped value is
 * made at run time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <zlib.h>

#include "gitobj.h"
#include "learn.h"
#include "pipeline.h"
#include "streams.h"
#include "testutil.h"
#include "gitutil.h"

/* A value of prefix then n characters of alphabet, made from seed. */
static void token(char *out, const char *prefix, const char *alphabet, size_t n, uint64_t seed)
{
	struct rng r = {seed};
	size_t pl = strlen(prefix), al = strlen(alphabet), i;

	memcpy(out, prefix, pl);
	for (i = 0; i < n; i++)
		out[pl + i] = alphabet[rng_next(&r) % al];
	out[pl + n] = 0;
}

static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The trace keeps none of the values; a second pipeline given the trace (and the learned
 * secrets, as a replay has them from the state directory) raises the same alerts. */
static void replay_equals_live(struct tp *f, const char *const *vals, size_t nvals)
{
	assert_true(tp_replay_equals_live(f, NULL, vals, nvals) > 0);
}

static void is_discovered(const struct tp *f, size_t i, const char *detector)
{
	char want[128];

	assert_true(i < f->n);
	assert_int_equal(f->got[i].a.kind, SW_ALERT_SECRET_DISCOVERED);
	snprintf(want, sizeof(want), "\"name\":\"%s-%.8s\"", detector, f->got[i].a.secret_id);
	tp_json_has(f, i, want);
	snprintf(want, sizeof(want), "detector %s found a secret nobody registered", detector);
	tp_json_has(f, i, want);
}

/* How many compressed bytes of z (n) to write first so that what they inflate to ends inside
 * [lo, hi) of the plain text: a value there reaches the pipeline in two records. */
static size_t split_inside(const uint8_t *z, size_t n, int gzip, size_t lo, size_t hi)
{
	static uint8_t out[1 << 16];
	size_t k;

	for (k = 1; k < n; k++) {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		assert_int_equal(inflateInit2(&zs, gzip ? 31 : 15), Z_OK);
		zs.next_in = (uint8_t *)z;
		zs.avail_in = k;
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		inflate(&zs, Z_SYNC_FLUSH);
		inflateEnd(&zs);
		if (zs.total_out > lo && zs.total_out < hi)
			return k;
	}
	fail_msg("no split inside the value");
	return 0;
}

/* Lines of generated filler (incompressible enough that the value lies deep in the stream). */
static size_t filler(char *out, size_t lines, uint64_t seed)
{
	size_t i, n = 0;

	for (i = 0; i < lines; i++) {
		token(out + n, "# ", b62, 60, seed + i);
		n += 62;
		out[n++] = '\n';
	}
	return n;
}

/* Detectors over inflated bytes: a GitHub token in a gzip file, an AWS key in a git loose
 * object, each written in two writes that split the value (the detectors carry it over from
 * one record's inflated bytes to the next). Each is one secret_discovered on the place the
 * matcher would name: the archive, the object (repository, id, kind). The token written plain
 * afterwards, or in another archive, is a spread (tracked now); a replay is the same. */
static void test_detectors_on_inflated(void **state)
{
	struct tp *f = *state;
	char gh[48], aws[32], *text = malloc(8192), hex[SW_GIT_ID_HEX], want[256];
	const char *vals[2] = {gh, aws};
	uint8_t *gz = malloc(8192), *z = malloc(8192), id[SW_GIT_ID_BYTES];
	size_t n, gn, zn, at, k;

	assert_non_null(text);
	assert_non_null(gz);
	assert_non_null(z);
	token(gh, "ghp_", b62, 36, 101);
	token(aws, "AKIA", b32, 16, 202);
	n = filler(text, 40, 1000);
	at = n + 10;
	n += (size_t)snprintf(text + n, 256, "push with %s now\n", gh);
	n += filler(text + n, 10, 2000);
	gn = zpack(text, n, 1, gz, 8192);
	assert_null(memmem(gz, gn, gh, strlen(gh)));
	k = split_inside(gz, gn, 1, at + 4, at + 36);
	tp_at(f, 10);
	tp_file(f, TP_PID, 900, "/w/backup.tgz", gz, k);
	tp_feed(f);
	tp_at(f, 11);
	tp_file(f, TP_PID, 900, NULL, gz + k, gn - k);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	is_discovered(f, 0, "github-token");
	assert_int_equal(f->got[0].a.time_us, tp_us(11));
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"file\",\"path\":\"/w/backup.tgz\",\"dev\":2049,"
		    "\"ino\":900,\"inflated\":\"gzip\"}");

	/* git add of a file holding an AWS key: discovered on the object. */
	n = filler(text, 30, 3000);
	at = n + 22;
	n += (size_t)snprintf(text + n, 256, "aws_access_key_id = %s\n", aws);
	zn = loose("blob", (const uint8_t *)text, n, z, 8192, id);
	k = split_inside(z, zn, 0, at + 8 + 4, at + 8 + 18); /* (+8: the header "blob NNNN\0") */
	tp_at(f, 1100);
	tp_file(f, TP_PID, 901, "/w/p/.git/objects/3f/tmp_obj_q", z, k);
	tp_feed(f);
	tp_file(f, TP_PID, 901, NULL, z + k, zn - k);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	is_discovered(f, 1, "aws-access-key-id");
	sw_gitobj__hex(id, hex);
	snprintf(want, sizeof(want),
		 "\"path\":\"/w/p/.git/objects/%.2s/%s\",\"dev\":2049,\"ino\":901,\"inflated\":"
		 "\"zlib\",\"git\":{\"repo\":\"/w/p\",\"object\":\"%s\",\"kind\":\"blob\"}",
		 hex, hex + 2, hex);
	tp_json_has(f, 1, want);

	/* Tracked now: the token written plain, or in another archive, is a spread. */
	tp_at(f, 2100);
	write_file(f, TP_PID, 902, "/w/token.txt", (const uint8_t *)gh, strlen(gh), 64);
	write_file(f, TP_PID, 903, "/w/copy.tgz", gz, gn, gn);
	tp_tick(f, 3000);
	tp_feed(f);
	assert_int_equal(f->n, 4);
	assert_int_equal(f->got[2].a.kind, SW_ALERT_SECRET_SPREAD);
	assert_string_equal(f->got[2].a.secret_id, f->got[0].a.secret_id);
	assert_string_equal(f->got[2].a.artifact.path, "/w/token.txt");
	assert_int_equal(f->got[3].a.kind, SW_ALERT_SECRET_SPREAD);
	assert_string_equal(f->got[3].a.secret_id, f->got[0].a.secret_id);
	tp_json_has(f, 3,
		    "\"path\":\"/w/copy.tgz\",\"dev\":2049,\"ino\":903,\"inflated\":\"gzip\"");
	for (n = 0; n < f->n; n++) {
		assert_null(strstr(f->got[n].json, gh));
		assert_null(strstr(f->got[n].json, aws));
	}
	replay_equals_live(f, vals, 2);
	sodium_memzero(gh, sizeof(gh));
	sodium_memzero(aws, sizeof(aws));
	sodium_memzero(text, 8192);
	free(text);
	free(gz);
	free(z);
}

/* A file system gives a deleted file's inode number to a new file: the new file's gzip is
 * inflated (its stream decided afresh, by the inode generation), not taken for the old file's
 * later bytes. */
static void test_gzip_at_a_reused_inode(void **state)
{
	struct tp *f = *state;
	uint8_t gz[512];
	char text[128];
	struct sw_data_rec *d;
	size_t n, gn;

	n = (size_t)snprintf(text, sizeof(text), "plain text, %s\n", "nothing to see");
	tp_at(f, 10);
	write_file(f, TP_PID, 960, "/w/old.txt", (const uint8_t *)text, n, n);
	memcpy(text, "key: ", 5);
	memcpy(text + 5, f->sec[0].v, f->sec[0].len);
	n = 5 + f->sec[0].len;
	gn = zpack(text, n, 1, gz, sizeof(gz));
	tp_at(f, 20);
	d = tp_file(f, TP_PID, 960, "/w/new.gz", gz, gn);
	d->gen = 2;
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	tp_json_has(f, 0, "\"path\":\"/w/new.gz\",\"dev\":2049,\"ino\":960,\"inflated\":\"gzip\"");
}

/* A git ref's inode freed (a ref is replaced by a rename over it) and given to the next loose
 * object: a ref write is learned, not decided, and a 2-byte write decides nothing, so the old
 * stream had no decision; the object's stream is still decided afresh at its first byte and
 * its blob inflated (CI: a thin push's local blob went unseen when its tmp_obj got the inode
 * of the ref the push before had replaced). */
static void test_loose_object_at_a_reused_inode(void **state)
{
	struct tp *f = *state;
	char text[256], hex[SW_GIT_ID_HEX], want[256];
	const char *old[2] = {"0123456789abcdef0123456789abcdef01234567\n", "1\n"};
	uint8_t z[512], id[SW_GIT_ID_BYTES];
	struct sw_data_rec *d;
	size_t n, zn, i;

	for (i = 0; i < 2; i++) {
		uint64_t ino = 970 + i;

		tp_at(f, 10 + 100 * i);
		write_file(f, TP_PID, ino, i ? "/w/p/.git/COUNT" : "/w/p/.git/refs/heads/main.lock",
			   (const uint8_t *)old[i], strlen(old[i]), 64);
		n = (size_t)snprintf(text, sizeof(text), "case %zu token: ", i);
		memcpy(text + n, f->sec[i].v, f->sec[i].len);
		n += f->sec[i].len;
		text[n++] = '\n';
		zn = loose("blob", (const uint8_t *)text, n, z, sizeof(z), id);
		tp_at(f, 20 + 100 * i);
		d = tp_file(f, TP_PID, ino, "/w/p/.git/objects/ab/tmp_obj_r", z, zn);
		d->gen = 2;
		tp_feed(f);
		tp_tick(f, 1000 + 100 * i);
		tp_feed(f);
		assert_int_equal(f->n, i + 1);
		tp_is_spread(f, i, i, SW_ART_FILE);
		sw_gitobj__hex(id, hex);
		snprintf(want, sizeof(want),
			 "\"inflated\":\"zlib\",\"git\":{\"repo\":\"/w/p\",\"object\":\"%s\"", hex);
		tp_json_has(f, i, want);
	}
}

/* ---- thin packs: a delta whose base is in the repository ---- */

static size_t varint(uint8_t *o, uint64_t v)
{
	size_t n = 0;

	do {
		o[n] = v & 0x7f;
		v >>= 7;
		if (v)
			o[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* A delta making base[0..keep) followed by text from base (blen bytes). */
static size_t make_delta(size_t blen, size_t keep, const char *text, uint8_t *o)
{
	size_t n = 0, tl = strlen(text), i, k;

	n += varint(o + n, blen);
	n += varint(o + n, keep + tl);
	/* copy from offset 0, keep bytes (two size bytes) */
	o[n++] = 0x80 | 0x10 | 0x20;
	o[n++] = keep & 0xff;
	o[n++] = (keep >> 8) & 0xff;
	for (i = 0; i < tl; i += k) {
		k = tl - i < 127 ? tl - i : 127;
		o[n++] = (uint8_t)k;
		memcpy(o + n, text + i, k);
		n += k;
	}
	return n;
}

/* A REF_DELTA pack entry on base_id: header, base id, the delta (n bytes) deflated. */
static size_t ref_delta_entry(uint8_t *o, const uint8_t base_id[SW_GIT_ID_BYTES],
			      const uint8_t *delta, size_t n)
{
	size_t k = pack_entry_hdr(o, SW_GIT_REF_DELTA, n);

	memcpy(o + k, base_id, SW_GIT_ID_BYTES);
	k += SW_GIT_ID_BYTES;
	return k + zpack(delta, n, 0, o + k, 4096);
}

/* An OFS_DELTA's distance, as packs write it. */
static size_t ofs_enc(uint8_t *o, uint64_t ofs)
{
	uint8_t b[16];
	size_t pos = sizeof(b) - 1;

	b[pos] = ofs & 127;
	while (ofs >>= 7)
		b[--pos] = 128 | (--ofs & 127);
	memcpy(o, b + pos, sizeof(b) - pos);
	return sizeof(b) - pos;
}

/* What the source feeds for a SW_REQ_GIT_BASE q: the object's bytes [off, off + n) of total,
 * with flags beyond SW_F_READBACK. */
static void base_rec(struct tp *f, const struct sw_request *q, int type, const uint8_t *b,
		     size_t off, size_t n, size_t total, uint16_t flags)
{
	struct sw_data_rec *d = tp_start(f, SW_EV_DATA, 0, sizeof(*d));

	d->hdr = q->hdr;
	d->hdr.type = SW_EV_DATA;
	d->hdr.size = sizeof(*d);
	d->hdr.ktime = f->kt;
	d->hdr.flags = flags | SW_F_READBACK;
	d->art_kind = SW_AK_GITOBJ;
	d->ino = q->ino;
	d->syscall_nr = (uint32_t)type;
	d->total = total;
	d->offset = off;
	d->fd = -1;
	d->file_pos = -1;
	d->src_pos = -1;
	d->data_len = (uint32_t)n;
	tp_tail(b + off, n);
	tp_feed(f);
}

/* A push to a repository on disk whose pack is thin (receive-pack's index-pack --fix-thin
 * writes it to the quarantine as it comes): a REF_DELTA on a blob the repository has, adding
 * a line with secret 0 to a base holding secret 1, and an OFS_DELTA on that delta adding a
 * GitHub token. The pack asks for the base once (the repository's git dir and the base's id),
 * no gap, no alert yet; the base answered in two chunks, both deltas are resolved: one alert
 * per secret on the repository naming the object each is in first (secret 0 and 1 in the
 * first delta's object, the token discovered in the second's); the trace keeps the base as
 * filler; a replay is the same. A base that cannot be had is one delta_unresolved gap. */
static void test_thin_pack_base_from_repository(void **state)
{
	struct tp *f = *state;
	uint8_t *base = malloc(8192), *pack = malloc(16384), dl[512], *zd = malloc(4096),
		base_id[SW_GIT_ID_BYTES], r1_id[SW_GIT_ID_BYTES], r2_id[SW_GIT_ID_BYTES];
	char gh[48], line[128], hex[SW_GIT_ID_HEX], want[512], *r1 = malloc(8192),
							       *r2 = malloc(8192);
	const char *vals[3] = {gh, (const char *)f->sec[0].v, (const char *)f->sec[1].v};
	size_t bn, keep, n, pn, zn, d1_off, r1n, r2n, i;
	struct sw_request q;

	assert_non_null(base);
	assert_non_null(pack);
	assert_non_null(zd);
	assert_non_null(r1);
	assert_non_null(r2);
	token(gh, "ghp_", b62, 36, 303);
	/* The base: filler, then secret 1 on a line. */
	bn = filler((char *)base, 50, 5000);
	memcpy(base + bn, "other: ", 7);
	memcpy(base + bn + 7, f->sec[1].v, f->sec[1].len);
	bn += 7 + f->sec[1].len;
	base[bn++] = '\n';
	blob_id(base, bn, base_id);
	keep = bn;
	/* Delta 1: the base and a line with secret 0. */
	memcpy(line, "key: ", 5);
	memcpy(line + 5, f->sec[0].v, f->sec[0].len);
	line[5 + f->sec[0].len] = '\n';
	line[6 + f->sec[0].len] = 0;
	memcpy(r1, base, keep);
	r1n = keep + strlen(line);
	memcpy(r1 + keep, line, strlen(line));
	blob_id((const uint8_t *)r1, r1n, r1_id);
	memcpy(pack, "PACK\0\0\0\2\0\0\0\2", 12);
	pn = 12;
	d1_off = pn;
	n = make_delta(bn, keep, line, dl);
	pn += ref_delta_entry(pack + pn, base_id, dl, n);
	/* Delta 2, on delta 1: its first line and the token. */
	snprintf(line, sizeof(line), "push with %s now\n", gh);
	memcpy(r2, r1, 63);
	memcpy(r2 + 63, line, strlen(line));
	r2n = 63 + strlen(line);
	blob_id((const uint8_t *)r2, r2n, r2_id);
	n = make_delta(r1n, 63, line, dl);
	i = pn;
	pn += pack_entry_hdr(pack + pn, SW_GIT_OFS_DELTA, n);
	pn += ofs_enc(pack + pn, i - d1_off);
	zn = zpack(dl, n, 0, zd, 4096);
	memcpy(pack + pn, zd, zn);
	pn += zn;
	memset(pack + pn, 0, 20);
	pn += 20;
	assert_null(memmem(pack, pn, f->sec[0].v, f->sec[0].len));
	assert_null(memmem(pack, pn, gh, strlen(gh)));

	tp_at(f, 10);
	write_file(f, TP_PID, 950, "/srv/r.git/objects/incoming-q1/pack/tmp_pack_t", pack, pn, pn);
	/* The base asked for, once, from the repository the pack goes into. */
	assert_int_equal(f->nreq, 1);
	q = tp_keep(f, 0);
	assert_int_equal(q.kind, SW_REQ_GIT_BASE);
	assert_string_equal(q.path, "/srv/r.git");
	sw_gitobj__hex(base_id, hex);
	assert_string_equal(q.label, hex);
	assert_int_equal(q.hdr.tgid, TP_PID);
	assert_true(q.length >= 1u << 20);
	assert_int_equal(f->n, 0);

	/* The base, in two chunks. */
	tp_at(f, 12);
	base_rec(f, &q, SW_GIT_BLOB, base, 0, 1000, bn, SW_F_FIRST);
	assert_int_equal(f->n, 0);
	base_rec(f, &q, SW_GIT_BLOB, base, 1000, bn - 1000, bn, SW_F_LAST);
	assert_int_equal(f->nreq, 0);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 3);
	sw_gitobj__hex(r1_id, hex);
	for (i = 0; i < 2; i++) {
		tp_is_spread(f, i, 1 - i, SW_ART_FILE); /* in the order they are in */
		assert_int_equal(f->got[i].a.time_us, tp_us(10));
		snprintf(want, sizeof(want),
			 "\"path\":\"/srv/r.git/objects/incoming-q1/pack/tmp_pack_t\",\"dev\":2049,"
			 "\"ino\":950,\"inflated\":\"zlib\",\"git\":{\"repo\":\"/srv/r.git\","
			 "\"object\":\"%s\",\"kind\":\"blob\"}",
			 hex);
		tp_json_has(f, i, want);
	}
	is_discovered(f, 2, "github-token");
	sw_gitobj__hex(r2_id, hex);
	snprintf(want, sizeof(want), "\"git\":{\"repo\":\"/srv/r.git\",\"object\":\"%s\"", hex);
	tp_json_has(f, 2, want);

	/* A base the repository does not have: one gap, no alert. */
	tp_at(f, 1100);
	write_file(f, TP_PID, 951, "/srv/r.git/objects/incoming-q2/pack/tmp_pack_u", pack, pn, pn);
	assert_int_equal(f->nreq, 1);
	q = tp_keep(f, 0);
	base_rec(f, &q, 0, base, 0, 0, 0, SW_F_FIRST | SW_F_LAST | SW_F_READ_ERR);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 4);
	assert_int_equal(f->got[3].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 3, "\"gaps\":{\"delta_unresolved\":2}");
	for (i = 0; i < f->n; i++)
		for (n = 0; n < 3; n++)
			assert_null(strstr(f->got[i].json, vals[n]));
	replay_equals_live(f, vals, 3);
	sodium_memzero(gh, sizeof(gh));
	free(base);
	free(pack);
	free(zd);
	free(r1);
	free(r2);
}

/* git-remote-https's receive-pack POST of pack (n bytes), with a Content-Length. */
static size_t push_request(const uint8_t *pack, size_t n, uint8_t *out)
{
	static const char upd[] = "1111111111111111111111111111111111111111 "
				  "2222222222222222222222222222222222222222 refs/heads/main";
	char *o = (char *)out;
	size_t bn = sizeof(upd) - 1 + 4 + 1 + 14;

	o += sprintf(o,
		     "POST /r/repo.git/git-receive-pack HTTP/1.1\r\nHost: localhost:8443\r\n"
		     "Content-Type: application/x-git-receive-pack-request\r\n"
		     "Content-Length: %zu\r\n\r\n%04zx%s",
		     bn + 4 + n, bn, upd);
	memcpy(o, "\0 report-status0000", 19);
	o += 19;
	memcpy(o, pack, n);
	return (uint8_t *)o + n - out;
}

/* A thin pack pushed over https: its delta's base is asked for from the pusher's git dir (no
 * path: the source finds it from the process), and the alert names the remote. */
static void test_thin_push_over_https(void **state)
{
	struct tp *f = *state;
	uint8_t *base = malloc(4096), *pack = malloc(8192), *req = malloc(16384), dl[512],
		base_id[SW_GIT_ID_BYTES], r_id[SW_GIT_ID_BYTES];
	char line[128], hex[SW_GIT_ID_HEX], want[512], *r = malloc(4096);
	size_t bn, n, pn, rn, rl;
	struct sw_request q;

	assert_non_null(base);
	assert_non_null(pack);
	assert_non_null(req);
	assert_non_null(r);
	bn = filler((char *)base, 30, 7000);
	blob_id(base, bn, base_id);
	memcpy(line, "key: ", 5);
	memcpy(line + 5, f->sec[0].v, f->sec[0].len);
	line[5 + f->sec[0].len] = '\n';
	line[6 + f->sec[0].len] = 0;
	memcpy(r, base, bn);
	memcpy(r + bn, line, strlen(line));
	rl = bn + strlen(line);
	blob_id((const uint8_t *)r, rl, r_id);
	memcpy(pack, "PACK\0\0\0\2\0\0\0\1", 12);
	pn = 12;
	n = make_delta(bn, bn, line, dl);
	pn += ref_delta_entry(pack + pn, base_id, dl, n);
	memset(pack + pn, 0, 20);
	pn += 20;
	rn = push_request(pack, pn, req);
	tp_at(f, 10);
	tls_write(f, TP_PID, 7, 990, req, rn);
	assert_int_equal(f->nreq, 1);
	q = tp_keep(f, 0);
	assert_int_equal(q.kind, SW_REQ_GIT_BASE);
	assert_null(q.path);
	assert_int_equal(q.hdr.tgid, TP_PID);
	sw_gitobj__hex(base_id, hex);
	assert_string_equal(q.label, hex);
	tp_at(f, 11);
	base_rec(f, &q, SW_GIT_BLOB, base, 0, bn, bn, SW_F_FIRST | SW_F_LAST);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_TLS);
	assert_int_equal(f->got[0].a.time_us, tp_us(10));
	sw_gitobj__hex(r_id, hex);
	snprintf(want, sizeof(want),
		 "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:443\",\"inflated\":\"zlib\","
		 "\"git\":{\"repo\":\"https://localhost:8443/r/repo.git\",\"object\":\"%s\","
		 "\"kind\":\"blob\",\"ref\":\"refs/heads/main\"}}",
		 hex);
	tp_json_has(f, 0, want);
	tp_no_plaintext(f);
	free(base);
	free(pack);
	free(req);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detectors_on_inflated, tp_setup_rec,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_loose_object_at_a_reused_inode, tp_setup_rec,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_gzip_at_a_reused_inode, tp_setup_rec,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_thin_push_over_https, tp_setup_rec,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_thin_pack_base_from_repository, tp_setup_rec,
						tp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
