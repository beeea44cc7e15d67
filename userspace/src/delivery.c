// SPDX-License-Identifier: Apache-2.0
/* See delivery.h. */
#include <errno.h>
#include <stdlib.h>

#include "alertq.h"
#include "delivery.h"
#include "summary.h"

struct sw_delivery {
	struct sw_ratelimit *rl;
	struct sw_alertq *held, *out;
	uint64_t hold_us;
	uint64_t dropped, emitted, suppressed_before;
	sw_delivery_decide decide;
	void *ctx;
	struct sw_summary *sum;
};

static struct sw_ratelimit *flood_new(const struct sw_policy *pol)
{
	struct sw_ratelimit_config rc = {.burst = pol->flood_burst,
					 .per_minute = pol->flood_per_minute,
					 .summary_interval_s = pol->flood_summary_s};

	return sw_ratelimit__new(&rc);
}

struct sw_delivery *sw_delivery__new(const struct sw_policy *pol)
{
	struct sw_delivery *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->rl = flood_new(pol);
	d->held = sw_alertq__new(SW_DELIVERY_HELD_MAX);
	d->out = sw_alertq__new(SW_DELIVERY_OUTBOX_MAX);
	d->hold_us = pol->hold_ms * 1000ull;
	if (!d->rl || !d->held || !d->out) {
		sw_delivery__free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void sw_delivery__free(struct sw_delivery *d)
{
	if (!d)
		return;
	sw_ratelimit__free(d->rl);
	sw_alertq__free(d->held);
	sw_alertq__free(d->out);
	free(d);
}

int sw_delivery__set_policy(struct sw_delivery *d, const struct sw_policy *pol)
{
	struct sw_ratelimit *rl = flood_new(pol);

	if (!rl)
		return -ENOMEM;
	d->suppressed_before += sw_ratelimit__suppressed_total(d->rl);
	sw_ratelimit__free(d->rl);
	d->rl = rl;
	d->hold_us = pol->hold_ms * 1000ull;
	return 0;
}

void sw_delivery__emit(struct sw_delivery *d, const struct sw_alert *a)
{
	if (sw_alertq__push(d->out, a, 0)) {
		d->dropped++;
		return;
	}
	d->emitted++;
	if (d->sum)
		sw_summary__feed(d->sum, a);
}

void sw_delivery__set_summary(struct sw_delivery *d, struct sw_summary *sum)
{
	d->sum = sum;
}

static int decide_and_out(struct sw_alert *a, void *ctx)
{
	struct sw_delivery *d = ctx;

	if (d->decide && d->decide(a, d->ctx))
		return 1;
	if (a->kind < SW_ALERT__COUNT)
		sw_delivery__emit(d, a);
	return 0;
}

void sw_delivery__push(struct sw_delivery *d, const struct sw_alert *a)
{
	int hold = a->has_artifact &&
		   (a->artifact.type == SW_ART_FILE || a->artifact.type == SW_ART_PIPE ||
		    a->artifact.type == SW_ART_TTY);

	if (a->has_secret && a->has_session &&
	    !sw_ratelimit__allow(d->rl, a->secret_key, a->session.id, a->time_us))
		return;
	/* A pipe alert always waits in line: its reader is asked for as it leaves. */
	if (hold && !sw_alertq__push(d->held, a, a->time_us + d->hold_us))
		return;
	if (hold && a->artifact.type != SW_ART_FILE) {
		d->dropped++; /* no room to wait for its reader */
		return;
	}
	sw_delivery__emit(d, a);
}

void sw_delivery__rename(struct sw_delivery *d, uint64_t dev, uint64_t ino, const char *path)
{
	sw_alertq__rename(d->held, dev, ino, path);
}

void sw_delivery__release(struct sw_delivery *d, uint64_t now_us, int force,
			  sw_delivery_decide decide, void *ctx)
{
	d->decide = decide;
	d->ctx = ctx;
	sw_alertq__drain(d->held, now_us, force, decide_and_out, d);
	d->decide = NULL;
	d->ctx = NULL;
}

size_t sw_delivery__summaries(struct sw_delivery *d, uint64_t now_us,
			      struct sw_ratelimit_summary *out, size_t max)
{
	return sw_ratelimit__summaries(d->rl, now_us, out, max);
}

struct drain_ctx {
	void (*fn)(const struct sw_alert *a, void *ctx);
	void *ctx;
};

static int out_one(struct sw_alert *a, void *ctx)
{
	struct drain_ctx *c = ctx;

	c->fn(a, c->ctx);
	return 0;
}

void sw_delivery__drain(struct sw_delivery *d, void (*fn)(const struct sw_alert *a, void *ctx),
			void *ctx)
{
	struct drain_ctx c = {.fn = fn, .ctx = ctx};

	sw_alertq__drain(d->out, 0, 1, out_one, &c);
}

uint64_t sw_delivery__suppressed(const struct sw_delivery *d)
{
	return d->suppressed_before + sw_ratelimit__suppressed_total(d->rl);
}

uint64_t sw_delivery__dropped(const struct sw_delivery *d)
{
	return d->dropped;
}

uint64_t sw_delivery__emitted(const struct sw_delivery *d)
{
	return d->emitted;
}
