// SPDX-License-Identifier: Apache-2.0
/* sprawlwatchd: the foreground daemon. Loads and attaches the kernel programs, then pumps
 * their records through the detection pipeline; the control socket appears only once every
 * program is attached. SIGTERM stops, SIGHUP reloads. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "daemon_config.h"
#include "fingerprint.h"
#include "kernel.h"
#include "learn.h"
#include "originwatch.h"
#include "pipeline.h"
#include "registry.h"
#include "rules.h"
#include "secretset.h"
#include "sink.h"
#include "sink_clickhouse.h"
#include "source.h"
#include "tlsedge.h"
#include "version.h"

static const char usage_head[] =
	"Usage: sprawlwatchd [OPTION]...\n"
	"Watch AI agent process trees and alert when a tracked secret lands somewhere new.\n"
	"Runs in the foreground; SIGTERM stops it, SIGHUP reopens the alert file, reloads the\n"
	"secret set and applies the config file's [SIGHUP] keys. Every option is also a key of\n"
	"the config file (" SW_DEFAULT_CONFIG "); an option given here wins.\n"
	"\n";

/* CPU time of the loop's thread, µs. */
static uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_atv(LOG_INFO, fmt, ap);
	va_end(ap);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;

	/* libbpf's debug output is a dump of the object's sections: not even for debug. */
	if (level == LIBBPF_DEBUG)
		return 0;
	/* libbpf ends its lines with a newline; ours are added by the log. */
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	log_at(level == LIBBPF_WARN   ? LOG_WARNING
	       : level == LIBBPF_INFO ? LOG_INFO
				      : LOG_DEBUG,
	       "libbpf: %s", line);
	return 0;
}

static const char *fmt_time(uint64_t real_ns, char out[SW_ALERT_TIME_LEN])
{
	sw_alert__format_time(real_ns / 1000, out);
	return out;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct sw_hdr *h = data;

	if (d->verbose && size >= sizeof(*h))
		log_debug("event type=%u pid=%u session=%llu flags=0x%x size=%u", h->type, h->tgid,
			  (unsigned long long)h->session_id, h->flags, h->size);
	if (size >= sizeof(struct sw_tlslib_rec) && h->type == SW_EV_TLSLIB && h->size <= size) {
		/* The edge's alone: attach, resume; the pipeline learns nothing from it. */
		tlsedge__on_tlslib(d->tls, data);
		return 0;
	}
	if (size >= sizeof(struct sw_data_rec) && h->type == SW_EV_DATA)
		tlsedge__on_data(d->tls, data);
	source__feed(d, data, size);
	if (size >= sizeof(*h) && h->type == SW_EV_EXEC && h->session_id)
		tlsedge__on_proc(d->tls, h->tgid, h->session_id);
	else if (size >= sizeof(*h) && h->type == SW_EV_EXIT)
		tlsedge__on_exit(d->tls, h->tgid);
	/* A writer going flat out can keep the ring full for ever: one turn of the loop takes at
	 * most RING_TURN_US of it, then the other descriptors get theirs (the record is
	 * consumed; libbpf stops at a negative return, and the ring stays readable). */
	if (d->turn_deadline_us && now_us() > d->turn_deadline_us)
		return -EAGAIN;
	return 0;
}

void daemon_session(struct daemon *d, uint64_t id, uint32_t root, const char *agent)
{
	source__session(d, id, root, agent);
}

static void save_learned(struct daemon *d);

int reload_secrets(struct daemon *d, int force)
{
	struct stat st;

	if (stat(d->paths.secrets, &st)) {
		if (errno != ENOENT)
			return -errno;
		memset(&st, 0, sizeof(st));
	}
	if (!force && st.st_ino == d->secrets_st.st_ino && st.st_size == d->secrets_st.st_size &&
	    st.st_mtim.tv_sec == d->secrets_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == d->secrets_st.st_mtim.tv_nsec &&
	    (!sw_pipeline__learned_pending(d->pl) || d->secrets_damaged))
		return 0; /* (a damaged set keeps what was learned until it is repaired) */
	/* What the detectors learned goes into the file first (the set read now replaces the
	 * pipeline's and must not lose it), then the set is read and its index built: off the
	 * loop unless the set is small (daemon_index.c). */
	return daemon_index__request(d, d->epfd < 0);
}

