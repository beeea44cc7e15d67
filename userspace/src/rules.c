// SPDX-License-Identifier: Apache-2.0
/* Rules loader: YAML (libyaml document API after an event pre-scan that enforces the depth
 * limit and refuses aliases) into agents, compiled detectors and the artifact policy. Every
 * problem is reported once, with file:line:column and words a user can act on. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "detect.h"
#include "fingerprint.h"
#include "rules.h"
#include "sprawl_events.h"

_Static_assert(SW_AGENT_COMM_LEN == SW_COMM_LEN, "agent comm table entries are kernel comms");
_Static_assert(SW_DETECTOR_ID_MAX == sizeof(((struct sw_secret *)0)->detector),
	       "a detector id fits a learned secret's detector field");

#define ARGV_SCAN_MAX 32 /* argv entries looked at for script rules */

static const char *const rule_files[] = {"agents.yaml", "detectors.yaml", "policy.yaml"};
#define NFILES (sizeof(rule_files) / sizeof(rule_files[0]))

struct strv {
	char **v;
	size_t n;
};

struct sw_agent {
	char label[SW_AGENT_LABEL_MAX];
	int line;
	struct strv basename, comm, script, transcripts, tool_output, credentials, credential_env;
};

struct sw_allow {
	struct strv secrets, paths;
};

struct sw_rules {
	struct strv interpreters;
	struct sw_agent *agents;
	size_t nagents;
	struct sw_detector *det;
	size_t ndet;
	struct sw_allow *allow;
	size_t nallow;
	size_t nrules;
	struct sw_policy policy;
	struct sw_detect_index *index; /* built at first use (sw_rules__detect_index) */
	int index_failed;
};

