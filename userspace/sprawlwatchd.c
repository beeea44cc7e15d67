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

#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "fingerprint.h"
#include "kernel.h"
#include "pipeline.h"
#include "registry.h"
#include "rules.h"
#include "secretset.h"
#include "sink.h"
#include "source.h"

/* Trace-log retention: a week back and more fits, within a bound a workstation can spare. */
#define TRACE_MAX_MB_DEFAULT	   1024
#define TRACE_MAX_MB_MAX	   (1024 * 1024)
#define TRACE_MAX_AGE_DAYS_DEFAULT 30
#define TRACE_MAX_AGE_DAYS_MAX	   3650

static const char usage[] =
	"Usage: sprawlwatchd [OPTION]...\n"
	"Watch AI agent process trees and alert when a tracked secret lands somewhere new.\n"
	"Runs in the foreground; SIGTERM stops it, SIGHUP reopens the alert file and reloads.\n"
	"\n"
	"  --state-dir DIR   key, secret set and registry (default " SW_DEFAULT_STATE_DIR
	", or $SPRAWL_STATE_DIR)\n"
	"  --run-dir DIR     control socket (default " SW_DEFAULT_RUN_DIR ", or $SPRAWL_RUN_DIR)\n"
	"  --rules DIR       rule files (default: the rules compiled into the binary)\n"
	"  --alerts FILE|-   alert file, JSON lines (default " SW_DEFAULT_ALERTS ");\n"
	"                    alerts also go to stdout unless FILE is '-' (stdout only)\n"
	"  --format json|ocsf  alert encoding (default json)\n"
	"  --syslog ADDR     also send alerts as RFC 5424 syslog: tcp:HOST:PORT or unix:/PATH\n"
	"  --hook PROG       also run PROG (no shell) for each alert, its JSON on stdin\n"
	"  --hook-arg ARG    an argument for PROG (repeatable, in order)\n"
	"  --hook-timeout-ms N  kill a hook still running after N ms (default 5000)\n"
	"  --trace-dir DIR|none  record the trace log there (default STATE-DIR/" SW_TRACELOG_SUBDIR
	"; zlib\n"
	"                    blocks of protobuf events, tracked secrets redacted) for `sprawlctl\n"
	"                    replay --since` and `sprawlctl trace dump`; none: do not record\n"
	"  --trace-max-mb N  keep at most N MiB of trace log, oldest deleted first (default %u)\n"
	"  --trace-max-age-days N  delete trace records older than N days (default %u)\n"
	"  --ringbuf-mb N    kernel ring buffer size in MiB, a power of two (default %llu, from\n"
	"                    the policy's capture.ringbuf_bytes)\n"
	"  --max-bytes N     bytes captured per syscall before a counted truncation (default "
	"%llu,\n"
	"                    the policy's capture.max_bytes)\n"
	"  -v, --verbose     log each event summary to stderr (never data)\n"
	"  -h, --help        show this help\n";

