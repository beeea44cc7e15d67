// SPDX-License-Identifier: Apache-2.0
/* Alerts: kind and severity names, time format, and the pieces both encodings share (a bounded
 * JSON writer, the artifact/secret/session objects). The encodings: alert_json.c (DESIGN.md
 * schema), alert_ocsf.c (OCSF 1.x Detection Finding).
 *
 * Every string in an alert may come from an attacker (paths, argv, comm, peer names), so each
 * one goes through the project's one escaper (json.h), and no read goes past the field's
 * array. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "alert_priv.h"
#include "frameworks.h"
#include "json.h"

static const char *const kind_names[SW_ALERT__COUNT] = {
	[SW_ALERT_SECRET_SPREAD] = "secret_spread",
	[SW_ALERT_SECRET_EXPOSURE] = "secret_exposure",
	[SW_ALERT_SECRET_DISCOVERED] = "secret_discovered",
	[SW_ALERT_COVERAGE_GAP] = "coverage_gap",
	[SW_ALERT_UNMONITORED_CHANNEL] = "unmonitored_channel",
	[SW_ALERT_RATE_LIMITED] = "rate_limited",
	[SW_ALERT_STATE_WARNING] = "state_warning",
	[SW_ALERT_SESSION_SUMMARY] = "session_summary",
};

static const char *const sev_names[] = {"info", "low", "medium", "high", "critical"};

void sw_alert__set_cgroup(struct sw_alert *a, const char *path)
{
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", path ? path : "");
	a->has_container = sw_container__parse(a->cgroup, &a->container);
}

const char *sw_alert__kind_name(enum sw_alert_kind k)
{
	if ((unsigned int)k >= SW_ALERT__COUNT)
		return "unknown";
	return kind_names[k];
}

const char *sw_alert__severity_name(enum sw_severity s)
{
	if ((unsigned int)s > SW_SEV_CRITICAL)
		return "unknown";
	return sev_names[s];
}

void sw_alert__format_time(uint64_t time_us, char out[SW_ALERT_TIME_LEN])
{
	time_t secs = (time_t)(time_us / 1000000);
	char tmp[96];
	struct tm tm;
	size_t n;

	/* Years past 9999 are not RFC 3339; a clock that far off is clamped, not misprinted. */
	if (time_us / 1000000 > 253402300799ull)
		secs = (time_t)253402300799ll;
	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(time_us % 1000000));
	n = strnlen(tmp, SW_ALERT_TIME_LEN - 1);
	memcpy(out, tmp, n);
	out[n] = '\0';
}

/* ---- a bounded JSON writer: stores what fits, counts everything ---- */

void jw_raw(struct jw *w, const char *s, size_t n)
{
	if (w->len < w->size) {
		size_t room = w->size - w->len;

		memcpy(w->buf + w->len, s, n < room ? n : room);
	}
	w->len += n;
}

static void jw_puts(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

void jw_sep(struct jw *w)
{
	if (w->count[w->depth]++)
		jw_raw(w, ",", 1);
}

void jw_open(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	if (w->depth < JW_DEPTH - 1)
		w->depth++;
	w->count[w->depth] = 0;
}

void jw_close(struct jw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	jw_raw(w, &c, 1);
}

/* Key names are literals of the encoders: plain ASCII, nothing to escape. */
void jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	jw_raw(w, "\"", 1);
	jw_puts(w, k);
	jw_raw(w, "\":", 2);
}

void jw_ostart(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_open(w, '{');
}

void jw_astart(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_open(w, '[');
}

static void jw_put(void *ctx, const char *s, size_t n)
{
	jw_raw(ctx, s, n);
}

/* The escaped body (no quotes) of at most max bytes of str (stops at NUL). */
void jw_esc(struct jw *w, const char *str, size_t max)
{
	sw_json__escape(str, strnlen(str, max), jw_put, w);
}

