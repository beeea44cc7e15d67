// SPDX-License-Identifier: Apache-2.0
/* The pipeline's compressed artifacts, driven by records: a gzip file split across writes, a
 * zip bomb (a gap, and a plain leak after it still alerts), a git loose object (repository,
 * object id, kind, and the commit and ref written after it), the same blob repacked (no new
 * place) and pushed to another repository (a new one), a push over https (its pack in the TLS
 * plaintext, split anyhow, chunked or not), and a replay of it all. */
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
#include "pipeline.h"
#include "streams.h"
#include "testutil.h"
#include "gitutil.h"

/* A config file holding secret 0, as text. */
static size_t config_with(const struct tp *f, uint8_t *out)
{
	size_t n = 0;

	memcpy(out, "api:\n  key: ", 12);
	n = 12;
	memcpy(out + n, f->sec[0].v, f->sec[0].len);
	n += f->sec[0].len;
	out[n++] = '\n';
	return n;
}

static void test_gzip_split_across_writes(void **state)
{
	struct tp *f = *state;
	uint8_t text[256], gz[512];
	size_t n, gn;

	n = config_with(f, text);
	gn = zpack(text, n, 1, gz, sizeof(gz));
	/* The compressed bytes hold no plaintext: only inflating finds it. */
	assert_null(memmem(gz, gn, f->sec[0].v, f->sec[0].len));
	write_file(f, TP_PID, 500, "/w/backup.bin", gz, gn, 7);
	/* Under a directory named refs, still gzip (no git ref). */
	write_file(f, TP_PID, 501, "/w/docs/refs/old.gz", gz, gn, gn);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->got[1].a.artifact.path, "/w/docs/refs/old.gz");
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	assert_string_equal(f->got[0].a.artifact.path, "/w/backup.bin");
	tp_json_has(f, 0, "\"inflated\":\"gzip\"");
	tp_json_has(f, 0, "\"variant\":\"raw\"");
	/* The same stream written again elsewhere in the file is the same place. */
	tp_no_plaintext(f);
}

static void test_zip_bomb_is_a_gap(void **state)
{
	const size_t big = 64u << 20;
	struct tp *f = *state;
	uint8_t *zeros = calloc(1, big), *gz = malloc(big / 100);
	size_t gn;
	int gap = -1;
	size_t i;

	assert_non_null(zeros);
	assert_non_null(gz);
	gn = zpack(zeros, big, 1, gz, big / 100);
	free(zeros);
	assert_true(gn < 700u << 10);
	write_file(f, TP_PID, 501, "/w/zeros.gz", gz, gn, SW_CHUNK);
	free(gz);
	/* A plain leak right after. */
	tp_at(f, 10);
	tp_file(f, TP_PID, 502, "/w/plain.txt", f->sec[1].v, f->sec[1].len);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	for (i = 0; i < 2; i++)
		if (f->got[i].a.kind == SW_ALERT_COVERAGE_GAP)
			gap = (int)i;
	assert_true(gap >= 0);
	tp_json_has(f, gap, "\"gaps\":{\"inflate_ratio\":1}");
	tp_is_spread(f, 1 - gap, 1, SW_ART_FILE);
	assert_string_equal(f->got[1 - gap].a.artifact.path, "/w/plain.txt");
	tp_replay_equals_live(f, NULL, NULL, 0);
}

/* A pack of one blob. */
static size_t pack_of(const uint8_t *content, size_t n, uint8_t *out, size_t cap)
{
	size_t i = 12;

	memcpy(out, "PACK\0\0\0\2\0\0\0\1", 12);
	i += pack_entry_hdr(out + i, SW_GIT_BLOB, n);
	i += zpack(content, n, 0, out + i, cap - i);
	memset(out + i, 0, 20);
	return i + 20;
}

