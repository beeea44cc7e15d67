// SPDX-License-Identifier: Apache-2.0
/* The pipeline driven by records: exec argv and environment, sessions (adoption, new
 * sessions, /proc), pipes and their readers, loss, and the rules records. */
#include <errno.h>
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

/* NUL-separated strings: prefix, then secret s, then a NUL. */
static size_t with_secret(const struct tp *f, size_t s, const char *prefix, size_t plen, char *out)
{
	memcpy(out, prefix, plen);
	memcpy(out + plen, f->sec[s].v, f->sec[s].len);
	out[plen + f->sec[s].len] = 0;
	return plen + f->sec[s].len + 1;
}

static void test_exec_arg_redacted(void **state)
{
	static const char env[] = "HOME=/home/u";
	struct tp *f = *state;
	char args[128];
	size_t n = with_secret(f, 0, "curl\0-H\0", 8, args);

	tp_at(f, 20);
	tp_exec(f, 102, "/usr/bin/curl", args, n, env, sizeof(env));
	tp_feed(f);
	assert_int_equal(f->n, 1); /* not held */
	tp_is_spread(f, 0, 0, SW_ART_EXEC_ARG);
	assert_int_equal(f->got[0].a.severity, SW_SEV_HIGH);
	assert_int_equal(f->got[0].a.time_us, tp_us(20));
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"exec_arg\",\"path\":\"/usr/bin/curl\",\"index\":2}");
	tp_json_has(f, 0, "\"exe\":\"/usr/bin/curl\",\"argv\":[\"curl\",\"-H\",\"[redacted]\"]");
	tp_no_plaintext(f);
	/* The same program's argv again, at any index, is the same place; another program's is
	 * a new one. */
	tp_exec(f, 103, "/usr/bin/curl", args, n, env, sizeof(env));
	tp_feed(f);
	n = with_secret(f, 0, "curl\0-v\0-H\0", 11, args);
	tp_exec(f, 105, "/usr/bin/curl", args, n, env, sizeof(env));
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_exec(f, 104, "/usr/local/bin/curl", args, n, env, sizeof(env));
	tp_feed(f);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.artifact.index, 3);
	tp_json_has(f, 1, "\"argv\":[\"curl\",\"-v\",\"-H\",\"[redacted]\"]");
	/* The process table keeps the argv redacted: a later file alert shows it so too. */
	tp_file(f, 104, 900, "/w/a", f->sec[1].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 3);
	tp_json_has(f, 2, "\"argv\":[\"curl\",\"-v\",\"-H\",\"[redacted]\"]");
	tp_no_plaintext(f);
}

static void exec_env(struct tp *f, uint32_t pid, const char *exe, const char *var)
{
	static const char args[] = "tool";
	char env[256];
	size_t n = with_secret(f, 0, var, strlen(var), env);

	tp_exec(f, pid, exe, args, sizeof(args), env, n);
	tp_feed(f);
}

static void test_exec_env_one_place_per_variable_and_agent(void **state)
{
	static const char root_args[] = "gemini";
	struct tp *f = *state;

	exec_env(f, 102, "/usr/bin/git", "MYVAR=");
	assert_int_equal(f->n, 1);
	tp_is_spread(f, 0, 0, SW_ART_EXEC_ENV);
	assert_int_equal(f->got[0].a.severity, SW_SEV_MEDIUM);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"exec_env\",\"path\":\"/usr/bin/git\",\"name\":"
		    "\"MYVAR\"}");
	exec_env(f, 103, "/usr/bin/curl", "MYVAR="); /* inherited by the next tool: same place */
	assert_int_equal(f->n, 1);
	exec_env(f, 104, "/usr/bin/curl", "OTHERVAR="); /* another variable */
	assert_int_equal(f->n, 2);
	tp_json_has(f, 1, "\"name\":\"OTHERVAR\"");
	/* Another agent's session hands the variable down from another exe: a new place. */
	f->session = 8;
	tp_session(f, 200, 8, "gemini");
	tp_feed(f);
	tp_proc(f, 200, "/usr/bin/gemini", root_args, sizeof(root_args));
	tp_feed(f);
	exec_env(f, 201, "/usr/bin/git", "MYVAR=");
	assert_int_equal(f->n, 3);
	tp_json_has(f, 2,
		    "\"session\":{\"id\":8,\"agent\":\"gemini\",\"root_pid\":200,"
		    "\"root_exe\":\"/usr/bin/gemini\"}");
	tp_no_plaintext(f);
}

