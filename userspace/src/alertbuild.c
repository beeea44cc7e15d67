// SPDX-License-Identifier: Apache-2.0
/* See alertbuild.h. */
#include <stdio.h>
#include <string.h>

#include "agentproc.h"
#include "alertbuild.h"

void sw_alertbuild__base(struct sw_alert *a, enum sw_alert_kind kind, uint64_t time_us,
			 const char *host, const struct sw_policy *pol)
{
	memset(a, 0, sizeof(*a));
	a->time_us = time_us;
	a->kind = kind;
	a->severity = sw_policy__severity(pol, kind, SW_PLACE__COUNT);
	snprintf(a->host, sizeof(a->host), "%s", host);
}

void sw_alertbuild__secret(struct sw_alert *a, const struct sw_secret *s)
{
	_Static_assert(sizeof(a->secret_key) == SW_SECRET_ID_BYTES, "secret id size");
	a->has_secret = 1;
	sw_secret__id_hex(s, a->secret_id);
	memcpy(a->secret_key, s->id, SW_SECRET_ID_BYTES);
	snprintf(a->secret_name, sizeof(a->secret_name), "%s", s->name);
}

static int any_match(const struct sw_match *m, void *ctx)
{
	(void)m;
	(void)ctx;
	return 1;
}

/* Does s hold a tracked secret in any form? The monitor must never spread what it tracks. */
static int holds_secret(const struct sw_matcher *m, const char *s, size_t len)
{
	struct sw_stream *st;
	int r;

	if (len < SW_SECRET_MIN || !m)
		return 0;
	st = sw_stream__new();
	if (!st)
		return 1; /* cannot tell: redact */
	r = sw_matcher__scan(m, st, s, len, any_match, NULL);
	sw_stream__free(st);
	return r != 0;
}

void sw_alertbuild__process(struct sw_alert *a, const struct sw_hdr *h, const struct sw_proc *pr,
			    const struct sw_matcher *m)
{
	const char *s, *end;
	uint32_t n = 0;

	a->has_process = 1;
	a->process.pid = h->tgid;
	a->process.ppid = h->ppid;
	a->process.uid = h->uid;
	memcpy(a->process.comm, h->comm, sizeof(a->process.comm));
	a->process.comm[sizeof(a->process.comm) - 1] = 0;
	a->process.exe[0] = 0;
	a->process.argc = 0;
	if (!pr)
		return;
	/* A record the daemon made (a channel it found, a request's answer) names the process by
	 * its tgid alone: the rest is the process table's. */
	if (!a->process.comm[0]) {
		memcpy(a->process.comm, pr->comm, sizeof(a->process.comm));
		a->process.comm[sizeof(a->process.comm) - 1] = 0;
		a->process.ppid = pr->ppid;
		a->process.uid = pr->uid;
	}
	snprintf(a->process.exe, sizeof(a->process.exe), "%s", pr->exe);
	sw_alert__set_cgroup(a, pr->cgroup);
	s = pr->args;
	end = pr->args + pr->args_len;
	while (s < end && n < SW_ARGV_MAX) {
		size_t len = strnlen(s, end - s);

		a->process.argv[n++] = holds_secret(m, s, len) ? "[redacted]" : s;
		s += len + 1;
	}
	a->process.argc = n;
}

void sw_alertbuild__session(struct sw_alert *a, const struct sw_proctab *pt, uint64_t id)
{
	const struct sw_session *s = sw_proctab__find_session(pt, id);

	a->has_session = 1;
	a->session.id = id;
	a->session.agent[0] = 0;
	a->session.root_pid = 0;
	a->session.root_exe[0] = 0;
	if (!s)
		return;
	snprintf(a->session.agent, sizeof(a->session.agent), "%s", s->agent);
	a->session.root_pid = s->root_pid;
	snprintf(a->session.root_exe, sizeof(a->session.root_exe), "%s",
		 s->root_exe ? s->root_exe : "");
}

void sw_alertbuild__place(struct sw_alert *a, const struct sw_rules *rules,
			  const struct sw_policy *pol, const struct sw_proctab *pt)
{
	const struct sw_artifact *art = &a->artifact;
	const char *label = NULL,
		   *home = a->has_session ? sw_proctab__home(pt, a->session.id) : NULL;
	unsigned int place = art->type;

	if (art->type == SW_ART_FILE && rules &&
	    sw_rules__transcript(rules, art->path, home, &label)) {
		place = SW_PLACE_TRANSCRIPT;
		snprintf(a->message, sizeof(a->message), "the %s agent's transcript", label);
	} else if (art->type == SW_ART_FILE && rules &&
		   sw_rules__tool_output(rules, art->path, home, &label)) {
		place = SW_PLACE_AGENT_PIPE;
		snprintf(a->message, sizeof(a->message),
			 "tool output the %s agent reads back: now in its context and next prompt",
			 label);
	} else if (art->type == SW_ART_PIPE && a->has_session &&
		   sw_agentproc__is_agent(pt, a->session.id, art->reader_pid)) {
		/* Any agent process of the session: the launcher, what it execs, a relaunch. */
		place = SW_PLACE_AGENT_PIPE;
		snprintf(a->message, sizeof(a->message),
			 "tool output piped into the agent: now in its context and next prompt");
	} else if (art->type == SW_ART_TTY && a->has_session &&
		   sw_agentproc__is_agent(pt, a->session.id, art->reader_pid)) {
		place = SW_PLACE_AGENT_PIPE;
		snprintf(a->message, sizeof(a->message),
			 "tool output through a terminal the agent reads: now in its context and "
			 "next prompt");
	}
	a->severity = sw_policy__severity(pol, a->kind, place);
}
