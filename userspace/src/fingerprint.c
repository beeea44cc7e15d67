// SPDX-License-Identifier: Apache-2.0
/* Keyed fingerprints: the key file, the window mix and the expansion of a secret value into
 * hashed patterns. Plaintext lives here only for the duration of sw_fingerprint__secret. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "encode.h"
#include "fileio.h"
#include "fingerprint.h"

/* Domain-separation constants: each derived value hashes a different message or prefix. */
static const char key_id_msg[] = "sprawlwatch key id v1";
static const char mix_msg[] = "sprawlwatch window mix v1";
static const char secret_id_prefix[] = "sprawlwatch secret id v1";

#define KEY_CREATE_ATTEMPTS 4
#define MAX_PATTERNS	    (1 + 3 + 3 + 4) /* raw, 2 x 3 base64 alignments, hex x2, pct, json */

void sw_key__derive(struct sw_key *key)
{
	uint8_t m[16];

	crypto_generichash(key->id, sizeof(key->id), (const uint8_t *)key_id_msg,
			   sizeof(key_id_msg) - 1, key->bytes, sizeof(key->bytes));
	crypto_generichash(m, sizeof(m), (const uint8_t *)mix_msg, sizeof(mix_msg) - 1, key->bytes,
			   sizeof(key->bytes));
	key->mix[0] = sw_fingerprint__load(m);
	key->mix[1] = sw_fingerprint__load(m + 8) | 1; /* odd: the multiply must be a bijection */
	sodium_memzero(m, sizeof(m));
}

static int key_read(const char *path, struct sw_key *key)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	/* A key others can read is a key others have: refuse it rather than trust it. */
	if (st.st_mode & 0077) {
		rc = -EPERM;
		goto out;
	}
	if (st.st_size != SW_KEY_BYTES) {
		rc = -EBADMSG;
		goto out;
	}
	while (got < SW_KEY_BYTES) {
		r = read(fd, key->bytes + got, SW_KEY_BYTES - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0) {
			rc = -EBADMSG;
			goto out;
		}
		got += (size_t)r;
	}
	sw_key__derive(key);
out:
	if (rc)
		sodium_memzero(key, sizeof(*key));
	close(fd);
	return rc;
}

/* Writes a fresh key beside path and links it into place, so a reader never sees a partial
 * key and two racing creators agree on one (the loser gets -EEXIST and reads the winner's). */
static int key_create(const char *path)
{
	uint8_t buf[SW_KEY_BYTES];
	char tmp[PATH_MAX];
	size_t got = 0;
	ssize_t r;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto out;
	}
	while (got < sizeof(buf)) {
		r = getrandom(buf + got, sizeof(buf) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		got += (size_t)r;
	}
	rc = sw_fileio__write_all(fd, buf, sizeof(buf));
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (!rc && link(tmp, path) < 0)
		rc = -errno;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	unlink(tmp);
	return rc;
}

int sw_key__load_or_create(const char *path, struct sw_key *key)
{
	int i, rc;

	if (!path || !key)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	for (i = 0; i < KEY_CREATE_ATTEMPTS; i++) {
		rc = key_read(path, key);
		if (rc != -ENOENT)
			return rc;
		rc = key_create(path);
		if (rc && rc != -EEXIST)
			return rc;
	}
	return -EAGAIN;
}

const char *sw_variant__name(enum sw_variant v)
{
	switch (v) {
	case SW_VAR_RAW:
		return "raw";
	case SW_VAR_BASE64:
		return "base64";
	case SW_VAR_BASE64URL:
		return "base64url";
	case SW_VAR_HEX:
	case SW_VAR_HEX_UPPER:
		return "hex";
	case SW_VAR_PERCENT:
		return "percent";
	case SW_VAR_JSON:
		return "json";
	default:
		return "unknown";
	}
}

uint64_t sw_fingerprint__window(const struct sw_key *key, const uint8_t *p)
{
	return sw_fingerprint__mix(key->mix[0], key->mix[1], sw_fingerprint__load(p));
}

void sw_fingerprint__full(const struct sw_key *key, const uint8_t *p, size_t len,
			  uint8_t out[SW_FULL_HASH_BYTES])
{
	crypto_generichash(out, SW_FULL_HASH_BYTES, p, len, key->bytes, sizeof(key->bytes));
}

/* Hashes one encoded form into the next free pattern unless it is too short to window or
 * identical to a form already kept (e.g. hex upper of "1234..." or base64url without '+/'). */
