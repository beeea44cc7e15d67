// SPDX-License-Identifier: Apache-2.0
/* An alert as an OCSF 1.x Detection Finding (the common writer and objects: alert.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <sodium.h>

#include "alert.h"
#include "alert_priv.h"
#include "version.h" /* generated from the Makefile's VERSION */

#define OCSF_CLASS_UID	     2004
#define OCSF_CATEGORY_UID    2
#define OCSF_ACTIVITY_CREATE 1

static unsigned int ocsf_severity_id(unsigned int s)
{
	/* OCSF: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
	return s <= SW_SEV_CRITICAL ? s + 1 : 0;
}

static const char *ocsf_severity_name(unsigned int s)
{
	static const char *const names[] = {"Informational", "Low", "Medium", "High", "Critical"};

	return s <= SW_SEV_CRITICAL ? names[s] : "Unknown";
}

static const char *base_name(const char *path, size_t max)
{
	const char *slash = NULL;
	size_t i;

	for (i = 0; i < max && path[i]; i++)
		if (path[i] == '/')
			slash = path + i;
	return slash && slash[1] ? slash + 1 : path;
}

/* A unique id for the finding, derived from what identifies it (no secret in it). */
static void finding_uid(const struct sw_alert *a, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	crypto_generichash_state st;
	unsigned char d[16];
	uint64_t v[4] = {a->time_us, a->kind, a->process.pid, a->session.id};
	char key[SW_ARTIFACT_KEY_MAX];
	size_t i, klen = 0;

	if (al_has_art(a))
		klen = sw_artifact__key(&a->artifact, key, sizeof(key));
	crypto_generichash_init(&st, NULL, 0, sizeof(d));
	crypto_generichash_update(&st, (const unsigned char *)v, sizeof(v));
	crypto_generichash_update(&st, (const unsigned char *)a->secret_id,
				  strnlen(a->secret_id, sizeof(a->secret_id)));
	crypto_generichash_update(&st, (const unsigned char *)key, klen);
	crypto_generichash_final(&st, d, sizeof(d));
	for (i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[32] = '\0';
}

static const char *art_display(const struct sw_artifact *t)
{
	switch (t->type) {
	case SW_ART_FILE:
	case SW_ART_EXEC_ARG:
	case SW_ART_EXEC_ENV:
		return t->path;
	case SW_ART_SOCKET:
	case SW_ART_TLS:
		return t->peer;
	case SW_ART_PIPE:
		return t->reader_exe;
	case SW_ART_TTY:
		return t->path[0] ? t->path : "tty";
	default:
		return "";
	}
}

static void title(const struct sw_alert *a, char *out, size_t size)
{
	const char *what = al_has_art(a) ? sw_artifact__type_name(a->artifact.type) : "";
	char name[sizeof(a->secret_name)];

	snprintf(name, sizeof(name), "%s", a->secret_name);
	switch (a->kind) {
	case SW_ALERT_SECRET_SPREAD:
		snprintf(out, size, "Secret %s spread to a new %s", name, what);
		break;
	case SW_ALERT_SECRET_EXPOSURE:
		snprintf(out, size, "Agent session read the origin of secret %s", name);
		break;
	case SW_ALERT_SECRET_DISCOVERED:
		snprintf(out, size, "Unregistered secret discovered and tracked as %s", name);
		break;
	case SW_ALERT_COVERAGE_GAP:
		snprintf(out, size, "Monitoring coverage gap: events were lost");
		break;
	case SW_ALERT_UNMONITORED_CHANNEL:
		snprintf(out, size, "Agent session used an unmonitored channel");
		break;
	case SW_ALERT_RATE_LIMITED:
		snprintf(out, size, "Alerts for secret %s were rate limited", name);
		break;
	case SW_ALERT_STATE_WARNING:
		snprintf(out, size, "sprawlwatch state warning");
		break;
	case SW_ALERT_SESSION_SUMMARY:
		snprintf(out, size, "Agent session ended: secrets to rotate or revoke");
		break;
	default:
		snprintf(out, size, "sprawlwatch alert");
	}
}

/* "ip:port" / "[v6]:port" -> validated ip and port; 0 when it is not an address. */
static int split_peer(const char *peer, size_t max, char *ip, size_t ipsz, unsigned int *port)
{
	unsigned char addr[16];
	size_t n = strnlen(peer, max), hl;
	const char *colon = NULL, *h = peer;
	unsigned long p = 0;
	size_t i, digits;

	for (i = 0; i < n; i++)
		if (peer[i] == ':')
			colon = peer + i;
	if (!colon || colon == peer)
		return 0;
	digits = n - (size_t)(colon - peer) - 1;
	if (digits < 1 || digits > 5)
		return 0;
	for (i = 1; colon + i < peer + n; i++) {
		if (colon[i] < '0' || colon[i] > '9')
			return 0;
		p = p * 10 + (unsigned long)(colon[i] - '0');
	}
	if (p > 65535)
		return 0;
	hl = (size_t)(colon - peer);
	if (peer[0] == '[') {
		if (hl < 3 || colon[-1] != ']')
			return 0;
		h = peer + 1;
		hl -= 2;
	}
	if (hl + 1 > ipsz)
		return 0;
	memcpy(ip, h, hl);
	ip[hl] = '\0';
	if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
		return 0;
	*port = (unsigned int)p;
	return 1;
}

static void ocsf_process(struct jw *w, const struct sw_alert *a)
{
	uint32_t i, argc = al_argc_of(a);
	char uid[16];

	jw_ostart(w, "process");
	jw_ku64(w, "pid", a->process.pid);
	jw_kstr(w, "name", a->process.comm);
	if (argc) {
		/* cmd_line is the argv joined by spaces, as OCSF has it; the exact argv is kept
		 * under unmapped. */
		jw_key(w, "cmd_line");
		jw_raw(w, "\"", 1);
		for (i = 0; i < argc; i++) {
			if (i)
				jw_raw(w, " ", 1);
			jw_esc(w, al_arg_at(a, i), SW_ALERT_ARG_MAX);
		}
		jw_raw(w, "\"", 1);
	}
	if (a->process.exe[0]) {
		jw_ostart(w, "file");
		jw_kstrn(w, "name", base_name(a->process.exe, sizeof(a->process.exe)),
			 sizeof(a->process.exe));
		jw_kstr(w, "path", a->process.exe);
		jw_ku64(w, "type_id", 1);
		jw_close(w, '}');
	}
	if (a->has_container) {
		jw_ostart(w, "container");
		jw_kstr(w, "uid", a->container.id);
		jw_kstr(w, "runtime", a->container.runtime);
		jw_close(w, '}');
	}
	jw_ostart(w, "parent_process");
	jw_ku64(w, "pid", a->process.ppid);
	jw_close(w, '}');
	jw_ostart(w, "user");
	snprintf(uid, sizeof(uid), "%u", a->process.uid);
	jw_kstr(w, "uid", uid);
	jw_close(w, '}');
	jw_close(w, '}');
}

static void ocsf_evidence(struct jw *w, const struct sw_alert *a)
{
	const struct sw_artifact *t = &a->artifact;
	unsigned int port;
	char ip[64];

	jw_astart(w, "evidences");
	jw_sep(w);
	jw_open(w, '{');
	jw_ostart(w, "device");
	jw_kstr(w, "hostname", a->host);
	jw_ku64(w, "type_id", 0);
	jw_close(w, '}');
	if (a->has_process)
		ocsf_process(w, a);
	if (al_has_art(a) && t->type == SW_ART_FILE) {
		char uid[48];

		jw_ostart(w, "file");
		jw_kstrn(w, "name", base_name(t->path, sizeof(t->path)), sizeof(t->path));
		jw_kstr(w, "path", t->path);
		jw_ku64(w, "type_id", 1);
		snprintf(uid, sizeof(uid), "%llu:%llu", (unsigned long long)t->dev,
			 (unsigned long long)t->ino);
		jw_kstr(w, "uid", uid);
		jw_close(w, '}');
	}
	if (al_has_art(a) && (t->type == SW_ART_SOCKET || t->type == SW_ART_TLS)) {
		int is_ip = split_peer(t->peer, sizeof(t->peer), ip, sizeof(ip), &port);

		if (is_ip || (t->type == SW_ART_TLS && t->sni[0])) {
			jw_ostart(w, "dst_endpoint");
			if (is_ip) {
				jw_kstr(w, "ip", ip);
				jw_ku64(w, "port", port);
			}
			if (t->type == SW_ART_TLS && t->sni[0])
				jw_kstr(w, "hostname", t->sni);
			jw_close(w, '}');
		}
	}
	jw_close(w, '}');
	jw_close(w, ']');
}

static void ocsf_observable(struct jw *w, const char *name, unsigned int type_id, const char *value,
			    size_t max)
{
	jw_sep(w);
	jw_open(w, '{');
	jw_kstrn(w, "name", name, 64);
	jw_ku64(w, "type_id", type_id);
	jw_kstrn(w, "value", value, max);
	jw_close(w, '}');
}

int sw_alert__ocsf(const struct sw_alert *a, char *buf, size_t size)
{
	struct jw w = {.buf = buf, .size = size};
	char uid[33], ttl[256], akey[SW_ARTIFACT_KEY_MAX], ip[64];
	uint64_t ms = a ? a->time_us / 1000 : 0;
	unsigned int port;

	if (!a || (!buf && size))
		return -EINVAL;
	finding_uid(a, uid);
	title(a, ttl, sizeof(ttl));

	jw_open(&w, '{');
	jw_ku64(&w, "activity_id", OCSF_ACTIVITY_CREATE);
	jw_kstrn(&w, "activity_name", "Create", 8);
	jw_ku64(&w, "category_uid", OCSF_CATEGORY_UID);
	jw_kstrn(&w, "category_name", "Findings", 16);
	jw_ku64(&w, "class_uid", OCSF_CLASS_UID);
	jw_kstrn(&w, "class_name", "Detection Finding", 32);
	jw_ku64(&w, "type_uid", OCSF_CLASS_UID * 100 + OCSF_ACTIVITY_CREATE);
	jw_kstrn(&w, "type_name", "Detection Finding: Create", 32);
	jw_ku64(&w, "severity_id", ocsf_severity_id(a->severity));
	jw_kstrn(&w, "severity", ocsf_severity_name(a->severity), 16);
	jw_ku64(&w, "status_id", 1);
	jw_kstrn(&w, "status", "New", 8);
	jw_ku64(&w, "time", ms);
	jw_kstr(&w, "message", a->message[0] ? a->message : ttl);
	if (a->has_secret) {
		/* Exact keyed-hash matches are certain; a detector's regex hit less so. */
		jw_ku64(&w, "confidence_id", a->kind == SW_ALERT_SECRET_DISCOVERED ? 2 : 3);
	}
	if (a->count)
		jw_ku64(&w, "count", a->count);

	jw_ostart(&w, "metadata");
	jw_kstrn(&w, "version", SW_OCSF_VERSION, 16);
	jw_kstr(&w, "uid", uid);
	jw_ostart(&w, "product");
	jw_kstrn(&w, "name", "sprawlwatch", 16);
	jw_kstrn(&w, "vendor_name", "sprawlwatch", 16);
	jw_kstrn(&w, "version", SW_VERSION, 32);
	jw_close(&w, '}');
	jw_close(&w, '}');

	jw_ostart(&w, "finding_info");
	jw_kstr(&w, "uid", uid);
	jw_kstr(&w, "title", ttl);
	jw_kstr(&w, "desc", a->message[0] ? a->message : ttl);
	jw_astart(&w, "types");
	jw_sep(&w);
	jw_strn(&w, sw_alert__kind_name(a->kind), 32);
	jw_close(&w, ']');
	jw_ku64(&w, "created_time", ms);
	jw_ostart(&w, "analytic");
	jw_kstrn(&w, "name", sw_alert__kind_name(a->kind), 32);
	jw_kstrn(&w, "uid", sw_alert__kind_name(a->kind), 32);
	jw_ku64(&w, "type_id", 1);
	jw_kstrn(&w, "type", "Rule", 8);
	jw_close(&w, '}');
	jw_close(&w, '}');

	if (al_has_art(a)) {
		sw_artifact__key(&a->artifact, akey, sizeof(akey));
		jw_astart(&w, "resources");
		jw_sep(&w);
		jw_open(&w, '{');
		jw_kstrn(&w, "type", sw_artifact__type_name(a->artifact.type), 16);
		jw_kstr(&w, "uid", akey);
		jw_kstrn(&w, "name", art_display(&a->artifact), SW_PATH_MAX);
		jw_ostart(&w, "data");
		al_artifact_fields(&w, &a->artifact);
		jw_close(&w, '}');
		jw_close(&w, '}');
		jw_close(&w, ']');
	}

	ocsf_evidence(&w, a);

	jw_astart(&w, "observables");
	ocsf_observable(&w, "evidences.device.hostname", 1, a->host, sizeof(a->host));
	if (a->has_process && a->process.comm[0])
		ocsf_observable(&w, "evidences.process.name", 9, a->process.comm,
				sizeof(a->process.comm));
	if (al_has_art(a) && a->artifact.type == SW_ART_FILE && a->artifact.path[0])
		ocsf_observable(&w, "evidences.file.name", 7,
				base_name(a->artifact.path, sizeof(a->artifact.path)),
				sizeof(a->artifact.path));
	if (al_has_art(a) &&
	    (a->artifact.type == SW_ART_SOCKET || a->artifact.type == SW_ART_TLS) &&
	    split_peer(a->artifact.peer, sizeof(a->artifact.peer), ip, sizeof(ip), &port))
		ocsf_observable(&w, "evidences.dst_endpoint.ip", 2, ip, sizeof(ip));
	jw_close(&w, ']');

	jw_ostart(&w, "unmapped");
	jw_kstrn(&w, "kind", sw_alert__kind_name(a->kind), 32);
	jw_kstr(&w, "host", a->host);
	if (a->has_secret)
		al_secret_obj(&w, a);
	if (a->has_process) {
		uint32_t i, argc = al_argc_of(a);

		jw_astart(&w, "argv");
		for (i = 0; i < argc; i++) {
			jw_sep(&w);
			jw_strn(&w, al_arg_at(a, i), SW_ALERT_ARG_MAX);
		}
		jw_close(&w, ']');
	}
	/* OCSF's process has a container but no cgroup. */
	if (a->cgroup[0])
		jw_kstr(&w, "cgroup", a->cgroup);
	if (a->has_session)
		al_session_obj(&w, a);
	if (al_wants_first_seen(a))
		jw_kbool(&w, "first_seen", a->first_seen);
	if (a->has_origin)
		al_origin_obj(&w, a);
	if (a->channel[0])
		jw_kstr(&w, "channel", a->channel);
	if (a->kind == SW_ALERT_COVERAGE_GAP || a->ngaps)
		al_gaps_obj(&w, a);
	if (a->kind == SW_ALERT_SESSION_SUMMARY)
		al_spread_arr(&w, a);
	al_frameworks_arr(&w, a);
	jw_close(&w, '}');

	jw_close(&w, '}');
	return jw_finish(&w);
}
