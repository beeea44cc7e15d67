// SPDX-License-Identifier: Apache-2.0
/* Agent processes are whatever the agent rules identify, wherever they are in the session;
 * the root's exec gives the session its home and (when unlabelled) its label. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agentproc.h"

#define CODEX_BIN                                                                                  \
	"/c/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"

static struct sw_rules *rules;

static int setup(void **state)
{
	struct sw_rules_error e;

	(void)state;
	rules = sw_rules__load_embedded(&e);
	return rules ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sw_rules__free(rules);
	return 0;
}

/* One exec of tgid in session: the process table first, then the agent rules, as the
 * pipeline does. args and env are NUL-separated with their final NUL (sizeof - 1). */
static const char *exec_in(struct sw_proctab *pt, uint64_t session, uint32_t tgid, uint32_t ppid,
			   const char *comm, const char *exe, const char *args, size_t args_len,
			   const char *env, size_t env_len)
{
	struct sw_hdr h = {.type = SW_EV_EXEC, .tgid = tgid, .pid = tgid, .ppid = ppid};
	struct sw_event ev = {.hdr = &h};

	h.session_id = session;
	snprintf(h.comm, sizeof(h.comm), "%s", comm);
	ev.filename = exe;
	ev.filename_len = strlen(exe);
	ev.args = args;
	ev.args_len = args_len;
	ev.env = env;
	ev.env_len = env_len;
	assert_int_equal(sw_proctab__exec(pt, tgid, ppid, 0, session, comm, exe, strlen(exe), args,
					  args_len),
			 0);
	return sw_agentproc__exec(pt, rules, &ev, comm, session);
}

#define EXEC(pt, sid, tgid, ppid, comm, exe, args, env)                                            \
	exec_in(pt, sid, tgid, ppid, comm, exe, args, sizeof(args) - 1, env, sizeof(env) - 1)

/* Codex from npm on Node 20: env (comm codex, the script's name) execs node, which spawns the
 * native binary; the binary runs the tools. */
static void test_codex_tree(void **state)
{
	struct sw_proctab *pt = sw_proctab__new();
	const struct sw_session *s;

	assert_non_null(sw_proctab__session(pt, 7, 100));
	assert_string_equal(EXEC(pt, 7, 100, 1, "codex", "/usr/bin/env",
				 "/usr/bin/env\0node\0/c/node_modules/.bin/codex\0exec\0",
				 "PATH=/bin\0HOME=/srv/dev/\0"),
			    "codex");
	assert_string_equal(EXEC(pt, 7, 100, 1, "node", "/usr/bin/node",
				 "node\0/c/node_modules/.bin/codex\0exec\0", "HOME=/srv/dev\0"),
			    "codex");
	s = sw_proctab__find_session(pt, 7);
	assert_string_equal(s->agent, "codex");
	assert_string_equal(sw_proctab__home(pt, 7), "/srv/dev");
	assert_int_equal(sw_proctab__fork(pt, 100, 101, 7, 0, "node"), 0);
	assert_string_equal(EXEC(pt, 7, 101, 100, "codex", CODEX_BIN, CODEX_BIN "\0exec\0",
				 "HOME=/elsewhere\0"),
			    "codex");
	/* Only the root's environment names the session's home. */
	assert_string_equal(sw_proctab__home(pt, 7), "/srv/dev");
	assert_int_equal(sw_proctab__fork(pt, 101, 102, 7, 0, "codex"), 0);
	assert_true(sw_agentproc__is_agent(pt, 7, 102)); /* a fork runs the agent's code */
	assert_null(EXEC(pt, 7, 102, 101, "bash", "/usr/bin/bash", "/bin/bash\0-lc\0cat .env\0",
			 "HOME=/srv/dev\0"));
	assert_true(sw_agentproc__is_agent(pt, 7, 101));
	assert_true(sw_agentproc__is_agent(pt, 7, 100));  /* the root */
	assert_false(sw_agentproc__is_agent(pt, 7, 102)); /* the tool */
	assert_false(sw_agentproc__is_agent(pt, 7, 0));
	/* The pipe's reader has often exited by the time the alert is decided. */
	sw_proctab__exit(pt, 102);
	sw_proctab__exit(pt, 101);
	assert_true(sw_agentproc__is_agent(pt, 7, 101));
	assert_false(sw_agentproc__is_agent(pt, 7, 102));
	/* A transcript is under the session's home, wherever that is. */
	assert_int_equal(sw_rules__transcript(rules,
					      "/srv/dev/.codex/sessions/2026/11/30/rollout-x.jsonl",
					      sw_proctab__home(pt, 7), NULL),
			 1);
	assert_int_equal(sw_rules__transcript(rules, "/home/u/.codex/sessions/2026/r.jsonl",
					      sw_proctab__home(pt, 7), NULL),
			 0);
	sw_proctab__free(pt);
}

/* `sprawlctl run` without --agent: the session is unlabelled until its root execs. */
static void test_run_label(void **state)
{
	struct sw_proctab *pt = sw_proctab__new();

	assert_non_null(sw_proctab__session(pt, 8, 200));
	assert_null(EXEC(pt, 8, 200, 1, "env", "/usr/bin/env", "env\0X=1\0claude\0-p\0hi\0",
			 "HOME=/root\0"));
	assert_string_equal(sw_proctab__find_session(pt, 8)->agent, "run");
	assert_string_equal(
		EXEC(pt, 8, 200, 1, "claude.exe", "/n/bin/claude.exe", "claude\0-p\0hi\0", "X=1\0"),
		"claude");
	assert_string_equal(sw_proctab__find_session(pt, 8)->agent, "claude");
	/* Once named by the rules it stays: a later exec of the root does not rename it. */
	assert_null(EXEC(pt, 8, 200, 1, "sh", "/bin/sh", "sh\0", ""));
	assert_string_equal(sw_proctab__find_session(pt, 8)->agent, "claude");
	/* --agent gave a label: the rules do not override it. */
	assert_non_null(sw_proctab__session(pt, 9, 300));
	assert_int_equal(sw_proctab__set_agent(pt, 9, "mine"), 0);
	assert_string_equal(EXEC(pt, 9, 300, 1, "claude", "/usr/bin/claude", "claude\0", ""),
			    "claude");
	assert_string_equal(sw_proctab__find_session(pt, 9)->agent, "mine");
	/* No HOME seen and not live: the home is unknown. */
	assert_null(sw_proctab__home(pt, 9));
	/* A process outside any session is nobody's agent. */
	assert_null(EXEC(pt, 0, 400, 1, "claude", "/usr/bin/claude", "claude\0", ""));
	assert_false(sw_agentproc__is_agent(pt, 0, 400));
	sw_proctab__free(pt);
}

/* A cut environment: its last string may be a prefix of the real HOME. */
static void test_home_cut(void **state)
{
	struct sw_proctab *pt = sw_proctab__new();
	static const char env[] = "A=1\0HOME=/ho";

	assert_non_null(sw_proctab__session(pt, 5, 500));
	exec_in(pt, 5, 500, 1, "claude", "/usr/bin/claude", "claude\0", 7, env, sizeof(env) - 1);
	assert_null(sw_proctab__home(pt, 5));
	assert_null(EXEC(pt, 5, 500, 1, "sh", "/bin/sh", "sh\0", "HOME=relative\0"));
	assert_null(sw_proctab__home(pt, 5));
	sw_proctab__free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codex_tree),
		cmocka_unit_test(test_run_label),
		cmocka_unit_test(test_home_cut),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
