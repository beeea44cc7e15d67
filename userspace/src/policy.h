/* SPDX-License-Identifier: Apache-2.0 */
/* The artifact policy: the one place that decides severity, flood control, capture limits,
 * read-back limits and how long a file alert waits for a rename. Its defaults live here, beside
 * nothing else; rules/policy.yaml overrides them (rules.c parses it into a struct sw_policy),
 * and --help, the README and rules/policy.yaml are checked against these values by a test. */
#ifndef SW_POLICY_H
#define SW_POLICY_H

#include <stdint.h>

#include "alert.h"
#include "artifact.h"

/* What a severity is chosen by: the artifact types of artifact.h, then two places that refine
 * file and pipe. */
enum sw_place {
	SW_PLACE_TRANSCRIPT = SW_ART__COUNT, /* a file in an agent's transcripts */
	SW_PLACE_AGENT_PIPE,		     /* tool output read by the agent: its context */
	SW_PLACE__COUNT,
};

/* Defaults that --help states too (policy.c uses them; see sw_policy__defaults). */
#define SW_POLICY_RINGBUF_DEFAULT_MB 16
#define SW_POLICY_MAX_BYTES_DEFAULT  1048576

/* Bounds of the knobs, shared by the policy parser and the daemon's flags. */
#define SW_POLICY_MAX_BYTES_MIN 4096u
#define SW_POLICY_MAX_BYTES_MAX (32u << 20)
#define SW_POLICY_RINGBUF_MIN	(64u << 10)
#define SW_POLICY_RINGBUF_MAX	(1u << 30)
#define SW_POLICY_READBACK_MIN	(1u << 20)
#define SW_POLICY_READBACK_MAX	(1ull << 36)
#define SW_POLICY_INFLATE_MIN	(1u << 20)
#define SW_POLICY_INFLATE_MAX	(1ull << 36)

struct sw_policy {
	/* Severity of a first sighting by place (artifact type or enum sw_place). */
	uint8_t place[SW_PLACE__COUNT];
	/* Severity of every other alert kind (spread is by place above). */
	uint8_t kind[SW_ALERT__COUNT];
	uint32_t flood_burst;	     /* alerts per (session, secret) before limiting */
	uint32_t flood_per_minute;   /* then at most this many a minute */
	uint32_t flood_summary_s;    /* a held-back burst is summarised this often */
	uint64_t capture_max_bytes;  /* per syscall buffer the kernel sends */
	uint64_t ringbuf_bytes;	     /* power of two */
	uint64_t readback_max_bytes; /* bytes of one file or copy read back; past it a gap */
	uint32_t hold_ms;	     /* how long a file or pipe alert waits for a rename/reader */
	uint32_t learned_max;	     /* secrets detectors may add to the set */
	uint32_t guard;		     /* TLS writes of sessions: enum sw_guard (alert) */
	/* Compressed artifacts (gzip, git objects and packs), inflated as they are written. */
	uint64_t inflate_max_bytes;   /* inflated bytes per artifact stream; past it a gap */
	uint32_t inflate_max_ratio;   /* inflated over compressed bytes; past it a gap */
	uint64_t inflate_cache_bytes; /* a pack's objects kept as delta bases */
};

/* "alert", "redact", "block" (enum sw_guard), and back: -1 for an unknown name. */
const char *sw_policy__guard_name(uint32_t guard);
int sw_policy__guard_of(const char *name);

/* The built-in defaults (the values rules/policy.yaml shows). */
void sw_policy__defaults(struct sw_policy *p);
/* Severity of an alert of kind at place (place only counts for secret_spread). */
enum sw_severity sw_policy__severity(const struct sw_policy *p, enum sw_alert_kind kind,
				     unsigned int place);
/* Names of places as policy.yaml spells them ("file", ..., "transcript", "agent_pipe"), and of
 * kinds ("exposure", "discovered", ...); NULL past the end. */
const char *sw_policy__place_name(unsigned int place);
const char *sw_policy__kind_key(enum sw_alert_kind kind);

#endif
