// SPDX-License-Identifier: Apache-2.0
/* See tracerec.h. To an Event: every byte field points into the record (no copy), the messages
 * live in this object. From an Event: the record is laid out as event.c reads it, fixed part
 * then tails in order.
 *
 * This file: the object's lifecycle and its buffers; records to Events in tracerec_encode.c,
 * Events to records in tracerec_decode.c. */
#include <errno.h>
#include <stdlib.h>

#include "tracerec_priv.h"

struct sw_tracerec *sw_tracerec__new(void)
{
	return calloc(1, sizeof(struct sw_tracerec));
}

void sw_tracerec__free(struct sw_tracerec *t)
{
	if (!t)
		return;
	free(t->argv);
	free(t->env);
	free(t->files);
	free(t->filep);
	free(t->pr);
	free(t->prp);
	free(t->rec);
	free(t->red);
	free(t);
}

int tr_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}
