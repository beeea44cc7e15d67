/* SPDX-License-Identifier: Apache-2.0 */
/* The detection pipeline: a pure function of the records it is fed. Records in (the kernel's,
 * and those the source makes of what it read itself: /proc, read-backs, closes, time); alerts,
 * requests and redaction spans out. It reads no clock and no file and calls nothing back: time
 * comes from the records (SW_EV_TICK maps kernel time to the wall clock), and what it needs
 * from the world it asks for as requests, whose answers come back as records. A live daemon
 * and a trace replay feed it the same records, so they raise the same alerts at the same
 * times. */
#ifndef SW_PIPELINE_H
#define SW_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "fingerprint.h"
#include "proctab.h"
#include "registry.h"
#include "rules.h"
#include "secretset.h"
#include "sprawl_events.h"
#include "tracelog.h"

struct sw_pipeline;
struct sw_matcher;

#define SW_PIPELINE_INDEX_RESERVE 4096 /* patterns learned secrets add before a rebuild */

struct sw_pipeline_opts {
	const struct sw_key *key;     /* borrowed */
	struct sw_registry *registry; /* borrowed */
	const char *host;	      /* NULL = "unknown" */
	/* Borrowed, and then SW_EV_RULES records are ignored (replay --rules). NULL: the rules of
	 * the latest SW_EV_RULES record, the embedded defaults before one. */
	const struct sw_rules *rules;
	/* Borrowed when rules is NULL: the rules before the first SW_EV_RULES record, in place of
	 * compiling the embedded defaults again (a caller holding them compiled already). */
	const struct sw_rules *start_rules;
	/* Replay with the recorded rules: the live run's detectors already ran, and what they
	 * found is in the recording (spans flagged as discovered), so they do not run again. */
	int recorded_finds;
};

/* What the pipeline asks of its source. Answers come back as records. */
enum sw_request_kind {
	/* Make hdr.tgid a session root in the kernel's scope (an interpreter running an agent's
	 * script, label); answer: SW_EV_SESSION with the new id. */
	SW_REQ_ADOPT = 1,
	/* Who reads the pipe (dev = kernel dev, ino), not hdr.tgid (its writer); answer:
	 * SW_EV_READER, tgid 0 when nobody was found. ino 0: the terminal path (dev = its rdev):
	 * which of cand[] (the session's agent processes) holds its pseudo-terminal's master. */
	SW_REQ_READER,
	/* Read back [offset, offset + length) of path (dev in stat's encoding, ino, must still
	 * match) as SW_EV_DATA records flagged SW_F_READBACK, the first SW_F_FIRST, the last
	 * SW_F_LAST (with SW_F_READ_ERR when the read failed, SW_F_TRUNCATED when it stopped at
	 * the policy's bound). rescan: the whole file as a fresh stream (SW_F_RESCAN, art_kind
	 * file, dev/ino/gen of it, attributed to hdr); else the source of the copy record in
	 * copy (whose destination receives the bytes). */
	SW_REQ_READBACK,
	/* Tell of closes of path after a write by a session process (SW_EV_CLOSED); if hdr.tgid
	 * has it open no more, that is a close now. */
	SW_REQ_WATCH_CLOSE,
	/* The path of hdr.tgid's descriptor fd (a file whose name the kernel did not send):
	 * answer SW_EV_RENAMED for (dev, ino). */
	SW_REQ_NAME_FD,
	/* A held TLS write (SW_F_HELD) is decided: action (enum sw_guard_action) on hdr.tgid, whose
	 * plaintext is length bytes at address offset: SW_GA_REDACTED overwrites spans[] (offset,
	 * length within the buffer) with a marker of the same length, then resumes; SW_GA_KILLED
	 * kills it; SW_GA_RESUMED resumes it. Answer: SW_EV_GUARDED. */
	SW_REQ_VERDICT,
	/* The object label (40 hex digits) from the object store of the repository whose git dir
	 * is path (NULL: the git dir hdr.tgid works in: GIT_DIR of its environment, else the one
	 * its working directory is in), at most length bytes: a delta's base the pack did not
	 * carry. Answer: SW_EV_DATA records flagged SW_F_READBACK with art_kind SW_AK_GITOBJ, ino
	 * the request's ino, hdr the request's; chunks in order, SW_F_FIRST to SW_F_LAST; the last
	 * flagged SW_F_READ_ERR when the object cannot be had, SW_F_TRUNCATED as well when it is
	 * larger than length. */
	SW_REQ_GIT_BASE,
};

