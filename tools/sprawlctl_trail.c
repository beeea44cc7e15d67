// SPDX-License-Identifier: Apache-2.0
/* sprawlctl trail NAME|ID: every place a secret went, as a graph. From the alert file (and the
 * registry's counts, when it is readable) or, with --clickhouse URL, from every host's alerts.
 * Four renderings of one model: a terminal tree, JSON, Graphviz DOT and a self-contained SVG
 * (laid out here in four columns: secret, sessions, processes, places; nothing else is needed
 * to view it). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alert.h"
#include "alertrow.h"
#include "config.h"
#include "registry.h"
#include "sink_clickhouse.h"
#include "sprawl.pb-c.h"
#include "sprawlctl.h"

#define TRAIL_ALERTS_MAX 1000000      /* alert lines read at most */
#define TRAIL_LINE_MAX	 (2u << 20)   /* one alert line at most */
#define TRAIL_ANSWER_MAX (256u << 20) /* a ClickHouse answer at most */
#define TRAIL_REG_MAX	 (1u << 30)
#define TRAIL_NODES_MAX	 100000

enum { F_TEXT, F_JSON, F_DOT, F_SVG };

/* A place: one node per (host, type, label). */
struct place {
	char host[256];
	char type[16];
	char *label;
	char *key; /* registry key (file: "file:DEV:INO:" prefix) */
	char severity[16];
	char variant[16];
	uint64_t first_us, count;
	int counted; /* count and first time come from the registry */
};

/* A process's arrow to a place. */
struct edge {
	size_t place;
	uint64_t first_us, alerts;
};

struct proc {
	uint32_t pid;
	char comm[16];
	char *exe;
	uint64_t first_us;
	int read_origin;
	struct edge *edges;
	size_t nedges;
};

struct sess {
	char host[256];
	uint64_t id;
	char agent[64];
	uint32_t root_pid;
	char *root_exe;
	uint64_t first_us;
	struct proc *procs;
	size_t nprocs;
};

struct trail {
	char name[128];
	char id[17];
	char *origin;
	struct sess *sess;
	size_t nsess;
	struct place *places;
	size_t nplaces;
	uint64_t alerts;
	size_t hosts;
	int fleet;
};

static void *grow(void *p, size_t n, size_t size)
{
	/* Doubling at powers of two: amortised, and the bound keeps n * size small. */
	if (n >= TRAIL_NODES_MAX)
		return NULL;
	if (n && (n & (n - 1)))
		return p;
	return realloc(p, (n ? 2 * n : 1) * size);
}

static char *dup_str(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		err("out of memory");
		exit(EXIT_FAILURE);
	}
	return d;
}

/* ---- building the model ---- */

static int matches(const struct sw_alertrow *r, const char *want)
{
	if (strcmp(r->kind, "secret_spread") && strcmp(r->kind, "secret_exposure") &&
	    strcmp(r->kind, "secret_discovered"))
		return 0;
	return !strcmp(r->secret_name, want) || !strcmp(r->secret_id, want);
}

static size_t place_of(struct trail *t, const struct sw_alertrow *r)
{
	struct place *p;
	size_t i;

	for (i = 0; i < t->nplaces; i++) {
		p = &t->places[i];
		if (!strcmp(p->host, r->host) && !strcmp(p->type, r->artifact_type) &&
		    !strcmp(p->label, r->artifact))
			return i;
	}
	p = grow(t->places, t->nplaces, sizeof(*p));
	if (!p)
		return SIZE_MAX;
	t->places = p;
	p = &t->places[t->nplaces];
	memset(p, 0, sizeof(*p));
	snprintf(p->host, sizeof(p->host), "%s", r->host);
	snprintf(p->type, sizeof(p->type), "%s", r->artifact_type);
	p->label = dup_str(r->artifact);
	if (!strcmp(r->artifact_type, "file")) {
		char key[64];

		/* The inode generation is not in the alert: match the registry by prefix. */
		snprintf(key, sizeof(key), "file:%llu:%llu:", (unsigned long long)r->dev,
			 (unsigned long long)r->ino);
		p->key = dup_str(key);
	} else {
		p->key = dup_str(r->artifact_key);
	}
	snprintf(p->severity, sizeof(p->severity), "%s", r->severity);
	snprintf(p->variant, sizeof(p->variant), "%s", r->variant);
	p->first_us = r->time_us;
	return t->nplaces++;
}