/* The defaults shown are the policy's: one source of truth (policy.c). */
static void print_usage(FILE *f)
{
	struct sw_policy pol;

	sw_policy__defaults(&pol);
	fprintf(f, usage, TRACE_MAX_MB_DEFAULT, TRACE_MAX_AGE_DAYS_DEFAULT,
		(unsigned long long)(pol.ringbuf_bytes >> 20),
		(unsigned long long)pol.capture_max_bytes);
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

	fprintf(stderr, "sprawlwatchd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct sw_hdr *h = data;

	if (d->verbose && size >= sizeof(*h))
		logmsg("event type=%u pid=%u session=%llu flags=0x%x size=%u", h->type, h->tgid,
		       (unsigned long long)h->session_id, h->flags, h->size);
	source__feed(d, data, size);
	return 0;
}

void daemon_session(struct daemon *d, uint64_t id, uint32_t root, const char *agent)
{
	source__session(d, id, root, agent);
}

static void push_origins(struct daemon *d);

int reload_secrets(struct daemon *d, int force)
{
	struct sw_secretset *set;
	struct stat st;
	int e;

	if (stat(d->paths.secrets, &st)) {
		if (errno != ENOENT)
			return -errno;
		memset(&st, 0, sizeof(st));
	}
	if (!force && st.st_ino == d->secrets_st.st_ino && st.st_size == d->secrets_st.st_size &&
	    st.st_mtim.tv_sec == d->secrets_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == d->secrets_st.st_mtim.tv_nsec)
		return 0;
	e = sw_secretset__load(d->paths.secrets, &d->key, &set);
	if (e) {
		logmsg("%s: cannot load the secret set: %s; keeping the previous set",
		       d->paths.secrets, strerror(-e));
		d->secrets_st = st;
		return e;
	}
	e = sw_pipeline__set_secrets(d->pl, set);
	if (e) {
		logmsg("building the matcher: %s", strerror(-e));
		return e;
	}
	d->secrets_st = st;
	push_origins(d);
	logmsg("tracking %zu secret(s)", sw_pipeline__secrets(d->pl)->n);
	return 0;
}

/* Secrets the detectors learned go into the secret set on disk (under the CLI's lock), so
 * they stay tracked across restarts and show in `sprawlctl secrets list`. */
static void save_learned(struct daemon *d)
{
	struct sw_secretset *disk = NULL;
	int fd, n, e;

	fd = open(d->paths.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		logmsg("%s: cannot lock: %s", d->paths.lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	e = sw_secretset__load(d->paths.secrets, &d->key, &disk);
	if (!e) {
		n = sw_pipeline__learned(d->pl, disk);
		if (n > 0) {
			e = sw_secretset__save(disk, d->paths.secrets, &d->key);
			if (!e)
				logmsg("learned %d secret(s) from detectors", n);
		} else {
			e = n;
		}
	}
	if (e)
		logmsg("%s: cannot save learned secrets: %s", d->paths.secrets, strerror(-e));
	sw_secretset__free(disk);
	close(fd);
}

static void recover_scope(uint32_t tgid, const struct sw_scope *s, void *ctx)
{
	struct daemon *d = ctx;

	if (kill(tgid, 0) && errno == ESRCH)
		return;
	daemon_session(d, s->session_id, s->root_pid, NULL);
	if (s->session_id < (1ULL << 63) && s->session_id > d->next_session)
		d->next_session = s->session_id;
}

/* The wall clock at a ktime, for the trace log: it maps record times to dates (trace dump,
 * replay --since). */
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
		logmsg("trace log %s: cannot record there: %s (--trace-dir none turns recording "
		       "off)",
		       d->trace_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"run-dir", required_argument, NULL, 'r'},
		{"rules", required_argument, NULL, 'R'},
		{"alerts", required_argument, NULL, 'a'},
		{"format", required_argument, NULL, 'f'},
		{"trace-dir", required_argument, NULL, 't'},
		{"trace-max-mb", required_argument, NULL, 'M'},
		{"trace-max-age-days", required_argument, NULL, 'D'},
		{"syslog", required_argument, NULL, 'S'},
		{"hook", required_argument, NULL, 'H'},
		{"hook-arg", required_argument, NULL, 'A'},
		{"hook-timeout-ms", required_argument, NULL, 'T'},
		{"ringbuf-mb", required_argument, NULL, 'b'},
		{"max-bytes", required_argument, NULL, 'm'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	const char *state = NULL, *run = NULL;
	char *end;
	int o;

	d->ringbuf_mb = 0;
	d->max_bytes = 0;
	d->trace_max_mb = TRACE_MAX_MB_DEFAULT;
	d->trace_max_age_days = TRACE_MAX_AGE_DAYS_DEFAULT;
	d->hook_timeout_ms = 5000;
	d->alerts_path = SW_DEFAULT_ALERTS;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			state = optarg;
			break;
		case 'r':
			run = optarg;
			break;
		case 'R':
			d->rules_dir = optarg;
			break;
		case 'a':
			d->alerts_path = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "json"))
				d->fmt = SW_FMT_JSON;
			else if (!strcmp(optarg, "ocsf"))
				d->fmt = SW_FMT_OCSF;
			else {
				logmsg("--format %s: expected json or ocsf", optarg);
				return -1;
			}
			break;
		case 't':
			d->trace_dir = optarg;
			break;
		case 'M':
			d->trace_max_mb = strtoul(optarg, &end, 10);
			if (*end || !*optarg || d->trace_max_mb < 1 ||
			    d->trace_max_mb > TRACE_MAX_MB_MAX) {
				logmsg("--trace-max-mb %s: expected 1 to %u", optarg,
				       TRACE_MAX_MB_MAX);
				return -1;
			}
			break;
		case 'D':
			d->trace_max_age_days = strtoul(optarg, &end, 10);
			if (*end || !*optarg || d->trace_max_age_days < 1 ||
			    d->trace_max_age_days > TRACE_MAX_AGE_DAYS_MAX) {
				logmsg("--trace-max-age-days %s: expected 1 to %u", optarg,
				       TRACE_MAX_AGE_DAYS_MAX);
				return -1;
			}
			break;
		case 'S':
			d->syslog_addr = optarg;
			break;
		case 'H':
			if (d->hook_argc) {
				logmsg("--hook given twice; one hook program, with --hook-arg for "
				       "its arguments");
				return -1;
			}
			d->hook_argv[d->hook_argc++] = optarg;
			break;
		case 'A':
			if (!d->hook_argc || d->hook_argc > HOOK_ARGS_MAX) {
				logmsg("--hook-arg: give --hook PROG first (at most %d arguments)",
				       HOOK_ARGS_MAX);
				return -1;
			}
			d->hook_argv[d->hook_argc++] = optarg;
			break;
		case 'T':
			d->hook_timeout_ms = strtol(optarg, &end, 10);
			if (*end || d->hook_timeout_ms < 10 || d->hook_timeout_ms > 600000) {
				logmsg("--hook-timeout-ms %s: expected 10 to 600000", optarg);
				return -1;
			}
			break;
		case 'b':
			d->ringbuf_mb = strtoul(optarg, &end, 10);
			if (*end || d->ringbuf_mb < 1 ||
			    d->ringbuf_mb > (SW_POLICY_RINGBUF_MAX >> 20) ||
			    (d->ringbuf_mb & (d->ringbuf_mb - 1))) {
				logmsg("--ringbuf-mb %s: expected a power of two from 1 to 1024",
				       optarg);
				return -1;
			}
			break;
		case 'm':
			d->max_bytes = strtoul(optarg, &end, 10);
			if (*end || d->max_bytes < SW_POLICY_MAX_BYTES_MIN ||
			    d->max_bytes > SW_POLICY_MAX_BYTES_MAX) {
				logmsg("--max-bytes %s: expected %u to %u", optarg,
				       SW_POLICY_MAX_BYTES_MIN, SW_POLICY_MAX_BYTES_MAX);
				return -1;
			}
			break;
		case 'v':
			d->verbose = 1;
			break;
		case 'h':
			print_usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			print_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		logmsg("unexpected argument '%s'; see --help", argv[optind]);
		return -1;
	}
	if (sw_paths__init(&d->paths, state, run)) {
		logmsg("a directory path is too long");
		return -1;
	}
	return 0;
}

