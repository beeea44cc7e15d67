// SPDX-License-Identifier: Apache-2.0
/* Redaction spans and replay: what the live pipeline marks, the trace log keeps redacted, and
 * a second pipeline fed that recording (sw_pipeline__replay) raises the same alerts at the same
 * times: files, pipes, copies and rescans, exec, sockets, detectors, rules records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "learn.h"
#include "pipeline.h"
#include "testutil.h"

static int setup(void **state)
{
	struct tp *f = tp_new(NULL);

	f->recording = 1;
	tp_world(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	tp_free(*state);
	return 0;
}

static const struct sw_redaction *spans(struct tp *f, size_t *n)
{
	return sw_pipeline__redactions(f->p, n);
}

static int zero_id(const struct sw_redaction *r)
{
	static const uint8_t zero[SW_SECRET_ID_BYTES];

	return !memcmp(r->secret_id, zero, sizeof(zero));
}

static void test_span_carries_secret_id(void **state)
{
	struct tp *f = *state;
	const struct sw_redaction *r;
	size_t base = sizeof(struct sw_data_rec) + 4, n, i, named = 0;
	uint8_t buf[100];

	memset(buf, '.', sizeof(buf));
	memcpy(buf + 30, f->sec[0].v, 40);
	tp_file(f, TP_PID, 50, "/w/a", buf, sizeof(buf));
	tp_feed(f);
	r = spans(f, &n);
	assert_true(n >= 1 && n <= 2);
	for (i = 0; i < n; i++) {
		assert_true(r[i].offset + r[i].length <= base + sizeof(buf));
		if (zero_id(&r[i]))
			continue;
		named++;
		assert_int_equal(r[i].offset, base + 30);
		assert_int_equal(r[i].length, 40);
		assert_memory_equal(r[i].secret_id, f->sec[0].id, SW_SECRET_ID_BYTES);
		assert_int_equal(r[i].variant, SW_VAR_RAW);
	}
	assert_int_equal(named, 1);
	/* A record without any secret, and no tail that may begin one: nothing. */
	tp_tick(f, 100);
	tp_feed(f);
	r = spans(f, &n);
	assert_int_equal(n, 0);
}

static void test_unsettled_tail_has_zero_id(void **state)
{
	struct tp *f = *state;
	const struct sw_redaction *r;
	size_t base = sizeof(struct sw_data_rec) + 4, n;
	uint8_t buf[30];

	/* The write ends with the secret's first 20 bytes: they may begin it. */
	memset(buf, '.', 10);
	memcpy(buf + 10, f->sec[0].v, 20);
	tp_file(f, TP_PID, 51, "/w/b", buf, sizeof(buf));
	tp_feed(f);
	r = spans(f, &n);
	assert_int_equal(n, 1);
	assert_true(zero_id(&r[0]));
	assert_true(r[0].offset <= base + 10);
	assert_int_equal(r[0].offset + r[0].length, base + sizeof(buf));
	/* The next write completes it: its part carries the id. */
	memcpy(buf, f->sec[0].v + 20, 20);
	memset(buf + 20, '.', 10);
	tp_file(f, TP_PID, 51, NULL, buf, sizeof(buf));
	tp_feed(f);
	r = spans(f, &n);
	assert_true(n >= 1);
	assert_false(zero_id(&r[0]));
	assert_memory_equal(r[0].secret_id, f->sec[0].id, SW_SECRET_ID_BYTES);
	assert_int_equal(r[0].offset, sizeof(struct sw_data_rec));
	assert_int_equal(r[0].length, 20);
}

static void test_exec_spans(void **state)
{
	struct tp *f = *state;
	const struct sw_redaction *r;
	char args[64], env[64];
	size_t n, i, base = sizeof(struct sw_exec_rec) + 13;

	memcpy(args, "curl\0-H\0", 8);
	memcpy(args + 8, f->sec[0].v, 40);
	args[48] = 0;
	memcpy(env, "X=", 2);
	memcpy(env + 2, f->sec[1].v, 40);
	env[42] = 0;
	tp_exec(f, 102, "/usr/bin/curl", args, 49, env, 43);
	tp_feed(f);
	r = spans(f, &n);
	assert_int_equal(n, 2); /* whole strings: no unsettled tail */
	for (i = 0; i < n; i++) {
		assert_false(zero_id(&r[i]));
		assert_int_equal(r[i].length, 40);
	}
	assert_int_equal(r[0].offset, base + 8);
	assert_memory_equal(r[0].secret_id, f->sec[0].id, SW_SECRET_ID_BYTES);
	assert_int_equal(r[1].offset, base + 49 + 2);
	assert_memory_equal(r[1].secret_id, f->sec[1].id, SW_SECRET_ID_BYTES);
}

