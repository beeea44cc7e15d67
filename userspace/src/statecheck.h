/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon does when its key or its secret set is missing, replaced or damaged: never
 * a silent empty set. Each verdict comes with a message for the administrator naming the file,
 * what is wrong and what to do (never a secret: only paths, sizes and modes). */
#ifndef SW_STATECHECK_H
#define SW_STATECHECK_H

#include <stddef.h>

#include "fingerprint.h"

enum sw_state_verdict {
	SW_STATE_OK,	 /* the set loaded */
	SW_STATE_WARN,	 /* run on, with a state_warning alert carrying the message */
	SW_STATE_REFUSE, /* do not start: the message says why */
};

/* Loads the key at key_path, or creates it when there is none and no secret set at set_path
 * was made under an earlier one. 0, or a negative errno with msg filled: -ENOKEY (missing key,
 * set present: a new key would make the set unusable), -EBADMSG (damaged), -EPERM (readable
 * by others), others as sw_key__load_or_create. */
int sw_statecheck__key(const char *key_path, const char *set_path, struct sw_key *key, char *msg,
		       size_t size);
/* The verdict on loading the secret set with result e (0 or sw_secretset__load's error), at
 * the daemon's start or at a later reload. A set made under another key refuses the start (the
 * key file was replaced); any other damage runs with a warning. msg is filled unless OK. */
enum sw_state_verdict sw_statecheck__set(int e, int at_start, const char *set_path,
					 const char *key_path, char *msg, size_t size);

#endif