static void daemon_add_sink(struct daemon *d, struct sw_sink *s)
{
	if (d->nsinks < SINKS_MAX)
		d->sinks[d->nsinks++] = s;
}

static int open_sinks(struct daemon *d)
{
	char dir[1100], *slash;

	if (strcmp(d->alerts_path, "-")) {
		snprintf(dir, sizeof(dir), "%s", d->alerts_path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			sw_paths__mkdir(dir, 0750, 0);
		}
		d->file_sink = sw_sink__file(d->alerts_path, d->fmt);
		if (!d->file_sink) {
			logmsg("%s: cannot open the alert file: %s", d->alerts_path,
			       strerror(errno));
			return -1;
		}
		daemon_add_sink(d, d->file_sink);
	}
	d->stdout_sink = sw_sink__file("-", d->fmt);
	d->ctl_sink = sw_sink__callback(control__deliver, d, SW_FMT_JSON);
	if (!d->stdout_sink || !d->ctl_sink) {
		logmsg("cannot set up the alert sinks: %s", strerror(errno));
		return -1;
	}
	daemon_add_sink(d, d->stdout_sink);
	daemon_add_sink(d, d->ctl_sink);
	if (d->syslog_addr) {
		d->syslog_sink = sw_sink__syslog(d->syslog_addr, d->fmt);
		if (!d->syslog_sink) {
			logmsg("--syslog %s: %s (expected tcp:HOST:PORT or unix:/PATH)",
			       d->syslog_addr, strerror(errno));
			return -1;
		}
		daemon_add_sink(d, d->syslog_sink);
	}
	if (d->hook_argc) {
		d->hook_argv[d->hook_argc] = NULL;
		d->hook_sink = sw_sink__hook(d->hook_argv, d->hook_timeout_ms);
		if (!d->hook_sink) {
			logmsg("--hook %s: %s", d->hook_argv[0], strerror(errno));
			return -1;
		}
		daemon_add_sink(d, d->hook_sink);
	}
	return 0;
}

