// SPDX-License-Identifier: Apache-2.0
/* The pipeline at its edges, driven by records: socket peers and ttys, agent places
 * (transcripts, tool output), the pipeline's own gaps (matches dropped, read-backs cut or
 * failed), a pipe reader answer that never came, flood summaries at the end, and a replay
 * carrying secrets the set no longer holds. */
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

#include "delivery.h"
#include "pipeline.h"
#include "testutil.h"

static void test_transcript_place(void **state)
{
	struct tp *f = *state;

	tp_file(f, TP_ROOT, 100, "/home/u/.claude/projects/w/s1.jsonl", f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_FILE);
	assert_int_equal(f->got[0].a.severity, SW_SEV_HIGH);
	tp_json_has(f, 0, "\"message\":\"the claude agent's transcript\"");
}

static void test_tool_output_place(void **state)
{
	struct tp *f = *state;

	tp_file(f, TP_PID, 101, "/tmp/claude-1000/-w/tasks/b7.output", f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.severity, SW_SEV_CRITICAL);
	tp_json_has(f, 0, "tool output the claude agent reads back");
}

static void test_matches_dropped_gap(void **state)
{
	static uint8_t buf[300 * 40];
	struct tp *f = *state;
	struct sw_pipeline_stats st;
	size_t i;

	/* 300 matches in one write: 256 are handled, 44 counted as a gap. */
	for (i = 0; i < 300; i++)
		memcpy(buf + 40 * i, f->sec[0].v, 40);
	tp_file(f, TP_PID, 110, "/w/many", buf, sizeof(buf));
	tp_feed(f);
	sw_pipeline__stats(f->p, &st);
	assert_int_equal(st.matches, 256);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 0, "\"gaps\":{\"matches_dropped\":44}");
	tp_is_spread(f, 1, 0, SW_ART_FILE);
	sodium_memzero(buf, sizeof(buf));
}

static void test_rescan_cut_at_bound_gap(void **state)
{
	static const uint8_t junk[8] = {1};
	struct tp *f = *state;
	struct sw_request q;

	tp_file(f, TP_PID, 120, "/w/big.db", junk, sizeof(junk))->file_pos = 0;
	tp_feed(f);
	tp_closed(f, TP_PID, TP_UDEV, 120);
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	q = tp_keep(f, 0);
	/* The source stopped at readback_max_bytes with more in the file. */
	tp_readback(f, &q, 0, junk, sizeof(junk), SW_F_FIRST | SW_F_LAST | SW_F_TRUNCATED);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"gaps\":{\"readback_truncated\":1}");
}

static void test_reader_asked_again_when_unanswered(void **state)
{
	struct tp *f = *state;

	tp_at(f, 10);
	tp_data(f, TP_PID, SW_AK_PIPE, 130, NULL, f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, 600);
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_READER);
	/* The answer was lost: the next tick asks again, and nothing leaves meanwhile. */
	tp_tick(f, 1200);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_READER);
	assert_int_equal(f->req[0].ino, 130);
	/* A file alert due behind it waits in line too, and leaves with it. */
	tp_at(f, 1300);
	tp_file(f, TP_PID, 131, "/w/after", f->sec[1].v, 40);
	tp_feed(f);
	tp_tick(f, 1900);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_reader(f, TP_ROOT, 130, "/usr/bin/claude");
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_is_spread(f, 0, 0, SW_ART_PIPE);
	assert_int_equal(f->got[0].a.time_us, tp_us(10));
	tp_is_spread(f, 1, 1, SW_ART_FILE);
}

