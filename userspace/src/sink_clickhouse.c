// SPDX-License-Identifier: Apache-2.0
/* ClickHouse sink: a disk spool written by the event loop, drained by a delivery thread over
 * HTTP (libcurl). See sink_clickhouse.h for the guarantees and the on-disk layout. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define UID_HEX		  32
#define ROTATE_BYTES	  (1u << 20) /* a fully delivered spool file this big is replaced */
#define BACKOFF_MIN_MS	  250
#define BACKOFF_MAX_MS	  5000
#define CONNECT_TIMEOUT_S 3
#define REQUEST_TIMEOUT_S 15
#define ANSWER_MAX	  (1u << 20) /* bytes of an answer kept (ids of a batch fit) */
#define GAP_RESERVE	  (1u << 20) /* spool room beyond the bound for coverage_gap alerts */

struct sw_clickhouse {
	char *url;
	char dir[1024];
	uint64_t max;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* rows arrived, stop asked, or (for flush) rows acknowledged */
	pthread_t thread;
	int started, stop;

	/* Under mu. The writer appends to spool file `gen` (fd, end bytes); every row before
	 * (ack_gen, ack_off) is in ClickHouse. */
	int fd;
	uint64_t gen, end;
	uint64_t ack_gen, ack_off;
	uint64_t refused_new;
	struct sw_clickhouse_stats st;

	/* Delivery thread only. */
	CURL *curl;
	int rfd; /* read side of spool file rgen */
	uint64_t rgen;
	int schema_ok;
	int uncertain; /* rows after the ack may be in ClickHouse already: ask before sending */
};

struct answer {
	char *p;
	size_t len, max;
};

static void spool_path(const struct sw_clickhouse *c, uint64_t gen, char *out, size_t size)
{
	snprintf(out, size, "%s/spool-%016" PRIx64 ".jsonl", c->dir, gen);
}

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

/* ---- acknowledgement file ---- */

static int ack_write(struct sw_clickhouse *c, uint64_t gen, uint64_t off)
{
	char path[1100], tmp[1100], line[64];
	int fd, n, e = 0;

	snprintf(path, sizeof(path), "%s/ack", c->dir);
	snprintf(tmp, sizeof(tmp), "%s/ack.tmp", c->dir);
	n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", gen, off);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	e = sw_fileio__write_all(fd, line, (size_t)n);
	if (!e && fsync(fd))
		e = -errno;
	close(fd);
	if (!e && rename(tmp, path))
		e = -errno;
	if (!e)
		e = sw_fileio__fsync_dir_of(path);
	return e;
}

static void ack_read(struct sw_clickhouse *c, uint64_t *gen, uint64_t *off)
{
	char path[1100], line[64] = "";
	FILE *f;

	*gen = *off = 0;
	snprintf(path, sizeof(path), "%s/ack", c->dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%" SCNu64 " %" SCNu64, gen, off) != 2)
		*gen = *off = 0;
	fclose(f);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* A crash in the middle of an append leaves a partial last row: cut it off. */
static uint64_t cut_partial_row(int fd, uint64_t size)
{
	char buf[4096];
	uint64_t pos = size;

	while (pos > 0) {
		size_t n = pos > sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t r = pread(fd, buf, n, (off_t)(pos - n));

		if (r != (ssize_t)n)
			return size;
		while (n > 0 && buf[n - 1] != '\n')
			n--;
		if (n > 0) {
			pos -= (uint64_t)(r - (ssize_t)n);
			break;
		}
		pos -= (uint64_t)r;
	}
	if (pos != size && ftruncate(fd, (off_t)pos))
		return size;
	return pos;
}

/* Finds the spool files, drops those already delivered, opens the last for appending. */
static int spool_open(struct sw_clickhouse *c)
{
	uint64_t ack_gen, ack_off, last, g, sz;
	char path[1100];
	struct dirent *de;
	DIR *d;

	ack_read(c, &ack_gen, &ack_off);
	last = ack_gen;
	d = opendir(c->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "spool-%" SCNx64 ".jsonl", &g) != 1)
			continue;
		if (g < ack_gen) {
			spool_path(c, g, path, sizeof(path));
			unlink(path);
		} else if (g > last) {
			last = g;
		}
	}
	closedir(d);
	c->st.pending = 0;
	for (g = ack_gen; g <= last; g++) {
		spool_path(c, g, path, sizeof(path));
		sz = file_size(path);
		if (g == ack_gen)
			sz = sz > ack_off ? sz - ack_off : 0;
		c->st.pending += sz;
	}
	spool_path(c, last, path, sizeof(path));
	c->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd < 0)
		return -errno;
	c->gen = last;
	sz = file_size(path);
	c->end = cut_partial_row(c->fd, sz);
	c->st.pending -= sz - c->end;
	if (last == ack_gen && ack_off > c->end)
		ack_off = c->end;
	c->ack_gen = ack_gen;
	c->ack_off = ack_off;
	c->uncertain = c->st.pending > 0; /* a crash may have come between insert and ack */
	return 0;
}

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