/* The replay of f's recording raises its alerts (at least one), byte for byte. */
static void replay_equals_live(struct tp *f, const struct sw_rules *rules)
{
	assert_true(f->n > 0);
	tp_replay_equals_live(f, rules, NULL, 0);
}

static void test_replay_files(void **state)
{
	struct tp *f = *state;
	uint8_t buf[100];

	memset(buf, ',', sizeof(buf));
	memcpy(buf + 70, f->sec[0].v, 30); /* split across two writes */
	tp_at(f, 10);
	tp_file(f, TP_PID, 60, "/w/tmp", buf, sizeof(buf));
	tp_feed(f);
	tp_at(f, 20);
	tp_file(f, TP_PID, 60, NULL, f->sec[0].v + 30, 10);
	tp_feed(f);
	tp_at(f, 30);
	tp_renamed(f, TP_PID, TP_UDEV, 60, "/w/final");
	tp_feed(f);
	tp_at(f, 40);
	tp_file(f, TP_ROOT, 61, "/w/other", f->sec[1].v, 40);
	tp_feed(f);
	tp_open(f, TP_PID, TP_KDEV, 62, "/w/nothing");
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->got[0].a.artifact.path, "/w/final");
	replay_equals_live(f, NULL);
}

static void test_replay_pipes(void **state)
{
	struct tp *f = *state;

	tp_at(f, 10);
	tp_data(f, TP_PID, SW_AK_PIPE, 800, NULL, f->sec[0].v, 40);
	tp_feed(f);
	tp_data(f, TP_PID, SW_AK_PIPE, 801, NULL, f->sec[1].v, 40);
	tp_feed(f);
	/* Due: the first pipe's reader is asked; the second waits behind it in line and is asked
	 * for once the first is answered. */
	tp_tick(f, 600);
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].ino, 800);
	tp_reader(f, TP_ROOT, 800, "/usr/bin/claude");
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_READER);
	assert_int_equal(f->req[0].ino, 801);
	tp_reader(f, 0, 801, NULL);
	tp_feed(f);
	assert_int_equal(f->nreq, 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[0].a.severity, SW_SEV_CRITICAL);
	replay_equals_live(f, NULL);
}

static void test_replay_copies_and_rescans(void **state)
{
	struct tp *f = *state;
	struct sw_request q;
	uint8_t buf[64];

	memset(buf, '~', sizeof(buf));
	memcpy(buf + 10, f->sec[0].v, 40);
	tp_at(f, 10);
	tp_copy(f, TP_PID, 1000, "/w/dst", 1001, "/w/src", 0, sizeof(buf));
	tp_feed(f);
	q = tp_keep(f, 0);
	tp_at(f, 11);
	tp_readback(f, &q, 0, buf, sizeof(buf), SW_F_FIRST | SW_F_LAST);
	tp_feed(f);
	tp_at(f, 20);
	tp_file(f, TP_PID, 1100, "/w/db", "header", 6)->file_pos = 0;
	tp_feed(f);
	tp_closed(f, TP_PID, TP_UDEV, 1100);
	tp_feed(f);
	q = tp_keep(f, 0);
	assert_int_equal(q.kind, SW_REQ_READBACK);
	memcpy(buf + 10, f->sec[1].v, 40);
	tp_at(f, 21);
	tp_readback(f, &q, 0, buf, 30, SW_F_FIRST);
	tp_feed(f);
	tp_readback(f, &q, 30, buf + 30, 34, SW_F_LAST);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	replay_equals_live(f, NULL);
}

static void test_replay_exec(void **state)
{
	struct tp *f = *state;
	char args[64], env[64];

	memcpy(args, "curl\0-H\0", 8);
	memcpy(args + 8, f->sec[0].v, 40);
	args[48] = 0;
	memcpy(env, "X=", 2);
	memcpy(env + 2, f->sec[1].v, 40);
	env[42] = 0;
	tp_at(f, 10);
	tp_exec(f, 102, "/usr/bin/curl", args, 49, env, 43);
	tp_feed(f);
	tp_file(f, 102, 70, "/w/out", f->sec[1].v, 40); /* argv shown redacted */
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 3);
	replay_equals_live(f, NULL);
}

static void test_replay_sockets(void **state)
{
	struct tp *f = *state;
	struct sw_data_rec *d;

	tp_at(f, 10);
	d = tp_data(f, TP_PID, SW_AK_SOCKET, 700, NULL, f->sec[0].v, 40);
	d->family = AF_INET;
	d->protocol = IPPROTO_TCP;
	d->port = 443;
	inet_pton(AF_INET, "10.0.0.9", d->addr);
	tp_feed(f);
	d = tp_data(f, TP_PID, SW_AK_SOCKET, 701, "/run/s.sock", f->sec[1].v, 40);
	d->family = AF_UNIX;
	tp_feed(f);
	assert_int_equal(f->n, 2);
	replay_equals_live(f, NULL);
}

