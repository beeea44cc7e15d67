// SPDX-License-Identifier: Apache-2.0
/* See daemon_config.h. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config.h"
#include "daemon_config.h"
#include "policy.h"
#include "tracelog.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

#define CONFIG_FILE_MAX (1 << 20) /* a config file is a page of text; refuse a huge one */
#define LIST_MAX	32	  /* values of one list option (hook arguments) */

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

struct dval {
	char **v;
	size_t n;
	int line, col; /* where the file set it */
};

struct sw_dconf {
	struct dval val[SW_DO__COUNT];
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

/* ---- the file ---- */

struct ld {
	yaml_parser_t p;
	yaml_event_t ev;
	int have;
	struct sw_dconf_error *e;
};

static int at(struct ld *l, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int at(struct ld *l, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	if (l->e) {
		l->e->line = (int)m->line + 1;
		l->e->col = (int)m->column + 1;
		va_start(ap, fmt);
		vsnprintf(l->e->msg, sizeof(l->e->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int next(struct ld *l)
{
	if (l->have)
		yaml_event_delete(&l->ev);
	l->have = 0;
	if (!yaml_parser_parse(&l->p, &l->ev)) {
		const char *prob = l->p.problem ? l->p.problem : "invalid YAML";

		return at(l, &l->p.problem_mark, "%s%s%s", prob, l->p.context ? " " : "",
			  l->p.context ? l->p.context : "");
	}
	l->have = 1;
	return 0;
}

static const char *scalar(struct ld *l)
{
	return (const char *)l->ev.data.scalar.value;
}

static int set_at(struct ld *l, struct sw_dconf *c, int id, const char *v, const yaml_mark_t *m)
{
	struct sw_dconf_error tmp = {};
	int r = sw_dconf__set(c, id, v, &tmp);

	if (r == -EINVAL)
		return at(l, m, "%s", tmp.msg);
	if (!r) {
		c->val[id].line = (int)m->line + 1;
		c->val[id].col = (int)m->column + 1;
	}
	return r;
}

static int load_mapping(struct ld *l, struct sw_dconf *c)
{
	int seen[SW_DO__COUNT] = {0};
	yaml_mark_t km;
	int id, r;

	for (;;) {
		if ((r = next(l)))
			return r;
		if (l->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return at(l, &l->ev.start_mark,
				  "expected a key (one of the daemon's long "
				  "option names)");
		km = l->ev.start_mark;
		for (id = 0; id < SW_DO__COUNT; id++)
			if (!sw_dopts[id].cli_only && !strcmp(sw_dopts[id].name, scalar(l)))
				break;
		if (id == SW_DO__COUNT)
			return at(l, &km,
				  "unknown key '%.64s' (keys are the long option names of "
				  "sprawlwatchd --help)",
				  scalar(l));
		if (seen[id]++)
			return at(l, &km, "key '%s' given twice", sw_dopts[id].name);
		if ((r = next(l)))
			return r;
		if (l->ev.type == YAML_SCALAR_EVENT) {
			/* A key with no value (or ~) leaves the default. */
			if (!l->ev.data.scalar.length && l->ev.data.scalar.plain_implicit)
				continue;
			if (l->ev.data.scalar.plain_implicit && !strcmp(scalar(l), "~"))
				continue;
			if ((r = set_at(l, c, id, scalar(l), &l->ev.start_mark)))
				return r;
		} else if (l->ev.type == YAML_SEQUENCE_START_EVENT &&
			   sw_dopts[id].type == SW_DOPT_LIST) {
			for (;;) {
				if ((r = next(l)))
					return r;
				if (l->ev.type == YAML_SEQUENCE_END_EVENT)
					break;
				if (l->ev.type != YAML_SCALAR_EVENT)
					return at(l, &l->ev.start_mark,
						  "%s: expected a list of strings",
						  sw_dopts[id].name);
				if ((r = set_at(l, c, id, scalar(l), &l->ev.start_mark)))
					return r;
			}
		} else {
			return at(l, &l->ev.start_mark, "%s: expected %s", sw_dopts[id].name,
				  sw_dopts[id].type == SW_DOPT_LIST ? "a value or a list of values"
								    : "a single value");
		}
	}
}

int sw_dconf__load_buf(struct sw_dconf *c, const char *buf, size_t len, const char *name,
		       struct sw_dconf_error *e)
{
	struct ld l = {.e = e};
	int r, docs = 0;

	if (e) {
		memset(e, 0, sizeof(*e));
		snprintf(e->file, sizeof(e->file), "%s", name);
	}
	if (!yaml_parser_initialize(&l.p))
		return -ENOMEM;
	yaml_parser_set_input_string(&l.p, (const unsigned char *)buf, len);
	for (;;) {
		if ((r = next(&l)))
			break;
		if (l.ev.type == YAML_STREAM_END_EVENT)
			break;
		if (l.ev.type == YAML_DOCUMENT_START_EVENT && docs++) {
			r = at(&l, &l.ev.start_mark, "one YAML document only");
			break;
		}
		if (l.ev.type == YAML_MAPPING_START_EVENT) {
			if ((r = load_mapping(&l, c)))
				break;
		} else if (l.ev.type == YAML_SCALAR_EVENT) {
			/* An empty document is a file of comments only: nothing set. */
			if (l.ev.data.scalar.length) {
				r = at(&l, &l.ev.start_mark,
				       "expected a mapping of keys to values ('state-dir: DIR')");
				break;
			}
		} else if (l.ev.type == YAML_SEQUENCE_START_EVENT) {
			r = at(&l, &l.ev.start_mark,
			       "expected a mapping of keys to values, not a list");
			break;
		}
	}
	if (l.have)
		yaml_event_delete(&l.ev);
	yaml_parser_delete(&l.p);
	return r;
}

int sw_dconf__load_file(struct sw_dconf *c, const char *path, struct sw_dconf_error *e)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (e && r != -ENOENT) {
			memset(e, 0, sizeof(*e));
			snprintf(e->file, sizeof(e->file), "%s", path);
			snprintf(e->msg, sizeof(e->msg), "%s", strerror(-r));
		}
		return r;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!r && n > CONFIG_FILE_MAX) {
		if (e) {
			memset(e, 0, sizeof(*e));
			snprintf(e->file, sizeof(e->file), "%s", path);
			snprintf(e->msg, sizeof(e->msg), "larger than %d bytes", CONFIG_FILE_MAX);
		}
		r = -EINVAL;
	}
	if (!r)
		r = sw_dconf__load_buf(c, buf, n, path, e);
	free(buf);
	return r;
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

/* ---- help and example ---- */

#define HELP_COL 22

void sw_dconf__help(FILE *f)
{
	char left[64];
	int i, n;

	for (i = 0; i < SW_DO__COUNT; i++) {
		const struct sw_dopt *o = &sw_dopts[i];
		const char *h = o->help, *nl;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", o->short_name, o->name,
				     o->arg ? " " : "", o->arg ? o->arg : "");
		else
			n = snprintf(left, sizeof(left), "  --%s%s%s", o->name, o->arg ? " " : "",
				     o->arg ? o->arg : "");
		fputs(left, f);
		if (n >= HELP_COL - 1)
			fprintf(f, "\n%*s", HELP_COL, "");
		else
			fprintf(f, "%*s", HELP_COL - n, "");
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
			h = nl + 1;
		}
		fputs(h, f);
		n = HELP_COL + (int)strlen(h);
		if (o->def) {
			/* Past 90 columns the default goes on a line of its own. */
			if (n + (int)strlen(o->def) + 12 > 90)
				fprintf(f, "\n%*s(default: %s)", HELP_COL, "", o->def);
			else
				fprintf(f, " (default: %s)", o->def);
		}
		if (o->reload)
			fputs(" [SIGHUP]", f);
		fputc('\n', f);
	}
}

void sw_dconf__example(FILE *f)
{
	int i;

	fputs("# sprawlwatchd configuration (YAML). Every key is a long option of\n"
	      "# `sprawlwatchd --help`; an option given on the command line wins over this file.\n"
	      "# `sprawlctl config check` validates the file. SIGHUP (systemctl reload\n"
	      "# sprawlwatch) applies the keys marked [SIGHUP]; the others need a restart.\n",
	      f);
	for (i = 0; i < SW_DO__COUNT; i++) {
		const struct sw_dopt *o = &sw_dopts[i];
		const char *h = o->help, *nl;

		if (o->cli_only)
			continue;
		fputs("\n# ", f);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n# ", (int)(nl - h), h);
			h = nl + 1;
		}
		fputs(h, f);
		if (o->reload)
			fputs(" [SIGHUP]", f);
		fputc('\n', f);
		if (o->type == SW_DOPT_BOOL)
			fprintf(f, "#%s: false\n", o->name);
		else if (o->type == SW_DOPT_LIST)
			fprintf(f, "#%s: [%s, ...]\n", o->name, o->arg);
		else if (o->def && !strchr(o->def, ' '))
			fprintf(f, "#%s: %s\n", o->name, o->def);
		else
			fprintf(f, "#%s: %s%s%s\n", o->name, o->arg, o->def ? "   # default: " : "",
				o->def ? o->def : "");
	}
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
