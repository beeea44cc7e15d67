/* SPDX-License-Identifier: Apache-2.0 */
/* Flood control: a token bucket per (secret id, session id). An agent that writes the same
 * secret into ten thousand files raises `burst` alerts at once, then `per_minute` a minute,
 * and one `rate_limited` summary per interval with the count of what was held back. The clock
 * is passed in by the caller, so the arithmetic is deterministic under test. */
#ifndef SW_RATELIMIT_H
#define SW_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

#define SW_RATELIMIT_KEYS_DEFAULT 65536u

struct sw_ratelimit;

struct sw_ratelimit_config {
	uint32_t burst;		     /* bucket size, >= 1 */
	uint32_t per_minute;	     /* refill rate; 0 = no refill after the burst */
	uint32_t summary_interval_s; /* at most one summary per key per interval */
	uint32_t max_keys;	     /* tracked (secret, session) pairs; 0 = default */
};

struct sw_ratelimit_summary {
	uint8_t secret_id[SW_SECRET_ID_BYTES]; /* all zero: pairs forgotten to stay bounded */
	uint64_t session_id;
	uint64_t suppressed;	    /* alerts held back since the previous summary */
	uint64_t first_us, last_us; /* first and last suppression in that span */
};

/* NULL with errno EINVAL (burst 0) or ENOMEM. */
struct sw_ratelimit *sw_ratelimit__new(const struct sw_ratelimit_config *cfg);
void sw_ratelimit__free(struct sw_ratelimit *rl);

/* 1: emit the alert. 0: suppressed (counted for the next summary). now_us is the caller's
 * clock (monotonic or wall, but the same one every call); a clock going back is taken as no
 * time passing. */
int sw_ratelimit__allow(struct sw_ratelimit *rl, const uint8_t secret_id[SW_SECRET_ID_BYTES],
			uint64_t session_id, uint64_t now_us);

/* Moves up to max due summaries into out and returns how many. A key's summary is due when it
 * has suppressed alerts and its last summary is at least summary_interval_s old. Call it
 * periodically (e.g. each second); each returned record becomes one `rate_limited` alert. */
size_t sw_ratelimit__summaries(struct sw_ratelimit *rl, uint64_t now_us,
			       struct sw_ratelimit_summary *out, size_t max);

/* Totals since creation. */
uint64_t sw_ratelimit__suppressed_total(const struct sw_ratelimit *rl);
size_t sw_ratelimit__keys(const struct sw_ratelimit *rl);

#endif