int sw_rules_error__format(const struct sw_rules_error *e, char *out, size_t size)
{
	if (e->line > 0)
		return snprintf(out, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
	return snprintf(out, size, "%s: %s", e->file, e->msg);
}

/* ---- freeing ---- */

static void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void detector_free(struct sw_detector *d)
{
	size_t i;

	pcre2_code_free(d->code);
	free(d->regex);
	for (i = 0; i < d->nallow_re; i++)
		pcre2_code_free(d->allow_re[i]);
	free(d->allow_re);
	for (i = 0; i < d->nstopwords; i++)
		free(d->stopwords[i]);
	free(d->stopwords);
	for (i = 0; i < d->nmatch; i++)
		free(d->match[i]);
	free(d->match);
	for (i = 0; i < d->nnomatch; i++)
		free(d->nomatch[i]);
	free(d->nomatch);
	for (i = 0; i < d->nkeywords; i++)
		free(d->keywords[i]);
	free(d->keywords);
	for (i = 0; i < d->nprefilter; i++)
		free(d->prefilter[i]);
	free(d->prefilter);
}

void sw_rules__free(struct sw_rules *r)
{
	size_t i;

	if (!r)
		return;
	sw_detect__index_free(r->index);
	strv_free(&r->interpreters);
	for (i = 0; i < r->nagents; i++) {
		strv_free(&r->agents[i].basename);
		strv_free(&r->agents[i].comm);
		strv_free(&r->agents[i].script);
		strv_free(&r->agents[i].transcripts);
		strv_free(&r->agents[i].tool_output);
		strv_free(&r->agents[i].credentials);
		strv_free(&r->agents[i].credential_env);
	}
	free(r->agents);
	for (i = 0; i < r->ndet; i++)
		detector_free(&r->det[i]);
	free(r->det);
	for (i = 0; i < r->nallow; i++) {
		strv_free(&r->allow[i].secrets);
		strv_free(&r->allow[i].paths);
	}
	free(r->allow);
	free(r);
}

static struct sw_rules *rules_alloc(void)
{
	struct sw_rules *r = calloc(1, sizeof(*r));
	struct sw_policy *p;

	if (!r)
		return NULL;
	p = &r->policy;
	sw_policy__defaults(p);
	return r;
}

/* ---- loader context and error reporting ---- */

struct ld {
	struct sw_rules *r;
	yaml_document_t *doc;
	const char *file;
	struct sw_rules_error *err;
};

static void err_set(struct sw_rules_error *err, const char *file, int line, int col,
		    const char *fmt, va_list ap)
{
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	err->col = col;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

static int __attribute__((format(printf, 5, 6)))
fail_at(struct sw_rules_error *err, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(err, file, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Reports at the start of node n (libyaml marks are 0-based). */
static int __attribute__((format(printf, 3, 4)))
fail(struct ld *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(c->err, c->file, n ? (int)n->start_mark.line + 1 : 0,
		n ? (int)n->start_mark.column + 1 : 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* User text quoted in a message: at most 64 bytes, non-printable bytes as '?'. */
static const char *shown(const char *s, char buf[72])
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		return "a scalar";
	default:
		return "nothing";
	}
}

static yaml_node_t *node(struct ld *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* ---- typed values ---- */

static int get_str(struct ld *c, yaml_node_t *n, const char *what, size_t min, size_t max,
		   const char **out)
{
	size_t len;

	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, "%s must be a string, not %s", what, kind(n));
	len = n->data.scalar.length;
	if (strlen(scalar(n)) != len)
		return fail(c, n, "%s contains a NUL byte", what);
	if (len < min)
		return fail(c, n, "%s must not be shorter than %zu characters", what, min);
	if (len > max)
		return fail(c, n, "%s is too long (at most %zu characters)", what, max);
	*out = scalar(n);
	return 0;
}

static int get_strbuf(struct ld *c, yaml_node_t *n, const char *what, char *buf, size_t size)
{
	const char *s;
	int rc = get_str(c, n, what, 1, size - 1, &s);

	if (rc)
		return rc;
	memcpy(buf, s, n->data.scalar.length + 1);
	return 0;
}

/* Numbers are plain (unquoted) scalars, so `"20"` is reported instead of silently taken. */
static int get_u64(struct ld *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	char b[72], *end;
	unsigned long long v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(c, n, "%s must be a number, not %s", what,
			    n->type == YAML_SCALAR_NODE ? "a quoted string" : kind(n));
	errno = 0;
	v = strtoull(scalar(n), &end, 10);
	if (!isdigit((unsigned char)scalar(n)[0]) || *end || errno)
		return fail(c, n, "%s must be a whole number, not '%s'", what, shown(scalar(n), b));
	if (v < min || v > max)
		return fail(c, n, "%s must be between %llu and %llu, not %llu", what,
			    (unsigned long long)min, (unsigned long long)max, v);
	*out = v;
	return 0;
}

static int get_u32(struct ld *c, yaml_node_t *n, const char *what, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	uint64_t v;
	int rc = get_u64(c, n, what, min, max, &v);

	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

static int get_double(struct ld *c, yaml_node_t *n, const char *what, double min, double max,
		      double *out)
{
	char b[72], *end;
	double v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return fail(c, n, "%s must be a number, not %s", what,
			    n->type == YAML_SCALAR_NODE ? "a quoted string" : kind(n));
	errno = 0;
	v = strtod(scalar(n), &end);
	if (!scalar(n)[0] || *end || errno || v != v)
		return fail(c, n, "%s must be a number, not '%s'", what, shown(scalar(n), b));
	if (v < min || v > max)
		return fail(c, n, "%s must be between %g and %g, not %g", what, min, max, v);
	*out = v;
	return 0;
}

/* A string or a list of strings; lower-cases the items when lower is set. */
static int get_strv(struct ld *c, yaml_node_t *n, const char *what, size_t min, size_t max,
		    int lower, struct strv *out)
{
	yaml_node_item_t *first = NULL;
	size_t count, i, k;
	yaml_node_t *e;
	const char *s;
	int rc;

	if (n->type == YAML_SEQUENCE_NODE) {
		first = n->data.sequence.items.start;
		count = n->data.sequence.items.top - first;
	} else if (n->type == YAML_SCALAR_NODE) {
		count = 1;
	} else {
		return fail(c, n, "%s must be a string or a list of strings, not %s", what,
			    kind(n));
	}
	if (count > SW_RULES_LIST_MAX)
		return fail(c, n, "%s has %zu items (at most %d)", what, count, SW_RULES_LIST_MAX);
	out->v = calloc(count ? count : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		e = first ? node(c, first[i]) : n;
		if (!e)
			return fail(c, n, "%s: broken list", what);
		rc = get_str(c, e, what, min, max, &s);
		if (rc)
			return rc;
		out->v[i] = strdup(s);
		if (!out->v[i])
			return -ENOMEM;
		out->n++;
		if (lower)
			for (k = 0; out->v[i][k]; k++)
				out->v[i][k] = tolower((unsigned char)out->v[i][k]);
	}
	return 0;
}

/* ---- mappings with a fixed set of keys ---- */

typedef int (*key_fn)(struct ld *c, yaml_node_t *val, void *obj);

struct key {
	const char *name;
	key_fn fn;
};

/* Calls the handler of each key of map; unknown and repeated keys are errors. seen (may be
 * NULL) gets one bit per key of keys[] that was present. */
static int parse_map(struct ld *c, yaml_node_t *map, const char *what, const struct key *keys,
		     size_t nkeys, void *obj, uint32_t *seen)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	uint32_t bits = 0;
	char exp[256], b[72];
	size_t i, off;
	int rc;

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, "%s must be a mapping (key: value), not %s", what, kind(map));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		k = node(c, p->key);
		v = node(c, p->value);
		if (!k || !v)
			return fail(c, map, "%s: broken mapping", what);
		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, "keys in %s must be strings, not %s", what, kind(k));
		for (i = 0; i < nkeys; i++)
			if (!strcmp(scalar(k), keys[i].name))
				break;
		if (i == nkeys) {
			off = 0;
			for (i = 0; i < nkeys && off < sizeof(exp); i++)
				off += snprintf(exp + off, sizeof(exp) - off, "%s%s", i ? ", " : "",
						keys[i].name);
			return fail(c, k, "unknown key '%s' (expected one of: %s)",
				    shown(scalar(k), b), exp);
		}
		if (bits & (1u << i))
			return fail(c, k, "duplicate key '%s'", keys[i].name);
		bits |= 1u << i;
		rc = keys[i].fn(c, v, obj);
		if (rc)
			return rc;
	}
	if (seen)
		*seen = bits;
	return 0;
}

static int count_rule(struct ld *c, yaml_node_t *n)
{
	if (++c->r->nrules > SW_RULES_MAX)
		return fail(c, n, "too many rules (at most %d in all files)", SW_RULES_MAX);
	return 0;
}

/* Items of a list node, with the list checked. */
static int get_list(struct ld *c, yaml_node_t *n, const char *what, yaml_node_item_t **first,
		    size_t *count)
{
	*first = NULL;
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "%s must be a list, not %s", what, kind(n));
	*first = n->data.sequence.items.start;
	*count = n->data.sequence.items.top - n->data.sequence.items.start;
	return 0;
}

/* ---- agents.yaml ---- */

