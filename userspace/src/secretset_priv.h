/* SPDX-License-Identifier: Apache-2.0 */
/* The secret set's lookup index, shared by secretset.c and secretset_index.c only: open
 * addressing over secret indexes + 1 (0: empty), by name and by id. */
#ifndef SW_SECRETSET_PRIV_H
#define SW_SECRETSET_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "secretset.h"

struct sw_secretset_index {
	size_t n, cap; /* entries covered, slots (a power of two) */
	const struct sw_secret *base;
	uint32_t *by_name, *by_id;
};

void sw_secretset_index_free(struct sw_secretset *set);
/* Entry i of all joins the index (there is room: see sw_secretset_index_of). */
void sw_secretset_index_add(struct sw_secretset_index *x, const struct sw_secret *all, size_t i);
/* The index, built when missing, stale or too full for one more. NULL when out of memory. */
struct sw_secretset_index *sw_secretset_index_of(struct sw_secretset *set);
const struct sw_secret *sw_secretset_index_name(struct sw_secretset_index *x,
						const struct sw_secret *all, const char *name);
const struct sw_secret *sw_secretset_index_id(struct sw_secretset_index *x,
					      const struct sw_secret *all, const uint8_t *id);

#endif
