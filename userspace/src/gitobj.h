/* SPDX-License-Identifier: Apache-2.0 */
/* Git's on-disk formats, as far as sprawlwatch needs them: where in a repository a path is
 * (loose object, pack, ref), the headers of loose and packed objects, deltas, and object ids
 * (SHA-1 over "<type> <size>\0<content>", by libcrypto). Pure functions over bytes. */
#ifndef SW_GITOBJ_H
#define SW_GITOBJ_H

#include <stddef.h>
#include <stdint.h>

enum sw_git_place {
	SW_GIT_NONE = 0,
	SW_GIT_LOOSE, /* <gitdir>/objects/[incoming-X/]xx/<name> */
	SW_GIT_PACK,  /* <gitdir>/objects/[incoming-X/]pack/pack-X.pack or tmp_pack_X */
	SW_GIT_REF,   /* <gitdir>/refs/... (a ref or its .lock) */
};

/* Object types as packs number them (1..4 objects, 6 and 7 deltas). */
enum sw_git_type {
	SW_GIT_COMMIT = 1,
	SW_GIT_TREE = 2,
	SW_GIT_BLOB = 3,
	SW_GIT_TAG = 4,
	SW_GIT_OFS_DELTA = 6,
	SW_GIT_REF_DELTA = 7,
};

#define SW_GIT_ID_BYTES 20
#define SW_GIT_ID_HEX	41 /* 40 hex digits and a NUL */

/* Where path (absolute, len bytes) lies in a repository; *gitdir_len: its gitdir's length (the
 * directory holding objects/ and refs/). */
enum sw_git_place sw_gitobj__classify(const char *path, size_t len, size_t *gitdir_len);
/* The repository as users name it: the gitdir, without a trailing "/.git". Returns the length
 * of that prefix of path. */
size_t sw_gitobj__repo_len(const char *path, size_t gitdir_len);
/* "commit", "tree", "blob", "tag", or NULL. */
const char *sw_gitobj__type_name(int type);

/* A loose object's header "<type> <size>\0": its length, 0 when more bytes are needed, or
 * -EINVAL. */
int sw_gitobj__loose_hdr(const uint8_t *p, size_t n, int *type, uint64_t *size);
/* A packed object's header (type, size), then an OFS_DELTA's negative offset or a REF_DELTA's
 * base id: its length, 0 when more bytes are needed, or -EINVAL. */
int sw_gitobj__pack_hdr(const uint8_t *p, size_t n, int *type, uint64_t *size, uint64_t *ofs,
			uint8_t base[SW_GIT_ID_BYTES]);
/* Applies a delta to base. *out (malloc'd, the caller frees) holds the result. Returns 0,
 * -EINVAL for a delta that does not fit its base, -EFBIG past max bytes, -ENOMEM. */
int sw_gitobj__delta(const uint8_t *base, size_t blen, const uint8_t *d, size_t dlen, size_t max,
		     uint8_t **out, size_t *olen);
/* A tree's entries: fn gets each entry's id. Returns the number of entries, or -EINVAL. */
int sw_gitobj__tree(const uint8_t *p, size_t n, void (*fn)(const uint8_t *id, void *ctx),
		    void *ctx);
/* A commit's tree id (its first line). Returns 0 or -EINVAL. */
int sw_gitobj__commit_tree(const uint8_t *p, size_t n, uint8_t tree[SW_GIT_ID_BYTES]);
/* 40 hex digits (either case) into an id. Returns 0 or -EINVAL. */
int sw_gitobj__parse_id(const char *hex, size_t n, uint8_t id[SW_GIT_ID_BYTES]);
void sw_gitobj__hex(const uint8_t id[SW_GIT_ID_BYTES], char out[SW_GIT_ID_HEX]);

/* An object id being computed. */
struct sw_gitid;
/* Starts with the header of an object of type and size (NULL with errno set). */
struct sw_gitid *sw_gitid__new(int type, uint64_t size);
/* Starts with nothing (a loose object's inflated bytes carry their header). */
struct sw_gitid *sw_gitid__new_raw(void);
void sw_gitid__update(struct sw_gitid *g, const void *p, size_t n);
void sw_gitid__final(struct sw_gitid *g, uint8_t id[SW_GIT_ID_BYTES]);
void sw_gitid__free(struct sw_gitid *g);

#endif
