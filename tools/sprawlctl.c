// SPDX-License-Identifier: Apache-2.0
/* sprawlctl: the command line of sprawlwatch. One function per command, dispatched from a
 * table; every error is reported once, through err(), with what to do about it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "alerttext.h"
#include "config.h"
#include "ctl.h"
#include "daemon_config.h"
#include "envfile.h"
#include "fingerprint.h"
#include "pins.h"
#include "rules.h"
#include "secretset.h"
#include "sprawlctl.h"
#include "sprawlctl_bench.h"
#include "version.h"

#define VALUE_MAX (SW_SECRET_MAX + 2) /* room for a trailing newline to strip */

struct sw_paths paths;

void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sprawlctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char usage[] =
	"Usage: sprawlctl COMMAND [ARGS]\n"
	"\n"
	"  secrets add NAME [--from-file F]  track a secret; the value is read from stdin or F,\n"
	"                                    never from the command line\n"
	"  secrets import-env FILE           track every KEY=VALUE of a .env file\n"
	"  secrets discover [--dry-run] [--rules DIR]  track what the detectors find in well-known "
	"credential\n"
	"                                    files and in running agents' environments\n"
	"  secrets list                      names, ids, lengths and origins (never values)\n"
	"  secrets rm NAME                   stop tracking a secret\n"
	"  secrets export FILE               the fingerprint set for the other hosts of a fleet\n"
	"                                    (no key, no value; MAC'd with the key)\n"
	"  secrets import FILE               merge a set exported on a host with the same key\n"
	"  run [--agent LABEL] -- CMD [ARG...]  run CMD as a watched agent session\n"
	"  watch PID                         make a running process a session root (root)\n"
	"  status [--json]                   what the daemon is watching (another user sees\n"
	"                                    only their own sessions, no secret names or places;\n"
	"                                    no daemon: programs left pinned)\n"
	"  alerts [--follow] [--file F] [--format json|text]\n"
	"                                    print alerts (from the alert file, or live); text,\n"
	"                                    one coloured line each, is the default on a terminal\n"
	"                                    (NO_COLOR turns colour off), JSON lines elsewhere;\n"
	"                                    --follow as another user: their own alerts only\n"
	"  replay [TRACE...] [--since T] [--until T] [--trace-dir DIR] [--alerts FILE] [--rules "
	"DIR]\n"
	"                                    the recorded records through the same pipeline, with\n"
	"                                    a fresh registry and today's secrets: the live run's\n"
	"                                    alerts again, times included, and where a secret\n"
	"                                    registered since went; default: the service's trace\n"
	"                                    log (STATE-DIR/trace); the recorded rules unless\n"
	"                                    --rules DIR\n"
	"  trace dump TRACE                  a trace log as JSON lines (secrets stay redacted)\n"
	"  trail NAME|ID [--format text|json|dot|svg] [--file ALERTS] [--clickhouse URL]\n"
	"                                    every place a secret went: origin, sessions,\n"
	"                                    processes, places with first time and count\n"
	"  trace stat TRACE                  what a trace log holds: records by type, data bytes,\n"
	"                                    the time it covers\n"
	"  rules check [DIR]                 validate a rules directory (default: the embedded\n"
	"                                    rules), reporting file:line:col of each error, and\n"
	"                                    verify every detector's examples\n"
	"  rules import-gitleaks FILE.toml   a gitleaks config as detectors.yaml on stdout; each\n"
	"                                    rule that cannot be converted is named, with why\n"
	"  scan [--rules DIR] [--staged] PATH...  tracked secrets (every variant) and detector\n"
	"                                    hits in files, trees and git repos (their staged\n"
	"                                    files too); exit 1 on a finding, values never shown\n"
	"  scan --install-git-hook REPO      make that REPO's pre-commit hook\n"
	"  bench detect [--size MB] [--fp DIR]...  detector engines and false positives\n"
	"  config check [FILE]               validate a daemon config file (default\n"
	"                                    " SW_DEFAULT_CONFIG "), reporting file:line:col\n"
	"  config example                    every config key, commented, at its default\n"
	"  bench matcher [--size MB] [--secrets N,N,...]  matcher vs grep -F, in one run\n"
	"  bench inflate PACK [--secrets N]  inflate-and-scan throughput over a git pack\n"
	"  --version                         print the version\n"
	"\n"
	"Environment: SPRAWL_STATE_DIR, SPRAWL_RUN_DIR override " SW_DEFAULT_STATE_DIR
	" and " SW_DEFAULT_RUN_DIR ".\n"
	"scan, replay and secrets discover run --rules DIR, else the installed rules\n"
	"(/etc/sprawlwatch/rules, or SPRAWL_RULES_DIR) when present, else the embedded ones.\n";

