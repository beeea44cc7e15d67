// SPDX-License-Identifier: Apache-2.0
/* The metrics exposition and its HTTP side, over loopback (no root). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"

static char *text(void (*fn)(FILE *, void *), void *ctx)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fn(f, ctx);
	fclose(f);
	return out;
}

static void render(FILE *f, void *ctx)
{
	sw_metrics__family(f, "sprawlwatch_x_total", "counter", "An example.");
	sw_metrics__sample(f, "sprawlwatch_x_total", 42, "kind", "a\"b\\c\nd", "sev", "high", NULL);
	sw_metrics__sample(f, "sprawlwatch_ratio", 0.25, NULL);
	sw_metrics__sample(f, "sprawlwatch_big", 12345678901234.0, NULL);
	(*(int *)ctx)++;
}

static void test_exposition(void **state)
{
	int n = 0;
	char *t = text(render, &n);

	assert_string_equal(t, "# HELP sprawlwatch_x_total An example.\n"
			       "# TYPE sprawlwatch_x_total counter\n"
			       "sprawlwatch_x_total{kind=\"a\\\"b\\\\c\\nd\",sev=\"high\"} 42\n"
			       "sprawlwatch_ratio 0.25\n"
			       "sprawlwatch_big 12345678901234\n");
	free(t);
}

static int dial(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Serves until fd has the whole answer (the server closes), bounded. */
static char *exchange(struct sw_metrics *m, int fd, const char *req)
{
	static char buf[65536];
	size_t len = 0;
	ssize_t r;
	int i;

	if (req)
		assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	for (i = 0; i < 200; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		sw_metrics__serve(m, 0);
		if (poll(&p, 1, 10) == 1) {
			r = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
			if (r == 0)
				break;
			if (r > 0)
				len += r;
		}
	}
	buf[len] = 0;
	return buf;
}

static void test_http(void **state)
{
	int n = 0, fd;
	struct sw_metrics *m = sw_metrics__new("127.0.0.1:0", render, &n);
	struct sw_metrics_stats st;
	char *ans;

	assert_non_null(m);
	assert_true(sw_metrics__port(m) > 0);

	fd = dial(sw_metrics__port(m));
	ans = exchange(m, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_non_null(strstr(ans, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(ans, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(ans, "\r\n\r\n# HELP sprawlwatch_x_total"));
	close(fd);
	assert_int_equal(n, 1);

	fd = dial(sw_metrics__port(m));
	ans = exchange(m, fd, "GET /other HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(ans, "HTTP/1.1 404 "));
	close(fd);
	fd = dial(sw_metrics__port(m));
	ans = exchange(m, fd, "DELETE /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(ans, "HTTP/1.1 405 "));
	close(fd);
	assert_int_equal(n, 1); /* rendered only for the scrape */

	sw_metrics__stats(m, &st);
	assert_int_equal(st.scrapes, 1);
	assert_int_equal(st.bad_requests, 2);
	sw_metrics__free(m);
}

static void test_bad_addresses(void **state)
{
	int n = 0;

	errno = 0;
	assert_null(sw_metrics__new("127.0.0.1", render, &n));
	assert_int_equal(errno, EINVAL);
	assert_null(sw_metrics__new(":9464", render, &n));
	assert_null(sw_metrics__new("127.0.0.1:x", render, &n));
	assert_null(sw_metrics__new("[::1", render, &n));
	assert_null(sw_metrics__new("127.0.0.1:1", NULL, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_bad_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