static struct sess *sess_of(struct trail *t, const struct sw_alertrow *r)
{
	struct sess *s;
	size_t i;

	for (i = 0; i < t->nsess; i++)
		if (t->sess[i].id == r->session_id && !strcmp(t->sess[i].host, r->host))
			return &t->sess[i];
	s = grow(t->sess, t->nsess, sizeof(*s));
	if (!s)
		return NULL;
	t->sess = s;
	s = &t->sess[t->nsess++];
	memset(s, 0, sizeof(*s));
	snprintf(s->host, sizeof(s->host), "%s", r->host);
	s->id = r->session_id;
	snprintf(s->agent, sizeof(s->agent), "%s", r->agent);
	s->root_pid = r->root_pid;
	s->root_exe = dup_str(r->root_exe);
	s->first_us = r->time_us;
	return s;
}

static struct proc *proc_of(struct sess *s, const struct sw_alertrow *r)
{
	struct proc *p;
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == r->pid)
			return &s->procs[i];
	p = grow(s->procs, s->nprocs, sizeof(*p));
	if (!p)
		return NULL;
	s->procs = p;
	p = &s->procs[s->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = r->pid;
	snprintf(p->comm, sizeof(p->comm), "%s", r->comm);
	p->exe = dup_str(r->exe);
	p->first_us = r->time_us;
	return p;
}

static int add_row(struct trail *t, const struct sw_alertrow *r)
{
	struct sess *s;
	struct proc *p;
	struct edge *e;
	size_t pl, i;

	if (!t->id[0]) {
		snprintf(t->id, sizeof(t->id), "%s", r->secret_id);
		snprintf(t->name, sizeof(t->name), "%s", r->secret_name);
	}
	if (!t->origin && r->origin[0])
		t->origin = dup_str(r->origin);
	t->alerts++;
	s = sess_of(t, r);
	p = s ? proc_of(s, r) : NULL;
	if (!p)
		return -E2BIG;
	if (!strcmp(r->kind, "secret_exposure")) {
		p->read_origin = 1;
		return 0;
	}
	if (!r->artifact_type[0])
		return 0;
	pl = place_of(t, r);
	if (pl == SIZE_MAX)
		return -E2BIG;
	t->places[pl].count++;
	if (r->time_us < t->places[pl].first_us)
		t->places[pl].first_us = r->time_us;
	for (i = 0; i < p->nedges; i++) {
		if (p->edges[i].place == pl) {
			p->edges[i].alerts++;
			return 0;
		}
	}
	e = grow(p->edges, p->nedges, sizeof(*e));
	if (!e)
		return -E2BIG;
	p->edges = e;
	e = &p->edges[p->nedges++];
	e->place = pl;
	e->first_us = r->time_us;
	e->alerts = 1;
	return 0;
}

static int add_line(struct trail *t, const char *line, size_t len, const char *want,
		    struct sw_alertrow *row)
{
	if (sw_alertrow__parse(line, len, row) || !matches(row, want))
		return 0;
	return add_row(t, row);
}

static int read_file_alerts(struct trail *t, const char *file, const char *want)
{
	struct sw_alertrow *row = malloc(sizeof(*row));
	size_t cap = 0, n = 0;
	char *line = NULL;
	ssize_t len;
	FILE *f;
	int e = 0;

	if (!row)
		return -ENOMEM;
	f = fopen(file, "re");
	if (!f) {
		e = -errno;
		err("%s: %s (give the alert file with --file F)", file, strerror(-e));
		free(row);
		return e;
	}
	while (!e && (len = getline(&line, &cap, f)) > 0 && n++ < TRAIL_ALERTS_MAX)
		if ((size_t)len <= TRAIL_LINE_MAX)
			e = add_line(t, line, (size_t)len, want, row);
	if (e)
		err("%s: more than %d nodes: the trail is too large to draw", file,
		    TRAIL_NODES_MAX);
	free(line);
	free(row);
	fclose(f);
	return e;
}

