// SPDX-License-Identifier: Apache-2.0
/* agents.yaml: which processes are coding agents (basename, comm, script), the interpreters
 * they run under, and each agent's transcripts, tool output, credential files and credential
 * environment variables; the queries the daemon asks of them. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "rules.h"
#include "rules_priv.h"

#define ARGV_SCAN_MAX 32 /* argv entries looked at for script rules */

/* ---- agents.yaml ---- */

static int ag_label(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = rl_get_strbuf(c, v, "label", a->label, sizeof(a->label));

	if (rc)
		return rc;
	for (i = 0; a->label[i]; i++)
		if (!islower((unsigned char)a->label[i]) && !isdigit((unsigned char)a->label[i]) &&
		    a->label[i] != '-' && a->label[i] != '_')
			return rl_fail(c, v, "label may only contain a-z, 0-9, '-' and '_'");
	return 0;
}

static int ag_basename(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = rl_get_strv(c, v, "basename", 1, NAME_MAX, 0, &a->basename);

	if (rc)
		return rc;
	for (i = 0; i < a->basename.n; i++)
		if (strchr(a->basename.v[i], '/'))
			return rl_fail(c, v,
				       "basename must not contain '/' (it is the last part of "
				       "the exe path)");
	return 0;
}

static int ag_comm(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = rl_get_strv(c, v, "comm", 1, SW_RULES_STR_MAX, 0, &a->comm);

	if (rc)
		return rc;
	for (i = 0; i < a->comm.n; i++)
		if (strlen(a->comm.v[i]) > SW_AGENT_COMM_LEN - 1)
			return rl_fail(c, v,
				       "comm is longer than %d characters (the kernel keeps only "
				       "%d)",
				       SW_AGENT_COMM_LEN - 1, SW_AGENT_COMM_LEN - 1);
	return 0;
}

static int ag_script(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_strv(c, v, "script", 2, SW_RULES_STR_MAX, 0,
			   &((struct sw_agent *)obj)->script);
}

static int ag_transcripts(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_strv(c, v, "transcripts", 1, SW_RULES_STR_MAX, 0,
			   &((struct sw_agent *)obj)->transcripts);
}

static int ag_tool_output(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_strv(c, v, "tool_output", 1, SW_RULES_STR_MAX, 0,
			   &((struct sw_agent *)obj)->tool_output);
}

static int ag_credentials(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_strv(c, v, "credentials", 1, SW_RULES_STR_MAX, 0,
			   &((struct sw_agent *)obj)->credentials);
}

static int ag_credential_env(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = rl_get_strv(c, v, "credential_env", 1, SW_RULES_STR_MAX, 0, &a->credential_env);

	if (rc)
		return rc;
	for (i = 0; i < a->credential_env.n; i++)
		if (strchr(a->credential_env.v[i], '='))
			return rl_fail(c, v, "credential_env names variables: no '=' in a name");
	return 0;
}

static const struct key agent_keys[] = {
	{"label", ag_label},
	{"basename", ag_basename},
	{"comm", ag_comm},
	{"script", ag_script},
	{"transcripts", ag_transcripts},
	{"tool_output", ag_tool_output},
	{"credentials", ag_credentials},
	{"credential_env", ag_credential_env},
};

static int agents_interpreters(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_strv(c, v, "interpreters", 1, NAME_MAX, 0, &c->r->interpreters);
}

static int agents_list(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_rules *r = c->r;
	yaml_node_item_t *it;
	yaml_node_t *e;
	struct sw_agent *a;
	size_t count, i, j;
	uint32_t seen;
	int rc;

	(void)obj;
	rc = rl_get_list(c, v, "agents", &it, &count);
	if (rc)
		return rc;
	r->agents = calloc(count ? count : 1, sizeof(*r->agents));
	if (!r->agents)
		return -ENOMEM;
	for (i = 0; i < count; i++, it++) {
		e = rl_node(c, *it);
		if (!e)
			return rl_fail(c, v, "agents: broken list");
		rc = rl_count_rule(c, e);
		if (rc)
			return rc;
		a = &r->agents[r->nagents++];
		a->line = (int)e->start_mark.line + 1;
		rc = rl_parse_map(c, e, "an agent", agent_keys,
				  sizeof(agent_keys) / sizeof(agent_keys[0]), a, &seen);
		if (rc)
			return rc;
		if (!a->label[0])
			return rl_fail(c, e, "agent has no label");
		if (!a->basename.n && !a->comm.n && !a->script.n)
			return rl_fail(c, e,
				       "agent '%s' matches nothing: give basename, comm or script",
				       a->label);
		for (j = 0; j + 1 < r->nagents; j++)
			if (!strcmp(r->agents[j].label, a->label))
				return rl_fail(c, e, "duplicate agent label '%s' (also at line %d)",
					       a->label, r->agents[j].line);
	}
	return 0;
}

