// SPDX-License-Identifier: Apache-2.0
/* The (secret id, artifact key) registry: a chained hash table with an LRU list, persisted as
 * the protobuf `Registry` message.
 *
 * Artifact keys carry attacker-chosen paths, so buckets are picked with SipHash
 * (crypto_shorthash) under a random per-process key: nobody can aim collisions at one chain.
 * The file is replaced atomically (temp file, fsync, rename, fsync of the directory), so a
 * crash leaves either the old or the new registry, never half of one. A file that cannot be
 * trusted - unreadable encoding, unknown version, another key's id, malformed entries - is
 * renamed aside and the registry starts empty: the cost is repeated "first" alerts, never a
 * crash and never silence. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "artifact.h"
#include "fileio.h"
#include "registry.h"
#include "sprawl.pb-c.h"

struct ent {
	struct ent *hnext;	 /* hash chain */
	struct ent *prev, *next; /* LRU list, unpinned entries only; oldest first */
	uint64_t hash;
	uint64_t count;
	int64_t first, last;
	uint8_t sid[SW_SECRET_ID_BYTES];
	uint8_t known;
	char key[];
};

struct sw_registry {
	char *path;
	uint8_t key_id[SW_KEY_ID_BYTES];
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct ent **buckets;
	size_t nbuckets;
	size_t n;
	size_t cap;
	struct ent lru; /* sentinel: lru.next oldest, lru.prev newest */
	uint64_t evictions;
	int dirty;
};

#define NBUCKETS_MIN 1024