static void poll_sinks(struct daemon *d)
{
	struct sw_sink *all[] = {d->file_sink, d->stdout_sink, d->ctl_sink, d->syslog_sink,
				 d->hook_sink};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			sw_sink__poll(all[i]);
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
		logmsg("%s (check with: sprawlctl rules check %s)", msg,
		       d->rules_dir ? d->rules_dir : "");
		if (!rc)
			sw_rules__free_files(files);
		return -1;
	}
	rc = source__rules(d, use);
	if (d->rules_dir)
		sw_rules__free_files(files);
	if (rc) {
		logmsg("the rule files are larger than a rules record takes (%u bytes)",
		       SW_RULES_REC_MAX);
		return -1;
	}
	pol = sw_rules__policy(d->rules);
	if (!d->max_bytes)
		d->max_bytes = pol->capture_max_bytes;
	d->ringbuf_bytes = d->ringbuf_mb ? (uint64_t)d->ringbuf_mb << 20 : pol->ringbuf_bytes;
	return 0;
}

static void push_agent_comms(struct daemon *d)
{
	char comms[256][SW_AGENT_COMM_LEN];
	size_t n = sw_rules__agent_comms(d->rules, comms, 200), ni;
	int e;

	if (n > 200) {
		logmsg("the rules name %zu agent comms; the kernel table takes 200", n);
		n = 200;
	}
	ni = sw_rules__interpreter_comms(d->rules, comms + n, 256 - n);
	e = sw_kernel__set_agent_comms(d->k, (const char(*)[16])comms, n, ni);
	if (e)
		logmsg("cannot load the agent table into the kernel: %s", strerror(-e));
}

static void push_origins(struct daemon *d)
{
	static struct sw_inode_key keys[ORIGINS_MAX];
	size_t n = sw_pipeline__origins(d->pl, keys, ORIGINS_MAX);
	int e;

	if (!d->k)
		return;
	e = sw_kernel__set_origins(d->k, keys, n);
	if (e)
		logmsg("cannot load the origin files into the kernel: %s", strerror(-e));
}

static int add_fd(struct daemon *d, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_KERNEL = 1, TAG_LISTEN, TAG_SIGNAL, TAG_TIMER, TAG_FANOTIFY };

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		if (d->file_sink)
			sw_sink__reopen(d->file_sink);
		reload_secrets(d, 1);
		logmsg("SIGHUP: alert file reopened, secret set reloaded");
	} else {
		d->stop = 1;
	}
}

static void on_timer(struct daemon *d)
{
	uint64_t n;

	if (read(d->timer_fd, &n, sizeof(n)) != sizeof(n))
		return;
	source__tick(d);
	if (++d->ticks % TICKS_PER_SECOND)
		return;
	source__loss(d);
	if (d->trace && sw_tracelog_writer__flush(d->trace))
		d->trace_errors++;
	save_learned(d);
	reload_secrets(d, 0);
	sw_registry__flush(d->reg);
	poll_sinks(d);
}