static int read_fleet_alerts(struct trail *t, const char *url, const char *want)
{
	struct sw_alertrow *row;
	char sql[512], errbuf[300];
	char *ans = NULL, *p, *nl;
	size_t len;
	int e;

	/* want is a valid secret name or id (letters, digits, _ - .): safe inside quotes. */
	snprintf(sql, sizeof(sql),
		 "SELECT alert FROM sprawlwatch.alerts WHERE (secret_name = '%s' OR secret_id = "
		 "'%s') AND kind IN ('secret_spread', 'secret_exposure', 'secret_discovered') "
		 "ORDER BY time_us FORMAT JSONEachRow",
		 want, want);
	e = sw_clickhouse__query(url, sql, TRAIL_ANSWER_MAX, &ans, &len, errbuf, sizeof(errbuf));
	if (e) {
		err("%s: %s", url, errbuf);
		return e;
	}
	row = malloc(sizeof(*row));
	if (!row) {
		free(ans);
		return -ENOMEM;
	}
	for (p = ans; !e && p < ans + len; p = nl + 1) {
		json_object *o, *v;

		nl = memchr(p, '\n', (size_t)(ans + len - p));
		if (!nl)
			nl = ans + len;
		*nl = '\0'; /* the answer is NUL-terminated past len */
		o = json_tokener_parse(p);
		if (json_object_object_get_ex(o, "alert", &v) &&
		    json_object_is_type(v, json_type_string))
			e = add_line(t, json_object_get_string(v),
				     (size_t)json_object_get_string_len(v), want, row);
		json_object_put(o);
	}
	free(row);
	free(ans);
	return e;
}

