// SPDX-License-Identifier: Apache-2.0
/* The secret set's lookup index (secretset_priv.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secretset.h"
#include "secretset_priv.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static uint64_t id_hash(const uint8_t *id)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h)); /* a keyed hash already */
	return h;
}

void sw_secretset_index_free(struct sw_secretset *set)
{
	if (!set->idx)
		return;
	free(set->idx->by_name);
	free(set->idx->by_id);
	free(set->idx);
	set->idx = NULL;
}

void sw_secretset_index_add(struct sw_secretset_index *x, const struct sw_secret *all, size_t i)
{
	size_t m = x->cap - 1, k;

	for (k = name_hash(all[i].name) & m; x->by_name[k]; k = (k + 1) & m)
		;
	x->by_name[k] = (uint32_t)i + 1;
	for (k = id_hash(all[i].id) & m; x->by_id[k]; k = (k + 1) & m)
		;
	x->by_id[k] = (uint32_t)i + 1;
	x->n = i + 1;
}

/* The index, built when missing, stale or too full for one more. NULL when out of memory. */
struct sw_secretset_index *sw_secretset_index_of(struct sw_secretset *set)
{
	struct sw_secretset_index *x = set->idx;
	size_t cap = 64, i;

	if (x && x->n == set->n && x->base == set->secrets && 2 * (set->n + 1) <= x->cap)
		return x;
	sw_secretset_index_free(set);
	if (set->n >= UINT32_MAX / 4)
		return NULL;
	while (cap < 4 * (set->n + 1))
		cap *= 2;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->cap = cap;
	x->by_name = calloc(cap, sizeof(uint32_t));
	x->by_id = calloc(cap, sizeof(uint32_t));
	if (!x->by_name || !x->by_id) {
		free(x->by_name);
		free(x->by_id);
		free(x);
		return NULL;
	}
	x->base = set->secrets;
	for (i = 0; i < set->n; i++)
		sw_secretset_index_add(x, set->secrets, i);
	x->n = set->n;
	set->idx = x;
	return x;
}

const struct sw_secret *sw_secretset_index_name(struct sw_secretset_index *x,
						const struct sw_secret *all, const char *name)
{
	size_t m = x->cap - 1, k;

	for (k = name_hash(name) & m; x->by_name[k]; k = (k + 1) & m)
		if (!strcmp(all[x->by_name[k] - 1].name, name))
			return &all[x->by_name[k] - 1];
	return NULL;
}

const struct sw_secret *sw_secretset_index_id(struct sw_secretset_index *x,
					      const struct sw_secret *all, const uint8_t *id)
{
	size_t m = x->cap - 1, k;

	for (k = id_hash(id) & m; x->by_id[k]; k = (k + 1) & m)
		if (!memcmp(all[x->by_id[k] - 1].id, id, SW_SECRET_ID_BYTES))
			return &all[x->by_id[k] - 1];
	return NULL;
}
