// SPDX-License-Identifier: Apache-2.0
/* The pipeline without a kernel: synthetic records in, alerts out through a callback sink. This
 * is also the replay path (live = 0). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "pipeline.h"
#include "registry.h"
#include "secretset.h"
#include "sink.h"
#include "testutil.h"

#define MAXA 32

static struct {
	char json[MAXA][8192];
	int n;
} got;

static void collect(const char *json, size_t len, void *ctx)
{
	(void)ctx;
	if (got.n < MAXA && len < sizeof(got.json[0])) {
		memcpy(got.json[got.n], json, len);
		got.json[got.n][len] = 0;
	}
	got.n++;
}

struct fixture {
	char dir[64];
	struct sw_key key;
	struct sw_registry *reg;
	struct sw_pipeline *p;
	struct sw_sink *sink;
	uint8_t secret[40];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sw_pipeline_opts o = {};
	struct sw_secretset *set = sw_secretset__new();
	struct sw_secret s;
	uint8_t v[40];
	char path[128];
	struct rng r = {42};
	int corrupt = 0;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-test-pipeline.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	randombytes_buf(f->key.bytes, sizeof(f->key.bytes));
	sw_key__derive(&f->key);
	snprintf(path, sizeof(path), "%s/registry.pb", f->dir);
	f->reg = sw_registry__open(path, f->key.id, &corrupt);
	assert_non_null(f->reg);
	gen_secret(&r, GEN_BASE62, f->secret, sizeof(f->secret));
	memcpy(v, f->secret, sizeof(v));
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "UNIT_KEY");
	assert_int_equal(sw_fingerprint__secret(&f->key, v, sizeof(v), &s), 0);
	assert_int_equal(sw_secretset__put(set, &s), 0);
	o.key = &f->key;
	o.registry = f->reg;
	o.host = "unit";
	f->p = sw_pipeline__new(&o);
	assert_non_null(f->p);
	assert_int_equal(sw_pipeline__set_secrets(f->p, set), 0);
	f->sink = sw_sink__callback(collect, NULL, SW_FMT_JSON);
	assert_int_equal(sw_pipeline__add_sink(f->p, f->sink), 0);
	sw_pipeline__session(f->p, 7, 100, "unit-agent");
	memset(&got, 0, sizeof(got));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	sw_pipeline__free(f->p);
	sw_sink__free(f->sink);
	sw_registry__free(f->reg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static union {
	struct sw_data_rec d;
	uint8_t raw[sizeof(struct sw_data_rec) + 256];
} rec;

/* One data record of a write by pid 101 (session 7) into /w/out.txt (dev 8:1, ino 55). */
static size_t data_rec(const void *data, size_t len, int first, uint16_t kind, uint64_t ino)
{
	const char *path = "/w/out.txt";
	size_t pl = first && kind == SW_AK_FILE ? strlen(path) : 0;

	memset(&rec, 0, sizeof(rec));
	rec.d.hdr.type = SW_EV_DATA;
	rec.d.hdr.flags = first ? SW_F_FIRST : 0;
	rec.d.hdr.pid = rec.d.hdr.tgid = 101;
	rec.d.hdr.ppid = 100;
	rec.d.hdr.uid = 1000;
	rec.d.hdr.session_id = 7;
	memcpy(rec.d.hdr.comm, "writer", 7);
	rec.d.art_kind = kind;
	rec.d.dev = (8u << 20) | 1;
	rec.d.ino = ino;
	rec.d.gen = 3;
	rec.d.file_pos = -1;
	rec.d.total = len;
	rec.d.path_len = pl;
	rec.d.data_len = len;
	memcpy(rec.raw + sizeof(rec.d), path, pl);
	memcpy(rec.raw + sizeof(rec.d) + pl, data, len);
	rec.d.hdr.size = sizeof(rec.d) + pl + len;
	return rec.d.hdr.size;
}

