/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny HTTP/1.x server for Prometheus scrapes (GET /metrics), run inside the daemon's event
 * loop without ever blocking it: every socket is non-blocking, a request is read into a
 * bounded buffer, each client has a deadline and the number of clients is capped. A slow or
 * hostile client is dropped, never waited for (STYLE rule 12). It owns an epoll descriptor of
 * its own; the daemon polls that one descriptor and calls sw_metrics__serve when it is
 * readable, and at least once a second for the deadlines. */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SW_METRICS_CLIENTS_MAX 16
#define SW_METRICS_REQUEST_MAX 4096 /* request line and headers */
#define SW_METRICS_DEADLINE_MS 5000 /* from accept to the last byte of the answer */
#define SW_METRICS_BODY_MAX    (4 << 20)

/* Writes the exposition text (metrics.h's helpers) to f. */
typedef void (*sw_metrics_render_fn)(FILE *f, void *ctx);

struct sw_metrics;

/* Listens on "HOST:PORT" (IPv4, [IPv6] or a name resolving to one; port 0 picks one). NULL
 * with errno set (EINVAL for a malformed address). */
struct sw_metrics *sw_metrics__new(const char *hostport, sw_metrics_render_fn render, void *ctx);
void sw_metrics__free(struct sw_metrics *m);
/* The descriptor to poll for input (an epoll of the listener and clients). */
int sw_metrics__fd(const struct sw_metrics *m);
/* The port it listens on (useful with port 0). */
int sw_metrics__port(const struct sw_metrics *m);
/* Accepts, reads, answers and expires clients; never blocks. now_ms is CLOCK_MONOTONIC. */
void sw_metrics__serve(struct sw_metrics *m, uint64_t now_ms);

struct sw_metrics_stats {
	uint64_t scrapes, bad_requests, dropped; /* dropped: over the cap or past the deadline */
};
void sw_metrics__stats(const struct sw_metrics *m, struct sw_metrics_stats *out);

/* Exposition helpers: "# HELP" and "# TYPE" lines, then samples. A label value is escaped as
 * the text format asks (backslash, quote, newline). labels may be NULL; otherwise pairs
 * name, value, ..., NULL. */
void sw_metrics__family(FILE *f, const char *name, const char *type, const char *help);
void sw_metrics__sample(FILE *f, const char *name, double value, ...);

#endif