/* Secrets the detectors learned go into the secret set on disk (under the CLI's lock), so
 * they stay tracked across restarts and show in `sprawlctl secrets list`. */
static void save_learned(struct daemon *d)
{
	struct sw_secretset *learned = NULL;
	int fd, n, e;

	/* Nothing new, or the set on learned is damaged (what was learned stays in the pipeline
	 * until it is repaired: the reload saves it first), rather than a failure every second;
	 * before the kernel, nothing was learned. */
	if (!sw_pipeline__learned_pending(d->pl) || d->secrets_damaged || !d->k)
		return;
	fd = open(d->paths.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		log_err("%s: cannot lock: %s", d->paths.lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	/* What was learned, then what of it the file lacks (learn.c: appended as it streams). */
	learned = sw_secretset__new();
	e = learned ? sw_pipeline__learned(d->pl, learned) : -ENOMEM;
	if (e > 0) {
		n = sw_learn__save(d->paths.secrets, &d->key, learned);
		e = n < 0 ? n : 0;
		if (n > 0)
			logmsg("learned %d secret(s) from detectors", n);
	}
	if (e)
		log_err("%s: cannot save learned secrets: %s", d->paths.secrets, strerror(-e));
	sw_secretset__free(learned);
	close(fd);
}

static void recover_scope(uint32_t tgid, const struct sw_scope *s, void *ctx)
{
	struct daemon *d = ctx;

	if (kill(tgid, 0) && errno == ESRCH)
		return;
	daemon_session(d, s->session_id, s->root_pid, NULL);
	tlsedge__on_proc(d->tls, tgid, s->session_id);
	if (s->session_id < (1ULL << 63) && s->session_id > d->next_session)
		d->next_session = s->session_id;
}

/* The config file, then the command line over it (daemon_config.c). 0 to go on, 1 when
 * --help or --version was answered, -1 on an error (reported). */
static int load_config(struct daemon *d, int argc, char **argv)
{
	struct sw_dconf *file = NULL;
	struct sw_dconf_error e = {};
	char msg[1200];
	int r;

	d->flags = sw_dconf__new();
	d->conf = sw_dconf__new();
	file = sw_dconf__new();
	if (!d->flags || !d->conf || !file) {
		log_err("out of memory");
		goto fail;
	}
	if (sw_dconf__parse_args(d->flags, argc, argv, &e)) {
		sw_dconf_error__format(&e, msg, sizeof(msg));
		log_err("%s", msg);
		goto fail;
	}
	if (sw_dconf__is_set(d->flags, SW_DO_HELP)) {
		fputs(usage_head, stdout);
		sw_dconf__help(stdout);
		sw_dconf__free(file);
		return 1;
	}
	if (sw_dconf__is_set(d->flags, SW_DO_VERSION)) {
		printf("sprawlwatchd %s\n", SW_VERSION);
		sw_dconf__free(file);
		return 1;
	}
	d->config_path = sw_dconf__str(d->flags, SW_DO_CONFIG);
	if (!d->config_path)
		d->config_path = SW_DEFAULT_CONFIG;
	r = sw_dconf__load_file(file, d->config_path, &e);
	/* No file at the default place: flags and defaults only. */
	if (r == -ENOENT && !sw_dconf__is_set(d->flags, SW_DO_CONFIG))
		r = 0;
	if (r) {
		if (r == -ENOENT)
			snprintf(e.msg, sizeof(e.msg), "%s", strerror(ENOENT));
		sw_dconf_error__format(&e, msg, sizeof(msg));
		log_err("config: %s%s%s (check with: sprawlctl config check %s)",
			r == -ENOENT ? d->config_path : "", r == -ENOENT ? ": " : "", msg,
			d->config_path);
		goto fail;
	}
	if (sw_dconf__merge(d->conf, file, d->flags)) {
		log_err("out of memory");
		goto fail;
	}
	sw_dconf__free(file);
	return 0;
fail:
	sw_dconf__free(file);
	return -1;
}

/* The log level and verbosity: at start and at each SIGHUP. */
static void apply_log(struct daemon *d, const struct sw_dconf *c)
{
	static const int prios[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
	int i = sw_dconf__choice(c, SW_DO_LOG_LEVEL);

	d->verbose = (int)sw_dconf__num(c, SW_DO_VERBOSE);
	log_set_level(d->verbose ? LOG_DEBUG : i >= 0 ? prios[i] : LOG_INFO);
}

/* A directory: the flag, else $ENV, else the file's value, else the default. */
static const char *dir_of(struct daemon *d, enum sw_dopt_id id, const char *env)
{
	const char *e = getenv(env);

	if (sw_dconf__is_set(d->flags, id))
		return sw_dconf__str(d->flags, id);
	if (e && *e)
		return NULL; /* sw_paths__init takes the environment */
	return sw_dconf__str(d->conf, id);
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	int r = load_config(d, argc, argv);

	if (r)
		return r;
	apply_log(d, d->conf);
	d->rules_dir = sw_dconf__str(d->conf, SW_DO_RULES);
	d->trace_dir = sw_dconf__str(d->conf, SW_DO_TRACE_DIR);
	d->metrics_addr = sw_dconf__str(d->conf, SW_DO_METRICS);
	d->clickhouse_url = sw_dconf__str(d->conf, SW_DO_CLICKHOUSE);
	d->ch_spool_kb = sw_dconf__num(d->conf, SW_DO_CLICKHOUSE_SPOOL_KB);
	d->ringbuf_mb = sw_dconf__num(d->conf, SW_DO_RINGBUF_MB);
	d->trace_max_mb = sw_dconf__num(d->conf, SW_DO_TRACE_MAX_MB) ?: SW_TRACE_MAX_MB_DEFAULT;
	d->trace_max_age_days =
		sw_dconf__num(d->conf, SW_DO_TRACE_MAX_AGE_DAYS) ?: SW_TRACE_MAX_AGE_DAYS_DEFAULT;
	d->max_bytes = sw_dconf__num(d->conf, SW_DO_MAX_BYTES);
	d->guard_flag = sw_dconf__choice(d->conf, SW_DO_GUARD);
	if (sw_paths__init(&d->paths, dir_of(d, SW_DO_STATE_DIR, "SPRAWL_STATE_DIR"),
			   dir_of(d, SW_DO_RUN_DIR, "SPRAWL_RUN_DIR"))) {
		log_err("a directory path is too long");
		return -1;
	}
	return 0;
}

/* SIGHUP: the config file again, with the same flags over it. What can change in place (log
 * level, verbosity, metrics, the alert sinks: file, format, syslog, hook) does; other changes
 * are named, for a restart. A broken file changes nothing. */
static void reload_config(struct daemon *d)
{
	struct sw_dconf *file = sw_dconf__new(), *c = sw_dconf__new();
	struct sw_dconf_error e = {};
	char msg[1200];
	int i, r;

	if (!file || !c)
		goto out;
	r = sw_dconf__load_file(file, d->config_path, &e);
	if (r == -ENOENT && !sw_dconf__is_set(d->flags, SW_DO_CONFIG))
		r = 0;
	if (r) {
		sw_dconf_error__format(&e, msg, sizeof(msg));
		log_err("SIGHUP: config %s: %s; nothing changed", d->config_path, msg);
		/* ...but logrotate's reopen still happens. */
		if (d->sinks.file)
			sw_sink__reopen(d->sinks.file);
		goto out;
	}
	if (sw_dconf__merge(c, file, d->flags))
		goto out;
	apply_log(d, c);
	if (!sw_dconf__same(c, d->conf, SW_DO_METRICS) &&
	    daemon_metrics__reconfigure(d, sw_dconf__str(c, SW_DO_METRICS)))
		sw_dconf__copy(c, d->conf, SW_DO_METRICS);
	/* A sink that cannot be set up keeps the old ones, and the old values stay current. */
	if (daemon_sinks__reload(d, c)) {
		static const enum sw_dopt_id keep[] = {SW_DO_ALERTS,   SW_DO_FORMAT,
						       SW_DO_SYSLOG,   SW_DO_HOOK,
						       SW_DO_HOOK_ARG, SW_DO_HOOK_TIMEOUT_MS};

		for (i = 0; i < (int)(sizeof(keep) / sizeof(keep[0])); i++)
			sw_dconf__copy(c, d->conf, keep[i]);
	}
	for (i = 0; i < SW_DO__COUNT; i++)
		if (!sw_dopts[i].reload && !sw_dopts[i].cli_only && !sw_dconf__same(c, d->conf, i))
			log_warn("SIGHUP: %s changed in %s: takes effect at the next restart",
				 sw_dopts[i].name, d->config_path);
	/* What the running daemon uses from now on is compared against at the next SIGHUP. */
	for (i = 0; i < SW_DO__COUNT; i++)
		if (sw_dopts[i].reload)
			sw_dconf__copy(d->conf, c, i);
	d->metrics_addr = sw_dconf__str(d->conf, SW_DO_METRICS);
	log_notice("SIGHUP: config %s applied (log-level %s%s)", d->config_path,
		   sw_dconf__str(c, SW_DO_LOG_LEVEL) ? sw_dconf__str(c, SW_DO_LOG_LEVEL) : "info",
		   d->verbose ? ", verbose" : "");
out:
	sw_dconf__free(file);
	sw_dconf__free(c);
}

/* The rules are read once, and the same bytes go to the daemon's own copy (agent table, capture
 * limits) and, as a rules record, to the pipeline and the trace log. */
static int load_rules(struct daemon *d)
{
	struct sw_embedded_file files[SW_RULES_FILES + 1];
	const struct sw_embedded_file *use = sw_embedded_rules;
	const struct sw_policy *pol;
	struct sw_rules_error e;
	char msg[1024];
	int rc = 0;

	memset(&e, 0, sizeof(e));
	if (d->rules_dir) {
		rc = sw_rules__read_dir(d->rules_dir, files, &e);
		use = files;
	}
	d->rules = rc ? NULL : sw_rules__load_files(use, d->rules_dir ? d->rules_dir : "", &e);
	if (!d->rules) {
		sw_rules_error__format(&e, msg, sizeof(msg));
		log_err("%s (check with: sprawlctl rules check %s)", msg,
			d->rules_dir ? d->rules_dir : "");
		if (d->rules_dir && !rc)
			sw_rules__free_files(files);
		return -1;
	}
	rc = source__rules(d, use);
	if (d->rules_dir)
		sw_rules__free_files(files);
	if (rc) {
		log_err("the rule files are larger than a rules record takes (%u bytes)",
			SW_RULES_REC_MAX);
		return -1;
	}
	pol = sw_rules__policy(d->rules);
	if (!d->max_bytes)
		d->max_bytes = pol->capture_max_bytes;
	d->ringbuf_bytes = d->ringbuf_mb ? (uint64_t)d->ringbuf_mb << 20 : pol->ringbuf_bytes;
	d->guard = d->guard_flag >= 0 ? (uint32_t)d->guard_flag : pol->guard;
	return 0;
}

/* ClickHouse: a sink of its own that spools under the state dir and delivers from a thread. */
static int open_clickhouse(struct daemon *d)
{
	struct sw_clickhouse_opts o = {.url = d->clickhouse_url, .spool_max = d->ch_spool_kb << 10};
	char dir[1100];

	snprintf(dir, sizeof(dir), "%s/clickhouse", d->paths.state_dir);
	o.spool_dir = dir;
	d->ch = sw_clickhouse__new(&o);
	if (d->ch)
		d->ch_sink = sw_sink__callback(sw_clickhouse__deliver, d->ch, SW_FMT_JSON);
	if (!d->ch || !d->ch_sink || d->nout_sinks >= SINKS_MAX) {
		log_err("--clickhouse %s: %s (expected http://HOST:PORT; spool %s)",
			d->clickhouse_url, strerror(errno), dir);
		return -1;
	}
	d->out_sinks[d->nout_sinks++] = d->ch_sink;
	return 0;
}

/* Once a second: delivery trouble said once when it starts and once when it ends, and alerts
 * a full spool refused become a coverage_gap (made here: the spool is the daemon's, not a
 * record the pipeline saw). */
static void check_clickhouse(struct daemon *d)
{
	struct sw_clickhouse_stats st;
	uint64_t n = sw_clickhouse__take_refused(d->ch);
	struct sw_alert *a;
	size_t i;

	sw_clickhouse__stats(d->ch, &st);
	if (st.failures != d->ch_failures && !d->ch_failing) {
		log_warn("clickhouse: %s; alerts stay spooled (%llu bytes) until it answers",
			 st.last_error, (unsigned long long)st.pending);
		d->ch_failing = 1;
	} else if (d->ch_failing && st.failures == d->ch_failures && !st.pending) {
		logmsg("clickhouse: delivering again (%llu alerts delivered)",
		       (unsigned long long)st.delivered);
		d->ch_failing = 0;
	}
	d->ch_failures = st.failures;
	if (!n || !(a = calloc(1, sizeof(*a))))
		return;
	a->time_us = now_us();
	a->kind = SW_ALERT_COVERAGE_GAP;
	a->severity = sw_policy__severity(sw_rules__policy(d->rules), SW_ALERT_COVERAGE_GAP, 0);
	gethostname(a->host, sizeof(a->host) - 1);
	a->ngaps = 1;
	snprintf(a->gaps[0].what, sizeof(a->gaps[0].what), "clickhouse_spool_full");
	a->gaps[0].count = n;
	snprintf(a->message, sizeof(a->message),
		 "%llu alert(s) not delivered to ClickHouse: the spool %.300s/clickhouse was full "
		 "or not writable",
		 (unsigned long long)n, d->paths.state_dir);
	for (i = 0; i < d->nout_sinks; i++)
		sw_sink__emit(d->out_sinks[i], a);
	free(a);
}

/* The trace log, by default in the state dir, bounded by size and age ("none": off). */
static int open_trace(struct daemon *d)
{
	static char dir[sizeof(d->paths.state_dir) + sizeof(SW_TRACELOG_SUBDIR) + 1];
	struct sw_tracelog_opts to = {
		.max_segments = UINT32_MAX,
		.max_total_bytes = (uint64_t)d->trace_max_mb << 20,
		.max_age_s = (uint64_t)d->trace_max_age_days * 86400,
	};

	if (d->trace_dir && !strcmp(d->trace_dir, "none"))
		return 0;
	if (!d->trace_dir) {
		snprintf(dir, sizeof(dir), "%s/" SW_TRACELOG_SUBDIR, d->paths.state_dir);
		d->trace_dir = dir;
	}
	/* Segments of a sixteenth of the bound, so retention cuts fine (64 MiB at most). */
	to.max_segment_bytes = to.max_total_bytes / 16 < SW_TRACELOG_SEGMENT_BYTES_DEFAULT
				       ? to.max_total_bytes / 16
				       : SW_TRACELOG_SEGMENT_BYTES_DEFAULT;
	to.dir = d->trace_dir;
	d->trace = sw_tracelog_writer__new(&to);
	if (!d->trace) {
		log_err("trace log %s: cannot record there: %s (--trace-dir none turns recording "
			"off)",
			d->trace_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void push_agent_comms(struct daemon *d)
{
	char comms[256][SW_AGENT_COMM_LEN];
	size_t n = sw_rules__agent_comms(d->rules, comms, 200), ni;
	int e;

	if (n > 200) {
		log_warn("the rules name %zu agent comms; the kernel table takes 200", n);
		n = 200;
	}
	ni = sw_rules__interpreter_comms(d->rules, comms + n, 256 - n);
	e = sw_kernel__set_agent_comms(d->k, (const char(*)[16])comms, n, ni);
	if (e)
		log_err("cannot load the agent table into the kernel: %s", strerror(-e));
}

static int cmp_inode(const void *a, const void *b)
{
	const struct sw_inode_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

void push_origins(struct daemon *d)
{
	static struct sw_inode_key keys[ORIGINS_MAX], last[ORIGINS_MAX];
	static size_t nlast = SIZE_MAX;
	size_t n = sw_pipeline__origins(d->pl, keys, ORIGINS_MAX), i, u = 0;
	int e;

	if (!d->k)
		return;
	/* An import of thousands from one .env file has thousands of times the same origin: the
	 * kernel gets each once, and nothing when nothing changed (a map update per secret on
	 * the event loop took ~15 ms at 10,000). */
	qsort(keys, n, sizeof(keys[0]), cmp_inode);
	for (i = 0; i < n; i++)
		if (!u || cmp_inode(&keys[u - 1], &keys[i]))
			keys[u++] = keys[i];
	if (u == nlast && !memcmp(keys, last, u * sizeof(keys[0])))
		return;
	e = sw_kernel__set_origins(d->k, keys, u);
	if (e) {
		log_err("cannot load the origin files into the kernel: %s", strerror(-e));
		nlast = SIZE_MAX;
		return;
	}
	memcpy(last, keys, u * sizeof(keys[0]));
	nlast = u;
}

int add_fd(struct daemon *d, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		sd_notify(0, "RELOADING=1");
		reload_secrets(d, 1);
		reload_config(d); /* also reopens the alert file */
		logmsg("SIGHUP: alert file reopened, secret set reloaded");
		sd_notify(0, "READY=1");
	} else {
		d->stop = 1;
	}
}

static void on_timer(struct daemon *d)
{
	uint64_t n;

	if (read(d->timer_fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* File bytes the ring had no room for, read back at the end of the turn (after what the
	 * ring holds now). */
	if (d->k) {
		sw_kernel__consume(d->k);
		d->spill_due = 1;
	}
	source__tick(d);
	tlsedge__poll(d->tls);
	tlsedge__tick(d->tls);
	control__tick(d);
	if (++d->ticks % TICKS_PER_SECOND)
		return;
	source__loss(d);
	if (d->trace && sw_tracelog_writer__flush_soon(d->trace))
		d->trace_errors++;
	reload_secrets(d, 0); /* also saves what detectors learned */
	if (!(d->ticks % (ORIGINS_CHECK_S * TICKS_PER_SECOND)))
		originwatch__sync(d); /* (origins in directories not watched) */
	sw_registry__flush(d->reg);
	daemon_sinks__poll(d);
	if (d->ch)
		check_clickhouse(d);
	if (d->metrics)
		sw_metrics__serve(d->metrics, 0); /* expires clients past their deadline */
	/* The loop turned within the second: tell systemd we are alive. */
	if (d->watchdog)
		sd_notify(0, "WATCHDOG=1");
}

static int run_loop(struct daemon *d)
{
	struct epoll_event evs[32];
	uint64_t t0, c0, dt;
	int n, i;

	while (!d->stop) {
		/* A read-back under way (or spilled ranges left): look at the descriptors without
		 * sleeping, then go on. */
		n = epoll_wait(d->epfd, evs, 32, source__busy(d) || d->spill_more ? 0 : 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
		t0 = now_us();
		c0 = cpu_us();
		d->turn_deadline_us = t0 + RING_TURN_US;
		for (i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_KERNEL)
				sw_kernel__consume(d->k);
			else if (tag == TAG_LISTEN)
				control__accept(d);
			else if (tag == TAG_SIGNAL)
				on_signal(d);
			else if (tag == TAG_TIMER)
				on_timer(d);
			else if (tag == TAG_FANOTIFY)
				source__fanotify(d);
			else if (tag == TAG_INDEX)
				daemon_index__ready(d);
			else if (tag == TAG_TLS)
				tlsedge__poll(d->tls);
			else if (tag == TAG_ORIGINS)
				originwatch__event(d);
			else if (tag == TAG_METRICS && d->metrics)
				sw_metrics__serve(d->metrics, 0);
			else if (tag >= 100 && tag < 100 + CLIENTS_MAX && d->clients[tag - 100].fd)
				control__event(d, &d->clients[tag - 100], evs[i].events);
		}
		source__resume(d); /* this turn's slice of a read-back under way */
		if (sw_pipeline__origins_moved(d->pl)) { /* a rename over an origin */
			d->origins_moved++;
			push_origins(d);
		}
		if (d->spill_due || d->spill_more) {
			d->spill_due = 0;
			spill__read(d); /* and of the spilled ranges */
		}
		/* How long nothing else could be served: the metric of a loop that must never
		 * block. */
		d->turn_deadline_us = 0; /* the stop's drain takes everything */
		dt = now_us() - t0;
		if (dt > d->stall_max_us && dt < 3600ull * 1000000)
			d->stall_max_us = dt;
		dt = cpu_us() - c0;
		if (dt > d->busy_max_us && dt < 3600ull * 1000000)
			d->busy_max_us = dt;
	}
	/* Drain what the kernel already sent, read back pending files, emit what is held. */
	source__stop(d);
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon dd;
	struct daemon *d = &dd;
	struct sw_kernel_opts ko = {};
	struct sw_pipeline_opts po = {};
	struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000L},
				 .it_value = {0, TICK_MS * 1000000L}};
	char err[1024], host[256] = "unknown", tbuf[SW_ALERT_TIME_LEN];
	const struct sw_kernel_prev *prev;
	sigset_t mask;
	int corrupt = 0, ret = EXIT_FAILURE, e;

	log_init();
	e = parse_args(d, argc, argv);
	if (e) {
		sw_dconf__free(d->flags);
		sw_dconf__free(d->conf);
		return e > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	libbpf_set_print(libbpf_log);
	d->started = time(NULL);
	d->next_session = 0;
	d->epfd = d->listen_fd = d->sig_fd = d->timer_fd = d->fan_fd = d->close_fd = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (geteuid() != 0) {
		log_err("must run as root (it loads BPF programs); try: sudo %s", argv[0]);
		return EXIT_FAILURE;
	}
	e = sw_paths__mkdir(d->paths.state_dir, 0700, 1);
	if (!e)
		e = sw_paths__mkdir(d->paths.run_dir, 0755, 0);
	if (e) {
		log_err("creating %s or %s: %s", d->paths.state_dir, d->paths.run_dir,
			strerror(-e));
		return EXIT_FAILURE;
	}
	if (daemon_state__key(d))
		return EXIT_FAILURE;
	d->reg = sw_registry__open(d->paths.registry, d->key.id, &corrupt);
	if (!d->reg) {
		log_err("%s: cannot open the registry: %s", d->paths.registry, strerror(errno));
		goto cleanup;
	}
	po.key = &d->key;
	po.registry = d->reg;
	gethostname(host, sizeof(host) - 1);
	po.host = host;
	d->pl = sw_pipeline__new(&po);
	d->readbuf = malloc(sizeof(struct sw_data_rec) + SW_PATH_LEN + SW_CHUNK);
	d->rulesbuf = malloc(sizeof(struct sw_rules_rec) + SW_RULES_REC_MAX);
	if (!d->pl || !d->readbuf || !d->rulesbuf || racecheck__new(d)) {
		log_err("cannot create the pipeline: %s", strerror(errno));
		goto cleanup;
	}
	if (daemon_sinks__open(d))
		goto cleanup;
	if (d->clickhouse_url && open_clickhouse(d))
		goto cleanup;
	/* The trace log first: it keeps every record, the first tick and the rules included. */
	if (open_trace(d))
		goto cleanup;
	source__tick(d);
	if (load_rules(d))
		goto cleanup;
	if (corrupt)
		daemon_state__warning(d, d->paths.registry,
				      "the registry of known places was corrupt and was rebuilt "
				      "empty: secrets seen before may alert once more");
	if (daemon_index__new(d)) {
		log_err("cannot create the secret index: %s", strerror(ENOMEM));
		goto cleanup;
	}
	e = reload_secrets(d, 1);
	if (e && daemon_state__secrets_failed(d, e, 1))
		goto cleanup;

	/* Closes of files a session wrote around write(2): read back at close, not only at exit. */
	d->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
				  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (d->fan_fd < 0)
		log_warn(
			"fanotify unavailable (%s): files written through mappings or io_uring are "
			"read back only when their writer exits",
			strerror(errno));
	ko.ringbuf_bytes = d->ringbuf_bytes;
	ko.max_bytes = d->max_bytes;
	ko.guard = d->guard;
	ko.pin_dir = d->paths.pin_dir;
	d->k = sw_kernel__open(&ko, on_record, d, err, sizeof(err));
	if (!d->k) {
		log_err("%s", err);
		goto cleanup;
	}
	d->tls = tlsedge__new(d);
	d->origins = originwatch__new();
	if (!d->tls || !d->origins) {
		log_err("tls: %s", strerror(errno));
		goto cleanup;
	}
	sw_kernel__scope_each(d->k, recover_scope, d);
	push_agent_comms(d);
	push_origins(d);
	/* What the programs captured while no daemon ran, then the window itself. */
	prev = sw_kernel__previous(d->k);
	if (prev->found)
		log_warn("BPF programs (build %s) ran on without a daemon%s%s; %llu ring bytes "
			 "held, %llu records lost%s",
			 prev->build, prev->alive_real_ns ? " since " : "",
			 prev->alive_real_ns ? fmt_time(prev->alive_real_ns, tbuf) : "",
			 (unsigned long long)(prev->drained_bytes + prev->dropped_bytes),
			 (unsigned long long)prev->lost.ringbuf_full,
			 prev->replaced ? "; replaced by this build" : "");
	sw_kernel__drain_previous(d->k);
	for (e = 0; e < 1 << 16 && sw_kernel__consume(d->k) > 0; e++)
		;
	source__down(d);
	originwatch__sync(d); /* origins saved by rename while no daemon ran */
	if (d->next_session == 0)
		d->next_session = (uint64_t)time(NULL) << 16;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0 || d->sig_fd < 0 || d->timer_fd < 0 ||
	    timerfd_settime(d->timer_fd, 0, &its, NULL) ||
	    add_fd(d, sw_kernel__epoll_fd(d->k), TAG_KERNEL) || add_fd(d, d->sig_fd, TAG_SIGNAL) ||
	    add_fd(d, d->timer_fd, TAG_TIMER) ||
	    (d->fan_fd >= 0 && add_fd(d, d->fan_fd, TAG_FANOTIFY)) ||
	    (tlsedge__fd(d->tls) >= 0 && add_fd(d, tlsedge__fd(d->tls), TAG_TLS)) ||
	    (originwatch__fd(d->origins) >= 0 &&
	     add_fd(d, originwatch__fd(d->origins), TAG_ORIGINS))) {
		log_err("setting up the event loop: %s", strerror(errno));
		goto cleanup;
	}
	e = daemon_index__start(d);
	if (e) {
		log_err("starting the secret index worker: %s", strerror(-e));
		goto cleanup;
	}
	if (daemon_metrics__start(d))
		goto cleanup;
	/* Last: the socket's existence tells the world every program is attached. */
	d->listen_fd = sw_ctl__listen(d->paths.control);
	if (d->listen_fd < 0 || add_fd(d, d->listen_fd, TAG_LISTEN)) {
		log_err("%s: cannot create the control socket: %s", d->paths.control,
			strerror(d->listen_fd < 0 ? -d->listen_fd : errno));
		goto cleanup;
	}
	logmsg("watching (state %s, control %s)", d->paths.state_dir, d->paths.control);
	/* systemd: ready means attached (the control socket exists); pings if it asks. */
	d->watchdog = sd_watchdog_enabled(0, NULL) > 0;
	sd_notifyf(0, "READY=1\nSTATUS=watching; control %s", d->paths.control);
	if (!run_loop(d))
		ret = EXIT_SUCCESS;
	/* What detectors learned in the last second too: a replay needs the set to name it. */
	save_learned(d);
	logmsg("stopping");
	sd_notify(0, "STOPPING=1");
cleanup:
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->paths.control);
	}
	control__close_all(d);
	if (d->reg)
		sw_registry__flush(d->reg);
	tlsedge__free(d->tls);
	originwatch__free(d->origins);
	spill__free(d);
	racecheck__free(d);
	sw_kernel__free(d->k);
	if (d->ch && sw_clickhouse__flush(d->ch, 2000))
		logmsg("clickhouse: undelivered alerts stay spooled for the next start");
	sw_sink__free(d->ch_sink);
	sw_clickhouse__free(d->ch);
	daemon_index__stop(d);
	sw_pipeline__free(d->pl);
	free(d->readbuf);
	free(d->rulesbuf);
	free(d->reqq);
	daemon_sinks__close(d);
	daemon_metrics__stop(d);
	sw_sink__free(d->count_sink);
	sw_tracelog_writer__free(d->trace); /* flushes */
	sw_rules__free(d->rules);
	sw_registry__free(d->reg);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->fan_fd >= 0)
		close(d->fan_fd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->epfd >= 0)
		close(d->epfd);
	sodium_memzero(&d->key, sizeof(d->key));
	sw_dconf__free(d->flags);
	sw_dconf__free(d->conf);
	return ret;
}