static void test_file_spread_once(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[100];
	size_t n;

	memset(buf, '.', sizeof(buf));
	memcpy(buf + 30, f->secret, sizeof(f->secret));
	n = data_rec(buf, sizeof(buf), 1, SW_AK_FILE, 55);
	assert_int_equal(sw_pipeline__record(f->p, &rec, n), 0);
	n = data_rec(buf, sizeof(buf), 0, SW_AK_FILE, 55);
	assert_int_equal(sw_pipeline__record(f->p, &rec, n), 0);
	sw_pipeline__flush(f->p, UINT64_MAX, 1);
	assert_int_equal(got.n, 1);
	assert_non_null(strstr(got.json[0], "\"kind\":\"secret_spread\""));
	assert_non_null(strstr(got.json[0], "\"name\":\"UNIT_KEY\""));
	assert_non_null(strstr(got.json[0], "\"path\":\"/w/out.txt\",\"dev\":2049,\"ino\":55"));
	assert_non_null(
		strstr(got.json[0], "\"pid\":101,\"ppid\":100,\"uid\":1000,\"comm\":\"writer\""));
	assert_non_null(strstr(got.json[0],
			       "\"session\":{\"id\":7,\"agent\":\"unit-agent\",\"root_pid\":100"));
	assert_null(memmem(got.json[0], strlen(got.json[0]), f->secret, sizeof(f->secret)));
	/* A new inode generation behind the same number is a new place. */
	n = data_rec(buf, sizeof(buf), 1, SW_AK_FILE, 55);
	rec.d.gen = 4;
	assert_int_equal(sw_pipeline__record(f->p, &rec, n), 0);
	sw_pipeline__flush(f->p, UINT64_MAX, 1);
	assert_int_equal(got.n, 2);
}

static void test_split_across_records(void **state)
{
	struct fixture *f = *state;
	size_t cut, n;

	/* Every split of the secret across two consecutive writes to one file: found once.
	 * Each split in its own session, so flood control (per secret and session) stays out. */
	for (cut = 1; cut < sizeof(f->secret); cut++) {
		n = data_rec(f->secret, cut, 1, SW_AK_FILE, 1000 + cut);
		rec.d.hdr.session_id = 1000 + cut;
		assert_int_equal(sw_pipeline__record(f->p, &rec, n), 0);
		n = data_rec(f->secret + cut, sizeof(f->secret) - cut, 1, SW_AK_FILE, 1000 + cut);
		rec.d.hdr.session_id = 1000 + cut;
		assert_int_equal(sw_pipeline__record(f->p, &rec, n), 0);
	}
	sw_pipeline__flush(f->p, UINT64_MAX, 1);
	assert_int_equal(got.n, sizeof(f->secret) - 1);
}

static void test_flood_control(void **state)
{
	struct fixture *f = *state;
	struct sw_pipeline_stats st;
	uint64_t ino;
	size_t n;

	/* One session writing the secret into 30 new files: the burst of 20 passes, the rest
	 * are held back and summarised. */
	for (ino = 1; ino <= 30; ino++) {
		n = data_rec(f->secret, sizeof(f->secret), 1, SW_AK_FILE, 5000 + ino);
		assert_int_equal(sw_pipeline__record(f->p, &rec, n), 0);
	}
	sw_pipeline__flush(f->p, UINT64_MAX / 2, 1);
	sw_pipeline__stats(f->p, &st);
	assert_int_equal(st.suppressed, 10);
	assert_int_equal(got.n, 21);
	assert_non_null(strstr(got.json[20], "\"kind\":\"rate_limited\""));
	assert_non_null(strstr(got.json[20], "\"count\":10"));
}

