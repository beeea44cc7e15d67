// SPDX-License-Identifier: Apache-2.0
/* Origins that follow their path; see origins.h. Renames are frequent (git renames every ref and
 * object it writes) and origins few: a rename costs a hash and a probe unless its path is an
 * origin. The set's origin paths are kept in a table of distinct paths, each with its secrets
 * (an import of 100,000 from one .env file is one entry). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "origins.h"

#define MOVES_MAX 256 /* origin paths whose file changed, remembered (the oldest goes first) */
#define KEPT_MAX  64  /* origin files named elsewhere, remembered (the oldest goes first) */

/* A distinct origin path of the set and the secrets whose origin it is. */
struct opath {
	uint64_t hash;
	const char *path; /* the first secret's string (the set's) */
	uint32_t *idx;	  /* into the set's secrets */
	size_t n, cap;
};

struct move {
	char *path;
	uint64_t dev, ino;
};

/* An origin path's file given another name (mv .env .env.bak, ln): it holds the path's secrets
 * under that name, also once the path names a new file. */
struct kept {
	char *origin, *name;
	uint64_t dev, ino;
};

/* A file an origin path names (the path is the table's). */
struct ofile {
	uint64_t dev, ino;
	const char *path;
};

struct sw_origins {
	struct opath *tab; /* open addressing, cap a power of two; NULL path: free */
	size_t cap, n;
	struct ofile *files; /* sorted by (ino, dev): is a renamed file an origin's */
	size_t nfiles;
	struct move moves[MOVES_MAX];
	size_t nmoves;
	struct kept kept[KEPT_MAX];
	size_t nkept;
};

static uint64_t hash_of(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

struct sw_origins *sw_origins__new(void)
{
	return calloc(1, sizeof(struct sw_origins));
}

static void tab_free(struct sw_origins *o)
{
	size_t i;

	for (i = 0; i < o->cap; i++)
		free(o->tab[i].idx);
	free(o->tab);
	o->tab = NULL;
	o->cap = o->n = 0;
	free(o->files);
	o->files = NULL;
	o->nfiles = 0;
}

void sw_origins__free(struct sw_origins *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->nmoves; i++)
		free(o->moves[i].path);
	for (i = 0; i < o->nkept; i++) {
		free(o->kept[i].origin);
		free(o->kept[i].name);
	}
	tab_free(o);
	free(o);
}

/* path's entry, or the free slot it would take (NULL when there is no table). */
static struct opath *slot(const struct sw_origins *o, const char *path, uint64_t h)
{
	size_t i;

	if (!o->cap)
		return NULL;
	for (i = h & (o->cap - 1); o->tab[i].path; i = (i + 1) & (o->cap - 1))
		if (o->tab[i].hash == h && !strcmp(o->tab[i].path, path))
			break;
	return &o->tab[i];
}

/* Moves the secrets whose origin is path to (dev, ino): -1 when path is no origin, else how
 * many moved. */
static int move_to(const struct sw_origins *o, struct sw_secretset *set, const char *path,
		   uint64_t dev, uint64_t ino)
{
	const struct opath *e = slot(o, path, hash_of(path));
	size_t i;
	int moved = 0;

	if (!e || !e->path)
		return -1;
	for (i = 0; i < e->n; i++) {
		struct sw_secret *s;

		if (e->idx[i] >= set->n)
			continue;
		s = &set->secrets[e->idx[i]];
		if (s->origin_dev == dev && s->origin_ino == ino)
			continue;
		s->origin_dev = dev;
		s->origin_ino = ino;
		moved++;
	}
	return moved;
}

/* The table twice as large (the entries move, their secrets with them). */
static int grow(struct sw_origins *o)
{
	struct opath *old = o->tab, *e;
	size_t i, cap = o->cap;

	o->tab = calloc(2 * cap, sizeof(*o->tab));
	if (!o->tab) {
		o->tab = old;
		return -ENOMEM;
	}
	o->cap = 2 * cap;
	for (i = 0; i < cap; i++)
		if (old[i].path) {
			e = slot(o, old[i].path, old[i].hash);
			*e = old[i];
		}
	free(old);
	return 0;
}

