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

#endif
