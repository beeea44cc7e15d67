/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket protocol: one request line, answered by one line "ok ..." or
 * "err <message>"; "follow" turns the connection into a stream of alert JSON lines. */
#ifndef SW_CTL_H
#define SW_CTL_H

#include <stddef.h>

#define SW_CTL_SOCKET	  "control.sock"
#define SW_CTL_LINE_MAX	  4096
#define SW_CTL_STATUS_MAX (1024 * 1024) /* the longest answer: status --json, "ok " included */
#define SW_CTL_AGENT_MAX  64		/* a session's agent label, NUL included */

/* What a client may ask (the daemon answers each with one line). */
enum sw_ctl_verb {
	SW_CTL_STATUS,	/* status JSON: root sees all, others their own sessions */
	SW_CTL_SUMMARY, /* one line of counts */
	SW_CTL_SESSION, /* the caller's pid becomes a session root [agent label] */
	SW_CTL_WATCH,	/* root: another pid becomes a session root */
	SW_CTL_RELOAD,	/* root: reload the secret set */
	SW_CTL_FOLLOW,	/* the connection becomes a stream of alert JSON lines */
	SW_CTL_INDEX,	/* the secret index generation in force, and the newest asked for */
};

struct sw_ctl_req {
	enum sw_ctl_verb verb;
	int pid;		      /* SW_CTL_WATCH */
	char agent[SW_CTL_AGENT_MAX]; /* SW_CTL_SESSION, "" when none was given */
};

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

/* Parses one request line (newline stripped; len bytes, not NUL-terminated). Only printable
 * ASCII is accepted; a verb takes exactly the arguments it documents. Returns 0, or -EINVAL
 * with a message for the client in err (which never echoes the line's bytes). */
int sw_ctl__parse(const char *line, size_t len, struct sw_ctl_req *req, char *err, size_t errsz);
/* Takes the first complete line out of a client's input buffer (buf holding *len bytes):
 * copies it, without its newline (and a CR before it), NUL-terminated, into line (size bytes)
 * and shifts the rest down. Returns the line's length, -EAGAIN when no newline has arrived yet,
 * or -EMSGSIZE when the line is longer than size-1 bytes (the client is to be dropped). */
int sw_ctl__next_line(char *buf, size_t *len, char *line, size_t size);

#endif
