/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's state, shared by its main loop (sprawlwatchd.c) and its control socket
 * (control.c). */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "alert.h"
#include "config.h"
#include "ctl.h"
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
#define ORIGINS_CHECK_S	 5     /* every origin path checked this often (originwatch.c) */
#define RING_TURN_US	 10000 /* ring records one turn of the event loop handles, in time */

/* The control socket's limits: no local user can hold the daemon's loop or every slot. */
#define CTL_PER_UID	  8	       /* connections of one non-root uid */
#define CTL_ROOT_RESERVED 8	       /* slots only root may take */
#define CTL_LINE_MS	  2000	       /* a request line must be complete within */
#define CTL_IDLE_MS	  10000	       /* a connection with nothing to do is closed after */
#define CTL_SEND_MS	  5000	       /* pending output must move within */
#define CTL_FOLLOW_BUF	  (256 * 1024) /* alerts waiting for a follower that does not read */
#define CTL_OWNED_MAX	  256	       /* sessions remembered with the uid that started them */

struct client {
	int fd;
	int follow;
	uid_t uid;
	pid_t pid;
	uint32_t events;    /* what epoll watches for it */
	int eof;	    /* it hung up: closed once its answers went */
	uint64_t line_ms;   /* when the request being read began (0: none) */
	uint64_t active_ms; /* its last request, or progress of its output */
	size_t inlen;
	char in[SW_CTL_LINE_MAX]; /* the request line as it arrives */
	char *out;		  /* answers and alerts it has not taken yet */
	size_t olen, ocap;
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
	struct tlsedge *tls;	     /* TLS uprobes per session process (tlsedge.c) */
	struct originwatch *origins; /* origin paths followed (originwatch.c) */
	uint64_t origins_moved;	     /* times an origin path was found naming a new file */
	uint32_t guard;		     /* enum sw_guard: --guard, else the policy's */
	int guard_flag;		     /* --guard as given, -1 when not */
	struct sw_registry *reg;
	struct sw_pipeline *pl;
	struct sink_set sinks;
	struct sw_sink *fwd_sink, *ctl_sink;  /* what the pipeline holds */
	struct sw_sink *retired[RETIRED_MAX]; /* replaced by a reload, still delivering */
	uint64_t retired_until[RETIRED_MAX];
	int epfd, listen_fd, sig_fd, timer_fd;
	struct client clients[CLIENTS_MAX];
	struct {
		uint64_t session;
		uid_t uid;
	} ctl_owned[CTL_OWNED_MAX]; /* who started which session over the socket */
	unsigned int ctl_owned_next;
	uint64_t ctl_refused, ctl_dropped; /* connections over a cap; closed at a deadline */
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
	/* the most CPU one turn used: its own work, without the time it waited for a CPU */
	uint64_t busy_max_us;
	struct daemon_index *index; /* daemon_index.c: the secret index built off the loop */
	uint64_t turn_deadline_us; /* this turn of the loop stops reading the ring then; 0: never */
	uint32_t turn_records;
	/* spill.c: the spilled file range being read back, across ticks */
	struct sw_spill *spill;
	struct sw_inode_key spill_key;
	int spill_fd; /* -1: not opened yet, -2: cannot be */
	uint64_t spill_done;
	uint64_t spill_end;    /* where the read-back of the current range stops */
	unsigned int spill_ri; /* the range of *spill being read back */
	int spill_due;	       /* the tick asks for a look at the kernel's spills this turn */
	int spill_more;	       /* the last look stopped with ranges left: the next turn goes on */
	uint64_t spills_read, spill_bytes, spills_failed;
	/* racecheck.c: shared-mm file writes compared with the file */
	struct racecheck *race;
	uint64_t race_checked, race_differed, race_unread;
	int watchdog;	     /* systemd asked for WATCHDOG=1 pings */
	int secrets_damaged; /* the set on disk failed to load: learned ones wait */
};

/* Event-loop tags: the control socket's clients are 100 + slot. */
enum {
	TAG_KERNEL = 1,
	TAG_LISTEN,
	TAG_SIGNAL,
	TAG_TIMER,
	TAG_FANOTIFY,
	TAG_METRICS,
	TAG_INDEX,
	TAG_TLS,
	TAG_ORIGINS
};
int add_fd(struct daemon *d, int fd, uint64_t tag);

