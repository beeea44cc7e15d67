// SPDX-License-Identifier: Apache-2.0
/* Reads an alert JSON line into typed fields, with json-c (a library, not a hand-written
 * parser; it keeps 64-bit unsigned numbers such as session ids whole). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "alertrow.h"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static void copy(char *dst, size_t cap, json_object *o, const char *k)
{
	snprintf(dst, cap, "%s", str(o, k));
}

static uint64_t num(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return json_object_is_type(v, json_type_int) ? json_object_get_uint64(v) : 0;
}

uint64_t sw_alertrow__time_us(const char *s)
{
	struct tm tm = {0};
	unsigned int us = 0;
	time_t t;
	int n = 0;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us, &n) != 7 ||
	    !n || s[n])
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t < 0)
		return 0;
	return (uint64_t)t * 1000000 + us;
}

void sw_alertrow__label(const struct sw_artifact *t, char *out, size_t cap)
{
	switch (t->type) {
	case SW_ART_SOCKET:
		snprintf(out, cap, "%s %s", t->proto, t->peer);
		break;
	case SW_ART_EXEC_ARG:
		snprintf(out, cap, "%s argv[%u]", t->path, t->index);
		break;
	case SW_ART_EXEC_ENV:
		snprintf(out, cap, "%s env %s", t->path, t->name);
		break;
	case SW_ART_PIPE:
		snprintf(out, cap, "pipe to %s", t->reader_exe);
		break;
	case SW_ART_TLS:
		if (t->sni[0])
			snprintf(out, cap, "%s (%s)", t->peer, t->sni);
		else
			snprintf(out, cap, "%s", t->peer);
		break;
	default:
		/* A git object: the repository is the place (one per secret and repository). */
		if (t->type == SW_ART_FILE && t->git.repo[0])
			snprintf(out, cap, "git %s %.12s in %s",
				 t->git.kind[0] ? t->git.kind : "object", t->git.object,
				 t->git.repo);
		else
			snprintf(out, cap, "%s", t->path);
	}
}

/* The alert's artifact object back into the struct, as far as the label needs it. */
static void artifact_label(json_object *art, struct sw_alertrow *row)
{
	static const char *const types[SW_ART__COUNT] = {"file", "socket", "exec_arg", "exec_env",
							 "pipe", "tty",	   "tls"};
	struct sw_artifact *t = calloc(1, sizeof(*t));
	const char *type = str(art, "type");
	unsigned int i;

	if (!t) {
		snprintf(row->artifact, sizeof(row->artifact), "%s", str(art, "path"));
		return;
	}
	for (i = 0; i < SW_ART__COUNT; i++)
		if (!strcmp(type, types[i]))
			t->type = (uint8_t)i;
	snprintf(t->path, sizeof(t->path), "%s", str(art, "path"));
	snprintf(t->proto, sizeof(t->proto), "%s", str(art, "proto"));
	snprintf(t->peer, sizeof(t->peer), "%s", str(art, "peer"));
	snprintf(t->sni, sizeof(t->sni), "%s", str(art, "sni"));
	snprintf(t->name, sizeof(t->name), "%s", str(art, "name"));
	snprintf(t->reader_exe, sizeof(t->reader_exe), "%s", str(art, "reader_exe"));
	t->index = (uint32_t)num(art, "index");
	if (get(art, "git")) {
		snprintf(t->git.repo, sizeof(t->git.repo), "%s", str(get(art, "git"), "repo"));
		snprintf(t->git.object, sizeof(t->git.object), "%s",
			 str(get(art, "git"), "object"));
		snprintf(t->git.kind, sizeof(t->git.kind), "%s", str(get(art, "git"), "kind"));
	}
	t->dev = row->dev = num(art, "dev");
	t->ino = row->ino = num(art, "ino");
	sw_alertrow__label(t, row->artifact, sizeof(row->artifact));
	sw_artifact__key(t, row->artifact_key, sizeof(row->artifact_key));
	free(t);
}

int sw_alertrow__parse(const char *json, size_t len, struct sw_alertrow *row)
{
	json_tokener *tok;
	json_object *root, *o;

	memset(row, 0, sizeof(*row));
	if (len > (1u << 24))
		return -EBADMSG;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object) || !*str(root, "time") ||
	    !*str(root, "kind")) {
		json_object_put(root);
		return -EBADMSG;
	}
	row->time_us = sw_alertrow__time_us(str(root, "time"));
	copy(row->host, sizeof(row->host), root, "host");
	copy(row->kind, sizeof(row->kind), root, "kind");
	copy(row->severity, sizeof(row->severity), root, "severity");
	o = get(root, "secret");
	if (json_object_is_type(o, json_type_object)) {
		copy(row->secret_id, sizeof(row->secret_id), o, "id");
		copy(row->secret_name, sizeof(row->secret_name), o, "name");
		copy(row->variant, sizeof(row->variant), o, "variant");
	}
	o = get(root, "artifact");
	if (json_object_is_type(o, json_type_object)) {
		copy(row->artifact_type, sizeof(row->artifact_type), o, "type");
		artifact_label(o, row);
	}
	o = get(root, "session");
	if (json_object_is_type(o, json_type_object)) {
		row->session_id = num(o, "id");
		copy(row->agent, sizeof(row->agent), o, "agent");
		row->root_pid = (uint32_t)num(o, "root_pid");
		copy(row->root_exe, sizeof(row->root_exe), o, "root_exe");
	}
	o = get(root, "process");
	if (json_object_is_type(o, json_type_object)) {
		row->pid = (uint32_t)num(o, "pid");
		copy(row->comm, sizeof(row->comm), o, "comm");
		copy(row->exe, sizeof(row->exe), o, "exe");
	}
	o = get(root, "origin");
	if (json_object_is_type(o, json_type_object))
		copy(row->origin, sizeof(row->origin), o, "path");
	row->count = num(root, "count");
	o = get(root, "first_seen");
	row->first_seen = json_object_is_type(o, json_type_boolean) && json_object_get_boolean(o);
	json_object_put(root);
	return 0;
}