static int run_loop(struct daemon *d)
{
	struct epoll_event evs[32];
	int n, i;

	while (!d->stop) {
		n = epoll_wait(d->epfd, evs, 32, 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			logmsg("epoll_wait: %s", strerror(errno));
			return -1;
		}
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
			else if (tag >= 100 && tag < 100 + CLIENTS_MAX && d->clients[tag - 100].fd)
				control__readable(d, &d->clients[tag - 100]);
		}
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
	char err[1024], host[256] = "unknown";
	sigset_t mask;
	int corrupt = 0, ret = EXIT_FAILURE, e;

	if (parse_args(d, argc, argv))
		return EXIT_FAILURE;
	libbpf_set_print(libbpf_log);
	d->started = time(NULL);
	d->next_session = 0;
	d->epfd = d->listen_fd = d->sig_fd = d->timer_fd = d->fan_fd = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (geteuid() != 0) {
		logmsg("must run as root (it loads BPF programs); try: sudo %s", argv[0]);
		return EXIT_FAILURE;
	}
	e = sw_paths__mkdir(d->paths.state_dir, 0700, 1);
	if (!e)
		e = sw_paths__mkdir(d->paths.run_dir, 0755, 0);
	if (e) {
		logmsg("creating %s or %s: %s", d->paths.state_dir, d->paths.run_dir, strerror(-e));
		return EXIT_FAILURE;
	}
	e = sw_key__load_or_create(d->paths.key, &d->key);
	if (e) {
		logmsg("%s: cannot load or create the key: %s", d->paths.key, strerror(-e));
		return EXIT_FAILURE;
	}
	d->reg = sw_registry__open(d->paths.registry, d->key.id, &corrupt);
	if (!d->reg) {
		logmsg("%s: cannot open the registry: %s", d->paths.registry, strerror(errno));
		goto cleanup;
	}
	po.key = &d->key;
	po.registry = d->reg;
	gethostname(host, sizeof(host) - 1);
	po.host = host;
	d->pl = sw_pipeline__new(&po);
	d->readbuf = malloc(sizeof(struct sw_data_rec) + SW_PATH_LEN + SW_CHUNK);
	d->rulesbuf = malloc(sizeof(struct sw_rules_rec) + SW_RULES_REC_MAX);
	if (!d->pl || !d->readbuf || !d->rulesbuf) {
		logmsg("cannot create the pipeline: %s", strerror(errno));
		goto cleanup;
	}
	if (open_sinks(d))
		goto cleanup;
	/* The trace log first: it keeps every record, the first tick and the rules included. */
	if (open_trace(d))
		goto cleanup;
	source__tick(d);
	if (load_rules(d))
		goto cleanup;
	if (corrupt) {
		struct sw_alert *a = calloc(1, sizeof(*a));

		logmsg("%s was corrupt: set aside and rebuilt empty", d->paths.registry);
		if (a) {
			a->time_us = now_us();
			a->kind = SW_ALERT_STATE_WARNING;
			a->severity = SW_SEV_MEDIUM;
			gethostname(a->host, sizeof(a->host) - 1);
			snprintf(a->message, sizeof(a->message),
				 "the registry of known places was corrupt and was rebuilt empty: "
				 "secrets seen before may alert once more");
			sw_sink__emit(d->stdout_sink, a);
			if (d->file_sink)
				sw_sink__emit(d->file_sink, a);
			free(a);
		}
	}
	reload_secrets(d, 1);

	/* Closes of files a session wrote around write(2): read back at close, not only at exit. */
	d->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
				  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (d->fan_fd < 0)
		logmsg("fanotify unavailable (%s): files written through mappings or io_uring are "
		       "read back only when their writer exits",
		       strerror(errno));
	ko.ringbuf_bytes = d->ringbuf_bytes;
	ko.max_bytes = d->max_bytes;
	ko.pin_dir = d->paths.pin_dir;
	d->k = sw_kernel__open(&ko, on_record, d, err, sizeof(err));
	if (!d->k) {
		logmsg("%s", err);
		goto cleanup;
	}
	sw_kernel__scope_each(d->k, recover_scope, d);
	push_agent_comms(d);
	push_origins(d);
	if (d->next_session == 0)
		d->next_session = (uint64_t)time(NULL) << 16;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0 || d->sig_fd < 0 || d->timer_fd < 0 ||
	    timerfd_settime(d->timer_fd, 0, &its, NULL) ||
	    add_fd(d, sw_kernel__epoll_fd(d->k), TAG_KERNEL) || add_fd(d, d->sig_fd, TAG_SIGNAL) ||
	    add_fd(d, d->timer_fd, TAG_TIMER) ||
	    (d->fan_fd >= 0 && add_fd(d, d->fan_fd, TAG_FANOTIFY))) {
		logmsg("setting up the event loop: %s", strerror(errno));
		goto cleanup;
	}
	/* Last: the socket's existence tells the world every program is attached. */
	d->listen_fd = sw_ctl__listen(d->paths.control);
	if (d->listen_fd < 0 || add_fd(d, d->listen_fd, TAG_LISTEN)) {
		logmsg("%s: cannot create the control socket: %s", d->paths.control,
		       strerror(d->listen_fd < 0 ? -d->listen_fd : errno));
		goto cleanup;
	}
	logmsg("watching (state %s, control %s)", d->paths.state_dir, d->paths.control);
	if (!run_loop(d))
		ret = EXIT_SUCCESS;
	/* What detectors learned in the last second too: a replay needs the set to name it. */
	save_learned(d);
	logmsg("stopping");
cleanup:
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->paths.control);
	}
	control__close_all(d);
	if (d->reg)
		sw_registry__flush(d->reg);
	sw_kernel__free(d->k);
	sw_pipeline__free(d->pl);
	free(d->readbuf);
	free(d->rulesbuf);
	sw_sink__free(d->ctl_sink);
	sw_sink__free(d->stdout_sink);
	sw_sink__free(d->file_sink);
	sw_sink__free(d->syslog_sink);
	sw_sink__free(d->hook_sink);
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
	return ret;
}
