// SPDX-License-Identifier: Apache-2.0
/* The pipeline without a kernel or root, driven by records (files, time, the registry,
 * encodings, renames, origins, exposure, kernel flags, flood control, the outbox). The record
 * builders and the harness are in testutil.h; more pipeline paths in test_pipeline_*.c. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"
#include "testutil.h"

/* data: pad bytes of '.', secret s, pad bytes of '.'. Returns the length. */
static size_t padded(const struct tp *f, size_t s, uint8_t *buf, size_t pad)
{
	memset(buf, '.', 2 * pad + f->sec[s].len);
	memcpy(buf + pad, f->sec[s].v, f->sec[s].len);
	return 2 * pad + f->sec[s].len;
}

static void test_file_alert_fields_and_time(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 30);
	char want[256];

	/* 123.456789 ms after the first tick. */
	f->kt = TP_KT0 + 123456789;
	tp_file(f, TP_PID, 55, "/w/out.txt", buf, len);
	tp_feed(f);
	assert_int_equal(f->n, 0); /* held: a rename may follow */
	assert_int_equal(f->nreq, 0);
	tp_tick(f, 400);
	tp_feed(f);
	assert_int_equal(f->n, 0); /* due at 623 ms */
	tp_tick(f, 624);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	assert_int_equal(f->got[0].a.time_us, (TP_RT0 + 123456789) / 1000);
	assert_int_equal(f->got[0].a.severity, SW_SEV_MEDIUM);
	tp_json_has(f, 0, "\"time\":\"2025-11-30T00:00:00.123456Z\"");
	tp_json_has(f, 0, "\"kind\":\"secret_spread\",\"severity\":\"medium\",\"host\":\"unit\"");
	snprintf(want, sizeof(want),
		 "\"secret\":{\"id\":\"%s\",\"name\":\"UNIT_KEY\",\"variant\":\"raw\"}",
		 tp_hex(f, 0));
	tp_json_has(f, 0, want);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"file\",\"path\":\"/w/out.txt\",\"dev\":2049,"
		    "\"ino\":55}");
	tp_json_has(f, 0,
		    "\"process\":{\"pid\":101,\"ppid\":100,\"uid\":1000,\"comm\":\"python3\","
		    "\"exe\":\"/usr/bin/python3\",\"argv\":[\"python3\",\"tool.py\"]}");
	tp_json_has(f, 0,
		    "\"session\":{\"id\":7,\"agent\":\"claude\",\"root_pid\":100,"
		    "\"root_exe\":\"/usr/bin/claude\"}");
	tp_json_has(f, 0, "\"first_seen\":true");
	tp_json_has(f, 0, "\"count\":1");
	tp_no_plaintext(f);
}

static void test_time_follows_latest_tick(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	/* The wall clock was stepped 5 s forward at the tick of 2 s: records after it map
	 * through it. */
	tp_tick(f, 2000)->realtime_ns += 5000 * TP_MS;
	tp_feed(f);
	tp_at(f, 2250);
	tp_file(f, TP_PID, 56, "/w/a", buf, len);
	tp_feed(f);
	tp_tick(f, 3000)->realtime_ns += 5000 * TP_MS;
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.time_us, tp_us(7250));
}

static void test_held_until_due_then_once(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	tp_at(f, 100);
	tp_file(f, TP_PID, 57, "/w/a", buf, len);
	tp_feed(f);
	tp_tick(f, 599); /* due at 600 ms */
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_tick(f, 600);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_tick(f, 5000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
}

static void test_registry_first_time_here(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	tp_file(f, TP_PID, 60, "/w/a", buf, len);
	tp_feed(f);
	tp_file(f, TP_PID, 60, "/w/a", buf, len); /* same place: no second alert */
	tp_feed(f);
	tp_file(f, TP_ROOT, 60, "/w/a", buf, len); /* same place, other writer */
	tp_feed(f);
	tp_file(f, TP_PID, 61, "/w/b", buf, len); /* new place */
	tp_feed(f);
	tp_file(f, TP_PID, 60, "/w/a", buf, len)->gen = 2; /* reused inode number */
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 3);
	tp_json_has(f, 0, "\"path\":\"/w/a\",\"dev\":2049,\"ino\":60");
	tp_json_has(f, 1, "\"path\":\"/w/b\",\"dev\":2049,\"ino\":61");
	tp_json_has(f, 2, "\"path\":\"/w/a\",\"dev\":2049,\"ino\":60");
	/* A new day, a new pipeline on the same registry: still not the first time. */
	tp_file(f, TP_PID, 61, "/w/b", buf, len);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 3);
}

