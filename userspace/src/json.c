// SPDX-License-Identifier: Apache-2.0
/* See json.h. */
#include "json.h"

size_t sw_json__utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t v;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

void sw_json__escape(const char *str, size_t avail, sw_json_put_fn put, void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, j, n;
	char esc[8];
	uint32_t cp;

	while (i < avail) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			/* A run of plain ASCII at once. */
			j = i + 1;
			while (j < avail && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' &&
			       s[j] != '\\')
				j++;
			put(ctx, str + i, j - i);
			i = j;
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(ctx, esc, 2);
			i++;
		} else if (c < 0x80) {
			switch (c) {
			case '\n':
				put(ctx, "\\n", 2);
				break;
			case '\r':
				put(ctx, "\\r", 2);
				break;
			case '\t':
				put(ctx, "\\t", 2);
				break;
			case '\b':
				put(ctx, "\\b", 2);
				break;
			case '\f':
				put(ctx, "\\f", 2);
				break;
			default:
				esc[0] = '\\';
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				put(ctx, esc, 6);
			}
			i++;
		} else {
			n = sw_json__utf8_seq(s + i, avail - i, &cp);
			if (!n) {
				put(ctx, "\\ufffd", 6);
				i++;
			} else if (cp == 0x2028 || cp == 0x2029) {
				put(ctx, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
				i += n;
			} else {
				put(ctx, str + i, n);
				i += n;
			}
		}
	}
}

static void put_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

void sw_json__str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	sw_json__escape(s, n, put_file, f);
	fputc('"', f);
}
