/* SPDX-License-Identifier: Apache-2.0 */
/* Detectors: find secrets nobody registered in a buffer with the regex rules of rules.h. The
 * module reports where a value is; it keeps no copy of it. */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <stddef.h>

#include "rules.h"

struct sw_detect_hit {
	const struct sw_detector *rule; /* rule->id, rule->name */
	size_t offset;			/* of the secret value inside the scanned data */
	size_t len;
	double entropy; /* bits per character of the value */
};

/* Return non-zero to stop the scan (the value is returned by sw_detect__scan). The callback
 * fingerprints the value at data + offset and wipes any copy it makes. */
typedef int (*sw_detect_fn)(const struct sw_detect_hit *hit, void *ctx);

/* Scans data with every detector of r. Hits come rule by rule in file order, by offset within
 * a rule; a span overlapping one already reported in this scan is not reported again, so an
 * earlier (more specific) rule wins. Not reentrant for one r: rules hold the reused PCRE2
 * match data and the prefilter scratch, so use one r per thread.
 * Returns 0, the callback's non-zero value, -EINVAL, or -ERANGE when a regex hit a PCRE2 match
 * limit (the remaining rules were still run; the data was not fully searched by that rule). */
int sw_detect__scan(const struct sw_rules *r, const void *data, size_t len, sw_detect_fn cb,
		    void *ctx);

/* Shannon entropy of p[0..len-1] in bits per byte (0 for len 0). */
double sw_detect__entropy(const void *p, size_t len);

/* Prefilter over the detectors' literals plus per-scan scratch; built by the rules loader.
 * Returns NULL with errno set. */
struct sw_detect_index *sw_detect__index_new(const struct sw_detector *d, size_t n);
void sw_detect__index_free(struct sw_detect_index *ix);

#endif