static void test_split_across_two_writes(void **state)
{
	struct tp *f = *state;
	const uint8_t *v = f->sec[0].v;
	size_t cut;

	/* Every cut of the secret across two writes to one file is found once; each in its own
	 * session, so flood control (per secret and session) stays out. */
	for (cut = 1; cut < 40; cut++) {
		f->session = 1000 + cut;
		tp_file(f, TP_PID, 1000 + cut, "/w/split", v, cut);
		tp_feed(f);
		tp_file(f, TP_PID, 1000 + cut, NULL, v + cut, 40 - cut); /* the next syscall */
		tp_feed(f);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 39);
	for (cut = 0; cut < 39; cut++) {
		tp_is_spread(f, cut, 0, SW_ART_FILE);
		assert_string_equal(f->got[cut].a.artifact.path, "/w/split");
		assert_int_equal(f->got[cut].a.artifact.ino, 1001 + cut);
	}
}

static void test_split_across_chunk(void **state)
{
	struct tp *f = *state;
	static uint8_t big[SW_CHUNK + 100];
	struct sw_data_rec *d;

	/* One write of SW_CHUNK + 100 bytes: the secret straddles the chunk boundary. */
	memset(big, 'x', sizeof(big));
	memcpy(big + SW_CHUNK - 17, f->sec[0].v, 40);
	d = tp_file(f, TP_PID, 70, "/w/big", big, SW_CHUNK);
	d->hdr.flags = SW_F_FIRST;
	d->total = sizeof(big);
	tp_feed(f);
	d = tp_file(f, TP_PID, 70, NULL, big + SW_CHUNK, 100);
	d->hdr.flags = SW_F_LAST;
	d->offset = SW_CHUNK;
	d->total = sizeof(big);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	assert_string_equal(f->got[0].a.artifact.path, "/w/big");
}

/* A secret with bytes JSON and percent-encoding escape, so every form differs from raw. */
static void special_secret(struct tp *f)
{
	static const char cs[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+= ";
	struct rng r = {99};
	char b64[64];
	size_t i, k, n, tries = 0;

	snprintf(f->sec[2].name, sizeof(f->sec[2].name), "SPECIAL_KEY");
	f->sec[2].len = 32;
again:
	assert_true(++tries < 1000);
	for (i = 0; i < 32; i++)
		f->sec[2].v[i] = cs[rng_next(&r) % (sizeof(cs) - 1)];
	f->sec[2].v[5] = '"';
	f->sec[2].v[17] = '\n';
	f->sec[2].v[25] = '\\';
	/* '?' is 0x3f: where its 6 low bits make a base64 character (a byte at 2 mod 3) that
	 * character is '/', '_' in base64url. One at each alignment. */
	memcpy(f->sec[2].v + 10, "???", 3);
	/* base64 and base64url must differ at every alignment. */
	for (k = 0; k < 3; k++) {
		n = sw_encode__base64_stable(f->sec[2].v, 32, k, 0, b64);
		if (!memchr(b64, '+', n) && !memchr(b64, '/', n))
			goto again;
	}
	f->nsec = 3;
	tp_load_secrets(f);
}

static void test_encoded_variants(void **state)
{
	static const char *const want[] = {"base64",	"base64",    "base64", "base64url",
					   "base64url", "base64url", "hex",    "hex",
					   "percent",	"json"};
	struct tp *f = *state;
	uint8_t in[64], out[512];
	size_t i, n, k;

	special_secret(f);
	for (i = 0; i < 10; i++) {
		if (i < 6) {
			/* base64 of a larger buffer in which the secret starts at i % 3. */
			k = i % 3;
			memset(in, 'q', sizeof(in));
			memcpy(in + k, f->sec[2].v, 32);
			n = sw_encode__base64(in, k + 32 + 5, i >= 3, 1, (char *)out);
		} else if (i < 8) {
			n = sw_encode__hex(f->sec[2].v, 32, i == 7, (char *)out);
		} else if (i == 8) {
			n = sw_encode__percent(f->sec[2].v, 32, (char *)out);
		} else {
			n = sw_encode__json(f->sec[2].v, 32, (char *)out);
		}
		tp_file(f, TP_PID, 200 + i, "/w/enc", out, n);
		tp_feed(f);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 10);
	for (i = 0; i < 10; i++) {
		tp_is_spread(f, i, 2, SW_ART_FILE);
		assert_int_equal(f->got[i].a.artifact.ino, 200 + i);
		assert_string_equal(f->got[i].a.variant, want[i]);
	}
	tp_no_plaintext(f);
}

static void test_rename_before_hold_expires(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	tp_file(f, TP_PID, 80, "/w/tmp.123", buf, len);
	tp_feed(f);
	tp_at(f, 100); /* the editor's atomic save: the source checked the new name */
	tp_renamed(f, TP_PID, TP_UDEV, 80, "/w/config.env");
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"file\",\"path\":\"/w/config.env\",\"dev\":2049,"
		    "\"ino\":80}");
	/* Another inode's rename changes nothing of it. */
	tp_file(f, TP_PID, 81, "/w/x", buf, len);
	tp_feed(f);
	tp_renamed(f, TP_PID, TP_UDEV, 82, "/w/y");
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->got[1].a.artifact.path, "/w/x");
}