/* Counts and first times from the registry: sightings, not only alerts. Read-only. */
static void registry_counts(struct trail *t)
{
	Sprawl__Registry *m;
	uint8_t *buf, id[8];
	struct stat st;
	size_t i, k, got = 0;
	ssize_t r;
	int fd;

	if (strlen(t->id) != 16 ||
	    sscanf(t->id, "%2hhx%2hhx%2hhx%2hhx%2hhx%2hhx%2hhx%2hhx", &id[0], &id[1], &id[2],
		   &id[3], &id[4], &id[5], &id[6], &id[7]) != 8)
		return;
	fd = open(paths.registry, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* not root, or no registry: the alerts' counts stand */
	if (fstat(fd, &st) || st.st_size <= 0 || (uint64_t)st.st_size > TRAIL_REG_MAX ||
	    !(buf = malloc((size_t)st.st_size))) {
		close(fd);
		return;
	}
	while (got < (size_t)st.st_size && (r = read(fd, buf + got, st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	m = got == (size_t)st.st_size ? sprawl__registry__unpack(NULL, got, buf) : NULL;
	free(buf);
	if (!m)
		return;
	for (i = 0; i < m->n_entry; i++) {
		const Sprawl__RegistryEntry *en = m->entry[i];

		if (en->secret_id.len != 8 || memcmp(en->secret_id.data, id, 8) ||
		    !en->artifact_key)
			continue;
		for (k = 0; k < t->nplaces; k++) {
			struct place *p = &t->places[k];
			size_t kl = strlen(p->key);
			int hit = !strcmp(p->type, "file") ? !strncmp(en->artifact_key, p->key, kl)
							   : !strcmp(en->artifact_key, p->key);

			if (!hit || en->count == 0)
				continue;
			if (!p->counted) {
				p->count = 0;
				p->counted = 1;
			}
			p->count += en->count;
			if (en->first_seen > 0 && (uint64_t)en->first_seen < p->first_us)
				p->first_us = (uint64_t)en->first_seen;
		}
	}
	sprawl__registry__free_unpacked(m, NULL);
}

/* ---- text ---- */

static const char *when(uint64_t us, char out[SW_ALERT_TIME_LEN])
{
	sw_alert__format_time(us, out);
	return out;
}

/* Outside text on a terminal: C0 and C1 controls become '?', so a hostile path cannot steer
 * it (U+0080..U+009F are C2 80..C2 9F in UTF-8; U+009B is a CSI to some terminals). */
static void put_safe(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u; u++) {
		if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			fputc('?', f);
			u++;
		} else {
			fputc(*u < 0x20 || *u == 0x7f ? '?' : *u, f);
		}
	}
}

static size_t host_count(const struct trail *t)
{
	size_t i, j, n = 0;

	for (i = 0; i < t->nsess; i++) {
		for (j = 0; j < i && strcmp(t->sess[j].host, t->sess[i].host); j++)
			;
		n += j == i;
	}
	return n;
}

static void out_text(const struct trail *t, FILE *f)
{
	char ts[SW_ALERT_TIME_LEN];
	size_t i, j, k, h;

	fprintf(f, "secret ");
	put_safe(f, t->name);
	fprintf(f, " (id %s)", t->id);
	if (t->origin) {
		fprintf(f, ", origin ");
		put_safe(f, t->origin);
	}
	fprintf(f, "\n%zu place(s), %zu session(s), %zu host(s), %llu alert(s)\n", t->nplaces,
		t->nsess, host_count(t), (unsigned long long)t->alerts);
	for (h = 0; h < t->nsess; h++) {
		const struct sess *s0 = &t->sess[h];

		for (j = 0; j < h && strcmp(t->sess[j].host, s0->host); j++)
			;
		if (j < h)
			continue; /* host already printed */
		fprintf(f, "host ");
		put_safe(f, s0->host);
		fputc('\n', f);
		for (i = h; i < t->nsess; i++) {
			const struct sess *s = &t->sess[i];
			int last_s = 1;

			if (strcmp(s->host, s0->host))
				continue;
			for (j = i + 1; j < t->nsess; j++)
				if (!strcmp(t->sess[j].host, s0->host))
					last_s = 0;
			fprintf(f, "%s session %llu, agent ", last_s ? "└─" : "├─",
				(unsigned long long)s->id);
			put_safe(f, s->agent[0] ? s->agent : "?");
			fprintf(f, ", root %u ", s->root_pid);
			put_safe(f, s->root_exe);
			fprintf(f, ", from %s\n", when(s->first_us, ts));
			for (j = 0; j < s->nprocs; j++) {
				const struct proc *p = &s->procs[j];
				const char *in = last_s ? "   " : "│  ";
				int last_p = j + 1 == s->nprocs;

				fprintf(f, "%s%s process %u ", in, last_p ? "└─" : "├─", p->pid);
				put_safe(f, p->comm);
				fprintf(f, " (");
				put_safe(f, p->exe);
				fprintf(f, ")%s\n", p->read_origin ? ", read the origin" : "");
				for (k = 0; k < p->nedges; k++) {
					const struct place *pl = &t->places[p->edges[k].place];

					fprintf(f, "%s%s %s %s ", in, last_p ? "   " : "│  ",
						k + 1 == p->nedges ? "└─" : "├─", pl->type);
					put_safe(f, pl->label);
					fprintf(f, "  first %s, count %llu, %s\n",
						when(pl->first_us, ts),
						(unsigned long long)pl->count, pl->severity);
				}
			}
		}
	}
}

/* ---- JSON ---- */

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static void out_json(const struct trail *t, FILE *f)
{
	json_object *root = json_object_new_object(), *sec = json_object_new_object();
	json_object *places = json_object_new_array(), *sessions = json_object_new_array();
	char ts[SW_ALERT_TIME_LEN];
	size_t i, j, k;

	json_object_object_add(sec, "name", jstr(t->name));
	json_object_object_add(sec, "id", jstr(t->id));
	json_object_object_add(sec, "origin", t->origin ? jstr(t->origin) : NULL);
	json_object_object_add(root, "secret", sec);
	for (i = 0; i < t->nplaces; i++) {
		const struct place *p = &t->places[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "host", jstr(p->host));
		json_object_object_add(o, "type", jstr(p->type));
		json_object_object_add(o, "place", jstr(p->label));
		json_object_object_add(o, "first", jstr(when(p->first_us, ts)));
		json_object_object_add(o, "count", json_object_new_uint64(p->count));
		json_object_object_add(o, "severity", jstr(p->severity));
		json_object_object_add(o, "variant", jstr(p->variant));
		json_object_array_add(places, o);
	}
	for (i = 0; i < t->nsess; i++) {
		const struct sess *s = &t->sess[i];
		json_object *o = json_object_new_object(), *procs = json_object_new_array();

		json_object_object_add(o, "host", jstr(s->host));
		json_object_object_add(o, "id", json_object_new_uint64(s->id));
		json_object_object_add(o, "agent", jstr(s->agent));
		json_object_object_add(o, "root_pid", json_object_new_uint64(s->root_pid));
		json_object_object_add(o, "root_exe", jstr(s->root_exe));
		json_object_object_add(o, "first", jstr(when(s->first_us, ts)));
		for (j = 0; j < s->nprocs; j++) {
			const struct proc *p = &s->procs[j];
			json_object *po = json_object_new_object(), *to = json_object_new_array();

			json_object_object_add(po, "pid", json_object_new_uint64(p->pid));
			json_object_object_add(po, "comm", jstr(p->comm));
			json_object_object_add(po, "exe", jstr(p->exe));
			json_object_object_add(po, "read_origin",
					       json_object_new_boolean(p->read_origin));
			for (k = 0; k < p->nedges; k++) {
				json_object *eo = json_object_new_object();

				json_object_object_add(eo, "place",
						       json_object_new_uint64(p->edges[k].place));
				json_object_object_add(eo, "first",
						       jstr(when(p->edges[k].first_us, ts)));
				json_object_object_add(eo, "alerts",
						       json_object_new_uint64(p->edges[k].alerts));
				json_object_array_add(to, eo);
			}
			json_object_object_add(po, "wrote", to);
			json_object_array_add(procs, po);
		}
		json_object_object_add(o, "processes", procs);
		json_object_array_add(sessions, o);
	}
	json_object_object_add(root, "places", places);
	json_object_object_add(root, "sessions", sessions);
	json_object_object_add(root, "alerts", json_object_new_uint64(t->alerts));
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* ---- DOT ---- */

static void dot_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			fputc(*s, f);
	}
}

static const char *sev_color(const char *sev)
{
	if (!strcmp(sev, "critical"))
		return "#e06666";
	if (!strcmp(sev, "high"))
		return "#f6b26b";
	if (!strcmp(sev, "medium"))
		return "#ffe599";
	return "#d9ead3";
}

static void out_dot(const struct trail *t, FILE *f)
{
	char ts[SW_ALERT_TIME_LEN];
	size_t i, j, k;

	fprintf(f, "digraph trail {\n\trankdir=LR;\n\tnode [shape=box, style=\"rounded,filled\", "
		   "fontname=\"monospace\", fontsize=10];\n");
	fprintf(f, "\tsecret [label=\"");
	dot_str(f, t->name);
	fprintf(f, "\\n%s\", fillcolor=\"#b4a7d6\"];\n", t->id);
	if (t->origin) {
		fprintf(f, "\torigin [label=\"origin\\n");
		dot_str(f, t->origin);
		fprintf(f, "\", fillcolor=\"#ffffff\"];\n\torigin -> secret [style=dashed];\n");
	}
	for (i = 0; i < t->nplaces; i++) {
		const struct place *p = &t->places[i];

		fprintf(f, "\tp%zu [label=\"%s", i, p->type);
		if (t->fleet) {
			fprintf(f, " @ ");
			dot_str(f, p->host);
		}
		fprintf(f, "\\n");
		dot_str(f, p->label);
		fprintf(f, "\\nfirst %s, count %llu\", fillcolor=\"%s\"];\n", when(p->first_us, ts),
			(unsigned long long)p->count, sev_color(p->severity));
	}
	for (i = 0; i < t->nsess; i++) {
		const struct sess *s = &t->sess[i];

		fprintf(f, "\ts%zu [label=\"session %llu\\n", i, (unsigned long long)s->id);
		dot_str(f, s->agent);
		fprintf(f, " @ ");
		dot_str(f, s->host);
		fprintf(f, "\", fillcolor=\"#cfe2f3\"];\n\tsecret -> s%zu;\n", i);
		for (j = 0; j < s->nprocs; j++) {
			const struct proc *p = &s->procs[j];

			fprintf(f, "\ts%zup%zu [label=\"", i, j);
			dot_str(f, p->comm);
			fprintf(f, " %u\\n", p->pid);
			dot_str(f, p->exe);
			fprintf(f, "\", fillcolor=\"#eeeeee\"];\n\ts%zu -> s%zup%zu;\n", i, i, j);
			if (p->read_origin && t->origin)
				fprintf(f, "\torigin -> s%zup%zu [style=dotted, label=\"read\"];\n",
					i, j);
			for (k = 0; k < p->nedges; k++)
				fprintf(f, "\ts%zup%zu -> p%zu;\n", i, j, p->edges[k].place);
		}
	}
	fprintf(f, "}\n");
}

/* ---- SVG ---- */

#define COLS	4
#define COL_W	300
#define COL_GAP 70
#define NODE_H	46
#define ROW_GAP 14
#define MARGIN	20
#define TITLE_H 40
#define CHARS	42 /* of an 11px monospace line in a node */

struct box {
	int col, row;
	char line1[256], line2[256];
	const char *fill;
};

static void xml_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		/* U+FFFE and U+FFFF (EF BF BE/BF) are not XML characters. */
		if ((unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbf &&
		    ((unsigned char)s[2] == 0xbe || (unsigned char)s[2] == 0xbf)) {
			fputc('?', f);
			s += 2;
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x20 && *s != 0x7f)
				fputc(*s, f);
		}
	}
}

