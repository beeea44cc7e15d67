/* SPDX-License-Identifier: Apache-2.0 */
/* The sinks' shared state (sink.c: file, callback and the common calls; sink_syslog.c;
 * sink_hook.c). Nothing outside the sink module includes this. */
#ifndef SW_SINK_PRIV_H
#define SW_SINK_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sink.h"

enum sink_kind { K_FILE, K_SYSLOG, K_HOOK, K_CALLBACK, K_ALERT_FN };

/* One syslog message. Stream transports get the octet-counting prefix at send time: whether
 * a unix socket is a stream or datagram one is only known once connected. */
struct frame {
	struct frame *next;
	size_t len; /* message bytes */
	size_t off; /* bytes of prefix + message already sent on this connection */
	char data[];
};

struct hook_run {
	pid_t pid;
	int fd; /* write end of the hook's stdin, -1 once all is written */
	char *buf;
	size_t len, off;
	uint64_t deadline_ms;
	int killed;
};

enum { SL_IDLE, SL_CONNECTING, SL_CONNECTED };

#define SYSLOG_BACKOFF_MIN_MS	  100
#define SYSLOG_BACKOFF_MAX_MS	  30000
#define SYSLOG_CONNECT_TIMEOUT_MS 5000
#define FILE_SYNC_INTERVAL_MS	  1000

struct sw_sink {
	enum sink_kind kind;
	enum sw_sink_format fmt;
	struct sw_sink_stats st;
	char *buf; /* formatting buffer, grown on demand up to SW_SINK_ALERT_MAX */
	size_t cap;

	/* file */
	char *path;
	int fd;
	int is_stdout;
	int unsynced;
	uint64_t synced_ms;

	/* syslog */
	struct sockaddr_storage addr;
	socklen_t alen;
	int stype;
	int sock;
	int state;
	int facility;
	uint64_t next_try_ms, connect_start_ms;
	uint32_t backoff_ms;
	struct frame *qhead, *qtail;
	size_t qbytes;

	/* hook */
	char **argv;
	int timeout_ms;
	struct hook_run hooks[SW_SINK_HOOKS_MAX];

	/* callback */
	void (*fn)(const char *json, size_t len, void *ctx);
	void (*alert_fn)(const struct sw_alert *a, void *ctx);
	void *ctx;
};

uint64_t sink_now_ms(void);
struct sw_sink *sink_new(enum sink_kind kind, enum sw_sink_format fmt);
/* Formats a into s->buf with `extra` spare bytes after the text; returns the text length. */
int sink_format(struct sw_sink *s, const struct sw_alert *a, enum sw_sink_format fmt, size_t extra);
/* sink_syslog.c */
int syslog_emit(struct sw_sink *s, const struct sw_alert *a);
void sl_progress(struct sw_sink *s, int wait_ms);
void sl_drain(struct sw_sink *s);
/* sink_hook.c */
int hook_emit(struct sw_sink *s, const struct sw_alert *a);
int hooks_poll(struct sw_sink *s);
void hook_clear(struct hook_run *h);

#endif