/* Secret i (origin path) into its path's entry. */
static int index_one(struct sw_origins *o, const char *path, uint32_t i)
{
	uint64_t h = hash_of(path);
	struct opath *e = slot(o, path, h);
	uint32_t *grown;

	if (!e->path && 2 * (o->n + 1) > o->cap) {
		if (grow(o))
			return -ENOMEM;
		e = slot(o, path, h);
	}
	if (!e->path) {
		e->path = path;
		e->hash = h;
		o->n++;
	}
	if (e->n == e->cap) {
		grown = realloc(e->idx, (e->cap ? 2 * e->cap : 4) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		e->idx = grown;
		e->cap = e->cap ? 2 * e->cap : 4;
	}
	e->idx[e->n++] = i;
	return 0;
}

static int file_cmp(const void *a, const void *b)
{
	const struct ofile *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

/* The files the origin paths name, sorted (after the set is applied and after a move). */
static int files_index(struct sw_origins *o, const struct sw_secretset *set)
{
	const struct sw_secret *s, *last;
	size_t i, j, n = 0;

	free(o->files);
	o->files = NULL;
	o->nfiles = 0;
	for (i = 0; i < o->cap; i++)
		n += o->tab[i].path ? o->tab[i].n : 0;
	if (!n)
		return 0;
	o->files = malloc(n * sizeof(*o->files));
	if (!o->files)
		return -ENOMEM;
	for (i = 0; i < o->cap; i++)
		for (j = 0, last = NULL; o->tab[i].path && j < o->tab[i].n; j++) {
			if (o->tab[i].idx[j] >= set->n)
				continue;
			s = &set->secrets[o->tab[i].idx[j]];
			if (last && s->origin_dev == last->origin_dev &&
			    s->origin_ino == last->origin_ino)
				continue; /* (one .env's many secrets: one entry) */
			o->files[o->nfiles++] = (struct ofile){
				.dev = s->origin_dev, .ino = s->origin_ino, .path = o->tab[i].path};
			last = s;
		}
	qsort(o->files, o->nfiles, sizeof(*o->files), file_cmp);
	return 0;
}

const char *sw_origins__of_file(const struct sw_origins *o, uint64_t dev, uint64_t ino)
{
	struct ofile key = {.dev = dev, .ino = ino};
	const struct ofile *f;

	if (!ino || !o->nfiles)
		return NULL;
	f = bsearch(&key, o->files, o->nfiles, sizeof(*o->files), file_cmp);
	return f ? f->path : NULL;
}

int sw_origins__apply(struct sw_origins *o, struct sw_secretset *set)
{
	size_t i, n = 0;
	int moved = 0, r;

	tab_free(o);
	for (i = 0; i < set->n; i++)
		n += sw_secret__origin(&set->secrets[i])[0] != 0;
	if (!n)
		return 0;
	o->cap = 16;
	o->tab = calloc(o->cap, sizeof(*o->tab));
	if (!o->tab) {
		o->cap = 0;
		return -ENOMEM;
	}
	for (i = 0; i < set->n; i++) {
		const char *path = sw_secret__origin(&set->secrets[i]);

		if (path[0] && index_one(o, path, (uint32_t)i)) {
			tab_free(o);
			return -ENOMEM;
		}
	}
	for (i = 0; i < o->nmoves; i++) {
		r = move_to(o, set, o->moves[i].path, o->moves[i].dev, o->moves[i].ino);
		if (r > 0)
			moved += r;
	}
	if (files_index(o, set)) {
		tab_free(o);
		return -ENOMEM;
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

/* Forgets the kept files named name unless name still names them: 1 when one was forgotten. */
static int unkeep(struct sw_origins *o, const char *name, uint64_t dev, uint64_t ino)
{
	size_t i = 0;
	int forgot = 0;

	while (i < o->nkept) {
		struct kept *k = &o->kept[i];

		if (strcmp(k->name, name) || (k->dev == dev && k->ino == ino)) {
			i++;
			continue;
		}
		free(k->origin);
		free(k->name);
		memmove(k, k + 1, (o->nkept - i - 1) * sizeof(*k));
		o->nkept--;
		forgot = 1;
	}
	return forgot;
}

/* name (no origin path) names the file of origin: kept. */
static int keep(struct sw_origins *o, const char *origin, const char *name, uint64_t dev,
		uint64_t ino)
{
	struct kept k = {.origin = strdup(origin), .name = strdup(name), .dev = dev, .ino = ino};
	size_t i;

	for (i = 0; i < o->nkept; i++)
		if (!strcmp(o->kept[i].name, name) && o->kept[i].dev == dev &&
		    o->kept[i].ino == ino && !strcmp(o->kept[i].origin, origin)) {
			free(k.origin);
			free(k.name);
			return 0;
		}
	if (!k.origin || !k.name) {
		free(k.origin);
		free(k.name);
		return -ENOMEM;
	}
	if (o->nkept == KEPT_MAX) {
		free(o->kept[0].origin);
		free(o->kept[0].name);
		memmove(&o->kept[0], &o->kept[1], (KEPT_MAX - 1) * sizeof(o->kept[0]));
		o->nkept--;
	}
	o->kept[o->nkept++] = k;
	return 1;
}

int sw_origins__renamed(struct sw_origins *o, struct sw_secretset *set, const char *path,
			uint64_t dev, uint64_t ino)
{
	int forgot = unkeep(o, path, dev, ino), moved;
	const char *origin;
	size_t i;

	if (!ino) /* path names no file now */
		return forgot;
	moved = move_to(o, set, path, dev, ino);
	if (moved < 0) {
		origin = sw_origins__of_file(o, dev, ino);
		for (i = 0; !origin && i < o->nkept; i++) /* a kept file renamed again */
			if (o->kept[i].ino == ino && o->kept[i].dev == dev)
				origin = o->kept[i].origin;
		return origin ? keep(o, origin, path, dev, ino) : forgot;
	}
	if (remember(o, path, dev, ino) || (moved > 0 && files_index(o, set)))
		return -ENOMEM;
	return moved > 0 || forgot;
}

/* The kept entry of origin for (dev, ino), NULL when there is none. */
static const struct kept *kept_of(const struct sw_origins *o, const char *origin, uint64_t dev,
				  uint64_t ino)
{
	size_t i;

	for (i = 0; i < o->nkept; i++)
		if (o->kept[i].ino == ino && o->kept[i].dev == dev &&
		    !strcmp(o->kept[i].origin, origin))
			return &o->kept[i];
	return NULL;
}

int sw_origins__holds(const struct sw_origins *o, const struct sw_secret *s, uint64_t dev,
		      uint64_t ino)
{
	if (!s->origin_ino)
		return 0;
	if (s->origin_dev == dev && s->origin_ino == ino)
		return 1;
	return s->origin && kept_of(o, s->origin, dev, ino) != NULL;
}

void sw_origins__each_kept(const struct sw_origins *o,
			   void (*fn)(const char *name, uint64_t dev, uint64_t ino, void *ctx),
			   void *ctx)
{
	size_t i;

	for (i = 0; i < o->nkept; i++) {
		const struct kept *k = &o->kept[i];
		const struct opath *e = slot(o, k->origin, hash_of(k->origin));

		if (e && e->path) /* (an origin of the set in force) */
			fn(k->name, k->dev, k->ino, ctx);
	}
}

void sw_origins__each(const struct sw_origins *o, const struct sw_secretset *set,
		      void (*fn)(const char *path, uint64_t dev, uint64_t ino, void *ctx),
		      void *ctx)
{
	size_t i, j;

	for (i = 0; i < o->cap; i++) {
		const struct opath *e = &o->tab[i];
		const struct sw_secret *s, *told = NULL;

		/* (secrets of one path imported before and after its file was replaced hold
		 * different files: each is told) */
		for (j = 0; e->path && j < e->n; j++) {
			if (e->idx[j] >= set->n)
				continue;
			s = &set->secrets[e->idx[j]];
			if (told && s->origin_dev == told->origin_dev &&
			    s->origin_ino == told->origin_ino)
				continue;
			fn(e->path, s->origin_dev, s->origin_ino, ctx);
			told = s;
		}
	}
}
