/* SPDX-License-Identifier: Apache-2.0 */
/* The small file-writing steps every persisted or appended file shares. */
#ifndef SW_FILEIO_H
#define SW_FILEIO_H

#include <stddef.h>

/* Writes all n bytes (retrying short writes and EINTR, a bounded number of times in a row).
 * Returns 0 or a negative errno (-EIO if write makes no progress). */
int sw_fileio__write_all(int fd, const void *p, size_t n);
/* fsyncs the directory holding path, so a rename into it survives a crash. */
int sw_fileio__fsync_dir_of(const char *path);
/* Ends writing the temp file tmp through fd and puts it in place of path: fsyncs and closes fd
 * (always), then, when err (the error so far) is 0, renames tmp over path and fsyncs its
 * directory; on any error removes tmp. Returns 0 or the first negative errno. */
int sw_fileio__replace(int fd, const char *tmp, const char *path, int err);

#endif
