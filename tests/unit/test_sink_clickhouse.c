// SPDX-License-Identifier: Apache-2.0
/* The ClickHouse sink against a stand-in HTTP server in this process: rows and their typed
 * columns, batching, in-order delivery, a lost answer (the insert landed, the sink did not hear
 * it) that must not bring a row twice, the spool bound and its coverage_gap reserve, and a
 * spool resumed after a restart. Plus alertrow, the reading of alert lines both use. */
#include <errno.h>
#include <pthread.h>
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
#include <cmocka.h>

#include <json-c/json.h>

#include "alert.h"
#include "alertrow.h"
#include "sink_clickhouse.h"

/* ---- a stand-in ClickHouse: INSERT stores rows, SELECT uid answers the stored ids ---- */

#define ROWS_MAX 256

struct fake {
	int lfd, port, stop;
	pthread_t th;
	pthread_mutex_t mu;
	char *rows[ROWS_MAX]; /* inserted rows, in order */
	int nrows;
	int inserts, selects, ddl;
	int refuse;	      /* answer 500 to every request, store nothing */
	int lose_next_answer; /* store the next insert, then answer 500 */
};

static void reply(int fd, int code, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", code,
			 strlen(body));

	if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
		return;
}

static void handle(struct fake *f, int fd)
{
	static char req[1 << 22];
	size_t got = 0, need = 0;
	char *hdr_end = NULL, *body, *cl;
	ssize_t r;

	while (got < sizeof(req) - 1) {
		r = read(fd, req + got, sizeof(req) - 1 - got);
		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = 0;
		if (!hdr_end && (hdr_end = strstr(req, "\r\n\r\n"))) {
			cl = strcasestr(req, "Content-Length:");
			need = (size_t)(hdr_end + 4 - req) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (hdr_end && got >= need)
			break;
	}
	body = hdr_end + 4;
	pthread_mutex_lock(&f->mu);
	if (f->refuse) {
		pthread_mutex_unlock(&f->mu);
		reply(fd, 500, "Code: 999, refused\n");
		return;
	}
	if (strstr(req, "query=INSERT")) {
		char *p = body, *nl;
		int lose = f->lose_next_answer;

		f->inserts++;
		while ((nl = strchr(p, '\n')) && f->nrows < ROWS_MAX) {
			f->rows[f->nrows++] = strndup(p, (size_t)(nl - p));
			p = nl + 1;
		}
		f->lose_next_answer = 0;
		pthread_mutex_unlock(&f->mu);
		reply(fd, lose ? 500 : 200, lose ? "Code: 209, timeout\n" : "");
		return;
	}
	if (!strncmp(body, "SELECT uid", 10)) {
		char out[ROWS_MAX * 34 + 1] = "";
		int i;

		f->selects++;
		for (i = 0; i < f->nrows; i++) {
			/* only ids asked about */
			char id[33];

			memcpy(id, f->rows[i] + 8, 32);
			id[32] = 0;
			if (strstr(body, id)) {
				strcat(out, id);
				strcat(out, "\n");
			}
		}
		pthread_mutex_unlock(&f->mu);
		reply(fd, 200, out);
		return;
	}
	f->ddl += !strncmp(body, "CREATE", 6);
	pthread_mutex_unlock(&f->mu);
	reply(fd, 200, "");
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		int fd = accept(f->lfd, NULL, NULL);

		if (fd < 0)
			continue;
		handle(f, fd);
		close(fd);
	}
	return NULL;
}

static struct fake *fake_start(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	struct timeval tv = {0, 100000};

	pthread_mutex_init(&f->mu, NULL);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	getsockname(f->lfd, (struct sockaddr *)&a, &al);
	f->port = ntohs(a.sin_port);
	pthread_create(&f->th, NULL, fake_main, f);
	return f;
}

static void fake_stop(struct fake *f)
{
	int i;

	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	for (i = 0; i < f->nrows; i++)
		free(f->rows[i]);
	free(f);
}

