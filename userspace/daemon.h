/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's state, shared by its main loop (sprawlwatchd.c) and its control socket
 * (control.c). */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "fingerprint.h"
#include "kernel.h"
#include "pipeline.h"
#include "registry.h"
#include "rules.h"
#include "sink.h"
#include "sink_clickhouse.h"
#include "tracelog.h"

#define CLIENTS_MAX	 64
#define HOOK_ARGS_MAX	 32
#define TICK_MS		 250 /* held alerts and flood summaries */
#define TICKS_PER_SECOND (1000 / TICK_MS)
#define HOLD_MS		 500 /* how long a file alert waits for a rename */
#define ORIGINS_MAX	 16384

struct client {
	int fd;
	int follow;
	uid_t uid;
	pid_t pid;
};

struct daemon {
	struct sw_paths paths;
	const char *alerts_path;
	const char *rules_dir;
	const char *syslog_addr;
	const char *clickhouse_url;
	uint64_t ch_spool_kb; /* 0 = SW_CLICKHOUSE_SPOOL_KB */
	char *hook_argv[HOOK_ARGS_MAX + 2];
	int hook_argc;
	int hook_timeout_ms;
	struct sw_rules *rules;
	struct sw_sink *syslog_sink, *hook_sink, *ch_sink;
	struct sw_clickhouse *ch;
	uint64_t ch_failures; /* delivery failures seen at the last check */
	int ch_failing;
	unsigned int ticks;
	enum sw_sink_format fmt;
	int verbose;
	uint32_t ringbuf_mb, max_bytes;

	struct sw_key key;
	struct sw_kernel *k;
	struct sw_registry *reg;
	struct sw_pipeline *pl;
	struct sw_sink *file_sink, *stdout_sink, *ctl_sink;
	int epfd, listen_fd, sig_fd, timer_fd;
	struct client clients[CLIENTS_MAX];
	struct stat secrets_st;
	struct sw_loss loss_seen;
	uint64_t next_session;
	time_t started;
	int stop;
	const char *trace_dir;
	struct sw_tracelog_writer *trace;
	int fan_fd; /* fanotify: closes of files in the read-back set */
	uint64_t fan_errors;
	uint64_t trace_errors;
};

void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_us(void);
/* Reloads the secret set if its file changed (always with force). */
int reload_secrets(struct daemon *d, int force);
uint64_t new_session_id(struct daemon *d);
/* A session the daemon starts: into the pipeline and the trace log alike. */
void daemon_session(struct daemon *d, uint64_t id, uint32_t root, const char *agent);

/* control.c: the control socket. */
void control__deliver(const char *json, size_t len, void *ctx); /* alerts --follow */
void control__accept(struct daemon *d);
void control__readable(struct daemon *d, struct client *c);
void control__close_all(struct daemon *d);

#endif