static void test_exec_truncation_gaps(void **state)
{
	static const char args[] = "make\0all", env[] = "A=b";
	struct tp *f = *state;

	tp_exec(f, 102, "/usr/bin/make", args, sizeof(args), env, sizeof(env))->hdr.flags =
		SW_F_ARGS_TRUNC;
	tp_feed(f);
	tp_exec(f, 103, "/usr/bin/make", args, sizeof(args), env, sizeof(env))->hdr.flags =
		SW_F_ARGS_TRUNC | SW_F_ENV_TRUNC;
	tp_feed(f);
	assert_int_equal(f->n, 0);
	tp_tick(f, 1000);
	tp_feed(f);
	/* Past the kernel's 256 KiB bounds (far above what agents use): one coverage_gap naming
	 * the bound, with the counts; counted for status and metrics too. */
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	tp_json_has(f, 0, "\"gaps\":{\"exec_args_past_256KiB\":2,\"exec_env_past_256KiB\":1}");
	{
		struct sw_pipeline_stats st;

		sw_pipeline__stats(f->p, &st);
		assert_int_equal(st.exec_args_truncated, 2);
		assert_int_equal(st.exec_env_truncated, 1);
	}
}

static struct sw_exec_rec *node_exec(struct tp *f, uint32_t pid, const char *script)
{
	char args[256];
	size_t n = snprintf(args, sizeof(args), "node%c%s", 0, script) + 1;
	struct sw_exec_rec *r;

	f->session = 0;
	r = tp_exec(f, pid, "/usr/bin/node", args, n, "", 0);
	f->session = TP_SESSION;
	r->hdr.flags = SW_F_CANDIDATE;
	snprintf(r->hdr.comm, sizeof(r->hdr.comm), "node");
	return r;
}

static void test_candidate_adopted(void **state)
{
	struct tp *f = *state;
	const struct sw_proc *pr;
	const struct sw_session *s;

	node_exec(f, 300, "/srv/app/server.js"); /* not an agent */
	tp_feed(f);
	assert_int_equal(f->nreq, 0);
	node_exec(f, 301, "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js");
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_ADOPT);
	assert_int_equal(f->req[0].hdr.tgid, 301);
	assert_string_equal(f->req[0].label, "claude");
	assert_true(sw_pipeline__knows(f->p, 301));
	/* The source adopted it as session 9. */
	tp_session(f, 301, 9, "claude");
	tp_feed(f);
	pr = sw_proctab__find(sw_pipeline__proctab(f->p), 301);
	assert_non_null(pr);
	assert_int_equal(pr->session_id, 9);
	s = sw_proctab__find_session(sw_pipeline__proctab(f->p), 9);
	assert_non_null(s);
	assert_string_equal(s->agent, "claude");
	assert_int_equal(s->root_pid, 301);
	assert_string_equal(s->root_exe, "/usr/bin/node");
	/* Its writes are the session's. */
	f->session = 9;
	tp_file(f, 301, 910, "/w/a", f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	tp_json_has(f, 0,
		    "\"session\":{\"id\":9,\"agent\":\"claude\",\"root_pid\":301,"
		    "\"root_exe\":\"/usr/bin/node\"}");
}

static void test_adoption_failed_forgets(void **state)
{
	struct tp *f = *state;

	node_exec(f, 302, "/usr/lib/node_modules/@openai/codex/bin/codex.js");
	tp_feed(f);
	assert_int_equal(f->nreq, 1);
	assert_string_equal(f->req[0].label, "codex");
	assert_true(sw_pipeline__knows(f->p, 302));
	tp_session(f, 302, 0, "codex"); /* the kernel map refused it */
	tp_feed(f);
	assert_false(sw_pipeline__knows(f->p, 302));
	assert_int_equal(f->n, 0);
}

static void test_new_session_labelled(void **state)
{
	static const char args[] = "claude\0-p\0hi";
	struct tp *f = *state;
	const struct sw_session *s;

	f->session = 11;
	tp_at(f, 5);
	tp_exec(f, 400, "/usr/local/bin/claude", args, sizeof(args), "", 0)->hdr.flags =
		SW_F_NEW_SESSION;
	tp_feed(f);
	s = sw_proctab__find_session(sw_pipeline__proctab(f->p), 11);
	assert_non_null(s);
	assert_string_equal(s->agent, "claude");
	assert_int_equal(s->root_pid, 400);
	assert_string_equal(s->root_exe, "/usr/local/bin/claude");
	assert_int_equal(s->started_us, tp_us(5));
	assert_int_equal(f->nreq, 0);
}

static void test_proc_record_names_unknown_process(void **state)
{
	static const char args[] = "bash\0-c\0make";
	struct tp *f = *state;

	assert_false(sw_pipeline__knows(f->p, 500));
	tp_proc(f, 500, "/usr/bin/bash", args, sizeof(args));
	tp_feed(f);
	assert_true(sw_pipeline__knows(f->p, 500));
	tp_file(f, 500, 920, "/w/a", f->sec[0].v, 40);
	tp_feed(f);
	/* One the source could not name: the header's fields only. */
	tp_file(f, 501, 921, "/w/b", f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 2);
	tp_json_has(f, 0,
		    "\"process\":{\"pid\":500,\"ppid\":100,\"uid\":1000,\"comm\":\"tool\","
		    "\"exe\":\"/usr/bin/bash\",\"argv\":[\"bash\",\"-c\",\"make\"]}");
	tp_json_has(f, 1,
		    "\"process\":{\"pid\":501,\"ppid\":100,\"uid\":1000,\"comm\":\"tool\","
		    "\"exe\":\"\",\"argv\":[]}");
}

