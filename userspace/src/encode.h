/* SPDX-License-Identifier: Apache-2.0 */
/* Encoders for the forms a secret takes on its way through files, URLs and JSON: base64
 * (standard and url-safe), hex, percent-encoding and JSON string escaping. No allocation, no
 * NUL terminator: each returns the number of bytes written; out must hold the _MAX size. */
#ifndef SW_ENCODE_H
#define SW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define SW_ENC_BASE64_MAX(n)  (4 * (((n) + 2) / 3))
#define SW_ENC_HEX_MAX(n)     (2 * (n))
#define SW_ENC_PERCENT_MAX(n) (3 * (n))
#define SW_ENC_JSON_MAX(n)    (6 * (n))

/* RFC 4648 base64; url selects the url-safe alphabet; pad adds '=' padding. */
size_t sw_encode__base64(const uint8_t *in, size_t n, int url, int pad, char *out);
/* The part of the base64 encoding of in that is the same whatever bytes surround it, when in
 * starts at byte offset align (0, 1 or 2) modulo 3 of a larger base64-encoded stream: only the
 * characters whose 6 bits all come from in. Returns its length (at most SW_ENC_BASE64_MAX(n)). */
size_t sw_encode__base64_stable(const uint8_t *in, size_t n, unsigned int align, int url,
				char *out);
size_t sw_encode__hex(const uint8_t *in, size_t n, int upper, char *out);
/* RFC 3986: every byte outside ALPHA / DIGIT / "-" / "." / "_" / "~" becomes %XX (upper case). */
size_t sw_encode__percent(const uint8_t *in, size_t n, char *out);
/* JSON string body: '"', '\\' and control bytes escaped (\b \f \n \r \t, else \u00XX); other
 * bytes, including UTF-8 sequences, are copied. */
size_t sw_encode__json(const uint8_t *in, size_t n, char *out);

#endif
