/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket protocol: one request line, answered by one line "ok ..." or
 * "err <message>"; "follow" turns the connection into a stream of alert JSON lines. */
#ifndef SW_CTL_H
#define SW_CTL_H

#include <stddef.h>

#define SW_CTL_SOCKET	  "control.sock"
#define SW_CTL_LINE_MAX	  4096
#define SW_CTL_STATUS_MAX (1024 * 1024) /* the longest answer: status --json, "ok " included */

/* Binds a listening unix stream socket at path (a stale socket is replaced). Returns the fd
 * or a negative errno. */
int sw_ctl__listen(const char *path);
/* Connects to the daemon's socket. Returns the fd or a negative errno. */
int sw_ctl__connect(const char *path);
/* Sends one request line and reads the one-line answer into out (without the newline).
 * Returns 0 for "ok", -EREMOTEIO for "err" (message in out), or a negative errno. */
int sw_ctl__call(int fd, const char *request, char *out, size_t size, int timeout_ms);
/* Reads one line (up to size-1 bytes, newline stripped) from fd. Returns its length, 0 at
 * end of file, or a negative errno. */
int sw_ctl__read_line(int fd, char *out, size_t size, int timeout_ms);

#endif
