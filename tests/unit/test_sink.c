// SPDX-License-Identifier: Apache-2.0
/* Sinks: file (append, logrotate reopen, stdout), callback, hook (exact stdin, timeout kill,
 * failures counted), syslog (RFC 5424 + octet counting to local TCP / unix listeners,
 * reconnect, bounded queue, never blocking). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include "sink.h"

struct ctx {
	char dir[64];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	snprintf(c->dir, sizeof(c->dir), "/tmp/sw-sink-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd))
		return -1;
	free(c);
	return 0;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *const argv_fixture[] = {"cp", ".env", "/tmp/x"};

static void make_alert(struct sw_alert *a, uint64_t n)
{
	memset(a, 0, sizeof(*a));
	a->time_us = 1795975200123456ull + n;
	a->kind = SW_ALERT_SECRET_SPREAD;
	a->severity = SW_SEV_HIGH;
	snprintf(a->host, sizeof(a->host), "dev1");
	a->has_secret = 1;
	snprintf(a->secret_id, sizeof(a->secret_id), "00112233445566%02x",
		 (unsigned int)(n & 0xff));
	snprintf(a->secret_name, sizeof(a->secret_name), "DB_PASSWORD");
	snprintf(a->variant, sizeof(a->variant), "raw");
	a->has_artifact = 1;
	a->artifact.type = SW_ART_FILE;
	snprintf(a->artifact.path, sizeof(a->artifact.path), "/tmp/x\"%llu\n",
		 (unsigned long long)n);
	a->artifact.dev = 1;
	a->artifact.ino = n;
	a->has_process = 1;
	a->process.pid = 100;
	a->process.argc = 3;
	a->process.argv[0] = argv_fixture[0];
	a->process.argv[1] = argv_fixture[1];
	a->process.argv[2] = argv_fixture[2];
	a->first_seen = 1;
	a->count = 1;
}

static char *json_of(const struct sw_alert *a, int ocsf)
{
	int n = ocsf ? sw_alert__ocsf(a, NULL, 0) : sw_alert__json(a, NULL, 0);
	char *buf = malloc((size_t)n + 1);

	if (ocsf)
		sw_alert__ocsf(a, buf, (size_t)n + 1);
	else
		sw_alert__json(a, buf, (size_t)n + 1);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	size_t got;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	got = fread(buf, 1, (size_t)n, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

/* ---- file ---- */

static void test_file_append_and_logrotate(void **state)
{
	struct ctx *c = *state;
	char path[128], rotated[128], expect[1 << 14];
	struct sw_sink_stats st;
	struct sw_alert a;
	struct sw_sink *s;
	char *text, *j;
	int i;

	snprintf(path, sizeof(path), "%s/alerts.jsonl", c->dir);
	snprintf(rotated, sizeof(rotated), "%s/alerts.jsonl.1", c->dir);
	s = sw_sink__file(path, SW_FMT_JSON);
	assert_non_null(s);
	expect[0] = '\0';
	for (i = 0; i < 3; i++) {
		make_alert(&a, (uint64_t)i);
		assert_int_equal(sw_sink__emit(s, &a), 0);
		j = json_of(&a, 0);
		strcat(expect, j);
		strcat(expect, "\n");
		free(j);
	}
	text = slurp(path);
	assert_string_equal(text, expect);
	free(text);

	/* logrotate: rename, then SIGHUP -> reopen. Until the reopen, lines follow the file. */
	assert_int_equal(rename(path, rotated), 0);
	make_alert(&a, 3);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__reopen(s), 0);
	make_alert(&a, 4);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	sw_sink__poll(s);
	assert_int_equal(sw_sink__flush(s, 100), 0);

	text = slurp(rotated);
	j = json_of(&a, 0);
	assert_null(strstr(text, j));
	free(text);
	text = slurp(path);
	assert_int_equal(strlen(text), strlen(j) + 1);
	assert_memory_equal(text, j, strlen(j));
	free(text);
	free(j);

	sw_sink__stats(s, &st);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.failed, 0);
	sw_sink__free(s);
	sw_sink__free(NULL);

	/* Reopen failure keeps the old file and reports. */
	s = sw_sink__file(path, SW_FMT_JSON);
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(chmod(c->dir, 0500), 0);
	if (geteuid() != 0) /* root ignores the mode */
		assert_int_equal(sw_sink__reopen(s), -EACCES);
	assert_int_equal(chmod(c->dir, 0700), 0);
	sw_sink__free(s);

	assert_null(sw_sink__file("/nonexistent-dir/x/alerts.jsonl", SW_FMT_JSON));
}

