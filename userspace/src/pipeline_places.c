// SPDX-License-Identifier: Apache-2.0
/* The pipeline's knowledge of places and processes: sessions and execs, pipe readers and the
 * decision on a held pipe alert, opens of a secret's origin, renames, channels the syscalls do
 * not show, closes and exits that call for a read-back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"

/* Pipe readers the source named, newest first. */
static struct reader *reader_find(struct sw_pipeline *p, uint64_t dev, uint64_t ino)
{
	size_t i, j;

	for (i = 0; i < READERS_MAX; i++) { /* newest first */
		j = (p->readers_next + READERS_MAX - 1 - i) % READERS_MAX;
		if (p->readers[j].ino == ino && p->readers[j].dev == dev)
			return &p->readers[j];
	}
	return NULL;
}

static struct reader *reader_new(struct sw_pipeline *p, uint64_t dev, uint64_t ino)
{
	struct reader *r = &p->readers[p->readers_next];

	p->readers_next = (p->readers_next + 1) % READERS_MAX;
	free(r->exe);
	memset(r, 0, sizeof(*r));
	r->dev = dev;
	r->ino = ino;
	return r;
}

/* A held alert leaves. A pipe alert is decided now, by its reader: asked of the source at this
 * tick (its answer is the next record), then the registry decides "first time here". */
int pl_decide(struct sw_alert *a, void *ctx)
{
	struct sw_pipeline *p = ctx;
	struct sw_artifact *art = &a->artifact;
	char key[SW_ARTIFACT_KEY_MAX];
	uint64_t now = p->tick_seq + 1; /* 0 in a reader entry means never */
	struct reader *r;

	if (art->type != SW_ART_PIPE || a->count)
		return 0;
	r = reader_find(p, art->dev, art->ino);
	if (!p->force && !(r && r->tick == now)) {
		struct sw_hdr h = {.pid = a->process.pid, .tgid = a->process.pid};
		struct sw_request *q;

		if (r && r->asked == now)
			return 1; /* the answer is on its way */
		r = reader_new(p, art->dev, art->ino);
		r->asked = now;
		q = pl_request(p, SW_REQ_READER, &h, NULL, 0);
		if (q) {
			q->dev = art->dev;
			q->ino = art->ino;
		}
		return 1;
	}
	art->reader_pid = r && r->tick && r->tgid != a->process.pid ? r->tgid : 0;
	snprintf(art->reader_exe, sizeof(art->reader_exe), "%s",
		 art->reader_pid && r->exe ? r->exe : "");
	art->dev = 0;
	art->ino = 0;
	sw_artifact__key(art, key, sizeof(key));
	a->count = sw_registry__see(p->reg, a->secret_key, key, a->time_us);
	if (a->count != 1) {
		a->kind = SW_ALERT__COUNT; /* seen here before: no alert */
		return 0;
	}
	a->first_seen = 1;
	sw_alertbuild__place(a, p->rules, &p->policy);
	return 0;
}

/* A session opened a secret's origin: the agent read the secret (exposure), once per secret
 * and session. */
void pl_on_open(struct sw_pipeline *p, const struct sw_event *ev)
{
	uint64_t dev = sw_naming__user_dev(ev->open->dev), t = rec_time(p, ev->hdr->ktime);
	struct sw_alert *a = &p->alert;
	char key[96];
	size_t i;

	for (i = 0; i < p->set->n; i++) {
		const struct sw_secret *s = &p->set->secrets[i];

		if (s->origin_dev != dev || s->origin_ino != ev->open->ino)
			continue;
		snprintf(key, sizeof(key), "exposure:%llu",
			 (unsigned long long)ev->hdr->session_id);
		if (sw_registry__see(p->reg, s->id, key, t) != 1)
			continue;
		sw_alertbuild__base(a, SW_ALERT_SECRET_EXPOSURE, t, p->host, &p->policy);
		pl_proc_of(p, ev->hdr);
		pl_process_of(p, a, ev->hdr);
		sw_alertbuild__session(a, p->pt, ev->hdr->session_id);
		sw_alertbuild__secret(a, s);
		snprintf(a->variant, sizeof(a->variant), "raw");
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		a->artifact.dev = dev;
		a->artifact.ino = ev->open->ino;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)ev->path_len,
			 ev->path);
		a->has_origin = 1;
		snprintf(a->origin_path, sizeof(a->origin_path), "%s", s->origin);
		a->first_seen = 1;
		a->count = 1;
		snprintf(a->message, sizeof(a->message),
			 "an agent session opened the file this secret was imported from");
		sw_delivery__emit(p->dl, a);
	}
}

