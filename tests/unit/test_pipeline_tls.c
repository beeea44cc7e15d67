// SPDX-License-Identifier: Apache-2.0
/* The pipeline's TLS part, driven by records: a TLS write named by its socket and the server
 * name its ClientHello carried; a write whose socket was a guess named by its thread's next TCP
 * write (or, after a second, as it was); the guard's verdicts (redact with every span, block,
 * resume) and their alerts' action; a verdict that came too late as a gap; a TLS stack no
 * uprobe sees: one unmonitored_channel per binary, then inferred spreads once a secret is in
 * the agent's context; and one nothing recognised, told by application data on a connection
 * with no plaintext at a hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "pipeline.h"
#include "testutil.h"

#define BUF_ADDR 0x7f0000001000ull

/* A ClientHello naming name (tlshello's format: one record, one server_name). */
static size_t hello(uint8_t *b, const char *name)
{
	size_t n = 0, nl = strlen(name), hs, i;

	b[n++] = 22, b[n++] = 3, b[n++] = 1, n += 2;
	b[n++] = 1, n += 3;
	hs = n;
	b[n++] = 3, b[n++] = 3;
	for (i = 0; i < 32; i++)
		b[n++] = (uint8_t)i;
	b[n++] = 0;					   /* session id */
	b[n++] = 0, b[n++] = 2, b[n++] = 0x13, b[n++] = 1; /* one suite */
	b[n++] = 1, b[n++] = 0;				   /* compression */
	b[n++] = 0, b[n++] = (uint8_t)(nl + 9);		   /* extensions */
	b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = (uint8_t)(nl + 5);
	b[n++] = 0, b[n++] = (uint8_t)(nl + 3), b[n++] = 0, b[n++] = 0, b[n++] = (uint8_t)nl;
	memcpy(b + n, name, nl);
	n += nl;
	b[hs - 3] = 0, b[hs - 2] = (uint8_t)((n - hs) >> 8), b[hs - 1] = (uint8_t)(n - hs);
	b[3] = (uint8_t)((n - 5) >> 8), b[4] = (uint8_t)(n - 5);
	return n;
}

/* A TCP socket write by pid on fd (socket inode ino) to 127.0.0.1:port. */
static void tcp(struct tp *f, uint32_t pid, int fd, uint64_t ino, uint16_t port, const void *data,
		size_t len)
{
	struct sw_data_rec *d = tp_data(f, pid, SW_AK_SOCKET, ino, NULL, data, len);

	d->syscall_nr = 1;
	d->fd = fd;
	d->family = AF_INET;
	d->sock_type = SOCK_STREAM;
	d->protocol = IPPROTO_TCP;
	d->port = port;
	inet_pton(AF_INET, "127.0.0.1", d->addr);
	tp_feed(f);
}

/* A TLS write (uprobe) by pid: its socket fd/ino/port (0: none known), extra header flags. */
static struct sw_data_rec *tls(struct tp *f, uint32_t pid, int fd, uint64_t ino, uint16_t port,
			       uint16_t flags, const void *data, size_t len)
{
	struct sw_data_rec *d = tp_data(f, pid, SW_AK_TLS, ino, NULL, data, len);

	d->hdr.flags |= flags;
	d->syscall_nr = SW_NR_TLS + SW_TLSW_SSL_WRITE;
	d->fd = fd;
	if (port) {
		d->family = AF_INET;
		d->sock_type = SOCK_STREAM;
		d->protocol = IPPROTO_TCP;
		d->port = port;
		inet_pton(AF_INET, "127.0.0.1", d->addr);
	}
	return d;
}

/* "k=" SECRET "&x=1" */
static size_t body(const struct tp *f, int s, uint8_t *out)
{
	memcpy(out, "k=", 2);
	memcpy(out + 2, f->sec[s].v, f->sec[s].len);
	memcpy(out + 2 + f->sec[s].len, "&x=1", 4);
	return f->sec[s].len + 6;
}

static const struct sw_request *verdict(const struct tp *f)
{
	size_t i;

	for (i = 0; i < f->nreq; i++)
		if (f->req[i].kind == SW_REQ_VERDICT)
			return &f->req[i];
	return NULL;
}