static void test_file_ocsf_and_stdout(void **state)
{
	struct ctx *c = *state;
	char path[128];
	struct sw_alert a;
	struct sw_sink *s;
	char *text, *j;
	int saved, fd;

	snprintf(path, sizeof(path), "%s/ocsf.jsonl", c->dir);
	s = sw_sink__file(path, SW_FMT_OCSF);
	make_alert(&a, 1);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	sw_sink__free(s);
	text = slurp(path);
	j = json_of(&a, 1);
	assert_int_equal(strlen(text), strlen(j) + 1);
	assert_memory_equal(text, j, strlen(j));
	assert_non_null(strstr(text, "\"class_uid\":2004"));
	free(text);
	free(j);

	/* "-" writes whole lines to fd 1. */
	snprintf(path, sizeof(path), "%s/stdout.txt", c->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(STDOUT_FILENO);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	s = sw_sink__file("-", SW_FMT_JSON);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__reopen(s), 0);
	sw_sink__free(s);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	text = slurp(path);
	j = json_of(&a, 0);
	assert_int_equal(strlen(text), strlen(j) + 1);
	assert_int_equal(text[strlen(j)], '\n');
	free(text);
	free(j);
	/* Standard output survived the sink. */
	assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
}

/* ---- callback ---- */

struct cb_got {
	char buf[1 << 14];
	size_t len;
	int calls;
};

static void cb(const char *json, size_t len, void *ctx)
{
	struct cb_got *g = ctx;

	memcpy(g->buf, json, len);
	g->buf[len] = '\0';
	g->len = len;
	g->calls++;
}

static void test_callback(void **state)
{
	struct cb_got g = {.calls = 0};
	struct sw_alert a;
	struct sw_sink *s = sw_sink__callback(cb, &g, SW_FMT_JSON);
	char *j;

	make_alert(&a, 9);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	j = json_of(&a, 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.len, strlen(j));
	assert_string_equal(g.buf, j);
	free(j);
	sw_sink__free(s);
	assert_null(sw_sink__callback(NULL, NULL, SW_FMT_JSON));
}

/* ---- hook ---- */

static void test_hook_gets_exact_json(void **state)
{
	struct ctx *c = *state;
	char path[128];
	char *argv[] = {"/bin/sh", "-c", "cat > \"$1\"", "sh", path, NULL};
	struct sw_sink_stats st;
	struct sw_alert a;
	struct sw_sink *s;
	char *text, *j;

	snprintf(path, sizeof(path), "%s/hook-stdin.json", c->dir);
	s = sw_sink__hook(argv, 5000);
	assert_non_null(s);
	path[0] = 'X'; /* argv was copied */
	snprintf(path, sizeof(path), "%s/hook-stdin.json", c->dir);
	make_alert(&a, 5);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__flush(s, 5000), 0);
	sw_sink__stats(s, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 0);
	text = slurp(path);
	assert_non_null(text);
	j = json_of(&a, 0);
	assert_int_equal(strlen(text), strlen(j) + 1);
	assert_memory_equal(text, j, strlen(j));
	assert_int_equal(text[strlen(j)], '\n');
	free(text);
	free(j);
	sw_sink__free(s);
}

static void test_hook_killed_at_timeout(void **state)
{
	struct ctx *c = *state;
	char pidfile[128], script[256];
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct sw_sink_stats st;
	struct sw_alert a;
	struct sw_sink *s;
	uint64_t t0;
	char *text;
	int child;

	/* The hook and its own child both hang; both must die. */
	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", c->dir);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; wait", pidfile);
	s = sw_sink__hook(argv, 200);
	make_alert(&a, 1);
	t0 = ms_now();
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_true(ms_now() - t0 < 150); /* emit does not wait for the hook */
	assert_int_equal(sw_sink__flush(s, 5000), 0);
	assert_true(ms_now() - t0 < 3000);
	assert_true(ms_now() - t0 >= 200);
	sw_sink__stats(s, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.sent, 0);
	text = slurp(pidfile);
	assert_non_null(text);
	child = atoi(text);
	free(text);
	assert_true(child > 1);
	/* The grandchild went with its process group (give init a moment to reap it). */
	for (t0 = ms_now(); ms_now() - t0 < 2000 && kill(child, 0) == 0;)
		usleep(10000);
	assert_int_equal(kill(child, 0), -1);
	sw_sink__free(s);
}

