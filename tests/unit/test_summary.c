// SPDX-License-Identifier: Apache-2.0
/* Session summaries: exactly the secrets and places a session's alerts named, each place once
 * with its count, due only after the session ended (and the hold), bounded, and encoded in the
 * alert JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "summary.h"

#define T0 1790000000000000ull

static struct sw_alert *mk(int kind, uint64_t session, const char *id, const char *name, int art,
			   const char *where, uint64_t t, int sev)
{
	static struct sw_alert a;

	memset(&a, 0, sizeof(a));
	a.time_us = t;
	a.kind = (uint8_t)kind;
	a.severity = (uint8_t)sev;
	snprintf(a.host, sizeof(a.host), "dev1");
	a.has_session = 1;
	a.session.id = session;
	snprintf(a.session.agent, sizeof(a.session.agent), "claude");
	a.session.root_pid = 4000;
	snprintf(a.session.root_exe, sizeof(a.session.root_exe), "/usr/bin/claude");
	if (id) {
		a.has_secret = 1;
		snprintf(a.secret_id, sizeof(a.secret_id), "%s", id);
		snprintf(a.secret_name, sizeof(a.secret_name), "%s", name);
	}
	if (art >= 0) {
		a.has_artifact = 1;
		a.artifact.type = (uint8_t)art;
		if (art == SW_ART_SOCKET) {
			snprintf(a.artifact.proto, sizeof(a.artifact.proto), "tcp");
			snprintf(a.artifact.peer, sizeof(a.artifact.peer), "%s", where);
		} else {
			snprintf(a.artifact.path, sizeof(a.artifact.path), "%s", where);
		}
	}
	return &a;
}

static json_object *encode(const struct sw_alert *a)
{
	static char buf[1 << 16];
	json_object *o;

	assert_true(sw_alert__json(a, buf, sizeof(buf)) < (int)sizeof(buf));
	o = json_tokener_parse(buf);
	assert_non_null(o);
	return o;
}

static json_object *at(json_object *o, const char *k)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static const char *s_at(json_object *o, const char *k)
{
	return json_object_get_string(at(o, k));
}

static void test_one_session(void **state)
{
	struct sw_summary *s = sw_summary__new();
	struct sw_alert out;
	json_object *o, *secs, *sec, *places, *pl;

	sw_summary__feed(s, mk(SW_ALERT_SECRET_EXPOSURE, 7, "aaaa000000000001", "API_KEY",
			       SW_ART_FILE, "/p/.env", T0, SW_SEV_MEDIUM));
	sw_summary__feed(s, mk(SW_ALERT_SECRET_SPREAD, 7, "aaaa000000000001", "API_KEY",
			       SW_ART_FILE, "/p/out.txt", T0 + 10, SW_SEV_MEDIUM));
	sw_summary__feed(s, mk(SW_ALERT_SECRET_SPREAD, 7, "aaaa000000000001", "API_KEY",
			       SW_ART_SOCKET, "10.0.0.1:443", T0 + 20, SW_SEV_HIGH));
	/* The same place alerted again (after a registry reset): counted, not listed twice. */
	sw_summary__feed(s, mk(SW_ALERT_SECRET_SPREAD, 7, "aaaa000000000001", "API_KEY",
			       SW_ART_FILE, "/p/out.txt", T0 + 30, SW_SEV_MEDIUM));
	sw_summary__feed(s, mk(SW_ALERT_SECRET_DISCOVERED, 7, "bbbb000000000002", "learned_1",
			       SW_ART_FILE, "/p/log", T0 + 40, SW_SEV_MEDIUM));
	/* Not about secrets, or another session: not in this summary. */
	sw_summary__feed(s, mk(SW_ALERT_COVERAGE_GAP, 7, NULL, NULL, -1, NULL, T0, SW_SEV_HIGH));
	sw_summary__feed(s, mk(SW_ALERT_SECRET_SPREAD, 8, "cccc000000000003", "OTHER", SW_ART_FILE,
			       "/q/x", T0 + 50, SW_SEV_CRITICAL));

	assert_int_equal(sw_summary__next(s, UINT64_MAX, T0 + 99, &out), 0); /* none ended */
	sw_summary__end(s, 7, T0 + 60);
	assert_int_equal(sw_summary__next(s, T0 + 59, T0 + 99, &out), 0); /* the hold */
	assert_int_equal(sw_summary__next(s, T0 + 60, T0 + 99, &out), 1);

	o = encode(&out);
	assert_string_equal(s_at(o, "kind"), "session_summary");
	assert_string_equal(s_at(o, "severity"), "high"); /* the session's highest */
	assert_string_equal(s_at(o, "host"), "dev1");
	assert_int_equal(json_object_get_int64(at(at(o, "session"), "id")), 7);
	assert_string_equal(s_at(at(o, "session"), "agent"), "claude");
	assert_int_equal(json_object_get_int64(at(o, "count")), 3);
	assert_int_equal(json_object_get_int64(at(o, "more_secrets")), 0);
	assert_non_null(strstr(s_at(o, "message"), "2 secret(s) spread to 3 place(s)"));
	secs = at(o, "secrets");
	assert_int_equal(json_object_array_length(secs), 2);
	sec = json_object_array_get_idx(secs, 0);
	assert_string_equal(s_at(sec, "id"), "aaaa000000000001");
	assert_string_equal(s_at(sec, "name"), "API_KEY");
	assert_true(json_object_get_boolean(at(sec, "read_origin")));
	places = at(sec, "places");
	assert_int_equal(json_object_array_length(places), 2);
	pl = json_object_array_get_idx(places, 0);
	assert_string_equal(s_at(pl, "type"), "file");
	assert_string_equal(s_at(pl, "place"), "/p/out.txt");
	assert_int_equal(json_object_get_int64(at(pl, "count")), 2);
	assert_string_equal(s_at(pl, "first"), "2026-09-21T14:13:20.000010Z");
	pl = json_object_array_get_idx(places, 1);
	assert_string_equal(s_at(pl, "type"), "socket");
	assert_string_equal(s_at(pl, "place"), "tcp 10.0.0.1:443");
	assert_string_equal(s_at(pl, "severity"), "high");
	sec = json_object_array_get_idx(secs, 1);
	assert_string_equal(s_at(sec, "name"), "learned_1");
	assert_false(json_object_get_boolean(at(sec, "read_origin")));
	assert_int_equal(json_object_array_length(at(sec, "places")), 1);
	json_object_put(o);

	/* Given once; session 8 has not ended. */
	assert_int_equal(sw_summary__next(s, UINT64_MAX, T0 + 99, &out), 0);
	sw_summary__end(s, 8, T0 + 70);
	assert_int_equal(sw_summary__next(s, UINT64_MAX, T0 + 99, &out), 1);
	assert_int_equal(out.session.id, 8);
	assert_int_equal(out.severity, SW_SEV_CRITICAL);
	assert_int_equal(sw_summary__next(s, UINT64_MAX, T0 + 99, &out), 0);
	/* A session nobody alerted about ends silently. */
	sw_summary__end(s, 9, T0 + 80);
	assert_int_equal(sw_summary__next(s, UINT64_MAX, T0 + 99, &out), 0);
	sw_summary__free(s);
}