static void test_replay_unknown_secret_counted(void **state)
{
	struct tp *f = *state;
	struct sw_pipeline_stats st;
	struct tp *g;
	size_t i;

	f->recording = 1;
	tp_file(f, TP_PID, 140, "/w/a", f->sec[1].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	/* Replayed where OTHER_KEY is no longer tracked: no alert, counted. */
	g = tp_new(NULL);
	g->nsec = 1;
	tp_load_secrets(g);
	for (i = 0; i < f->nlog; i++)
		sw_pipeline__replay(g->p, f->log[i].rec, f->log[i].size, f->log[i].red,
				    f->log[i].nred);
	tp_drain(g);
	sw_pipeline__stats(g->p, &st);
	assert_int_equal(g->n, 0);
	assert_int_equal(st.replay_unknown, 1);
	tp_free(g);
}

static void test_close_of_file_two_wrote_reads_back_once(void **state)
{
	static const char args[] = "sqlite3";
	static const uint8_t junk[8] = {1};
	struct tp *f = *state;

	tp_proc(f, 102, "/usr/bin/sqlite3", args, sizeof(args));
	tp_feed(f);
	tp_file(f, TP_PID, 150, "/w/shared.db", junk, sizeof(junk))->file_pos = 0;
	tp_feed(f);
	tp_file(f, 102, 150, "/w/shared.db", junk, sizeof(junk))->file_pos = 64;
	tp_feed(f);
	/* One close of the file: one read-back of it, not one per writer that touched it. */
	tp_closed(f, TP_PID, TP_UDEV, 150);
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_READBACK);
	assert_int_equal(f->req[0].ino, 150);
}

static void test_flood_summary_survives_rules_record(void **state)
{
	struct tp *f = *state;
	size_t i;

	tp_at(f, 10);
	for (i = 0; i < 25; i++) {
		tp_file(f, TP_PID, 160 + i, "/w/flood", f->sec[0].v, 40);
		tp_feed(f);
	}
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 20);
	/* New rules (a replay of a trace spanning a restart): the 5 held back are still told. */
	tp_rules(f, NULL);
	tp_feed(f);
	tp_tick(f, 10010);
	tp_feed(f);
	tp_tick(f, 20010);
	tp_feed(f);
	assert_int_equal(f->n, 21);
	assert_int_equal(f->got[20].a.kind, SW_ALERT_RATE_LIMITED);
	assert_int_equal(f->got[20].a.count, 5);
}

static void test_finish_tells_flood_held_back(void **state)
{
	struct tp *f = *state;
	size_t i;

	tp_at(f, 10);
	for (i = 0; i < 25; i++) {
		tp_file(f, TP_PID, 180 + i, "/w/flood", f->sec[0].v, 40);
		tp_feed(f);
	}
	/* The daemon stops 2 s later: nothing held back goes untold. */
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 20);
	sw_pipeline__stop(f->p);
	sw_pipeline__finish(f->p);
	tp_drain(f);
	assert_int_equal(f->n, 21);
	assert_int_equal(f->got[20].a.kind, SW_ALERT_RATE_LIMITED);
	assert_int_equal(f->got[20].a.count, 5);
}

static void tty_leak(struct tp *f, uint32_t reader, uint64_t at_ms);

static void test_record_older_than_tick(void **state)
{
	struct tp *f = *state;

	/* The ring is drained after the tick: a record made 100 ms before it maps back. */
	tp_tick(f, 5000);
	tp_feed(f);
	tp_at(f, 4900);
	tty_leak(f, 0, 5600);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.time_us, tp_us(4900));
}

static void test_sendfile_to_socket_alerts_peer(void **state)
{
	struct tp *f = *state;
	struct sw_request q;
	struct sw_data_rec *d;

	/* sendfile(socket, file): the socket's bytes are the file's, read back. */
	d = tp_copy(f, TP_PID, 190, NULL, 191, "/w/secret.txt", 0, 40);
	d->art_kind = SW_AK_SOCKET;
	d->family = 2; /* AF_INET */
	d->protocol = 6;
	d->port = 8080;
	d->addr[0] = 127;
	d->addr[3] = 1;
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	q = tp_keep(f, 0);
	assert_string_equal(q.path, "/w/secret.txt");
	tp_readback(f, &q, 0, f->sec[0].v, 40, SW_F_FIRST | SW_F_LAST);
	tp_feed(f);
	assert_int_equal(f->n, 1); /* sockets are not held */
	tp_is_spread(f, 0, 0, SW_ART_SOCKET);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"socket\",\"proto\":\"tcp\",\"peer\":"
		    "\"127.0.0.1:8080\"}");
}

static void test_origins_in_kernel_encoding(void **state)
{
	struct tp *f = *state;
	struct sw_inode_key k[4];

	f->sec[1].origin_dev = TP_UDEV;
	f->sec[1].origin_ino = 77;
	snprintf(f->sec[1].origin, sizeof(f->sec[1].origin), "/home/u/.env");
	tp_load_secrets(f);
	assert_int_equal(sw_pipeline__origins(f->p, k, 4), 1);
	assert_int_equal(k[0].dev, TP_KDEV);
	assert_int_equal(k[0].ino, 77);
}

