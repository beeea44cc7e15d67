/* SPDX-License-Identifier: Apache-2.0 */
/* Delivery: what happens to an alert between the pipeline deciding it and the caller taking
 * it. Flood control per (secret, session); file and pipe alerts held briefly (a rename may
 * follow; a pipe's reader is named as it leaves); then the outbox the caller drains. Times are
 * record times: nothing here reads a clock. */
#ifndef SW_DELIVERY_H
#define SW_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "policy.h"
#include "ratelimit.h"

#define SW_DELIVERY_HELD_MAX   1024  /* alerts held at once; more go out at once */
#define SW_DELIVERY_OUTBOX_MAX 65536 /* alerts not yet taken by the caller */

struct sw_delivery;

/* NULL with errno set. */
struct sw_delivery *sw_delivery__new(const struct sw_policy *pol);
void sw_delivery__free(struct sw_delivery *d);
/* The policy changed (a rules record): flood control starts over with its values. */
int sw_delivery__set_policy(struct sw_delivery *d, const struct sw_policy *pol);
/* A decided alert: flood control, then held (file, pipe and terminal: a rename may follow, a
 * reader is named) or straight to the outbox. */
void sw_delivery__push(struct sw_delivery *d, const struct sw_alert *a);
/* Straight to the outbox: alerts about the monitor itself (gaps, channels, exposure). */
void sw_delivery__emit(struct sw_delivery *d, const struct sw_alert *a);
/* Held file alerts for (dev, ino) now name path. */
void sw_delivery__rename(struct sw_delivery *d, uint64_t dev, uint64_t ino, const char *path);
/* Releases the held alerts due by now (all with force) through decide, which completes an
 * alert (returns 0: to the outbox, unless it cleared a->kind to SW_ALERT__COUNT: dropped) or
 * asks to wait (non-zero: the release stops there until the next call). Then flood-control
 * summaries that are due. */
typedef int (*sw_delivery_decide)(struct sw_alert *a, void *ctx);
void sw_delivery__release(struct sw_delivery *d, uint64_t now_us, int force,
			  sw_delivery_decide decide, void *ctx);
size_t sw_delivery__summaries(struct sw_delivery *d, uint64_t now_us,
			      struct sw_ratelimit_summary *out, size_t max);
/* Every alert that enters the outbox is also fed to sum (the session summaries); NULL: none. */
struct sw_summary;
void sw_delivery__set_summary(struct sw_delivery *d, struct sw_summary *sum);
/* Hands each alert in the outbox to fn and forgets it. */
void sw_delivery__drain(struct sw_delivery *d, void (*fn)(const struct sw_alert *a, void *ctx),
			void *ctx);
uint64_t sw_delivery__suppressed(const struct sw_delivery *d);
uint64_t sw_delivery__dropped(const struct sw_delivery *d);
uint64_t sw_delivery__emitted(const struct sw_delivery *d);

#endif
