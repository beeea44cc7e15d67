// SPDX-License-Identifier: Apache-2.0
/* sprawlctl replay and sprawlctl trace dump: trace logs read back. Replay feeds the recorded
 * records through the same pipeline the daemon runs, with a fresh registry, so it raises the
 * alerts the live run raised — and finds secrets registered after the recording in the data
 * that was kept; --since/--until pick a window of the service's own trace log. Dump prints
 * each record as a JSON line, with its wall-clock time; what was redacted stays redacted. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "event.h"
#include "fingerprint.h"
#include "json.h"
#include "pipeline.h"
#include "registry.h"
#include "rules.h"
#include "secretset.h"
#include "sink.h"
#include "sprawlctl.h"
#include "tracelog.h"

static void on_damage(void *ctx, enum sw_tracelog_damage kind, const char *segment, uint64_t offset,
		      uint64_t skipped, const char *why)
{
	(void)ctx;
	fprintf(stderr, "sprawlctl: %s: %s block at byte %llu (%llu bytes skipped): %s\n", segment,
		kind == SW_TRACELOG_TORN ? "torn" : "corrupt", (unsigned long long)offset,
		(unsigned long long)skipped, why);
}

/* Says why a read stopped, in words a user can act on. */
static void read_stopped(const char *path, struct sw_tracelog_reader *r, int got)
{
	uint32_t v = sw_tracelog_reader__version(r);

	if (got == -EPROTONOSUPPORT && v < SW_TRACELOG_VERSION)
		err("%s: recorded by an older sprawlwatch (trace format %u); replay it with that "
		    "version (this one reads format %u)",
		    path, v, SW_TRACELOG_VERSION);
	else if (got == -EPROTONOSUPPORT)
		err("%s: recorded by a newer sprawlwatch (trace format %u); this one reads format "
		    "%u: update sprawlctl",
		    path, v, SW_TRACELOG_VERSION);
	else
		err("%s: reading stopped: %s", path, strerror(-got));
}

static struct sw_tracelog_reader *open_trace(const char *path)
{
	struct sw_tracelog_reader *r = sw_tracelog_reader__open(path);

	if (!r) {
		err("%s: %s", path,
		    errno == EBADMSG ? "not a sprawlwatch trace log" : strerror(errno));
		return NULL;
	}
	sw_tracelog_reader__set_damage_cb(r, on_damage, NULL);
	return r;
}

/* --- the time window --- */

#define NS_PER_S 1000000000ull

/* A time given on the command line, as unix ns: @SECONDS; YYYY-MM-DD[THH:MM[:SS]] in local
 * time, or UTC with a trailing Z; -N[smhd] (that long ago). 0 or -EINVAL. */
static int parse_when(const char *s, uint64_t *out)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	unsigned long long v;
	struct tm tm;
	const char *end;
	char *e;
	time_t t;
	size_t i;

	if (s[0] == '@' || s[0] == '-') {
		errno = 0;
		v = strtoull(s + 1, &e, 10);
		if (errno || e == s + 1 || !isdigit((unsigned char)s[1]))
			return -EINVAL;
		if (s[0] == '@') {
			if (*e || v > UINT64_MAX / NS_PER_S)
				return -EINVAL;
			*out = v * NS_PER_S;
			return 0;
		}
		if (!strcmp(e, "s") || !*e)
			;
		else if (!strcmp(e, "m"))
			v *= 60;
		else if (!strcmp(e, "h"))
			v *= 3600;
		else if (!strcmp(e, "d"))
			v *= 86400;
		else
			return -EINVAL;
		t = time(NULL);
		if (v > (unsigned long long)t)
			return -EINVAL;
		*out = ((uint64_t)t - v) * NS_PER_S;
		return 0;
	}
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, forms[i], &tm);
		if (!end || (*end && strcmp(end, "Z")))
			continue;
		tm.tm_isdst = -1;
		t = *end ? timegm(&tm) : mktime(&tm);
		if (t < 0)
			return -EINVAL;
		*out = (uint64_t)t * NS_PER_S;
		return 0;
	}
	return -EINVAL;
}