static int ag_label(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = get_strbuf(c, v, "label", a->label, sizeof(a->label));

	if (rc)
		return rc;
	for (i = 0; a->label[i]; i++)
		if (!islower((unsigned char)a->label[i]) && !isdigit((unsigned char)a->label[i]) &&
		    a->label[i] != '-' && a->label[i] != '_')
			return fail(c, v, "label may only contain a-z, 0-9, '-' and '_'");
	return 0;
}

static int ag_basename(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = get_strv(c, v, "basename", 1, NAME_MAX, 0, &a->basename);

	if (rc)
		return rc;
	for (i = 0; i < a->basename.n; i++)
		if (strchr(a->basename.v[i], '/'))
			return fail(c, v,
				    "basename must not contain '/' (it is the last part of "
				    "the exe path)");
	return 0;
}

static int ag_comm(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = get_strv(c, v, "comm", 1, SW_RULES_STR_MAX, 0, &a->comm);

	if (rc)
		return rc;
	for (i = 0; i < a->comm.n; i++)
		if (strlen(a->comm.v[i]) > SW_AGENT_COMM_LEN - 1)
			return fail(c, v,
				    "comm is longer than %d characters (the kernel keeps only "
				    "%d)",
				    SW_AGENT_COMM_LEN - 1, SW_AGENT_COMM_LEN - 1);
	return 0;
}

static int ag_script(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_strv(c, v, "script", 2, SW_RULES_STR_MAX, 0, &((struct sw_agent *)obj)->script);
}

static int ag_transcripts(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_strv(c, v, "transcripts", 1, SW_RULES_STR_MAX, 0,
			&((struct sw_agent *)obj)->transcripts);
}

static int ag_tool_output(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_strv(c, v, "tool_output", 1, SW_RULES_STR_MAX, 0,
			&((struct sw_agent *)obj)->tool_output);
}

static int ag_credentials(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_strv(c, v, "credentials", 1, SW_RULES_STR_MAX, 0,
			&((struct sw_agent *)obj)->credentials);
}

static int ag_credential_env(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_agent *a = obj;
	size_t i;
	int rc = get_strv(c, v, "credential_env", 1, SW_RULES_STR_MAX, 0, &a->credential_env);

	if (rc)
		return rc;
	for (i = 0; i < a->credential_env.n; i++)
		if (strchr(a->credential_env.v[i], '='))
			return fail(c, v, "credential_env names variables: no '=' in a name");
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
	return get_strv(c, v, "interpreters", 1, NAME_MAX, 0, &c->r->interpreters);
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
	rc = get_list(c, v, "agents", &it, &count);
	if (rc)
		return rc;
	r->agents = calloc(count ? count : 1, sizeof(*r->agents));
	if (!r->agents)
		return -ENOMEM;
	for (i = 0; i < count; i++, it++) {
		e = node(c, *it);
		if (!e)
			return fail(c, v, "agents: broken list");
		rc = count_rule(c, e);
		if (rc)
			return rc;
		a = &r->agents[r->nagents++];
		a->line = (int)e->start_mark.line + 1;
		rc = parse_map(c, e, "an agent", agent_keys,
			       sizeof(agent_keys) / sizeof(agent_keys[0]), a, &seen);
		if (rc)
			return rc;
		if (!a->label[0])
			return fail(c, e, "agent has no label");
		if (!a->basename.n && !a->comm.n && !a->script.n)
			return fail(c, e,
				    "agent '%s' matches nothing: give basename, comm or script",
				    a->label);
		for (j = 0; j + 1 < r->nagents; j++)
			if (!strcmp(r->agents[j].label, a->label))
				return fail(c, e, "duplicate agent label '%s' (also at line %d)",
					    a->label, r->agents[j].line);
	}
	return 0;
}

static const struct key agents_file_keys[] = {
	{"interpreters", agents_interpreters},
	{"agents", agents_list},
};

/* ---- detectors.yaml ---- */

struct det_ld {
	struct sw_detector *d;
	yaml_node_t *regex, *group, *max_len;
};

static int dt_id(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;
	size_t i;
	int rc = get_strbuf(c, v, "id", d->id, sizeof(d->id));

	if (rc)
		return rc;
	for (i = 0; d->id[i]; i++)
		if (!islower((unsigned char)d->id[i]) && !isdigit((unsigned char)d->id[i]) &&
		    d->id[i] != '-')
			return fail(c, v, "id may only contain a-z, 0-9 and '-'");
	return 0;
}

static int dt_name(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;

	return get_strbuf(c, v, "name", d->name, sizeof(d->name));
}

static int dt_regex(struct ld *c, yaml_node_t *v, void *obj)
{
	const char *s;
	int rc = get_str(c, v, "regex", 1, SW_RULES_REGEX_MAX, &s);

	if (rc)
		return rc;
	((struct det_ld *)obj)->regex = v;
	free(((struct det_ld *)obj)->d->regex);
	((struct det_ld *)obj)->d->regex = strndup(s, v->data.scalar.length);
	return ((struct det_ld *)obj)->d->regex ? 0 : -ENOMEM;
}

static int dt_group(struct ld *c, yaml_node_t *v, void *obj)
{
	struct det_ld *dl = obj;

	dl->group = v;
	return get_u32(c, v, "group", 0, 255, &dl->d->group);
}

static int dt_min_entropy(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_double(c, v, "min_entropy", 0, 8, &((struct det_ld *)obj)->d->min_entropy);
}

static int dt_min_length(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_u32(c, v, "min_length", SW_SECRET_MIN, SW_SECRET_MAX,
		       &((struct det_ld *)obj)->d->min_len);
}

