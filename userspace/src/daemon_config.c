// SPDX-License-Identifier: Apache-2.0
/* See daemon_config.h. This part: the option table, values, the command line, merging and the
 * accessors; the config file, --help and the example file are in daemon_config_file.c. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon_config.h"
#include "daemon_config_priv.h"
#include "policy.h"
#include "tracelog.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

#define LIST_MAX 32 /* values of one list option (hook arguments) */

const struct sw_dopt sw_dopts[SW_DO__COUNT] = {
	[SW_DO_CONFIG] = {"config", 0, SW_DOPT_STR, "FILE",
			  "config file; a missing default file is no error", SW_DEFAULT_CONFIG,
			  .cli_only = 1},
	[SW_DO_STATE_DIR] = {"state-dir", 0, SW_DOPT_STR, "DIR",
			     "key, secret set and registry ($SPRAWL_STATE_DIR wins\nover the "
			     "file)",
			     SW_DEFAULT_STATE_DIR},
	[SW_DO_RUN_DIR] = {"run-dir", 0, SW_DOPT_STR, "DIR",
			   "control socket ($SPRAWL_RUN_DIR wins over the file)",
			   SW_DEFAULT_RUN_DIR},
	[SW_DO_RULES] = {"rules", 0, SW_DOPT_STR, "DIR", "rule files",
			 "the rules compiled into the binary"},
	[SW_DO_ALERTS] = {"alerts", 0, SW_DOPT_STR, "FILE|-",
			  "alert file, JSON lines; alerts also go to stdout\nunless FILE is "
			  "'-' (stdout only)",
			  SW_DEFAULT_ALERTS, .reload = 1},
	[SW_DO_FORMAT] = {"format", 0, SW_DOPT_CHOICE, "json|ocsf", "alert encoding", "json",
			  .choices = "json|ocsf", .reload = 1},
	[SW_DO_SYSLOG] = {"syslog", 0, SW_DOPT_STR, "ADDR",
			  "also send alerts as RFC 5424 syslog: tcp:HOST:PORT or\nunix:/PATH", NULL,
			  .reload = 1},
	[SW_DO_HOOK] = {"hook", 0, SW_DOPT_STR, "PROG",
			"also run PROG (no shell) for each alert, its JSON on stdin", NULL,
			.reload = 1},
	[SW_DO_HOOK_ARG] = {"hook-arg", 0, SW_DOPT_LIST, "ARG",
			    "an argument for PROG (repeatable, in order; in the file\na list)",
			    NULL, .max = LIST_MAX, .follows = SW_DO_HOOK, .reload = 1},
	[SW_DO_HOOK_TIMEOUT_MS] = {"hook-timeout-ms", 0, SW_DOPT_UINT, "N",
				   "kill a hook still running after N ms", "5000", 10, 600000,
				   .reload = 1},
	[SW_DO_TRACE_DIR] = {"trace-dir", 0, SW_DOPT_STR, "DIR|none",
			     "record the trace log there (zlib blocks of protobuf events,\n"
			     "tracked secrets redacted) for `sprawlctl replay --since` and\n"
			     "`sprawlctl trace dump`; none: do not record",
			     "STATE-DIR/" SW_TRACELOG_SUBDIR},
	[SW_DO_TRACE_MAX_MB] = {"trace-max-mb", 0, SW_DOPT_UINT, "N",
				"keep at most N MiB of trace log, oldest deleted first",
				STR(SW_TRACE_MAX_MB_DEFAULT), 1, 1024 * 1024},
	[SW_DO_TRACE_MAX_AGE_DAYS] = {"trace-max-age-days", 0, SW_DOPT_UINT, "N",
				      "delete trace records older than N days",
				      STR(SW_TRACE_MAX_AGE_DAYS_DEFAULT), 1, 3650},
	[SW_DO_RINGBUF_MB] = {"ringbuf-mb", 0, SW_DOPT_UINT, "N",
			      "kernel ring buffer size in MiB, a power of two",
			      "the policy's, " STR(SW_POLICY_RINGBUF_DEFAULT_MB), 1, 1024, 1},
	[SW_DO_MAX_BYTES] = {"max-bytes", 0, SW_DOPT_UINT, "N",
			     "bytes captured per syscall before a counted truncation",
			     "the policy's, " STR(SW_POLICY_MAX_BYTES_DEFAULT),
			     SW_POLICY_MAX_BYTES_MIN, SW_POLICY_MAX_BYTES_MAX},
	[SW_DO_GUARD] = {"guard", 0, SW_DOPT_CHOICE, "alert|redact|block",
			 "TLS writes of agent sessions: alert only; redact: overwrite\n"
			 "every tracked secret before it is encrypted; block: kill the\n"
			 "writer",
			 "the policy's, alert", .choices = "alert|redact|block"},
	[SW_DO_CLICKHOUSE] = {"clickhouse", 0, SW_DOPT_STR, "URL",
			      "also deliver alerts to ClickHouse's HTTP interface (e.g.\n"
			      "http://127.0.0.1:8123): table sprawlwatch.alerts, spooled on\n"
			      "disk while it is away, each alert once",
			      NULL},
	[SW_DO_CLICKHOUSE_SPOOL_KB] = {"clickhouse-spool-kb", 0, SW_DOPT_UINT, "N",
				       "undelivered alerts the spool holds, in KiB, before new\n"
				       "ones are refused (a coverage_gap)",
				       "65536", 16, 16u << 20},
	[SW_DO_METRICS] = {"metrics", 0, SW_DOPT_STR, "HOST:PORT",
			   "serve Prometheus metrics at http://HOST:PORT/metrics", NULL,
			   .reload = 1},
	[SW_DO_LOG_LEVEL] = {"log-level", 0, SW_DOPT_CHOICE, "LEVEL",
			     "least important log lines shown: err, warning, notice,\ninfo or "
			     "debug (journald priorities)",
			     "info", .choices = "err|warning|notice|info|debug", .reload = 1},
	[SW_DO_VERBOSE] = {"verbose", 'v', SW_DOPT_BOOL, NULL,
			   "log each event summary (never data); implies debug", NULL, .reload = 1},
	[SW_DO_HELP] = {"help", 'h', SW_DOPT_BOOL, NULL, "show this help", NULL, .cli_only = 1},
	[SW_DO_VERSION] = {"version", 0, SW_DOPT_BOOL, NULL, "print the version", NULL,
			   .cli_only = 1},
};