/* --- daemon connection --- */

/* Sends one request; 0 with the answer in out, or a negative errno (message printed unless
 * quiet_absent and the daemon is simply not running). */
static int daemon_call(const char *req, char *out, size_t size, int quiet_absent)
{
	int fd, e;

	fd = sw_ctl__connect(paths.control);
	if (fd < 0) {
		if (!quiet_absent)
			err("the daemon is not running (no control socket at %s: %s); start it "
			    "with "
			    "'sudo sprawlwatchd' or 'systemctl start sprawlwatch'",
			    paths.control, strerror(-fd));
		return fd;
	}
	e = sw_ctl__call(fd, req, out, size, 10000);
	close(fd);
	if (e == -EREMOTEIO)
		err("the daemon refused '%s': %s", req, out);
	else if (e)
		err("talking to the daemon at %s: %s", paths.control, strerror(-e));
	return e;
}

/* --- secrets --- */

int open_set(struct locked_set *ls)
{
	int e;

	memset(ls, 0, sizeof(*ls));
	ls->lock_fd = -1;
	if (geteuid() != 0) {
		err("managing secrets needs root: the fingerprint key in %s is readable by root "
		    "only; try: sudo sprawlctl secrets ...",
		    paths.state_dir);
		return -EPERM;
	}
	e = sw_paths__mkdir(paths.state_dir, 0700, 1);
	if (e) {
		err("creating %s: %s", paths.state_dir, strerror(-e));
		return e;
	}
	ls->lock_fd = open(paths.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ls->lock_fd < 0 || flock(ls->lock_fd, LOCK_EX)) {
		e = -errno;
		err("locking %s: %s", paths.lock, strerror(-e));
		return e;
	}
	e = sw_key__load_or_create(paths.key, &ls->key);
	if (e) {
		err("%s: cannot load or create the key: %s", paths.key, strerror(-e));
		return e;
	}
	e = sw_secretset__load(paths.secrets, &ls->key, &ls->set);
	if (e) {
		err("%s: cannot read the secret set: %s (it was made under another key or is "
		    "damaged; move it aside to start a new set)",
		    paths.secrets, strerror(-e));
		return e;
	}
	return 0;
}

void close_set(struct locked_set *ls)
{
	sw_secretset__free(ls->set);
	sodium_memzero(&ls->key, sizeof(ls->key));
	if (ls->lock_fd >= 0)
		close(ls->lock_fd);
}

/* A large set is indexed off the daemon's event loop ("pending GEN"): the command returns
 * once the daemon uses it, as with a small one, so what runs next is matched against it. */
static void wait_index(const char *reply)
{
	unsigned long long want, have;
	char out[256];
	int i;

	if (sscanf(reply, "pending %llu", &want) != 1)
		return;
	for (i = 0; i < 600; i++) { /* 30 s: a set of 100,000 builds in a few seconds */
		if (daemon_call("index", out, sizeof(out), 1) || sscanf(out, "%llu", &have) != 1 ||
		    have >= want)
			return;
		usleep(50 * 1000);
	}
	fprintf(stderr, "sprawlctl: the daemon is still indexing the new secret set; it uses it "
			"as soon as that is done\n");
}

/* Saves the set and tells a running daemon to use it now. */
int commit_set(struct locked_set *ls)
{
	char out[256];
	int e;

	e = sw_secretset__save(ls->set, paths.secrets, &ls->key);
	if (e) {
		err("%s: cannot save the secret set: %s", paths.secrets, strerror(-e));
		return e;
	}
	/* The lock goes before the daemon is told: it saves what its detectors learned into the
	 * same file, under the same lock, before it reloads. Not running is fine: the daemon
	 * loads the set when it starts (and polls it). */
	if (ls->lock_fd >= 0)
		flock(ls->lock_fd, LOCK_UN);
	if (daemon_call("reload", out, sizeof(out), 1) == 0)
		wait_index(out);
	return 0;
}