static int dt_max_length(struct ld *c, yaml_node_t *v, void *obj)
{
	struct det_ld *dl = obj;

	dl->max_len = v;
	return get_u32(c, v, "max_length", SW_SECRET_MIN, SW_SECRET_MAX, &dl->d->max_len);
}

static int dt_keyword_window(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_u32(c, v, "keyword_window", 1, 4096, &((struct det_ld *)obj)->d->keyword_window);
}

static int set_strv(struct ld *c, yaml_node_t *v, const char *what, size_t min, size_t max,
		    char ***arr, size_t *n)
{
	struct strv s = {0};
	int rc = get_strv(c, v, what, min, max, 1, &s);

	*arr = s.v;
	*n = s.n;
	return rc;
}

static int dt_keywords(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;

	return set_strv(c, v, "keywords", 1, SW_RULES_STR_MAX, &d->keywords, &d->nkeywords);
}

static int dt_prefilter(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;

	return set_strv(c, v, "prefilter", SW_RULES_LITERAL_MIN, SW_RULES_LITERAL_MAX,
			&d->prefilter, &d->nprefilter);
}

static int dt_check(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;
	const char *s;
	char b[72];
	int rc = get_str(c, v, "check", 1, 64, &s);

	if (rc)
		return rc;
	if (!strcmp(s, "none"))
		d->check = SW_CHECK_NONE;
	else if (!strcmp(s, "jwt"))
		d->check = SW_CHECK_JWT;
	else
		return fail(c, v, "unknown check '%s' (expected one of: none, jwt)", shown(s, b));
	return 0;
}

/* Templates keep their case (set_strv lower-cases). */
static int ex_list(struct ld *c, yaml_node_t *v, const char *what, char ***arr, size_t *n)
{
	struct strv s = {0};
	int rc = get_strv(c, v, what, 1, SW_RULES_STR_MAX, 0, &s);

	*arr = s.v;
	*n = s.n;
	return rc;
}

static int ex_match(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;

	return ex_list(c, v, "examples.match", &d->match, &d->nmatch);
}

static int ex_nomatch(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;

	return ex_list(c, v, "examples.nomatch", &d->nomatch, &d->nnomatch);
}

static const struct key example_keys[] = {
	{"match", ex_match},
	{"nomatch", ex_nomatch},
};

/* examples: {match: [TEMPLATE...], nomatch: [TEMPLATE...]}; templates are expanded and
 * verified by `rules check` (sw_detect__check_examples), not at load. */
static int dt_examples(struct ld *c, yaml_node_t *v, void *obj)
{
	return parse_map(c, v, "examples", example_keys, 2, ((struct det_ld *)obj)->d, NULL);
}

static int da_regexes(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	struct strv sv = {0};
	size_t i;
	int rc = get_strv(c, v, "allowlist.regexes", 1, SW_RULES_REGEX_MAX, 0, &sv), errcode;

	if (!rc) {
		d->allow_re = calloc(sv.n ? sv.n : 1, sizeof(*d->allow_re));
		if (!d->allow_re)
			rc = -ENOMEM;
	}
	for (i = 0; !rc && i < sv.n; i++) {
		d->allow_re[i] = pcre2_compile((PCRE2_SPTR)sv.v[i], PCRE2_ZERO_TERMINATED, 0,
					       &errcode, &erroff, NULL);
		if (!d->allow_re[i]) {
			pcre2_get_error_message(errcode, msg, sizeof(msg));
			rc = fail(c, v, "bad allowlist regex %zu: %s at offset %zu", i + 1,
				  (const char *)msg, (size_t)erroff);
			break;
		}
		pcre2_jit_compile(d->allow_re[i], PCRE2_JIT_COMPLETE);
		d->nallow_re++;
	}
	strv_free(&sv);
	return rc;
}

static int da_stopwords(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;

	return set_strv(c, v, "allowlist.stopwords", 1, SW_RULES_STR_MAX, &d->stopwords,
			&d->nstopwords);
}

static int da_target(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;
	const char *s;
	int rc = get_str(c, v, "allowlist.target", 1, 16, &s);

	if (rc)
		return rc;
	if (strcmp(s, "secret") && strcmp(s, "match"))
		return fail(c, v, "allowlist.target must be secret or match");
	d->allow_match = !strcmp(s, "match");
	return 0;
}

static const struct key det_allow_keys[] = {
	{"regexes", da_regexes},
	{"stopwords", da_stopwords},
	{"target", da_target},
};

/* allowlist: {regexes: [...], stopwords: [...], target: secret|match} */
static int dt_allowlist(struct ld *c, yaml_node_t *v, void *obj)
{
	return parse_map(c, v, "allowlist", det_allow_keys, 3, ((struct det_ld *)obj)->d, NULL);
}

static const struct key detector_keys[] = {
	{"id", dt_id},
	{"name", dt_name},
	{"regex", dt_regex},
	{"group", dt_group},
	{"min_entropy", dt_min_entropy},
	{"min_length", dt_min_length},
	{"max_length", dt_max_length},
	{"keywords", dt_keywords},
	{"keyword_window", dt_keyword_window},
	{"prefilter", dt_prefilter},
	{"check", dt_check},
	{"examples", dt_examples},
	{"allowlist", dt_allowlist},
};
#define NDETECTOR_KEYS (sizeof(detector_keys) / sizeof(detector_keys[0]))

