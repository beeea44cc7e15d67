// SPDX-License-Identifier: Apache-2.0
/* The ClickHouse sink's HTTP side (libcurl): one request, the synchronous query of sprawlctl,
 * and the delivery thread that drains the spool into ClickHouse in batches. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sink_clickhouse.h"
#include "sink_clickhouse_priv.h"

#define BACKOFF_MIN_MS	  250
#define BACKOFF_MAX_MS	  5000
#define CONNECT_TIMEOUT_S 3
#define REQUEST_TIMEOUT_S 15
#define ANSWER_MAX	  (1u << 20) /* bytes of an answer kept (ids of a batch fit) */

struct answer {
	char *p;
	size_t len, max;
};

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
	struct answer *a = ctx;
	size_t n = sz * nm, keep = n;

	if (a->len + keep > a->max)
		keep = a->max > a->len ? a->max - a->len : 0;
	if (keep) {
		char *np = realloc(a->p, a->len + keep + 1);

		if (!np)
			return 0;
		a->p = np;
		memcpy(a->p + a->len, p, keep);
		a->len += keep;
		a->p[a->len] = '\0';
	}
	return n;
}

/* POST body to url with `query` in the URL (INSERT) or, when query is NULL, body is the
 * query. 0 on HTTP 200; otherwise a negative errno and a message in err. */
static int http_post(CURL *h, const char *url, const char *query, const char *body, size_t len,
		     struct answer *ans, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	char *full = NULL, *q = NULL;
	long code = 0;
	CURLcode rc;
	size_t ul;
	int e = 0;

	ul = strlen(url);
	if (query) {
		q = curl_easy_escape(h, query, 0);
		if (!q)
			return -ENOMEM;
	}
	full = malloc(ul + (q ? strlen(q) : 0) + 16);
	if (!full) {
		curl_free(q);
		return -ENOMEM;
	}
	if (q)
		sprintf(full, "%s%s%squery=%s", url,
			strchr(url, '?') ? "" : (url[ul - 1] == '/' ? "?" : "/?"),
			strchr(url, '?') ? "&" : "", q);
	else
		strcpy(full, url);
	curl_free(q);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, ans);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
		e = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200) {
			size_t n = ans->len, i;

			for (i = 0; i < n && ans->p[i] != '\n'; i++)
				;
			snprintf(err, errlen, "HTTP %ld: %.*s", code, (int)(i < 200 ? i : 200),
				 ans->p ? ans->p : "");
			e = -EPROTO;
		}
	}
	free(full);
	return e;
}

int sw_clickhouse__query(const char *url, const char *sql, size_t max, char **out, size_t *outlen,
			 char *err, size_t errlen)
{
	struct answer ans = {.max = max};
	CURL *h;
	int e;

	*out = NULL;
	*outlen = 0;
	if (!url || !*url || !sql)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	h = curl_easy_init();
	if (!h)
		return -ENOMEM;
	e = http_post(h, url, NULL, sql, strlen(sql), &ans, err, errlen);
	curl_easy_cleanup(h);
	if (e) {
		free(ans.p);
		return e;
	}
	if (!ans.p)
		ans.p = calloc(1, 1);
	*out = ans.p;
	*outlen = ans.len;
	return ans.p ? 0 : -ENOMEM;
}

/* ---- delivery thread ---- */

/* Sleeps ms unless stop is asked (returns 1 then). */
static int nap(struct sw_clickhouse *c, unsigned int ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0)
		;
	stop = c->stop;
	pthread_mutex_unlock(&c->mu);
	return stop;
}

static int ensure_schema(struct sw_clickhouse *c)
{
	static const char *const ddl[] = {"CREATE DATABASE IF NOT EXISTS sprawlwatch",
					  SW_CLICKHOUSE_DDL};
	char err[256];
	size_t i;
	int e;

	for (i = 0; i < 2; i++) {
		struct answer ans = {.max = 4096};

		e = http_post(c->curl, c->url, NULL, ddl[i], strlen(ddl[i]), &ans, err,
			      sizeof(err));
		free(ans.p);
		if (e) {
			ch_set_error(c, err);
			return e;
		}
	}
	c->schema_ok = 1;
	return 0;
}

static int cmp_uid(const void *a, const void *b)
{
	return memcmp(a, b, UID_HEX);
}

