// SPDX-License-Identifier: Apache-2.0
/* See alerttext.h. JSON is parsed with jansson: no hand-written parser. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "alerttext.h"
#include "json.h"

/* A bounded line under construction: stores what fits, counts everything. */
struct line {
	char *buf;
	size_t size, len;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->len < l->size) {
		size_t room = l->size - l->len;

		memcpy(l->buf + l->len, s, n < room ? n : room);
	}
	l->len += n;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Outside text, cleaned for a terminal. */
static void put_clean(struct line *l, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			put(l, s + i, 1);
			i++;
		} else if (u[i] >= 0x80 && (k = sw_json__utf8_seq(u + i, n - i, &cp))) {
			/* C1 controls (U+0080..U+009F: CSI is U+009B) and line separators are
			 * one '?' each; every other character is kept. */
			if ((cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029)
				put(l, "?", 1);
			else
				put(l, s + i, k);
			i += k;
		} else {
			put(l, "?", 1);
			i++;
		}
	}
}

size_t sw_alerttext__clean(const char *text, size_t len, char *out, size_t size)
{
	struct line l = {.buf = out, .size = size};

	put_clean(&l, text, len);
	if (size)
		out[l.len < size ? l.len : size - 1] = '\0';
	return l.len;
}

static void printf_clean(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void printf_clean(struct line *l, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	put_clean(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void color(struct line *l, int on, const char *sgr)
{
	if (on)
		puts_(l, sgr);
}

static const char *sev_color(const char *sev)
{
	if (!strcmp(sev, "critical"))
		return "\033[1;31m";
	if (!strcmp(sev, "high"))
		return "\033[31m";
	if (!strcmp(sev, "medium"))
		return "\033[33m";
	if (!strcmp(sev, "low"))
		return "\033[36m";
	return "\033[2m";
}

/* Where the secret went, in words. */
static void where(struct line *l, json_t *a)
{
	json_t *t = json_object_get(a, "artifact");
	const char *type = str(t, "type");

	if (!json_is_object(t)) {
		if (*str(a, "channel"))
			printf_clean(l, "channel %s", str(a, "channel"));
		else if (*str(a, "message"))
			printf_clean(l, "%s", str(a, "message"));
		else
			puts_(l, "-");
		return;
	}
	if (!strcmp(type, "file") && json_object_get(t, "git"))
		printf_clean(l, "git %s %.12s in %s", str(json_object_get(t, "git"), "kind"),
			     str(json_object_get(t, "git"), "object"),
			     str(json_object_get(t, "git"), "repo"));
	else if (!strcmp(type, "file") && json_is_true(json_object_get(t, "in_name")))
		printf_clean(l, "file %s (its name)", str(t, "path"));
	else if (!strcmp(type, "file") && *str(t, "inflated"))
		printf_clean(l, "file %s (%s)", str(t, "path"), str(t, "inflated"));
	else if (!strcmp(type, "file"))
		printf_clean(l, "file %s", str(t, "path"));
	else if (!strcmp(type, "socket"))
		printf_clean(l, "%s %s", *str(t, "proto") ? str(t, "proto") : "socket",
			     str(t, "peer"));
	else if (!strcmp(type, "exec_arg"))
		printf_clean(l, "argv[%lld] of %s", num(t, "index"), str(t, "path"));
	else if (!strcmp(type, "exec_env"))
		printf_clean(l, "env %s of %s", str(t, "name"), str(t, "path"));
	else if (!strcmp(type, "pipe"))
		printf_clean(l, "pipe to %s[%lld]", str(t, "reader_exe"), num(t, "reader_pid"));
	else if (!strcmp(type, "tty"))
		printf_clean(l, "tty %s", str(t, "path"));
	else if (!strcmp(type, "tls"))
		printf_clean(l, "tls %s%s%s", str(t, "peer"), *str(t, "sni") ? " sni " : "",
			     str(t, "sni"));
	else
		printf_clean(l, "%s", type);
}

int sw_alerttext__format(const char *json, size_t len, int on, char *out, size_t size)
{
	struct line l = {.buf = out, .size = size};
	json_t *a, *s, *p, *sess, *c;
	const char *sev, *time;
	json_error_t jerr;

	a = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(a) || !json_is_string(json_object_get(a, "kind"))) {
		json_decref(a);
		return -EINVAL;
	}
	sev = str(a, "severity");
	time = str(a, "time");
	/* "2026-11-29T18:00:00.123456Z" → "2026-11-29 18:00:00Z": seconds are enough to read. */
	if (strlen(time) >= 19 && time[10] == 'T') {
		printf_clean(&l, "%.10s %.8sZ", time, time + 11);
	} else {
		printf_clean(&l, "%s", time);
	}
	puts_(&l, " ");
	color(&l, on, sev_color(sev));
	printf_clean(&l, "%-8s", sev);
	color(&l, on, "\033[0m");
	puts_(&l, " ");
	color(&l, on, "\033[1m");
	printf_clean(&l, "%s", str(a, "kind"));
	color(&l, on, "\033[0m");
	s = json_object_get(a, "secret");
	if (json_is_object(s)) {
		puts_(&l, " ");
		color(&l, on, "\033[1;35m");
		printf_clean(&l, "%s", str(s, "name"));
		color(&l, on, "\033[0m");
		if (*str(s, "variant") && strcmp(str(s, "variant"), "raw"))
			printf_clean(&l, " (%s)", str(s, "variant"));
	}
	puts_(&l, "  ");
	where(&l, a);
	p = json_object_get(a, "process");
	if (json_is_object(p)) {
		puts_(&l, "  by ");
		printf_clean(&l, "%s[%lld]", str(p, "comm"), num(p, "pid"));
	}
	c = json_object_get(a, "container");
	if (json_is_object(c))
		printf_clean(&l, " in %s:%.12s", str(c, "runtime"), str(c, "id"));
	sess = json_object_get(a, "session");
	if (json_is_object(sess)) {
		puts_(&l, "  ");
		color(&l, on, "\033[2m");
		printf_clean(&l, "session %lld", num(sess, "id"));
		if (*str(sess, "agent"))
			printf_clean(&l, " agent %s", str(sess, "agent"));
		color(&l, on, "\033[0m");
	}
	json_decref(a);
	if (size)
		out[l.len < size ? l.len : size - 1] = '\0';
	return l.len > 0x7ffffffe ? -EOVERFLOW : (int)l.len;
}
