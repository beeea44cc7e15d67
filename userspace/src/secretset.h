/* SPDX-License-Identifier: Apache-2.0 */
/* The secret set: every tracked secret's fingerprints, persisted as proto SecretSet in the
 * state dir (secrets.pb). */
#ifndef SW_SECRETSET_H
#define SW_SECRETSET_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

#define SW_SECRETSET_VERSION 1

struct sw_secretset_index;

struct sw_secretset {
	size_t n, cap;
	struct sw_secret *secrets;
	/* Names and ids hashed, so put and find_id stay O(1) for sets of 100,000 (an import);
	 * rebuilt on demand when n or secrets changed behind it. */
	struct sw_secretset_index *idx;
	/* Read by sw_secretset__load_lean: only learned secrets hold their patterns (the
	 * others' are in the index that was built as it was read, and in the file). */
	int lean;
};

/* The patterns of a set, counted as it is read (sw_secretset__load_lean). */
struct sw_secretset_stats {
	size_t npat, minlen, maxlen; /* minlen, maxlen 0 when there are no patterns */
};

/* Where sw_secretset__load_lean hands what it reads: begin once with the counts, then add for
 * every secret in order, its patterns borrowed for the call. A non-zero return stops the load
 * with that error. */
struct sw_secretset_sink {
	int (*begin)(void *ctx, const struct sw_secretset_stats *st);
	int (*add)(void *ctx, const struct sw_secret *s, uint32_t index);
	void *ctx;
};

/* Loads path into a new set. A missing file is an empty set. A corrupt file, a file of another
 * version or one made under another key is an error (-EBADMSG, -EPROTONOSUPPORT, -EKEYREJECTED),
 * never an empty set. */
int sw_secretset__load(const char *path, const struct sw_key *key, struct sw_secretset **out);
/* The same, for a large set: the patterns go to sink as the file is read (twice: counted,
 * then handed over, so that an index can be sized first) and are not kept, except those of
 * learned secrets; the set is lean. Memory is the set's names and ids and a 1 MiB buffer,
 * never the whole file. The set's file must not change meanwhile (hold its lock); -ESTALE when
 * it did. sink NULL: the lean set alone (one read). */
int sw_secretset__load_lean(const char *path, const struct sw_key *key,
			    const struct sw_secretset_sink *sink, struct sw_secretset **out);
/* Writes atomically (temp file + fsync + rename), mode 0600. */
int sw_secretset__save(const struct sw_secretset *set, const char *path, const struct sw_key *key);
/* Writes path again (atomically, mode 0600) as it was with add[0..n-1] after its secrets,
 * streaming it: memory is a buffer, not the set. The caller holds the set's lock and knows
 * that none of add is in the file (by id or name). -ENOENT when there is no file; -EBADMSG
 * when it is damaged (it stays as it is). */
int sw_secretset__append(const char *path, const struct sw_key *key, const struct sw_secret *add,
			 size_t n);
/* A fleet's fingerprint set (proto SecretExport): the same fingerprints, no key, no value,
 * authenticated under the key with a MAC of its own. Written atomically, mode 0600. */
int sw_secretset__export(const struct sw_secretset *set, const char *path, const struct sw_key *key,
			 const char *host, int64_t now);
/* What an export file says of itself (filled as far as it could be read, also on error). */
struct sw_secretset_export_info {
	uint8_t key_id[SW_KEY_ID_BYTES];
	char host[256];
	int64_t exported;
	size_t n;
};
/* Reads an export file into a new set: -EKEYREJECTED when it was made under another key,
 * -EBADMSG when damaged or altered, -EPROTONOSUPPORT for another version. */
int sw_secretset__import(const char *path, const struct sw_key *key, struct sw_secretset **out,
			 struct sw_secretset_export_info *info);
struct sw_secretset *sw_secretset__new(void);
void sw_secretset__free(struct sw_secretset *set);
/* Takes ownership of *s's patterns (s is cleared). Replaces a secret of the same name.
 * -EEXIST when the same value is already tracked under another name. */
int sw_secretset__put(struct sw_secretset *set, struct sw_secret *s);
/* -ENOENT when no secret has that name. */
int sw_secretset__remove(struct sw_secretset *set, const char *name);
const struct sw_secret *sw_secretset__find_id(const struct sw_secretset *set,
					      const uint8_t id[SW_SECRET_ID_BYTES]);
const struct sw_secret *sw_secretset__find_name(const struct sw_secretset *set, const char *name);
/* Builds the name and id lookup now (find_id and put build it on first use otherwise): 100,000
 * secrets take milliseconds, for a thread that is not the event loop. */
int sw_secretset__index(struct sw_secretset *set);

#endif
