// SPDX-License-Identifier: Apache-2.0
/* sprawlctl replay and sprawlctl trace dump: trace logs read back. Replay feeds the recorded
 * records through the same pipeline the daemon runs, with a fresh registry, so it raises the
 * alerts the live run raised — and finds secrets registered after the recording in the data
 * that was kept. Dump prints each record as a JSON line; what was redacted stays redacted. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {{"alerts", required_argument, NULL, 'a'},
					     {"rules", required_argument, NULL, 'r'},
					     {}};
	const char *rules_dir = NULL;
	struct sw_pipeline_opts po = {.hold_ms = 500};
	const char *alerts = "-";
	struct sw_pipeline_stats st;
	struct sw_tracelog_read_stats rs;
	struct sw_tracelog_reader *tr;
	const struct sw_redaction *red;
	struct sw_registry *reg = NULL;
	struct sw_pipeline *p = NULL;
	struct sw_sink *sink = NULL;
	struct sw_rules *rules = NULL;
	struct locked_set ls;
	char tmp[] = "/tmp/sprawl-replay.XXXXXX", regpath[64];
	const uint8_t *rec;
	uint64_t ktime, events = 0;
	size_t len, nred;
	int o, i, e, corrupt = 0, got;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'r') {
			rules_dir = optarg;
			continue;
		}
		if (o != 'a') {
			err("usage: replay TRACE... [--alerts FILE] [--rules DIR]");
			return -EINVAL;
		}
		alerts = optarg;
	}
	if (optind >= argc) {
		err("usage: replay TRACE... [--alerts FILE] (a trace directory or segment files)");
		return -EINVAL;
	}
	e = open_set(&ls); /* the key and the secrets the alerts name */
	if (e)
		goto out;
	rules = ctl_load_rules(rules_dir);
	if (!rules) {
		e = -EINVAL;
		goto out;
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
	po.host = NULL;
	p = reg ? sw_pipeline__new(&po) : NULL;
	sink = sw_sink__file(alerts, SW_FMT_JSON);
	if (!reg || !p || !sink) {
		e = -errno;
		err("%s: %s", sink ? "setting up the replay" : alerts, strerror(errno));
		goto out;
	}
	sw_pipeline__add_sink(p, sink);
	e = sw_pipeline__set_secrets(p, ls.set);
	ls.set = NULL; /* the pipeline owns it now */
	if (e) {
		err("building the matcher: %s", strerror(-e));
		goto out;
	}
	for (i = optind; i < argc; i++) {
		tr = open_trace(argv[i]);
		if (!tr) {
			e = -EINVAL;
			goto out;
		}
		while ((got = sw_tracelog_reader__next(tr, &rec, &len, &ktime, &red, &nred)) == 1) {
			sw_pipeline__replay(p, rec, len, red, nred);
			events++;
		}
		sw_tracelog_reader__stats(tr, &rs);
		sw_tracelog_reader__free(tr);
		if (got < 0) {
			err("%s: reading stopped: %s", argv[i], strerror(-got));
			e = got;
		}
		if (rs.torn_blocks || rs.corrupt_blocks)
			fprintf(stderr,
				"sprawlctl: %s: %llu torn and %llu corrupt block(s) skipped\n",
				argv[i], (unsigned long long)rs.torn_blocks,
				(unsigned long long)rs.corrupt_blocks);
	}
	sw_pipeline__flush(p, UINT64_MAX, 1);
	sw_pipeline__stats(p, &st);
	fprintf(stderr,
		"sprawlctl: replayed %llu record(s), %llu alert(s); %llu copies or read-backs "
		"not replayed (the files may have changed since), %llu matches of secrets no "
		"longer tracked\n",
		(unsigned long long)events, (unsigned long long)st.alerts,
		(unsigned long long)st.replay_unread, (unsigned long long)st.replay_unknown);
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
	default:
		return t < sizeof(type_names) / sizeof(type_names[0]) && type_names[t]
			       ? type_names[t]
			       : "unknown";
	}
}

static void dump_one(const uint8_t *rec, size_t len, const struct sw_redaction *red, size_t nred)
{
	char comm[SW_COMM_LEN + 1];
	struct sw_event ev;
	size_t i, j;

	if (sw_event__decode(rec, len, &ev)) {
		printf("{\"type\":\"invalid\",\"size\":%zu}\n", len);
		return;
	}
	memcpy(comm, ev.hdr->comm, SW_COMM_LEN);
	comm[SW_COMM_LEN] = 0;
	printf("{\"ktime\":%llu,\"type\":\"%s\",\"pid\":%u,\"tgid\":%u,\"ppid\":%u,\"uid\":%u,"
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

int cmd_trace(int argc, char **argv)
{
	struct sw_tracelog_reader *tr;
	const struct sw_redaction *red;
	const uint8_t *rec;
	uint64_t ktime;
	size_t len, nred;
	int got;

	if (argc != 3 || strcmp(argv[1], "dump")) {
		err("usage: trace dump TRACE (a trace directory or a segment file)");
		return -EINVAL;
	}
	tr = open_trace(argv[2]);
	if (!tr)
		return -EINVAL;
	while ((got = sw_tracelog_reader__next(tr, &rec, &len, &ktime, &red, &nred)) == 1)
		dump_one(rec, len, red, nred);
	sw_tracelog_reader__free(tr);
	if (got < 0) {
		err("%s: reading stopped: %s", argv[2], strerror(-got));
		return got;
	}
	return 0;
}