static void test_hook_failures_counted(void **state)
{
	char *missing[] = {"/nonexistent/sprawl-hook", NULL};
	char *exit3[] = {"/bin/sh", "-c", "exit 3", NULL};
	char *noread[] = {"/bin/true", NULL};
	char *hang[] = {"/bin/sleep", "30", NULL};
	static char big[SW_ALERT_ARG_MAX];
	struct sw_sink_stats st;
	struct sw_alert a;
	struct sw_sink *s;
	int i;

	make_alert(&a, 1);
	s = sw_sink__hook(missing, 1000);
	assert_true(sw_sink__emit(s, &a) < 0);
	sw_sink__stats(s, &st);
	assert_int_equal(st.failed, 1);
	sw_sink__free(s);

	s = sw_sink__hook(exit3, 1000);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__flush(s, 3000), 0);
	sw_sink__stats(s, &st);
	assert_int_equal(st.failed, 1);
	sw_sink__free(s);

	/* A hook that never reads a large alert: no SIGPIPE, no stall. */
	memset(big, 'a', sizeof(big) - 1);
	a.process.argc = SW_ARGV_MAX;
	for (i = 0; i < SW_ARGV_MAX; i++)
		a.process.argv[i] = big;
	s = sw_sink__hook(noread, 2000);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__flush(s, 3000), 0);
	sw_sink__stats(s, &st);
	assert_int_equal(st.sent, 1);
	sw_sink__free(s);

	/* At most SW_SINK_HOOKS_MAX at once; the rest is dropped, counted; free kills them. */
	make_alert(&a, 2);
	s = sw_sink__hook(hang, 60000);
	for (i = 0; i < SW_SINK_HOOKS_MAX; i++)
		assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__emit(s, &a), -EBUSY);
	sw_sink__stats(s, &st);
	assert_int_equal(st.dropped, 1);
	sw_sink__free(s);

	assert_null(sw_sink__hook(NULL, 10));
	assert_null(sw_sink__hook(hang, 0));
}

/* ---- syslog ---- */

static int tcp_listener(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int accept_within(int lfd, int ms)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* Reads one octet-counted frame ("LEN SP MSG") within ms; returns MSG (malloc'd) or NULL. */
static char *read_frame(int fd, int ms)
{
	char lenbuf[16];
	size_t len = 0, got = 0, i = 0;
	uint64_t end = ms_now() + (uint64_t)ms;
	char *msg;

	while (i < sizeof(lenbuf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, (int)(end > ms_now() ? end - ms_now() : 0)) != 1)
			return NULL;
		if (read(fd, lenbuf + i, 1) != 1)
			return NULL;
		if (lenbuf[i] == ' ')
			break;
		if (lenbuf[i] < '0' || lenbuf[i] > '9')
			return NULL;
		len = len * 10 + (size_t)(lenbuf[i] - '0');
		i++;
	}
	msg = malloc(len + 1);
	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int)(end > ms_now() ? end - ms_now() : 0)) != 1)
			break;
		n = read(fd, msg + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != len) {
		free(msg);
		return NULL;
	}
	msg[len] = '\0';
	return msg;
}

static void check_5424(const char *msg, const struct sw_alert *a, int pri)
{
	char head[256], *j = json_of(a, 0);

	snprintf(head, sizeof(head),
		 "<%d>1 2026-11-29T18:00:00.%06lluZ dev1 sprawlwatch %d "
		 "secret_spread - ",
		 pri, (unsigned long long)(a->time_us % 1000000), (int)getpid());
	assert_memory_equal(msg, head, strlen(head));
	assert_string_equal(msg + strlen(head), j);
	free(j);
}

static void test_syslog_tcp_framing_and_reconnect(void **state)
{
	struct sw_sink_stats st;
	struct sw_alert a, b;
	struct sw_sink *s;
	char addr[64], *msg;
	int lfd, port, cfd;

	lfd = tcp_listener(&port);
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%d", port);
	s = sw_sink__syslog(addr, SW_FMT_JSON);
	assert_non_null(s);
	make_alert(&a, 1);
	make_alert(&b, 2);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__emit(s, &b), 0);
	assert_int_equal(sw_sink__flush(s, 3000), 0);
	cfd = accept_within(lfd, 3000);
	assert_true(cfd >= 0);
	msg = read_frame(cfd, 3000);
	assert_non_null(msg);
	check_5424(msg, &a, 10 * 8 + 3); /* authpriv.err for high */
	free(msg);
	msg = read_frame(cfd, 3000);
	assert_non_null(msg);
	check_5424(msg, &b, 83);
	free(msg);

	/* The collector restarts: the sink notices, reconnects, delivers. */
	close(cfd);
	usleep(50000);
	make_alert(&a, 3);
	a.severity = SW_SEV_CRITICAL;
	sw_sink__emit(s, &a);
	assert_int_equal(sw_sink__flush(s, 5000), 0);
	cfd = accept_within(lfd, 5000);
	assert_true(cfd >= 0);
	msg = read_frame(cfd, 3000);
	assert_non_null(msg);
	check_5424(msg, &a, 82);
	free(msg);
	sw_sink__stats(s, &st);
	assert_true(st.connects >= 2);
	assert_int_equal(st.sent, 3);
	assert_int_equal(sw_sink__syslog_facility(s, 16), 0); /* local0 */
	assert_int_equal(sw_sink__syslog_facility(s, 24), -EINVAL);
	a.severity = SW_SEV_MEDIUM;
	sw_sink__emit(s, &a);
	assert_int_equal(sw_sink__flush(s, 3000), 0);
	msg = read_frame(cfd, 3000);
	assert_non_null(msg);
	check_5424(msg, &a, 16 * 8 + 4);
	free(msg);
	close(cfd);
	close(lfd);
	sw_sink__free(s);
}