/* Feeds what was built, then a tick at ms (file alerts are held half a second): the alerts
 * out by then. */
static size_t settled(struct tp *f, uint64_t ms)
{
	tp_feed(f);
	tp_tick(f, ms);
	tp_feed(f);
	return f->n;
}

/* A name the process gave that holds a secret is a place of its own, alerted once, its secret
 * filled: a directory made, a symlink's target, a file made (O_CREAT) and then written (one
 * place: the name's key). What is made inside a directory so named names nothing new. */
static void test_names_made_are_places(void **state)
{
	struct tp *f = *state;
	char v[128], name[160], path[200], stars[160];
	const char *msg = "\"message\":\"the secret is in a name the process gave", *vals[1] = {v};
	size_t n = f->sec[0].len;

	memcpy(v, f->sec[0].v, n);
	v[n] = 0;
	memset(stars, '*', n);
	stars[n] = 0;
	snprintf(name, sizeof(name), "d_%s", v);
	tp_name(f, TP_PID, 83 /* mkdir */, "/w", name, NULL);
	assert_int_equal(settled(f, 1000), 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	snprintf(path, sizeof(path), "/w/d_%s", stars);
	assert_string_equal(f->got[0].a.artifact.path, path);
	tp_json_has(f, 0, msg);
	assert_null(strstr(f->got[0].json, "\"ino\"")); /* a directory made: no inode known */
	tp_json_has(f, 0, "\"in_name\":true");
	/* Made again (rmdir, mkdir), and a file made inside it: nothing new. */
	tp_name(f, TP_PID, 83, "/w", name, NULL);
	snprintf(path, sizeof(path), "/w/d_%s/inside", v);
	tp_open(f, TP_PID, TP_KDEV, 60, path)->open_flags = O_WRONLY | O_CREAT;
	assert_int_equal(settled(f, 2000), 1);
	/* A symlink pointing at the secret: the link is the place. */
	tp_name(f, TP_PID, 88 /* symlink */, "/w", "ln", v);
	assert_int_equal(settled(f, 3000), 2);
	assert_string_equal(f->got[1].a.artifact.path, "/w/ln");
	tp_json_has(f, 1, msg);
	/* A file made under it (touch): its name; then written to: the same place. */
	snprintf(path, sizeof(path), "/w/f_%s", v);
	tp_open(f, TP_PID, TP_KDEV, 61, path)->open_flags = O_WRONLY | O_CREAT;
	assert_int_equal(settled(f, 4000), 3);
	tp_json_has(f, 2, "\"dev\":2049,\"ino\":61");
	tp_file(f, TP_PID, 61, path, "nothing", 7);
	tp_feed(f);
	/* An open without O_CREAT makes no name. */
	snprintf(path, sizeof(path), "/w/g_%s", v);
	tp_open(f, TP_PID, TP_KDEV, 62, path)->open_flags = O_RDONLY;
	assert_int_equal(settled(f, 5000), 3);
	tp_no_plaintext(f);
	/* The trace keeps none of it (a symlink's target neither), and replays the same. */
	tp_replay_equals_live(f, NULL, vals, 1);
	sodium_memzero(v, sizeof(v));
}

static void test_unnamed_file_asks_its_name(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);
	struct sw_data_rec *d;

	/* A chunk without the path (the first was lost): the pipeline asks the fd's name. */
	d = tp_file(f, TP_PID, 90, NULL, buf, len);
	d->fd = 9;
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_NAME_FD);
	assert_int_equal(f->req[0].hdr.tgid, TP_PID);
	assert_int_equal(f->req[0].fd, 9);
	assert_int_equal(f->req[0].dev, TP_UDEV);
	assert_int_equal(f->req[0].ino, 90);
	tp_renamed(f, TP_PID, TP_UDEV, 90, "/w/named");
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->got[0].a.artifact.path, "/w/named");
}