static void test_replay_detectors(void **state)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct tp *f = *state;
	struct rng r = {77};
	char tok[64];
	size_t i;

	memcpy(tok, "glpat-", 6);
	for (i = 6; i < 32; i++)
		tok[i] = b62[rng_next(&r) % 62];
	tok[32] = '\n';
	tp_at(f, 10);
	tp_file(f, TP_PID, 80, "/w/notes", tok, 33);
	tp_feed(f);
	tp_at(f, 20);
	tp_file(f, TP_PID, 81, "/w/again", tok, 33);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_DISCOVERED);
	assert_int_equal(f->got[1].a.kind, SW_ALERT_SECRET_SPREAD);
	for (i = 0; i < f->nlog; i++)
		assert_null(memmem(f->log[i].rec, f->log[i].size, tok, 32));
	replay_equals_live(f, NULL);
	sodium_memzero(tok, sizeof(tok));
}

static void test_replay_runs_recorded_rules(void **state)
{
	struct tp *f = *state;
	struct sw_rules_error err;
	struct sw_rules *fixed;
	struct tp *g;
	size_t i;

	tp_rules(f, "severity:\n  file: critical\n");
	tp_feed(f);
	tp_at(f, 10);
	tp_file(f, TP_PID, 90, "/w/a", f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.severity, SW_SEV_CRITICAL);
	replay_equals_live(f, NULL);
	/* replay --rules: the rules given win over the recorded ones. */
	fixed = sw_rules__load_embedded(&err);
	assert_non_null(fixed);
	g = tp_new(fixed);
	for (i = 0; i < f->nlog; i++) {
		sw_pipeline__replay(g->p, f->log[i].rec, f->log[i].size, f->log[i].red,
				    f->log[i].nred);
		tp_drain(g);
	}
	assert_int_equal(g->n, 1);
	assert_int_equal(g->got[0].a.severity, SW_SEV_MEDIUM);
	assert_int_equal(g->got[0].a.time_us, f->got[0].a.time_us);
	tp_free(g);
	sw_rules__free(fixed);
}

static void test_replay_proc_argv(void **state)
{
	struct tp *f = *state;
	char args[64];

	/* What /proc said of a process whose argv holds a secret: shown redacted, live and
	 * replayed alike. */
	memcpy(args, "tool\0--key\0", 11);
	memcpy(args + 11, f->sec[0].v, 40);
	args[51] = 0;
	tp_proc(f, 500, "/usr/bin/tool", args, 52);
	tp_feed(f);
	tp_at(f, 10);
	tp_file(f, 500, 95, "/w/out", f->sec[1].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"argv\":[\"tool\",\"--key\",\"[redacted]\"]");
	replay_equals_live(f, NULL);
}

static void test_replay_discovered_in_argv(void **state)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct tp *f = *state;
	struct rng r = {5};
	char args[128], tok[41];
	size_t i, n;

	memcpy(tok, "ghp_", 4);
	for (i = 4; i < 40; i++)
		tok[i] = b62[rng_next(&r) % 62];
	tok[40] = 0;
	n = snprintf(args, sizeof(args), "git%cclone%chttps://x:%s@github.com/o/r", 0, 0, tok) + 1;
	tp_at(f, 10);
	tp_exec(f, 102, "/usr/bin/git", args, n, "", 0);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_DISCOVERED);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"exec_arg\",\"path\":\"/usr/bin/git\",\"index\":2}");
	tp_json_has(f, 0, "\"argv\":[\"git\",\"clone\",\"[redacted]\"]");
	for (i = 0; i < f->n; i++)
		assert_null(strstr(f->got[i].json, tok));
	for (i = 0; i < f->nlog; i++)
		assert_null(memmem(f->log[i].rec, f->log[i].size, tok, 40));
	replay_equals_live(f, NULL);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(args, sizeof(args));
}

static void test_daemon_restart_in_recording(void **state)
{
	struct tp *f = *state;

	/* A trace of two daemon runs. The first leaves a held alert and half a secret. */
	tp_at(f, 10);
	tp_file(f, TP_PID, 97, "/w/a", f->sec[0].v, 40);
	tp_feed(f);
	tp_file(f, TP_PID, 98, "/w/b", f->sec[1].v, 20);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	/* The next daemon's first tick: what the first did at its stop happens now (held alerts
	 * out), and what it knew is forgotten. */
	tp_tick(f, 100)->hdr.flags = SW_F_FIRST;
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	assert_int_equal(f->got[0].a.time_us, tp_us(10));
	assert_false(sw_pipeline__knows(f->p, TP_PID));
	assert_false(sw_pipeline__knows(f->p, TP_ROOT));
	/* A new daemon never saw the first half: the rest completes nothing, and a syscall's
	 * chunk without its beginning is a gap it says. */
	tp_at(f, 110);
	tp_file(f, TP_PID, 98, NULL, f->sec[1].v + 20, 20)->hdr.flags = SW_F_LAST;
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 1, "\"chunks_lost\":1");
	replay_equals_live(f, NULL);
}

