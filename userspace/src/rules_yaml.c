// SPDX-License-Identifier: Apache-2.0
/* The rules loader's YAML helpers: error reporting with file:line:column, typed node accessors
 * with bounds, mappings with a fixed set of keys, and the event pre-scan that bounds a
 * document before libyaml loads it. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rules.h"
#include "rules_priv.h"

/* ---- loader context and error reporting ---- */
static void err_set(struct sw_rules_error *err, const char *file, int line, int col,
		    const char *fmt, va_list ap)
{
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	err->col = col;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int __attribute__((format(printf, 5, 6)))
rl_fail_at(struct sw_rules_error *err, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(err, file, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Reports at the start of node n (libyaml marks are 0-based). */
int __attribute__((format(printf, 3, 4)))
rl_fail(struct ld *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_set(c->err, c->file, n ? (int)n->start_mark.line + 1 : 0,
		n ? (int)n->start_mark.column + 1 : 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* User text quoted in a message: at most 64 bytes, non-printable bytes as '?'. */
const char *rl_shown(const char *s, char buf[72])
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

const char *rl_kind(const yaml_node_t *n)
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

yaml_node_t *rl_node(struct ld *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

const char *rl_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* ---- typed values ---- */

int rl_get_str(struct ld *c, yaml_node_t *n, const char *what, size_t min, size_t max,
	       const char **out)
{
	size_t len;

	if (n->type != YAML_SCALAR_NODE)
		return rl_fail(c, n, "%s must be a string, not %s", what, rl_kind(n));
	len = n->data.scalar.length;
	if (strlen(rl_scalar(n)) != len)
		return rl_fail(c, n, "%s contains a NUL byte", what);
	if (len < min)
		return rl_fail(c, n, "%s must not be shorter than %zu characters", what, min);
	if (len > max)
		return rl_fail(c, n, "%s is too long (at most %zu characters)", what, max);
	*out = rl_scalar(n);
	return 0;
}

int rl_get_strbuf(struct ld *c, yaml_node_t *n, const char *what, char *buf, size_t size)
{
	const char *s;
	int rc = rl_get_str(c, n, what, 1, size - 1, &s);

	if (rc)
		return rc;
	memcpy(buf, s, n->data.scalar.length + 1);
	return 0;
}

/* Numbers are plain (unquoted) scalars, so `"20"` is reported instead of silently taken. */
int rl_get_u64(struct ld *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	char b[72], *end;
	unsigned long long v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return rl_fail(c, n, "%s must be a number, not %s", what,
			       n->type == YAML_SCALAR_NODE ? "a quoted string" : rl_kind(n));
	errno = 0;
	v = strtoull(rl_scalar(n), &end, 10);
	if (!isdigit((unsigned char)rl_scalar(n)[0]) || *end || errno)
		return rl_fail(c, n, "%s must be a whole number, not '%s'", what,
			       rl_shown(rl_scalar(n), b));
	if (v < min || v > max)
		return rl_fail(c, n, "%s must be between %llu and %llu, not %llu", what,
			       (unsigned long long)min, (unsigned long long)max, v);
	*out = v;
	return 0;
}

int rl_get_u32(struct ld *c, yaml_node_t *n, const char *what, uint32_t min, uint32_t max,
	       uint32_t *out)
{
	uint64_t v;
	int rc = rl_get_u64(c, n, what, min, max, &v);

	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

int rl_get_double(struct ld *c, yaml_node_t *n, const char *what, double min, double max,
		  double *out)
{
	char b[72], *end;
	double v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return rl_fail(c, n, "%s must be a number, not %s", what,
			       n->type == YAML_SCALAR_NODE ? "a quoted string" : rl_kind(n));
	errno = 0;
	v = strtod(rl_scalar(n), &end);
	if (!rl_scalar(n)[0] || *end || errno || v != v)
		return rl_fail(c, n, "%s must be a number, not '%s'", what,
			       rl_shown(rl_scalar(n), b));
	if (v < min || v > max)
		return rl_fail(c, n, "%s must be between %g and %g, not %g", what, min, max, v);
	*out = v;
	return 0;
}

/* A string or a list of strings; lower-cases the items when lower is set. */
int rl_get_strv(struct ld *c, yaml_node_t *n, const char *what, size_t min, size_t max, int lower,
		struct strv *out)
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
		return rl_fail(c, n, "%s must be a string or a list of strings, not %s", what,
			       rl_kind(n));
	}
	if (count > SW_RULES_LIST_MAX)
		return rl_fail(c, n, "%s has %zu items (at most %d)", what, count,
			       SW_RULES_LIST_MAX);
	out->v = calloc(count ? count : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		e = first ? rl_node(c, first[i]) : n;
		if (!e)
			return rl_fail(c, n, "%s: broken list", what);
		rc = rl_get_str(c, e, what, min, max, &s);
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
/* Calls the handler of each key of map; unknown and repeated keys are errors. seen (may be
 * NULL) gets one bit per key of keys[] that was present. */
int rl_parse_map(struct ld *c, yaml_node_t *map, const char *what, const struct key *keys,
		 size_t nkeys, void *obj, uint32_t *seen)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	uint32_t bits = 0;
	char exp[256], b[72];
	size_t i, off;
	int rc;

	if (map->type != YAML_MAPPING_NODE)
		return rl_fail(c, map, "%s must be a mapping (key: value), not %s", what,
			       rl_kind(map));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		k = rl_node(c, p->key);
		v = rl_node(c, p->value);
		if (!k || !v)
			return rl_fail(c, map, "%s: broken mapping", what);
		if (k->type != YAML_SCALAR_NODE)
			return rl_fail(c, k, "keys in %s must be strings, not %s", what,
				       rl_kind(k));
		for (i = 0; i < nkeys; i++)
			if (!strcmp(rl_scalar(k), keys[i].name))
				break;
		if (i == nkeys) {
			off = 0;
			for (i = 0; i < nkeys && off < sizeof(exp); i++)
				off += snprintf(exp + off, sizeof(exp) - off, "%s%s", i ? ", " : "",
						keys[i].name);
			return rl_fail(c, k, "unknown key '%s' (expected one of: %s)",
				       rl_shown(rl_scalar(k), b), exp);
		}
		if (bits & (1u << i))
			return rl_fail(c, k, "duplicate key '%s'", keys[i].name);
		bits |= 1u << i;
		rc = keys[i].fn(c, v, obj);
		if (rc)
			return rc;
	}
	if (seen)
		*seen = bits;
	return 0;
}

int rl_count_rule(struct ld *c, yaml_node_t *n)
{
	if (++c->r->nrules > SW_RULES_MAX)
		return rl_fail(c, n, "too many rules (at most %d in all files)", SW_RULES_MAX);
	return 0;
}

/* Items of a list node, with the list checked. */
int rl_get_list(struct ld *c, yaml_node_t *n, const char *what, yaml_node_item_t **first,
		size_t *count)
{
	*first = NULL;
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return rl_fail(c, n, "%s must be a list, not %s", what, rl_kind(n));
	*first = n->data.sequence.items.start;
	*count = n->data.sequence.items.top - n->data.sequence.items.start;
	return 0;
}
/* ---- reading a file ---- */

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

int rl_yaml_fail(struct ld *c, const yaml_parser_t *p, const unsigned char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR) {
		rl_fail_at(c->err, c->file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_to_mark(buf, len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return rl_fail_at(c->err, c->file, line, col, "%s (byte 0x%02x)", problem,
					  p->problem_value & 0xff);
		return rl_fail_at(c->err, c->file, line, col, "%s", problem);
	}
	if (p->context)
		return rl_fail_at(c->err, c->file, line, col, "%s: %s", p->context, problem);
	return rl_fail_at(c->err, c->file, line, col, "%s", problem);
}

/* libyaml has no limits of its own: refuse deep nesting (the document is walked recursively
 * by nobody, but a bounded shape keeps every later loop small) and aliases (a few aliases can
 * make a document that expands exponentially). */
int rl_prescan(struct ld *c, const unsigned char *buf, size_t len)
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
			rc = rl_fail_at(c->err, c->file, 0, 0, "YAML parser made no progress");
			break;
		}
		if (!yaml_parser_parse(&p, &ev)) {
			rc = rl_yaml_fail(c, &p, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > SW_RULES_DEPTH_MAX)
				rc = rl_fail_at(c->err, c->file, (int)ev.start_mark.line + 1,
						(int)ev.start_mark.column + 1,
						"nested deeper than %d levels", SW_RULES_DEPTH_MAX);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			rc = rl_fail_at(c->err, c->file, (int)ev.start_mark.line + 1,
					(int)ev.start_mark.column + 1,
					"aliases (*name) are not supported in rule files");
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = rl_fail_at(
					c->err, c->file, (int)ev.start_mark.line + 1,
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