static void test_named_by_socket_and_sni(void **state)
{
	struct tp *f = *state;
	uint8_t h[256], b[128];

	tcp(f, TP_ROOT, 5, 500, 443, h, hello(h, "api.example.com"));
	tls(f, TP_ROOT, 5, 500, 443, 0, b, body(f, 0, b));
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_TLS);
	assert_int_equal(f->got[0].a.severity, SW_SEV_CRITICAL);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:443\","
		    "\"sni\":\"api.example.com\"}");
	assert_null(strstr(f->got[0].json, "\"action\""));
	assert_null(verdict(f)); /* not held: no verdict */
	/* The same secret to the same place: no second alert. */
	tls(f, TP_ROOT, 5, 500, 443, 0, b, body(f, 0, b));
	tp_feed(f);
	assert_int_equal(f->n, 1);
}

static void test_hello_kept_whole_in_the_trace(void **state)
{
	struct tp *f = *state;
	uint8_t h[256], b[128];
	size_t n, nred;

	/* A ClientHello ending in the first bytes of a secret: a write that ends so is kept
	 * unsettled (redacted in the trace), but a ClientHello is no secret's beginning, and a
	 * replay must read the same server name. */
	char name[32] = "x.";

	memcpy(name + 2, f->sec[0].v, 12); /* base62: a host name's bytes */
	n = hello(h, name);
	tcp(f, TP_ROOT, 5, 500, 443, h, n);
	sw_pipeline__redactions(f->p, &nred);
	assert_int_equal(nred, 0);
	tls(f, TP_ROOT, 5, 500, 443, 0, "GET / HTTP/1.1\r\n", 16);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	memcpy(b, "x=", 2);
	memcpy(b + 2, f->sec[0].v, 12); /* what may begin UNIT_KEY */
	tcp(f, TP_ROOT, 6, 600, 443, b, 14);
	sw_pipeline__redactions(f->p, &nred);
	assert_int_equal(nred, 1); /* an ordinary write's tail is held back */
}

static void test_guess_named_by_next_write(void **state)
{
	struct tp *f = *state;
	uint8_t h[256], b[128];

	/* The thread's last socket was another connection: the write waits. */
	tls(f, TP_ROOT, 4, 400, 80, SW_F_PEER_GUESS, b, body(f, 0, b));
	tp_feed(f);
	assert_int_equal(f->n, 0);
	/* Its next TCP write (here the handshake it started) names it. */
	tcp(f, TP_ROOT, 6, 600, 8443, h, hello(h, "model.example.net"));
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:8443\","
		    "\"sni\":\"model.example.net\"}");
	assert_int_equal(f->got[0].a.time_us, tp_us(0)); /* the write's time, not the socket's */
}

static void test_guess_flushed_after_a_second(void **state)
{
	struct tp *f = *state;
	uint8_t b[128];

	tls(f, TP_ROOT, -1, 0, 0, SW_F_PEER_GUESS, b, body(f, 0, b));
	tp_feed(f);
	tp_tick(f, 500);
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_tick(f, 1500);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"artifact\":{\"type\":\"tls\",\"peer\":\"\"}");
}

static void test_guard_redact_every_span(void **state)
{
	struct tp *f = *state;
	const struct sw_request *q;
	struct sw_data_rec *d;
	uint8_t b[256];
	char b64[128];
	size_t n = body(f, 0, b), m;

	/* The raw secret, then the other secret base64-encoded, in one held write. */
	memcpy(b + n, "&b=", 3);
	m = sw_encode__base64_stable(f->sec[1].v, f->sec[1].len, 0, 0, b64);
	memcpy(b + n + 3, b64, m);
	d = tls(f, TP_ROOT, 5, 500, 443, SW_F_HELD, b, n + 3 + m);
	d->guard = SW_GUARD_REDACT;
	d->file_pos = (int64_t)BUF_ADDR;
	tp_feed(f);
	q = verdict(f);
	assert_non_null(q);
	assert_int_equal(q->action, SW_GA_REDACTED);
	assert_int_equal(q->hdr.tgid, TP_ROOT);
	assert_int_equal(q->offset, BUF_ADDR);
	assert_int_equal(q->length, n + 3 + m);
	assert_int_equal(q->nspans, 2);
	assert_int_equal(q->spans[0].offset, 2);
	assert_int_equal(q->spans[0].length, f->sec[0].len);
	assert_true(q->spans[1].offset >= n + 3 &&
		    q->spans[1].offset + q->spans[1].length <= n + 3 + m);
	assert_int_equal(f->n, 2);
	tp_json_has(f, 0, "\"action\":\"redacted\"");
	tp_json_has(f, 1, "\"action\":\"redacted\"");
	/* A held write without a secret: resumed, nothing to overwrite, no alert. */
	d = tls(f, TP_ROOT, 5, 500, 443, SW_F_HELD, "GET / HTTP/1.1\r\n", 16);
	d->guard = SW_GUARD_REDACT;
	tp_feed(f);
	q = verdict(f);
	assert_non_null(q);
	assert_int_equal(q->action, SW_GA_RESUMED);
	assert_int_equal(q->nspans, 0);
	assert_int_equal(f->n, 2);
}