/* Reads a value (at most SW_SECRET_MAX bytes) from fd; one trailing newline is dropped. */
static ssize_t read_value(int fd, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap) {
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n == cap)
		return -EFBIG;
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	return n;
}

int valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= SW_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!(name[i] == '_' || name[i] == '-' || name[i] == '.' ||
		      (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z')))
			return 0;
	return 1;
}

/* Fingerprints value (wiped by the call) as NAME into the set. */
int put_secret(struct locked_set *ls, const char *name, uint8_t *value, size_t len,
	       const char *origin, const struct stat *ost, const char *where)
{
	struct sw_secret s;
	int e;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.owner_uid = getuid();
	s.created = time(NULL);
	if (origin) {
		if (sw_secret__set_origin(&s, origin)) {
			err("%s: the origin path %s is too long", where, origin);
			return -ENAMETOOLONG;
		}
		s.origin_dev = ost->st_dev;
		s.origin_ino = ost->st_ino;
	}
	e = sw_fingerprint__secret(&ls->key, value, len, &s);
	if (e == -EINVAL) {
		err("%s: the value of %s is %zu bytes; tracked secrets are %d to %d bytes", where,
		    name, len, SW_SECRET_MIN, SW_SECRET_MAX);
		return e;
	}
	if (e) {
		err("%s: fingerprinting %s: %s", where, name, strerror(-e));
		return e;
	}
	e = sw_secretset__put(ls->set, &s);
	if (e == -EEXIST) {
		err("%s: the value of %s is already tracked under another name", where, name);
		sw_secret__clear(&s);
		return e;
	}
	if (e) {
		err("%s: adding %s: %s", where, name, strerror(-e));
		sw_secret__clear(&s);
	}
	return e;
}

static int cmd_secrets_add(int argc, char **argv)
{
	static const struct option opts[] = {{"from-file", required_argument, NULL, 'f'}, {}};
	const char *file = NULL, *name;
	char origin[PATH_MAX];
	struct locked_set ls;
	struct stat st;
	uint8_t *value;
	ssize_t len;
	int o, fd = 0, e;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'f') {
			err("usage: secrets add NAME [--from-file F]");
			return -EINVAL;
		}
		file = optarg;
	}
	if (optind != argc - 1) {
		err("usage: secrets add NAME [--from-file F] (the value comes from stdin or F, "
		    "never from the command line)");
		return -EINVAL;
	}
	name = argv[optind];
	if (!valid_name(name)) {
		err("'%s' is not a valid secret name: use letters, digits, '_', '-', '.' (at most "
		    "%d)",
		    name, SW_NAME_MAX - 1);
		return -EINVAL;
	}
	if (file) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) || !realpath(file, origin)) {
			e = -errno;
			err("%s: %s", file, strerror(-e));
			if (fd >= 0)
				close(fd);
			return e;
		}
	} else if (isatty(0)) {
		fprintf(stderr, "Value for %s (end with Ctrl-D): ", name);
	}
	e = open_set(&ls);
	if (e) {
		close_set(&ls);
		if (file)
			close(fd);
		return e;
	}
	value = sodium_malloc(VALUE_MAX);
	if (!value) {
		close_set(&ls);
		return -ENOMEM;
	}
	len = read_value(fd, value, VALUE_MAX);
	if (file)
		close(fd);
	if (len < 0) {
		err("%s: reading the value: %s", file ? file : "stdin",
		    len == -EFBIG ? "longer than 4096 bytes" : strerror(-len));
		e = len;
	} else {
		e = put_secret(&ls, name, value, len, file ? origin : NULL, &st,
			       file ? file : "stdin");
	}
	sodium_free(value); /* wipes */
	if (!e)
		e = commit_set(&ls);
	if (!e)
		printf("tracking %s\n", name);
	close_set(&ls);
	return e;
}

