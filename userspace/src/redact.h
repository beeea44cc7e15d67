/* SPDX-License-Identifier: Apache-2.0 */
/* Redaction spans: the parts of one record that hold, or may yet hold, a tracked secret, so
 * the trace log never keeps them; and, in replay, the matches a recording carried with them. */
#ifndef SW_REDACT_H
#define SW_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "matcher.h"
#include "tracelog.h"

#define SW_REDACT_MAX	     264   /* spans one record keeps; more are merged into the last */
#define SW_REDACT_DISCOVERED 0x100 /* variant flag: a detector learned the secret here */

struct sw_redact {
	struct sw_redaction span[SW_REDACT_MAX];
	size_t n;
	/* The bytes being scanned: at offset base in the record, stream offsets start.. */
	size_t base, len;
	uint64_t start;
};

/* A new record: no spans. */
void sw_redact__reset(struct sw_redact *r);
/* The next scan covers len bytes at offset base of the record, stream offsets from start. */
void sw_redact__scope(struct sw_redact *r, size_t base, uint64_t start, size_t len);
/* A match of secret id: the part of it inside the scanned bytes is kept out of the trace (a
 * part in an earlier record was redacted there as unsettled). */
void sw_redact__match(struct sw_redact *r, const struct sw_match *m, const uint8_t *id,
		      uint32_t variant);
/* Bytes from stream offset from to the end of the scan may begin a secret the next record
 * completes: kept out too, with no secret named. */
void sw_redact__unsettled(struct sw_redact *r, uint64_t from);

/* Replay: calls fn for each recorded span naming a secret that lies in the current scope, as
 * the match it was (stream offset, length, variant without flags, discovered flag). */
typedef void (*sw_redact_fn)(const uint8_t *id, const struct sw_match *m, int discovered,
			     void *ctx);
void sw_redact__recorded(const struct sw_redact *r, const struct sw_redaction *rec, size_t n,
			 sw_redact_fn fn, void *ctx);

#endif