/* A quoted, escaped string. */
void jw_strn(struct jw *w, const char *str, size_t max)
{
	if (!str) {
		jw_puts(w, "null");
		return;
	}
	jw_raw(w, "\"", 1);
	jw_esc(w, str, max);
	jw_raw(w, "\"", 1);
}

static void jw_u64(struct jw *w, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	jw_puts(w, tmp);
}

void jw_kstrn(struct jw *w, const char *k, const char *s, size_t max)
{
	jw_key(w, k);
	jw_strn(w, s, max);
}

void jw_ku64(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	jw_u64(w, v);
}

void jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_puts(w, v ? "true" : "false");
}

int jw_finish(struct jw *w)
{
	if (w->len > (size_t)0x7ffffffe)
		return -EOVERFLOW;
	if (w->size)
		w->buf[w->len < w->size ? w->len : w->size - 1] = '\0';
	return (int)w->len;
}

/* ---- shared pieces ---- */

int al_has_art(const struct sw_alert *a)
{
	return a->has_artifact && a->artifact.type < SW_ART__COUNT;
}

static unsigned int art_type(const struct sw_alert *a)
{
	return al_has_art(a) ? a->artifact.type : SW_ART__COUNT;
}

const char *al_arg_at(const struct sw_alert *a, uint32_t i)
{
	/* An exec_arg alert's artifact index points at the argument that held the secret. */
	if (a->kind == SW_ALERT_SECRET_SPREAD && al_has_art(a) &&
	    a->artifact.type == SW_ART_EXEC_ARG && a->artifact.index == i)
		return "[redacted]";
	return a->process.argv[i] ? a->process.argv[i] : "";
}

uint32_t al_argc_of(const struct sw_alert *a)
{
	return a->process.argc < SW_ARGV_MAX ? a->process.argc : SW_ARGV_MAX;
}

/* What a compressed artifact held: how inflated, and the git object it was. */
static void al_git_fields(struct jw *w, const struct sw_artifact *t)
{
	if (t->inflated[0])
		jw_kstr(w, "inflated", t->inflated);
	if (t->git.repo[0]) {
		jw_ostart(w, "git");
		jw_kstr(w, "repo", t->git.repo);
		if (t->git.object[0])
			jw_kstr(w, "object", t->git.object);
		if (t->git.kind[0])
			jw_kstr(w, "kind", t->git.kind);
		if (t->git.commit[0])
			jw_kstr(w, "commit", t->git.commit);
		if (t->git.ref[0])
			jw_kstr(w, "ref", t->git.ref);
		jw_close(w, '}');
	}
}

/* The per-type artifact fields of the DESIGN.md schema (inside an open object). */
void al_artifact_fields(struct jw *w, const struct sw_artifact *t)
{
	jw_kstrn(w, "type", sw_artifact__type_name(t->type), 16);
	switch (t->type) {
	case SW_ART_FILE:
		jw_kstr(w, "path", t->path);
		if (t->ino) { /* a name with no inode known (a directory made, a memfd): none */
			jw_ku64(w, "dev", t->dev);
			jw_ku64(w, "ino", t->ino);
		}
		if (t->in_name)
			jw_kbool(w, "in_name", 1);
		al_git_fields(w, t);
		break;
	case SW_ART_SOCKET:
		jw_kstr(w, "proto", t->proto);
		jw_kstr(w, "peer", t->peer);
		break;
	case SW_ART_EXEC_ARG:
		jw_kstr(w, "path", t->path);
		jw_ku64(w, "index", t->index);
		break;
	case SW_ART_EXEC_ENV:
		jw_kstr(w, "path", t->path);
		jw_kstr(w, "name", t->name);
		break;
	case SW_ART_PIPE:
		jw_ku64(w, "reader_pid", t->reader_pid);
		jw_kstr(w, "reader_exe", t->reader_exe);
		break;
	case SW_ART_TTY:
		if (t->path[0])
			jw_kstr(w, "path", t->path);
		break;
	case SW_ART_TLS:
		jw_kstr(w, "peer", t->peer);
		if (t->sni[0])
			jw_kstr(w, "sni", t->sni);
		al_git_fields(w, t);
		break;
	default:
		break;
	}
}