static int cmd_secrets_import_env(int argc, char **argv)
{
	char origin[PATH_MAX], where[PATH_MAX + 32], *line = NULL, *name, *val;
	struct locked_set ls;
	const char *why;
	struct stat st;
	size_t cap = 0, vlen, added = 0, skipped = 0, lineno = 0;
	ssize_t n;
	FILE *f;
	int e, r;

	if (argc != 2) {
		err("usage: secrets import-env FILE");
		return -EINVAL;
	}
	f = fopen(argv[1], "re");
	if (!f || fstat(fileno(f), &st) || !realpath(argv[1], origin)) {
		e = -errno;
		err("%s: %s", argv[1], strerror(-e));
		if (f)
			fclose(f);
		return e;
	}
	e = open_set(&ls);
	while (!e && (n = getline(&line, &cap, f)) > 0 && lineno < 100000) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%zu", argv[1], lineno);
		r = sw_envfile__line(line, &name, &val, &vlen, &why);
		if (r < 0) {
			err("%s: %s; line skipped", where, why);
			skipped++;
		} else if (r > 0 && !valid_name(name)) {
			err("%s: '%s' is not a valid name; line skipped", where, name);
			skipped++;
		} else if (r > 0 && vlen < SW_SECRET_MIN) {
			/* Too short to be a credential, and too short to track without false
			 * alarms. */
			fprintf(stderr,
				"sprawlctl: %s: %s is %zu bytes, shorter than %d; not tracked\n",
				where, name, vlen, SW_SECRET_MIN);
			skipped++;
		} else if (r > 0) {
			r = put_secret(&ls, name, (uint8_t *)val, vlen, origin, &st, where);
			if (r == 0)
				added++;
			else if (r == -EEXIST || r == -EINVAL)
				skipped++;
			else
				e = r;
		}
		sodium_memzero(line, cap);
	}
	if (line) {
		sodium_memzero(line, cap);
		free(line);
	}
	fclose(f);
	if (!e)
		e = commit_set(&ls);
	if (!e)
		printf("imported %zu secret(s) from %s (%zu line(s) skipped)\n", added, origin,
		       skipped);
	close_set(&ls);
	return e;
}

static int cmd_secrets_list(int argc, char **argv)
{
	struct locked_set ls;
	char id[2 * SW_SECRET_ID_BYTES + 1], when[32];
	size_t i;
	int e;

	(void)argv;
	if (argc != 1) {
		err("usage: secrets list");
		return -EINVAL;
	}
	e = open_set(&ls);
	if (!e) {
		printf("%-16s  %-32s  %6s  %8s  %-20s  %s\n", "ID", "NAME", "LENGTH", "PATTERNS",
		       "CREATED", "ORIGIN");
		for (i = 0; i < ls.set->n; i++) {
			const struct sw_secret *s = &ls.set->secrets[i];
			time_t t = s->created;

			sw_secret__id_hex(s, id);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
			printf("%-16s  %-32s  %6u  %8u  %-20s  %s\n", id, s->name, s->value_len,
			       s->npatterns, when,
			       s->learned		   ? "(learned)"
			       : s->origin && s->origin[0] ? s->origin
							   : "(stdin)");
		}
	}
	close_set(&ls);
	return e;
}

static int cmd_secrets_rm(int argc, char **argv)
{
	struct locked_set ls;
	int e;

	if (argc != 2) {
		err("usage: secrets rm NAME");
		return -EINVAL;
	}
	e = open_set(&ls);
	if (!e) {
		e = sw_secretset__remove(ls.set, argv[1]);
		if (e == -ENOENT)
			err("no secret named '%s' (see 'sprawlctl secrets list')", argv[1]);
		else if (!e)
			e = commit_set(&ls);
		if (!e)
			printf("no longer tracking %s\n", argv[1]);
	}
	close_set(&ls);
	return e;
}

static int cmd_secrets(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return cmd_secrets_add(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "import-env"))
		return cmd_secrets_import_env(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return cmd_secrets_list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rm"))
		return cmd_secrets_rm(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "discover"))
		return cmd_secrets_discover(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "export"))
		return cmd_secrets_export(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "import"))
		return cmd_secrets_import(argc - 1, argv + 1);
	err("usage: secrets add|import-env|discover|list|rm|export|import ...");
	return -EINVAL;
}