/* A write of secret s into pipe ino at 10 ms: held, its reader asked for at the due tick,
 * answered by reader (exe). Returns the alerts it added. */
static size_t pipe_flow(struct tp *f, uint64_t base_ms, uint64_t ino, uint32_t reader,
			const char *exe)
{
	size_t before = f->n;

	tp_at(f, base_ms + 10);
	tp_data(f, TP_PID, SW_AK_PIPE, ino, NULL, f->sec[0].v, 40);
	tp_feed(f);
	assert_int_equal(f->nreq, 0);
	tp_tick(f, base_ms + 400);
	tp_feed(f);
	assert_int_equal(f->nreq, 0);
	tp_tick(f, base_ms + 600);
	tp_feed(f);
	assert_int_equal(f->n, before); /* waits for its reader */
	assert_int_equal(f->nreq, 1);
	assert_int_equal(f->req[0].kind, SW_REQ_READER);
	assert_int_equal(f->req[0].dev, TP_KDEV);
	assert_int_equal(f->req[0].ino, ino);
	assert_int_equal(f->req[0].hdr.tgid, TP_PID);
	tp_reader(f, reader, ino, exe);
	tp_feed(f);
	assert_int_equal(f->nreq, 0);
	return f->n - before;
}

static void test_pipe_into_agent_critical(void **state)
{
	struct tp *f = *state;

	assert_int_equal(pipe_flow(f, 0, 800, TP_ROOT, "/usr/bin/claude"), 1);
	tp_is_spread(f, 0, 0, SW_ART_PIPE);
	assert_int_equal(f->got[0].a.severity, SW_SEV_CRITICAL);
	assert_int_equal(f->got[0].a.time_us, tp_us(10));
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"pipe\",\"reader_pid\":100,\"reader_exe\":"
		    "\"/usr/bin/claude\"}");
	tp_json_has(f, 0, "tool output piped into the agent");
	/* The same reader of another pipe: seen there before, no alert. */
	assert_int_equal(pipe_flow(f, 1000, 801, TP_ROOT, "/usr/bin/claude"), 0);
}

static void test_pipe_into_other_low(void **state)
{
	struct tp *f = *state;
	static const char args[] = "less";

	tp_proc(f, 102, "/usr/bin/less", args, sizeof(args));
	tp_feed(f);
	assert_int_equal(pipe_flow(f, 0, 810, 102, "/usr/bin/less"), 1);
	tp_is_spread(f, 0, 0, SW_ART_PIPE);
	assert_int_equal(f->got[0].a.severity, SW_SEV_LOW);
	tp_json_has(f, 0,
		    "\"artifact\":{\"type\":\"pipe\",\"reader_pid\":102,\"reader_exe\":"
		    "\"/usr/bin/less\"}");
	/* Seen before: silence; another reader: an alert, critical when it is the agent. */
	assert_int_equal(pipe_flow(f, 1000, 811, 102, "/usr/bin/less"), 0);
	assert_int_equal(pipe_flow(f, 2000, 812, TP_ROOT, "/usr/bin/claude"), 1);
	assert_int_equal(f->got[1].a.severity, SW_SEV_CRITICAL);
}

static void test_pipe_without_reader(void **state)
{
	struct tp *f = *state;

	assert_int_equal(pipe_flow(f, 0, 820, 0, NULL), 1);
	assert_int_equal(f->got[0].a.severity, SW_SEV_LOW);
	tp_json_has(f, 0, "\"artifact\":{\"type\":\"pipe\",\"reader_pid\":0,\"reader_exe\":\"\"}");
}

static void test_loss_counts(void **state)
{
	struct tp *f = *state;
	struct sw_loss l = {
		.ringbuf_full = 3, .truncated = 2, .path_truncated = 1, .copies_unread = 4};

	tp_at(f, 30);
	tp_loss(f, &l);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	assert_int_equal(f->got[0].a.severity, SW_SEV_HIGH);
	assert_int_equal(f->got[0].a.time_us, tp_us(30));
	tp_json_has(f, 0,
		    "\"gaps\":{\"ringbuf_full\":3,\"truncated\":2,\"path_truncated\":1,"
		    "\"copy_unread\":4}");
	memset(&l, 0, sizeof(l));
	tp_loss(f, &l);
	tp_feed(f);
	assert_int_equal(f->n, 1); /* nothing lost: silence */
}

