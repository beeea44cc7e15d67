// SPDX-License-Identifier: Apache-2.0
/* A credential an agent process hands its tools through a credential_env variable is the
 * agent's own; the same variable set by anyone else is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agentcred.h"

static void exec_of(struct sw_proctab *pt, uint32_t tgid, uint32_t ppid, const char *exe,
		    const char *args, size_t args_len)
{
	assert_int_equal(
		sw_proctab__exec(pt, tgid, ppid, 0, 7, "x", exe, strlen(exe), args, args_len), 0);
}

static void test_agent_hands_its_tools(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *rules = sw_rules__load_embedded(&e);
	struct sw_proctab *pt = sw_proctab__new();
	struct sw_agentcred *c = sw_agentcred__new();
	struct sw_hdr h = {.type = SW_EV_EXEC, .session_id = 7};
	struct sw_event ev = {.hdr = &h};
	static const char var[] = "CLAUDE_CODE_MESSAGING_TOKEN=3f9a0c2e71d84b6a95e0c1f27d3b8a64";
	static const char other[] = "OTHER_TOKEN=3f9a0c2e71d84b6a95e0c1f27d3b8a64";
	uint8_t value[64];
	struct sw_key key;
	struct sw_secret s;
	size_t vlen = strlen(var) - strlen("CLAUDE_CODE_MESSAGING_TOKEN=");

	assert_non_null(rules);
	memset(&key, 7, sizeof(key));
	sw_key__derive(&key);
	memcpy(value, var + strlen(var) - vlen, vlen);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sw_fingerprint__secret(&key, value, vlen, &s), 0);
	assert_non_null(sw_proctab__session(pt, 7, 100));
	exec_of(pt, 100, 1, "/n/bin/claude.exe", "claude\0", 7);
	assert_int_equal(sw_proctab__mark_agent(pt, 100), 0);
	exec_of(pt, 101, 100, "/bin/bash", "bash\0", 5);
	exec_of(pt, 102, 101, "/usr/bin/env", "env\0", 4);
	/* A tool (not an agent) execs with the variable: the string is not for the detectors... */
	h.tgid = h.pid = 102;
	h.ppid = 101;
	assert_int_equal(sw_agentcred__env(c, rules, pt, &key, &ev, var, strlen(var)), 1);
	/* ...but its value is not remembered as the agent's. */
	assert_false(sw_agentcred__has(c, s.id));
	/* Another variable is nobody's credential. */
	h.tgid = h.pid = 101;
	h.ppid = 100;
	assert_int_equal(sw_agentcred__env(c, rules, pt, &key, &ev, other, strlen(other)), 0);
	assert_false(sw_agentcred__has(c, s.id));
	/* The agent (claude.exe) execs its tool with it: the value is the agent's own. */
	assert_int_equal(sw_agentcred__env(c, rules, pt, &key, &ev, var, strlen(var)), 1);
	assert_true(sw_agentcred__has(c, s.id));
	assert_int_equal(sw_agentcred__env(c, rules, pt, &key, &ev, var, strlen(var)),
			 1); /* once */
	sw_secret__clear(&s);
	sw_agentcred__free(c);
	sw_proctab__free(pt);
	sw_rules__free(rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_hands_its_tools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