#define SW_VERDICT_SPANS 32 /* spans one verdict overwrites; more: the writer is killed */

struct sw_request {
	enum sw_request_kind kind;
	struct sw_hdr hdr; /* the process the request is about (attribution of the answer) */
	uint64_t dev, ino;
	uint32_t gen;
	int32_t fd;
	uint64_t offset, length;
	int rescan;
	int settle; /* SW_REQ_READBACK at a close: flag the last chunk SW_F_SETTLED when hdr.tgid
		     * holds the file no more (no descriptor, no mapping) */
	uint32_t cand[16], ncand; /* SW_REQ_READER of a terminal */
	struct sw_data_rec copy;  /* SW_REQ_READBACK of a copy: the copy record */
	char label[64];		  /* SW_REQ_ADOPT; SW_REQ_GIT_BASE: the object id */
	uint32_t action;	  /* SW_REQ_VERDICT: enum sw_guard_action */
	uint32_t nspans;
	struct {
		uint64_t offset, length;
	} spans[SW_VERDICT_SPANS];
	char *path; /* owned by the pipeline; valid until the next record */
	/* SW_REQ_READBACK of a copy: the destination's path (same ownership). The copy's bytes
	 * are there at copy.file_pos when the source cannot be read any more (replaced or gone
	 * since the copy: an agent backs a file up, then rewrites it by rename). */
	char *dst_path;
};

struct sw_pipeline_stats {
	uint64_t records, bad_records, data_bytes, matches, alerts, streams;
	uint64_t suppressed;	 /* alerts held back by flood control */
	uint64_t learn_dropped;	 /* detector hits not tracked: learned_max reached */
	uint64_t replay_unknown; /* recorded matches of secrets no longer in the set */
	uint64_t readbacks;	 /* read-backs requested */
	uint64_t requests_dropped;
	uint64_t alerts_dropped; /* the outbox was full (a caller that never drains) */
	uint64_t exec_args_truncated, exec_env_truncated; /* execs the kernel cut (SW_F_*_TRUNC) */
};

struct sw_pipeline *sw_pipeline__new(const struct sw_pipeline_opts *o);
void sw_pipeline__free(struct sw_pipeline *p);
/* Takes ownership of set and rebuilds the matcher; the old set is freed. */
int sw_pipeline__set_secrets(struct sw_pipeline *p, struct sw_secretset *set);
/* A set and its matcher (sw_matcher__new_reserve over set->secrets,
 * SW_PIPELINE_INDEX_RESERVE) built off
 * the event loop: they take effect at the tick record flagged SW_F_INDEX whose session_id is
 * gen, so when the new index is in force is a function of the records and a replay switches at
 * the same record. A later stage replaces one not yet in force. Takes ownership of both. */
int sw_pipeline__stage_secrets(struct sw_pipeline *p, uint64_t gen, struct sw_secretset *set,
			       struct sw_matcher *m);
/* The set and matcher the last switch replaced (NULL when none or taken): the caller frees
 * them (off its event loop); left untaken, the next switch or sw_pipeline__free frees them. */
void sw_pipeline__retired(struct sw_pipeline *p, struct sw_secretset **set, struct sw_matcher **m);
/* The gen of the last index tick seen (0: none). */
uint64_t sw_pipeline__index_gen(const struct sw_pipeline *p);
/* Whether detectors learned secrets not yet handed out by sw_pipeline__learned. */
int sw_pipeline__learned_pending(const struct sw_pipeline *p);

