// SPDX-License-Identifier: Apache-2.0
/* The daemon's Prometheus metrics (--metrics HOST:PORT): what it counts, rendered at scrape
 * time from the counters the pipeline, the kernel and the loop already keep. The HTTP side
 * (non-blocking, bounded) is metrics.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"

static void count_alert(const struct sw_alert *a, void *ctx)
{
	struct daemon *d = ctx;

	if (a->kind < SW_ALERT__COUNT && a->severity < SW_SEV__COUNT)
		d->alerts_by[a->kind][a->severity]++;
}

static void count_live(const struct sw_session *s, void *ctx)
{
	if (!s->ended)
		(*(size_t *)ctx)++;
}

static void render(FILE *f, void *ctx)
{
	struct daemon *d = ctx;
	struct sw_pipeline_stats st;
	struct sw_metrics_stats ms;
	const struct {
		const char *cause;
		uint64_t n;
	} loss[] = {
		{"ringbuf_full", d->loss_seen.ringbuf_full},
		{"truncated", d->loss_seen.truncated},
		{"read_errors", d->loss_seen.read_errors},
		{"path_truncated", d->loss_seen.path_truncated},
		{"scope_full", d->loss_seen.scope_full},
		{"copies_unread", d->loss_seen.copies_unread},
	};
	uint64_t used = 0, size = 0;
	size_t live = 0, i, s;

	sw_pipeline__stats(d->pl, &st);
	sw_proctab__each_session(sw_pipeline__proctab(d->pl), count_live, &live);

	sw_metrics__family(f, "sprawlwatch_records_total", "counter",
			   "Records the pipeline took in (kernel and daemon).");
	sw_metrics__sample(f, "sprawlwatch_records_total", (double)st.records, NULL);
	sw_metrics__family(f, "sprawlwatch_bad_records_total", "counter",
			   "Records refused as malformed.");
	sw_metrics__sample(f, "sprawlwatch_bad_records_total", (double)st.bad_records, NULL);
	sw_metrics__family(f, "sprawlwatch_bytes_total", "counter",
			   "Bytes of written, sent or executed data matched against the secrets.");
	sw_metrics__sample(f, "sprawlwatch_bytes_total", (double)st.data_bytes, NULL);
	sw_metrics__family(f, "sprawlwatch_matches_total", "counter",
			   "Tracked secrets found in data (alerting or not).");
	sw_metrics__sample(f, "sprawlwatch_matches_total", (double)st.matches, NULL);

	sw_metrics__family(f, "sprawlwatch_alerts_total", "counter",
			   "Alerts raised, by kind and severity.");
	for (i = 0; i < SW_ALERT__COUNT; i++)
		for (s = 0; s < SW_SEV__COUNT; s++)
			sw_metrics__sample(f, "sprawlwatch_alerts_total",
					   (double)d->alerts_by[i][s], "kind",
					   sw_alert__kind_name(i), "severity",
					   sw_alert__severity_name(s), NULL);
	sw_metrics__family(f, "sprawlwatch_alerts_suppressed_total", "counter",
			   "Alerts held back by flood control (summarised as rate_limited).");
	sw_metrics__sample(f, "sprawlwatch_alerts_suppressed_total", (double)st.suppressed, NULL);

	sw_metrics__family(f, "sprawlwatch_loss_total", "counter",
			   "What the kernel side could not deliver whole, by cause (each also "
			   "raised a coverage_gap).");
	for (i = 0; i < sizeof(loss) / sizeof(loss[0]); i++)
		sw_metrics__sample(f, "sprawlwatch_loss_total", (double)loss[i].n, "cause",
				   loss[i].cause, NULL);

	if (d->k && !sw_kernel__ring_fill(d->k, &used, &size) && size) {
		sw_metrics__family(f, "sprawlwatch_ringbuf_fill_ratio", "gauge",
				   "Share of the kernel ring buffer holding unread records.");
		sw_metrics__sample(f, "sprawlwatch_ringbuf_fill_ratio", (double)used / size, NULL);
		sw_metrics__family(f, "sprawlwatch_ringbuf_size_bytes", "gauge",
				   "Size of the kernel ring buffer.");
		sw_metrics__sample(f, "sprawlwatch_ringbuf_size_bytes", (double)size, NULL);
	}
	sw_metrics__family(f, "sprawlwatch_loop_stall_max_seconds", "gauge",
			   "Longest time one turn of the event loop took since start.");
	sw_metrics__sample(f, "sprawlwatch_loop_stall_max_seconds", d->stall_max_us / 1e6, NULL);
	sw_metrics__family(
		f, "sprawlwatch_loop_busy_max_seconds", "gauge",
		"Most CPU time one turn of the event loop used since start (its own work, "
		"without waiting for a CPU).");
	sw_metrics__sample(f, "sprawlwatch_loop_busy_max_seconds", d->busy_max_us / 1e6, NULL);

	sw_metrics__family(f, "sprawlwatch_sessions", "gauge", "Live agent sessions.");
	sw_metrics__sample(f, "sprawlwatch_sessions", (double)live, NULL);
	sw_metrics__family(f, "sprawlwatch_processes", "gauge",
			   "Processes in the process table (sessions' and recently exited).");
	sw_metrics__sample(f, "sprawlwatch_processes",
			   (double)sw_proctab__count(sw_pipeline__proctab(d->pl)), NULL);
	sw_metrics__family(f, "sprawlwatch_secrets", "gauge", "Tracked secrets.");
	sw_metrics__sample(f, "sprawlwatch_secrets", (double)sw_pipeline__secrets(d->pl)->n, NULL);
	sw_metrics__family(f, "sprawlwatch_places", "gauge",
			   "Known (secret, place) pairs in the registry.");
	sw_metrics__sample(f, "sprawlwatch_places", (double)sw_registry__size(d->reg), NULL);
	if (d->trace) {
		struct sw_tracelog_stats ts;

		sw_tracelog_writer__stats(d->trace, &ts);
		sw_metrics__family(f, "sprawlwatch_trace_events_total", "counter",
				   "Records written to the trace log.");
		sw_metrics__sample(f, "sprawlwatch_trace_events_total", (double)ts.events, NULL);
		sw_metrics__family(f, "sprawlwatch_trace_events_dropped_total", "counter",
				   "Records the trace log could not keep.");
		sw_metrics__sample(f, "sprawlwatch_trace_events_dropped_total",
				   (double)ts.events_dropped, NULL);
	}
	sw_metrics__stats(d->metrics, &ms);
	sw_metrics__family(f, "sprawlwatch_scrapes_total", "counter",
			   "Metrics scrapes answered (this one included).");
	sw_metrics__sample(f, "sprawlwatch_scrapes_total", (double)ms.scrapes + 1, NULL);
	sw_metrics__family(f, "sprawlwatch_start_time_seconds", "gauge",
			   "Unix time the daemon started.");
	sw_metrics__sample(f, "sprawlwatch_start_time_seconds", (double)d->started, NULL);
}

static int listen_on(struct daemon *d, const char *addr)
{
	d->metrics = sw_metrics__new(addr, render, d);
	if (!d->metrics) {
		log_err("--metrics %s: %s (expected HOST:PORT, e.g. 127.0.0.1:9464)", addr,
			strerror(errno));
		return -1;
	}
	if (add_fd(d, sw_metrics__fd(d->metrics), TAG_METRICS)) {
		log_err("--metrics: %s", strerror(errno));
		sw_metrics__free(d->metrics);
		d->metrics = NULL;
		return -1;
	}
	log_info("metrics at http://%s/metrics (port %d)", addr, sw_metrics__port(d->metrics));
	return 0;
}

int daemon_metrics__start(struct daemon *d)
{
	/* Counted from the start, so a metrics endpoint turned on by SIGHUP is not behind. */
	d->count_sink = sw_sink__alert_fn(count_alert, d);
	if (!d->count_sink) {
		log_err("cannot count alerts: %s", strerror(errno));
		return -1;
	}
	if (d->nout_sinks < SINKS_MAX)
		d->out_sinks[d->nout_sinks++] = d->count_sink;
	return d->metrics_addr ? listen_on(d, d->metrics_addr) : 0;
}

void daemon_metrics__stop(struct daemon *d)
{
	if (d->metrics) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, sw_metrics__fd(d->metrics), NULL);
		sw_metrics__free(d->metrics);
		d->metrics = NULL;
	}
}

int daemon_metrics__reconfigure(struct daemon *d, const char *addr)
{
	struct sw_metrics *old = d->metrics;

	if (!addr) {
		daemon_metrics__stop(d);
		log_info("metrics: no longer served");
		return 0;
	}
	/* The new address first: if it cannot be served, the old one stays. */
	d->metrics = NULL;
	if (listen_on(d, addr)) {
		d->metrics = old;
		return -1;
	}
	if (old) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, sw_metrics__fd(old), NULL);
		sw_metrics__free(old);
	}
	return 0;
}
