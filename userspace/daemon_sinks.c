// SPDX-License-Identifier: Apache-2.0
/* The daemon's alert sinks, built from the options and rebuilt on SIGHUP. The pipeline holds
 * one forwarding sink that hands each alert to the current file, stdout, syslog and hook
 * sinks, so a reload swaps them without the pipeline knowing. A replaced syslog or hook sink
 * is retired, not dropped: it keeps delivering what it queued (and its hooks run out) while
 * the timer polls it, and is freed once drained or after RETIRE_MS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#define RETIRE_MS 30000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_free(struct sink_set *s)
{
	sw_sink__free(s->file);
	sw_sink__free(s->out);
	sw_sink__free(s->syslog);
	sw_sink__free(s->hook);
	memset(s, 0, sizeof(*s));
}

/* The sinks option set c asks for, or -1 (reported) with nothing built. */
static int build(const struct sw_dconf *c, struct sink_set *s)
{
	const char *alerts = sw_dconf__str(c, SW_DO_ALERTS), *addr = sw_dconf__str(c, SW_DO_SYSLOG);
	enum sw_sink_format fmt =
		sw_dconf__choice(c, SW_DO_FORMAT) == 1 ? SW_FMT_OCSF : SW_FMT_JSON;
	char dir[1100], *slash, *argv[HOOK_ARGS_MAX + 2];
	const char *const *args;
	size_t nargs, i, n = 0;

	memset(s, 0, sizeof(*s));
	if (!alerts)
		alerts = SW_DEFAULT_ALERTS;
	if (strcmp(alerts, "-")) {
		snprintf(dir, sizeof(dir), "%s", alerts);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			sw_paths__mkdir(dir, 0750, 0);
		}
		s->file = sw_sink__file(alerts, fmt);
		if (!s->file) {
			log_err("%s: cannot open the alert file: %s", alerts, strerror(errno));
			goto fail;
		}
	}
	s->out = sw_sink__file("-", fmt);
	if (!s->out) {
		log_err("cannot set up the alert sinks: %s", strerror(errno));
		goto fail;
	}
	if (addr) {
		s->syslog = sw_sink__syslog(addr, fmt);
		if (!s->syslog) {
			log_err("syslog %s: %s (expected tcp:HOST:PORT or unix:/PATH)", addr,
				strerror(errno));
			goto fail;
		}
	}
	args = sw_dconf__list(c, SW_DO_HOOK_ARG, &nargs);
	if (nargs && !sw_dconf__is_set(c, SW_DO_HOOK)) {
		log_err("hook-arg given without hook: give the program with --hook PROG");
		goto fail;
	}
	if (sw_dconf__is_set(c, SW_DO_HOOK)) {
		argv[n++] = (char *)sw_dconf__str(c, SW_DO_HOOK);
		for (i = 0; i < nargs && i < HOOK_ARGS_MAX; i++)
			argv[n++] = (char *)args[i];
		argv[n] = NULL;
		s->hook = sw_sink__hook(argv, sw_dconf__is_set(c, SW_DO_HOOK_TIMEOUT_MS)
						      ? (int)sw_dconf__num(c, SW_DO_HOOK_TIMEOUT_MS)
						      : 5000);
		if (!s->hook) {
			log_err("hook %s: %s", argv[0], strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	set_free(s);
	return -1;
}

static void forward(const struct sw_alert *a, void *ctx)
{
	struct daemon *d = ctx;

	if (d->sinks.file)
		sw_sink__emit(d->sinks.file, a);
	sw_sink__emit(d->sinks.out, a);
	if (d->sinks.syslog)
		sw_sink__emit(d->sinks.syslog, a);
	if (d->sinks.hook)
		sw_sink__emit(d->sinks.hook, a);
}

void daemon_sinks__emit(struct daemon *d, const struct sw_alert *a)
{
	forward(a, d);
	control__alert(a, d);
}

int daemon_sinks__open(struct daemon *d)
{
	if (build(d->conf, &d->sinks))
		return -1;
	d->fwd_sink = sw_sink__alert_fn(forward, d);
	d->ctl_sink = sw_sink__alert_fn(control__alert, d);
	if (!d->fwd_sink || !d->ctl_sink) {
		log_err("cannot set up the alert sinks: %s", strerror(errno));
		return -1;
	}
	d->out_sinks[d->nout_sinks++] = d->fwd_sink;
	d->out_sinks[d->nout_sinks++] = d->ctl_sink;
	return 0;
}

static void retire(struct daemon *d, struct sw_sink *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < RETIRED_MAX; i++)
		if (!d->retired[i]) {
			d->retired[i] = s;
			d->retired_until[i] = mono_ms() + RETIRE_MS;
			return;
		}
	/* Reloads faster than sinks drain: the oldest way out is to wait no more. */
	log_warn("SIGHUP: too many replaced sinks still delivering; closing one now");
	sw_sink__flush(s, 0);
	sw_sink__free(s);
}

static int sinks_changed(const struct sw_dconf *a, const struct sw_dconf *b)
{
	static const enum sw_dopt_id ids[] = {SW_DO_ALERTS, SW_DO_FORMAT,   SW_DO_SYSLOG,
					      SW_DO_HOOK,   SW_DO_HOOK_ARG, SW_DO_HOOK_TIMEOUT_MS};
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!sw_dconf__same(a, b, ids[i]))
			return 1;
	return 0;
}

