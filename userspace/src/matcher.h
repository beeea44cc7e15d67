/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming matcher over keyed fingerprints: stride-sampled windows, bitmap filter, window
 * table, full keyed hash. Holds no plaintext secret. */
#ifndef SW_MATCHER_H
#define SW_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

struct sw_matcher;
struct sw_stream;

struct sw_match {
	uint32_t secret; /* index into the secrets array given to sw_matcher__new */
	uint8_t variant; /* enum sw_variant */
	uint32_t len;	 /* bytes in the stream: the pattern's, plus the line breaks inside a
			  * wrapped base64 or hex match */
	uint64_t offset; /* absolute stream offset of the first byte of the match */
};

/* Return non-zero to stop the scan (the value is returned by sw_matcher__scan). */
typedef int (*sw_match_fn)(const struct sw_match *m, void *ctx);

/* Builds an index over every pattern of secrets[0..n-1]; secrets are borrowed only during the
 * call. The key is copied. Returns NULL with errno set. n may be 0 (matches nothing). */
struct sw_matcher *sw_matcher__new(const struct sw_key *key, const struct sw_secret *secrets,
				   size_t n);
/* The same, with room for reserve more patterns to be added one secret at a time
 * (sw_matcher__add) without a rebuild. */
struct sw_matcher *sw_matcher__new_reserve(const struct sw_key *key,
					   const struct sw_secret *secrets, size_t n,
					   size_t reserve);
/* The same index built as the secrets come (a set read as it streams, never held whole with
 * its patterns): sized for npat patterns of minlen..maxlen bytes (as counted) plus reserve,
 * then every secret added in order with its patterns (borrowed for the call), then finished.
 * The result is the index sw_matcher__new_reserve builds of the same secrets. new and finish
 * return NULL with errno set (finish frees the build either way). */
struct sw_matcher_build;
struct sw_matcher_build *sw_matcher__build_new(const struct sw_key *key, size_t npat, size_t minlen,
					       size_t maxlen, size_t reserve);
int sw_matcher__build_add(struct sw_matcher_build *mb, const struct sw_secret *s, uint32_t index);
struct sw_matcher *sw_matcher__build_finish(struct sw_matcher_build *mb);
void sw_matcher__build_free(struct sw_matcher_build *mb);
/* Adds the patterns of secret s, reported as secret index. -ENOSPC when the reserve is used up,
 * -EINVAL when a pattern is too short for the stride in use: the matcher must be rebuilt. On
 * failure nothing was added. */
int sw_matcher__add(struct sw_matcher *m, const struct sw_secret *s, uint32_t index);
void sw_matcher__free(struct sw_matcher *m);
size_t sw_matcher__max_len(const struct sw_matcher *m); /* longest pattern, 0 if none */
size_t sw_matcher__stride(const struct sw_matcher *m);
size_t sw_matcher__memory(const struct sw_matcher *m); /* bytes held by the index */
/* Lets tests and benchmarks run the portable loop (on = 0) or go back to the fastest one this
 * CPU has (on = 1). Returns 1 when a SIMD loop is now in use. Both report the same matches. */
int sw_matcher__use_simd(struct sw_matcher *m, int on);

/* Per-artifact stream state: absolute offset and the carry-over tail of earlier data (kept
 * in memory only, wiped on free). */
struct sw_stream *sw_stream__new(void);
void sw_stream__free(struct sw_stream *s);
uint64_t sw_stream__offset(const struct sw_stream *s);
/* The stream offset from which bytes may still turn out to be part of a match not reported
 * yet (an open candidate, or windows not sampled whole): bytes before it are settled. A
 * recorder that must not keep a secret redacts from here to the end. */
uint64_t sw_stream__unsettled(const struct sw_stream *s, const struct sw_matcher *m);
/* Forget the carry (e.g. a non-contiguous write); the offset continues. */
void sw_stream__reset(struct sw_stream *s);

/* Scans the next len bytes of the stream. Every occurrence of a pattern is reported exactly
 * once, also when it spans earlier scans of the same stream; base64 and hex forms also when
 * wrapped into lines (LF or CRLF, any width), the match then spanning the breaks. Returns 0, the
 * callback's non-zero value, or a negative errno. */
int sw_matcher__scan(const struct sw_matcher *m, struct sw_stream *s, const void *data, size_t len,
		     sw_match_fn cb, void *ctx);

#endif
