/* SPDX-License-Identifier: Apache-2.0 */
/* Channels that read-back covers. A shared writable mapping of a file bypasses the syscalls
 * the kernel side sees, but the file is read back from disk when the mapper closes it and when
 * it exits: what it wrote through the mapping is matched then. Such a channel is not
 * unmonitored — unless its read-back fails or never happens. This table remembers each
 * covered channel until its process exits, with the result of the file's latest read-back;
 * at exit, a channel whose file was not read back whole is handed out to be reported. Pure
 * bookkeeping: no I/O. */
#ifndef SW_COVERED_H
#define SW_COVERED_H

#include <stddef.h>
#include <stdint.h>

#define SW_COVERED_MAX 4096 /* channels awaiting their process's exit at once */

struct sw_covered;

struct sw_covered_ent {
	uint64_t session;
	uint32_t tgid;
	uint32_t channel;  /* enum sw_channel */
	uint64_t dev, ino; /* dev in stat's encoding */
	uint32_t gen;
	int result;  /* latest read-back: 1 whole, 0 none yet, a negative errno when it failed */
	int settled; /* read back whole after the process let go of the file: final */
	char *path;  /* its name when the channel was seen */
};

struct sw_covered *sw_covered__new(void);
void sw_covered__free(struct sw_covered *c);
/* Remembers a channel of tgid into the file (dev, ino, gen) named path, once. -ENOSPC when
 * the table is full (-ENOMEM): the caller reports the channel at once instead. */
int sw_covered__add(struct sw_covered *c, uint64_t session, uint32_t tgid, uint32_t channel,
		    uint64_t dev, uint64_t ino, uint32_t gen, const char *path);
/* The file (dev, ino, gen) was read back: result 0 whole, else a negative errno. */
void sw_covered__result(struct sw_covered *c, uint64_t dev, uint64_t ino, uint32_t gen, int result);
/* tgid no longer holds the file (dev, ino) open or mapped: where its latest read-back was
 * whole, that read-back is final and later ones do not count. */
void sw_covered__settle(struct sw_covered *c, uint32_t tgid, uint64_t dev, uint64_t ino);
/* tgid exited: calls fn for each of its channels not settled whose file's latest read-back
 * did not succeed (or never happened: the caller reads it back once more), then forgets all
 * of its channels. */
typedef void (*sw_covered_fn)(const struct sw_covered_ent *e, void *ctx);
void sw_covered__take(struct sw_covered *c, uint32_t tgid, sw_covered_fn fn, void *ctx);
size_t sw_covered__count(const struct sw_covered *c);

#endif
