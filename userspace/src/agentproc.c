// SPDX-License-Identifier: Apache-2.0
/* See agentproc.h. */
#include <stdio.h>
#include <string.h>

#include "agentproc.h"

#define ARGV_MAX  64 /* argv entries handed to the rules (they look at the first 32) */
#define RUN_LABEL "run"

const char *sw_agentproc__label(const struct sw_rules *rules, const struct sw_event *ev,
				const char *comm)
{
	const char *argv[ARGV_MAX], *s = ev->args, *end = ev->args + ev->args_len, *label = NULL;
	char exe[SW_PATH_LEN + 1];
	int argc = 0;

	if (!rules)
		return NULL;
	if (ev->args_len && ev->args[ev->args_len - 1] != 0)
		return NULL; /* cut argv: the last string has no end */
	while (s < end && argc < ARGV_MAX) {
		argv[argc++] = s;
		s += strnlen(s, end - s) + 1;
	}
	snprintf(exe, sizeof(exe), "%.*s", (int)ev->filename_len, ev->filename);
	return sw_rules__agent_match(rules, exe, comm, argv, argc, &label) == 1 ? label : NULL;
}

/* HOME=... in the exec's environment: only a whole string counts (a cut environment's last
 * string may be a prefix of the real value). */
const char *sw_agentproc__home(const struct sw_event *ev, size_t *len)
{
	const char *s = ev->env, *end = ev->env + ev->env_len;
	size_t n;

	for (; s < end; s += n + 1) {
		n = strnlen(s, end - s);
		if (s + n == end)
			break;
		if (n > 5 && !memcmp(s, "HOME=", 5)) {
			*len = n - 5;
			return s + 5;
		}
	}
	return NULL;
}

const char *sw_agentproc__exec(struct sw_proctab *pt, const struct sw_rules *rules,
			       const struct sw_event *ev, const char *comm, uint64_t id)
{
	const char *label = id ? sw_agentproc__label(rules, ev, comm) : NULL, *home;
	struct sw_session *s;
	size_t len;

	if (!id)
		return NULL;
	if (label)
		sw_proctab__mark_agent(pt, ev->hdr->tgid);
	s = sw_proctab__session(pt, id, ev->hdr->tgid);
	if (!s || s->root_pid != ev->hdr->tgid)
		return label;
	home = sw_agentproc__home(ev, &len);
	if (home)
		sw_proctab__set_home(pt, id, home, len);
	if (s->agent[0] && !s->provisional)
		return label;
	/* `sprawlctl run` without --agent: the rules name the command, or it is just "run"
	 * (until the root execs an agent: `sprawlctl run -- env X=1 claude`). */
	snprintf(s->agent, sizeof(s->agent), "%s", label ? label : RUN_LABEL);
	s->provisional = !label;
	return label;
}

int sw_agentproc__is_agent(const struct sw_proctab *pt, uint64_t session, uint32_t tgid)
{
	const struct sw_session *s = sw_proctab__find_session(pt, session);

	if (!tgid)
		return 0;
	return sw_proctab__is_agent(pt, tgid) || (s && s->root_pid == tgid);
}
