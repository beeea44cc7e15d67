// SPDX-License-Identifier: Apache-2.0
/* Encoders used to expand a secret into the forms it takes in transit (see encode.h). */
#include "encode.h"

static const char b64_std[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex_lo[16] = "0123456789abcdef";
static const char hex_up[16] = "0123456789ABCDEF";

size_t sw_encode__base64(const uint8_t *in, size_t n, int url, int pad, char *out)
{
	const char *a = url ? b64_url : b64_std;
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	return o;
}

/* Character k of the surrounding stream covers stream bits [6k, 6k+6); in occupies stream
 * bytes [align, align+n). A character is stable when all six of its bits come from in. */
size_t sw_encode__base64_stable(const uint8_t *in, size_t n, unsigned int align, int url, char *out)
{
	const char *a = url ? b64_url : b64_std;
	size_t k, b, i, o = 0;
	unsigned int sh, v;

	if (align > 2 || n == 0)
		return 0;
	for (k = (8 * align + 5) / 6; (6 * k + 5) / 8 < align + n; k++) {
		b = 6 * k - 8 * align; /* bit offset inside in, MSB first */
		i = b / 8;
		sh = b % 8;
		v = (unsigned int)in[i] << 8;
		if (sh > 2) /* the six bits straddle into in[i + 1] */
			v |= in[i + 1];
		out[o++] = a[(v >> (10 - sh)) & 63];
	}
	return o;
}

size_t sw_encode__hex(const uint8_t *in, size_t n, int upper, char *out)
{
	const char *d = upper ? hex_up : hex_lo;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	return 2 * n;
}

static int unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

size_t sw_encode__percent(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (unreserved(in[i])) {
			out[o++] = (char)in[i];
		} else {
			out[o++] = '%';
			out[o++] = hex_up[in[i] >> 4];
			out[o++] = hex_up[in[i] & 15];
		}
	}
	return o;
}

size_t sw_encode__json(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint8_t c;

	for (i = 0; i < n; i++) {
		c = in[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20) {
			out[o++] = (char)c;
		} else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\b'   ? 'b'
				   : c == '\f' ? 'f'
				   : c == '\n' ? 'n'
				   : c == '\r' ? 'r'
					       : 't';
		} else {
			out[o++] = '\\';
			out[o++] = 'u';
			out[o++] = '0';
			out[o++] = '0';
			out[o++] = hex_lo[c >> 4];
			out[o++] = hex_lo[c & 15];
		}
	}
	return o;
}