/* At most CHARS characters (UTF-8 aware); a long path keeps its end, where the name is. */
static void fit(char *out, size_t size, const char *in)
{
	size_t n = 0, i, chars = 0, skip;

	for (i = 0; in[i]; i++)
		chars += ((unsigned char)in[i] & 0xc0) != 0x80;
	if (chars <= CHARS) {
		snprintf(out, size, "%s", in);
		return;
	}
	skip = chars - (CHARS - 1);
	for (i = 0; in[i] && skip; i++)
		if (((unsigned char)in[i + 1] & 0xc0) != 0x80)
			skip--;
	n = (size_t)snprintf(out, size, "\xe2\x80\xa6%s", in + i); /* "…" */
	(void)n;
}

static int col_y(int rows, int row, int maxrows)
{
	int h = rows * (NODE_H + ROW_GAP), total = maxrows * (NODE_H + ROW_GAP);

	return MARGIN + TITLE_H + (total - h) / 2 + row * (NODE_H + ROW_GAP);
}

static void out_svg(const struct trail *t, FILE *f)
{
	struct box *b;
	size_t nb = 0, i, j, k, np = 0, *place_box, *sess_box, *proc_box, pi = 0, secret_box,
	       origin_box = SIZE_MAX;
	int rows[COLS] = {0}, maxrows = 1, w, h, c;
	char ts[SW_ALERT_TIME_LEN], tmp[512];

	for (i = 0; i < t->nsess; i++)
		np += t->sess[i].nprocs;
	b = calloc(2 + t->nsess + np + t->nplaces, sizeof(*b));
	place_box = calloc(t->nplaces + 1, sizeof(*place_box));
	sess_box = calloc(t->nsess + 1, sizeof(*sess_box));
	proc_box = calloc(np + 1, sizeof(*proc_box));
	if (!b || !place_box || !sess_box || !proc_box) {
		err("out of memory");
		exit(EXIT_FAILURE);
	}
	for (i = 0; i < t->nplaces; i++)
		place_box[i] = SIZE_MAX;
	/* Column 0: the secret and its origin. */
	secret_box = nb;
	b[nb] = (struct box){.col = 0, .row = rows[0]++, .fill = "#b4a7d6"};
	fit(b[nb].line1, sizeof(b[nb].line1), t->name);
	snprintf(b[nb].line2, sizeof(b[nb].line2), "id %s", t->id);
	nb++;
	if (t->origin) {
		origin_box = nb;
		b[nb] = (struct box){.col = 0, .row = rows[0]++, .fill = "#ffffff"};
		snprintf(b[nb].line1, sizeof(b[nb].line1), "origin");
		fit(b[nb].line2, sizeof(b[nb].line2), t->origin);
		nb++;
	}
	/* Columns 1-3 in tree order: sessions, their processes, the places those reached first. */
	for (i = 0; i < t->nsess; i++) {
		const struct sess *s = &t->sess[i];

		sess_box[i] = nb;
		b[nb] = (struct box){.col = 1, .row = rows[1]++, .fill = "#cfe2f3"};
		snprintf(tmp, sizeof(tmp), "session %llu", (unsigned long long)s->id);
		fit(b[nb].line1, sizeof(b[nb].line1), tmp);
		when(s->first_us, ts);
		ts[10] = ' ';
		ts[19] = '\0'; /* to the second: "2026-11-30 08:50:27" */
		snprintf(tmp, sizeof(tmp), "%s @ %s, %s", s->agent[0] ? s->agent : "?", s->host,
			 ts);
		fit(b[nb].line2, sizeof(b[nb].line2), tmp);
		nb++;
		for (j = 0; j < s->nprocs; j++, pi++) {
			const struct proc *p = &s->procs[j];

			proc_box[pi] = nb;
			b[nb] = (struct box){.col = 2, .row = rows[2]++, .fill = "#eeeeee"};
			snprintf(tmp, sizeof(tmp), "%s (pid %u)%s", p->comm, p->pid,
				 p->read_origin ? ", read origin" : "");
			fit(b[nb].line1, sizeof(b[nb].line1), tmp);
			fit(b[nb].line2, sizeof(b[nb].line2), p->exe);
			nb++;
			for (k = 0; k < p->nedges; k++) {
				size_t q = p->edges[k].place;
				const struct place *pl = &t->places[q];

				if (place_box[q] != SIZE_MAX)
					continue;
				place_box[q] = nb;
				b[nb] = (struct box){.col = 3,
						     .row = rows[3]++,
						     .fill = sev_color(pl->severity)};
				snprintf(tmp, sizeof(tmp), "%s", pl->label);
				fit(b[nb].line1, sizeof(b[nb].line1), tmp);
				when(pl->first_us, ts);
				ts[19] = '\0';
				snprintf(tmp, sizeof(tmp), "%s%s%s, first %s, x%llu", pl->type,
					 t->fleet ? " @ " : "", t->fleet ? pl->host : "", ts + 11,
					 (unsigned long long)pl->count);
				fit(b[nb].line2, sizeof(b[nb].line2), tmp);
				nb++;
			}
		}
	}
	for (c = 0; c < COLS; c++)
		if (rows[c] > maxrows)
			maxrows = rows[c];
	w = 2 * MARGIN + COLS * COL_W + (COLS - 1) * COL_GAP;
	h = 2 * MARGIN + TITLE_H + maxrows * (NODE_H + ROW_GAP);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans Mono, monospace\" "
		"font-size=\"11\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		w, h, w, h);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">", MARGIN,
		MARGIN + 16);
	snprintf(tmp, sizeof(tmp), "Trail of %s: %zu place(s), %zu session(s), %zu host(s)",
		 t->name, t->nplaces, t->nsess, host_count(t));
	xml_str(f, tmp);
	fprintf(f, "</text>\n<g fill=\"none\" stroke=\"#777777\" stroke-width=\"1.2\">\n");
	/* Edges first, under the boxes: right side of one column to the left of the next. */