static void test_git_commit_repack_push(void **state)
{
	struct tp *f = *state;
	uint8_t text[256], z[1024], tree[128], commit[256], blob_id[SW_GIT_ID_BYTES],
		tree_id[SW_GIT_ID_BYTES], commit_id[SW_GIT_ID_BYTES];
	char hex[SW_GIT_ID_HEX], want[256], ref[48];
	size_t n, zn, tn, cn;

	n = config_with(f, text);
	/* git add: the blob, in two writes. */
	zn = loose("blob", text, n, z, sizeof(z), blob_id);
	tp_at(f, 10);
	write_file(f, TP_PID, 600, "/w/p/.git/objects/3f/tmp_obj_a1", z, zn, zn / 2 + 1);
	/* git commit: the tree holding it, the commit, the ref. */
	memcpy(tree, "100644 config.yml", 18);
	memcpy(tree + 18, blob_id, SW_GIT_ID_BYTES);
	tn = 18 + SW_GIT_ID_BYTES;
	zn = loose("tree", tree, tn, z, sizeof(z), tree_id);
	tp_at(f, 20);
	write_file(f, TP_PID, 601, "/w/p/.git/objects/aa/tmp_obj_b2", z, zn, zn);
	sw_gitobj__hex(tree_id, hex);
	cn = (size_t)snprintf((char *)commit, sizeof(commit),
			      "tree %s\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n\nadd\n",
			      hex);
	zn = loose("commit", commit, cn, z, sizeof(z), commit_id);
	write_file(f, TP_PID, 602, "/w/p/.git/objects/bb/tmp_obj_c3", z, zn, zn);
	sw_gitobj__hex(commit_id, hex);
	snprintf(ref, sizeof(ref), "%s\n", hex);
	write_file(f, TP_PID, 603, "/w/p/.git/./refs/heads/main.lock", (const uint8_t *)ref, 41,
		   41);
	/* A file under a directory named refs that is no ref, and a gzip file there. */
	write_file(f, TP_PID, 604, "/w/p/docs/refs/notes.txt", (const uint8_t *)"see below\n", 10,
		   10);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	sw_gitobj__hex(blob_id, hex);
	snprintf(want, sizeof(want), "\"path\":\"/w/p/.git/objects/%.2s/%s\"", hex, hex + 2);
	tp_json_has(f, 0, want);
	snprintf(want, sizeof(want),
		 "\"inflated\":\"zlib\",\"git\":{\"repo\":\"/w/"
		 "p\",\"object\":\"%s\",\"kind\":\"blob\","
		 "\"commit\":\"",
		 hex);
	tp_json_has(f, 0, want);
	sw_gitobj__hex(commit_id, hex);
	snprintf(want, sizeof(want), "\"commit\":\"%s\",\"ref\":\"refs/heads/main\"}", hex);
	tp_json_has(f, 0, want);

	/* git gc: the blob again, now in a pack of the same repository: no new place. */
	zn = pack_of(text, n, z, sizeof(z));
	tp_at(f, 1100);
	write_file(f, TP_PID, 610, "/w/p/.git/objects/pack/tmp_pack_x", z, zn, 16);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 1);

	/* git push to a bare repository: the pack lands in its quarantine: a new place. */
	tp_at(f, 2100);
	write_file(f, TP_PID, 620, "/srv/r.git/objects/incoming-q1/pack/tmp_pack_y", z, zn, zn);
	tp_tick(f, 3000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_is_spread(f, 1, 0, SW_ART_FILE);
	sw_gitobj__hex(blob_id, hex);
	snprintf(want, sizeof(want),
		 "\"git\":{\"repo\":\"/srv/r.git\",\"object\":\"%s\",\"kind\":\"blob\"", hex);
	tp_json_has(f, 1, want);
	tp_no_plaintext(f);
	tp_replay_equals_live(f, NULL, NULL, 0);
}

/* A file under objects/ that is not zlib, or a loose object that is no git object: no alert
 * and no gap for the first (never inflated), a gap for the second. */
static void test_not_git_objects(void **state)
{
	struct tp *f = *state;
	uint8_t z[256];
	size_t zn;

	write_file(f, TP_PID, 700, "/w/q/.git/objects/ab/tmp_obj_1", f->sec[0].v, 40, 40);
	zn = zpack("hello there, no header", 22, 0, z, sizeof(z));
	write_file(f, TP_PID, 701, "/w/q/.git/objects/ac/tmp_obj_2", z, zn, zn);
	tp_tick(f, 1000);
	tp_feed(f);
	/* The plain secret in the first is a plain file alert. */
	assert_int_equal(f->n, 2);
	tp_is_spread(f, 1, 0, SW_ART_FILE);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 0, "\"gaps\":{\"inflate_error\":1}");
}

/* At most SW_STREAMS_DEC_MAX files are inflated at once: one more is a gap; a git object that
 * ended frees its place. */
static void test_inflating_at_once_is_bounded(void **state)
{
	struct tp *f = *state;
	uint8_t gz[512], z[512], text[256], id[SW_GIT_ID_BYTES];
	char path[64];
	size_t gn, zn, i;

	gn = zpack("some text that goes on", 22, 1, gz, sizeof(gz));
	zn = loose("blob", (const uint8_t *)"x", 1, z, sizeof(z), id);
	/* Many whole git objects first: each ends, nothing stays. */
	for (i = 0; i < 2 * SW_STREAMS_DEC_MAX; i++) {
		snprintf(path, sizeof(path), "/w/r/.git/objects/%02zx/tmp_obj_%zu", i % 256, i);
		write_file(f, TP_PID, 2000 + i, path, z, zn, zn);
	}
	/* gzip files cut short stay open: the one past the bound is not inflated. */
	for (i = 0; i <= SW_STREAMS_DEC_MAX; i++) {
		snprintf(path, sizeof(path), "/w/gz/%zu.gz", i);
		write_file(f, TP_PID, 3000 + i, path, gz, gn / 2, gn / 2);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"gaps\":{\"inflate_streams\":1}");
	/* While they stay open, a new one with a secret is not inflated either: a gap, no alert. */
	gn = zpack(text, config_with(f, text), 1, gz, sizeof(gz));
	write_file(f, TP_PID, 4000, "/w/gz/late.gz", gz, gn, gn);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.kind, SW_ALERT_COVERAGE_GAP);
}