static void test_guard_block_chunks(void **state)
{
	struct tp *f = *state;
	static uint8_t big[SW_CHUNK + 64];
	const struct sw_request *q;
	struct sw_data_rec *d;

	/* A 16 KiB + 64 byte write in two chunks; the secret in the second. */
	memset(big, 'x', sizeof(big));
	memcpy(big + SW_CHUNK + 10, f->sec[0].v, f->sec[0].len);
	d = tls(f, TP_PID, 7, 700, 443, SW_F_HELD, big, SW_CHUNK);
	d->hdr.flags &= ~SW_F_LAST;
	d->total = sizeof(big);
	d->guard = SW_GUARD_BLOCK;
	tp_feed(f);
	assert_null(verdict(f)); /* not before the last chunk */
	d = tls(f, TP_PID, 7, 700, 443, SW_F_HELD, big + SW_CHUNK, 64);
	d->hdr.flags &= ~SW_F_FIRST;
	d->offset = SW_CHUNK;
	d->total = sizeof(big);
	d->guard = SW_GUARD_BLOCK;
	tp_feed(f);
	q = verdict(f);
	assert_non_null(q);
	assert_int_equal(q->action, SW_GA_KILLED);
	assert_int_equal(q->nspans, 1);
	assert_int_equal(q->spans[0].offset, SW_CHUNK + 10);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0, "\"action\":\"blocked\"");
}

static void test_failopen_is_a_gap(void **state)
{
	struct tp *f = *state;
	struct sw_guarded_rec *g;

	g = tp_start(f, SW_EV_GUARDED, TP_ROOT, sizeof(*g));
	g->action = SW_GA_REDACTED;
	tp_feed(f);
	tp_tick(f, 250);
	tp_feed(f);
	assert_int_equal(f->n, 0); /* carried out: nothing to say */
	g = tp_start(f, SW_EV_GUARDED, TP_ROOT, sizeof(*g));
	g->action = SW_GA_FAILOPEN;
	g->result = -110;
	tp_feed(f);
	tp_tick(f, 500);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 0, "\"guard_failed\":1");
}

static void test_unhookable_inferred(void **state)
{
	struct tp *f = *state;
	struct sw_channel_rec *c;
	uint8_t h[256], b[128];

	c = tp_channel(f, TP_ROOT, SW_CH_TLS, 900, "/opt/codex/bin/codex");
	c->detail = SW_STACK_RUSTLS;
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_UNMONITORED_CHANNEL);
	tp_json_has(f, 0, "\"channel\":\"tls\"");
	tp_json_has(f, 0, "\"path\":\"/opt/codex/bin/codex\"");
	tp_json_has(f, 0, "rustls");
	/* The same binary again (another process, another session): no second alert. */
	c = tp_channel(f, TP_PID, SW_CH_TLS, 900, "/opt/codex/bin/codex");
	c->detail = SW_STACK_RUSTLS;
	tp_feed(f);
	assert_int_equal(f->n, 1);
	/* A TLS connection before the secret is in the context: nothing inferred. */
	tcp(f, TP_ROOT, 5, 500, 443, h, hello(h, "api.openai.com"));
	assert_int_equal(f->n, 1);
	/* The secret reaches the agent's context (tool output the agent reads back). */
	tp_at(f, 100);
	tp_file(f, TP_PID, 101, "/tmp/claude-1000/-w/tasks/b7.output", b, body(f, 0, b));
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.severity, SW_SEV_CRITICAL);
	/* Its next write to that TLS connection: an inferred spread, with the peer. */
	tp_at(f, 1200);
	tcp(f, TP_ROOT, 5, 500, 443,
	    "\x17\x03\x03\x00\x0a"
	    "ciphertext",
	    15);
	assert_int_equal(f->n, 3);
	tp_is_spread(f, 2, 0, SW_ART_TLS);
	tp_json_has(f, 2, "\"variant\":\"inferred\"");
	tp_json_has(f, 2,
		    "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:443\","
		    "\"sni\":\"api.openai.com\"}");
	/* A process that is not blind: its TLS connections infer nothing. */
	tcp(f, TP_PID + 1, 5, 501, 443, h, hello(h, "api.openai.com"));
	assert_int_equal(f->n, 3);
}

