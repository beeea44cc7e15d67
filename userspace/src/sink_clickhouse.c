// SPDX-License-Identifier: Apache-2.0
/* ClickHouse sink: a disk spool written by the event loop, drained by a delivery thread over
 * HTTP (libcurl). See sink_clickhouse.h for the guarantees and the on-disk layout. This part:
 * the rows, the writer side of the spool, the stats and the life cycle; the spool's files and
 * acknowledgement are in sink_clickhouse_spool.c, HTTP and the delivery thread in
 * sink_clickhouse_http.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>

#include "alertrow.h"
#include "fileio.h"
#include "sink_clickhouse.h"
#include "sink_clickhouse_priv.h"

#define GAP_RESERVE (1u << 20) /* spool room beyond the bound for coverage_gap alerts */

/* ---- rows ---- */

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static int make_row(const char *json, size_t len, char **out, size_t *outlen, int *kind_gap)
{
	struct sw_alertrow *row = malloc(sizeof(*row));
	uint8_t h[UID_HEX / 2];
	char uid[UID_HEX + 1];
	json_object *o;
	const char *s;
	size_t n;
	int e;

	if (!row)
		return -ENOMEM;
	e = sw_alertrow__parse(json, len, row);
	if (e) {
		free(row);
		return e;
	}
	/* The uid names the alert for deduplication: the same line is the same alert. */
	crypto_generichash(h, sizeof(h), (const uint8_t *)json, len, NULL, 0);
	sodium_bin2hex(uid, sizeof(uid), h, sizeof(h));
	o = json_object_new_object();
	if (!o) {
		free(row);
		return -ENOMEM;
	}
	add_str(o, "uid", uid);
	json_object_object_add(o, "time", json_object_new_uint64(row->time_us / 1000000));
	json_object_object_add(o, "time_us", json_object_new_uint64(row->time_us));
	add_str(o, "host", row->host);
	add_str(o, "kind", row->kind);
	add_str(o, "severity", row->severity);
	add_str(o, "secret_id", row->secret_id);
	add_str(o, "secret_name", row->secret_name);
	add_str(o, "artifact_type", row->artifact_type);
	add_str(o, "artifact", row->artifact);
	json_object_object_add(o, "session_id", json_object_new_uint64(row->session_id));
	add_str(o, "agent", row->agent);
	add_str(o, "exe", row->exe);
	json_object_object_add(o, "alert", json_object_new_string_len(json, (int)len));
	if (kind_gap)
		*kind_gap = !strcmp(row->kind, "coverage_gap");
	free(row);
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	n = s ? strlen(s) : 0;
	*out = s ? malloc(n + 1) : NULL;
	if (!*out) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(*out, s, n);
	(*out)[n] = '\n';
	*outlen = n + 1;
	json_object_put(o);
	return 0;
}

int sw_clickhouse__row(const char *json, size_t len, char **out, size_t *outlen)
{
	return make_row(json, len, out, outlen, NULL);
}

/* ---- the spool (writer side, under mu) ---- */

int sw_clickhouse__emit(struct sw_clickhouse *c, const char *json, size_t len)
{
	char *row = NULL;
	size_t n = 0;
	int e, gap = 0;

	if (!c || !json)
		return -EINVAL;
	e = make_row(json, len, &row, &n, &gap);
	pthread_mutex_lock(&c->mu);
	if (e) {
		c->st.refused++;
		c->refused_new++;
		goto out;
	}
	/* A coverage_gap (the one saying the spool was full, above all) may use a reserve. */
	if (c->st.pending + n > c->max + (gap ? GAP_RESERVE : 0)) {
		e = -ENOSPC;
		c->st.refused++;
		c->refused_new++;
		goto out;
	}
	e = sw_fileio__write_all(c->fd, row, n);
	if (e) {
		/* A cut row would corrupt the next: take the file back to its last whole row. */
		if (ftruncate(c->fd, (off_t)c->end))
			snprintf(c->st.last_error, sizeof(c->st.last_error),
				 "spool: cannot cut back a partial row");
		c->st.refused++;
		c->refused_new++;
		goto out;
	}
	c->end += n;
	c->st.pending += n;
	c->st.spooled++;
	pthread_cond_broadcast(&c->cv);
out:
	pthread_mutex_unlock(&c->mu);
	free(row);
	return e;
}

void sw_clickhouse__deliver(const char *json, size_t len, void *ctx)
{
	sw_clickhouse__emit(ctx, json, len);
}

uint64_t sw_clickhouse__take_refused(struct sw_clickhouse *c)
{
	uint64_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->mu);
	n = c->refused_new;
	c->refused_new = 0;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void sw_clickhouse__stats(struct sw_clickhouse *c, struct sw_clickhouse_stats *out)
{
	if (!c) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	pthread_mutex_unlock(&c->mu);
}

void ch_set_error(struct sw_clickhouse *c, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	snprintf(c->st.last_error, sizeof(c->st.last_error), "%.250s", msg);
	c->st.failures++;
	pthread_mutex_unlock(&c->mu);
}

/* ---- life cycle ---- */

struct sw_clickhouse *sw_clickhouse__new(const struct sw_clickhouse_opts *o)
{
	struct sw_clickhouse *c;
	int e;

	if (!o || !o->url || strncmp(o->url, "http", 4) || !o->spool_dir ||
	    strlen(o->spool_dir) >= sizeof(c->dir)) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		errno = EIO;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = c->rfd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->max = o->spool_max ? o->spool_max : SW_CLICKHOUSE_SPOOL_MAX;
	snprintf(c->dir, sizeof(c->dir), "%s", o->spool_dir);
	c->url = strdup(o->url);
	if (!c->url) {
		e = -ENOMEM;
		goto fail;
	}
	if (mkdir(c->dir, 0700) && errno != EEXIST) {
		e = -errno;
		goto fail;
	}
	e = ch_spool_open(c);
	if (e)
		goto fail;
	c->curl = curl_easy_init();
	if (!c->curl) {
		e = -ENOMEM;
		goto fail;
	}
	e = -pthread_create(&c->thread, NULL, ch_deliver_thread, c);
	if (e)
		goto fail;
	c->started = 1;
	return c;
fail:
	sw_clickhouse__free(c);
	errno = -e;
	return NULL;
}

int sw_clickhouse__flush(struct sw_clickhouse *c, int timeout_ms)
{
	struct timespec ts;
	int e = 0;

	if (!c)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (c->st.pending && !e)
		e = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	e = c->st.pending ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&c->mu);
	return e;
}

void sw_clickhouse__free(struct sw_clickhouse *c)
{
	if (!c)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->fd >= 0) {
		fdatasync(c->fd);
		close(c->fd);
	}
	if (c->rfd >= 0)
		close(c->rfd);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->url);
	free(c);
}