/* Compiles the regex; a prefilter defaults to the keywords. */
static int detector_finish(struct ld *c, yaml_node_t *e, struct det_ld *dl)
{
	struct sw_detector *d = dl->d;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	uint32_t ngroups;
	int errcode;
	size_t i;

	if (!d->id[0])
		return fail(c, e, "detector has no id");
	if (!dl->regex)
		return fail(c, e, "detector '%s' has no regex", d->id);
	if (!d->name[0])
		snprintf(d->name, sizeof(d->name), "%s", d->id);
	if (d->min_len > d->max_len)
		return fail(c, dl->max_len ? dl->max_len : e,
			    "max_length %u is less than min_length %u", d->max_len, d->min_len);
	for (i = 0; i < c->r->ndet - 1; i++)
		if (!strcmp(c->r->det[i].id, d->id))
			return fail(c, e, "duplicate detector id '%s'", d->id);
	d->code = pcre2_compile((PCRE2_SPTR)scalar(dl->regex), dl->regex->data.scalar.length, 0,
				&errcode, &erroff, NULL);
	if (!d->code) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return fail(c, dl->regex, "bad regex in detector '%s': %s at offset %zu", d->id,
			    (const char *)msg, (size_t)erroff);
	}
	if (pcre2_pattern_info(d->code, PCRE2_INFO_CAPTURECOUNT, &ngroups))
		return fail(c, dl->regex, "bad regex in detector '%s'", d->id);
	if (d->group > ngroups)
		return fail(c, dl->group,
			    "group %u does not exist: the regex of '%s' has %u "
			    "capture group(s)",
			    d->group, d->id, ngroups);
	/* Without JIT (unsupported CPU or no executable memory) pcre2_match interprets: slower,
	 * same results, so a JIT failure is not an error. */
	pcre2_jit_compile(d->code, PCRE2_JIT_COMPLETE);
	if (!d->nprefilter && d->nkeywords) {
		d->prefilter = calloc(d->nkeywords, sizeof(*d->prefilter));
		if (!d->prefilter)
			return -ENOMEM;
		for (i = 0; i < d->nkeywords; i++) {
			if (strlen(d->keywords[i]) < SW_RULES_LITERAL_MIN ||
			    strlen(d->keywords[i]) > SW_RULES_LITERAL_MAX)
				return fail(c, e,
					    "keyword '%.40s' cannot be a prefilter literal "
					    "(%d to %d characters): give a prefilter list",
					    d->keywords[i], SW_RULES_LITERAL_MIN,
					    SW_RULES_LITERAL_MAX);
			d->prefilter[i] = strdup(d->keywords[i]);
			if (!d->prefilter[i])
				return -ENOMEM;
			d->nprefilter++;
		}
	}
	return 0;
}

static int detectors_list(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_rules *r = c->r;
	yaml_node_item_t *it;
	struct det_ld dl;
	yaml_node_t *e;
	size_t count, i;
	int rc;

	(void)obj;
	rc = get_list(c, v, "detectors", &it, &count);
	if (rc)
		return rc;
	r->det = calloc(count ? count : 1, sizeof(*r->det));
	if (!r->det)
		return -ENOMEM;
	for (i = 0; i < count; i++, it++) {
		e = node(c, *it);
		if (!e)
			return fail(c, v, "detectors: broken list");
		rc = count_rule(c, e);
		if (rc)
			return rc;
		memset(&dl, 0, sizeof(dl));
		dl.d = &r->det[r->ndet++];
		dl.d->min_len = SW_SECRET_MIN;
		dl.d->max_len = SW_SECRET_MAX;
		dl.d->keyword_window = 64;
		dl.d->line = (int)e->start_mark.line + 1;
		rc = parse_map(c, e, "a detector", detector_keys, NDETECTOR_KEYS, &dl, NULL);
		if (rc)
			return rc;
		rc = detector_finish(c, e, &dl);
		if (rc)
			return rc;
	}
	return 0;
}

static const struct key detectors_file_keys[] = {
	{"detectors", detectors_list},
};

/* ---- policy.yaml ---- */

static int al_reason(struct ld *c, yaml_node_t *v, void *obj)
{
	const char *s;

	(void)obj;
	return get_str(c, v, "reason", 0, SW_RULES_STR_MAX, &s);
}

static int al_secrets(struct ld *c, yaml_node_t *v, void *obj)
{
	return get_strv(c, v, "secrets", 1, SW_RULES_STR_MAX, 0,
			&((struct sw_allow *)obj)->secrets);
}

static int al_paths(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_allow *a = obj;
	size_t i;
	int rc = get_strv(c, v, "paths", 1, SW_RULES_STR_MAX, 0, &a->paths);

	if (rc)
		return rc;
	for (i = 0; i < a->paths.n; i++)
		if (a->paths.v[i][0] != '/' && strncmp(a->paths.v[i], "~/", 2) &&
		    a->paths.v[i][0] != '*')
			return fail(c, v,
				    "paths must be absolute globs (starting with '/', '~/' "
				    "or '*')");
	return 0;
}

static const struct key allow_keys[] = {
	{"reason", al_reason},
	{"secrets", al_secrets},
	{"paths", al_paths},
};

static int policy_allowlist(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_rules *r = c->r;
	yaml_node_item_t *it;
	yaml_node_t *e;
	size_t count, i;
	uint32_t seen;
	int rc;

	(void)obj;
	rc = get_list(c, v, "allowlist", &it, &count);
	if (rc)
		return rc;
	r->allow = calloc(count ? count : 1, sizeof(*r->allow));
	if (!r->allow)
		return -ENOMEM;
	for (i = 0; i < count; i++, it++) {
		e = node(c, *it);
		if (!e)
			return fail(c, v, "allowlist: broken list");
		rc = count_rule(c, e);
		if (rc)
			return rc;
		rc = parse_map(c, e, "an allowlist entry", allow_keys, 3, &r->allow[r->nallow++],
			       &seen);
		if (rc)
			return rc;
		if (!(seen & 4))
			return fail(c, e, "allowlist entry has no paths");
	}
	return 0;
}