const struct key rl_agents_file_keys[] = {
	{"interpreters", agents_interpreters},
	{"agents", agents_list},
};
/* ---- queries ---- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}
static int strv_has(const struct strv *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return 1;
	return 0;
}

/* The kernel keeps 15 characters of comm: compare truncated forms. */
static int comm_eq(const char *entry, const char *comm)
{
	size_t n = SW_AGENT_COMM_LEN - 1;

	return strnlen(entry, n) == strnlen(comm, n) && !strncmp(entry, comm, n);
}

static int agent_has_comm(const struct sw_agent *a, const char *comm)
{
	size_t i;

	for (i = 0; i < a->comm.n; i++)
		if (comm_eq(a->comm.v[i], comm))
			return 1;
	/* exec sets comm from the file's base name, so basenames are comms too (as in the
	 * kernel's table). */
	for (i = 0; i < a->basename.n; i++)
		if (comm_eq(a->basename.v[i], comm))
			return 1;
	return 0;
}

int sw_rules__agent_match(const struct sw_rules *r, const char *exe_path, const char *comm,
			  const char *const *argv, int argc, const char **label)
{
	const char *base = exe_path ? base_name(exe_path) : NULL, *script_base = NULL;
	int interp = 0, nargs = argc < ARGV_SCAN_MAX ? argc : ARGV_SCAN_MAX;
	const struct sw_agent *a;
	size_t i, k;
	int j;

	if (!argv)
		nargs = 0;
	for (i = 0; base && i < r->interpreters.n && !interp; i++)
		interp = fnmatch(r->interpreters.v[i], base, 0) == 0;
	/* For an interpreter the agent is the script: its first non-option argument. */
	for (j = 1; interp && j < nargs; j++) {
		if (argv[j] && argv[j][0] != '-') {
			script_base = base_name(argv[j]);
			break;
		}
	}
	for (i = 0; i < r->nagents; i++) {
		a = &r->agents[i];
		if ((base && strv_has(&a->basename, base)) ||
		    (script_base && strv_has(&a->basename, script_base)) ||
		    (comm && agent_has_comm(a, comm)))
			goto found;
		for (j = 1; interp && j < nargs; j++)
			for (k = 0; argv[j] && k < a->script.n; k++)
				if (strstr(argv[j], a->script.v[k]))
					goto found;
	}
	return 0;
found:
	if (label)
		*label = a->label;
	return 1;
}

/* Whether entry k of list `which` (0 basename, 1 comm) of agent i repeats an earlier entry. */
static int comm_seen_before(const struct sw_rules *r, size_t i, int which, size_t k)
{
	const char *s = (which ? &r->agents[i].comm : &r->agents[i].basename)->v[k];
	const struct strv *l;
	size_t a, w, j, end;

	for (a = 0; a <= i; a++) {
		for (w = 0; w < 2; w++) {
			l = w ? &r->agents[a].comm : &r->agents[a].basename;
			end = a == i && (int)w == which ? k : l->n;
			if (a == i && (int)w > which)
				end = 0;
			for (j = 0; j < end; j++)
				if (comm_eq(l->v[j], s))
					return 1;
		}
	}
	return 0;
}

size_t sw_rules__interpreter_comms(const struct sw_rules *r, char (*out)[SW_AGENT_COMM_LEN],
				   size_t max)
{
	size_t i, n = 0, len;
	const char *v;

	for (i = 0; i < r->interpreters.n && n < max; i++) {
		v = r->interpreters.v[i];
		len = strlen(v);
		if (len && v[len - 1] == '*')
			len--;
		if (!len || strcspn(v, "*?[") < len)
			continue;
		memset(out[n], 0, SW_AGENT_COMM_LEN);
		memcpy(out[n], v, len < SW_AGENT_COMM_LEN - 1 ? len : SW_AGENT_COMM_LEN - 1);
		n++;
	}
	return n;
}

size_t sw_rules__agent_comms(const struct sw_rules *r, char (*out)[SW_AGENT_COMM_LEN], size_t max)
{
	const struct strv *l;
	size_t i, k, n = 0;
	int w;

	/* Quadratic in the number of entries, which the list and rule limits bound; called once
	 * per load. */
	for (i = 0; i < r->nagents; i++) {
		for (w = 0; w < 2; w++) {
			l = w ? &r->agents[i].comm : &r->agents[i].basename;
			for (k = 0; k < l->n; k++) {
				if (comm_seen_before(r, i, w, k))
					continue;
				if (n < max) {
					memset(out[n], 0, SW_AGENT_COMM_LEN);
					memcpy(out[n], l->v[k],
					       strnlen(l->v[k], SW_AGENT_COMM_LEN - 1));
				}
				n++;
			}
		}
	}
	return n;
}

/* Agent-rule globs (transcripts, tool_output) are path globs: `*` matches within one path
 * component, `**` across components ('/' included; `**` followed by '/' also matches no
 * directory at all), `?` one character other than '/', `[...]` a class (fnmatch's), `\`
 * quotes. The path comes from what a session names its files, so the work per match is
 * bounded: past the budget the path does not match (it still alerts, as a plain file). */