/* Records before the window still say which processes and sessions exist, so that alerts in
 * it name them; they raise nothing of their own (but an exec's argv and environment). */
static int sets_the_scene(unsigned int type)
{
	switch (type) {
	case SW_EV_FORK:
	case SW_EV_EXEC:
	case SW_EV_EXIT:
	case SW_EV_SESSION:
	case SW_EV_READER:
	case SW_EV_RENAMED:
	case SW_EV_TICK:
	case SW_EV_PROC:
	case SW_EV_RULES:
		return 1;
	default:
		return 0;
	}
}

/* Maps record times (CLOCK_MONOTONIC ns) to the wall clock through the latest tick record. */
struct clockmap {
	int have;
	uint64_t ktime, real_ns;
};

static void clockmap_see(struct clockmap *c, const uint8_t *rec, size_t len)
{
	const struct sw_tick_rec *t = (const void *)rec;

	if (len >= sizeof(*t) && t->hdr.type == SW_EV_TICK) {
		c->have = 1;
		c->ktime = t->hdr.ktime;
		c->real_ns = t->realtime_ns;
	}
}

/* 0 when no tick came before. */
static uint64_t clockmap_wall(const struct clockmap *c, uint64_t ktime)
{
	if (!c->have)
		return 0;
	return c->real_ns + (ktime - c->ktime); /* mod 2^64: a ktime before the tick works too */
}

/* What to read: one file or segment each. */
struct input {
	char *path;
	uint64_t start_ns; /* its segment's start (0 when not named like one) */
};

struct inputs {
	struct input *v;
	size_t n, cap;
};

static int add_input(struct inputs *in, const char *dir, const char *name, uint64_t start_ns)
{
	struct input *p;
	char *path;

	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		p = realloc(in->v, in->cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		in->v = p;
	}
	if ((dir ? asprintf(&path, "%s/%s", dir, name) : asprintf(&path, "%s", name)) < 0)
		return -ENOMEM;
	in->v[in->n++] = (struct input){path, start_ns};
	return 0;
}

/* A segment is named for the wall clock when its first record was appended; the record's own
 * time can be this much earlier (ring buffer latency, a busy daemon). */
#define SEGMENT_SLACK_NS (2 * NS_PER_S)

/* A trace directory's segments that can hold records from since to until: from the last one
 * named at or before since (or the first) to the last one named before until. */
static int add_dir(struct inputs *in, const char *dir, uint64_t since, uint64_t until)
{
	struct sw_tracelog_segment *seg = NULL;
	size_t n = 0, i, first = 0;
	int e;

	e = sw_tracelog__segments(dir, &seg, &n);
	if (e) {
		err("%s: %s", dir, strerror(-e));
		return e;
	}
	for (i = 0; i < n; i++)
		if (seg[i].start_us * 1000 <= since)
			first = i;
	for (i = first; i < n && !e; i++)
		if (seg[i].start_us * 1000 <= until ||
		    seg[i].start_us * 1000 - SEGMENT_SLACK_NS <= until)
			e = add_input(in, dir, seg[i].name, seg[i].start_us * 1000);
	free(seg);
	return e;
}

/* A segment file named as the writer names them: when it was opened; else 0. */
static uint64_t segment_start_ns(const char *path)
{
	const char *base = strrchr(path, '/');
	unsigned long long us;
	unsigned int seq;
	char end;

	base = base ? base + 1 : path;
	if (strlen(base) != 34 || sscanf(base, "trace-%16llu-%8u.sw%c", &us, &seq, &end) != 3 ||
	    end != 't')
		return 0;
	return us * 1000;
}

static void free_inputs(struct inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		free(in->v[i].path);
	free(in->v);
}

#define TIME_LEN 48