/* A daemon starts (its first tick) where programs ran on without one: the sessions of the
 * records fed before the SW_F_DOWN loss record lived then; one coverage_gap names them, how
 * long and what was lost. Nothing lost and no session: silence. */
static struct sw_loss_rec *down_rec(struct tp *f, uint64_t lost, uint64_t since_ms)
{
	struct sw_loss l = {.ringbuf_full = lost};
	struct sw_loss_rec *r = tp_loss(f, &l);

	r->hdr.flags = SW_F_DOWN;
	r->down_since_ns = TP_RT0 + since_ms * TP_MS;
	r->drained_bytes = 8192;
	return r;
}

static void first_tick(struct tp *f, uint64_t ms)
{
	tp_tick(f, ms)->hdr.flags = SW_F_FIRST;
	tp_feed(f);
}

static void test_down_window(void **state)
{
	struct tp *f = *state;
	uint8_t buf[64];

	f->autodrain = 1;
	first_tick(f, 5000);
	tp_session(f, TP_ROOT, f->session, "claude");
	tp_feed(f);
	memset(buf, 'x', sizeof(buf));
	tp_file(f, TP_PID, 950, "/w/down", buf, sizeof(buf));
	tp_feed(f);
	tp_at(f, 5010);
	down_rec(f, 7, 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_COVERAGE_GAP);
	assert_int_equal(f->got[0].a.count, 1);
	assert_int_equal(f->got[0].a.session.id, f->session);
	tp_json_has(f, 0, "\"gaps\":{\"ringbuf_full\":7,\"no_daemon_ms\":4010}");
	tp_json_has(f, 0, "no daemon ran from 2");
	tp_json_has(f, 0, "read at start (8192 bytes); 1 session(s) lived then");
	/* A restart with no session and nothing lost: silence. */
	first_tick(f, 9000);
	down_rec(f, 0, 8000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	/* The window closes at the first timer tick: a session after it did not live then. */
	first_tick(f, 12000);
	tp_tick(f, 12100);
	tp_feed(f);
	tp_session(f, TP_ROOT, f->session, "claude");
	tp_feed(f);
	down_rec(f, 0, 11000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
}

static void file_severity(struct tp *f, uint64_t ino, uint64_t ms, enum sw_severity want)
{
	size_t before = f->n;

	tp_at(f, ms);
	tp_file(f, TP_PID, ino, "/w/sev", f->sec[0].v, 40);
	tp_feed(f);
	tp_tick(f, ms + 1000);
	tp_feed(f);
	assert_int_equal(f->n, before + 1);
	assert_int_equal(f->got[before].a.severity, want);
}

static void test_rules_record_changes_severity(void **state)
{
	struct tp *f = *state;
	const struct sw_rules *before = sw_pipeline__rules(f->p);

	file_severity(f, 930, 0, SW_SEV_MEDIUM);
	tp_rules(f, "severity:\n  file: critical\n");
	tp_feed(f);
	assert_ptr_not_equal(sw_pipeline__rules(f->p), before);
	file_severity(f, 931, 2000, SW_SEV_CRITICAL);
	/* A record of rules that do not load: counted, the rules in force stay. */
	tp_rules(f, "severity: [\n");
	assert_int_equal(tp_feed_rc(f), -EINVAL);
	file_severity(f, 932, 4000, SW_SEV_CRITICAL);
	{
		struct sw_pipeline_stats st;

		sw_pipeline__stats(f->p, &st);
		assert_int_equal(st.bad_records, 1);
	}
}

static void test_fixed_rules_ignore_rules_record(void **state)
{
	struct sw_rules_error err;
	struct sw_rules *r = sw_rules__load_embedded(&err);
	struct tp *f;

	(void)state;
	assert_non_null(r);
	f = tp_new(r);
	tp_world(f);
	tp_rules(f, "severity:\n  file: critical\n");
	tp_feed(f);
	assert_ptr_equal(sw_pipeline__rules(f->p), r);
	file_severity(f, 940, 0, SW_SEV_MEDIUM);
	tp_free(f);
	sw_rules__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tp_setup, tp_teardown)
		T(test_exec_arg_redacted),
		T(test_exec_env_one_place_per_variable_and_agent),
		T(test_exec_truncation_gaps),
		T(test_candidate_adopted),
		T(test_adoption_failed_forgets),
		T(test_new_session_labelled),
		T(test_proc_record_names_unknown_process),
		T(test_pipe_into_agent_critical),
		T(test_pipe_into_other_low),
		T(test_pipe_without_reader),
		T(test_loss_counts),
		T(test_down_window),
		T(test_rules_record_changes_severity),
		cmocka_unit_test(test_fixed_rules_ignore_rules_record),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