/* Secret i's origin: path, at inode ino of the test device. */
static void origin_at(struct tp *f, int i, const char *path, uint64_t ino)
{
	snprintf(f->sec[i].origin, sizeof(f->sec[i].origin), "%s", path);
	f->sec[i].origin_dev = TP_UDEV;
	f->sec[i].origin_ino = ino;
}

/* A rename record fed (dev: the test device; 0 with ino 0: the name names no file): whether
 * the origins moved. */
static int renamed_moves(struct tp *f, uint32_t pid, uint64_t ino, const char *path)
{
	tp_renamed(f, pid, ino ? TP_UDEV : 0, ino, path);
	tp_feed(f);
	return sw_pipeline__origins_moved(f->p);
}

static void test_origin_and_allowlist_never_alert(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	origin_at(f, 0, "/home/u/.env", 300);
	tp_load_secrets(f);
	tp_file(f, TP_PID, 300, "/home/u/.env", buf, len); /* its origin */
	tp_feed(f);
	tp_file(f, TP_PID, 301, "/dev/null", buf, len); /* policy.yaml allowlists it */
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_file(f, TP_PID, 302, "/w/copy.env", buf, len);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"origin\":{\"type\":\"file\",\"path\":\"/home/u/.env\"}");
}

static void test_exposure_once_per_session(void **state)
{
	struct tp *f = *state;
	char want[128];

	origin_at(f, 1, "/home/u/.aws/credentials", 310);
	tp_load_secrets(f);
	tp_at(f, 10);
	tp_open(f, TP_PID, TP_KDEV, 310, "/home/u/.aws/credentials");
	tp_feed(f);
	assert_int_equal(f->n, 1); /* not held */
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_EXPOSURE);
	assert_int_equal(f->got[0].a.severity, SW_SEV_MEDIUM);
	assert_int_equal(f->got[0].a.time_us, tp_us(10));
	snprintf(want, sizeof(want), "\"secret\":{\"id\":\"%s\",\"name\":\"OTHER_KEY\"",
		 tp_hex(f, 1));
	tp_json_has(f, 0, want);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"file\",\"path\":\"/home/u/.aws/credentials\","
		    "\"dev\":2049,\"ino\":310}");
	tp_json_has(f, 0, "\"session\":{\"id\":7,");
	tp_open(f, TP_ROOT, TP_KDEV, 310, "/home/u/.aws/credentials"); /* same session */
	tp_feed(f);
	tp_open(f, TP_PID, TP_KDEV, 311, "/home/u/other"); /* not an origin */
	tp_feed(f);
	assert_int_equal(f->n, 1);
	f->session = 8;
	tp_open(f, 400, TP_KDEV, 310, "/home/u/.aws/credentials");
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.session.id, 8);
	/* A file the kernel's origins map did not hold (a name made, at an inode a secret imported
	 * later has for its origin, as a replay's set may): no exposure. */
	f->session = 9;
	tp_open(f, 401, TP_KDEV, 310, "/home/u/.aws/credentials")->origin = 0;
	tp_feed(f);
	assert_int_equal(f->n, 2);
}