/* ns since the epoch as the alerts write times: 2026-11-29T18:00:00.123456Z. */
static void format_ns(char *buf, uint64_t ns)
{
	time_t t = (time_t)(ns / NS_PER_S);
	struct tm tm;
	size_t k;

	gmtime_r(&t, &tm);
	k = strftime(buf, TIME_LEN - 9, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, 9, ".%06uZ", (unsigned)(ns % NS_PER_S / 1000) % 1000000u);
}

static const char replay_usage[] =
	"usage: replay [TRACE...] [--since T] [--until T] [--trace-dir DIR] [--alerts FILE] "
	"[--rules DIR]\n"
	"  TRACE: a trace directory or segment files (default: the service's trace log, "
	"STATE-DIR/" SW_TRACELOG_SUBDIR ")\n"
	"  T: 2026-11-24T09:00[:SS][Z] (local time, UTC with Z), 2026-11-24, @UNIXSECONDS, or "
	"-7d, -3h, -30m\n"
	"  --rules DIR: run these rules, not the ones the trace recorded";

static void to_sink(const struct sw_alert *a, void *ctx)
{
	sw_sink__emit(ctx, a);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {{"alerts", required_argument, NULL, 'a'},
					     {"since", required_argument, NULL, 's'},
					     {"until", required_argument, NULL, 'u'},
					     {"trace-dir", required_argument, NULL, 't'},
					     {"rules", required_argument, NULL, 'R'},
					     {}};
	struct sw_pipeline_opts po = {0};
	const char *alerts = "-", *trace_dir = NULL, *rules_dir = NULL;
	struct sw_pipeline_stats st;
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_reader *tr;
	const struct sw_redaction *red;
	struct sw_rules_error re;
	struct sw_registry *reg = NULL;
	struct sw_pipeline *p = NULL;
	struct sw_sink *sink = NULL;
	struct sw_rules *rules = NULL;
	struct inputs in = {0};
	struct locked_set ls = {.lock_fd = -1};
	struct clockmap cm;
	char tmp[] = "/tmp/sprawl-replay.XXXXXX", regpath[64], msg[1024], dir[1200], t1[TIME_LEN],
	     t2[TIME_LEN], host[256] = "unknown";
	const uint8_t *rec;
	uint64_t ktime, wall, since = 0, until = UINT64_MAX, events = 0, before = 0, after = 0;
	size_t len, nred, k;
	int o, i, e, corrupt = 0, got, window = 0;
	struct stat sb;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a':
			alerts = optarg;
			break;
		case 't':
			trace_dir = optarg;
			break;
		case 'R':
			rules_dir = optarg;
			break;
		case 's':
		case 'u':
			if (parse_when(optarg, o == 's' ? &since : &until)) {
				err("--%s %s: not a time\n%s", o == 's' ? "since" : "until", optarg,
				    replay_usage);
				return -EINVAL;
			}
			window = 1;
			break;
		default:
			err("%s", replay_usage);
			return -EINVAL;
		}
	}
	if (since > until) {
		err("--since is after --until");
		return -EINVAL;
	}
	/* What to read: the TRACEs given, else the service's own trace log. */
	if (optind == argc) {
		if (!trace_dir) {
			snprintf(dir, sizeof(dir), "%s/" SW_TRACELOG_SUBDIR, paths.state_dir);
			trace_dir = dir;
		}
		e = add_dir(&in, trace_dir, since, until);
		if (e)
			goto out;
		if (!in.n) {
			err("%s: no trace log there%s (the daemon records one unless run with "
			    "--trace-dir none)",
			    trace_dir, window ? " for that time" : "");
			e = -ENOENT;
			goto out;
		}
	}
	for (i = optind; i < argc; i++) {
		if (!stat(argv[i], &sb) && S_ISDIR(sb.st_mode))
			e = add_dir(&in, argv[i], since, until);
		else
			e = add_input(&in, NULL, argv[i], segment_start_ns(argv[i]));
		if (e)
			goto out;
	}
	e = open_set(&ls); /* the key and the secrets the alerts name */
	if (e)
		goto out;
	/* The rules the live run recorded, unless --rules says otherwise. */
	if (rules_dir) {
		rules = sw_rules__load_dir(rules_dir, &re);
		if (!rules) {
			sw_rules_error__format(&re, msg, sizeof(msg));
			err("%s (check with: sprawlctl rules check %s)", msg, rules_dir);
			e = -EINVAL;
			goto out;
		}
	}
	/* A fresh registry: a replay asks where the secrets went, first times included. */
	if (!mkdtemp(tmp)) {
		e = -errno;
		err("creating a temporary registry: %s", strerror(-e));
		goto out;
	}
	snprintf(regpath, sizeof(regpath), "%s/registry.pb", tmp);
	reg = sw_registry__open(regpath, ls.key.id, &corrupt);
	po.key = &ls.key;
	po.registry = reg;
	po.rules = rules;
	po.recorded_finds = !rules; /* other rules: their detectors run over the trace */
	gethostname(host, sizeof(host) - 1);
	po.host = host;
	p = reg ? sw_pipeline__new(&po) : NULL;
	sink = sw_sink__file(alerts, SW_FMT_JSON);
	if (!reg || !p || !sink) {
		e = -errno;
		err("%s: %s", sink ? "setting up the replay" : alerts, strerror(errno));
		goto out;
	}
	e = sw_pipeline__set_secrets(p, ls.set);
	ls.set = NULL; /* the pipeline owns it now */
	if (e) {
		err("building the matcher: %s", strerror(-e));
		goto out;
	}
	for (k = 0; k < in.n; k++) {
		tr = open_trace(in.v[k].path);
		if (!tr) {
			e = -EINVAL;
			goto out;
		}
		/* Each segment maps its own times: a daemon restart (a reboot even) starts one,
		 * and records before its first tick are taken at the segment's start. */
		memset(&cm, 0, sizeof(cm));
		while ((got = sw_tracelog_reader__next(tr, &rec, &len, &ktime, &red, &nred)) == 1) {
			clockmap_see(&cm, rec, len);
			if (window) {
				wall = clockmap_wall(&cm, ktime) ?: in.v[k].start_ns;
				if (wall > until) {
					after++;
					continue;
				}
				if (wall < since &&
				    !sets_the_scene(((const struct sw_hdr *)rec)->type)) {
					before++;
					continue;
				}
			}
			sw_pipeline__replay(p, rec, len, red, nred);
			sw_pipeline__drain_alerts(p, to_sink, sink);
			events++;
		}
		sw_tracelog_reader__stats(tr, &rs);
		if (got < 0) {
			read_stopped(in.v[k].path, tr, got);
			e = got;
		}
		sw_tracelog_reader__free(tr);
		if (rs.torn_blocks || rs.corrupt_blocks)
			fprintf(stderr,
				"sprawlctl: %s: %llu torn and %llu corrupt block(s) skipped\n",
				in.v[k].path, (unsigned long long)rs.torn_blocks,
				(unsigned long long)rs.corrupt_blocks);
		if (e)
			goto out;
	}
	/* The live run's stop: its read-backs are in the trace already. */
	sw_pipeline__stop(p);
	sw_pipeline__finish(p);
	sw_pipeline__drain_alerts(p, to_sink, sink);
	sw_pipeline__stats(p, &st);
	if (window) {
		format_ns(t1, since);
		if (until == UINT64_MAX)
			snprintf(t2, sizeof(t2), "now");
		else
			format_ns(t2, until);
		fprintf(stderr,
			"sprawlctl: window %s to %s: %zu segment(s); %llu record(s) before it and "
			"%llu after it left out\n",
			t1, t2, in.n, (unsigned long long)before, (unsigned long long)after);
	}
	fprintf(stderr,
		"sprawlctl: replayed %llu record(s), %llu alert(s); %llu matches of secrets no "
		"longer tracked\n",
		(unsigned long long)events, (unsigned long long)st.alerts,
		(unsigned long long)st.replay_unknown);
