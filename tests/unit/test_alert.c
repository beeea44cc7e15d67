// SPDX-License-Identifier: Apache-2.0
/* Alert encoders: the JSON is parsed back (by a strict test-only reader below) and every field
 * is checked; hostile strings round-trip; the OCSF encoding is checked field by field against
 * tests/ocsf/detection_finding.json (the OCSF 1.3.0 class description). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "alert.h"
#include "frameworks.h"

/* ---- a strict, test-only JSON reader (RFC 8259) ---- */

enum jt { J_NULL, J_BOOL, J_INT, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jt t;
	int b;
	long long i;
	char *s;  /* decoded UTF-8 */
	size_t n; /* items / members */
	struct jv **items;
	char **keys;
};

struct jp {
	const char *p, *end;
	int err;
	int depth;
};

static void jv_free(struct jv *v)
{
	size_t k;

	if (!v)
		return;
	for (k = 0; k < v->n; k++) {
		jv_free(v->items[k]);
		if (v->keys)
			free(v->keys[k]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	free(v);
}

static void ws(struct jp *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
		p->p++;
}

static void put_utf8(char **o, size_t *len, size_t *cap, uint32_t cp)
{
	char b[4];
	size_t n, k;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	for (k = 0; k < n; k++) {
		if (*len + 1 >= *cap) {
			*cap = *cap * 2 + 16;
			*o = realloc(*o, *cap);
		}
		(*o)[(*len)++] = b[k];
	}
	(*o)[*len] = '\0';
}

static int hex4(struct jp *p, uint32_t *v)
{
	int k;

	*v = 0;
	if (p->end - p->p < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		char c = *p->p++;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static char *jstr(struct jp *p)
{
	size_t len = 0, cap = 16;
	char *o = calloc(1, cap);

	if (p->p >= p->end || *p->p != '"')
		goto bad;
	p->p++;
	while (p->p < p->end && *p->p != '"') {
		unsigned char c = (unsigned char)*p->p;

		if (c < 0x20)
			goto bad; /* raw control characters are not JSON */
		if (c == '\\') {
			uint32_t cp, lo;

			p->p++;
			if (p->p >= p->end)
				goto bad;
			c = (unsigned char)*p->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				put_utf8(&o, &len, &cap, c);
				break;
			case 'n':
				put_utf8(&o, &len, &cap, '\n');
				break;
			case 't':
				put_utf8(&o, &len, &cap, '\t');
				break;
			case 'r':
				put_utf8(&o, &len, &cap, '\r');
				break;
			case 'b':
				put_utf8(&o, &len, &cap, '\b');
				break;
			case 'f':
				put_utf8(&o, &len, &cap, '\f');
				break;
			case 'u':
				if (hex4(p, &cp))
					goto bad;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (p->end - p->p < 6 || p->p[0] != '\\' || p->p[1] != 'u')
						goto bad;
					p->p += 2;
					if (hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
						goto bad;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					goto bad;
				}
				put_utf8(&o, &len, &cap, cp);
				break;
			default:
				goto bad;
			}
			continue;
		}
		if (len + 1 >= cap) {
			cap *= 2;
			o = realloc(o, cap);
		}
		o[len++] = (char)c;
		o[len] = '\0';
		p->p++;
	}
	if (p->p >= p->end)
		goto bad;
	p->p++;
	return o;
bad:
	free(o);
	p->err = 1;
	return NULL;
}

static struct jv *jparse(struct jp *p);

static void jadd(struct jv *v, struct jv *item, char *key)
{
	v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
	if (v->t == J_OBJ) {
		v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
		v->keys[v->n] = key;
	}
	v->items[v->n++] = item;
}

static struct jv *jparse(struct jp *p)
{
	struct jv *v = calloc(1, sizeof(*v));

	ws(p);
	if (p->p >= p->end || ++p->depth > 64)
		goto bad;
	if (*p->p == '{' || *p->p == '[') {
		char close = *p->p == '{' ? '}' : ']';

		v->t = *p->p == '{' ? J_OBJ : J_ARR;
		p->p++;
		ws(p);
		if (p->p < p->end && *p->p == close) {
			p->p++;
			goto done;
		}
		for (;;) {
			char *key = NULL;
			struct jv *item;

			ws(p);
			if (v->t == J_OBJ) {
				key = jstr(p);
				if (!key)
					goto bad;
				ws(p);
				if (p->p >= p->end || *p->p != ':') {
					free(key);
					goto bad;
				}
				p->p++;
			}
			item = jparse(p);
			if (!item) {
				free(key);
				goto bad;
			}
			jadd(v, item, key);
			ws(p);
			if (p->p < p->end && *p->p == ',') {
				p->p++;
				continue;
			}
			if (p->p < p->end && *p->p == close) {
				p->p++;
				break;
			}
			goto bad;
		}
	} else if (*p->p == '"') {
		v->t = J_STR;
		v->s = jstr(p);
		if (!v->s)
			goto bad;
	} else if (p->end - p->p >= 4 && !strncmp(p->p, "true", 4)) {
		v->t = J_BOOL;
		v->b = 1;
		p->p += 4;
	} else if (p->end - p->p >= 5 && !strncmp(p->p, "false", 5)) {
		v->t = J_BOOL;
		p->p += 5;
	} else if (p->end - p->p >= 4 && !strncmp(p->p, "null", 4)) {
		v->t = J_NULL;
		p->p += 4;
	} else if (*p->p == '-' || (*p->p >= '0' && *p->p <= '9')) {
		const char *s = p->p;
		int frac = 0;

		if (*p->p == '-')
			p->p++;
		if (p->p >= p->end || *p->p < '0' || *p->p > '9')
			goto bad;
		if (*p->p == '0' && p->p + 1 < p->end && p->p[1] >= '0' && p->p[1] <= '9')
			goto bad;
		while (p->p < p->end &&
		       ((*p->p >= '0' && *p->p <= '9') || *p->p == '.' || *p->p == 'e' ||
			*p->p == 'E' || *p->p == '+' || (*p->p == '-' && p->p > s)))
			frac |= (*p->p == '.' || *p->p == 'e' || *p->p == 'E'), p->p++;
		v->t = frac ? J_NUM : J_INT;
		v->i = strtoll(s, NULL, 10);
	} else {
		goto bad;
	}
done:
	p->depth--;
	return v;
bad:
	p->err = 1;
	jv_free(v);
	return NULL;
}

static struct jv *json_parse(const char *s, size_t len)
{
	struct jp p = {s, s + len, 0, 0};
	struct jv *v = jparse(&p);

	if (v) {
		ws(&p);
		if (p.p != p.end || p.err) {
			jv_free(v);
			return NULL;
		}
	}
	return v;
}

static struct jv *get(const struct jv *o, const char *key)
{
	size_t k;

	if (!o || o->t != J_OBJ)
		return NULL;
	for (k = 0; k < o->n; k++)
		if (!strcmp(o->keys[k], key))
			return o->items[k];
	return NULL;
}

static const char *gs(const struct jv *o, const char *key)
{
	struct jv *v = get(o, key);

	assert_non_null(v);
	assert_int_equal(v->t, J_STR);
	return v->s;
}

static long long gi(const struct jv *o, const char *key)
{
	struct jv *v = get(o, key);

	assert_non_null(v);
	assert_int_equal(v->t, J_INT);
	return v->i;
}

/* The object's keys are exactly the given ones (NULL-terminated), in any order. */
static void keys_exactly(const struct jv *o, ...)
{
	va_list ap;
	size_t want = 0;
	const char *k;

	assert_non_null(o);
	assert_int_equal(o->t, J_OBJ);
	va_start(ap, o);
	while ((k = va_arg(ap, const char *))) {
		if (!get(o, k))
			fail_msg("missing key %s", k);
		want++;
	}
	va_end(ap);
	if (o->n != want) {
		size_t i;

		for (i = 0; i < o->n; i++)
			print_message("  key: %s\n", o->keys[i]);
		fail_msg("object has %zu keys, expected %zu", o->n, want);
	}
}

static int valid_utf8(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80		      ? 1
			     : c >= 0xc2 && c <= 0xdf ? 2
			     : c >= 0xe0 && c <= 0xef ? 3
			     : c >= 0xf0 && c <= 0xf4 ? 4
						      : 0;
		size_t k;

		if (!len || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

/* ---- fixtures ---- */

#define T_US 1795975200123456ull /* 2026-11-29T18:00:00.123456Z */

static const char *const argv_fixture[] = {"python3", "gen.py", "--out", "config.yaml"};

static void base_alert(struct sw_alert *a, enum sw_alert_kind kind)
{
	uint32_t i;

	memset(a, 0, sizeof(*a));
	a->time_us = T_US;
	a->kind = (uint8_t)kind;
	a->severity = SW_SEV_HIGH;
	snprintf(a->host, sizeof(a->host), "dev1");
	a->has_secret = 1;
	snprintf(a->secret_id, sizeof(a->secret_id), "9f2c00112233aabb");
	snprintf(a->secret_name, sizeof(a->secret_name), "OPENAI_KEY");
	snprintf(a->variant, sizeof(a->variant), "base64");
	a->has_artifact = 1;
	a->artifact.type = SW_ART_FILE;
	snprintf(a->artifact.path, sizeof(a->artifact.path), "/home/u/proj/config.yaml");
	a->artifact.dev = 2049;
	a->artifact.ino = 131074;
	a->has_process = 1;
	a->process.pid = 4242;
	a->process.ppid = 4100;
	a->process.uid = 1000;
	snprintf(a->process.comm, sizeof(a->process.comm), "python3");
	snprintf(a->process.exe, sizeof(a->process.exe), "/usr/bin/python3");
	a->process.argc = 4;
	for (i = 0; i < 4; i++)
		a->process.argv[i] = argv_fixture[i];
	a->has_session = 1;
	a->session.id = 7;
	snprintf(a->session.agent, sizeof(a->session.agent), "claude");
	a->session.root_pid = 4000;
	snprintf(a->session.root_exe, sizeof(a->session.root_exe), "/usr/local/bin/claude");
	a->first_seen = 1;
	a->has_origin = 1;
	snprintf(a->origin_path, sizeof(a->origin_path), "/home/u/proj/.env");
	a->count = 1;
}

static struct jv *encode(const struct sw_alert *a, int ocsf, char **text)
{
	int n = ocsf ? sw_alert__ocsf(a, NULL, 0) : sw_alert__json(a, NULL, 0);
	char *buf;
	struct jv *v;

	assert_true(n > 0);
	buf = malloc((size_t)n + 1);
	assert_int_equal(ocsf ? sw_alert__ocsf(a, buf, (size_t)n + 1)
			      : sw_alert__json(a, buf, (size_t)n + 1),
			 n);
	assert_int_equal(strlen(buf), (size_t)n);
	assert_true(valid_utf8(buf, (size_t)n));
	assert_null(memchr(buf, '\n', (size_t)n));
	v = json_parse(buf, (size_t)n);
	if (!v)
		fail_msg("not JSON: %s", buf);
	if (text)
		*text = buf;
	else
		free(buf);
	return v;
}

/* ---- JSON schema ---- */

static void test_json_spread_file_all_fields(void **state)
{
	struct sw_alert a;
	struct jv *v, *o, *argv;
	size_t i;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	v = encode(&a, 0, NULL);
	keys_exactly(v, "time", "kind", "severity", "host", "secret", "artifact", "process",
		     "session", "first_seen", "origin", "count", "frameworks", NULL);
	assert_string_equal(gs(v, "time"), "2026-11-29T18:00:00.123456Z");
	assert_string_equal(gs(v, "kind"), "secret_spread");
	assert_string_equal(gs(v, "severity"), "high");
	assert_string_equal(gs(v, "host"), "dev1");

	o = get(v, "secret");
	keys_exactly(o, "id", "name", "variant", NULL);
	assert_string_equal(gs(o, "id"), "9f2c00112233aabb");
	assert_string_equal(gs(o, "name"), "OPENAI_KEY");
	assert_string_equal(gs(o, "variant"), "base64");

	o = get(v, "artifact");
	keys_exactly(o, "type", "path", "dev", "ino", NULL);
	assert_string_equal(gs(o, "type"), "file");
	assert_string_equal(gs(o, "path"), "/home/u/proj/config.yaml");
	assert_int_equal(gi(o, "dev"), 2049);
	assert_int_equal(gi(o, "ino"), 131074);

	o = get(v, "process");
	keys_exactly(o, "pid", "ppid", "uid", "comm", "exe", "argv", NULL);
	assert_int_equal(gi(o, "pid"), 4242);
	assert_int_equal(gi(o, "ppid"), 4100);
	assert_int_equal(gi(o, "uid"), 1000);
	assert_string_equal(gs(o, "comm"), "python3");
	assert_string_equal(gs(o, "exe"), "/usr/bin/python3");
	argv = get(o, "argv");
	assert_int_equal(argv->t, J_ARR);
	assert_int_equal(argv->n, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(argv->items[i]->t, J_STR);
		assert_string_equal(argv->items[i]->s, argv_fixture[i]);
	}

	o = get(v, "session");
	keys_exactly(o, "id", "agent", "root_pid", "root_exe", NULL);
	assert_int_equal(gi(o, "id"), 7);
	assert_string_equal(gs(o, "agent"), "claude");
	assert_int_equal(gi(o, "root_pid"), 4000);
	assert_string_equal(gs(o, "root_exe"), "/usr/local/bin/claude");

	assert_int_equal(get(v, "first_seen")->t, J_BOOL);
	assert_true(get(v, "first_seen")->b);
	o = get(v, "origin");
	keys_exactly(o, "type", "path", NULL);
	assert_string_equal(gs(o, "type"), "file");
	assert_string_equal(gs(o, "path"), "/home/u/proj/.env");
	assert_int_equal(gi(v, "count"), 1);
	jv_free(v);

	/* Optional pieces: length, message, first_seen false. */
	a.secret_len = 51;
	a.first_seen = 0;
	a.count = 3;
	snprintf(a.message, sizeof(a.message), "seen again");
	v = encode(&a, 0, NULL);
	assert_int_equal(gi(get(v, "secret"), "length"), 51);
	assert_false(get(v, "first_seen")->b);
	assert_int_equal(gi(v, "count"), 3);
	assert_string_equal(gs(v, "message"), "seen again");
	jv_free(v);
}

static void test_json_artifact_types(void **state)
{
	struct sw_alert a;
	struct jv *v, *o;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	memset(&a.artifact, 0, sizeof(a.artifact));

	a.artifact.type = SW_ART_SOCKET;
	snprintf(a.artifact.proto, sizeof(a.artifact.proto), "tcp");
	snprintf(a.artifact.peer, sizeof(a.artifact.peer), "93.184.216.34:443");
	v = encode(&a, 0, NULL);
	o = get(v, "artifact");
	keys_exactly(o, "type", "proto", "peer", NULL);
	assert_string_equal(gs(o, "type"), "socket");
	assert_string_equal(gs(o, "proto"), "tcp");
	assert_string_equal(gs(o, "peer"), "93.184.216.34:443");
	jv_free(v);

	memset(&a.artifact, 0, sizeof(a.artifact));
	a.artifact.type = SW_ART_EXEC_ARG;
	snprintf(a.artifact.path, sizeof(a.artifact.path), "/usr/bin/curl");
	a.artifact.index = 3;
	v = encode(&a, 0, NULL);
	o = get(v, "artifact");
	keys_exactly(o, "type", "path", "index", NULL);
	assert_string_equal(gs(o, "type"), "exec_arg");
	assert_string_equal(gs(o, "path"), "/usr/bin/curl");
	assert_int_equal(gi(o, "index"), 3);
	jv_free(v);

	memset(&a.artifact, 0, sizeof(a.artifact));
	a.artifact.type = SW_ART_EXEC_ENV;
	snprintf(a.artifact.path, sizeof(a.artifact.path), "/usr/bin/node");
	snprintf(a.artifact.name, sizeof(a.artifact.name), "API_TOKEN");
	v = encode(&a, 0, NULL);
	o = get(v, "artifact");
	keys_exactly(o, "type", "path", "name", NULL);
	assert_string_equal(gs(o, "type"), "exec_env");
	assert_string_equal(gs(o, "name"), "API_TOKEN");
	jv_free(v);

	memset(&a.artifact, 0, sizeof(a.artifact));
	a.artifact.type = SW_ART_PIPE;
	a.artifact.reader_pid = 4000;
	snprintf(a.artifact.reader_exe, sizeof(a.artifact.reader_exe), "/usr/local/bin/claude");
	v = encode(&a, 0, NULL);
	o = get(v, "artifact");
	keys_exactly(o, "type", "reader_pid", "reader_exe", NULL);
	assert_string_equal(gs(o, "type"), "pipe");
	assert_int_equal(gi(o, "reader_pid"), 4000);
	assert_string_equal(gs(o, "reader_exe"), "/usr/local/bin/claude");
	jv_free(v);

	memset(&a.artifact, 0, sizeof(a.artifact));
	a.artifact.type = SW_ART_TTY;
	v = encode(&a, 0, NULL);
	keys_exactly(get(v, "artifact"), "type", NULL);
	jv_free(v);
	snprintf(a.artifact.path, sizeof(a.artifact.path), "/dev/pts/3");
	v = encode(&a, 0, NULL);
	keys_exactly(get(v, "artifact"), "type", "path", NULL);
	assert_string_equal(gs(get(v, "artifact"), "path"), "/dev/pts/3");
	jv_free(v);

	memset(&a.artifact, 0, sizeof(a.artifact));
	a.artifact.type = SW_ART_TLS;
	snprintf(a.artifact.peer, sizeof(a.artifact.peer), "[2001:db8::1]:443");
	snprintf(a.artifact.sni, sizeof(a.artifact.sni), "api.example.com");
	v = encode(&a, 0, NULL);
	o = get(v, "artifact");
	keys_exactly(o, "type", "peer", "sni", NULL);
	assert_string_equal(gs(o, "type"), "tls");
	assert_string_equal(gs(o, "peer"), "[2001:db8::1]:443");
	assert_string_equal(gs(o, "sni"), "api.example.com");
	jv_free(v);
}

static void test_json_gap_channel_message(void **state)
{
	struct sw_alert a;
	struct jv *v, *g;

	memset(&a, 0, sizeof(a));
	a.time_us = T_US;
	a.kind = SW_ALERT_COVERAGE_GAP;
	a.severity = SW_SEV_HIGH;
	snprintf(a.host, sizeof(a.host), "dev1");
	a.ngaps = 2;
	snprintf(a.gaps[0].what, sizeof(a.gaps[0].what), "ringbuf_full");
	a.gaps[0].count = 12;
	snprintf(a.gaps[1].what, sizeof(a.gaps[1].what), "truncated");
	a.gaps[1].count = 3;
	snprintf(a.message, sizeof(a.message), "15 events lost");
	v = encode(&a, 0, NULL);
	keys_exactly(v, "time", "kind", "severity", "host", "gaps", "message", "frameworks", NULL);
	g = get(v, "gaps");
	keys_exactly(g, "ringbuf_full", "truncated", NULL);
	assert_int_equal(gi(g, "ringbuf_full"), 12);
	assert_int_equal(gi(g, "truncated"), 3);
	assert_string_equal(gs(v, "message"), "15 events lost");
	jv_free(v);

	memset(&a, 0, sizeof(a));
	a.time_us = T_US;
	a.kind = SW_ALERT_UNMONITORED_CHANNEL;
	a.severity = SW_SEV_MEDIUM;
	snprintf(a.host, sizeof(a.host), "dev1");
	snprintf(a.channel, sizeof(a.channel), "io_uring");
	a.has_session = 1;
	a.session.id = 9;
	v = encode(&a, 0, NULL);
	keys_exactly(v, "time", "kind", "severity", "host", "session", "channel", "frameworks",
		     NULL);
	assert_string_equal(gs(v, "channel"), "io_uring");
	assert_string_equal(gs(v, "kind"), "unmonitored_channel");
	jv_free(v);
}

static int has_ref(const struct jv *fw, const char *framework, const char *id)
{
	size_t i;

	for (i = 0; i < fw->n; i++)
		if (!strcmp(gs(fw->items[i], "framework"), framework) &&
		    !strcmp(gs(fw->items[i], "id"), id))
			return 1;
	return 0;
}

static void test_json_frameworks(void **state)
{
	struct sw_alert a;
	struct jv *v, *fw;
	size_t i;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	a.artifact.type = SW_ART_SOCKET;
	v = encode(&a, 0, NULL);
	fw = get(v, "frameworks");
	assert_int_equal(fw->t, J_ARR);
	assert_true(has_ref(fw, "owasp_asi_2026", "ASI03"));
	assert_true(has_ref(fw, "owasp_asi_2026", "ASI02"));
	assert_true(has_ref(fw, "csa_maestro", "L2"));
	for (i = 0; i < fw->n; i++) {
		struct jv *r = fw->items[i];

		if (!strcmp(gs(r, "framework"), "csa_maestro"))
			keys_exactly(r, "framework", "id", "name", "threat", NULL);
		else
			keys_exactly(r, "framework", "id", "name", NULL);
	}
	jv_free(v);

	/* Every kind maps to something, and every OWASP id is one of ASI01..ASI10. */
	for (i = 0; i < SW_ALERT__COUNT; i++) {
		const struct sw_framework_ref *refs[SW_FRAMEWORKS_MAX];
		size_t n = sw_frameworks__for((enum sw_alert_kind)i, SW_ART__COUNT, refs,
					      SW_FRAMEWORKS_MAX),
		       k;

		assert_true(n >= 1);
		for (k = 0; k < n; k++) {
			if (!strcmp(refs[k]->framework, "owasp_asi_2026")) {
				int num = atoi(refs[k]->id + 3);

				assert_memory_equal(refs[k]->id, "ASI", 3);
				assert_true(num >= 1 && num <= 10);
				assert_null(refs[k]->threat);
			} else {
				assert_string_equal(refs[k]->framework, "csa_maestro");
				assert_non_null(refs[k]->threat);
			}
		}
	}
}

/* Attacker-chosen bytes in every string field round-trip or become U+FFFD, never break JSON. */
static void test_json_hostile_strings(void **state)
{
	static const char hostile[] = "/tmp/a\"b\\c\nd\te\x01"
				      "f\x7f"
				      "g\xff"
				      "h\xc0\xaf"
				      "i\xed\xa0\x80"
				      "j\xe2\x82"
				      "k\xe2\x80\xa8"
				      "l\xc3\xa9"
				      "m\xf0\x9f\x94\x91"
				      "n</script>";
	static const char expect[] = "/tmp/a\"b\\c\nd\te\x01"
				     "f\x7f"
				     "g\xef\xbf\xbd"
				     "h\xef\xbf\xbd\xef\xbf\xbd"
				     "i\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				     "j\xef\xbf\xbd\xef\xbf\xbd"
				     "k\xe2\x80\xa8"
				     "l\xc3\xa9"
				     "m\xf0\x9f\x94\x91"
				     "n</script>";
	const char *argv1[2] = {hostile, hostile};
	struct sw_alert a;
	char *text;
	struct jv *v;
	size_t i;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	snprintf(a.artifact.path, sizeof(a.artifact.path), "%s", hostile);
	snprintf(a.host, sizeof(a.host), "%s", hostile);
	snprintf(a.secret_name, sizeof(a.secret_name), "%s", hostile);
	snprintf(a.process.exe, sizeof(a.process.exe), "%s", hostile);
	snprintf(a.session.agent, sizeof(a.session.agent), "%s", hostile);
	snprintf(a.origin_path, sizeof(a.origin_path), "%s", hostile);
	snprintf(a.message, sizeof(a.message), "%s", hostile);
	a.process.argc = 2;
	a.process.argv[0] = argv1[0];
	a.process.argv[1] = argv1[1];
	v = encode(&a, 0, &text);
	/* No raw control byte, DEL or line separator reaches the output. */
	for (i = 0; text[i]; i++)
		assert_true((unsigned char)text[i] >= 0x20 && text[i] != 0x7f);
	assert_null(strstr(text, "\xe2\x80\xa8"));
	assert_string_equal(gs(get(v, "artifact"), "path"), expect);
	assert_string_equal(gs(v, "host"), expect);
	assert_string_equal(gs(get(v, "secret"), "name"), expect);
	assert_string_equal(gs(get(v, "process"), "exe"), expect);
	assert_string_equal(get(get(v, "process"), "argv")->items[1]->s, expect);
	assert_string_equal(gs(get(v, "session"), "agent"), expect);
	assert_string_equal(gs(get(v, "origin"), "path"), expect);
	assert_string_equal(gs(v, "message"), expect);
	jv_free(v);
	free(text);

	/* The OCSF encoding of the same alert is valid JSON too. */
	v = encode(&a, 1, NULL);
	jv_free(v);
}

/* A field filled to its last byte without a NUL is read only up to its size. */
static void test_json_unterminated_fields(void **state)
{
	struct sw_alert a;
	struct jv *v;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	memset(a.artifact.path, 'p', sizeof(a.artifact.path));
	memset(a.process.comm, 'c', sizeof(a.process.comm));
	memset(a.host, 'h', sizeof(a.host));
	v = encode(&a, 0, NULL);
	assert_int_equal(strlen(gs(get(v, "artifact"), "path")), sizeof(a.artifact.path));
	assert_int_equal(strlen(gs(get(v, "process"), "comm")), sizeof(a.process.comm));
	assert_int_equal(strlen(gs(v, "host")), sizeof(a.host));
	jv_free(v);
}

static void test_json_snprintf_convention(void **state)
{
	struct sw_alert a;
	char small[40], *full;
	int n;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	n = sw_alert__json(&a, small, sizeof(small));
	assert_true(n > (int)sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	full = malloc((size_t)n + 1);
	assert_int_equal(sw_alert__json(&a, full, (size_t)n + 1), n);
	assert_memory_equal(small, full, sizeof(small) - 1);
	/* One byte short: truncated, still terminated. */
	assert_int_equal(sw_alert__json(&a, full, (size_t)n), n);
	assert_int_equal(strlen(full), (size_t)n - 1);
	free(full);
	assert_int_equal(sw_alert__json(NULL, small, sizeof(small)), -EINVAL);
}

/* exec_arg: the argument that held the secret never reaches the alert. */
static void test_json_exec_arg_redacted(void **state)
{
	unsigned char rnd[24];
	char value[64];
	const char *argv2[3];
	struct sw_alert a;
	char *text;
	struct jv *v;
	size_t i;

	randombytes_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		value[i] = (char)('a' + rnd[i] % 26);
	value[sizeof(rnd)] = '\0';
	argv2[0] = "curl";
	argv2[1] = "-H";
	argv2[2] = value;
	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	a.artifact.type = SW_ART_EXEC_ARG;
	a.artifact.index = 2;
	a.process.argc = 3;
	memcpy(a.process.argv, argv2, sizeof(argv2));
	v = encode(&a, 0, &text);
	assert_null(strstr(text, value));
	assert_string_equal(get(get(v, "process"), "argv")->items[2]->s, "[redacted]");
	assert_string_equal(get(get(v, "process"), "argv")->items[1]->s, "-H");
	jv_free(v);
	free(text);
	v = encode(&a, 1, &text);
	assert_null(strstr(text, value));
	jv_free(v);
	free(text);
}

static void test_time_format(void **state)
{
	char ts[SW_ALERT_TIME_LEN];

	sw_alert__format_time(T_US, ts);
	assert_string_equal(ts, "2026-11-29T18:00:00.123456Z");
	sw_alert__format_time(0, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00.000000Z");
	sw_alert__format_time(7, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00.000007Z");
	sw_alert__format_time(UINT64_MAX, ts);
	assert_int_equal(strlen(ts), 27);
}

static void test_kind_and_severity_names(void **state)
{
	assert_string_equal(sw_alert__severity_name(SW_SEV_CRITICAL), "critical");
	assert_string_equal(sw_alert__kind_name(SW_ALERT_RATE_LIMITED), "rate_limited");
	assert_string_equal(sw_alert__kind_name(SW_ALERT__COUNT), "unknown");
}

/* ---- OCSF ---- */

static struct jv *ocsf_desc;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int load_desc(void **state)
{
	const char *dir = getenv("SW_SRCDIR");
	char path[4096];
	size_t len;
	char *text;

	/* Run from the repository root (make unit) or point SW_SRCDIR at it. */
	snprintf(path, sizeof(path), "%s/tests/ocsf/detection_finding.json", dir ? dir : ".");
	text = slurp(path, &len);
	if (!text)
		return -1;
	ocsf_desc = json_parse(text, len);
	free(text);
	return ocsf_desc ? 0 : -1;
}

static int free_desc(void **state)
{
	jv_free(ocsf_desc);
	return 0;
}

static const char *json_type_of(const struct jv *v)
{
	switch (v->t) {
	case J_STR:
		return "string";
	case J_INT:
		return "integer";
	case J_NUM:
		return "number";
	case J_BOOL:
		return "boolean";
	case J_OBJ:
		return "object";
	case J_ARR:
		return "array";
	default:
		return "null";
	}
}

static void check_value(const char *where, const struct jv *spec, const struct jv *val);

/* Every member of obj is described by attrs with the right type; every required one is set. */
static void check_object(const char *where, const struct jv *attrs, const struct jv *obj)
{
	char path[512];
	size_t i;

	assert_non_null(attrs);
	if (obj->t != J_OBJ)
		fail_msg("%s: expected an object, got %s", where, json_type_of(obj));
	for (i = 0; i < obj->n; i++) {
		const struct jv *spec = get(attrs, obj->keys[i]);

		snprintf(path, sizeof(path), "%.300s.%.200s", where, obj->keys[i]);
		if (!spec)
			fail_msg("%s: not an attribute of the OCSF description", path);
		check_value(path, spec, obj->items[i]);
	}
	for (i = 0; i < attrs->n; i++) {
		const char *req = gs(attrs->items[i], "requirement");

		if (!strcmp(req, "required") && !get(obj, attrs->keys[i]))
			fail_msg("%s: required attribute %s missing", where, attrs->keys[i]);
	}
}

static void check_scalar(const char *where, const struct jv *spec, const struct jv *val)
{
	const char *type = gs(spec, "type");
	const char *want = gs(get(ocsf_desc, "json_types"), type);
	const struct jv *ot;

	if (!strcmp(want, "any"))
		return;
	if (strcmp(want, json_type_of(val)))
		fail_msg("%s: OCSF type %s wants JSON %s, got %s", where, type, want,
			 json_type_of(val));
	ot = get(spec, "object_type");
	if (ot && val->t == J_OBJ)
		check_object(where, get(get(ocsf_desc, "objects"), ot->s), val);
}

static void check_value(const char *where, const struct jv *spec, const struct jv *val)
{
	const struct jv *arr = get(spec, "is_array");
	char path[600];
	size_t i;

	if (arr && arr->b) {
		if (val->t != J_ARR)
			fail_msg("%s: expected an array", where);
		for (i = 0; i < val->n; i++) {
			snprintf(path, sizeof(path), "%.500s[%zu]", where, i);
			check_scalar(path, spec, val->items[i]);
		}
		return;
	}
	check_scalar(where, spec, val);
}

static void check_ocsf(const struct sw_alert *a)
{
	struct jv *v = encode(a, 1, NULL);

	check_object("finding", get(get(ocsf_desc, "class"), "attributes"), v);
	assert_int_equal(gi(v, "class_uid"), 2004);
	assert_int_equal(gi(v, "category_uid"), 2);
	assert_int_equal(gi(v, "activity_id"), 1);
	assert_int_equal(gi(v, "type_uid"), 200401);
	assert_int_equal(gi(v, "time"), (long long)(a->time_us / 1000));
	assert_int_equal(gi(v, "severity_id"), a->severity + 1);
	assert_string_equal(gs(get(v, "metadata"), "version"), SW_OCSF_VERSION);
	assert_string_equal(gs(get(get(v, "metadata"), "product"), "name"), "sprawlwatch");
	assert_int_equal(strlen(gs(get(v, "finding_info"), "uid")), 32);
	assert_string_equal(get(get(v, "finding_info"), "types")->items[0]->s,
			    sw_alert__kind_name(a->kind));
	assert_string_equal(gs(get(v, "unmapped"), "kind"), sw_alert__kind_name(a->kind));
	assert_non_null(get(get(v, "unmapped"), "frameworks"));
	jv_free(v);
}

static void test_ocsf_against_schema(void **state)
{
	static const unsigned int types[] = {SW_ART_FILE,     SW_ART_SOCKET, SW_ART_EXEC_ARG,
					     SW_ART_EXEC_ENV, SW_ART_PIPE,   SW_ART_TTY,
					     SW_ART_TLS};
	struct sw_alert a;
	struct jv *v, *ev;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		base_alert(&a, SW_ALERT_SECRET_SPREAD);
		memset(&a.artifact, 0, sizeof(a.artifact));
		a.artifact.type = (uint8_t)types[i];
		snprintf(a.artifact.path, sizeof(a.artifact.path), "/home/u/x");
		snprintf(a.artifact.proto, sizeof(a.artifact.proto), "tcp");
		snprintf(a.artifact.peer, sizeof(a.artifact.peer), "10.0.0.1:8443");
		snprintf(a.artifact.sni, sizeof(a.artifact.sni), "api.example.com");
		snprintf(a.artifact.reader_exe, sizeof(a.artifact.reader_exe), "/bin/agent");
		a.severity = (uint8_t)(i % 5);
		check_ocsf(&a);
	}
	for (i = 0; i < SW_ALERT__COUNT; i++) {
		memset(&a, 0, sizeof(a));
		a.time_us = T_US;
		a.kind = (uint8_t)i;
		snprintf(a.host, sizeof(a.host), "dev1");
		a.ngaps = 1;
		snprintf(a.gaps[0].what, sizeof(a.gaps[0].what), "ringbuf_full");
		a.gaps[0].count = 5;
		check_ocsf(&a);
	}

	/* The pieces SIEMs pivot on. */
	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	a.artifact.type = SW_ART_TLS;
	snprintf(a.artifact.peer, sizeof(a.artifact.peer), "[2001:db8::1]:443");
	snprintf(a.artifact.sni, sizeof(a.artifact.sni), "api.example.com");
	v = encode(&a, 1, NULL);
	ev = get(v, "evidences")->items[0];
	assert_string_equal(gs(get(ev, "dst_endpoint"), "ip"), "2001:db8::1");
	assert_int_equal(gi(get(ev, "dst_endpoint"), "port"), 443);
	assert_string_equal(gs(get(ev, "dst_endpoint"), "hostname"), "api.example.com");
	assert_int_equal(gi(get(ev, "process"), "pid"), 4242);
	assert_string_equal(gs(get(ev, "process"), "cmd_line"), "python3 gen.py --out config.yaml");
	assert_string_equal(gs(get(get(ev, "process"), "user"), "uid"), "1000");
	assert_string_equal(gs(get(ev, "device"), "hostname"), "dev1");
	assert_string_equal(gs(get(get(v, "unmapped"), "secret"), "name"), "OPENAI_KEY");
	jv_free(v);

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	v = encode(&a, 1, NULL);
	ev = get(v, "evidences")->items[0];
	assert_string_equal(gs(get(ev, "file"), "path"), "/home/u/proj/config.yaml");
	assert_string_equal(gs(get(ev, "file"), "name"), "config.yaml");
	assert_string_equal(gs(get(ev, "file"), "uid"), "2049:131074");
	assert_string_equal(gs(get(v, "resources")->items[0], "uid"), "file:2049:131074:0");
	jv_free(v);
}

/* A process in a container: the cgroup path and the container's runtime and id, in the JSON
 * (additions beside process) and in OCSF (process.container; the cgroup under unmapped). */
static void test_cgroup_container(void **state)
{
	static const char cg[] =
		"/system.slice/docker-"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope";
	struct sw_alert a;
	struct jv *v, *o, *ev;

	base_alert(&a, SW_ALERT_SECRET_SPREAD);
	sw_alert__set_cgroup(&a, cg);
	v = encode(&a, 0, NULL);
	keys_exactly(v, "time", "kind", "severity", "host", "secret", "artifact", "process",
		     "cgroup", "container", "session", "first_seen", "origin", "count",
		     "frameworks", NULL);
	assert_string_equal(gs(v, "cgroup"), cg);
	o = get(v, "container");
	keys_exactly(o, "id", "runtime", NULL);
	assert_string_equal(gs(o, "id"),
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_string_equal(gs(o, "runtime"), "docker");
	jv_free(v);

	check_ocsf(&a);
	v = encode(&a, 1, NULL);
	ev = get(v, "evidences")->items[0];
	assert_string_equal(gs(get(get(ev, "process"), "container"), "runtime"), "docker");
	assert_string_equal(gs(get(v, "unmapped"), "cgroup"), cg);
	jv_free(v);

	/* Not in a container: the cgroup alone. */
	sw_alert__set_cgroup(&a, "/user.slice/user-1000.slice/session-2.scope");
	v = encode(&a, 0, NULL);
	assert_string_equal(gs(v, "cgroup"), "/user.slice/user-1000.slice/session-2.scope");
	assert_null(get(v, "container"));
	jv_free(v);
	/* Unknown: neither. */
	sw_alert__set_cgroup(&a, NULL);
	v = encode(&a, 0, NULL);
	assert_null(get(v, "cgroup"));
	assert_null(get(v, "container"));
	jv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cgroup_container, load_desc, free_desc),
		cmocka_unit_test(test_json_spread_file_all_fields),
		cmocka_unit_test(test_json_artifact_types),
		cmocka_unit_test(test_json_gap_channel_message),
		cmocka_unit_test(test_json_frameworks),
		cmocka_unit_test(test_json_hostile_strings),
		cmocka_unit_test(test_json_unterminated_fields),
		cmocka_unit_test(test_json_snprintf_convention),
		cmocka_unit_test(test_json_exec_arg_redacted),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_kind_and_severity_names),
		cmocka_unit_test_setup_teardown(test_ocsf_against_schema, load_desc, free_desc),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