static int fake_rows(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->nrows;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* ---- helpers ---- */

static void alert_line(int i, const char *kind, char *out, size_t size)
{
	struct sw_alert *a = calloc(1, sizeof(*a));

	a->time_us = 1790000000000000ull + (uint64_t)i;
	a->kind = strcmp(kind, "coverage_gap") ? SW_ALERT_SECRET_SPREAD : SW_ALERT_COVERAGE_GAP;
	a->severity = SW_SEV_HIGH;
	snprintf(a->host, sizeof(a->host), "h%d", i % 3);
	if (a->kind == SW_ALERT_SECRET_SPREAD) {
		a->has_secret = 1;
		snprintf(a->secret_id, sizeof(a->secret_id), "%016x", 0xabc0 + i);
		snprintf(a->secret_name, sizeof(a->secret_name), "NAME_%d", i);
		snprintf(a->variant, sizeof(a->variant), "raw");
		a->has_artifact = 1;
		a->artifact.type = SW_ART_SOCKET;
		snprintf(a->artifact.proto, sizeof(a->artifact.proto), "tcp");
		snprintf(a->artifact.peer, sizeof(a->artifact.peer), "10.0.0.%d:443", i % 250);
		a->has_session = 1;
		a->session.id = (1ULL << 63) | (uint64_t)i; /* ids made in the kernel use bit 63 */
		snprintf(a->session.agent, sizeof(a->session.agent), "claude");
		a->has_process = 1;
		a->process.pid = 100 + i;
		snprintf(a->process.exe, sizeof(a->process.exe), "/usr/bin/caf\xc3\xa9");
		a->first_seen = 1;
		a->count = 1;
	} else {
		a->ngaps = 1;
		snprintf(a->gaps[0].what, sizeof(a->gaps[0].what), "truncated");
		a->gaps[0].count = 3;
	}
	assert_true(sw_alert__json(a, out, size) < (int)size);
	free(a);
}

static void wait_rows(struct fake *f, int n)
{
	int i;

	for (i = 0; i < 200 && fake_rows(f) < n; i++)
		usleep(25000);
	assert_int_equal(fake_rows(f), n);
}

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sw-chsink-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct sw_clickhouse *open_sink(struct fake *f, uint64_t max)
{
	char url[64], spool[128];
	struct sw_clickhouse_opts o = {.url = url, .spool_dir = spool, .spool_max = max};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	return sw_clickhouse__new(&o);
}

/* ---- tests ---- */

static void test_alertrow(void **state)
{
	char line[8192];
	struct sw_alertrow row;

	alert_line(7, "secret_spread", line, sizeof(line));
	assert_int_equal(sw_alertrow__parse(line, strlen(line), &row), 0);
	assert_int_equal(row.time_us, 1790000000000007ull);
	assert_string_equal(row.kind, "secret_spread");
	assert_string_equal(row.host, "h1");
	assert_string_equal(row.secret_name, "NAME_7");
	assert_string_equal(row.artifact_type, "socket");
	assert_string_equal(row.artifact, "tcp 10.0.0.7:443");
	assert_true(row.session_id == ((1ULL << 63) | 7));
	assert_string_equal(row.agent, "claude");
	assert_string_equal(row.exe, "/usr/bin/caf\xc3\xa9");
	assert_int_equal(row.first_seen, 1);
	assert_int_equal(sw_alertrow__parse("{\"kind\":1}", 10, &row), -EBADMSG);
	assert_int_equal(sw_alertrow__parse("not json", 8, &row), -EBADMSG);
	assert_int_equal(sw_alertrow__time_us("2026-11-29T18:00:00.123456Z"), 1795975200123456ull);
	assert_int_equal(sw_alertrow__time_us("2026-11-29 18:00:00"), 0);
}

static void test_row(void **state)
{
	char line[8192], *row, *tmp;
	size_t n;
	json_object *o, *v;

	alert_line(3, "secret_spread", line, sizeof(line));
	assert_int_equal(sw_clickhouse__row(line, strlen(line), &row, &n), 0);
	assert_true(n > 8 && row[n - 1] == '\n' && !memchr(row, '\n', n - 1));
	assert_memory_equal(row, "{\"uid\":\"", 8);
	/* The row is n bytes, not a C string: parse a terminated copy. */
	tmp = strndup(row, n);
	assert_non_null(tmp);
	o = json_tokener_parse(tmp);
	free(tmp);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "uid", &v));
	assert_int_equal(strlen(json_object_get_string(v)), 32);
	assert_true(json_object_object_get_ex(o, "alert", &v));
	assert_string_equal(json_object_get_string(v), line);
	assert_true(json_object_object_get_ex(o, "session_id", &v));
	assert_true(json_object_get_uint64(v) == ((1ULL << 63) | 3));
	assert_true(json_object_object_get_ex(o, "time", &v));
	assert_int_equal(json_object_get_int64(v), 1790000000);
	assert_true(json_object_object_get_ex(o, "artifact", &v));
	assert_string_equal(json_object_get_string(v), "tcp 10.0.0.3:443");
	json_object_put(o);
	free(row);
}