out:
	sw_pipeline__free(p);
	sw_sink__free(sink);
	sw_registry__free(reg);
	if (tmp[sizeof(tmp) - 7] != 'X') {
		unlink(regpath);
		rmdir(tmp);
	}
	sw_rules__free(rules);
	close_set(&ls);
	free_inputs(&in);
	return e;
}

/* --- trace dump --- */

static void jstr(const char *s, size_t n)
{
	sw_json__str(stdout, s, n);
}

/* NUL-separated strings as a JSON array. */
static void jstrv(const char *s, size_t n)
{
	const char *end = s + n;
	size_t l;
	int first = 1;

	putchar('[');
	while (s < end) {
		l = strnlen(s, end - s);
		if (!first)
			putchar(',');
		jstr(s, l);
		first = 0;
		s += l + 1;
	}
	putchar(']');
}

static const char *const type_names[] = {
	[SW_EV_FORK] = "fork",	     [SW_EV_EXEC] = "exec", [SW_EV_EXIT] = "exit",
	[SW_EV_DATA] = "data",	     [SW_EV_OPEN] = "open", [SW_EV_RENAME] = "rename",
	[SW_EV_CHANNEL] = "channel",
};

static const char *type_name(unsigned int t)
{
	switch (t) {
	case SW_EV_SESSION:
		return "session";
	case SW_EV_READER:
		return "reader";
	case SW_EV_LOSS:
		return "loss";
	case SW_EV_RENAMED:
		return "renamed";
	case SW_EV_TICK:
		return "tick";
	case SW_EV_PROC:
		return "proc";
	case SW_EV_CLOSED:
		return "closed";
	case SW_EV_RULES:
		return "rules";
	default:
		return t < sizeof(type_names) / sizeof(type_names[0]) && type_names[t]
			       ? type_names[t]
			       : "unknown";
	}
}