static void origin_seen(const char *path, uint64_t dev, uint64_t ino, void *ctx)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%s=%llu:%llu;", path,
		 (unsigned long long)dev, (unsigned long long)ino);
}

/* An origin saved by rename (vim, sed -i) names a new inode: the secret follows its path. */
static void test_origin_follows_its_path(void **state)
{
	struct tp *f = *state;
	struct sw_inode_key keys[4];
	char seen[256] = "";
	uint8_t buf[128];
	size_t len = padded(f, 1, buf, 4);

	origin_at(f, 1, "/home/u/.env", 310);
	tp_load_secrets(f);
	assert_int_equal(sw_pipeline__origins_moved(f->p), 0);
	/* Renames of other paths (git's refs) move nothing. */
	assert_int_equal(renamed_moves(f, TP_PID, 311, "/w/.git/refs/heads/main"), 0);
	/* The daemon finds the path naming another file (an editor saved it by rename). */
	assert_int_equal(renamed_moves(f, 0, 320, "/home/u/.env"), 1);
	assert_int_equal(sw_pipeline__origins_moved(f->p), 0);
	assert_int_equal(sw_pipeline__origins(f->p, keys, 4), 1);
	assert_int_equal(keys[0].dev, TP_KDEV);
	assert_int_equal(keys[0].ino, 320);
	sw_pipeline__origin_paths(f->p, origin_seen, seen);
	assert_string_equal(seen, "/home/u/.env=2049:320;");
	/* Told again: no move. */
	assert_int_equal(renamed_moves(f, 0, 320, "/home/u/.env"), 0);
	/* The session reads the new file: exposure; the old inode is no origin now. */
	tp_open(f, TP_PID, TP_KDEV, 310, "/home/u/.env.old");
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_open(f, TP_PID, TP_KDEV, 320, "/home/u/.env");
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_EXPOSURE);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"file\",\"path\":\"/home/u/.env\","
		    "\"dev\":2049,\"ino\":320}");
	/* The secret written back to its origin (the new file) is no spread; to another is. */
	tp_file(f, TP_PID, 320, "/home/u/.env", buf, len);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	/* A session renames a file over it (sed -i): the secret follows again. */
	assert_int_equal(renamed_moves(f, TP_PID, 330, "/home/u/.env"), 1);
	/* A reload puts the set in force as imported (inode 310): the moves still hold. */
	tp_load_secrets(f);
	assert_int_equal(sw_pipeline__origins_moved(f->p), 1);
	assert_int_equal(sw_pipeline__origins(f->p, keys, 4), 1);
	assert_int_equal(keys[0].ino, 330);
	tp_file(f, TP_PID, 330, "/home/u/.env", buf, len);
	tp_feed(f);
	tp_file(f, TP_PID, 340, "/w/copy.env", buf, len);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->got[1].a.artifact.path, "/w/copy.env");
	tp_replay_equals_live(f, NULL, NULL, 0);
}

/* An origin's file moved aside (mv .env .env.bak) and a new file at the path: the secret is in
 * the moved file still, so both are origins, until the aside name names another file or none. */
