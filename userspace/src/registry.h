/* SPDX-License-Identifier: Apache-2.0 */
/* The registry of (secret, artifact) pairs already seen: decides "first time here". */
#ifndef SW_REGISTRY_H
#define SW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

struct sw_registry;

/* Bound on entries. At the bound the least recently seen pair is forgotten (LRU) to make room:
 * forgetting can only make a later sighting of that pair alert again as "first", never hide a
 * new place. Known places (sw_registry__know) are pinned and never forgotten; when pinned
 * entries alone fill the bound, know() and see() of a new pair fail with -ENOSPC. */
#define SW_REGISTRY_CAP_DEFAULT 1000000u
/* A registry file larger than this is treated as corrupt rather than read. */
#define SW_REGISTRY_FILE_MAX (1024u * 1024u * 1024u)
#define SW_REGISTRY_VERSION  1

struct sw_registry_entry {
	uint64_t count;
	int64_t first_seen, last_seen; /* unix microseconds; 0 = never sighted (known only) */
	int known;
};

/* Opens the registry persisted at path (missing = empty). A corrupt file is renamed aside and
 * the registry starts empty: *corrupt is set to 1 so the caller can raise one warning alert. */
struct sw_registry *sw_registry__open(const char *path, const uint8_t key_id[SW_KEY_ID_BYTES],
				      int *corrupt);
void sw_registry__free(struct sw_registry *r);
/* Records a sighting; returns the new count (1 = first time here), or a negative errno.
 * A known place starts at count 1, so its first sighting returns 2. */
int64_t sw_registry__see(struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
			 const char *artifact_key, uint64_t now_us);
/* Marks a place as known (an origin or an allowlisted place): sightings there never count as
 * first. */
int sw_registry__know(struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
		      const char *artifact_key);
/* Persists crash-safely (temp + fsync + rename) if anything changed. */
int sw_registry__flush(struct sw_registry *r);
size_t sw_registry__size(const struct sw_registry *r);
/* Looks a pair up without recording anything: 0 and *out filled, or -ENOENT. */
int sw_registry__get(const struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
		     const char *artifact_key, struct sw_registry_entry *out);
/* Calls fn for up to max pairs, most recently seen first (status output). */
void sw_registry__recent(const struct sw_registry *r, size_t max,
			 void (*fn)(const uint8_t secret_id[SW_SECRET_ID_BYTES],
				    const char *artifact_key, const struct sw_registry_entry *e,
				    void *ctx),
			 void *ctx);
/* Changes the bound (tests, config); entries over a lowered bound go at the next insert. */
void sw_registry__set_cap(struct sw_registry *r, size_t cap);
/* How many pairs were forgotten to stay within the bound since open. */
uint64_t sw_registry__evictions(const struct sw_registry *r);

#endif
