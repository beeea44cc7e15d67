// SPDX-License-Identifier: Apache-2.0
/* See rescan.h. A list: entries are few and short-lived. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rescan.h"

struct ent {
	uint32_t tgid;
	uint64_t dev, ino;
	uint32_t gen;
	char *path;
	struct ent *next;
};

struct sw_rescan {
	struct ent *head;
	size_t n;
	uint64_t dropped;
};

struct sw_rescan *sw_rescan__new(void)
{
	return calloc(1, sizeof(struct sw_rescan));
}

static void ent_free(struct ent *e)
{
	free(e->path);
	free(e);
}

void sw_rescan__free(struct sw_rescan *r)
{
	struct ent *e, *n;

	if (!r)
		return;
	for (e = r->head; e; e = n) {
		n = e->next;
		ent_free(e);
	}
	free(r);
}

int sw_rescan__add(struct sw_rescan *r, uint32_t tgid, uint64_t dev, uint64_t ino, uint32_t gen,
		   const char *path)
{
	struct ent **pp, *e;

	for (e = r->head; e; e = e->next)
		if (e->tgid == tgid && e->dev == dev && e->ino == ino && e->gen == gen)
			return 1;
	if (r->n >= SW_RESCAN_MAX) {
		/* New entries go to the head, so the oldest is the last. */
		for (pp = &r->head; (*pp)->next; pp = &(*pp)->next)
			;
		ent_free(*pp);
		*pp = NULL;
		r->n--;
		r->dropped++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return -ENOMEM;
	}
	e->tgid = tgid;
	e->dev = dev;
	e->ino = ino;
	e->gen = gen;
	e->next = r->head;
	r->head = e;
	r->n++;
	return 0;
}

static void take(struct sw_rescan *r, int all, uint32_t tgid, sw_rescan_fn fn, void *ctx)
{
	struct ent **pp = &r->head, *e;

	while ((e = *pp)) {
		if (!all && e->tgid != tgid) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		r->n--;
		fn(e->dev, e->ino, e->gen, e->path, ctx);
		ent_free(e);
	}
}

void sw_rescan__take(struct sw_rescan *r, uint32_t tgid, sw_rescan_fn fn, void *ctx)
{
	take(r, 0, tgid, fn, ctx);
}

void sw_rescan__take_all(struct sw_rescan *r, sw_rescan_fn fn, void *ctx)
{
	take(r, 1, 0, fn, ctx);
}

size_t sw_rescan__peek_file(const struct sw_rescan *r, uint64_t dev, uint64_t ino, sw_rescan_fn fn,
			    void *ctx)
{
	const struct ent *e;
	size_t n = 0;

	for (e = r->head; e; e = e->next)
		if (e->dev == dev && e->ino == ino) {
			fn(e->dev, e->ino, e->gen, e->path, ctx);
			n++;
			break; /* one read-back per close is enough */
		}
	return n;
}

uint64_t sw_rescan__dropped(const struct sw_rescan *r)
{
	return r->dropped;
}