int daemon_sinks__reload(struct daemon *d, const struct sw_dconf *c)
{
	struct sink_set n;

	if (!sinks_changed(c, d->conf)) {
		if (d->sinks.file)
			sw_sink__reopen(d->sinks.file); /* logrotate moved it */
		return 0;
	}
	if (build(c, &n)) {
		log_err("SIGHUP: the new alert sinks cannot be set up; keeping the old ones");
		return -1;
	}
	/* Files are written synchronously: the old ones are complete now. */
	sw_sink__free(d->sinks.file);
	sw_sink__free(d->sinks.out);
	retire(d, d->sinks.syslog);
	retire(d, d->sinks.hook);
	d->sinks = n;
	log_notice("SIGHUP: alerts to %s as %s%s%s%s%s",
		   sw_dconf__str(c, SW_DO_ALERTS) ? sw_dconf__str(c, SW_DO_ALERTS)
						  : SW_DEFAULT_ALERTS,
		   sw_dconf__str(c, SW_DO_FORMAT) ? sw_dconf__str(c, SW_DO_FORMAT) : "json",
		   n.syslog ? ", syslog " : "", n.syslog ? sw_dconf__str(c, SW_DO_SYSLOG) : "",
		   n.hook ? ", hook " : "", n.hook ? sw_dconf__str(c, SW_DO_HOOK) : "");
	return 0;
}

void daemon_sinks__poll(struct daemon *d)
{
	struct sw_sink *cur[] = {d->sinks.file, d->sinks.out, d->ctl_sink, d->sinks.syslog,
				 d->sinks.hook};
	struct sw_sink_stats st;
	uint64_t now = mono_ms();
	size_t i;

	for (i = 0; i < sizeof(cur) / sizeof(cur[0]); i++)
		if (cur[i])
			sw_sink__poll(cur[i]);
	for (i = 0; i < RETIRED_MAX; i++) {
		if (!d->retired[i])
			continue;
		sw_sink__poll(d->retired[i]);
		/* A zero timeout: one non-blocking step, then whether anything is left. */
		if (sw_sink__flush(d->retired[i], 0) && now < d->retired_until[i])
			continue;
		if (now >= d->retired_until[i]) {
			sw_sink__stats(d->retired[i], &st);
			log_warn("a replaced alert sink gave up after %d s with deliveries pending "
				 "(%llu delivered, %llu dropped in all)",
				 RETIRE_MS / 1000, (unsigned long long)st.sent,
				 (unsigned long long)st.dropped);
		}
		sw_sink__free(d->retired[i]);
		d->retired[i] = NULL;
	}
}

void daemon_sinks__close(struct daemon *d)
{
	int i;

	for (i = 0; i < RETIRED_MAX; i++) {
		sw_sink__flush(d->retired[i], 1000);
		sw_sink__free(d->retired[i]);
		d->retired[i] = NULL;
	}
	sw_sink__free(d->fwd_sink);
	sw_sink__free(d->ctl_sink);
	set_free(&d->sinks);
}
