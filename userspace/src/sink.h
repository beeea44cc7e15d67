/* SPDX-License-Identifier: Apache-2.0 */
/* Alert sinks: where alerts go. Each sink formats and delivers one alert at a time. */
#ifndef SW_SINK_H
#define SW_SINK_H

#include <stdint.h>

#include "alert.h"

enum sw_sink_format { SW_FMT_JSON = 0, SW_FMT_OCSF };

struct sw_sink;

/* Delivery counters. Library code does not print: failures are only counted here. */
struct sw_sink_stats {
	uint64_t sent;	   /* alerts handed to the destination */
	uint64_t dropped;  /* alerts not delivered: queue full, not connected, too many hooks */
	uint64_t failed;   /* write errors; hooks that could not start or exited non-zero */
	uint64_t timeouts; /* hooks killed at their deadline */
	uint64_t connects; /* syslog: successful (re)connections */
};

/* Longest alert a sink formats; a larger encoding is dropped and counted as failed. */
#define SW_SINK_ALERT_MAX (1u << 20)
/* Syslog: bytes held while the collector is unreachable or slow, before dropping. */
#define SW_SINK_QUEUE_MAX (1u << 20)
/* Hooks running at once; more alerts meanwhile are dropped (counted). */
#define SW_SINK_HOOKS_MAX 8

/* JSON lines appended to path ("-" = stdout); reopened by sw_sink__reopen (SIGHUP). */
struct sw_sink *sw_sink__file(const char *path, enum sw_sink_format fmt);
/* RFC 5424 syslog; addr is "tcp:HOST:PORT" ("tcp:[::1]:PORT" for IPv6) or "unix:/path"
 * (datagram or stream). Stream transports use octet-counting framing (RFC 6587 3.4.1).
 * Never blocks: the connection is made non-blocking in the background, messages wait in a
 * bounded queue, and when that is full new alerts are dropped and counted. HOST is resolved
 * once, here. Facility is authpriv (10) unless changed with sw_sink__syslog_facility. */
struct sw_sink *sw_sink__syslog(const char *addr, enum sw_sink_format fmt);
/* Runs argv (no shell) with the alert's JSON (DESIGN.md schema, one line) on stdin; stdout
 * and stderr go to /dev/null; the hook runs in its own process group, which is killed after
 * timeout_ms. Hooks run asynchronously: emit starts one and returns; sw_sink__poll() feeds,
 * reaps and kills them. The caller must not reap children it did not start
 * (no waitpid(-1)). argv is copied. */
struct sw_sink *sw_sink__hook(char *const argv[], int timeout_ms);
/* A caller-provided delivery function (e.g. the control-socket stream). */
struct sw_sink *sw_sink__callback(void (*fn)(const char *json, size_t len, void *ctx), void *ctx,
				  enum sw_sink_format fmt);

/* The alert itself, unencoded, to a caller's function (the metrics count kinds and
 * severities). */
struct sw_sink *sw_sink__alert_fn(void (*fn)(const struct sw_alert *a, void *ctx), void *ctx);

/* 0, or a negative errno when this alert was not delivered (also counted in the stats). */
int sw_sink__emit(struct sw_sink *s, const struct sw_alert *a);
/* File sink: reopen the path (logrotate moved it). Others: no-op. */
int sw_sink__reopen(struct sw_sink *s);
/* Non-blocking housekeeping, call it about once a second: file sink fdatasync if lines were
 * written, syslog reconnect/queue drain, hook feeding/reaping/killing. */
void sw_sink__poll(struct sw_sink *s);
/* Like poll, but waits up to timeout_ms for queued syslog data / running hooks to finish
 * (shutdown, tests). Returns 0 when nothing is left pending, -ETIMEDOUT otherwise. */
int sw_sink__flush(struct sw_sink *s, int timeout_ms);
void sw_sink__stats(const struct sw_sink *s, struct sw_sink_stats *out);
/* RFC 5424 facility 0..23 for a syslog sink; -EINVAL otherwise. */
int sw_sink__syslog_facility(struct sw_sink *s, int facility);
/* Flushes what it can without waiting, kills running hooks, frees. Takes NULL. */
void sw_sink__free(struct sw_sink *s);

#endif