static int policy_severity(struct ld *c, yaml_node_t *v, void *obj)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *val;
	uint64_t done = 0;
	unsigned int i, s;
	char b[72];

	(void)obj;
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "severity must be a mapping (artifact type: severity), not %s",
			    kind(v));
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		k = node(c, p->key);
		val = node(c, p->value);
		if (!k || !val)
			return fail(c, v, "severity: broken mapping");
		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, "keys in severity must be strings, not %s", kind(k));
		/* Artifact types and places first, then the other alert kinds. */
		for (i = 0; i < SW_PLACE__COUNT + SW_ALERT__COUNT; i++) {
			const char *name = i < SW_PLACE__COUNT
						   ? sw_policy__place_name(i)
						   : sw_policy__kind_key(i - SW_PLACE__COUNT);
			if (name && !strcmp(scalar(k), name))
				break;
		}
		if (i == SW_PLACE__COUNT + SW_ALERT__COUNT)
			return fail(c, k,
				    "unknown key '%s' (expected one of: file, socket, "
				    "exec_arg, exec_env, pipe, tty, tls, transcript, "
				    "agent_pipe, exposure, discovered, coverage_gap, "
				    "unmonitored_channel, rate_limited, state_warning)",
				    shown(scalar(k), b));
		if (done & (1ull << i))
			return fail(c, k, "duplicate key '%s'", scalar(k));
		done |= 1ull << i;
		if (val->type != YAML_SCALAR_NODE)
			return fail(c, val, "severity must be a string, not %s", kind(val));
		for (s = 0; s < SW_SEV__COUNT; s++)
			if (!strcmp(scalar(val), sw_alert__severity_name(s)))
				break;
		if (s == SW_SEV__COUNT)
			return fail(c, val,
				    "unknown severity '%s' (expected one of: info, low, "
				    "medium, high, critical)",
				    shown(scalar(val), b));
		if (i < SW_PLACE__COUNT)
			c->r->policy.place[i] = (uint8_t)s;
		else
			c->r->policy.kind[i - SW_PLACE__COUNT] = (uint8_t)s;
	}
	return 0;
}

static int fl_burst(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return get_u32(c, v, "burst", 1, 100000, &c->r->policy.flood_burst);
}

static int fl_per_minute(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return get_u32(c, v, "per_minute", 1, 1000000, &c->r->policy.flood_per_minute);
}

static const struct key flood_keys[] = {
	{"burst", fl_burst},
	{"per_minute", fl_per_minute},
};

static int policy_flood(struct ld *c, yaml_node_t *v, void *obj)
{
	return parse_map(c, v, "flood", flood_keys, 2, obj, NULL);
}

static int cp_max_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return get_u64(c, v, "max_bytes", SW_POLICY_MAX_BYTES_MIN, SW_POLICY_MAX_BYTES_MAX,
		       &c->r->policy.capture_max_bytes);
}

static int cp_readback_max_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return get_u64(c, v, "readback_max_bytes", SW_POLICY_READBACK_MIN, SW_POLICY_READBACK_MAX,
		       &c->r->policy.readback_max_bytes);
}

static int cp_hold_ms(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return get_u32(c, v, "hold_ms", 0, 60000, &c->r->policy.hold_ms);
}

static int cp_ringbuf_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	uint64_t n;
	int rc;

	(void)obj;
	rc = get_u64(c, v, "ringbuf_bytes", SW_POLICY_RINGBUF_MIN, SW_POLICY_RINGBUF_MAX, &n);
	if (rc)
		return rc;
	if (n & (n - 1))
		return fail(c, v, "ringbuf_bytes must be a power of two, not %llu",
			    (unsigned long long)n);
	c->r->policy.ringbuf_bytes = n;
	return 0;
}

static const struct key capture_keys[] = {
	{"max_bytes", cp_max_bytes},
	{"ringbuf_bytes", cp_ringbuf_bytes},
	{"readback_max_bytes", cp_readback_max_bytes},
	{"hold_ms", cp_hold_ms},
};

static int policy_capture(struct ld *c, yaml_node_t *v, void *obj)
{
	return parse_map(c, v, "capture", capture_keys, 4, obj, NULL);
}

static const struct key policy_file_keys[] = {
	{"allowlist", policy_allowlist},
	{"severity", policy_severity},
	{"flood", policy_flood},
	{"capture", policy_capture},
};

/* ---- one file ---- */