static void add_pattern(const struct sw_key *key, struct sw_secret *s, enum sw_variant v,
			const uint8_t *p, size_t len)
{
	struct sw_pattern *pat = &s->patterns[s->npatterns];
	uint32_t i;

	if (len < SW_WINDOW)
		return;
	memset(pat, 0, sizeof(*pat));
	sw_fingerprint__full(key, p, len, pat->full_hash);
	for (i = 0; i < s->npatterns; i++) {
		if (s->patterns[i].len == len &&
		    !sodium_memcmp(s->patterns[i].full_hash, pat->full_hash, SW_FULL_HASH_BYTES))
			return;
	}
	pat->variant = (uint8_t)v;
	pat->len = (uint32_t)len;
	pat->nwin = (uint32_t)(len - SW_WINDOW + 1);
	if (pat->nwin > SW_STRIDE_MAX)
		pat->nwin = SW_STRIDE_MAX;
	for (i = 0; i < pat->nwin; i++)
		pat->win[i] = sw_fingerprint__window(key, p + i);
	s->npatterns++;
}

int sw_fingerprint__secret(const struct sw_key *key, uint8_t *value, size_t len,
			   struct sw_secret *s)
{
	crypto_generichash_state st;
	size_t cap, n;
	uint8_t *buf = NULL;
	unsigned int a;
	int rc = 0, url;

	if (!key || !value || !s) {
		rc = -EINVAL;
		goto out;
	}
	if (len < SW_SECRET_MIN || len > SW_SECRET_MAX) {
		rc = -EINVAL;
		goto out;
	}
	if (sodium_init() < 0) {
		rc = -EIO;
		goto out;
	}
	cap = SW_ENC_JSON_MAX(len); /* the longest of all encodings */
	buf = malloc(cap);
	s->patterns = calloc(MAX_PATTERNS, sizeof(*s->patterns));
	if (!buf || !s->patterns) {
		rc = -ENOMEM;
		goto out;
	}
	s->npatterns = 0;
	s->value_len = (uint32_t)len;

	crypto_generichash_init(&st, key->bytes, sizeof(key->bytes), SW_SECRET_ID_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)secret_id_prefix, sizeof(secret_id_prefix));
	crypto_generichash_update(&st, value, len);
	crypto_generichash_final(&st, s->id, SW_SECRET_ID_BYTES);
	sodium_memzero(&st, sizeof(st));

	add_pattern(key, s, SW_VAR_RAW, value, len);
	for (url = 0; url <= 1; url++) {
		for (a = 0; a < 3; a++) {
			n = sw_encode__base64_stable(value, len, a, url, (char *)buf);
			add_pattern(key, s, url ? SW_VAR_BASE64URL : SW_VAR_BASE64, buf, n);
			sodium_memzero(buf, n);
		}
	}
	n = sw_encode__hex(value, len, 0, (char *)buf);
	add_pattern(key, s, SW_VAR_HEX, buf, n);
	sodium_memzero(buf, n);
	n = sw_encode__hex(value, len, 1, (char *)buf);
	add_pattern(key, s, SW_VAR_HEX_UPPER, buf, n);
	sodium_memzero(buf, n);
	n = sw_encode__percent(value, len, (char *)buf);
	add_pattern(key, s, SW_VAR_PERCENT, buf, n);
	sodium_memzero(buf, n);
	n = sw_encode__json(value, len, (char *)buf);
	add_pattern(key, s, SW_VAR_JSON, buf, n);
out:
	if (buf) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	if (rc && s) {
		free(s->patterns);
		s->patterns = NULL;
		s->npatterns = 0;
	}
	if (value)
		sodium_memzero(value, len);
	return rc;
}

void sw_secret__clear(struct sw_secret *s)
{
	if (!s)
		return;
	free(s->patterns);
	s->patterns = NULL;
	s->npatterns = 0;
	free(s->origin);
	s->origin = NULL;
}

int sw_secret__set_origin(struct sw_secret *s, const char *path)
{
	char *o = NULL;

	if (path && path[0]) {
		if (strlen(path) >= SW_ORIGIN_MAX)
			return -ENAMETOOLONG;
		o = strdup(path);
		if (!o)
			return -ENOMEM;
	}
	free(s->origin);
	s->origin = o;
	return 0;
}

void sw_secret__id_hex(const struct sw_secret *s, char out[2 * SW_SECRET_ID_BYTES + 1])
{
	sodium_bin2hex(out, 2 * SW_SECRET_ID_BYTES + 1, s->id, SW_SECRET_ID_BYTES);
}