void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_us(void);
/* Reloads the secret set if its file changed or detectors learned secrets to save (always with
 * force): 0 when the new index is in force, the generation it will have when it is built off
 * the loop (in force at its tick record), or a negative errno. */
int reload_secrets(struct daemon *d, int force);
/* The origin files of the secrets in force into the kernel's origins map. */
void push_origins(struct daemon *d);

/* daemon_index.c: the secret index built off the loop by a worker thread. new: before the
 * first reload (which runs on the caller); start: the worker and its eventfd (TAG_INDEX). */
struct daemon_index;
int daemon_index__new(struct daemon *d);
int daemon_index__start(struct daemon *d);
void daemon_index__stop(struct daemon *d);
/* A job: save what detectors learned, read the set, build the index. wait: here and now. The
 * same return as reload_secrets. */
int daemon_index__request(struct daemon *d, int wait);
void daemon_index__ready(struct daemon *d);		/* TAG_INDEX: a job finished */
uint64_t daemon_index__pending(const struct daemon *d); /* the newest generation asked for */
uint64_t new_session_id(struct daemon *d);
/* A session the daemon starts: into the pipeline and the trace log alike. */
void daemon_session(struct daemon *d, uint64_t id, uint32_t root, const char *agent);

/* daemon_sinks.c: the alert sinks. */
int daemon_sinks__open(struct daemon *d);
/* An alert of the daemon's own, not from a record: every sink and every follower. */
void daemon_sinks__emit(struct daemon *d, const struct sw_alert *a);
/* SIGHUP: the sinks of config c (reopens the alert file when they are unchanged). */
int daemon_sinks__reload(struct daemon *d, const struct sw_dconf *c);
void daemon_sinks__poll(struct daemon *d);
void daemon_sinks__close(struct daemon *d);

/* daemon_state.c: the key and the secret set at start and reload. */
/* Loads (or creates) the key; a missing key beside an existing set, a damaged or replaced
 * key: -errno, reported with what to do. */
int daemon_state__key(struct daemon *d);
/* The secret set failed to load with e: -1 (reported) when the daemon must not start (at
 * start, a set made under another key), else 0 after a state_warning alert. */
int daemon_state__secrets_failed(struct daemon *d, int e, int at_start);
/* A state_warning alert about the daemon's file path (NULL: none) to every sink. */
void daemon_state__warning(struct daemon *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* daemon_metrics.c: --metrics. */
int daemon_metrics__start(struct daemon *d);
/* SIGHUP with a changed address (NULL: stop serving); -1 (reported) keeps the old one. */
int daemon_metrics__reconfigure(struct daemon *d, const char *addr);
void daemon_metrics__stop(struct daemon *d);

/* spill.c: file ranges the ring had no room for, read back (a budget per call). */
void spill__read(struct daemon *d); /* one turn's slice; spill_more when there is more */
void spill__stop(struct daemon *d); /* at the stop: all of it, up to 1 GiB */
void spill__free(struct daemon *d);
/* racecheck.c: a file write of a shared-mm process (SW_F_SHARED_MM) compared with the file's
 * range once its last chunk passed; read back when they differ. */
int racecheck__new(struct daemon *d);
void racecheck__note(struct daemon *d, const void *rec, size_t size);
void racecheck__free(struct daemon *d);

/* control.c: the control socket. Every client is non-blocking with its own buffers and
 * deadlines; the loop never waits on one. */
void control__alert(const struct sw_alert *a, void *ctx); /* alerts --follow */
void control__accept(struct daemon *d);
/* epoll reported events (EPOLLIN, EPOLLOUT, ...) on the client. */
void control__event(struct daemon *d, struct client *c, uint32_t events);
/* Every tick: drops clients past their line, idle or send deadline. */
void control__tick(struct daemon *d);
void control__close_all(struct daemon *d);
/* control_status.c */
void control__status_json(struct daemon *d, FILE *b, uid_t uid);
/* Whether uid started session id over the socket (root sees every session). */
int control__session_visible(struct daemon *d, uint64_t id, uid_t uid);

#endif
