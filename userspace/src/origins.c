// SPDX-License-Identifier: Apache-2.0
/* Origins that follow their path; see origins.h. Renames are frequent (git renames every ref and
 * object it writes) and origins few: a rename costs a hash and a binary search unless its path
 * is an origin. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "origins.h"

#define MOVES_MAX 256 /* origin paths whose file changed, remembered (the oldest goes first) */

struct oent {
	uint64_t hash;
	uint32_t idx; /* into the set's secrets */
};

struct move {
	char *path;
	uint64_t dev, ino;
};

struct sw_origins {
	struct oent *ix; /* the secrets with an origin, by their path's hash */
	size_t nix;
	struct move moves[MOVES_MAX];
	size_t nmoves;
};

static uint64_t hash_of(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int cmp_oent(const void *a, const void *b)
{
	const struct oent *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct sw_origins *sw_origins__new(void)
{
	return calloc(1, sizeof(struct sw_origins));
}

void sw_origins__free(struct sw_origins *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->nmoves; i++)
		free(o->moves[i].path);
	free(o->ix);
	free(o);
}

/* The first index entry with hash h, or nix. */
static size_t first_of(const struct sw_origins *o, uint64_t h)
{
	size_t lo = 0, hi = o->nix;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->ix[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Moves the secrets whose origin is path to (dev, ino): -1 when path is no origin, else how
 * many moved. */
static int move_to(const struct sw_origins *o, struct sw_secretset *set, const char *path,
		   uint64_t dev, uint64_t ino)
{
	uint64_t h = hash_of(path);
	size_t i;
	int found = 0, moved = 0;

	for (i = first_of(o, h); i < o->nix && o->ix[i].hash == h; i++) {
		struct sw_secret *s;

		if (o->ix[i].idx >= set->n)
			continue;
		s = &set->secrets[o->ix[i].idx];
		if (strcmp(sw_secret__origin(s), path))
			continue;
		found = 1;
		if (s->origin_dev == dev && s->origin_ino == ino)
			continue;
		s->origin_dev = dev;
		s->origin_ino = ino;
		moved++;
	}
	return found ? moved : -1;
}

int sw_origins__apply(struct sw_origins *o, struct sw_secretset *set)
{
	size_t i, n = 0;
	int moved = 0, r;

	free(o->ix);
	o->ix = NULL;
	o->nix = 0;
	for (i = 0; i < set->n; i++)
		n += sw_secret__origin(&set->secrets[i])[0] != 0;
	if (!n)
		return 0;
	o->ix = malloc(n * sizeof(*o->ix));
	if (!o->ix)
		return -ENOMEM;
	for (i = 0; i < set->n; i++) {
		const char *path = sw_secret__origin(&set->secrets[i]);

		if (path[0])
			o->ix[o->nix++] = (struct oent){.hash = hash_of(path), .idx = (uint32_t)i};
	}
	qsort(o->ix, o->nix, sizeof(*o->ix), cmp_oent);
	for (i = 0; i < o->nmoves; i++) {
		r = move_to(o, set, o->moves[i].path, o->moves[i].dev, o->moves[i].ino);
		if (r > 0)
			moved += r;
	}
	return moved;
}

/* Remembers that path names (dev, ino) now (replacing what was known of path). */
static int remember(struct sw_origins *o, const char *path, uint64_t dev, uint64_t ino)
{
	char *copy;
	size_t i;

	for (i = 0; i < o->nmoves; i++)
		if (!strcmp(o->moves[i].path, path)) {
			o->moves[i].dev = dev;
			o->moves[i].ino = ino;
			return 0;
		}
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (o->nmoves == MOVES_MAX) {
		free(o->moves[0].path);
		memmove(&o->moves[0], &o->moves[1], (MOVES_MAX - 1) * sizeof(o->moves[0]));
		o->nmoves--;
	}
	o->moves[o->nmoves++] = (struct move){.path = copy, .dev = dev, .ino = ino};
	return 0;
}

int sw_origins__renamed(struct sw_origins *o, struct sw_secretset *set, const char *path,
			uint64_t dev, uint64_t ino)
{
	int moved = move_to(o, set, path, dev, ino);

	if (moved < 0)
		return 0;
	if (remember(o, path, dev, ino))
		return -ENOMEM;
	return moved > 0;
}

void sw_origins__each(const struct sw_origins *o, const struct sw_secretset *set,
		      void (*fn)(const char *path, uint64_t dev, uint64_t ino, void *ctx),
		      void *ctx)
{
	size_t i, j;

	for (i = 0; i < o->nix; i++) {
		const struct sw_secret *s;
		const char *path;
		int seen = 0;

		if (o->ix[i].idx >= set->n)
			continue;
		s = &set->secrets[o->ix[i].idx];
		path = sw_secret__origin(s);
		/* (the first of its path in its hash's run) */
		for (j = i; j > 0 && o->ix[j - 1].hash == o->ix[i].hash && !seen; j--)
			seen = o->ix[j - 1].idx < set->n &&
			       !strcmp(sw_secret__origin(&set->secrets[o->ix[j - 1].idx]), path);
		if (!seen)
			fn(path, s->origin_dev, s->origin_ino, ctx);
	}
}
