/* SPDX-License-Identifier: Apache-2.0 */
/* Artifact naming: what a kernel data record continues (its stream) and which place it names
 * (file, socket, pipe, tty), from the record alone. */
#ifndef SW_NAMING_H
#define SW_NAMING_H

#include <stdint.h>

#include "artifact.h"
#include "event.h"
#include "streams.h"

/* The kernel's dev_t is major:minor in 12:20 bits; users (and stat) know glibc's encoding. */
uint64_t sw_naming__user_dev(uint64_t kdev);
uint64_t sw_naming__kernel_dev(uint64_t udev);
/* The stream a data record continues. A whole-file read-back (SW_F_RESCAN) is a stream of its
 * own, apart from the file's writes. */
void sw_naming__stream_id(const struct sw_event *ev, struct sw_stream_id *k);
/* The place of a data record: type, path (display, may be NULL), dev/ino/gen for files, the
 * pipe's kernel dev and ino (its reader names it later), socket proto and peer. */
void sw_naming__data(const struct sw_event *ev, const char *path, struct sw_artifact *a);

#endif