int sw_dconf_error__format(const struct sw_dconf_error *e, char *out, size_t size)
{
	if (e->file[0] && e->line)
		return snprintf(out, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
	if (e->file[0])
		return snprintf(out, size, "%s: %s", e->file, e->msg);
	return snprintf(out, size, "%s", e->msg);
}

static int fail(struct sw_dconf_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct sw_dconf_error *e, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

struct sw_dconf *sw_dconf__new(void)
{
	return calloc(1, sizeof(struct sw_dconf));
}

static void dval_clear(struct dval *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

void sw_dconf__free(struct sw_dconf *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < SW_DO__COUNT; i++)
		dval_clear(&c->val[i]);
	free(c);
}

static int choice_index(const char *choices, const char *v)
{
	size_t len = strlen(v);
	const char *p = choices;
	int i = 0;

	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == len && !strncmp(p, v, n))
			return i;
		i++;
		p = bar ? bar + 1 : NULL;
	}
	return -1;
}

static int parse_bool(const char *v)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		return 1;
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		return 0;
	return -1;
}

static int check_value(const struct sw_dopt *o, const char *v, struct sw_dconf_error *e)
{
	unsigned long n;
	char *end;

	switch (o->type) {
	case SW_DOPT_STR:
	case SW_DOPT_LIST:
		if (!*v)
			return fail(e, "%s: expected %s, got an empty value", o->name, o->arg);
		if (strlen(v) >= 1024)
			return fail(e, "%s: value longer than 1023 bytes", o->name);
		return 0;
	case SW_DOPT_UINT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!*v || *end || errno || *v == '-' || n < o->min || n > o->max ||
		    (o->pow2 && (n & (n - 1))))
			return fail(e, "%s: '%s': expected %s%lu to %lu", o->name, v,
				    o->pow2 ? "a power of two from " : "", o->min, o->max);
		return 0;
	case SW_DOPT_CHOICE:
		if (choice_index(o->choices, v) < 0)
			return fail(e, "%s: '%s': expected one of %s", o->name, v, o->choices);
		return 0;
	case SW_DOPT_BOOL:
		if (parse_bool(v) < 0)
			return fail(e, "%s: '%s': expected true or false", o->name, v);
		return 0;
	}
	return -EINVAL;
}

int sw_dconf__set(struct sw_dconf *c, enum sw_dopt_id id, const char *value,
		  struct sw_dconf_error *e)
{
	const struct sw_dopt *o;
	struct dval *d;
	char **nv, *dup;
	int r;

	if ((unsigned int)id >= SW_DO__COUNT || !value)
		return fail(e, "no such option");
	o = &sw_dopts[id];
	d = &c->val[id];
	r = check_value(o, value, e);
	if (r)
		return r;
	if (o->type == SW_DOPT_LIST && d->n >= o->max)
		return fail(e, "%s: at most %lu values", o->name, o->max);
	dup = strdup(value);
	if (!dup)
		return -ENOMEM;
	if (o->type != SW_DOPT_LIST)
		dval_clear(d);
	nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	d->v = nv;
	d->v[d->n++] = dup;
	return 0;
}