/* The ids of rows ClickHouse already holds, sorted (UID_HEX bytes each); -errno on failure. */
static int held_ids(struct sw_clickhouse *c, const char *rows, size_t len, size_t nrows, char **ids,
		    size_t *nids)
{
	struct answer ans = {.max = ANSWER_MAX};
	char *sql, *w, err[256];
	const char *p, *end = rows + len;
	size_t n = 0;
	int e;

	*ids = NULL;
	*nids = 0;
	sql = malloc(128 + (nrows + 1) * (UID_HEX + 3));
	if (!sql)
		return -ENOMEM;
	w = sql + sprintf(sql, "SELECT uid FROM sprawlwatch.alerts WHERE uid IN (");
	for (p = rows; p < end && n < nrows;
	     p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1) {
		/* Rows are ours: {"uid":"<32 hex>",... */
		w += sprintf(w, "%s'%.*s'", n++ ? "," : "", UID_HEX, p + 8);
	}
	sprintf(w, ") FORMAT TabSeparated");
	e = http_post(c->curl, c->url, NULL, sql, strlen(sql), &ans, err, sizeof(err));
	free(sql);
	if (e) {
		ch_set_error(c, err);
		free(ans.p);
		return e;
	}
	n = 0;
	for (p = ans.p; p && *p; p += UID_HEX + 1) {
		if (strlen(p) < UID_HEX || (p[UID_HEX] != '\n' && p[UID_HEX]))
			break;
		memmove(ans.p + n * UID_HEX, p, UID_HEX);
		n++;
		if (!p[UID_HEX])
			break;
	}
	if (n) /* (qsort must not get a NULL base, even for nothing) */
		qsort(ans.p, n, UID_HEX, cmp_uid);
	*ids = ans.p;
	*nids = n;
	return 0;
}

/* Drops rows ClickHouse already has from buf; returns the new length. */
static size_t drop_held(char *buf, size_t len, const char *ids, size_t nids, size_t *rows,
			uint64_t *skipped)
{
	size_t in = 0, out = 0, k = 0;

	while (in < len) {
		char *nl = memchr(buf + in, '\n', len - in);
		size_t rl = (size_t)(nl - (buf + in)) + 1;

		if (nids && bsearch(buf + in + 8, ids, nids, UID_HEX, cmp_uid)) {
			(*skipped)++;
		} else {
			memmove(buf + out, buf + in, rl);
			out += rl;
			k++;
		}
		in += rl;
	}
	*rows = k;
	return out;
}

void *ch_deliver_thread(void *arg)
{
	struct sw_clickhouse *c = arg;
	unsigned int backoff = BACKOFF_MIN_MS;
	char *buf = malloc(SW_CLICKHOUSE_BATCH_BYTES);
	char err[300];

	if (!buf)
		return NULL;
	for (;;) {
		uint64_t gen, off, skipped = 0;
		size_t rows = 0, len;
		char *ids = NULL;
		size_t nids = 0;
		ssize_t n;
		int e;

		pthread_mutex_lock(&c->mu);
		while (!c->stop && !c->st.pending)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
		/* Let the alerts of the next moment join the batch (delivery within 1 s). */
		if (nap(c, SW_CLICKHOUSE_BATCH_MS))
			break;
		n = ch_read_batch(c, buf, &gen, &off, &rows);
		if (n < 0) {
			snprintf(err, sizeof(err), "spool: cannot read: %s", strerror((int)-n));
			ch_set_error(c, err);
			if (nap(c, BACKOFF_MAX_MS))
				break;
			continue;
		}
		if (n == 0) {
			ch_advance_file(c, gen);
			continue;
		}
		/* On disk before they go out; a failure is not fatal (they are in the page cache
		 * and leave now). */
		fdatasync(c->rfd);
		len = (size_t)n;
		e = c->schema_ok ? 0 : ensure_schema(c);
		if (!e && c->uncertain) {
			e = held_ids(c, buf, len, rows, &ids, &nids);
			if (!e)
				len = drop_held(buf, len, ids, nids, &rows, &skipped);
			free(ids);
		}
		if (!e && len) {
			struct answer ans = {.max = 4096};

			e = http_post(c->curl, c->url,
				      "INSERT INTO sprawlwatch.alerts FORMAT JSONEachRow", buf, len,
				      &ans, err, sizeof(err));
			free(ans.p);
			if (e)
				ch_set_error(c, err);
		}
		if (e) {
			/* Unknown whether the insert landed: ask before sending again. The table
			 * may be gone too: make sure of it again. */
			c->uncertain = 1;
			c->schema_ok = 0;
			if (nap(c, backoff))
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		c->uncertain = 0;
		ch_acknowledge(c, gen, off, (size_t)n, rows, skipped);
		ch_advance_file(c, gen);
	}
	free(buf);
	return NULL;
}
