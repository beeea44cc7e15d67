/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed fingerprints of secret values: the only form in which sprawlwatch holds a secret. */
#ifndef SW_FINGERPRINT_H
#define SW_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define SW_KEY_BYTES	   32
#define SW_KEY_ID_BYTES	   8
#define SW_SECRET_ID_BYTES 8
#define SW_FULL_HASH_BYTES 32
#define SW_WINDOW	   8	/* bytes per sampled window */
#define SW_STRIDE_MAX	   8	/* largest sampling stride */
#define SW_SECRET_MIN	   8	/* shortest secret value accepted */
#define SW_SECRET_MAX	   4096 /* longest secret value accepted */
#define SW_NAME_MAX	   128

struct sw_key {
	uint8_t bytes[SW_KEY_BYTES];
	uint8_t id[SW_KEY_ID_BYTES]; /* keyed hash of a constant: identifies the key */
	uint64_t mix[2];	     /* derived constants for the cheap window mix */
};

enum sw_variant {
	SW_VAR_RAW = 0,
	SW_VAR_BASE64,
	SW_VAR_BASE64URL,
	SW_VAR_HEX, /* lower case */
	SW_VAR_HEX_UPPER,
	SW_VAR_PERCENT,
	SW_VAR_JSON,
	SW_VAR__COUNT,
};

struct sw_pattern {
	uint8_t variant; /* enum sw_variant */
	uint32_t len;
	uint8_t full_hash[SW_FULL_HASH_BYTES];
	uint32_t nwin;		     /* min(SW_STRIDE_MAX, len - SW_WINDOW + 1) */
	uint64_t win[SW_STRIDE_MAX]; /* keyed window hashes at offsets 0..nwin-1 */
};

struct sw_secret {
	uint8_t id[SW_SECRET_ID_BYTES];
	char name[SW_NAME_MAX];
	uint32_t owner_uid;
	/* The file it was imported from, NULL when none; owned (sw_secret__set_origin, freed by
	 * sw_secret__clear). A pointer, not 4 KiB inline: sets of 100,000 secrets are held. */
	char *origin;
	uint64_t origin_dev, origin_ino;
	int64_t created;
	uint32_t value_len;
	int learned;
	char detector[64];
	uint32_t npatterns;
	struct sw_pattern *patterns;
};

/* Loads the key at path, creating it (getrandom, mode 0600) when absent. */
int sw_key__load_or_create(const char *path, struct sw_key *key);
/* Derives id and mix constants from key->bytes (used by load and by tests). */
void sw_key__derive(struct sw_key *key);

/* "raw", "base64", "base64url", "hex", "hex" (upper), "percent", "json". */
const char *sw_variant__name(enum sw_variant v);

/* The cheap keyed 64-bit mix of 8 bytes at p: the window hash stored in patterns and
 * recomputed by the matcher at each sampled offset. */
uint64_t sw_fingerprint__window(const struct sw_key *key, const uint8_t *p);

/* The 8 bytes at p as a little-endian 64-bit value: the window both sides hash. */
static inline uint64_t sw_fingerprint__load(const uint8_t *p)
{
	uint64_t x;

	__builtin_memcpy(&x, p, sizeof(x));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* The mix itself, on the 8 bytes loaded little-endian, for the matcher's hot loop. A filter,
 * not a MAC: xor and multiply by key-derived odd constants with xor-shifts in between. It is a
 * bijection of the 64-bit window, so equal window hashes mean equal windows; the full keyed
 * hash is what confirms a match. */
static inline uint64_t sw_fingerprint__mix(uint64_t k0, uint64_t k1, uint64_t x)
{
	uint64_t h = (x ^ k0) * k1;

	h ^= h >> 29;
	h *= k0 | 1;
	return h ^ (h >> 32);
}
/* Keyed BLAKE2b-256 of a candidate span. */
void sw_fingerprint__full(const struct sw_key *key, const uint8_t *p, size_t len,
			  uint8_t out[SW_FULL_HASH_BYTES]);

/* Expands value into its patterns and fills s->id, s->value_len, s->patterns, s->npatterns.
 * value is wiped (sodium_memzero) before return, on success and on failure.
 * Returns 0, -EINVAL (length out of range) or -ENOMEM. */
int sw_fingerprint__secret(const struct sw_key *key, uint8_t *value, size_t len,
			   struct sw_secret *s);

/* Frees what sw_fingerprint__secret and sw_secret__set_origin allocated inside s (not s
 * itself). */
void sw_secret__clear(struct sw_secret *s);
#define SW_ORIGIN_MAX 4096 /* longest origin path kept, terminator included */
/* A copy of path as s's origin (NULL or "": none). 0, -ENAMETOOLONG or -ENOMEM. */
int sw_secret__set_origin(struct sw_secret *s, const char *path);
/* s's origin, "" when none. */
static inline const char *sw_secret__origin(const struct sw_secret *s)
{
	return s->origin ? s->origin : "";
}
/* Hex form of the secret id into out (2*SW_SECRET_ID_BYTES+1 bytes). */
void sw_secret__id_hex(const struct sw_secret *s, char out[2 * SW_SECRET_ID_BYTES + 1]);

#endif