static void test_rescan_first_starts_fresh(void **state)
{
	static const uint8_t junk[8] = {1};
	struct tp *f = *state;
	struct sw_request q;

	tp_file(f, TP_PID, 195, "/w/r.db", junk, sizeof(junk))->file_pos = 0;
	tp_feed(f);
	tp_closed(f, TP_PID, TP_UDEV, 195);
	tp_feed(f);
	q = tp_keep(f, 0);
	/* A read-back that never ended (its last chunk lost), then the next one from the top:
	 * the two do not join. */
	tp_readback(f, &q, 0, f->sec[0].v, 20, SW_F_FIRST);
	tp_feed(f);
	tp_readback(f, &q, 0, f->sec[0].v + 20, 20, SW_F_FIRST | SW_F_LAST);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 0);
}

static void test_readback_of_gone_file_no_gap(void **state)
{
	struct tp *f = *state;
	struct sw_request q;

	/* A copy's source deleted before it was read back: nothing was there to miss. */
	tp_copy(f, TP_PID, 196, "/w/dst", 197, "/w/tmp-src", 0, 100);
	tp_feed(f);
	q = tp_keep(f, 0);
	tp_readback(f, &q, 0, NULL, 0, SW_F_FIRST | SW_F_LAST | SW_F_READ_ERR | SW_F_GONE);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	/* Unreadable while it exists: a gap. */
	tp_readback(f, &q, 0, NULL, 0, SW_F_FIRST | SW_F_LAST | SW_F_READ_ERR);
	tp_feed(f);
	tp_tick(f, 2000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"gaps\":{\"readback_failed\":1}");
}

/* A write to a socket: not held, the peer names the place. */
static void sock(struct tp *f, uint64_t ino, uint16_t family, uint16_t proto, const void *addr,
		 uint16_t port, const char *unix_path)
{
	struct sw_data_rec *d =
		tp_data(f, TP_PID, SW_AK_SOCKET, ino, unix_path, f->sec[0].v, f->sec[0].len);

	d->family = family;
	d->sock_type = proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	d->protocol = proto;
	d->port = port;
	if (addr)
		memcpy(d->addr, addr, family == AF_INET6 ? 16 : 4);
	tp_feed(f);
}

static void test_socket_peers(void **state)
{
	struct tp *f = *state;
	uint8_t v4[4], v6[16];

	inet_pton(AF_INET, "10.1.2.3", v4);
	inet_pton(AF_INET6, "2001:db8::7", v6);
	sock(f, 700, AF_INET, IPPROTO_TCP, v4, 443, NULL);
	assert_int_equal(f->n, 1);
	sock(f, 701, AF_INET6, IPPROTO_TCP, v6, 8443, NULL);
	sock(f, 702, AF_INET, IPPROTO_UDP, v4, 53, NULL);
	sock(f, 703, AF_UNIX, 0, NULL, 0, "/run/agent.sock");
	sock(f, 704, AF_INET, IPPROTO_TCP, v4, 443, NULL); /* same peer, other socket */
	assert_int_equal(f->n, 4);
	tp_json_has(
		f, 0,
		"\"artifact\":{\"type\":\"socket\",\"proto\":\"tcp\",\"peer\":\"10.1.2.3:443\"}");
	tp_json_has(f, 1,
		    "\"artifact\":{\"type\":\"socket\",\"proto\":\"tcp\",\"peer\":\"[2001:db8::7]:"
		    "8443\"}");
	tp_json_has(
		f, 2,
		"\"artifact\":{\"type\":\"socket\",\"proto\":\"udp\",\"peer\":\"10.1.2.3:53\"}");
	tp_json_has(f, 3,
		    "\"artifact\":{\"type\":\"socket\",\"proto\":\"unix\",\"peer\":\"/run/"
		    "agent.sock\"}");
	assert_int_equal(f->got[0].a.severity, SW_SEV_HIGH);
	assert_int_equal(f->got[0].a.time_us, tp_us(0));
}

/* A terminal alert is the terminal (one place), decided at once; as it leaves, the reader of
 * its pty (an agent process holding the master side) is asked for: only the severity waits. */
