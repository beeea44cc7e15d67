// SPDX-License-Identifier: Apache-2.0
/* See covered.h. A flat array: shared mappings of files are rare, so linear scans are fine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "covered.h"

struct sw_covered {
	size_t n;
	struct sw_covered_ent e[SW_COVERED_MAX];
};

struct sw_covered *sw_covered__new(void)
{
	return calloc(1, sizeof(struct sw_covered));
}

void sw_covered__free(struct sw_covered *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->e[i].path);
	free(c);
}

int sw_covered__add(struct sw_covered *c, uint64_t session, uint32_t tgid, uint32_t channel,
		    uint64_t dev, uint64_t ino, uint32_t gen, const char *path)
{
	char *name;
	struct sw_covered_ent *e;
	size_t i;

	for (i = 0; i < c->n; i++) {
		e = &c->e[i];
		if (e->tgid == tgid && e->channel == channel && e->dev == dev && e->ino == ino &&
		    e->gen == gen)
			return 0;
	}
	if (c->n >= SW_COVERED_MAX)
		return -ENOSPC;
	name = strdup(path);
	if (!name)
		return -ENOMEM;
	e = &c->e[c->n++];
	e->path = name;
	e->session = session;
	e->tgid = tgid;
	e->channel = channel;
	e->dev = dev;
	e->ino = ino;
	e->gen = gen;
	e->result = 0;
	e->settled = 0;
	return 0;
}

void sw_covered__result(struct sw_covered *c, uint64_t dev, uint64_t ino, uint32_t gen, int result)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].dev == dev && c->e[i].ino == ino && c->e[i].gen == gen &&
		    !c->e[i].settled)
			c->e[i].result = result ? result : 1;
}

void sw_covered__settle(struct sw_covered *c, uint32_t tgid, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].tgid == tgid && c->e[i].dev == dev && c->e[i].ino == ino &&
		    c->e[i].result == 1)
			c->e[i].settled = 1;
}

void sw_covered__take(struct sw_covered *c, uint32_t tgid, sw_covered_fn fn, void *ctx)
{
	struct sw_covered_ent e;
	size_t i = 0;

	while (i < c->n) {
		if (c->e[i].tgid != tgid) {
			i++;
			continue;
		}
		e = c->e[i];
		c->e[i] = c->e[--c->n]; /* order does not matter */
		if (e.result != 1 && !e.settled)
			fn(&e, ctx);
		free(e.path);
	}
}

size_t sw_covered__count(const struct sw_covered *c)
{
	return c->n;
}