/* A TLS record header and len bytes after it, appended at b + n: the new length. */
static size_t record(uint8_t *b, size_t n, uint8_t type, size_t len)
{
	b[n] = type, b[n + 1] = 3, b[n + 2] = 3, b[n + 3] = (uint8_t)(len >> 8);
	b[n + 4] = (uint8_t)len;
	memset(b + n + 5, 0xa5, len);
	return n + 5 + len;
}

/* TLS application data with no plaintext at a hook: a stack we cannot see, told by its
 * socket. */
static void test_tls_no_hook_saw(void **state)
{
	struct tp *f = *state;
	uint8_t h[256], b[1024];
	size_t n;

	/* A hooked client (TLS 1.3): ClientHello, CCS and Finished, its plaintext at the hook,
	 * then the application data it became: nothing told, a second later neither. */
	tcp(f, TP_PID, 5, 601, 443, h, hello(h, "api.example.com"));
	n = record(b, 0, 20, 1);
	tcp(f, TP_PID, 5, 601, 443, b, record(b, n, 23, 53));
	tls(f, TP_PID, 5, 601, 443, 0, "GET / HTTP/1.1\r\n\r\n", 18);
	tp_feed(f);
	tcp(f, TP_PID, 5, 601, 443, b, record(b, 0, 23, 40));
	/* Another (TLS 1.3), no plaintext at any hook: the Finished, a close_notify-sized
	 * record, then application data. */
	tcp(f, TP_ROOT, 7, 700, 443, h, hello(h, "exfil.example.net"));
	n = record(b, 0, 20, 1);
	tcp(f, TP_ROOT, 7, 700, 443, b, record(b, n, 23, 53));
	tcp(f, TP_ROOT, 7, 700, 443, b, record(b, 0, 23, 19));
	n = record(b, 0, 23, 300);
	tcp(f, TP_ROOT, 7, 700, 443, b, n);
	/* A third: a client certificate's flight (three records), its plaintext after. */
	tcp(f, TP_PID + 2, 8, 702, 443, h, hello(h, "mtls.example.com"));
	tcp(f, TP_PID + 2, 8, 702, 443, b, record(b, 0, 23, 900));
	tcp(f, TP_PID + 2, 8, 702, 443, b, record(b, 0, 23, 264));
	tcp(f, TP_PID + 2, 8, 702, 443, b, record(b, 0, 23, 53));
	tp_at(f, 300);
	tls(f, TP_PID + 2, 8, 702, 443, 0, "GET / HTTP/1.1\r\n\r\n", 18);
	tp_feed(f);
	tcp(f, TP_PID + 2, 8, 702, 443, b, record(b, 0, 23, 40));
	assert_int_equal(f->n, 0);
	/* A second after its Finished: the unhooked one is told, once, naming the connection. */
	tp_tick(f, 1200);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_UNMONITORED_CHANNEL);
	tp_json_has(f, 0, "\"channel\":\"tls\"");
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:443\","
		    "\"sni\":\"exfil.example.net\"}");
	tp_json_has(f, 0, "no plaintext at any hooked TLS function");
	tcp(f, TP_ROOT, 7, 700, 443, b, n);
	assert_int_equal(f->n, 1);
	/* A secret reaches the agent's context: that connection's writes are inferred. */
	tp_at(f, 1300);
	tp_file(f, TP_PID, 101, "/tmp/claude-1000/-w/tasks/b7.output", h, body(f, 0, h));
	tp_feed(f);
	tp_tick(f, 2300);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_at(f, 2400);
	tcp(f, TP_ROOT, 7, 700, 443, b, record(b, 0, 23, 64));
	assert_int_equal(f->n, 3);
	tp_is_spread(f, 2, 0, SW_ART_TLS);
	tp_json_has(f, 2, "\"variant\":\"inferred\"");
	tp_json_has(f, 2, "\"sni\":\"exfil.example.net\"");
	/* TLS 1.2 with no hook (its Finished encrypted as a handshake record): told at its first
	 * application data, in another session. */
	f->session = 9;
	tcp(f, 500, 3, 710, 443, h, hello(h, "old.example.org"));
	n = record(b, 0, 22, 70);
	n = record(b, n, 20, 1);
	tcp(f, 500, 3, 710, 443, b, record(b, n, 22, 40));
	assert_int_equal(f->n, 3);
	tcp(f, 500, 3, 710, 443, b, record(b, 0, 23, 100));
	assert_int_equal(f->n, 4);
	tp_json_has(f, 3, "\"sni\":\"old.example.org\"");
	/* A record header cut at a write's end (where the trace keeps no bytes: a replay could
	 * not follow), then the rest: judged by size, a second after the loss. */
	f->session = 10;
	tcp(f, 510, 3, 720, 443, h, hello(h, "cut.example.org"));
	n = record(b, 0, 20, 1);
	tcp(f, 510, 3, 720, 443, b, record(b, n, 23, 53));
	n = record(b, 0, 23, 300);
	tcp(f, 510, 3, 720, 443, b, 3);
	tcp(f, 510, 3, 720, 443, b + 3, n - 3);
	assert_int_equal(f->n, 4);
	tp_tick(f, 3500);
	tp_feed(f);
	assert_int_equal(f->n, 5);
	tp_json_has(f, 4, "\"sni\":\"cut.example.org\"");
	/* Plain HTTP on TCP: no TLS, nothing watched. */
	tcp(f, TP_PID + 1, 9, 800, 80, "POST / HTTP/1.1\r\n\r\nx", 20);
	tcp(f, TP_PID + 1, 9, 800, 80, b, record(b, 0, 23, 40));
	tp_tick(f, 5000);
	tp_feed(f);
	assert_int_equal(f->n, 5);
	tp_replay_equals_live(f, NULL, NULL, 0);
}

