// SPDX-License-Identifier: Apache-2.0
/* The origin files of the secrets, followed by path (src/origins.h): an editor that saves a
 * .env by writing a new file and renaming it over the old one (vim does, as do sed -i and most
 * tools) leaves the origin path naming another inode than the kernel's origins map holds. The
 * directories of the origins are watched (inotify), and every origin path is checked at a set
 * put in force and every few seconds: one that names another file than the pipeline holds is
 * told to it as a rename record (kept in the trace: a replay follows the same move), and the
 * origins map is loaded again. A session's own rename over an origin reaches the pipeline as
 * its rename record already. */
#ifndef SPRAWL_ORIGINWATCH_H
#define SPRAWL_ORIGINWATCH_H

struct daemon;
struct originwatch;

struct originwatch *originwatch__new(void);
void originwatch__free(struct originwatch *w);
/* The inotify descriptor (TAG_ORIGINS), or -1. */
int originwatch__fd(const struct originwatch *w);
/* Every origin path of the set in force checked now, and its directory watched. */
void originwatch__sync(struct daemon *d);
/* TAG_ORIGINS is readable: the origins are checked again when a file was made or moved into a
 * watched directory. */
void originwatch__event(struct daemon *d);

#endif
