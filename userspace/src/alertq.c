// SPDX-License-Identifier: Apache-2.0
/* See alertq.h. A FIFO: alerts are due in the order they arrive. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alertq.h"

struct held {
	struct sw_alert a;
	char *args;   /* the argv strings, NUL-separated: a.process.argv points here */
	void *spread; /* a session summary's secrets, places and labels: a.spread points here */
	uint64_t due_us;
	struct held *next;
};

struct sw_alertq {
	size_t max, n;
	struct held *head, *tail;
};

struct sw_alertq *sw_alertq__new(size_t max)
{
	struct sw_alertq *q = calloc(1, sizeof(*q));

	if (q)
		q->max = max;
	return q;
}

static void held_free(struct held *h)
{
	free(h->spread);
	free(h->args);
	free(h);
}

void sw_alertq__free(struct sw_alertq *q)
{
	struct held *h, *n;

	if (!q)
		return;
	for (h = q->head; h; h = n) {
		n = h->next;
		held_free(h);
	}
	free(q);
}

/* A session summary borrows its lists: the held copy owns them, in one block. */
static int copy_spread(struct held *h, const struct sw_alert *a)
{
	size_t size = a->nspread * sizeof(struct sw_alert_spread), i, j;
	struct sw_alert_spread *sp;
	struct sw_alert_place *pl;
	char *str;

	for (i = 0; i < a->nspread; i++) {
		size += a->spread[i].nplaces * sizeof(struct sw_alert_place);
		for (j = 0; j < a->spread[i].nplaces; j++)
			size += a->spread[i].places[j].label
					? strlen(a->spread[i].places[j].label) + 1
					: 0;
	}
	h->spread = malloc(size);
	if (!h->spread)
		return -ENOMEM;
	sp = h->spread;
	pl = (struct sw_alert_place *)(sp + a->nspread);
	for (i = 0; i < a->nspread; i++)
		pl += a->spread[i].nplaces;
	str = (char *)pl;
	pl = (struct sw_alert_place *)(sp + a->nspread);
	for (i = 0; i < a->nspread; i++) {
		sp[i] = a->spread[i];
		sp[i].places = pl;
		for (j = 0; j < a->spread[i].nplaces; j++) {
			pl[j] = a->spread[i].places[j];
			if (pl[j].label) {
				size_t l = strlen(pl[j].label) + 1;

				memcpy(str, pl[j].label, l);
				pl[j].label = str;
				str += l;
			}
		}
		pl += a->spread[i].nplaces;
	}
	h->a.spread = sp;
	return 0;
}

int sw_alertq__push(struct sw_alertq *q, const struct sw_alert *a, uint64_t due_us)
{
	struct held *h;
	size_t len = 0, i;
	char *s;

	if (q->n >= q->max)
		return -ENOSPC;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->a = *a;
	for (i = 0; i < a->process.argc; i++)
		len += strlen(a->process.argv[i]) + 1;
	h->args = malloc(len ? len : 1);
	if (!h->args) {
		free(h);
		return -ENOMEM;
	}
	for (i = 0, s = h->args; i < a->process.argc; i++) {
		size_t l = strlen(a->process.argv[i]) + 1;

		memcpy(s, a->process.argv[i], l);
		h->a.process.argv[i] = s;
		s += l;
	}
	if (a->nspread && copy_spread(h, a)) {
		free(h->args);
		free(h);
		return -ENOMEM;
	}
	h->due_us = due_us;
	if (q->tail)
		q->tail->next = h;
	else
		q->head = h;
	q->tail = h;
	q->n++;
	return 0;
}

size_t sw_alertq__rename(struct sw_alertq *q, uint64_t dev, uint64_t ino, const char *path)
{
	struct held *h;
	size_t n = 0;

	for (h = q->head; h; h = h->next) {
		struct sw_artifact *art = &h->a.artifact;

		if (h->a.has_artifact && art->type == SW_ART_FILE && art->dev == dev &&
		    art->ino == ino) {
			strncpy(art->path, path, sizeof(art->path) - 1);
			art->path[sizeof(art->path) - 1] = 0;
			n++;
		}
	}
	return n;
}

void sw_alertq__drain(struct sw_alertq *q, uint64_t now_us, int force,
		      int (*fn)(struct sw_alert *a, void *ctx), void *ctx)
{
	struct held *h;

	while ((h = q->head) && (force || h->due_us <= now_us)) {
		if (fn(&h->a, ctx) && !force)
			return; /* not decided yet: it stays first in line */
		q->head = h->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		held_free(h);
	}
}

size_t sw_alertq__len(const struct sw_alertq *q)
{
	return q->n;
}
