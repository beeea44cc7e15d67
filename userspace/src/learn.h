/* SPDX-License-Identifier: Apache-2.0 */
/* Learning: detector hits in what a session wrote become tracked secrets at once (keyed
 * fingerprints only: the value is wiped as soon as it is hashed). */
#ifndef SW_LEARN_H
#define SW_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "matcher.h"
#include "rules.h"
#include "secretset.h"

struct sw_learn {
	const struct sw_key *key;
	size_t learned;			 /* secrets detectors have added to the set */
	size_t max;			 /* more are counted, not tracked */
	uint64_t dropped;		 /* hits not tracked: max reached */
	const struct sw_agentcred *cred; /* an agent's own credentials are not learned */
	/* The tracked secrets' matcher: a hit inside one of them in the same bytes (a detector
	 * matching the first part of a tracked token) is that secret, not a new one. */
	const struct sw_matcher *known;
	uint64_t inside_known; /* hits not learned for that */
	/* Told of every hit that is, or now is, a learned secret of set: its index, and where it
	 * is in the bytes scanned (a hit that began in earlier bytes is not told). NULL: not. */
	void (*found)(void *ctx, size_t secret, uint64_t pos, size_t len);
	void *found_ctx;
};

/* Counts the learned secrets of set (after the set was replaced). */
void sw_learn__reset(struct sw_learn *l, const struct sw_secretset *set);
/* Runs the detectors of rules over data (the next bytes of detector stream ds, which carries a
 * value split across writes; NULL: data on its own) and adds every new value to set, named
 * after the rule, created at now_s. Returns how many were added (the matcher must be rebuilt
 * then). */
struct sw_detect_stream;
size_t sw_learn__scan(struct sw_learn *l, const struct sw_rules *rules, struct sw_secretset *set,
		      struct sw_detect_stream *ds, const void *data, size_t len, int64_t now_s);
/* Copies the learned secrets of from that into lacks into it (the set on disk). Returns how
 * many, or a negative errno. */
int sw_learn__export(const struct sw_secretset *from, struct sw_secretset *into);
/* Saves the learned secrets of learned that the set file at path lacks into it (the caller
 * holds its lock), appending them as the file streams when it can. Returns how many, or a
 * negative errno (the file is then as it was). */
int sw_learn__save(const char *path, const struct sw_key *key, const struct sw_secretset *learned);

#endif
