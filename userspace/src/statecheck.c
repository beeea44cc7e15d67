// SPDX-License-Identifier: Apache-2.0
/* See statecheck.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "statecheck.h"

int sw_statecheck__key(const char *key_path, const char *set_path, struct sw_key *key, char *msg,
		       size_t size)
{
	struct stat st;
	int e;

	if (!key_path || !set_path || !key || !msg || !size)
		return -EINVAL;
	msg[0] = 0;
	/* A new key for an existing set would leave every secret in it unmatchable, and the
	 * next save would replace the set: refuse instead of starting blind. */
	if (lstat(key_path, &st) && errno == ENOENT && !stat(set_path, &st)) {
		snprintf(msg, size,
			 "%s: the key is missing but the secret set %s exists (made under that "
			 "key): restore the key from a backup (mode 0600, owner root), or move %s "
			 "aside to start over with an empty set",
			 key_path, set_path, set_path);
		return -ENOKEY;
	}
	e = sw_key__load_or_create(key_path, key);
	if (!e)
		return 0;
	if (e == -EBADMSG)
		snprintf(msg, size,
			 "%s: the key is damaged (a key is exactly %d bytes, this file is %lld): "
			 "restore it from a backup; without it the secret set %s cannot be used",
			 key_path, SW_KEY_BYTES,
			 lstat(key_path, &st) ? -1LL : (long long)st.st_size, set_path);
	else if (e == -EPERM)
		snprintf(msg, size,
			 "%s: the key is readable by others (mode %03o): if it may have leaked, "
			 "make a new one and add the secrets again; else chmod 0600 it",
			 key_path, lstat(key_path, &st) ? 0 : (unsigned)(st.st_mode & 0777));
	else if (e == -EINVAL || e == -ELOOP)
		snprintf(msg, size,
			 "%s: the key is not a regular file: put the key file back there",
			 key_path);
	else
		snprintf(msg, size, "%s: cannot load or create the key: %s", key_path,
			 strerror(-e));
	return e;
}

static const char *damage(int e)
{
	switch (e) {
	case -EBADMSG:
		return "truncated, altered or not a secret set: its authentication failed";
	case -EPROTONOSUPPORT:
		return "written by another version of sprawlwatch";
	case -EFBIG:
		return "larger than a secret set can be";
	case -EKEYREJECTED:
		return "made under another key";
	case -ENODATA:
		return "empty (0 bytes)";
	default:
		return strerror(-e);
	}
}

enum sw_state_verdict sw_statecheck__set(int e, int at_start, const char *set_path,
					 const char *key_path, char *msg, size_t size)
{
	struct stat st;

	if (!e)
		return SW_STATE_OK;
	/* An empty file parses as a set of no version: say what it is. */
	if (!stat(set_path, &st) && S_ISREG(st.st_mode) && st.st_size == 0)
		e = -ENODATA;
	/* At start, a set made under another key means the key file was replaced: every
	 * fingerprint would be computed under the wrong key. */
	if (at_start && e == -EKEYREJECTED) {
		snprintf(msg, size,
			 "%s: the secret set was made under another key than %s (the key was "
			 "replaced): restore the key that made the set, or move %s aside to start "
			 "over with an empty set",
			 set_path, key_path, set_path);
		return SW_STATE_REFUSE;
	}
	snprintf(msg, size,
		 "secret set %s is %s: %s; the file is kept as it is: restore it from a backup, "
		 "or move it aside and add the secrets again (sprawlctl secrets add / import-env)",
		 set_path, damage(e),
		 at_start ? "NO registered secret is tracked"
			  : "the secrets loaded before stay tracked");
	return SW_STATE_WARN;
}
