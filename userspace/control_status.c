// SPDX-License-Identifier: Apache-2.0
/* The control socket's status answer (status --json). Root sees every session and every
 * place a secret reached; any other user sees only the sessions that hold a process of theirs
 * (or that they started) and no place or secret name at all: those are other users' files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "kernel.h"
#include "tlsedge.h"
#include "json.h"

static void json_str(FILE *f, const char *s)
{
	sw_json__str(f, s, strlen(s));
}

struct status_ctx {
	FILE *b;
	struct daemon *d;
	const struct sw_proctab *pt;
	const struct sw_session *s;
	uid_t uid;
	int first, pfirst, mine;
};

static void status_proc(const struct sw_proc *p, void *ctx)
{
	struct status_ctx *c = ctx;

	if (p->session_id != c->s->id)
		return;
	fprintf(c->b, "%s{\"pid\":%u,\"ppid\":%u,\"comm\":", c->pfirst ? "" : ",", p->tgid,
		p->ppid);
	json_str(c->b, p->comm);
	fprintf(c->b, ",\"exe\":");
	json_str(c->b, p->exe);
	fprintf(c->b, "}");
	c->pfirst = 0;
}

static void owned_proc(const struct sw_proc *p, void *ctx)
{
	struct status_ctx *c = ctx;

	if (p->session_id == c->s->id && p->uid == c->uid)
		c->mine = 1;
}

int control__session_visible(struct daemon *d, uint64_t id, uid_t uid)
{
	int i;

	if (uid == 0)
		return 1;
	for (i = 0; i < CTL_OWNED_MAX; i++)
		if (d->ctl_owned[i].session == id && d->ctl_owned[i].uid == uid)
			return 1;
	return 0;
}

static void status_session(const struct sw_session *s, void *ctx)
{
	struct status_ctx *c = ctx;

	c->s = s;
	if (c->uid != 0 && !control__session_visible(c->d, s->id, c->uid)) {
		c->mine = 0;
		sw_proctab__each_proc(c->pt, owned_proc, c);
		if (!c->mine)
			return;
	}
	fprintf(c->b, "%s{\"id\":%llu,\"agent\":", c->first ? "" : ",", (unsigned long long)s->id);
	json_str(c->b, s->agent);
	fprintf(c->b, ",\"root_pid\":%u,\"root_exe\":", s->root_pid);
	json_str(c->b, s->root_exe);
	fprintf(c->b, ",\"live\":%s,\"processes\":[", s->ended ? "false" : "true");
	c->pfirst = 1;
	sw_proctab__each_proc(c->pt, status_proc, c);
	fprintf(c->b, "]}");
	c->first = 0;
}

struct places_ctx {
	FILE *b;
	const struct sw_secretset *set;
	int first;
};

static void status_place(const uint8_t sid[SW_SECRET_ID_BYTES], const char *key,
			 const struct sw_registry_entry *e, void *ctx)
{
	struct places_ctx *c = ctx;
	const struct sw_secret *s = sw_secretset__find_id(c->set, sid);
	char id[2 * SW_SECRET_ID_BYTES + 1];
	int i;

	for (i = 0; i < SW_SECRET_ID_BYTES; i++)
		snprintf(id + 2 * i, 3, "%02x", sid[i]);
	fprintf(c->b, "%s{\"secret\":{\"id\":\"%s\",\"name\":", c->first ? "" : ",", id);
	json_str(c->b, s ? s->name : "");
	fprintf(c->b, "},\"place\":");
	json_str(c->b, key);
	fprintf(c->b, ",\"count\":%llu,\"first_seen_us\":%lld,\"last_seen_us\":%lld}",
		(unsigned long long)e->count, (long long)e->first_seen, (long long)e->last_seen);
	c->first = 0;
}

/* Session processes stopped now (waiting for a look at a file, uprobes or a guard verdict). */
static void count_held(uint32_t tgid, const struct sw_hold *h, void *ctx)
{
	(void)tgid;
	(void)h;
	++*(int *)ctx;
}

static void count_kept(const char *name, uint64_t dev, uint64_t ino, void *ctx)
{
	(void)name;
	(void)dev;
	(void)ino;
	++*(size_t *)ctx;
}