static void test_held_until_due(void **state)
{
	struct fixture *f = *state;
	struct sw_pipeline_opts o = {
		.key = &f->key, .registry = f->reg, .host = "unit", .hold_ms = 500};
	struct sw_pipeline *p = sw_pipeline__new(&o);
	struct sw_secretset *set = sw_secretset__new();
	struct sw_secret s = {};
	uint8_t v[40];
	size_t n;

	assert_non_null(p);
	memcpy(v, f->secret, sizeof(v));
	snprintf(s.name, sizeof(s.name), "UNIT_KEY");
	assert_int_equal(sw_fingerprint__secret(&f->key, v, sizeof(v), &s), 0);
	assert_int_equal(sw_secretset__put(set, &s), 0);
	assert_int_equal(sw_pipeline__set_secrets(p, set), 0);
	assert_int_equal(sw_pipeline__add_sink(p, f->sink), 0);
	n = data_rec(f->secret, sizeof(f->secret), 1, SW_AK_FILE, 77);
	assert_int_equal(sw_pipeline__record(p, &rec, n), 0);
	sw_pipeline__flush(p, 0, 0);
	assert_int_equal(got.n, 0); /* held: a rename may still come */
	sw_pipeline__flush(p, UINT64_MAX, 0);
	assert_int_equal(got.n, 1);
	sw_pipeline__free(p);
}

static void test_exec_arg_and_env(void **state)
{
	struct fixture *f = *state;
	union {
		struct sw_exec_rec e;
		uint8_t raw[sizeof(struct sw_exec_rec) + 256];
	} x = {};
	char *t = (char *)(&x.e + 1);
	size_t off = 0;

	x.e.hdr.type = SW_EV_EXEC;
	x.e.hdr.pid = x.e.hdr.tgid = 102;
	x.e.hdr.session_id = 7;
	memcpy(x.e.hdr.comm, "curl", 5);
	memcpy(t, "/usr/bin/curl", 13);
	x.e.filename_len = 13;
	off = 13;
	memcpy(t + off, "curl\0-H\0", 8);
	memcpy(t + off + 8, f->secret, sizeof(f->secret));
	t[off + 8 + sizeof(f->secret)] = 0;
	x.e.args_len = 8 + sizeof(f->secret) + 1;
	off += x.e.args_len;
	memcpy(t + off, "TOKEN=", 6);
	memcpy(t + off + 6, f->secret, sizeof(f->secret));
	t[off + 6 + sizeof(f->secret)] = 0;
	x.e.env_len = 6 + sizeof(f->secret) + 1;
	x.e.hdr.size = sizeof(x.e) + off + x.e.env_len;
	assert_int_equal(sw_pipeline__record(f->p, &x, x.e.hdr.size), 0);
	sw_pipeline__flush(f->p, UINT64_MAX, 1);
	assert_int_equal(got.n, 2);
	assert_non_null(strstr(
		got.json[0],
		"\"artifact\":{\"type\":\"exec_arg\",\"path\":\"/usr/bin/curl\",\"index\":2}"));
	assert_non_null(strstr(got.json[0], "\"argv\":[\"curl\",\"-H\",\"[redacted]\"]"));
	assert_non_null(strstr(got.json[1], "\"artifact\":{\"type\":\"exec_env\",\"path\":\"/usr/"
					    "bin/curl\",\"name\":\"TOKEN\"}"));
}

static void test_bad_records_counted(void **state)
{
	struct fixture *f = *state;
	struct sw_pipeline_stats st;
	size_t n = data_rec(f->secret, sizeof(f->secret), 1, SW_AK_FILE, 5);

	rec.d.data_len = 200; /* claims more than it carries */
	assert_int_equal(sw_pipeline__record(f->p, &rec, n), -EBADMSG);
	sw_pipeline__stats(f->p, &st);
	assert_int_equal(st.bad_records, 1);
	assert_int_equal(got.n, 0);
}

static void test_loss_is_an_alert(void **state)
{
	struct fixture *f = *state;
	struct sw_loss d = {.ringbuf_full = 3, .truncated = 2};

	assert_int_equal(sw_pipeline__loss(f->p, &d), 0);
	assert_int_equal(got.n, 1);
	assert_non_null(strstr(got.json[0], "\"kind\":\"coverage_gap\""));
	assert_non_null(strstr(got.json[0], "\"gaps\":{\"ringbuf_full\":3,\"truncated\":2}"));
	memset(&d, 0, sizeof(d));
	assert_int_equal(sw_pipeline__loss(f->p, &d), 0);
	assert_int_equal(got.n, 1); /* nothing lost: silence */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_spread_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_across_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_until_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_arg_and_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_records_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss_is_an_alert, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
