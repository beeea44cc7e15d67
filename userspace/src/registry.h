/* SPDX-License-Identifier: Apache-2.0 */
/* The registry of (secret, artifact) pairs already seen: decides "first time here". */
#ifndef SW_REGISTRY_H
#define SW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

struct sw_registry;

/* Opens the registry persisted at path (missing = empty). A corrupt file is renamed aside and
 * the registry starts empty: *corrupt is set to 1 so the caller can raise one warning alert. */
struct sw_registry *sw_registry__open(const char *path, const uint8_t key_id[SW_KEY_ID_BYTES],
				      int *corrupt);
void sw_registry__free(struct sw_registry *r);
/* Records a sighting; returns the new count (1 = first time here), or a negative errno. */
int64_t sw_registry__see(struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
			 const char *artifact_key, uint64_t now_us);
/* Marks a place as known (an origin or an allowlisted place): sightings there never count as
 * first. */
int sw_registry__know(struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
		      const char *artifact_key);
/* Persists crash-safely (temp + fsync + rename) if anything changed. */
int sw_registry__flush(struct sw_registry *r);
size_t sw_registry__size(const struct sw_registry *r);

#endif