void al_secret_obj(struct jw *w, const struct sw_alert *a)
{
	jw_ostart(w, "secret");
	jw_kstr(w, "id", a->secret_id);
	jw_kstr(w, "name", a->secret_name);
	jw_kstr(w, "variant", a->variant);
	if (a->secret_len)
		jw_ku64(w, "length", a->secret_len);
	jw_close(w, '}');
}

void al_session_obj(struct jw *w, const struct sw_alert *a)
{
	jw_ostart(w, "session");
	jw_ku64(w, "id", a->session.id);
	jw_kstr(w, "agent", a->session.agent);
	jw_ku64(w, "root_pid", a->session.root_pid);
	jw_kstr(w, "root_exe", a->session.root_exe);
	jw_close(w, '}');
}

void al_origin_obj(struct jw *w, const struct sw_alert *a)
{
	jw_ostart(w, "origin");
	jw_kstrn(w, "type", "file", 8);
	jw_kstr(w, "path", a->origin_path);
	jw_close(w, '}');
}

void al_gaps_obj(struct jw *w, const struct sw_alert *a)
{
	uint32_t i, n = a->ngaps < 8 ? a->ngaps : 8;

	jw_ostart(w, "gaps");
	for (i = 0; i < n; i++) {
		jw_sep(w);
		jw_str(w, a->gaps[i].what);
		jw_raw(w, ":", 1);
		jw_u64(w, a->gaps[i].count);
	}
	jw_close(w, '}');
}

/* session_summary: "secrets":[{"id","name","read_origin","places":[{"type","place","count",
 * "first","severity"}],"more_places"}], then "more_secrets". */
void al_spread_arr(struct jw *w, const struct sw_alert *a)
{
	char ts[SW_ALERT_TIME_LEN];
	uint32_t i, k;

	jw_astart(w, "secrets");
	for (i = 0; i < a->nspread && a->spread; i++) {
		const struct sw_alert_spread *sp = &a->spread[i];

		jw_sep(w);
		jw_open(w, '{');
		jw_kstr(w, "id", sp->id);
		jw_kstr(w, "name", sp->name);
		jw_kbool(w, "read_origin", sp->read_origin);
		jw_astart(w, "places");
		for (k = 0; k < sp->nplaces && sp->places; k++) {
			const struct sw_alert_place *pl = &sp->places[k];

			jw_sep(w);
			jw_open(w, '{');
			jw_kstrn(w, "type", sw_artifact__type_name(pl->type), 16);
			jw_kstrn(w, "place", pl->label ? pl->label : "", SW_PATH_MAX + 256);
			jw_ku64(w, "count", pl->count);
			sw_alert__format_time(pl->first_us, ts);
			jw_kstr(w, "first", ts);
			jw_kstrn(w, "severity", sw_alert__severity_name(pl->severity), 16);
			jw_close(w, '}');
		}
		jw_close(w, ']');
		jw_ku64(w, "more_places", sp->more_places);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_ku64(w, "more_secrets", a->more_secrets);
}

void al_frameworks_arr(struct jw *w, const struct sw_alert *a)
{
	const struct sw_framework_ref *refs[SW_FRAMEWORKS_MAX];
	size_t i, n;

	n = sw_frameworks__for(a->kind, art_type(a), refs, SW_FRAMEWORKS_MAX);
	jw_astart(w, "frameworks");
	for (i = 0; i < n; i++) {
		jw_sep(w);
		jw_open(w, '{');
		jw_kstrn(w, "framework", refs[i]->framework, 64);
		jw_kstrn(w, "id", refs[i]->id, 64);
		jw_kstrn(w, "name", refs[i]->name, 128);
		if (refs[i]->threat)
			jw_kstrn(w, "threat", refs[i]->threat, 128);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

int al_wants_first_seen(const struct sw_alert *a)
{
	return al_has_art(a) && a->has_secret;
}
