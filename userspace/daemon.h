/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's state, shared by its main loop (sprawlwatchd.c) and its control socket
 * (control.c). */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "alert.h"
#include "config.h"
#include "daemon_config.h"
#include "fingerprint.h"
#include "kernel.h"
#include "log.h"
#include "metrics.h"
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
#define SINKS_MAX	 16
#define ORIGINS_MAX	 16384

struct client {
	int fd;
	int follow;
	uid_t uid;
	pid_t pid;
};

/* The sinks the options ask for (daemon_sinks.c); file is NULL with --alerts -. */
struct sink_set {
	struct sw_sink *file, *out, *syslog, *hook;
};

#define RETIRED_MAX 8

/* source: a large read-back under way, read a slice per turn of the event loop. */
struct source_readback {
	struct sw_request q;	/* owns q.path and q.fd */
	struct sw_data_rec rec; /* the record its chunks are made from */
	struct stat sb;
	uint64_t off, done;
	size_t path_len;
	int fd, first, gone, active;
};
#define SOURCE_READBACKS_MAX 8 /* parked at once; more wait in the request queue */

struct daemon {
	struct sw_paths paths;
	const char *rules_dir;
	struct sw_rules *rules;
	const char *clickhouse_url;
	uint64_t ch_spool_kb; /* 0 = SW_CLICKHOUSE_SPOOL_KB */
	struct sw_sink *ch_sink;
	struct sw_clickhouse *ch;
	uint64_t ch_failures; /* delivery failures seen at the last check */
	int ch_failing;
	unsigned int ticks;
	int verbose;
	uint32_t ringbuf_mb, max_bytes; /* flags; 0 = the policy's */
	uint64_t ringbuf_bytes;

	struct sw_key key;
	struct sw_kernel *k;
	struct sw_registry *reg;
	struct sw_pipeline *pl;
	struct sink_set sinks;
	struct sw_sink *fwd_sink, *ctl_sink;  /* what the pipeline holds */
	struct sw_sink *retired[RETIRED_MAX]; /* replaced by a reload, still delivering */
	uint64_t retired_until[RETIRED_MAX];
	int epfd, listen_fd, sig_fd, timer_fd;
	struct client clients[CLIENTS_MAX];
	struct stat secrets_st;
	struct sw_loss loss_seen;
	uint64_t next_session;
	time_t started;
	int stop;
	const char *trace_dir; /* NULL = the state dir's, "none" = no trace log */
	uint32_t trace_max_mb, trace_max_age_days;
	struct sw_tracelog_writer *trace;
	int fan_fd; /* fanotify: closes of files in the read-back set */
	uint64_t fan_errors;
	uint64_t trace_errors;
	struct sw_sink *out_sinks[SINKS_MAX]; /* the pipeline's alerts go to each */
	size_t nout_sinks;
	void *readbuf; /* source: one data record of read-back bytes, wiped after use */
	struct source_readback rb[SOURCE_READBACKS_MAX];
	uint64_t rb_budget; /* source: bytes read back this turn of the loop may still take */
	void *rulesbuf;	    /* source: the rules record */
	uint64_t requests_lost;
	uint64_t ticked;	 /* ticks fed: the first says a daemon started */
	struct sw_request *reqq; /* source: requests waiting for an answer */
	int close_fd;		 /* source: the file a fanotify close handed over, or -1 */
	uint64_t close_dev, close_ino;
	size_t reqhead, nreq, reqcap;

	/* options: the flags as given, and the flags over the config file */
	struct sw_dconf *flags, *conf;
	const char *config_path;
	const char *metrics_addr;
	struct sw_metrics *metrics; /* --metrics: Prometheus scrapes */
	struct sw_sink *count_sink; /* counts alerts for the metrics */
	uint64_t alerts_by[SW_ALERT__COUNT][SW_SEV__COUNT];
	uint64_t stall_max_us; /* longest time one turn of the event loop took */
	int watchdog;	       /* systemd asked for WATCHDOG=1 pings */
};

/* Event-loop tags: the control socket's clients are 100 + slot. */
enum { TAG_KERNEL = 1, TAG_LISTEN, TAG_SIGNAL, TAG_TIMER, TAG_FANOTIFY, TAG_METRICS };
int add_fd(struct daemon *d, int fd, uint64_t tag);

void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_us(void);
/* Reloads the secret set if its file changed (always with force). */
int reload_secrets(struct daemon *d, int force);
uint64_t new_session_id(struct daemon *d);
/* A session the daemon starts: into the pipeline and the trace log alike. */
void daemon_session(struct daemon *d, uint64_t id, uint32_t root, const char *agent);

/* daemon_sinks.c: the alert sinks. */
int daemon_sinks__open(struct daemon *d);
/* SIGHUP: the sinks of config c (reopens the alert file when they are unchanged). */
int daemon_sinks__reload(struct daemon *d, const struct sw_dconf *c);
void daemon_sinks__poll(struct daemon *d);
void daemon_sinks__close(struct daemon *d);

/* daemon_metrics.c: --metrics. */
int daemon_metrics__start(struct daemon *d);
/* SIGHUP with a changed address (NULL: stop serving); -1 (reported) keeps the old one. */
int daemon_metrics__reconfigure(struct daemon *d, const char *addr);
void daemon_metrics__stop(struct daemon *d);

/* control.c: the control socket. */
void control__deliver(const char *json, size_t len, void *ctx); /* alerts --follow */
void control__accept(struct daemon *d);
void control__readable(struct daemon *d, struct client *c);
void control__close_all(struct daemon *d);

#endif