static void tty_leak(struct tp *f, uint32_t reader, uint64_t at_ms)
{
	struct sw_data_rec *d;
	struct sw_reader_rec *r;

	d = tp_data(f, TP_PID, SW_AK_TTY, 0, "/dev/pts/3", f->sec[0].v, 40);
	d->rdev = (136 << 20) | 3;
	tp_feed(f);
	assert_int_equal(f->n, 0); /* held */
	tp_tick(f, at_ms);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_READER);
	assert_int_equal(f->req[0].ino, 0);
	assert_int_equal(f->req[0].dev, (136 << 20) | 3);
	assert_string_equal(f->req[0].path, "/dev/pts/3");
	assert_true(f->req[0].ncand >= 1);
	assert_int_equal(f->req[0].cand[0], TP_ROOT); /* the session's root is its agent */
	r = tp_reader(f, reader, 0, NULL);
	r->dev = (136 << 20) | 3;
	tp_feed(f);
}

static void test_tty(void **state)
{
	struct tp *f = *state;
	struct sw_data_rec *d;

	tty_leak(f, 0, 600);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_TTY);
	assert_int_equal(f->got[0].a.severity, SW_SEV_LOW);
	tp_json_has(f, 0, "\"artifact\":{\"type\":\"tty\",\"path\":\"/dev/pts/3\"}");
	/* The same terminal again: no second alert. */
	d = tp_data(f, TP_PID, SW_AK_TTY, 0, "/dev/pts/3", f->sec[0].v, 40);
	d->rdev = (136 << 20) | 3;
	tp_feed(f);
	tp_tick(f, 1200);
	tp_feed(f);
	assert_int_equal(f->n, 1);
}

static void test_tty_read_by_agent_is_critical(void **state)
{
	struct tp *f = *state;

	tty_leak(f, TP_ROOT, 600);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.severity, SW_SEV_CRITICAL);
	tp_json_has(f, 0, "tool output through a terminal the agent reads");
	tp_json_has(f, 0, "\"artifact\":{\"type\":\"tty\",\"path\":\"/dev/pts/3\"}");
}

static void test_held_queue_full(void **state)
{
	struct tp *f = *state;
	size_t i, answered = 0;

	/* More pipe alerts than can wait for their readers at once (each in its own session:
	 * flood control stays out): the ones without room are lost, and said to be. A file alert
	 * without room goes out at once instead. */
	for (i = 0; i < SW_DELIVERY_HELD_MAX + 6; i++) {
		f->session = 1000 + i;
		tp_data(f, TP_PID, SW_AK_PIPE, 5000 + i, NULL, f->sec[0].v, 40);
		tp_feed(f);
	}
	assert_int_equal(f->n, 0);
	tp_file(f, TP_PID, 4999, "/w/now", f->sec[1].v, 40);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 1, SW_ART_FILE);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 1, "\"gaps\":{\"alerts_dropped\":6}");
	/* Each answer lets one pipe alert go and asks for the next reader. */
	while (f->nreq == 1 && answered < 2 * SW_DELIVERY_HELD_MAX) {
		assert_int_equal(f->req[0].kind, SW_REQ_READER);
		tp_reader(f, 0, f->req[0].ino, NULL);
		tp_feed(f);
		answered++;
	}
	assert_int_equal(answered, SW_DELIVERY_HELD_MAX);
	assert_int_equal(f->n, 2 + 1); /* one reader, seen before for the same secret */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tp_setup, tp_teardown)
		T(test_transcript_place),
		T(test_tool_output_place),
		T(test_matches_dropped_gap),
		T(test_rescan_cut_at_bound_gap),
		T(test_reader_asked_again_when_unanswered),
		T(test_replay_unknown_secret_counted),
		T(test_close_of_file_two_wrote_reads_back_once),
		T(test_flood_summary_survives_rules_record),
		T(test_finish_tells_flood_held_back),
		T(test_record_older_than_tick),
		T(test_sendfile_to_socket_alerts_peer),
		T(test_origins_in_kernel_encoding),
		T(test_rescan_first_starts_fresh),
		T(test_readback_of_gone_file_no_gap),
		T(test_socket_peers),
		T(test_tty),
		T(test_tty_read_by_agent_is_critical),
		T(test_held_queue_full),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
