/* SPDX-License-Identifier: Apache-2.0 */
/* Alerts into ClickHouse (its HTTP interface), table sprawlwatch.alerts: spooled on disk first,
 * delivered in order by a thread of its own, batched, each alert once.
 *
 * The event loop only appends the alert's row to the spool (a local file) and wakes the
 * thread; HTTP never runs on the loop. The spool is a sequence of files spool-GEN.jsonl of
 * JSONEachRow rows and an acknowledgement file `ack` ("GEN OFFSET": every row before it is in
 * ClickHouse), replaced atomically after each acknowledged batch. Each row carries a unique id
 * (uid, a hash of the alert line); after a failure whose outcome is unknown (a timeout, a
 * crash between insert and acknowledgement) the thread asks ClickHouse which ids of the batch
 * it already holds and sends only the others: nothing twice, nothing lost. */
#ifndef SW_SINK_CLICKHOUSE_H
#define SW_SINK_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

/* KiB of undelivered rows the spool holds before new alerts are refused (counted and
 * reported by the daemon as a coverage_gap); sprawlwatchd --clickhouse-spool-kb. */
#define SW_CLICKHOUSE_SPOOL_KB	65536
#define SW_CLICKHOUSE_SPOOL_MAX ((uint64_t)SW_CLICKHOUSE_SPOOL_KB << 10)

/* A delivery waits this long for more alerts to join its batch. */
#define SW_CLICKHOUSE_BATCH_MS 200
/* Rows and bytes per INSERT at most. */
#define SW_CLICKHOUSE_BATCH_ROWS  2000
#define SW_CLICKHOUSE_BATCH_BYTES (4u << 20)

/* The table, as created when missing (ClickHouse 18.16 and later). */
#define SW_CLICKHOUSE_DDL                                                                          \
	"CREATE TABLE IF NOT EXISTS sprawlwatch.alerts (time DateTime, time_us UInt64, uid "       \
	"String, host String, kind String, severity String, secret_id String, secret_name "        \
	"String, artifact_type String, artifact String, session_id UInt64, agent String, exe "     \
	"String, alert String) ENGINE = MergeTree() PARTITION BY toYYYYMM(time) ORDER BY (host, "  \
	"time, uid)"

struct sw_clickhouse_opts {
	const char *url;       /* http://HOST:PORT of the HTTP interface (user=...&password=... may
				* follow a '?') */
	const char *spool_dir; /* created 0700 when missing */
	uint64_t spool_max;    /* 0 = SW_CLICKHOUSE_SPOOL_MAX */
};

struct sw_clickhouse_stats {
	uint64_t spooled;   /* rows appended to the spool */
	uint64_t delivered; /* rows ClickHouse acknowledged */
	uint64_t skipped;   /* rows of a retried batch ClickHouse already held (not sent again) */
	uint64_t refused;   /* alerts not spooled: spool full or not writable */
	uint64_t failures;  /* failed HTTP requests */
	uint64_t pending;   /* bytes spooled, not yet acknowledged */
	char last_error[256];
};

struct sw_clickhouse;

/* Opens (or resumes) the spool and starts the delivery thread. NULL with errno set. */
struct sw_clickhouse *sw_clickhouse__new(const struct sw_clickhouse_opts *o);
/* One alert JSON line (DESIGN.md format): its row goes to the spool, the thread is woken.
 * Returns 0, -ENOSPC (spool full), -EBADMSG (not an alert line) or another negative errno.
 * Has the signature of a callback sink's function (ctx = the sink) through ..._deliver. */
int sw_clickhouse__emit(struct sw_clickhouse *c, const char *json, size_t len);
void sw_clickhouse__deliver(const char *json, size_t len, void *ctx);
/* Alerts refused since the last call (the daemon turns them into one coverage_gap). */
uint64_t sw_clickhouse__take_refused(struct sw_clickhouse *c);
void sw_clickhouse__stats(struct sw_clickhouse *c, struct sw_clickhouse_stats *out);
/* Waits up to timeout_ms for the spool to drain; 0 when empty, -ETIMEDOUT otherwise. */
int sw_clickhouse__flush(struct sw_clickhouse *c, int timeout_ms);
/* Stops the thread (a request in flight ends within its timeout); the spool stays for the
 * next start. Takes NULL. */
void sw_clickhouse__free(struct sw_clickhouse *c);

/* The JSONEachRow row for one alert line into a malloc'd *out (with its newline). */
int sw_clickhouse__row(const char *json, size_t len, char **out, size_t *outlen);
/* One synchronous query (sprawlctl): POSTs sql to url, the answer body into a malloc'd *out
 * (NUL-terminated, at most max bytes). 0, or a negative errno with ClickHouse's message (or
 * curl's) in err. */
int sw_clickhouse__query(const char *url, const char *sql, size_t max, char **out, size_t *outlen,
			 char *err, size_t errlen);

#endif