/* The rule files of a rules record, by name. */
static void jrules(const struct sw_event *ev)
{
	const uint8_t *p = (const uint8_t *)ev->path, *end = p + ev->path_len;
	uint32_t nl, tl, i;

	printf(",\"files\":[");
	for (i = 0; i < ev->rules->nfiles && end - p >= 8; i++) {
		memcpy(&nl, p, 4);
		memcpy(&tl, p + 4, 4);
		p += 8;
		if (nl > (size_t)(end - p) || tl > (size_t)(end - p) - nl)
			break;
		printf("%s{\"name\":", i ? "," : "");
		jstr((const char *)p, nl);
		printf(",\"bytes\":%u}", tl);
		p += nl + tl;
	}
	putchar(']');
}

static void dump_one(const uint8_t *rec, size_t len, const struct sw_redaction *red, size_t nred,
		     const struct clockmap *cm)
{
	char comm[SW_COMM_LEN + 1], when[TIME_LEN];
	struct sw_event ev;
	size_t i, j;

	if (sw_event__decode(rec, len, &ev)) {
		printf("{\"type\":\"invalid\",\"size\":%zu}\n", len);
		return;
	}
	memcpy(comm, ev.hdr->comm, SW_COMM_LEN);
	comm[SW_COMM_LEN] = 0;
	/* The wall clock through the latest tick; before the first one, only the ktime. */
	if (cm->have) {
		format_ns(when, clockmap_wall(cm, ev.hdr->ktime));
		printf("{\"time\":\"%s\",", when);
	} else {
		putchar('{');
	}
	printf("\"ktime\":%llu,\"type\":\"%s\",\"pid\":%u,\"tgid\":%u,\"ppid\":%u,\"uid\":%u,"
	       "\"session\":%llu,\"flags\":%u,\"comm\":",
	       (unsigned long long)ev.hdr->ktime, type_name(ev.hdr->type), ev.hdr->pid,
	       ev.hdr->tgid, ev.hdr->ppid, ev.hdr->uid, (unsigned long long)ev.hdr->session_id,
	       ev.hdr->flags);
	jstr(comm, strlen(comm));
	switch (ev.hdr->type) {
	case SW_EV_DATA:
		printf(",\"fd\":%d,\"total\":%llu,\"offset\":%llu,\"path\":", ev.data->fd,
		       (unsigned long long)ev.data->total, (unsigned long long)ev.data->offset);
		jstr(ev.path, ev.path_len);
		printf(",\"data\":");
		jstr((const char *)ev.bytes, ev.bytes_len);
		break;
	case SW_EV_EXEC:
		printf(",\"exe\":");
		jstr(ev.filename, ev.filename_len);
		printf(",\"argv\":");
		jstrv(ev.args, ev.args_len);
		printf(",\"env\":");
		jstrv(ev.env, ev.env_len);
		break;
	case SW_EV_OPEN:
	case SW_EV_CHANNEL:
	case SW_EV_RENAMED:
		printf(",\"path\":");
		jstr(ev.path, ev.path_len);
		break;
	case SW_EV_READER:
		printf(",\"dev\":%llu,\"ino\":%llu,\"exe\":", (unsigned long long)ev.reader->dev,
		       (unsigned long long)ev.reader->ino);
		jstr(ev.path, ev.path_len);
		break;
	case SW_EV_TICK:
		format_ns(when, ev.tick->realtime_ns);
		printf(",\"realtime\":\"%s\"", when);
		break;
	case SW_EV_PROC:
		printf(",\"exe\":");
		jstr(ev.path, ev.path_len);
		printf(",\"argv\":");
		jstrv(ev.args, ev.args_len);
		printf(",\"cgroup\":");
		jstr(ev.cgroup, ev.cgroup_len);
		break;
	case SW_EV_CLOSED:
		printf(",\"dev\":%llu,\"ino\":%llu", (unsigned long long)ev.closed->dev,
		       (unsigned long long)ev.closed->ino);
		break;
	case SW_EV_RULES:
		jrules(&ev);
		break;
	case SW_EV_LOSS:
		printf(",\"ringbuf_full\":%llu,\"truncated\":%llu,\"read_errors\":%llu,"
		       "\"path_truncated\":%llu,\"scope_full\":%llu,\"copies_unread\":%llu,"
		       "\"spilled\":%llu",
		       (unsigned long long)ev.loss->loss.ringbuf_full,
		       (unsigned long long)ev.loss->loss.truncated,
		       (unsigned long long)ev.loss->loss.read_errors,
		       (unsigned long long)ev.loss->loss.path_truncated,
		       (unsigned long long)ev.loss->loss.scope_full,
		       (unsigned long long)ev.loss->loss.copies_unread,
		       (unsigned long long)ev.loss->loss.spilled);
		if (ev.hdr->flags & SW_F_DOWN)
			printf(",\"down_since_ns\":%llu,\"drained_bytes\":%llu,\"dropped_bytes\":%"
			       "llu",
			       (unsigned long long)ev.loss->down_since_ns,
			       (unsigned long long)ev.loss->drained_bytes,
			       (unsigned long long)ev.loss->dropped_bytes);
		break;
	case SW_EV_RENAME:
		printf(",\"dir\":");
		jstr(ev.path, ev.path_len);
		printf(",\"name\":");
		jstr(ev.src_path, ev.src_path_len);
		break;
	case SW_EV_SESSION:
		printf(",\"agent\":");
		jstr(ev.session->agent, strnlen(ev.session->agent, sizeof(ev.session->agent)));
		break;
	default:
		break;
	}
	printf(",\"redactions\":[");
	for (i = 0; i < nred; i++) {
		int known = 0;

		for (j = 0; j < SW_SECRET_ID_BYTES; j++)
			known |= red[i].secret_id[j];
		printf("%s{\"offset\":%u,\"length\":%u", i ? "," : "", red[i].offset,
		       red[i].length);
		if (known) {
			printf(",\"secret\":\"");
			for (j = 0; j < SW_SECRET_ID_BYTES; j++)
				printf("%02x", red[i].secret_id[j]);
			printf("\",\"variant\":\"%s\"", sw_variant__name(red[i].variant & 0xff));
		}
		putchar('}');
	}
	printf("]}\n");
}