static void test_origin_moved_aside_keeps_it(void **state)
{
	struct tp *f = *state;
	struct sw_inode_key keys[4];
	uint8_t buf[128];
	size_t len = padded(f, 1, buf, 4);

	origin_at(f, 1, "/home/u/.env", 310);
	tp_load_secrets(f);
	/* A file that is no origin's, renamed: nothing kept. */
	assert_int_equal(renamed_moves(f, TP_PID, 311, "/home/u/notes.bak"), 0);
	/* The origin's file given another name, then a new file at the path. */
	assert_int_equal(renamed_moves(f, TP_PID, 310, "/home/u/.env.bak"), 1);
	assert_int_equal(renamed_moves(f, 0, 320, "/home/u/.env"), 1);
	assert_int_equal(sw_pipeline__origins(f->p, keys, 4), 2);
	assert_int_equal(keys[0].ino, 310);
	assert_int_equal(keys[1].ino, 320);
	/* Reading either is an exposure (one per session); the secret written back into the
	 * moved file is no spread. */
	tp_open(f, TP_PID, TP_KDEV, 310, "/home/u/.env.bak");
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_EXPOSURE);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"file\",\"path\":\"/home/u/.env.bak\","
		    "\"dev\":2049,\"ino\":310}");
	tp_json_has(f, 0, "\"origin\":{\"type\":\"file\",\"path\":\"/home/u/.env\"}");
	f->session = 8;
	tp_open(f, 400, TP_KDEV, 320, "/home/u/.env");
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_file(f, TP_PID, 310, "/home/u/.env.bak", buf, len);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	/* A reload keeps it. */
	tp_load_secrets(f);
	assert_int_equal(sw_pipeline__origins(f->p, keys, 4), 2);
	/* Renamed again: kept under its newest name. */
	tp_renamed(f, TP_PID, TP_UDEV, 310, "/home/u/.env.old");
	tp_feed(f);
	tp_renamed(f, 0, 0, 0, "/home/u/.env.bak");
	tp_feed(f);
	assert_int_equal(sw_pipeline__origins(f->p, keys, 4), 2);
	assert_int_equal(keys[0].ino, 310);
	/* The aside name removed (the daemon tells: ino 0): the inode is no origin now, so a file
	 * that gets it is none. */
	sw_pipeline__origins_moved(f->p);
	assert_int_equal(renamed_moves(f, 0, 0, "/home/u/.env.old"), 1);
	assert_int_equal(sw_pipeline__origins(f->p, keys, 4), 1);
	assert_int_equal(keys[0].ino, 320);
	f->session = 9;
	tp_open(f, 401, TP_KDEV, 310, "/home/u/reused");
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_file(f, 401, 310, "/home/u/reused", buf, len);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->got[2].a.kind, SW_ALERT_SECRET_SPREAD);
	assert_string_equal(f->got[2].a.artifact.path, "/home/u/reused");
	tp_replay_equals_live(f, NULL, NULL, 0);
}

static void test_path_trunc_shows_prefix(void **state)
{
	struct tp *f = *state;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	tp_file(f, TP_PID, 95, "deep/dir/leaf.txt", buf, len)->hdr.flags |= SW_F_PATH_TRUNC;
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->got[0].a.artifact.path, "...deep/dir/leaf.txt");
}

/* A chunk cut (flag) right after the secret's first half: the second half in the next write
 * does not complete it. Without the flag, it does. */
static void cut_carry(struct tp *f, uint16_t flag, size_t expect)
{
	const uint8_t *v = f->sec[0].v;

	tp_file(f, TP_PID, 97, "/w/cut", v, 20)->hdr.flags |= flag;
	tp_feed(f);
	tp_file(f, TP_PID, 97, NULL, v + 20, 20);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, expect);
}

static void test_truncated_chunk_resets_carry(void **state)
{
	cut_carry(*state, SW_F_TRUNCATED, 0);
}

static void test_read_err_chunk_resets_carry(void **state)
{
	cut_carry(*state, SW_F_READ_ERR, 0);
}

static void test_carry_without_cut(void **state)
{
	cut_carry(*state, 0, 1);
}