#define X(bx) (MARGIN + (bx).col * (COL_W + COL_GAP))
#define Y(bx) (col_y(rows[(bx).col], (bx).row, maxrows) + NODE_H / 2)
#define EDGE(a, z)                                                                                 \
	fprintf(f, "<path d=\"M%d %d C%d %d %d %d %d %d\"/>\n", X(a) + COL_W, Y(a),                \
		X(a) + COL_W + COL_GAP / 2, Y(a), X(z) - COL_GAP / 2, Y(z), X(z), Y(z))
	if (origin_box != SIZE_MAX) /* the origin, under the secret: a dashed link */
		fprintf(f, "<path d=\"M%d %d V%d\" stroke-dasharray=\"4 3\"/>\n",
			X(b[secret_box]) + COL_W / 2, Y(b[secret_box]) + NODE_H / 2,
			Y(b[origin_box]) - NODE_H / 2);
	for (i = 0, pi = 0; i < t->nsess; i++) {
		EDGE(b[secret_box], b[sess_box[i]]);
		for (j = 0; j < t->sess[i].nprocs; j++, pi++) {
			const struct proc *p = &t->sess[i].procs[j];

			/* Who read the origin is said in the process's box: an arrow from column 0
			 * to column 2 would cross the sessions. */
			EDGE(b[sess_box[i]], b[proc_box[pi]]);
			for (k = 0; k < p->nedges; k++)
				EDGE(b[proc_box[pi]], b[place_box[p->edges[k].place]]);
		}
	}
	fprintf(f, "</g>\n");
	for (i = 0; i < nb; i++) {
		int x = X(b[i]), y = col_y(rows[b[i].col], b[i].row, maxrows);

		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"%s\" "
			"stroke=\"#444444\"/>\n",
			x, y, COL_W, NODE_H, b[i].fill);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">", x + 8, y + 18);
		xml_str(f, b[i].line1);
		fprintf(f, "</text>\n<text x=\"%d\" y=\"%d\" fill=\"#333333\">", x + 8, y + 35);
		xml_str(f, b[i].line2);
		fprintf(f, "</text>\n");
	}
	fprintf(f, "</svg>\n");
