// SPDX-License-Identifier: Apache-2.0
/* The daemon's config file (YAML, libyaml), --help and the commented example config, all from
 * the option table (daemon_config.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "daemon_config.h"
#include "daemon_config_priv.h"

#define CONFIG_FILE_MAX (1 << 20) /* a config file is a page of text; refuse a huge one */

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
