// SPDX-License-Identifier: Apache-2.0
/* Artifact type names and canonical identity keys.
 *
 * A key is "<type>" followed by ':'-separated fields. Every field that comes from outside
 * (paths, peers, names) is percent-encoded: '%', ':', '#', bytes below 0x21 and 0x7f and above
 * are written as %XX, so a field can never contain a separator and a key is printable ASCII
 * (it is stored in a proto3 string, which must be UTF-8). Paths are attacker-controlled: a
 * key that would not fit is cut and ended with '#' and a BLAKE2b digest of the whole encoded
 * key, so two different long paths still get two different keys. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "artifact.h"

static const char *const type_names[SW_ART__COUNT] = {
	[SW_ART_FILE] = "file",		[SW_ART_SOCKET] = "socket", [SW_ART_EXEC_ARG] = "exec_arg",
	[SW_ART_EXEC_ENV] = "exec_env", [SW_ART_PIPE] = "pipe",	    [SW_ART_TTY] = "tty",
	[SW_ART_TLS] = "tls",
};

const char *sw_artifact__type_name(enum sw_artifact_type t)
{
	if ((unsigned int)t >= SW_ART__COUNT)
		return "unknown";
	return type_names[t];
}

#define KEY_DIGEST_BYTES 16

/* An unbounded builder: counts every byte it would write so the caller can tell whether the
 * whole key fitted, and stores only what fits. */
struct kb {
	char *out;
	size_t size;
	size_t len;
	crypto_generichash_state *h; /* when set, every byte also goes into the digest */
	unsigned char chunk[256];
	size_t clen;
};

static void kb_putc(struct kb *b, char c)
{
	if (b->len + 1 < b->size)
		b->out[b->len] = c;
	b->len++;
	if (b->h) {
		b->chunk[b->clen++] = (unsigned char)c;
		if (b->clen == sizeof(b->chunk)) {
			crypto_generichash_update(b->h, b->chunk, b->clen);
			b->clen = 0;
		}
	}
}

static void kb_puts(struct kb *b, const char *s)
{
	while (*s)
		kb_putc(b, *s++);
}

static int must_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == ':' || c == '#';
}

/* Encodes at most max bytes of s (fields are fixed arrays: never read past them). */
static void kb_field(struct kb *b, const char *s, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	kb_putc(b, ':');
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (must_escape(c)) {
			kb_putc(b, '%');
			kb_putc(b, hex[c >> 4]);
			kb_putc(b, hex[c & 15]);
		} else {
			kb_putc(b, (char)c);
		}
	}
}

static void kb_u64(struct kb *b, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), ":%llu", (unsigned long long)v);
	kb_puts(b, tmp);
}

static void build(const struct sw_artifact *a, struct kb *b)
{
	if ((a->type == SW_ART_FILE || a->type == SW_ART_TLS) && a->git.repo[0]) {
		kb_puts(b, "git");
		kb_field(b, a->git.repo, sizeof(a->git.repo));
		return;
	}
	kb_puts(b, sw_artifact__type_name(a->type));
	switch (a->type) {
	case SW_ART_FILE:
		kb_u64(b, a->dev);
		kb_u64(b, a->ino);
		kb_u64(b, a->gen);
		break;
	case SW_ART_SOCKET:
		kb_field(b, a->proto, sizeof(a->proto));
		kb_field(b, a->peer, sizeof(a->peer));
		break;
	case SW_ART_EXEC_ARG:
		kb_field(b, a->path, sizeof(a->path));
		break;
	case SW_ART_EXEC_ENV:
		kb_field(b, a->path, sizeof(a->path));
		kb_field(b, a->name, sizeof(a->name));
		break;
	case SW_ART_PIPE:
		kb_field(b, a->reader_exe, sizeof(a->reader_exe));
		break;
	case SW_ART_TTY:
		break;
	case SW_ART_TLS:
		kb_field(b, a->peer, sizeof(a->peer));
		kb_field(b, a->sni, sizeof(a->sni));
		break;
	default:
		break;
	}
}

size_t sw_artifact__key(const struct sw_artifact *a, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[KEY_DIGEST_BYTES];
	crypto_generichash_state st;
	struct kb b = {.out = out, .size = size};
	size_t keep, i;

	if (!size)
		return 0;
	build(a, &b);
	if (b.len < size) {
		out[b.len] = '\0';
		return b.len;
	}
	/* Too long: digest the whole encoded key, then keep a prefix and "#<digest>". */
	if (size < 2 * KEY_DIGEST_BYTES + 2) {
		out[0] = '\0';
		return 0;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(digest));
	b = (struct kb){.out = out, .size = 0, .h = &st};
	build(a, &b);
	crypto_generichash_update(&st, b.chunk, b.clen);
	crypto_generichash_final(&st, digest, sizeof(digest));

	keep = size - 1 - (1 + 2 * KEY_DIGEST_BYTES);
	/* Do not cut an escape sequence in half. */
	if (keep >= 1 && out[keep - 1] == '%')
		keep -= 1;
	else if (keep >= 2 && out[keep - 2] == '%')
		keep -= 2;
	out[keep++] = '#';
	for (i = 0; i < KEY_DIGEST_BYTES; i++) {
		out[keep++] = hex[digest[i] >> 4];
		out[keep++] = hex[digest[i] & 15];
	}
	out[keep] = '\0';
	return keep;
}