/* QUIC (HTTP/3): its TLS is inside QUIC packets no hook sees; a QUIC Initial is told. */
static void test_quic_told(void **state)
{
	struct tp *f = *state;
	uint8_t q[64] = {0xc3, 0x00, 0x00, 0x00, 0x01, 0x08};
	struct sw_data_rec *d;
	int i;

	for (i = 0; i < 3; i++) { /* a DNS query, then two QUIC Initials of one binary */
		d = tp_data(f, TP_PID, SW_AK_SOCKET, 900 + i, NULL,
			    i ? q : (const uint8_t *)"\x12\x34\x01\x00\x00\x01\x00",
			    i ? sizeof(q) : 7);
		d->syscall_nr = 44;
		d->fd = 6;
		d->family = AF_INET;
		d->sock_type = SOCK_DGRAM;
		d->protocol = IPPROTO_UDP;
		d->port = i ? 443 : 53;
		inet_pton(AF_INET, "127.0.0.1", d->addr);
		tp_feed(f);
		assert_int_equal(f->n, i ? 1 : 0);
	}
	assert_int_equal(f->got[0].a.kind, SW_ALERT_UNMONITORED_CHANNEL);
	tp_json_has(f, 0, "\"artifact\":{\"type\":\"tls\",\"peer\":\"127.0.0.1:443\"}");
	tp_json_has(f, 0, "QUIC (HTTP/3)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tls_no_hook_saw, tp_setup_rec, tp_teardown),
		cmocka_unit_test_setup_teardown(test_quic_told, tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_named_by_socket_and_sni, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_hello_kept_whole_in_the_trace, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_guess_named_by_next_write, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_guess_flushed_after_a_second, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_guard_redact_every_span, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_guard_block_chunks, tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_failopen_is_a_gap, tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_unhookable_inferred, tp_setup, tp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