#undef X
#undef Y
#undef EDGE
	free(b);
	free(place_box);
	free(sess_box);
	free(proc_box);
}

/* ---- the command ---- */

static void trail_free(struct trail *t)
{
	size_t i, j;

	for (i = 0; i < t->nplaces; i++) {
		free(t->places[i].label);
		free(t->places[i].key);
	}
	for (i = 0; i < t->nsess; i++) {
		for (j = 0; j < t->sess[i].nprocs; j++) {
			free(t->sess[i].procs[j].exe);
			free(t->sess[i].procs[j].edges);
		}
		free(t->sess[i].procs);
		free(t->sess[i].root_exe);
	}
	free(t->places);
	free(t->sess);
	free(t->origin);
}

int cmd_trail(int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"file", required_argument, NULL, 'F'},
					     {"clickhouse", required_argument, NULL, 'C'},
					     {}};
	static const char use[] = "usage: trail NAME|ID [--format text|json|dot|svg] [--file "
				  "ALERTS] [--clickhouse URL]";
	const char *file = SW_DEFAULT_ALERTS, *url = NULL, *want;
	struct trail t = {0};
	int o, fmt = F_TEXT, e;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'f' && !strcmp(optarg, "text"))
			fmt = F_TEXT;
		else if (o == 'f' && !strcmp(optarg, "json"))
			fmt = F_JSON;
		else if (o == 'f' && !strcmp(optarg, "dot"))
			fmt = F_DOT;
		else if (o == 'f' && !strcmp(optarg, "svg"))
			fmt = F_SVG;
		else if (o == 'F')
			file = optarg;
		else if (o == 'C')
			url = optarg;
		else {
			err("%s", use);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		err("%s", use);
		return -EINVAL;
	}
	want = argv[optind];
	if (!valid_name(want)) {
		err("'%s' is not a secret name or id (see 'sprawlctl secrets list')", want);
		return -EINVAL;
	}
	t.fleet = url != NULL;
	e = url ? read_fleet_alerts(&t, url, want) : read_file_alerts(&t, file, want);
	if (!e && !t.alerts) {
		err("no alert names a secret '%s' in %s", want, url ? url : file);
		e = -ENOENT;
	}
	if (!e) {
		if (!url)
			registry_counts(&t);
		if (fmt == F_TEXT)
			out_text(&t, stdout);
		else if (fmt == F_JSON)
			out_json(&t, stdout);
		else if (fmt == F_DOT)
			out_dot(&t, stdout);
		else
			out_svg(&t, stdout);
		if (fflush(stdout)) {
			e = -errno;
			err("writing the trail: %s", strerror(-e));
		}
	}
	trail_free(&t);
	return e;
}
