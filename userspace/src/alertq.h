/* SPDX-License-Identifier: Apache-2.0 */
/* Alerts held back briefly before they are emitted, so a file written under a temporary name
 * and then renamed (sed -i, editors, atomic saves) is reported under its final name. Each held
 * alert owns copies of everything it points to. */
#ifndef SW_ALERTQ_H
#define SW_ALERTQ_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

struct sw_alertq;

struct sw_alertq *sw_alertq__new(size_t max);
void sw_alertq__free(struct sw_alertq *q);
/* Copies a. -ENOSPC when max alerts are held (the caller emits it at once instead). */
int sw_alertq__push(struct sw_alertq *q, const struct sw_alert *a, uint64_t due_us);
/* Every held file alert for (dev, ino) now names path. Returns how many changed. */
size_t sw_alertq__rename(struct sw_alertq *q, uint64_t dev, uint64_t ino, const char *path);
/* Hands each alert due by now (every alert when force) to fn, in arrival order, and drops it;
 * fn may change it (a held pipe alert is completed as it leaves). fn returns non-zero when the
 * alert cannot be decided yet (a pipe's reader not known): it stays first in line and the
 * drain stops (force drops it all the same). */
void sw_alertq__drain(struct sw_alertq *q, uint64_t now_us, int force,
		      int (*fn)(struct sw_alert *a, void *ctx), void *ctx);
size_t sw_alertq__len(const struct sw_alertq *q);

#endif