static void set_error(struct sw_clickhouse *c, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	snprintf(c->st.last_error, sizeof(c->st.last_error), "%.250s", msg);
	c->st.failures++;
	pthread_mutex_unlock(&c->mu);
}

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
			set_error(c, err);
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
		set_error(c, err);
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
	qsort(ans.p, n, UID_HEX, cmp_uid);
	*ids = ans.p;
	*nids = n;
	return 0;
}

/* Reads the next batch of whole rows after the ack; 0 bytes when none. */
static ssize_t read_batch(struct sw_clickhouse *c, char *buf, uint64_t *gen, uint64_t *off,
			  size_t *rows)
{
	uint64_t limit, wgen, wend;
	char path[1100];
	ssize_t r;
	size_t want, n, i, k = 0;

	pthread_mutex_lock(&c->mu);
	*gen = c->ack_gen;
	*off = c->ack_off;
	wgen = c->gen;
	wend = c->end;
	pthread_mutex_unlock(&c->mu);
	if (c->rfd < 0 || c->rgen != *gen) {
		if (c->rfd >= 0)
			close(c->rfd);
		spool_path(c, *gen, path, sizeof(path));
		c->rfd = open(path, O_RDONLY | O_CLOEXEC);
		c->rgen = *gen;
		if (c->rfd < 0)
			return -errno;
	}
	if (*gen == wgen) {
		limit = wend;
	} else {
		struct stat st;

		if (fstat(c->rfd, &st))
			return -errno;
		limit = (uint64_t)st.st_size;
	}
	if (limit <= *off)
		return 0;
	want = limit - *off > SW_CLICKHOUSE_BATCH_BYTES ? SW_CLICKHOUSE_BATCH_BYTES
							: (size_t)(limit - *off);
	r = pread(c->rfd, buf, want, (off_t)*off);
	if (r < 0)
		return -errno;
	/* Whole rows only, at most BATCH_ROWS of them. */
	for (i = 0, n = 0; i < (size_t)r; i++) {
		if (buf[i] == '\n') {
			n = i + 1;
			if (++k == SW_CLICKHOUSE_BATCH_ROWS)
				break;
		}
	}
	if (!n && (size_t)r == SW_CLICKHOUSE_BATCH_BYTES)
		return -EMSGSIZE; /* one row larger than a batch: cannot be, rows are bounded */
	*rows = k;
	return (ssize_t)n;
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

static void acknowledge(struct sw_clickhouse *c, uint64_t gen, uint64_t off, size_t bytes,
			size_t rows, uint64_t skipped)
{
	char err[300];
	int e = ack_write(c, gen, off + bytes);

	if (e) {
		/* The rows are in ClickHouse; an ack that did not persist only means a check of
		 * their ids after a restart. */
		snprintf(err, sizeof(err), "spool: cannot write the ack file: %s", strerror(-e));
		set_error(c, err);
	}
	pthread_mutex_lock(&c->mu);
	c->ack_off = off + bytes;
	c->st.pending -= bytes;
	c->st.delivered += rows;
	c->st.skipped += skipped;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* After the current file is fully delivered: move to the next one, or start a new file when
 * this one has grown large. */
static void advance_file(struct sw_clickhouse *c, uint64_t gen)
{
	char path[1100];
	int newfd = -1, moved = 0;

	pthread_mutex_lock(&c->mu);
	if (c->ack_gen == gen && c->gen == gen && c->ack_off == c->end && c->end >= ROTATE_BYTES) {
		spool_path(c, gen + 1, path, sizeof(path));
		newfd = open(path, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (newfd >= 0) {
			close(c->fd);
			c->fd = newfd;
			c->gen = gen + 1;
			c->end = 0;
		}
	}
	if (c->ack_gen == gen && c->gen > gen) {
		c->ack_gen = gen + 1;
		c->ack_off = 0;
		moved = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (!moved)
		return;
	if (!ack_write(c, gen + 1, 0)) {
		spool_path(c, gen, path, sizeof(path));
		unlink(path);
	}
}

static void *deliver_thread(void *arg)
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
		n = read_batch(c, buf, &gen, &off, &rows);
		if (n < 0) {
			snprintf(err, sizeof(err), "spool: cannot read: %s", strerror((int)-n));
			set_error(c, err);
			if (nap(c, BACKOFF_MAX_MS))
				break;
			continue;
		}
		if (n == 0) {
			advance_file(c, gen);
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
				set_error(c, err);
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
		acknowledge(c, gen, off, (size_t)n, rows, skipped);
		advance_file(c, gen);
	}
	free(buf);
	return NULL;
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
	e = spool_open(c);
	if (e)
		goto fail;
	c->curl = curl_easy_init();
	if (!c->curl) {
		e = -ENOMEM;
		goto fail;
	}
	e = -pthread_create(&c->thread, NULL, deliver_thread, c);
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