int sw_dconf__parse_args(struct sw_dconf *c, int argc, char **argv, struct sw_dconf_error *e)
{
	struct option lopts[SW_DO__COUNT + 1];
	char shorts[2 * SW_DO__COUNT + 2], *sp = shorts;
	int i, o, idx, r;

	memset(lopts, 0, sizeof(lopts));
	*sp++ = ':'; /* a missing argument is ':' rather than '?' */
	for (i = 0; i < SW_DO__COUNT; i++) {
		lopts[i].name = sw_dopts[i].name;
		lopts[i].has_arg =
			sw_dopts[i].type == SW_DOPT_BOOL ? no_argument : required_argument;
		lopts[i].val = 256 + i;
		if (sw_dopts[i].short_name) {
			*sp++ = sw_dopts[i].short_name;
			if (sw_dopts[i].type != SW_DOPT_BOOL)
				*sp++ = ':';
		}
	}
	*sp = 0;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		if (o == '?' || o == ':') {
			if (optopt >= 256 && optopt < 256 + SW_DO__COUNT)
				return fail(e, "--%s needs an argument",
					    sw_dopts[optopt - 256].name);
			if (optopt)
				return fail(e, "unknown option '-%c'; see --help", optopt);
			return fail(e, "unknown or incomplete option '%s'; see --help",
				    argv[optind - 1]);
		}
		if (o < 256) {
			for (i = 0; i < SW_DO__COUNT; i++)
				if (sw_dopts[i].short_name == o)
					break;
			if (i == SW_DO__COUNT)
				return fail(e, "unknown option '-%c'; see --help", o);
		} else {
			i = o - 256;
		}
		r = sw_dconf__set(c, i, sw_dopts[i].type == SW_DOPT_BOOL ? "true" : optarg, e);
		if (r) {
			char tmp[sizeof(e->msg) + 4];

			if (e) {
				snprintf(tmp, sizeof(tmp), "--%s", e->msg);
				snprintf(e->msg, sizeof(e->msg), "%.*s", (int)sizeof(e->msg) - 1,
					 tmp);
			}
			return r;
		}
	}
	if (optind < argc)
		return fail(e, "unexpected argument '%s'; see --help", argv[optind]);
	return 0;
}

static int copy_val(struct dval *to, const struct dval *from)
{
	size_t i;

	to->v = calloc(from->n ? from->n : 1, sizeof(*to->v));
	if (!to->v)
		return -ENOMEM;
	for (i = 0; i < from->n; i++) {
		to->v[i] = strdup(from->v[i]);
		if (!to->v[i])
			return -ENOMEM;
		to->n++;
	}
	to->line = from->line;
	to->col = from->col;
	return 0;
}

int sw_dconf__merge(struct sw_dconf *out, const struct sw_dconf *file, const struct sw_dconf *flags)
{
	int i, r;

	for (i = 0; i < SW_DO__COUNT; i++) {
		const struct sw_dopt *o = &sw_dopts[i];
		const struct dval *src = NULL;

		if (flags && flags->val[i].n)
			src = &flags->val[i];
		else if (file && file->val[i].n &&
			 !(o->follows && flags && flags->val[o->follows].n))
			src = &file->val[i];
		if (src && (r = copy_val(&out->val[i], src)))
			return r;
	}
	return 0;
}

int sw_dconf__is_set(const struct sw_dconf *c, enum sw_dopt_id id)
{
	return (unsigned int)id < SW_DO__COUNT && c->val[id].n > 0;
}

const char *sw_dconf__str(const struct sw_dconf *c, enum sw_dopt_id id)
{
	if (!sw_dconf__is_set(c, id))
		return NULL;
	return c->val[id].v[c->val[id].n - 1];
}

unsigned long sw_dconf__num(const struct sw_dconf *c, enum sw_dopt_id id)
{
	const char *v = sw_dconf__str(c, id);

	if (!v)
		return 0;
	if (sw_dopts[id].type == SW_DOPT_BOOL)
		return parse_bool(v) == 1;
	return strtoul(v, NULL, 10);
}

const char *const *sw_dconf__list(const struct sw_dconf *c, enum sw_dopt_id id, size_t *n)
{
	*n = sw_dconf__is_set(c, id) ? c->val[id].n : 0;
	return *n ? (const char *const *)c->val[id].v : NULL;
}

int sw_dconf__choice(const struct sw_dconf *c, enum sw_dopt_id id)
{
	const char *v = sw_dconf__str(c, id);

	return v && sw_dopts[id].choices ? choice_index(sw_dopts[id].choices, v) : -1;
}

int sw_dconf__same(const struct sw_dconf *a, const struct sw_dconf *b, enum sw_dopt_id id)
{
	size_t i;

	if (a->val[id].n != b->val[id].n)
		return 0;
	for (i = 0; i < a->val[id].n; i++)
		if (strcmp(a->val[id].v[i], b->val[id].v[i]))
			return 0;
	return 1;
}

int sw_dconf__copy(struct sw_dconf *to, const struct sw_dconf *from, enum sw_dopt_id id)
{
	struct dval v = {};
	int r;

	if ((unsigned int)id >= SW_DO__COUNT)
		return -EINVAL;
	r = copy_val(&v, &from->val[id]);
	if (r) {
		dval_clear(&v);
		return r;
	}
	dval_clear(&to->val[id]);
	to->val[id] = v;
	return 0;
}