static void test_bounds(void **state)
{
	struct sw_summary *s = sw_summary__new();
	struct sw_alert out;
	char id[17], name[32], path[64];
	int i;

	for (i = 0; i < SW_SUMMARY_SECRETS + 6; i++) {
		snprintf(id, sizeof(id), "%016x", i);
		snprintf(name, sizeof(name), "S%d", i);
		sw_summary__feed(s, mk(SW_ALERT_SECRET_SPREAD, 1, id, name, SW_ART_FILE, "/f",
				       T0 + (uint64_t)i, SW_SEV_MEDIUM));
	}
	for (i = 0; i < SW_SUMMARY_PLACES + 3; i++) {
		snprintf(path, sizeof(path), "/g/%d", i);
		sw_summary__feed(s, mk(SW_ALERT_SECRET_SPREAD, 1, "0000000000000000", "S0",
				       SW_ART_FILE, path, T0 + 100 + (uint64_t)i, SW_SEV_MEDIUM));
	}
	sw_summary__end(s, 1, T0 + 1000);
	assert_int_equal(sw_summary__next(s, UINT64_MAX, T0 + 1000, &out), 1);
	assert_int_equal(out.nspread, SW_SUMMARY_SECRETS);
	assert_int_equal(out.more_secrets, 6);
	assert_int_equal(out.spread[0].nplaces, SW_SUMMARY_PLACES);
	assert_int_equal(out.spread[0].more_places, 4); /* "/f" took one of the 64 */
	assert_int_equal(out.count, 64 + 4 + (SW_SUMMARY_SECRETS - 1));
	sw_summary__free(s);

	/* More live sessions than the bound: the least recently seen gives way, counted. */
	s = sw_summary__new();
	for (i = 0; i < SW_SUMMARY_SESSIONS + 2; i++)
		sw_summary__feed(s,
				 mk(SW_ALERT_SECRET_SPREAD, 100 + (uint64_t)i, "0000000000000001",
				    "X", SW_ART_FILE, "/h", T0 + (uint64_t)i, SW_SEV_MEDIUM));
	assert_int_equal(sw_summary__evicted(s), 2);
	sw_summary__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_session),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