/* A file (dev in stat's encoding, ino) now has this name: held alerts and the stream's display
 * path follow (the source tells, SW_EV_RENAMED, after a rename or link it checked). */
void pl_on_renamed(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct sw_stream_id sid = {.kind = SW_AK_FILE};
	struct sw_stream_ent *se;
	char path[SW_PATH_LEN + 1];

	snprintf(path, sizeof(path), "%.*s", (int)ev->path_len, ev->path);
	sw_delivery__rename(p->dl, ev->renamed->dev, ev->renamed->ino, path);
	sid.a = sw_naming__kernel_dev(ev->renamed->dev);
	sid.b = ev->renamed->ino;
	se = sw_streams__find(p->streams, &sid);
	if (se)
		sw_stream_ent__set_path(se, path, strlen(path));
}

static const char *channel_name(uint32_t c)
{
	switch (c) {
	case SW_CH_IO_URING:
		return "io_uring";
	case SW_CH_MMAP_SHARED:
		return "mmap_shared";
	case SW_CH_PROCESS_VM_WRITEV:
		return "process_vm_writev";
	default:
		return "unknown";
	}
}

/* A channel the syscall hooks cannot see into: say so (once per session, channel and file),
 * and read the file back at its close and its writer's exit. */
void pl_on_channel(struct sw_pipeline *p, const struct sw_event *ev)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	const struct sw_channel_rec *c = ev->channel;
	uint64_t t = rec_time(p, ev->hdr->ktime);
	struct sw_alert *a = &p->alert;
	char key[SW_PATH_LEN + 128];

	snprintf(key, sizeof(key), "channel:%s:%llu:%llu:%llu:%u", channel_name(c->channel),
		 (unsigned long long)ev->hdr->session_id, (unsigned long long)c->dev,
		 (unsigned long long)c->ino, c->gen);
	if (c->ino && ev->path_len) {
		char path[SW_PATH_LEN + 1];

		snprintf(path, sizeof(path), "%.*s", (int)ev->path_len, ev->path);
		pl_rescan_add(p, ev->hdr, sw_naming__user_dev(c->dev), c->ino, c->gen, path);
		/* io_uring names the session's writable files one by one (open before and after
		 * its setup): read back, not alerted each; the setup itself alerted. */
		if (c->channel == SW_CH_IO_URING)
			return;
	}
	if (sw_registry__see(p->reg, no_secret, key, t) != 1)
		return;
	sw_alertbuild__base(a, SW_ALERT_UNMONITORED_CHANNEL, t, p->host, &p->policy);
	pl_proc_of(p, ev->hdr);
	pl_process_of(p, a, ev->hdr);
	sw_alertbuild__session(a, p->pt, ev->hdr->session_id);
	snprintf(a->channel, sizeof(a->channel), "%s", channel_name(c->channel));
	if (c->ino) {
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		a->artifact.dev = sw_naming__user_dev(c->dev);
		a->artifact.ino = c->ino;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)ev->path_len,
			 ev->path);
	}
	a->first_seen = 1;
	a->count = 1;
	snprintf(a->message, sizeof(a->message),
		 "%s bypasses the syscalls sprawlwatch sees; files it touched are read back when "
		 "the process exits",
		 a->channel);
	sw_delivery__emit(p->dl, a);
}

/* A session process closed a file of the read-back set after writing it: read it back now (and
 * again at its writer's exit: a mapping may outlive the descriptor). */
void pl_on_closed(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, ev->hdr->tgid);
	struct sw_hdr h;
	void *c[2] = {p, &h};

	if (!pr || !pr->session_id)
		return; /* only a session process's close says anything of its writes */
	h = *ev->hdr;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	sw_rescan__peek_file(p->rescan, ev->closed->dev, ev->closed->ino, pl_readback_file, c);
}

/* The process is gone: read back what it may have written where write() did not show it. */
void pl_on_exit_rec(struct sw_pipeline *p, const struct sw_event *ev)
{
	void *c[2] = {p, (void *)ev->hdr};

	const struct sw_proc *pr = sw_proctab__find(p->pt, ev->hdr->tgid);
	uint64_t sid = pr ? pr->session_id : 0;
	const struct sw_session *s;

	sw_rescan__take(p->rescan, ev->hdr->tgid, pl_readback_file, c);
	sw_proctab__exit(p->pt, ev->hdr->tgid);
	/* The session's last process: its summary once its held alerts have left. */
	s = sid ? sw_proctab__find_session(p->pt, sid) : NULL;
	if (s && s->ended)
		sw_summary__end(p->sum, sid, rec_time(p, ev->hdr->ktime));
}

