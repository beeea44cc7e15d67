/* SPDX-License-Identifier: Apache-2.0 */
/* Records <-> trace-log Events: a C record (bpf/sprawl_events.h, struct sw_hdr first) becomes a
 * typed protobuf Event (proto/sprawl.proto) and back, so a trace is readable with the .proto
 * alone while the pipeline and replay keep working on C records. The round trip keeps every
 * byte that event.c gives meaning to (padding is zeroed, hdr.size is the fixed part plus its
 * tails), so a redaction's offset in the C record stays valid across it. Not thread-safe: one
 * object per thread. */
#ifndef SW_TRACEREC_H
#define SW_TRACEREC_H

#include <stddef.h>
#include <stdint.h>

#include "sprawl.pb-c.h"
#include "tracelog.h"

struct sw_tracerec;

/* NULL + errno on failure. */
struct sw_tracerec *sw_tracerec__new(void);
/* Takes NULL. */
void sw_tracerec__free(struct sw_tracerec *t);

/* Builds the Event of rec[0..len) (validated like sw_event__decode) with the redactions
 * r[0..nr), whose offsets count bytes of rec; spans past the record's hdr.size are clipped. The
 * Event borrows rec's bytes and t's storage: valid until the next call with t or until rec
 * changes. Returns 0 or -EBADMSG (not a valid record), -ENOMEM. */
int sw_tracerec__to_event(struct sw_tracerec *t, const void *rec, size_t len,
			  const struct sw_redaction *r, size_t nr, const Sprawl__Event **out);

/* Rebuilds the C record of ev in t's buffer, and its redactions (offsets checked against the
 * record). Pointers valid until the next call with t. Returns 0 or -EBADMSG (an Event no valid
 * record can come from: no header, no record, a field past its kernel limit), -ENOMEM. */
int sw_tracerec__from_event(struct sw_tracerec *t, const Sprawl__Event *ev, const uint8_t **rec,
			    size_t *len, const struct sw_redaction **red, size_t *nred);

#endif
