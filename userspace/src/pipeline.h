/* SPDX-License-Identifier: Apache-2.0 */
/* The detection pipeline: decoded kernel records in, alerts out. Live events and trace
 * replay feed the same pipeline, so both produce the same alerts. */
#ifndef SW_PIPELINE_H
#define SW_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "proctab.h"
#include "registry.h"
#include "secretset.h"
#include "sink.h"
#include "sprawl_events.h"

struct sw_pipeline;

struct sw_pipeline_opts {
	const struct sw_key *key;	/* borrowed */
	struct sw_registry *registry;	/* borrowed */
	int live;			/* fill unknown processes from /proc */
	const char *host;
};

struct sw_pipeline_stats {
	uint64_t records, bad_records, data_bytes, matches, alerts, streams;
};

struct sw_pipeline *sw_pipeline__new(const struct sw_pipeline_opts *o);
void sw_pipeline__free(struct sw_pipeline *p);
/* Borrowed sinks; every alert goes to each. */
int sw_pipeline__add_sink(struct sw_pipeline *p, struct sw_sink *s);
/* Takes ownership of set and rebuilds the matcher; the old set is freed. */
int sw_pipeline__set_secrets(struct sw_pipeline *p, struct sw_secretset *set);
const struct sw_secretset *sw_pipeline__secrets(const struct sw_pipeline *p);
/* One raw kernel record. Invalid records are counted, never trusted. */
int sw_pipeline__record(struct sw_pipeline *p, const void *rec, size_t size);
/* A session the daemon started (sprawlctl run) or recovered from the pinned scope. */
int sw_pipeline__session(struct sw_pipeline *p, uint64_t id, uint32_t root_pid,
			 const char *agent);
/* Loss counter deltas since the last call: a non-zero delta becomes a coverage_gap alert. */
int sw_pipeline__loss(struct sw_pipeline *p, const struct sw_loss *delta);
struct sw_proctab *sw_pipeline__proctab(struct sw_pipeline *p);
void sw_pipeline__stats(const struct sw_pipeline *p, struct sw_pipeline_stats *out);

#endif