/* trace stat: what a trace holds and when, without the pipeline (also: how fast a trace
 * decodes, for make bench). */
static int trace_stat(const char *path)
{
	uint64_t count[SW_EV_RULES + 1] = {0}, bytes = 0, first = 0, last = 0, events = 0;
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_reader *tr;
	const struct sw_redaction *red;
	struct clockmap cm = {0};
	const uint8_t *rec;
	const struct sw_hdr *h;
	char t1[TIME_LEN], t2[TIME_LEN];
	uint64_t ktime, wall;
	size_t len, nred, i;
	int got, n = 0;

	tr = open_trace(path);
	if (!tr)
		return -EINVAL;
	while ((got = sw_tracelog_reader__next(tr, &rec, &len, &ktime, &red, &nred)) == 1) {
		h = (const void *)rec;
		clockmap_see(&cm, rec, len);
		events++;
		if (h->type <= SW_EV_RULES)
			count[h->type]++;
		if (h->type == SW_EV_DATA)
			bytes += ((const struct sw_data_rec *)rec)->data_len;
		wall = clockmap_wall(&cm, ktime);
		if (wall && (!first || wall < first))
			first = wall;
		if (wall > last)
			last = wall;
	}
	sw_tracelog_reader__stats(tr, &rs);
	if (got < 0)
		read_stopped(path, tr, got);
	sw_tracelog_reader__free(tr);
	if (got < 0)
		return got;
	printf("{\"records\":%llu,\"data_bytes\":%llu,", (unsigned long long)events,
	       (unsigned long long)bytes);
	if (first) {
		format_ns(t1, first);
		format_ns(t2, last);
		printf("\"first\":\"%s\",\"last\":\"%s\",", t1, t2);
	}
	printf("\"segments\":%llu,\"blocks\":%llu,\"torn_blocks\":%llu,\"corrupt_blocks\":%llu,"
	       "\"by_type\":{",
	       (unsigned long long)rs.segments, (unsigned long long)rs.blocks,
	       (unsigned long long)rs.torn_blocks, (unsigned long long)rs.corrupt_blocks);
	for (i = 0; i <= SW_EV_RULES; i++)
		if (count[i])
			printf("%s\"%s\":%llu", n++ ? "," : "", type_name((unsigned)i),
			       (unsigned long long)count[i]);
	printf("}}\n");
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct sw_tracelog_reader *tr;
	const struct sw_redaction *red;
	struct clockmap cm = {0};
	const uint8_t *rec;
	uint64_t ktime;
	size_t len, nred;
	int got;

	if (argc != 3 || (strcmp(argv[1], "dump") && strcmp(argv[1], "stat"))) {
		err("usage: trace dump|stat TRACE (a trace directory or a segment file)");
		return -EINVAL;
	}
	if (!strcmp(argv[1], "stat"))
		return trace_stat(argv[2]);
	tr = open_trace(argv[2]);
	if (!tr)
		return -EINVAL;
	while ((got = sw_tracelog_reader__next(tr, &rec, &len, &ktime, &red, &nred)) == 1) {
		clockmap_see(&cm, rec, len);
		dump_one(rec, len, red, nred, &cm);
	}
	if (got < 0)
		read_stopped(argv[2], tr, got);
	sw_tracelog_reader__free(tr);
	return got < 0 ? got : 0;
}