#define PATH_GLOB_BUDGET 100000

static const char *class_end(const char *g)
{
	const char *e = g + 1;

	if (*e == '!' || *e == '^')
		e++;
	if (*e == ']')
		e++;
	while (*e && *e != ']')
		e++;
	return *e ? e : NULL;
}

static int path_glob(const char *g, const char *s, unsigned int *budget)
{
	while (*g) {
		if (!*budget || !--*budget)
			return 0;
		if (g[0] == '*' && g[1] == '*') {
			while (*g == '*')
				g++;
			if (*g == '/') {
				/* "**" + "/": zero or more whole directories. */
				for (g++;; s++) {
					if (path_glob(g, s, budget))
						return 1;
					s = strchr(s, '/');
					if (!s)
						return 0;
				}
			}
			for (;; s++) {
				if (path_glob(g, s, budget))
					return 1;
				if (!*s)
					return 0;
			}
		}
		if (*g == '*') {
			for (g++;; s++) {
				if (path_glob(g, s, budget))
					return 1;
				if (!*s || *s == '/')
					return 0;
			}
		}
		if (!*s)
			return 0;
		if (*g == '?') {
			if (*s == '/')
				return 0;
		} else if (*g == '[' && class_end(g)) {
			const char *e = class_end(g);
			char cls[SW_RULES_STR_MAX + 1], one[2] = {*s, 0};

			if (*s == '/' || (size_t)(e - g + 1) > SW_RULES_STR_MAX)
				return 0;
			memcpy(cls, g, e - g + 1);
			cls[e - g + 1] = 0;
			if (fnmatch(cls, one, 0))
				return 0;
			g = e;
		} else {
			if (*g == '\\' && g[1])
				g++;
			if (*g != *s)
				return 0;
		}
		g++;
		s++;
	}
	return !*s;
}

/* A leading "~/" is the session's home when it is known, else any home directory (/root/ or
 * /home/NAME/). */
static int agent_path_match(const char *glob, const char *path, const char *home)
{
	unsigned int budget = PATH_GLOB_BUDGET;
	const char *rel;
	size_t n;

	if (glob[0] != '~' || glob[1] != '/')
		return path_glob(glob, path, &budget);
	if (home) {
		n = strlen(home);
		while (n > 1 && home[n - 1] == '/')
			n--;
		if (strncmp(path, home, n) || path[n] != '/')
			return 0;
		rel = path + n;
	} else if (!strncmp(path, "/root/", 6)) {
		rel = path + 5;
	} else if (!strncmp(path, "/home/", 6)) {
		rel = strchr(path + 6, '/');
		if (!rel || rel == path + 6)
			return 0;
	} else {
		return 0;
	}
	return path_glob(glob + 1, rel, &budget);
}

enum agent_list { LIST_TRANSCRIPTS, LIST_TOOL_OUTPUT, LIST_CREDENTIALS };

static int agent_glob(const struct sw_rules *r, const char *path, const char *home,
		      const char **label, enum agent_list which)
{
	const struct strv *l;
	size_t i, k;

	/* "/" is no home a path can be below in any useful sense: treat it as unknown. */
	if (home && (!home[0] || !strcmp(home, "/")))
		home = NULL;
	for (i = 0; path && i < r->nagents; i++) {
		l = which == LIST_TOOL_OUTPUT	? &r->agents[i].tool_output
		    : which == LIST_CREDENTIALS ? &r->agents[i].credentials
						: &r->agents[i].transcripts;
		for (k = 0; k < l->n; k++)
			if (agent_path_match(l->v[k], path, home)) {
				if (label)
					*label = r->agents[i].label;
				return 1;
			}
	}
	return 0;
}

int sw_rules__transcript(const struct sw_rules *r, const char *path, const char *home,
			 const char **label)
{
	return agent_glob(r, path, home, label, LIST_TRANSCRIPTS);
}

int sw_rules__tool_output(const struct sw_rules *r, const char *path, const char *home,
			  const char **label)
{
	return agent_glob(r, path, home, label, LIST_TOOL_OUTPUT);
}

int sw_rules__credentials(const struct sw_rules *r, const char *path, const char *home,
			  const char **label)
{
	return agent_glob(r, path, home, label, LIST_CREDENTIALS);
}

int sw_rules__credential_env(const struct sw_rules *r, const char *name, size_t len)
{
	const struct strv *l;
	size_t i, k;

	for (i = 0; i < r->nagents; i++) {
		l = &r->agents[i].credential_env;
		for (k = 0; k < l->n; k++)
			if (strlen(l->v[k]) == len && !memcmp(l->v[k], name, len))
				return 1;
	}
	return 0;
}

size_t sw_rules__agent_count(const struct sw_rules *r)
{
	return r->nagents;
}