/* --- sessions --- */

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {{"agent", required_argument, NULL, 'a'}, {}};
	const char *label = NULL; /* the daemon's agent rules name the command, else "run" */
	char req[128], out[256];
	int o, e;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (o != 'a') {
			err("usage: run [--agent LABEL] -- CMD [ARG...]");
			return -EINVAL;
		}
		label = optarg;
	}
	if (optind >= argc) {
		err("usage: run [--agent LABEL] -- CMD [ARG...]");
		return -EINVAL;
	}
	if (label && (!valid_name(label) || strlen(label) > 63)) {
		err("--agent '%s': use letters, digits, '_', '-', '.' (at most 63)", label);
		return -EINVAL;
	}
	/* Our own pid enters the scope now; exec keeps the pid, so CMD is tracked from its
	 * first instruction and cannot leave. Without a label, the daemon names the session
	 * when CMD's exec matches an agent rule (the rules it runs, not ours). */
	snprintf(req, sizeof(req), "session%s%s", label ? " " : "", label ? label : "");
	e = daemon_call(req, out, sizeof(out), 0);
	if (e)
		return e;
	execvp(argv[optind], argv + optind);
	e = -errno;
	err("%s: %s", argv[optind], strerror(-e));
	exit(e == -ENOENT ? 127 : 126);
}

static int cmd_watch(int argc, char **argv)
{
	char req[64], out[256];
	int e;

	if (argc != 2 || strspn(argv[1], "0123456789") != strlen(argv[1])) {
		err("usage: watch PID");
		return -EINVAL;
	}
	snprintf(req, sizeof(req), "watch %s", argv[1]);
	e = daemon_call(req, out, sizeof(out), 0);
	if (!e)
		printf("watching pid %s as session %s\n", argv[1], out);
	return e;
}

/* No daemon answers: programs left pinned still capture (into a ring the next start reads);
 * say so, and where. */
static void orphan_pins(int json)
{
	struct sw_pins_build b[8];
	char t[SW_ALERT_TIME_LEN];
	int n = sw_pins__list(paths.pin_dir, b, 8), i;

	if (n < 0)
		n = 0;
	if (json)
		printf("{\"running\":false,\"pinned\":[");
	for (i = 0; i < n && i < 8; i++) {
		if (b[i].alive_real_ns)
			sw_alert__format_time(b[i].alive_real_ns / 1000, t);
		if (json)
			printf("%s{\"build\":\"%s\",\"dir\":\"%s\",\"links\":%d,\"daemon_alive\":%"
			       "s%s%s}",
			       i ? "," : "", b[i].build, b[i].dir, b[i].links,
			       b[i].alive_real_ns ? "\"" : "", b[i].alive_real_ns ? t : "null",
			       b[i].alive_real_ns ? "\"" : "");
		else
			printf("programs left pinned with no daemon: %s (%d link(s)%s%s); they "
			       "go on capturing into their ring, which the daemon's next start "
			       "reads and reports as a coverage_gap; remove the directory to "
			       "detach "
			       "them\n",
			       b[i].dir, b[i].links,
			       b[i].alive_real_ns ? ", last daemon alive at " : "",
			       b[i].alive_real_ns ? t : "");
	}
	if (json)
		printf("]}\n");
}

static int cmd_status(int argc, char **argv)
{
	char *out, *tok, *save;
	int json = argc == 2 && !strcmp(argv[1], "--json"), e;

	if (argc > 2 || (argc == 2 && !json)) {
		err("usage: status [--json]");
		return -EINVAL;
	}
	out = malloc(SW_CTL_STATUS_MAX);
	if (!out)
		return -ENOMEM;
	e = daemon_call(json ? "status" : "summary", out, SW_CTL_STATUS_MAX, 0);
	if (e)
		orphan_pins(json);
	if (!e && json) {
		printf("%s\n", out);
	} else if (!e) {
		printf("sprawlwatchd is running (control socket %s)\n", paths.control);
		for (tok = strtok_r(out, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '=');

			if (eq) {
				*eq = 0;
				printf("  %-12s %s\n", tok, eq + 1);
			}
		}
	}
	free(out);
	return e;
}