static void offset_to_mark(const unsigned char *buf, size_t len, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int yaml_fail(struct ld *c, const yaml_parser_t *p, const unsigned char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR) {
		fail_at(c->err, c->file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_to_mark(buf, len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return fail_at(c->err, c->file, line, col, "%s (byte 0x%02x)", problem,
				       p->problem_value & 0xff);
		return fail_at(c->err, c->file, line, col, "%s", problem);
	}
	if (p->context)
		return fail_at(c->err, c->file, line, col, "%s: %s", p->context, problem);
	return fail_at(c->err, c->file, line, col, "%s", problem);
}

/* libyaml has no limits of its own: refuse deep nesting (the document is walked recursively
 * by nobody, but a bounded shape keeps every later loop small) and aliases (a few aliases can
 * make a document that expands exponentially). */
static int prescan(struct ld *c, const unsigned char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t events, max_events = 4 * len + 16;
	int depth = 0, docs = 0, rc = 0, done = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, buf, len);
	for (events = 0; !done && !rc; events++) {
		if (events > max_events) {
			rc = fail_at(c->err, c->file, 0, 0, "YAML parser made no progress");
			break;
		}
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_fail(c, &p, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > SW_RULES_DEPTH_MAX)
				rc = fail_at(c->err, c->file, (int)ev.start_mark.line + 1,
					     (int)ev.start_mark.column + 1,
					     "nested deeper than %d levels", SW_RULES_DEPTH_MAX);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			rc = fail_at(c->err, c->file, (int)ev.start_mark.line + 1,
				     (int)ev.start_mark.column + 1,
				     "aliases (*name) are not supported in rule files");
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_at(c->err, c->file, (int)ev.start_mark.line + 1,
					     (int)ev.start_mark.column + 1,
					     "more than one YAML document ('---') in a rule file");
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

static int load_file(struct sw_rules *r, const char *base, const char *file,
		     const unsigned char *buf, size_t len, struct sw_rules_error *err)
{
	struct ld c = {.r = r, .file = file, .err = err};
	const struct key *keys;
	yaml_document_t doc;
	yaml_parser_t p;
	yaml_node_t *root;
	size_t nkeys;
	uint32_t seen = 0;
	int rc;

	if (len > SW_RULES_FILE_MAX) {
		fail_at(err, file, 0, 0, "file is larger than %u bytes", SW_RULES_FILE_MAX);
		return -EFBIG;
	}
	rc = prescan(&c, buf, len);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = yaml_fail(&c, &p, buf, len);
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_parser_delete(&p);
	c.doc = &doc;
	if (!strcmp(base, "agents.yaml")) {
		keys = agents_file_keys;
		nkeys = 2;
	} else if (!strcmp(base, "detectors.yaml")) {
		keys = detectors_file_keys;
		nkeys = 1;
	} else {
		keys = policy_file_keys;
		nkeys = 4;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		/* Only policy.yaml may be empty: every policy value has a default. */
		if (keys != policy_file_keys)
			rc = fail_at(err, file, 0, 0, "file is empty (expected key '%s')",
				     keys[nkeys - 1].name);
	} else {
		rc = parse_map(&c, root, "the top level", keys, nkeys, NULL, &seen);
		if (!rc && keys != policy_file_keys && !(seen & (1u << (nkeys - 1))))
			rc = fail(&c, root, "missing key '%s'", keys[nkeys - 1].name);
	}
	yaml_document_delete(&doc);
	return rc;
}

static const struct sw_embedded_file *find_file(const struct sw_embedded_file *files,
						const char *name)
{
	size_t i;

	for (i = 0; files[i].name && i < 64; i++)
		if (!strcmp(files[i].name, name))
			return &files[i];
	return NULL;
}

struct sw_rules *sw_rules__load_files(const struct sw_embedded_file *files, const char *prefix,
				      struct sw_rules_error *err)
{
	const struct sw_embedded_file *f;
	struct sw_rules *r;
	char path[PATH_MAX];
	size_t i;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	r = rules_alloc();
	if (!r) {
		fail_at(err, prefix ? prefix : "", 0, 0, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < NFILES && !rc; i++) {
		snprintf(path, sizeof(path), "%s%s", prefix ? prefix : "", rule_files[i]);
		f = find_file(files, rule_files[i]);
		if (!f || !f->data) {
			fail_at(err, path, 0, 0,
				"missing: a rule set needs agents.yaml, "
				"detectors.yaml and policy.yaml");
			rc = -ENOENT;
			break;
		}
		rc = load_file(r, rule_files[i], path, f->data, f->len, err);
		if (rc == -ENOMEM)
			fail_at(err, path, 0, 0, "out of memory");
	}
	if (rc) {
		sw_rules__free(r);
		errno = -rc;
		return NULL;
	}
	return r;
}

struct sw_rules *sw_rules__load_embedded(struct sw_rules_error *err)
{
	return sw_rules__load_files(sw_embedded_rules, "embedded:", err);
}

/* Reads a whole rule file (at most SW_RULES_FILE_MAX bytes) into a NUL-terminated buffer. */
static int read_file(const char *path, unsigned char **out, size_t *len, struct sw_rules_error *err)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fail_at(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		fail_at(err, path, 0, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail_at(err, path, 0, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > SW_RULES_FILE_MAX) {
		fail_at(err, path, 0, 0, "file is larger than %u bytes", SW_RULES_FILE_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf = malloc(SW_RULES_FILE_MAX + 2);
	if (!buf) {
		rc = -ENOMEM;
		fail_at(err, path, 0, 0, "out of memory");
		goto out;
	}
	/* The file may grow after fstat: read at most one byte past the limit to notice. */
	while (got <= SW_RULES_FILE_MAX) {
		n = read(fd, buf + got, SW_RULES_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			fail_at(err, path, 0, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > SW_RULES_FILE_MAX) {
		fail_at(err, path, 0, 0, "file is larger than %u bytes", SW_RULES_FILE_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int dir_path(const char *dir, const char *name, char *out, size_t size)
{
	size_t n = strlen(dir);
	int len = snprintf(out, size, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);

	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

int sw_rules__read_dir(const char *dir, struct sw_embedded_file files[SW_RULES_FILES + 1],
		       struct sw_rules_error *err)
{
	unsigned char *buf;
	char path[PATH_MAX];
	size_t i;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	memset(files, 0, (SW_RULES_FILES + 1) * sizeof(*files));
	for (i = 0; i < NFILES && !rc; i++) {
		rc = dir_path(dir, rule_files[i], path, sizeof(path));
		if (rc) {
			fail_at(err, dir, 0, 0, "path too long");
			break;
		}
		buf = NULL;
		rc = read_file(path, &buf, &files[i].len, err);
		files[i].name = rule_files[i];
		files[i].data = buf;
	}
	if (rc)
		sw_rules__free_files(files);
	return rc;
}

void sw_rules__free_files(struct sw_embedded_file files[SW_RULES_FILES + 1])
{
	size_t i;

	for (i = 0; i < SW_RULES_FILES; i++) {
		free((void *)files[i].data);
		files[i].data = NULL;
		files[i].name = NULL;
	}
}

struct sw_rules *sw_rules__load_dir(const char *dir, struct sw_rules_error *err)
{
	struct sw_embedded_file files[SW_RULES_FILES + 1];
	char prefix[PATH_MAX];
	struct sw_rules *r;
	int rc;

	memset(err, 0, sizeof(*err));
	rc = dir_path(dir, "", prefix, sizeof(prefix));
	if (rc) {
		fail_at(err, dir, 0, 0, "path too long");
		errno = -rc;
		return NULL;
	}
	rc = sw_rules__read_dir(dir, files, err);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	r = sw_rules__load_files(files, prefix, err);
	sw_rules__free_files(files);
	return r;
}

size_t sw_rules__check_dir(const char *dir, struct sw_rules_error *errs, size_t max)
{
	struct sw_rules_error e;
	struct sw_rules *r;
	unsigned char *buf;
	char path[PATH_MAX];
	size_t i, n = 0, len;
	int rc;

	for (i = 0; i < NFILES; i++) {
		memset(&e, 0, sizeof(e));
		buf = NULL;
		rc = dir_path(dir, rule_files[i], path, sizeof(path));
		if (rc)
			fail_at(&e, dir, 0, 0, "path too long");
		else
			rc = read_file(path, &buf, &len, &e);
		if (!rc) {
			r = rules_alloc();
			rc = r ? load_file(r, rule_files[i], path, buf, len, &e) : -ENOMEM;
			if (rc == -ENOMEM)
				fail_at(&e, path, 0, 0, "out of memory");
			sw_rules__free(r);
		}
		free(buf);
		if (rc && n++ < max)
			errs[n - 1] = e;
	}
	/* Limits that span files (the total rule count) show only in a full load. */
	if (!n) {
		r = sw_rules__load_dir(dir, &e);
		if (!r && n++ < max)
			errs[n - 1] = e;
		if (r && !dir_path(dir, "detectors.yaml", path, sizeof(path)))
			n += sw_rules__check_examples(r, path, errs, max);
		sw_rules__free(r);
	}
	return n;
}

size_t sw_rules__check_examples(const struct sw_rules *r, const char *file,
				struct sw_rules_error *errs, size_t max)
{
	char msg[sizeof(errs->msg)];
	uint64_t seed;
	size_t i, k, n = 0;

	for (i = 0; i < r->ndet; i++) {
		/* One fixed seed per detector: a failure reproduces run after run. */
		seed = 0x5eedu;
		for (k = 0; r->det[i].id[k]; k++)
			seed = (seed ^ (uint8_t)r->det[i].id[k]) * 0x100000001b3ull;
		msg[0] = '\0';
		if (!sw_detect__check_examples(r, i, seed, msg, sizeof(msg)))
			continue;
		if (n++ < max)
			fail_at(&errs[n - 1], file, r->det[i].line, 1, "%s",
				msg[0] ? msg : "cannot check examples");
	}
	return n;
}

/* ---- queries ---- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* fnmatch with `*` matching '/' too; a leading "~/" matches below any home directory. */
static int glob_match(const char *glob, const char *path)
{
	const char *rel;

	if (glob[0] == '~' && glob[1] == '/') {
		if (!strncmp(path, "/root/", 6)) {
			rel = path + 5;
		} else if (!strncmp(path, "/home/", 6)) {
			rel = strchr(path + 6, '/');
			if (!rel || rel == path + 6)
				return 0;
		} else {
			return 0;
		}
		return fnmatch(glob + 1, rel, 0) == 0;
	}
	return fnmatch(glob, path, 0) == 0;
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

int sw_rules__allowlisted(const struct sw_rules *r, const char *secret_name, const char *path)
{
	const struct sw_allow *a;
	size_t i, k;
	int name_ok;

	if (!path)
		return 0;
	if (!secret_name)
		secret_name = "";
	for (i = 0; i < r->nallow; i++) {
		a = &r->allow[i];
		name_ok = !a->secrets.n;
		for (k = 0; k < a->secrets.n && !name_ok; k++)
			name_ok = fnmatch(a->secrets.v[k], secret_name, 0) == 0;
		if (!name_ok)
			continue;
		for (k = 0; k < a->paths.n; k++)
			if (glob_match(a->paths.v[k], path))
				return 1;
	}
	return 0;
}

const struct sw_policy *sw_rules__policy(const struct sw_rules *r)
{
	return &r->policy;
}

const struct sw_detector *sw_rules__detectors(const struct sw_rules *r, size_t *n)
{
	*n = r->ndet;
	return r->det;
}

/* Built at first use: compiling every detector into Hyperscan takes a good part of a second, and
 * a replay of the recorded rules, or a daemon's own copy of the rules, never scans. */
struct sw_detect_index *sw_rules__detect_index(const struct sw_rules *r)
{
	struct sw_rules *w = (struct sw_rules *)r; /* a cache: what r means does not change */

	if (!w->index && !w->index_failed) {
		w->index = sw_detect__index_new(r->det, r->ndet);
		w->index_failed = !w->index;
	}
	return r->index;
}