/* At most SW_STREAMS_DEC_PACKS_MAX packs at once (each may keep a delta-base cache). */
static void test_packs_at_once_are_bounded(void **state)
{
	struct tp *f = *state;
	uint8_t text[256], z[1024];
	char path[64];
	size_t zn, i;

	zn = pack_of(text, config_with(f, text), z, sizeof(z));
	for (i = 0; i <= SW_STREAMS_DEC_PACKS_MAX; i++) {
		snprintf(path, sizeof(path), "/w/r%zu/.git/objects/pack/tmp_pack_%zu", i, i);
		write_file(f, TP_PID, 5000 + i, path, z, 20, 20);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"gaps\":{\"inflate_streams\":1}");
	/* The packs that were taken go on: the first completes and alerts. */
	write_file(f, TP_PID, 5000, NULL, z + 20, zn - 20, zn - 20);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_is_spread(f, 1, 0, SW_ART_FILE);
	tp_json_has(f, 1, "\"git\":{\"repo\":\"/w/r0\"");
}

/* What git-remote-https writes for a push of pack (n bytes): the refs' GET, then the
 * receive-pack POST, with Content-Length or chunked. */
static size_t push_request(const uint8_t *pack, size_t n, int chunked, uint8_t *out)
{
	static const char upd[] = "0000000000000000000000000000000000000000 "
				  "1111111111111111111111111111111111111111 refs/heads/main";
	char *o = (char *)out;
	uint8_t body[2048];
	size_t bn, i, k;

	bn = (size_t)sprintf((char *)body, "%04zx%s", sizeof(upd) - 1 + 4 + 1 + 14, upd);
	memcpy(body + bn, "\0 report-status0000", 19);
	bn += 19;
	memcpy(body + bn, pack, n);
	bn += n;
	o += sprintf(o, "GET /r/repo.git/info/refs?service=git-receive-pack HTTP/1.1\r\n"
			"Host: localhost:8443\r\n\r\n"
			"POST /r/repo.git/git-receive-pack HTTP/1.1\r\nHost: localhost:8443\r\n"
			"Content-Type: application/x-git-receive-pack-request\r\n");
	if (!chunked) {
		o += sprintf(o, "Content-Length: %zu\r\n\r\n", bn);
		memcpy(o, body, bn);
		return (uint8_t *)o + bn - out;
	}
	o += sprintf(o, "Transfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < bn; i += k) {
		k = bn - i < 37 ? bn - i : 37;
		o += sprintf(o, "%zx\r\n", k);
		memcpy(o, body + i, k);
		o += k;
		o += sprintf(o, "\r\n");
	}
	o += sprintf(o, "0\r\n\r\n");
	return (uint8_t *)o - out;
}

/* A push over https: the pack in the TLS plaintext is inflated, its blob's secret one alert on
 * the connection named by the remote's URL, the blob and the ref; split anyhow, chunked or
 * not, the same push again is the same place; a replay is the same. */
static void test_push_over_https(void **state)
{
	struct tp *f = *state;
	uint8_t text[256], z[1024], id[SW_GIT_ID_BYTES], *req = malloc(16384);
	char hex[SW_GIT_ID_HEX], want[512];
	size_t n, zn, rn, off, k, step;
	int chunked;

	n = config_with(f, text);
	loose("blob", text, n, z, sizeof(z), id);
	zn = pack_of(text, n, z, sizeof(z));
	sw_gitobj__hex(id, hex);
	for (chunked = 0; chunked < 2; chunked++)
		for (step = 5; step < 20000; step *= 7) {
			rn = push_request(z, zn, chunked, req);
			tp_at(f, 10 + chunked * 100 + step);
			for (off = 0; off < rn; off += k) {
				k = rn - off < step ? rn - off : step;
				tls_write(f, TP_PID, 7, 900 + chunked * 10 + step, req + off, k);
			}
			tp_tick(f, 5000 + chunked * 100 + step);
			tp_feed(f);
			assert_int_equal(f->n, 1);
		}
	tp_is_spread(f, 0, 0, SW_ART_TLS);
	snprintf(want, sizeof(want),
		 "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:443\",\"inflated\":\"zlib\","
		 "\"git\":{\"repo\":\"https://localhost:8443/r/repo.git\",\"object\":\"%s\","
		 "\"kind\":\"blob\",\"ref\":\"refs/heads/main\"}}",
		 hex);
	tp_json_has(f, 0, want);
	tp_no_plaintext(f);
	tp_replay_equals_live(f, NULL, NULL, 0);
	free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gzip_split_across_writes, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_zip_bomb_is_a_gap, tp_setup_rec, tp_teardown),
		cmocka_unit_test_setup_teardown(test_git_commit_repack_push, tp_setup_rec,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_not_git_objects, tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_push_over_https, tp_setup_rec, tp_teardown),
		cmocka_unit_test_setup_teardown(test_inflating_at_once_is_bounded, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_packs_at_once_are_bounded, tp_setup,
						tp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