static uint64_t hash_of(const struct sw_registry *r, const uint8_t *sid, const char *key,
			size_t klen)
{
	unsigned char buf[SW_SECRET_ID_BYTES + SW_ARTIFACT_KEY_MAX];
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;

	memcpy(buf, sid, SW_SECRET_ID_BYTES);
	memcpy(buf + SW_SECRET_ID_BYTES, key, klen);
	crypto_shorthash(out, buf, SW_SECRET_ID_BYTES + klen, r->hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

static void lru_unlink(struct ent *e)
{
	if (e->prev) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		e->prev = e->next = NULL;
	}
}

static void lru_append(struct sw_registry *r, struct ent *e)
{
	e->prev = r->lru.prev;
	e->next = &r->lru;
	r->lru.prev->next = e;
	r->lru.prev = e;
}

static struct ent *find(const struct sw_registry *r, const uint8_t *sid, const char *key,
			size_t klen, uint64_t h)
{
	struct ent *e;

	for (e = r->buckets[h & (r->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && !memcmp(e->sid, sid, SW_SECRET_ID_BYTES) &&
		    !strncmp(e->key, key, klen + 1))
			return e;
	return NULL;
}

static void unhash(struct sw_registry *r, struct ent *e)
{
	struct ent **pp = &r->buckets[e->hash & (r->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
}

static void grow(struct sw_registry *r)
{
	size_t nb = r->nbuckets * 2, i;
	struct ent **b;

	/* Growth failure only lengthens chains; it is not an error. */
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < r->nbuckets; i++) {
		struct ent *e = r->buckets[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = nb;
}

/* Makes room for one more entry: evicts the least recently seen unpinned pair. */
static int make_room(struct sw_registry *r)
{
	while (r->n >= r->cap) {
		struct ent *old = r->lru.next;

		if (old == &r->lru)
			return -ENOSPC;
		lru_unlink(old);
		unhash(r, old);
		free(old);
		r->n--;
		r->evictions++;
		r->dirty = 1;
	}
	return 0;
}

static struct ent *insert(struct sw_registry *r, const uint8_t *sid, const char *key, size_t klen,
			  uint64_t h, int *err)
{
	struct ent *e;

	*err = make_room(r);
	if (*err)
		return NULL;
	e = calloc(1, sizeof(*e) + klen + 1);
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	e->hash = h;
	memcpy(e->sid, sid, SW_SECRET_ID_BYTES);
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->hnext = r->buckets[h & (r->nbuckets - 1)];
	r->buckets[h & (r->nbuckets - 1)] = e;
	r->n++;
	if (r->n > r->nbuckets && r->nbuckets < r->cap)
		grow(r);
	return e;
}

static int key_ok(const char *key, size_t *klen)
{
	if (!key)
		return 0;
	*klen = strnlen(key, SW_ARTIFACT_KEY_MAX);
	return *klen > 0 && *klen < SW_ARTIFACT_KEY_MAX;
}

static void clear(struct sw_registry *r)
{
	size_t i;

	for (i = 0; i < r->nbuckets; i++) {
		struct ent *e = r->buckets[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			free(e);
		}
		r->buckets[i] = NULL;
	}
	r->n = 0;
	r->lru.next = r->lru.prev = &r->lru;
}

/* ---- loading ---- */

static int by_last_seen(const void *a, const void *b)
{
	const Sprawl__RegistryEntry *x = *(Sprawl__RegistryEntry *const *)a;
	const Sprawl__RegistryEntry *y = *(Sprawl__RegistryEntry *const *)b;

	return (x->last_seen > y->last_seen) - (x->last_seen < y->last_seen);
}

/* 0 loaded, 1 untrustworthy (rename aside), negative errno on a real failure. */
static int load(struct sw_registry *r, const uint8_t *buf, size_t len)
{
	Sprawl__RegistryEntry **order = NULL;
	Sprawl__Registry *m;
	size_t i, klen;
	int ret = 1, err;

	m = sprawl__registry__unpack(NULL, len, buf);
	if (!m)
		return 1;
	if (m->version != SW_REGISTRY_VERSION || m->key_id.len != SW_KEY_ID_BYTES ||
	    memcmp(m->key_id.data, r->key_id, SW_KEY_ID_BYTES))
		goto out;
	for (i = 0; i < m->n_entry; i++) {
		Sprawl__RegistryEntry *e = m->entry[i];

		if (e->secret_id.len != SW_SECRET_ID_BYTES || !key_ok(e->artifact_key, &klen) ||
		    e->count == 0 || e->last_seen <= 0 || e->first_seen <= 0)
			goto out;
	}
	/* Oldest first, so the LRU order after loading is the order of last sightings. */
	order = malloc((m->n_entry ? m->n_entry : 1) * sizeof(*order));
	if (!order) {
		ret = -ENOMEM;
		goto out;
	}
	if (m->n_entry) { /* an empty registry has no entry array at all */
		memcpy(order, m->entry, m->n_entry * sizeof(*order));
		qsort(order, m->n_entry, sizeof(*order), by_last_seen);
	}
	for (i = 0; i < m->n_entry; i++) {
		Sprawl__RegistryEntry *pe = order[i];
		uint64_t h;
		struct ent *e;

		klen = strlen(pe->artifact_key);
		h = hash_of(r, pe->secret_id.data, pe->artifact_key, klen);
		e = find(r, pe->secret_id.data, pe->artifact_key, klen, h);
		if (!e) {
			e = insert(r, pe->secret_id.data, pe->artifact_key, klen, h, &err);
			if (!e) {
				ret = err;
				goto out;
			}
			e->first = pe->first_seen;
		} else {
			lru_unlink(e);
			if (pe->first_seen < e->first)
				e->first = pe->first_seen;
		}
		if (pe->count > e->count)
			e->count = pe->count;
		if (pe->last_seen > e->last)
			e->last = pe->last_seen;
		lru_append(r, e);
	}
	ret = 0;
out:
	free(order);
	sprawl__registry__free_unpacked(m, NULL);
	if (ret)
		clear(r);
	return ret;
}

static void rename_aside(const char *path)
{
	char aside[SW_PATH_MAX + 64];
	long now = (long)time(NULL);
	int i;

	for (i = 0; i < 100; i++) {
		if (i)
			snprintf(aside, sizeof(aside), "%s.corrupt-%ld-%d", path, now, i);
		else
			snprintf(aside, sizeof(aside), "%s.corrupt-%ld", path, now);
		if (!renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE))
			return;
		if (errno != EEXIST)
			break;
	}
	/* Could not keep it: the next flush replaces it; the caller still reports corruption. */
}

static int read_file(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > SW_REGISTRY_FILE_MAX)
		return 1;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*out = buf;
	*len = got;
	return 0;
}

struct sw_registry *sw_registry__open(const char *path, const uint8_t key_id[SW_KEY_ID_BYTES],
				      int *corrupt)
{
	struct sw_registry *r;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, ret;

	if (corrupt)
		*corrupt = 0;
	if (!path || !key_id || strnlen(path, SW_PATH_MAX) >= SW_PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->path = strdup(path);
	r->nbuckets = NBUCKETS_MIN;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	if (!r->path || !r->buckets)
		goto fail_errno;
	memcpy(r->key_id, key_id, SW_KEY_ID_BYTES);
	randombytes_buf(r->hkey, sizeof(r->hkey));
	r->cap = SW_REGISTRY_CAP_DEFAULT;
	r->lru.next = r->lru.prev = &r->lru;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return r;
		if (errno != ELOOP)
			goto fail_errno;
		ret = 1; /* a symlink where our state file should be: do not follow it */
	} else {
		ret = read_file(fd, &buf, &len);
		close(fd);
		if (ret == 0) {
			ret = load(r, buf, len);
			free(buf);
		}
	}
	if (ret < 0) {
		errno = -ret;
		goto fail_errno;
	}
	if (ret > 0) {
		rename_aside(path);
		if (corrupt)
			*corrupt = 1;
		r->dirty = 1;
	}
	return r;

fail_errno:
	ret = errno;
	sw_registry__free(r);
	errno = ret;
	return NULL;
}

void sw_registry__free(struct sw_registry *r)
{
	if (!r)
		return;
	if (r->buckets)
		clear(r);
	free(r->buckets);
	free(r->path);
	free(r);
}

int64_t sw_registry__see(struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
			 const char *artifact_key, uint64_t now_us)
{
	struct ent *e;
	size_t klen;
	uint64_t h;
	int err;

	if (!r || !secret_id || !key_ok(artifact_key, &klen))
		return -EINVAL;
	if (now_us == 0 || now_us > INT64_MAX)
		now_us = 1; /* keep "0 = never sighted" meaningful even with a broken clock */
	h = hash_of(r, secret_id, artifact_key, klen);
	e = find(r, secret_id, artifact_key, klen, h);
	if (!e) {
		e = insert(r, secret_id, artifact_key, klen, h, &err);
		if (!e)
			return err;
		lru_append(r, e);
	} else if (!e->known) {
		lru_unlink(e);
		lru_append(r, e);
	}
	if (e->count < INT64_MAX)
		e->count++;
	if (!e->first)
		e->first = (int64_t)now_us;
	e->last = (int64_t)now_us;
	r->dirty = 1;
	return (int64_t)e->count;
}

int sw_registry__know(struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
		      const char *artifact_key)
{
	struct ent *e;
	size_t klen;
	uint64_t h;
	int err;

	if (!r || !secret_id || !key_ok(artifact_key, &klen))
		return -EINVAL;
	h = hash_of(r, secret_id, artifact_key, klen);
	e = find(r, secret_id, artifact_key, klen, h);
	if (!e) {
		e = insert(r, secret_id, artifact_key, klen, h, &err);
		if (!e)
			return err;
	}
	lru_unlink(e);
	e->known = 1;
	if (!e->count)
		e->count = 1;
	return 0;
}

int sw_registry__get(const struct sw_registry *r, const uint8_t secret_id[SW_SECRET_ID_BYTES],
		     const char *artifact_key, struct sw_registry_entry *out)
{
	struct ent *e;
	size_t klen;

	if (!r || !secret_id || !key_ok(artifact_key, &klen))
		return -EINVAL;
	e = find(r, secret_id, artifact_key, klen, hash_of(r, secret_id, artifact_key, klen));
	if (!e)
		return -ENOENT;
	if (out) {
		out->count = e->count;
		out->first_seen = e->first;
		out->last_seen = e->last;
		out->known = e->known;
	}
	return 0;
}

void sw_registry__recent(const struct sw_registry *r, size_t max,
			 void (*fn)(const uint8_t secret_id[SW_SECRET_ID_BYTES],
				    const char *artifact_key, const struct sw_registry_entry *e,
				    void *ctx),
			 void *ctx)
{
	const struct ent *e;
	struct sw_registry_entry out;
	size_t n = 0;

	for (e = r->lru.prev; e && e != &r->lru && n < max; e = e->prev, n++) {
		out.count = e->count;
		out.first_seen = e->first;
		out.last_seen = e->last;
		out.known = e->known;
		fn(e->sid, e->key, &out, ctx);
	}
}

size_t sw_registry__size(const struct sw_registry *r)
{
	return r ? r->n : 0;
}

void sw_registry__set_cap(struct sw_registry *r, size_t cap)
{
	if (r)
		r->cap = cap ? cap : 1;
}

uint64_t sw_registry__evictions(const struct sw_registry *r)
{
	return r ? r->evictions : 0;
}

/* ---- persisting ---- */

int sw_registry__flush(struct sw_registry *r)
{
	Sprawl__Registry m = SPRAWL__REGISTRY__INIT;
	Sprawl__RegistryEntry *ents = NULL, **ptrs = NULL;
	char tmp[SW_PATH_MAX + 16];
	uint8_t *buf = NULL;
	size_t i, n = 0, len;
	int fd, ret;

	if (!r)
		return -EINVAL;
	if (!r->dirty)
		return 0;
	ents = calloc(r->n ? r->n : 1, sizeof(*ents));
	ptrs = calloc(r->n ? r->n : 1, sizeof(*ptrs));
	if (!ents || !ptrs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->nbuckets; i++) {
		struct ent *e;

		for (e = r->buckets[i]; e; e = e->hnext) {
			/* Known-only places are re-declared by the daemon at every start. */
			if (!e->last)
				continue;
			sprawl__registry_entry__init(&ents[n]);
			ents[n].secret_id.data = e->sid;
			ents[n].secret_id.len = SW_SECRET_ID_BYTES;
			ents[n].artifact_key = e->key;
			ents[n].count = e->count;
			ents[n].first_seen = e->first;
			ents[n].last_seen = e->last;
			ptrs[n] = &ents[n];
			n++;
		}
	}
	m.version = SW_REGISTRY_VERSION;
	m.key_id.data = r->key_id;
	m.key_id.len = SW_KEY_ID_BYTES;
	m.n_entry = n;
	m.entry = ptrs;
	len = sprawl__registry__get_packed_size(&m);
	buf = malloc(len ? len : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	sprawl__registry__pack(&m, buf);

	snprintf(tmp, sizeof(tmp), "%s.tmp", r->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = sw_fileio__replace(fd, tmp, r->path, sw_fileio__write_all(fd, buf, len));
	if (!ret)
		r->dirty = 0;
out:
	free(buf);
	free(ptrs);
	free(ents);
	return ret;
}