/* A daemon's stop is a record (its last tick): the read-backs it asks for follow it in the
 * recording, and a covered mapping whose last-chance read-back fails is reported in the replay
 * as it was live. */
static void test_stop_tick_in_recording(void **state)
{
	struct tp *f = *state;
	struct sw_request q;
	size_t n;

	tp_channel(f, TP_PID, SW_CH_MMAP_SHARED, 1300, "/w/mapped");
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_tick(f, 500)->hdr.flags = SW_F_LAST;
	tp_feed(f);
	n = f->nreq;
	assert_true(n >= 1); /* the process's read-back, and the mapping's last chance */
	assert_int_equal(f->req[n - 1].kind, SW_REQ_READBACK);
	q = tp_keep(f, n - 1);
	tp_readback(f, &q, 0, NULL, 0, SW_F_FIRST | SW_F_LAST | SW_F_READ_ERR);
	tp_feed(f);
	sw_pipeline__finish(f->p);
	tp_drain(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_UNMONITORED_CHANNEL);
	replay_equals_live(f, NULL);
}

/* Gone at its process's exit (exit_mm drops the mapping after the exit record), then its close
 * hands the file over: read back through it, not reported. With no close, reported once, after
 * four ticks; at the end, whatever still waits is reported. Replay equals live each time. */
static void gone_at_exit(struct tp *f)
{
	struct sw_request q;
	size_t i, n;

	n = tp_mapped_exit(f, 1300, "/w/db-shm");
	for (i = 0; i < n; i++) {
		q = tp_keep(f, i);
		tp_readback(f, &q, 0, NULL, 0, SW_F_FIRST | SW_F_LAST | SW_F_READ_ERR | SW_F_GONE);
	}
	tp_feed(f);
	assert_int_equal(f->n, 0);
}

static void test_gone_mapping_read_back_at_close(void **state)
{
	struct tp *f = *state;
	struct sw_request q;

	gone_at_exit(f);
	tp_tick(f, 250);
	tp_feed(f);
	tp_closed(f, TP_PID, TP_UDEV, 1300);
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	q = tp_keep(f, 0);
	assert_true(q.settle);
	assert_int_equal(q.ino, 1300);
	/* What the process wrote through the mapping is in the file the close handed over. */
	tp_readback(f, &q, 0, f->sec[0].v, f->sec[0].len, SW_F_FIRST | SW_F_LAST | SW_F_SETTLED);
	tp_feed(f);
	tp_tick(f, 5000);
	tp_feed(f);
	sw_pipeline__finish(f->p);
	f->finished = 1;
	tp_drain(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_SPREAD);
	tp_json_has(f, 0, "\"path\":\"/w/db-shm\"");
	replay_equals_live(f, NULL);
}

static void test_gone_mapping_without_close_reported(void **state)
{
	struct tp *f = *state;
	int t;

	gone_at_exit(f);
	for (t = 1; t <= 3; t++) {
		tp_tick(f, 250 * t);
		tp_feed(f);
		assert_int_equal(f->n, 0);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_UNMONITORED_CHANNEL);
	tp_json_has(f, 0, "the file was gone before it could be read back");
	tp_json_has(f, 0, "\"path\":\"/w/db-shm\"");
	tp_tick(f, 5000);
	tp_feed(f);
	sw_pipeline__finish(f->p);
	f->finished = 1;
	tp_drain(f);
	assert_int_equal(f->n, 1);
	replay_equals_live(f, NULL);
}

static void test_gone_mapping_at_finish_reported(void **state)
{
	struct tp *f = *state;

	gone_at_exit(f);
	sw_pipeline__finish(f->p);
	f->finished = 1;
	tp_drain(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "the file was gone before it could be read back");
	replay_equals_live(f, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_span_carries_secret_id),
		T(test_unsettled_tail_has_zero_id),
		T(test_exec_spans),
		T(test_replay_files),
		T(test_replay_pipes),
		T(test_replay_copies_and_rescans),
		T(test_replay_exec),
		T(test_replay_sockets),
		T(test_replay_detectors),
		T(test_replay_runs_recorded_rules),
		T(test_replay_proc_argv),
		T(test_replay_discovered_in_argv),
		T(test_gone_mapping_read_back_at_close),
		T(test_gone_mapping_without_close_reported),
		T(test_gone_mapping_at_finish_reported),
		T(test_daemon_restart_in_recording),
		T(test_stop_tick_in_recording),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
