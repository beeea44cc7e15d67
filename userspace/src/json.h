/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON string escaper of the project: alerts, OCSF, status, trace dump, metrics labels
 * and sprawlctl all print outside text (paths, names, argv, recorded bytes) through it.
 *
 * Valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) is kept as it
 * is; each byte that does not start a valid sequence becomes U+FFFD ("\ufffd"), one per byte.
 * Quotes and backslashes are escaped, control characters and DEL become \n \r \t \b \f or
 * \u00XX, and U+2028/U+2029 are escaped so the output is also safe inside JavaScript. A NUL
 * inside the span is \u0000: hostile text always stays one harmless line. */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*sw_json_put_fn)(void *ctx, const char *s, size_t n);

/* Emits the escaped body (no quotes) of s[0..n) through put, in pieces. */
void sw_json__escape(const char *s, size_t n, sw_json_put_fn put, void *ctx);

/* Writes s[0..n) as a quoted JSON string to f. */
void sw_json__str(FILE *f, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (at most avail bytes) with its code point in *cp,
 * or 0 when s[0] does not start one. */
size_t sw_json__utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp);

#endif