/* In order, batched, each once; a lost answer is followed by a check, not a second copy. */
static void test_delivery_exactly_once(void **state)
{
	struct fake *f = fake_start();
	struct sw_clickhouse *c = open_sink(f, 0);
	struct sw_clickhouse_stats st;
	char line[8192];
	int i;

	assert_non_null(c);
	for (i = 0; i < 20; i++) {
		alert_line(i, "secret_spread", line, sizeof(line));
		assert_int_equal(sw_clickhouse__emit(c, line, strlen(line)), 0);
	}
	wait_rows(f, 20);
	assert_int_equal(sw_clickhouse__flush(c, 2000), 0);
	assert_true(f->inserts <= 2); /* batched: 20 alerts in one insert (two at most) */
	assert_true(f->ddl >= 2);
	/* The next insert lands but its answer is lost: the sink asks, and sends nothing again. */
	pthread_mutex_lock(&f->mu);
	f->lose_next_answer = 1;
	pthread_mutex_unlock(&f->mu);
	for (i = 20; i < 30; i++) {
		alert_line(i, "secret_spread", line, sizeof(line));
		assert_int_equal(sw_clickhouse__emit(c, line, strlen(line)), 0);
	}
	assert_int_equal(sw_clickhouse__flush(c, 5000), 0);
	sw_clickhouse__stats(c, &st);
	assert_int_equal(fake_rows(f), 30);
	assert_true(f->selects >= 1);
	assert_int_equal(st.delivered + st.skipped, 30);
	assert_int_equal(st.skipped, 10);
	assert_int_equal(st.failures, 1);
	for (i = 0; i < 30; i++) {
		char want[64];

		snprintf(want, sizeof(want), "\"secret_name\":\"NAME_%d\"", i);
		assert_non_null(strstr(f->rows[i], want)); /* in order */
	}
	sw_clickhouse__free(c);
	fake_stop(f);
}

/* Down: rows wait; the spool is bounded (refused counted), a coverage_gap has a reserve; after
 * a restart of the sink the waiting rows go out, in order, once. */
static void test_spool_bound_and_resume(void **state)
{
	struct fake *f = fake_start();
	struct sw_clickhouse *c;
	struct sw_clickhouse_stats st;
	char line[8192];
	int i, ok = 0, refused = 0;

	f->refuse = 1;
	c = open_sink(f, 8192);
	assert_non_null(c);
	for (i = 0; i < 20; i++) {
		alert_line(i, "secret_spread", line, sizeof(line));
		if (sw_clickhouse__emit(c, line, strlen(line)) == 0)
			ok++;
		else
			refused++;
	}
	assert_true(ok > 0 && refused > 0);
	assert_int_equal(sw_clickhouse__take_refused(c), (uint64_t)refused);
	assert_int_equal(sw_clickhouse__take_refused(c), 0);
	alert_line(99, "coverage_gap", line, sizeof(line));
	assert_int_equal(sw_clickhouse__emit(c, line, strlen(line)), 0);
	assert_int_equal(sw_clickhouse__flush(c, 300), -ETIMEDOUT);
	sw_clickhouse__stats(c, &st);
	assert_true(st.pending > 8192 - 2000);
	assert_true(st.failures >= 1);
	sw_clickhouse__free(c);
	assert_int_equal(fake_rows(f), 0);

	pthread_mutex_lock(&f->mu);
	f->refuse = 0;
	pthread_mutex_unlock(&f->mu);
	c = open_sink(f, 8192);
	assert_non_null(c);
	wait_rows(f, ok + 1);
	assert_int_equal(sw_clickhouse__flush(c, 2000), 0);
	for (i = 0; i < ok; i++) {
		char want[64];

		snprintf(want, sizeof(want), "\"secret_name\":\"NAME_%d\"", i);
		assert_non_null(strstr(f->rows[i], want));
	}
	assert_non_null(strstr(f->rows[ok], "\"kind\":\"coverage_gap\""));
	sw_clickhouse__free(c);
	/* Nothing left: a third start sends nothing. */
	c = open_sink(f, 8192);
	assert_int_equal(sw_clickhouse__flush(c, 1000), 0);
	usleep(400000);
	assert_int_equal(fake_rows(f), ok + 1);
	sw_clickhouse__free(c);
	fake_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alertrow),
		cmocka_unit_test(test_row),
		cmocka_unit_test_setup_teardown(test_delivery_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_bound_and_resume, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