static void test_syslog_never_blocks(void **state)
{
	static char big[SW_ALERT_ARG_MAX];
	struct sw_sink_stats st;
	struct sw_alert a;
	struct sw_sink *s;
	char addr[64];
	uint64_t t0;
	int lfd, port, i, ret, full = 0;

	/* A port nobody listens on. */
	lfd = tcp_listener(&port);
	close(lfd);
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%d", port);
	s = sw_sink__syslog(addr, SW_FMT_JSON);
	memset(big, 'b', sizeof(big) - 1);
	make_alert(&a, 1);
	a.process.argc = 16;
	for (i = 0; i < 16; i++)
		a.process.argv[i] = big;
	t0 = ms_now();
	for (i = 0; i < 200; i++) {
		ret = sw_sink__emit(s, &a);
		if (ret == -ENOBUFS)
			full++;
		else
			assert_int_equal(ret, 0);
	}
	assert_true(ms_now() - t0 < 1000);
	assert_true(full > 0);
	sw_sink__stats(s, &st);
	assert_int_equal(st.dropped, (uint64_t)full);
	assert_int_equal(st.sent, 0);
	assert_int_equal(sw_sink__flush(s, 100), -ETIMEDOUT);
	sw_sink__free(s);

	assert_null(sw_sink__syslog("udp:1.2.3.4:514", SW_FMT_JSON));
	assert_null(sw_sink__syslog("tcp:127.0.0.1", SW_FMT_JSON));
	assert_null(sw_sink__syslog("tcp:[::1:514", SW_FMT_JSON));
	s = sw_sink__syslog("tcp:[::1]:514", SW_FMT_JSON);
	assert_non_null(s);
	sw_sink__free(s);
}

static void test_syslog_unix_stream_and_dgram(void **state)
{
	struct ctx *c = *state;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sw_alert a;
	struct sw_sink *s;
	char addr[160], buf[1 << 14], *msg, *j;
	int lfd, cfd;
	ssize_t n;

	/* Stream: octet counting. */
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/stream.sock", c->dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&un, sizeof(un)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(addr, sizeof(addr), "unix:%s", un.sun_path);
	s = sw_sink__syslog(addr, SW_FMT_JSON);
	make_alert(&a, 4);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__flush(s, 3000), 0);
	cfd = accept_within(lfd, 3000);
	assert_true(cfd >= 0);
	msg = read_frame(cfd, 3000);
	assert_non_null(msg);
	check_5424(msg, &a, 83);
	free(msg);
	close(cfd);
	close(lfd);
	sw_sink__free(s);

	/* Datagram (like /dev/log): one message per datagram, no length prefix. */
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/dgram.sock", c->dir);
	lfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&un, sizeof(un)), 0);
	snprintf(addr, sizeof(addr), "unix:%s", un.sun_path);
	s = sw_sink__syslog(addr, SW_FMT_OCSF);
	assert_int_equal(sw_sink__emit(s, &a), 0);
	assert_int_equal(sw_sink__flush(s, 3000), 0);
	{
		struct pollfd p = {.fd = lfd, .events = POLLIN};

		assert_int_equal(poll(&p, 1, 3000), 1);
	}
	n = recv(lfd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "<83>1 ", 6);
	j = json_of(&a, 1);
	assert_non_null(strstr(buf, j));
	assert_string_equal(buf + strlen(buf) - strlen(j), j);
	free(j);
	close(lfd);
	sw_sink__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_append_and_logrotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_ocsf_and_stdout, setup, teardown),
		cmocka_unit_test(test_callback),
		cmocka_unit_test_setup_teardown(test_hook_gets_exact_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_killed_at_timeout, setup, teardown),
		cmocka_unit_test(test_hook_failures_counted),
		cmocka_unit_test(test_syslog_tcp_framing_and_reconnect),
		cmocka_unit_test(test_syslog_never_blocks),
		cmocka_unit_test_setup_teardown(test_syslog_unix_stream_and_dgram, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
