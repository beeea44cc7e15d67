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
#include "tracelog.h"

struct sw_rules;

struct sw_pipeline;

struct sw_pipeline_opts {
	const struct sw_key *key;     /* borrowed */
	struct sw_registry *registry; /* borrowed */
	int live;		      /* fill unknown processes from /proc */
	const char *host;
	const struct sw_rules *rules; /* borrowed; NULL = built-in defaults */
	uint32_t hold_ms;	      /* file alerts wait this long for a rename; 0 = none */
	/* Who last read a pipe (kernel dev, ino): 1 and *tgid, or 0. NULL in replay. */
	int (*pipe_reader)(void *ctx, uint64_t kdev, uint64_t ino, uint32_t *tgid);
	void *pipe_reader_ctx;
	/* Puts tgid into the scope as a new session root; returns its session id or 0. NULL in
	 * replay. Shares pipe_reader_ctx. */
	uint64_t (*adopt)(void *ctx, uint32_t tgid);
	/* Live: records the pipeline makes itself (the pipe readers it found), for the trace
	 * log. NULL when nothing records. Shares pipe_reader_ctx. */
	void (*emit_record)(void *ctx, const void *rec, size_t len);
	/* Live: a file entered the read-back set; the daemon asks to hear when it is closed
	 * after a write (fanotify), and calls sw_pipeline__closed then. Shares pipe_reader_ctx. */
	void (*watch_close)(void *ctx, const char *path);
};

struct sw_pipeline_stats {
	uint64_t records, bad_records, data_bytes, matches, alerts, streams;
	uint64_t copies_unread;	 /* copies whose source could not be read back */
	uint64_t suppressed;	 /* alerts held back by flood control */
	uint64_t learn_dropped;	 /* detector hits not tracked: LEARNED_MAX reached */
	uint64_t replay_unknown; /* recorded matches of secrets no longer in the set */
	uint64_t replay_unread;	 /* copies and exit-time rescans a replay cannot read back */
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
/* The spans of the last record that hold, or may yet hold, a tracked secret: what the trace
 * log must not keep. Each span that completed a match carries the secret's id and variant;
 * spans that only may begin one have a zero id. Valid until the next record. */
const struct sw_redaction *sw_pipeline__redactions(const struct sw_pipeline *p, size_t *n);
/* Replay: a recorded record with its recorded spans, whose secret ids count as matches. */
int sw_pipeline__replay(struct sw_pipeline *p, const void *rec, size_t size,
			const struct sw_redaction *red, size_t nred);
/* A session the daemon started (sprawlctl run) or recovered from the pinned scope. */
int sw_pipeline__session(struct sw_pipeline *p, uint64_t id, uint32_t root_pid, const char *agent);
/* Loss counter deltas since the last call: a non-zero delta becomes a coverage_gap alert. */
int sw_pipeline__loss(struct sw_pipeline *p, const struct sw_loss *delta);
/* Adds the secrets detectors learned since the last call to into (the set on disk, so they
 * survive a restart). Returns how many were added, 0 when nothing is new, or a negative
 * errno. */
int sw_pipeline__learned(struct sw_pipeline *p, struct sw_secretset *into);
/* A file in the read-back set was closed after a write by pid: read it back now (also again
 * at its writer's exit: a mapping may outlive the descriptor). fd: the closed file as the
 * close event handed it over (read back through it: its name may be gone already), or -1. */
void sw_pipeline__closed(struct sw_pipeline *p, uint32_t pid, uint64_t dev, uint64_t ino, int fd);
/* Emits held alerts that are due (all with force) and flood-control summaries. Call often
 * (the daemon: every 250 ms; replay: at the end with force). */
void sw_pipeline__flush(struct sw_pipeline *p, uint64_t now_us, int force);
/* Reads back the files of every live process still awaiting a rescan, as if it exited now
 * (daemon shutdown). */
void sw_pipeline__rescan_all(struct sw_pipeline *p);
/* (dev, ino) of every secret's origin in the kernel's dev encoding, for the origins map. */
size_t sw_pipeline__origins(const struct sw_pipeline *p, struct sw_inode_key *out, size_t max);
struct sw_proctab *sw_pipeline__proctab(struct sw_pipeline *p);
void sw_pipeline__stats(const struct sw_pipeline *p, struct sw_pipeline_stats *out);

#endif