static volatile sig_atomic_t interrupted;

static void on_int(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* One alert line (with or without its newline) to stdout, as JSON or as text. */
static void print_alert(const char *line, size_t len, int text, int colour)
{
	char out[16384];
	int n;

	if (!text) {
		fwrite(line, 1, len, stdout);
		return;
	}
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return;
	n = sw_alerttext__format(line, len, colour, out, sizeof(out));
	if (n < 0) /* not an alert of ours (an OCSF file, say): shown as it is, cleaned */
		sw_alerttext__clean(line, len, out, sizeof(out));
	fputs(out, stdout);
	fputc('\n', stdout);
}

static int cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
					     {"file", required_argument, NULL, 'F'},
					     {"format", required_argument, NULL, 'o'},
					     {}};
	const char *file = SW_DEFAULT_ALERTS, *nc = getenv("NO_COLOR");
	char line[4096], *buf = NULL;
	int o, follow = 0, fd, n, text = isatty(STDOUT_FILENO), colour;
	struct sigaction sa = {.sa_handler = on_int};
	size_t cap = 0;
	ssize_t len;
	FILE *in;

	optind = 1;
	while ((o = getopt_long(argc, argv, "fF:", opts, NULL)) != -1) {
		if (o == 'f') {
			follow = 1;
		} else if (o == 'F') {
			file = optarg;
		} else if (o == 'o' && (!strcmp(optarg, "json") || !strcmp(optarg, "text"))) {
			text = !strcmp(optarg, "text");
		} else {
			err("usage: alerts [--follow] [--file F] [--format json|text]");
			return -EINVAL;
		}
	}
	/* Colour only for a person at a terminal who did not ask for none (no-color.org). */
	colour = text && isatty(STDOUT_FILENO) && !(nc && *nc);
	if (!follow) {
		in = fopen(file, "re");
		if (!in) {
			err("%s: %s", file, strerror(errno));
			return -errno;
		}
		while ((len = getline(&buf, &cap, in)) > 0)
			print_alert(buf, len, text, colour);
		free(buf);
		fclose(in);
		return 0;
	}
	fd = sw_ctl__connect(paths.control);
	if (fd < 0) {
		err("the daemon is not running (no control socket at %s: %s)", paths.control,
		    strerror(-fd));
		return fd;
	}
	n = sw_ctl__call(fd, "follow", line, sizeof(line), 10000);
	if (n) {
		err("the daemon refused to stream alerts: %s", line);
		close(fd);
		return n;
	}
	/* No SA_RESTART: Ctrl-C interrupts the blocking read at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	in = fdopen(fd, "r");
	if (!in) {
		close(fd);
		return -errno;
	}
	while (!interrupted && (len = getline(&buf, &cap, in)) > 0)
		print_alert(buf, len, text, colour);
	free(buf);
	fclose(in);
	return 0;
}

static int cmd_rules(int argc, char **argv)
{
	struct sw_rules_error errs[8], e;
	struct sw_rules *r;
	char msg[1024];
	size_t n, i, ndet;

	if (argc == 3 && !strcmp(argv[1], "import-gitleaks"))
		return sw_ctl_import_gitleaks(argv[2]);
	if (argc < 2 || argc > 3 || strcmp(argv[1], "check")) {
		err("usage: rules check [DIR]");
		return -EINVAL;
	}
	if (argc == 2) {
		r = sw_rules__load_embedded(&e);
		if (!r) {
			sw_rules_error__format(&e, msg, sizeof(msg));
			err("embedded rules: %s", msg);
			return -EINVAL;
		}
		sw_rules__detectors(r, &ndet);
		n = sw_rules__check_examples(r, "embedded:detectors.yaml", errs, 8);
		for (i = 0; i < n && i < 8; i++) {
			sw_rules_error__format(&errs[i], msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
		}
		if (!n)
			printf("embedded rules: ok (%zu agents, %zu detectors, examples "
			       "verified)\n",
			       sw_rules__agent_count(r), ndet);
		sw_rules__free(r);
		return n ? -EINVAL : 0;
	}
	n = sw_rules__check_dir(argv[2], errs, 8);
	for (i = 0; i < n && i < 8; i++) {
		sw_rules_error__format(&errs[i], msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
	}
	if (n) {
		err("%zu file(s) in %s have errors", n, argv[2]);
		return -EINVAL;
	}
	printf("%s: ok\n", argv[2]);
	return 0;
}

/* `config check [FILE]`: the daemon's own parser over the file, so what passes here starts. */
static int cmd_config(int argc, char **argv)
{
	const char *file = argc == 3 ? argv[2] : SW_DEFAULT_CONFIG;
	struct sw_dconf *c;
	struct sw_dconf_error e;
	char msg[1200];
	int r;

	if (argc < 2 || argc > 3 || (strcmp(argv[1], "check") && strcmp(argv[1], "example"))) {
		err("usage: config check [FILE] | config example");
		return -EINVAL;
	}
	if (!strcmp(argv[1], "example")) {
		sw_dconf__example(stdout);
		return 0;
	}
	c = sw_dconf__new();
	if (!c)
		return -ENOMEM;
	r = sw_dconf__load_file(c, file, &e);
	sw_dconf__free(c);
	if (r == -ENOENT) {
		err("%s: no such file (the daemon runs on its defaults without one)", file);
		return r;
	}
	if (r) {
		sw_dconf_error__format(&e, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return r;
	}
	printf("%s: ok\n", file);
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	return sw_ctl_bench(argc, argv) ? -EINVAL : 0;
}

static int scan_exit(int rc)
{
	return rc == 0 ? EXIT_SUCCESS : rc == 1 ? 1 : 2;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{"secrets", cmd_secrets}, {"run", cmd_run},	  {"watch", cmd_watch},
	{"status", cmd_status},	  {"alerts", cmd_alerts}, {"rules", cmd_rules},
	{"bench", cmd_bench},	  {"replay", cmd_replay}, {"trace", cmd_trace},
	{"config", cmd_config},	  {"trail", cmd_trail},	  {"scan", cmd_scan},
};

/* `sprawlctl CMD ... --help` (or -h; before a "--", after which the words are a command's
 * own): CMD's entries of the usage, on stdout. 0 when the usage has none for CMD. */
static int command_help(int argc, char **argv)
{
	const char *p, *e;
	size_t n = strlen(argv[1]);
	int i, in = 0, found = 0;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			break;
	if (i >= argc || !strcmp(argv[i], "--"))
		return 0;
	for (p = usage; (e = strchr(p, '\n')); p = e + 1) {
		/* An entry: "  CMD ..." and the lines indented under it. */
		if (p[0] == ' ' && p[1] == ' ' && p[2] != ' ')
			in = !strncmp(p + 2, argv[1], n) && (p[2 + n] == ' ' || p[2 + n] == '\n');
		else if (p[0] != ' ')
			in = 0;
		if (in) {
			if (!found++)
				fputs("Usage: sprawlctl COMMAND [ARGS]\n\n", stdout);
			fwrite(p, 1, (size_t)(e - p + 1), stdout);
		}
	}
	return found > 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (command_help(argc, argv))
		return EXIT_SUCCESS;
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("sprawlctl %s\n", SW_VERSION);
		return EXIT_SUCCESS;
	}
	if (sodium_init() < 0) {
		err("libsodium failed to initialise");
		return EXIT_FAILURE;
	}
	if (sw_paths__init(&paths, NULL, NULL)) {
		err("SPRAWL_STATE_DIR or SPRAWL_RUN_DIR is too long");
		return EXIT_FAILURE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			/* scan: 1 = a finding, 2 = could not scan (a pre-commit hook refuses both)
			 */
			return cmds[i].fn == cmd_scan ? scan_exit(cmd_scan(argc - 1, argv + 1))
			       : cmds[i].fn(argc - 1, argv + 1) ? EXIT_FAILURE
								: EXIT_SUCCESS;
	err("unknown command '%s'; see 'sprawlctl --help'", argv[1]);
	return EXIT_FAILURE;
}