void control__status_json(struct daemon *d, FILE *b, uid_t uid)
{
	struct places_ctx pc = {.b = b, .set = sw_pipeline__secrets(d->pl), .first = 1};
	struct sw_pipeline_stats st;
	struct status_ctx c = {
		.b = b, .d = d, .pt = sw_pipeline__proctab(d->pl), .uid = uid, .first = 1};
	size_t kept = 0;
	int i, nclients;

	sw_pipeline__stats(d->pl, &st);
	fprintf(b,
		"{\"pid\":%d,\"uptime_s\":%lld,\"secrets\":%zu,\"registry\":%zu,"
		"\"records\":%llu,\"bad_records\":%llu,\"data_bytes\":%llu,\"matches\":%llu,"
		"\"alerts\":%llu,\"streams\":%llu,\"processes\":%zu,\"index_gen\":%llu,"
		"\"loop_stall_max_us\":%llu,\"loop_busy_max_us\":%llu,",
		getpid(), (long long)(time(NULL) - d->started), sw_pipeline__secrets(d->pl)->n,
		sw_registry__size(d->reg), (unsigned long long)st.records,
		(unsigned long long)st.bad_records, (unsigned long long)st.data_bytes,
		(unsigned long long)st.matches, (unsigned long long)st.alerts,
		(unsigned long long)st.streams, sw_proctab__count(c.pt),
		(unsigned long long)sw_pipeline__index_gen(d->pl),
		(unsigned long long)d->stall_max_us, (unsigned long long)d->busy_max_us);
	fprintf(b,
		"\"loss\":{\"ringbuf_full\":%llu,\"truncated\":%llu,\"read_errors\":%llu,"
		"\"path_truncated\":%llu,\"scope_full\":%llu,\"spilled\":%llu,"
		"\"spills_read\":%llu,\"spill_bytes\":%llu,\"spills_failed\":%llu,"
		"\"race_checked\":%llu,\"race_differed\":%llu,\"race_unread\":%llu},"
		"\"sessions\":[",
		(unsigned long long)d->loss_seen.ringbuf_full,
		(unsigned long long)d->loss_seen.truncated,
		(unsigned long long)d->loss_seen.read_errors,
		(unsigned long long)d->loss_seen.path_truncated,
		(unsigned long long)d->loss_seen.scope_full,
		(unsigned long long)d->loss_seen.spilled, (unsigned long long)d->spills_read,
		(unsigned long long)d->spill_bytes, (unsigned long long)d->spills_failed,
		(unsigned long long)d->race_checked, (unsigned long long)d->race_differed,
		(unsigned long long)d->race_unread);
	sw_proctab__each_session(c.pt, status_session, &c);
	/* The places each secret was seen, most recent first, with how often: repeat
	 * sightings do not alert, they count here. */
	fprintf(b,
		"],\"suppressed\":%llu,\"exec_args_truncated\":%llu,\"exec_env_truncated\":%llu,",
		(unsigned long long)st.suppressed, (unsigned long long)st.exec_args_truncated,
		(unsigned long long)st.exec_env_truncated);
	if (d->trace) {
		struct sw_tracelog_stats ts;

		sw_tracelog_writer__stats(d->trace, &ts);
		fprintf(b,
			"\"trace\":{\"events\":%llu,\"blocks\":%llu,\"bytes_raw\":%llu,"
			"\"bytes_compressed\":%llu,\"events_dropped\":%llu,\"errors\":%llu},",
			(unsigned long long)ts.events, (unsigned long long)ts.blocks,
			(unsigned long long)ts.bytes_raw, (unsigned long long)ts.bytes_compressed,
			(unsigned long long)ts.events_dropped, (unsigned long long)d->trace_errors);
	}
	nclients = 0;
	for (i = 0; i < CLIENTS_MAX; i++)
		nclients += d->clients[i].fd > 0;
	fprintf(b, "\"control\":{\"clients\":%d,\"refused\":%llu,\"dropped\":%llu},", nclients,
		(unsigned long long)d->ctl_refused, (unsigned long long)d->ctl_dropped);
	if (d->tls) {
		struct tlsedge_stats ts;
		int held = 0;

		if (d->k)
			sw_kernel__tls_held_each(d->k, count_held, &held);
		tlsedge__stats(d->tls, &ts);
		fprintf(b,
			"\"tls\":{\"files\":%llu,\"processes\":%llu,\"uprobes\":%llu,"
			"\"attach_failed\":%llu,\"failopen\":%llu,\"unresolved\":%llu,"
			"\"forks\":%llu,\"rescans\":%llu,\"stale\":%llu,\"stopped\":%d},",
			(unsigned long long)ts.files, (unsigned long long)ts.processes,
			(unsigned long long)ts.uprobes, (unsigned long long)ts.attach_failed,
			(unsigned long long)ts.failopen, (unsigned long long)ts.unresolved,
			(unsigned long long)ts.forks, (unsigned long long)ts.rescans,
			(unsigned long long)ts.stale, held);
	}
	sw_pipeline__kept_origins(d->pl, count_kept, &kept);
	fprintf(b, "\"origins\":{\"moved\":%llu,\"kept\":%zu},",
		(unsigned long long)d->origins_moved, kept);
	/* Secret names and the paths they reached are root's to see. */
	fprintf(b, "\"places_visible\":%s,\"places\":[", uid == 0 ? "true" : "false");
	if (uid == 0)
		sw_registry__recent(d->reg, 200, status_place, &pc);
	fprintf(b, "]}");
}
