/* SPDX-License-Identifier: Apache-2.0 */
/* Files to read again from disk when a process exits: what it wrote through a shared mapping,
 * io_uring or out-of-order pwrite pieces never passed through a write() the kernel side saw
 * in order. */
#ifndef SW_RESCAN_H
#define SW_RESCAN_H

#include <stddef.h>
#include <stdint.h>

#define SW_RESCAN_MAX 4096 /* files remembered at once; the oldest go first */

struct sw_rescan;

struct sw_rescan *sw_rescan__new(void);
void sw_rescan__free(struct sw_rescan *r);
/* Remembers (dev, ino, path) for tgid: 0, or 1 when it was remembered already (not added
 * twice), or a negative errno. dev in stat's encoding. */
int sw_rescan__add(struct sw_rescan *r, uint32_t tgid, uint64_t dev, uint64_t ino, uint32_t gen,
		   const char *path);
/* Calls fn for every file remembered for tgid, then forgets them. */
typedef void (*sw_rescan_fn)(uint64_t dev, uint64_t ino, uint32_t gen, const char *path, void *ctx);
void sw_rescan__take(struct sw_rescan *r, uint32_t tgid, sw_rescan_fn fn, void *ctx);
/* Calls fn for every remembered entry of the file (dev, ino), whatever the process, without
 * forgetting it (a close-write: the writer may still write through a mapping). Returns how
 * many. */
size_t sw_rescan__peek_file(const struct sw_rescan *r, uint64_t dev, uint64_t ino, sw_rescan_fn fn,
			    void *ctx);
/* Every file, for every process (daemon shutdown). */
void sw_rescan__take_all(struct sw_rescan *r, sw_rescan_fn fn, void *ctx);
uint64_t sw_rescan__dropped(const struct sw_rescan *r);

#endif
