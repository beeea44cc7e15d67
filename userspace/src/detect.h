/* SPDX-License-Identifier: Apache-2.0 */
/* Detectors: find secrets nobody registered in the bytes of a stream with the regex rules of
 * rules.h. One Hyperscan pass (streaming mode) runs every detector at once and carries its
 * state across writes; PCRE2 confirms and extracts around each Hyperscan hit. The module is
 * pure: no I/O, no clock. It keeps no copy of a value beyond a bounded per-stream tail of the
 * latest bytes (so that a secret split across writes is confirmed whole), wiped when the
 * stream is freed. */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* Bytes of a stream kept for confirmation across writes: a match longer than this that is
 * split across writes is not confirmed (one within a single write always is). */
#define SW_DETECT_TAIL_MAX 4096

struct sw_detect_hit {
	const struct sw_detector *rule; /* rule->id, rule->name */
	const uint8_t *value;		/* the value's bytes, valid during the callback only */
	uint64_t offset;		/* stream offset of the value (for sw_detect__scan: offset
					 * inside the scanned data) */
	size_t len;
	double entropy; /* bits per character of the value */
};

/* Return non-zero to stop the scan (the value is returned by the scan). The callback
 * fingerprints the value and wipes any copy it makes. */
typedef int (*sw_detect_fn)(const struct sw_detect_hit *hit, void *ctx);

/* Per artifact stream state: the Hyperscan stream, the tail, hits waiting for more bytes. */
struct sw_detect_stream;

/* A stream for rules r. Returns NULL with errno set. The stream follows r's compiled index; if
 * it is scanned with other rules (a reload), it starts over (the tail is kept). */
struct sw_detect_stream *sw_detect__stream_new(const struct sw_rules *r);
/* Wipes the tail and frees; NULL is fine. */
void sw_detect__stream_free(struct sw_detect_stream *st);
/* Bytes this stream has been given. */
uint64_t sw_detect__stream_offset(const struct sw_detect_stream *st);
/* The bytes of the stream just before the write being scanned (the tail kept, *len of them),
 * for a callback of sw_detect__scan_stream that must look before the hit; NULL when none. */
const uint8_t *sw_detect__stream_before(const struct sw_detect_stream *st, size_t *len);

/* Scans the next len bytes of stream st with every detector of r. Within one call, hits come
 * rule by rule in file order, by offset within a rule; a span overlapping one already reported
 * on this stream (recently) is not reported again, so an earlier (more specific) rule wins. A
 * match that reaches the end of data is reported as if the stream ended there and is looked at
 * again with the next bytes (a longer value found then is reported too). Not reentrant for
 * one r: the compiled index holds scratch, so use one r per thread.
 * Returns 0, the callback's non-zero value, -EINVAL, -ENOMEM, or -ERANGE when a regex hit a
 * PCRE2 match limit (the other rules were still run). */
int sw_detect__scan_stream(const struct sw_rules *r, struct sw_detect_stream *st, const void *data,
			   size_t len, sw_detect_fn cb, void *ctx);

/* One buffer on its own: a stream of exactly these bytes. Offsets are inside data. */
int sw_detect__scan(const struct sw_rules *r, const void *data, size_t len, sw_detect_fn cb,
		    void *ctx);

/* The engine before Hyperscan (a 2-byte-gram literal prefilter arming PCRE2 per buffer, no
 * carry-over), kept so that `sprawlctl bench detect` measures both over the same bytes. Same
 * results within one buffer as sw_detect__scan. */
int sw_detect__scan_prefilter(const struct sw_rules *r, const void *data, size_t len,
			      sw_detect_fn cb, void *ctx);

/* How the rules were compiled: detectors in the Hyperscan database as regexes (prefilter
 * mode), as literal prefilters (regex Hyperscan cannot take), and run on every write. */
struct sw_detect_info {
	size_t regex, literal, always;
	size_t tail; /* bytes of tail kept per stream */
};
void sw_detect__info(const struct sw_rules *r, struct sw_detect_info *out);
/* Why detector i is not in the database as a regex ("" when it is). */
const char *sw_detect__why_literal(const struct sw_rules *r, size_t i);

/* Example templates (rules/detectors.yaml): literal text with placeholders {CLASS:N} (N random
 * characters of alnum, alpha, upper, lower, digit, hex, HEX, b64, b64url, b32, lowalnum,
 * upalnum, pw, bech32up), {rep:C:N}, {uuid}, {jwt}, {pembegin:LABEL}, {pembody:LINES},
 * {pemend:LABEL}, {lb} (a '{'), and {<} {>} around the value a match example must extract (the
 * whole text when absent). Expansion is deterministic in seed, so no committed string is a
 * credential. */
#define SW_DETECT_EXAMPLE_MAX 16384
int sw_detect__expand(const char *tmpl, uint64_t seed, char *buf, size_t cap, size_t *len,
		      size_t *vs, size_t *vl, char *err, size_t errsize);
/* Verifies detector i's examples against all of r (as one write and, for match examples,
 * split across two writes inside the value): a match example is found by this detector with
 * exactly the marked value, a nomatch example is not found by it. Returns 0, -EINVAL with msg
 * set (never a value), or -ENOMEM. */
int sw_detect__check_examples(const struct sw_rules *r, size_t i, uint64_t seed, char *msg,
			      size_t size);

/* Shannon entropy of p[0..len-1] in bits per byte (0 for len 0). */
double sw_detect__entropy(const void *p, size_t len);

/* The compiled database and scratch; built by the rules loader. Returns NULL with errno set. */
struct sw_detect_index *sw_detect__index_new(const struct sw_detector *d, size_t n);
void sw_detect__index_free(struct sw_detect_index *ix);

#endif