/* ---- sessions and processes ---- */

/* The agent rule an exec matches, or NULL. */
static const char *agent_label(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const char *argv[64], *s = ev->args, *end = ev->args + ev->args_len, *label = NULL;
	char exe[SW_PATH_LEN + 1];
	int argc = 0;

	while (s < end && argc < 64) {
		argv[argc++] = s;
		s += strnlen(s, end - s) + 1;
	}
	if (ev->args_len && ev->args[ev->args_len - 1] != 0)
		return NULL; /* cut argv: the last string has no end */
	snprintf(exe, sizeof(exe), "%.*s", (int)ev->filename_len, ev->filename);
	return sw_rules__agent_match(p->rules, exe, comm, argv, argc, &label) == 1 ? label : NULL;
}

struct sw_session *pl_session(struct sw_pipeline *p, uint64_t id, uint32_t root, uint64_t t)
{
	struct sw_session *s = sw_proctab__session(p->pt, id, root);

	if (s && !s->started_us)
		s->started_us = t;
	return s;
}

int pl_on_exec(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const struct sw_hdr *h = ev->hdr;
	uint32_t elem[MATCHES_MAX];
	const char *label;
	struct hits *hs;
	int e;

	if (h->flags & SW_F_CANDIDATE) {
		/* An interpreter outside any session: when its script is an agent's, ask for it
		 * to be adopted; the answer (a session record) makes it a session root. */
		label = agent_label(p, ev, comm);
		if (!label)
			return 0;
		e = sw_proctab__exec(p->pt, h->tgid, h->ppid, h->uid, 0, comm, ev->filename,
				     ev->filename_len, ev->args, ev->args_len);
		struct sw_request *r = pl_request(p, SW_REQ_ADOPT, h, NULL, 0);
		if (r)
			snprintf(r->label, sizeof(r->label), "%s", label);
		return e;
	}
	if (h->flags & SW_F_NEW_SESSION) {
		/* The kernel started a session for an agent binary: give it the rule's label. */
		struct sw_session *s = pl_session(p, h->session_id, h->tgid, rec_time(p, h->ktime));

		label = agent_label(p, ev, comm);
		if (s && label)
			snprintf(s->agent, sizeof(s->agent), "%s", label);
	}
	hs = &p->hits;
	hs->p = p;
	hs->n = 0;
	hs->redact = 0;
	pl_exec_scan(p, ev, 0, hs, elem);
	pl_exec_scan(p, ev, 1, hs, elem);
	e = pl_exec_proc(p, ev, comm);
	pl_exec_spread(p, ev, hs, elem);
	return e;
}

/* A session the daemon started or adopted (id 0: an adoption that failed). */
int pl_on_session(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_hdr *h = ev->hdr;
	const struct sw_proc *pr = sw_proctab__find(p->pt, h->tgid);
	struct sw_session *s;

	if (!h->session_id) {
		if (pr && !pr->session_id)
			sw_proctab__exit(p->pt, h->tgid);
		return 0;
	}
	s = pl_session(p, h->session_id, h->tgid, rec_time(p, h->ktime));
	if (!s)
		return -ENOMEM;
	if (ev->session->agent[0])
		snprintf(s->agent, sizeof(s->agent), "%.*s", (int)sizeof(ev->session->agent) - 1,
			 ev->session->agent);
	/* An adopted interpreter: it joins the session it now roots. */
	if (pr && !pr->session_id)
		return sw_proctab__exec(p->pt, pr->tgid, pr->ppid, pr->uid, h->session_id, pr->comm,
					pr->exe, strlen(pr->exe), pr->args, pr->args_len);
	return 0;
}

/* The source's answer to a reader request; held pipe alerts can now leave. */
void pl_on_reader(struct sw_pipeline *p, const struct sw_event *ev)
{
	uint64_t now = p->tick_seq + 1;
	struct reader *r = reader_find(p, ev->reader->dev, ev->reader->ino);
	const char *known;

	if (!r || r->asked != now)
		r = reader_new(p, ev->reader->dev, ev->reader->ino);
	r->tick = now;
	r->tgid = ev->hdr->tgid;
	/* The process table knows a reader that exited; else what the source found. */
	known = r->tgid ? sw_proctab__exe(p->pt, r->tgid) : NULL;
	r->exe = known && known[0] ? strdup(known) : strndup(ev->path, ev->path_len);
	sw_delivery__release(p->dl, p->now_us, 0, pl_decide, p);
}