static void test_flood_control(void **state)
{
	struct tp *f = *state;
	struct sw_pipeline_stats st;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4), i;
	char want[64];

	/* One session writes the secret into 30 new files at once: the burst of 20 passes,
	 * 10 are held back and summarised 10 s after the first one held. */
	tp_at(f, 50);
	for (i = 0; i < 30; i++) {
		tp_file(f, TP_PID, 500 + i, "/w/flood", buf, len);
		tp_feed(f);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 20);
	sw_pipeline__stats(f->p, &st);
	assert_int_equal(st.suppressed, 10);
	tp_tick(f, 10049);
	tp_feed(f);
	assert_int_equal(f->n, 20);
	tp_tick(f, 10050);
	tp_feed(f);
	assert_int_equal(f->n, 21);
	assert_int_equal(f->got[20].a.kind, SW_ALERT_RATE_LIMITED);
	assert_int_equal(f->got[20].a.count, 10);
	assert_int_equal(f->got[20].a.time_us, tp_us(10050));
	snprintf(want, sizeof(want), "\"secret\":{\"id\":\"%s\"", tp_hex(f, 0));
	tp_json_has(f, 20, want);
	tp_json_has(f, 20, "\"session\":{\"id\":7,");
	tp_json_has(f, 20, "\"count\":10");
	/* Another secret in the same session has a bucket of its own. */
	tp_file(f, TP_PID, 600, "/w/other", f->sec[1].v, 40);
	tp_feed(f);
	tp_tick(f, 12000);
	tp_feed(f);
	assert_int_equal(f->n, 22);
	tp_is_spread(f, 21, 1, SW_ART_FILE);
}

static void test_outbox_keeps_until_drained(void **state)
{
	struct tp *f = *state;
	struct sw_loss l = {.ringbuf_full = 1};
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);

	f->autodrain = 0;
	tp_file(f, TP_PID, 98, "/w/a", buf, len);
	tp_feed(f);
	tp_loss(f, &l);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_drain(f);
	assert_int_equal(f->n, 2); /* oldest first */
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_is_spread(f, 1, 0, SW_ART_FILE);
	tp_drain(f);
	assert_int_equal(f->n, 2);
}

static void test_bad_records_counted(void **state)
{
	struct tp *f = *state;
	struct sw_pipeline_stats st;
	uint8_t buf[128];
	size_t len = padded(f, 0, buf, 4);
	struct sw_data_rec *d;

	d = tp_file(f, TP_PID, 99, "/w/a", buf, len);
	d->data_len = 200; /* claims more than it carries */
	assert_int_equal(tp_feed_rc(f), -EBADMSG);
	d = tp_file(f, TP_PID, 99, "/w/a", buf, len);
	d->hdr.type = 99; /* no such record */
	assert_int_equal(tp_feed_rc(f), -EBADMSG);
	d = tp_file(f, TP_PID, 99, "/w/a", buf, len);
	d->hdr.size = sizeof(*d) + 1000; /* larger than what was fed */
	assert_int_equal(sw_pipeline__record(f->p, &tp_rec, sizeof(*d) + 4 + len), -EBADMSG);
	assert_int_equal(sw_pipeline__record(f->p, &tp_rec, 10), -EBADMSG);
	tp_tick(f, 1000);
	tp_feed(f);
	tp_drain(f);
	sw_pipeline__stats(f->p, &st);
	assert_int_equal(st.bad_records, 4);
	assert_int_equal(f->n, 0);
	assert_int_equal(st.data_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tp_setup, tp_teardown)
		T(test_file_alert_fields_and_time),
		T(test_time_follows_latest_tick),
		T(test_held_until_due_then_once),
		T(test_registry_first_time_here),
		T(test_split_across_two_writes),
		T(test_split_across_chunk),
		T(test_encoded_variants),
		T(test_rename_before_hold_expires),
		cmocka_unit_test_setup_teardown(test_names_made_are_places, tp_setup_rec,
						tp_teardown),
		T(test_unnamed_file_asks_its_name),
		T(test_origin_and_allowlist_never_alert),
		cmocka_unit_test_setup_teardown(test_origin_follows_its_path, tp_setup_rec,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_origin_moved_aside_keeps_it, tp_setup_rec,
						tp_teardown),
		T(test_exposure_once_per_session),
		T(test_path_trunc_shows_prefix),
		T(test_truncated_chunk_resets_carry),
		T(test_read_err_chunk_resets_carry),
		T(test_carry_without_cut),
		T(test_flood_control),
		T(test_outbox_keeps_until_drained),
		T(test_bad_records_counted),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
