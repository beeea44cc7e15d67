/* SPDX-License-Identifier: Apache-2.0 */
/* Reading one object from a repository's object store, for a pack's delta whose base the pack
 * did not carry (a thin pack: what `git push` sends, what index-pack --fix-thin completes):
 * the pipeline asks (SW_REQ_GIT_BASE), the source answers with what this reads. Loose objects
 * (objects/xx/<38 hex>, one zlib stream) and packed ones (the .idx files of objects/pack, version
 * 2, searched; the entry inflated and its delta chain applied), in the repository and in the object
 * directories its objects/info/alternates names (one level). Edge code: it reads files (blocking, a
 * few reads per object), never follows a symlink at an object's or pack's own name, and is bounded:
 * the object's size (max, and every delta of its chain), the chain's depth, packs and alternates
 * looked at. */
#ifndef SW_GITSTORE_H
#define SW_GITSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gitobj.h"

#define SW_GITSTORE_CHAIN_MAX 64 /* deltas applied to make one object */

/* Object id from the store of the repository whose git dir is gitdir. *out (malloc'd, the
 * caller wipes and frees it) holds its content, *type its type (enum sw_git_type, 1..4).
 * Returns 0; -ENOENT (no such repository or object), -EFBIG (it, or a delta of its chain, is
 * larger than max), -ELOOP (a longer chain), -EINVAL (damaged), -ENOMEM. */
int sw_gitstore__read(const char *gitdir, const uint8_t id[SW_GIT_ID_BYTES], size_t max, int *type,
		      uint8_t **out, size_t *len);

/* The git dir process pid works in: GIT_DIR of its environment (git sets it for the remote
 * helpers it runs), relative to its working directory; else the first of its working
 * directory and the directories above it that holds a .git (directory, or file "gitdir: X")
 * or is a bare repository. Returns 0 with out set, or -ENOENT, -ENAMETOOLONG. */
int sw_gitstore__gitdir_of(pid_t pid, char *out, size_t size);

#endif