/* One record. Invalid records are counted, never trusted. Afterwards the caller takes the
 * alerts, the requests and (for the trace log) the redaction spans of this record. */
int sw_pipeline__record(struct sw_pipeline *p, const void *rec, size_t size);
/* Replay: a recorded record with its recorded spans, whose secret ids count as matches. */
int sw_pipeline__replay(struct sw_pipeline *p, const void *rec, size_t size,
			const struct sw_redaction *red, size_t nred);
/* Hands every alert made so far to fn, oldest first, and forgets them. The alert (and the
 * strings it points to) is valid during the call. */
void sw_pipeline__drain_alerts(struct sw_pipeline *p,
			       void (*fn)(const struct sw_alert *a, void *ctx), void *ctx);
/* The requests the last record raised. Valid until the next record. */
const struct sw_request *sw_pipeline__requests(const struct sw_pipeline *p, size_t *n);
/* The spans of the last record that hold, or may yet hold, a tracked secret: what the trace
 * log must not keep. Each span that completed a match carries the secret's id and variant;
 * spans that only may begin one have a zero id. Valid until the next record. */
const struct sw_redaction *sw_pipeline__redactions(const struct sw_pipeline *p, size_t *n);

/* The end of the input, in two steps. stop: request the read-back of every file still awaiting
 * one (as if each writer exited now); the source answers. finish: every held alert goes out
 * now (the read-backs' included). */
void sw_pipeline__stop(struct sw_pipeline *p);
void sw_pipeline__finish(struct sw_pipeline *p);

/* Queries (pure): whether a process is known (the source tells of an unknown one with a proc
 * record first), the secret set, the rules in force, the process table, statistics. */
int sw_pipeline__knows(const struct sw_pipeline *p, uint32_t tgid);
const struct sw_secretset *sw_pipeline__secrets(const struct sw_pipeline *p);
const struct sw_rules *sw_pipeline__rules(const struct sw_pipeline *p);
const struct sw_proctab *sw_pipeline__proctab(const struct sw_pipeline *p);
void sw_pipeline__stats(const struct sw_pipeline *p, struct sw_pipeline_stats *out);
/* Adds the secrets detectors learned since the last call to into (the set on disk, so they
 * survive a restart). Returns how many were added, 0 when nothing is new, or a negative
 * errno. */
int sw_pipeline__learned(struct sw_pipeline *p, struct sw_secretset *into);
/* (dev, ino) of every secret's origin file (the one its path names, and those kept under other
 * names) in the kernel's dev encoding, for the origins map. */
size_t sw_pipeline__origins(const struct sw_pipeline *p, struct sw_inode_key *out, size_t max);
/* Whether an origin moved to another file since the last call (a rename record named an origin
 * path, or a set put in force followed a move): the origins map is due again. */
int sw_pipeline__origins_moved(struct sw_pipeline *p);
/* Each distinct origin path of the set in force, with the file (dev in stat's encoding, ino)
 * the pipeline holds it names (the daemon checks the path still names it). */
void sw_pipeline__origin_paths(const struct sw_pipeline *p,
			       void (*fn)(const char *path, uint64_t dev, uint64_t ino, void *ctx),
			       void *ctx);
/* Whether an origin path names the file (dev in stat's encoding, ino) now. */
int sw_pipeline__origin_file(const struct sw_pipeline *p, uint64_t dev, uint64_t ino);
/* Each origin file kept under another name (an origin moved aside: src/origins.h), with that
 * name (the daemon tells when the name no longer names it). */
void sw_pipeline__kept_origins(const struct sw_pipeline *p,
			       void (*fn)(const char *name, uint64_t dev, uint64_t ino, void *ctx),
			       void *ctx);

#endif
