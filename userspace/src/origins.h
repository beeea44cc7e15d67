// SPDX-License-Identifier: Apache-2.0
/* A secret's origin is a path: the file it was imported from. The set keeps the (device, inode)
 * that path named at the import, and the kernel knows origins by those. Editors and tools save
 * by writing a new file and renaming it over the old (vim, sed -i, most agents' edit tools):
 * the path then names another inode, and a session reading it raised no exposure alert while
 * a secret written back to it counted as a spread. The origins follow their path: a rename
 * record (a session's, checked by the daemon; or the daemon's own, when it finds an origin path
 * naming another file) moves every secret whose origin that path is to the file it now names.
 * Moves are remembered, so a set put in force later (a reload) follows them too; a replay sees
 * the same records and follows the same moves. An origin's file moved aside (mv .env .env.bak)
 * stays an origin under its new name while that name names it. */
#ifndef SPRAWL_ORIGINS_H
#define SPRAWL_ORIGINS_H

#include <stddef.h>
#include <stdint.h>

#include "secretset.h"

struct sw_origins;

struct sw_origins *sw_origins__new(void);
void sw_origins__free(struct sw_origins *o);
/* set is put in force: its origins' paths are indexed and the moves known applied. The number
 * of secrets moved, or -ENOMEM. */
int sw_origins__apply(struct sw_origins *o, struct sw_secretset *set);
/* path (absolute) names the file (dev in stat's encoding, ino) now, or no file (ino 0): the
 * secrets of set whose origin it is move to it (set must be the one last applied). A path that
 * is no origin naming an origin's file (mv .env .env.bak, ln) keeps that file an origin of the
 * same secrets under this name, also once the origin path names a new file (KEPT_MAX such
 * files; the oldest goes first); the name naming another file or none forgets it. 1 when the
 * origin files changed (a secret moved, a file kept or forgotten), 0 when not, -ENOMEM. */
int sw_origins__renamed(struct sw_origins *o, struct sw_secretset *set, const char *path,
			uint64_t dev, uint64_t ino);
/* The origin path that names the file (dev, ino) now, NULL when none does. */
const char *sw_origins__of_file(const struct sw_origins *o, uint64_t dev, uint64_t ino);
/* 1 when (dev, ino) is one of s's origin files: the one its path names, or one kept. */
int sw_origins__holds(const struct sw_origins *o, const struct sw_secret *s, uint64_t dev,
		      uint64_t ino);
/* Calls fn for each kept origin file (of an origin path of the set in force), with its name. */
void sw_origins__each_kept(const struct sw_origins *o,
			   void (*fn)(const char *name, uint64_t dev, uint64_t ino, void *ctx),
			   void *ctx);
/* Calls fn for each distinct origin path of the set last applied, with the file it names for
 * the set (dev in stat's encoding, ino): once per path, and again for secrets of the path that
 * hold another file (imported before and after it was replaced). */
void sw_origins__each(const struct sw_origins *o, const struct sw_secretset *set,
		      void (*fn)(const char *path, uint64_t dev, uint64_t ino, void *ctx),
		      void *ctx);

#endif
