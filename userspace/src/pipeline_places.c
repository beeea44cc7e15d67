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

static int origin_now(const struct sw_pipeline *p, const struct sw_alert *a)
{
	const struct sw_secret *s = sw_secretset__find_id(p->set, a->secret_key);

	return s && sw_origins__holds(p->origins, s, a->artifact.dev, a->artifact.ino);
}

/* A held alert leaves. A pipe alert is decided now, by its reader: asked of the source at this
 * tick (its answer is the next record), then the registry decides "first time here". */
static int decide(struct sw_alert *a, void *ctx)
{
	struct sw_pipeline *p = ctx;
	struct sw_artifact *art = &a->artifact;
	char key[SW_ARTIFACT_KEY_MAX];
	uint64_t now = p->tick_seq + 1; /* 0 in a reader entry means never */
	int tty = art->type == SW_ART_TTY;
	struct reader *r;

	/* A file that became the secret's own origin while its alert waited (a temporary file
	 * renamed over the origin: sed -i, an editor's save) is no spread. */
	if (art->type == SW_ART_FILE && a->kind == SW_ALERT_SECRET_SPREAD && a->has_secret &&
	    origin_now(p, a)) {
		a->kind = SW_ALERT__COUNT;
		return 0;
	}
	/* A git object: the commit and ref that hold it, if they were written meanwhile. */
	pl_git_fill(p, art);
	/* A pipe waits undecided (count 0); a terminal is decided, only its reader is asked. */
	if (!((art->type == SW_ART_PIPE && !a->count) || (tty && art->dev)))
		return 0;
	r = reader_find(p, art->dev, art->ino);
	if (!p->force && !(r && r->tick == now)) {
		struct sw_hdr h = {.pid = a->process.pid, .tgid = a->process.pid};
		struct sw_request *q;

		if (r && r->asked == now)
			return 1; /* the answer is on its way */
		r = reader_new(p, art->dev, art->ino);
		r->asked = now;
		q = pl_request(p, SW_REQ_READER, &h, tty ? art->path : NULL,
			       tty ? strlen(art->path) : 0);
		if (q) {
			q->dev = art->dev;
			q->ino = art->ino;
			if (tty)
				q->ncand = sw_proctab__agents(p->pt, a->session.id, q->cand, 16);
		}
		return 1;
	}
	art->reader_pid = r && r->tick && r->tgid != a->process.pid ? r->tgid : 0;
	art->dev = 0;
	art->ino = 0;
	if (tty) {
		sw_alertbuild__place(a, p->rules, &p->policy, p->pt);
		art->reader_pid = 0; /* not part of a terminal's artifact */
		return 0;
	}
	snprintf(art->reader_exe, sizeof(art->reader_exe), "%s",
		 art->reader_pid && r->exe ? r->exe : "");
	sw_artifact__key(art, key, sizeof(key));
	a->count = sw_registry__see(p->reg, a->secret_key, key, a->time_us);
	if (a->count != 1) {
		a->kind = SW_ALERT__COUNT; /* seen here before: no alert */
		return 0;
	}
	a->first_seen = 1;
	sw_alertbuild__place(a, p->rules, &p->policy, p->pt);
	return 0;
}

int pl_decide(struct sw_alert *a, void *ctx)
{
	int r = decide(a, ctx);

	if (!r)
		pl_tls_context(ctx, a);
	return r;
}

/* A session opened a secret's origin: the agent read the secret (exposure), once per secret
 * and session. Only where the kernel's origins map held the file then: a replay's set holds
 * secrets imported later, whose origin may have the inode of a file made before (a name made is
 * reported too). */
void pl_on_open(struct sw_pipeline *p, const struct sw_event *ev)
{
	uint64_t dev = sw_naming__user_dev(ev->open->dev), t = rec_time(p, ev->hdr->ktime);
	struct sw_alert *a = &p->alert;
	char key[96];
	size_t i;

	for (i = 0; i < p->set->n && ev->open->origin; i++) {
		const struct sw_secret *s = &p->set->secrets[i];

		if (!sw_origins__holds(p->origins, s, dev, ev->open->ino))
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
	/* A secret's origin saved by rename (or replaced): the secret lives in the new file; its
	 * file moved aside keeps it under the new name (an ino of 0: the name names none now). */
	if (sw_origins__renamed(p->origins, p->set, path, ev->renamed->dev, ev->renamed->ino) > 0)
		p->origins_moved = 1;
	if (!ev->renamed->ino)
		return;
	sw_delivery__rename(p->dl, ev->renamed->dev, ev->renamed->ino, path);
	sid.a = sw_naming__kernel_dev(ev->renamed->dev);
	sid.b = ev->renamed->ino;
	se = sw_streams__find(p->streams, &sid);
	if (se) /* the name read-backs open: as the kernel gave it */
		sw_stream_ent__set_path(se, ev->path_raw, ev->path_raw_len);
}

static const char *channel_name(uint32_t c)
{
	switch (c) {
	case SW_CH_IO_URING:
		return "io_uring";
	case SW_CH_MMAP_SHARED:
		return "mmap_shared";
	case SW_CH_FALLOC_SHIFT:
		return "fallocate_shift";
	case SW_CH_PROCESS_VM_WRITEV:
		return "process_vm_writev";
	case SW_CH_IO_SUBMIT:
		return "io_submit";
	case SW_CH_MQ_TIMEDSEND:
		return "mq_timedsend";
	case SW_CH_MSGSND:
		return "msgsnd";
	case SW_CH_SHMAT:
		return "shmat";
	case SW_CH_PTRACE_POKE:
		return "ptrace_poke";
	case SW_CH_KEYRING:
		return "keyring";
	case SW_CH_XATTR:
		return "setxattr";
	case SW_CH_COMPAT:
		return "ia32_syscall";
	case SW_CH_CORE_DUMP:
		return "core_dump";
	case SW_CH_TIOCSTI:
		return "tiocsti";
	case SW_CH_SIGQUEUE:
		return "sigqueue";
	case SW_CH_UTS:
		return "uts";
	case SW_CH_BPF_MAP:
		return "bpf_map";
	case SW_CH_UFFD_COPY:
		return "userfaultfd";
	case SW_CH_TLS:
		return "tls";
	default:
		return "unknown";
	}
}

void pl_channel_alert(struct sw_pipeline *p, const struct sw_hdr *h, uint32_t channel, uint64_t dev,
		      uint64_t ino, uint32_t gen, const char *path, size_t len, int failed)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	uint64_t t = rec_time(p, h->ktime);
	struct sw_alert *a = &p->alert;
	char key[SW_PATH_LEN + 128];

	snprintf(key, sizeof(key), "channel:%s:%llu:%llu:%llu:%u", channel_name(channel),
		 (unsigned long long)h->session_id, (unsigned long long)sw_naming__kernel_dev(dev),
		 (unsigned long long)ino, gen);
	if (sw_registry__see(p->reg, no_secret, key, t) != 1)
		return;
	sw_alertbuild__base(a, SW_ALERT_UNMONITORED_CHANNEL, t, p->host, &p->policy);
	pl_process_of(p, a, h);
	sw_alertbuild__session(a, p->pt, h->session_id);
	snprintf(a->channel, sizeof(a->channel), "%s", channel_name(channel));
	if (ino) {
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		a->artifact.dev = dev;
		a->artifact.ino = ino;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)len, path);
		/* a covered file's name as the kernel gave it (its read-back opened it) */
		pl_fill_secrets(p, a->artifact.path, strlen(a->artifact.path));
	}
	a->first_seen = 1;
	a->count = 1;
	if (failed == -ENOENT)
		snprintf(a->message, sizeof(a->message),
			 "%s bypasses the syscalls sprawlwatch sees, and the file was gone before "
			 "it could be read back",
			 a->channel);
	else if (failed < 0)
		snprintf(a->message, sizeof(a->message),
			 "%s bypasses the syscalls sprawlwatch sees, and reading the file back "
			 "failed",
			 a->channel);
	else if (channel == SW_CH_CORE_DUMP)
		snprintf(a->message, sizeof(a->message),
			 "the kernel wrote a core dump of the process (its memory, secrets "
			 "included); sprawlwatch does not read core dumps back");
	else if (!ino && channel != SW_CH_IO_URING && channel != SW_CH_MMAP_SHARED &&
		 channel != SW_CH_FALLOC_SHIFT)
		snprintf(a->message, sizeof(a->message),
			 "%s moves bytes where sprawlwatch does not capture them; what it carried "
			 "was not scanned",
			 a->channel);
	else
		snprintf(
			a->message, sizeof(a->message),
			"%s bypasses the syscalls sprawlwatch sees; files it touched are read back "
			"when the process exits",
			a->channel);
	sw_delivery__emit(p->dl, a);
}

/* A channel the syscall hooks cannot see into. A shared mapping of a file, or a file whose
 * bytes fallocate shifted, is covered by reading the file back at its close and exit:
 * reported only if that fails (covered.h).
 * Anything else is reported now (once per session, channel and file); its files are read
 * back too. */
void pl_on_channel(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_channel_rec *c = ev->channel;
	uint64_t dev = sw_naming__user_dev(c->dev);

	pl_proc_of(p, ev->hdr);
	if (c->channel == SW_CH_TLS) {
		pl_tls_blind(p, ev);
		return;
	}
	if (c->ino && ev->path_len) {
		char path[SW_PATH_LEN + 1];

		snprintf(path, sizeof(path), "%.*s", (int)ev->path_raw_len, ev->path_raw);
		pl_rescan_add(p, ev->hdr, dev, c->ino, c->gen, path);
		if ((c->channel == SW_CH_MMAP_SHARED || c->channel == SW_CH_FALLOC_SHIFT) &&
		    !sw_covered__add(p->covered, ev->hdr->session_id, ev->hdr->tgid, c->channel,
				     dev, c->ino, c->gen, path))
			return;
		/* io_uring names the session's writable files one by one (open before and after
		 * its setup): read back, not alerted each; the setup itself alerted. */
		if (c->channel == SW_CH_IO_URING)
			return;
	}
	pl_channel_alert(p, ev->hdr, c->channel, dev, c->ino, c->gen, ev->path, ev->path_len, 0);
}

/* A mapping's last reference goes after its process's exit record (exit_mm and exit_files
 * follow sched_process_exit): a file the process unlinked while it held it (SQLite's -shm) is
 * gone by name at the exit's read-back, yet its close still hands the file over. A covered
 * channel waits this many ticks for that close before it is reported. */
#define RETRY_WAIT_TICKS 4

static void retry_drop(struct sw_pipeline *p, size_t i)
{
	free(p->retry[i].path);
	p->retry[i] = p->retry[--p->nretry];
}

static void retry_report(struct sw_pipeline *p, size_t i, int result)
{
	struct retry *r = &p->retry[i];

	pl_channel_alert(p, &r->hdr, r->channel, r->dev, r->ino, r->gen, r->path, strlen(r->path),
			 result);
	retry_drop(p, i);
}

/* A whole-file read-back ended. A covered channel learns how its file's read-back went (and
 * that it is final when the closer let go of the file); a last-chance read-back at its
 * process's exit that failed is the channel reported — when the file was gone, only once its
 * close did not bring it back in time. */
void pl_readback_done(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	uint16_t fl = ev->hdr->flags;
	uint64_t dev = sw_naming__user_dev(d->dev);
	int result = !(fl & SW_F_READ_ERR) ? 0 : (fl & SW_F_GONE) ? -ENOENT : -EIO;
	size_t i;

	sw_covered__result(p->covered, dev, d->ino, d->gen, result);
	if (!result && (fl & SW_F_SETTLED))
		sw_covered__settle(p->covered, ev->hdr->tgid, dev, d->ino);
	for (i = 0; i < p->nretry; i++) {
		struct retry *r = &p->retry[i];

		if (r->dev != dev || r->ino != d->ino || (r->tgid != ev->hdr->tgid && !r->wait))
			continue;
		if (result == -ENOENT) {
			if (!r->wait)
				r->wait = RETRY_WAIT_TICKS;
			continue;
		}
		if (result)
			retry_report(p, i--, result);
		else
			retry_drop(p, i--);
	}
}

/* A tick: covered channels whose file was gone and whose close did not come are reported. */
void pl_retry_tick(struct sw_pipeline *p)
{
	size_t i;

	for (i = 0; i < p->nretry; i++)
		if (p->retry[i].wait && !--p->retry[i].wait)
			retry_report(p, i--, -ENOENT);
}

/* The end: whatever still waits for its file's close is reported. */
void pl_retry_flush(struct sw_pipeline *p)
{
	size_t i;

	for (i = 0; i < p->nretry; i++)
		if (p->retry[i].wait)
			retry_report(p, i--, -ENOENT);
}

/* A file closed after its process's exit record: a covered channel waiting for it is read back
 * through the file the close hands over — also one whose read-back by name is not done yet (the
 * close may come before that finds the file gone). */
static void retry_at_close(struct sw_pipeline *p, const struct sw_event *ev)
{
	size_t first = p->nreq, i;

	for (i = 0; i < p->nretry; i++) {
		struct retry *r = &p->retry[i];
		void *c[2] = {p, &r->hdr};

		if (r->dev == ev->closed->dev && r->ino == ev->closed->ino)
			pl_readback_file(r->dev, r->ino, r->gen, r->path, c);
	}
	for (i = first; i < p->nreq; i++)
		p->req[i].settle = 1;
}

/* A session process closed a file of the read-back set after writing it: read it back now (and
 * again at its writer's exit: a mapping may outlive the descriptor). The read-back says too
 * whether the closer let go of the file (settles a covered mapping). */
void pl_on_closed(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, ev->hdr->tgid);
	size_t first = p->nreq, i;
	struct sw_hdr h;
	void *c[2] = {p, &h};

	if (!pr || !pr->session_id) {
		retry_at_close(p,
			       ev); /* only a session process's close says anything of its writes */
		return;
	}
	h = *ev->hdr;
	h.ppid = pr->ppid;
	h.uid = pr->uid;
	h.session_id = pr->session_id;
	memcpy(h.comm, pr->comm, sizeof(h.comm));
	sw_rescan__peek_file(p->rescan, ev->closed->dev, ev->closed->ino, pl_readback_file, c);
	for (i = first; i < p->nreq; i++)
		p->req[i].settle = 1;
}

/* A covered channel whose file was not read back whole (or not yet) when its process exited:
 * one more read-back, and if that fails too, the channel is reported. */
static void covered_retry(const struct sw_covered_ent *e, void *ctx)
{
	void **c = ctx;
	struct sw_pipeline *p = c[0];
	struct retry *r;

	if (p->nretry >= sizeof(p->retry) / sizeof(p->retry[0])) {
		pl_channel_alert(p, c[1], e->channel, e->dev, e->ino, e->gen, e->path,
				 strlen(e->path), 0);
		return;
	}
	r = &p->retry[p->nretry];
	r->path = strdup(e->path);
	if (!r->path)
		return;
	r->session = e->session;
	r->tgid = e->tgid;
	r->channel = e->channel;
	r->dev = e->dev;
	r->ino = e->ino;
	r->gen = e->gen;
	r->hdr = *(const struct sw_hdr *)c[1];
	p->nretry++;
	pl_readback_file(e->dev, e->ino, e->gen, e->path, c);
}

/* Its files read back (and covered channels settled) when a process goes. */
void pl_release_files(struct sw_pipeline *p, const struct sw_hdr *h)
{
	void *c[2] = {p, (void *)h};

	sw_rescan__take(p->rescan, h->tgid, pl_readback_file, c);
	sw_covered__take(p->covered, h->tgid, covered_retry, c);
}

/* The process is gone: read back what it may have written where write() did not show it. */
void pl_on_exit_rec(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, ev->hdr->tgid);
	uint64_t sid = pr ? pr->session_id : 0;
	const struct sw_session *s;

	/* Killed by a signal that dumped core (the 0x80 of the wait status): the kernel wrote the
	 * process's memory somewhere (a core file, a core_pattern pipe) without a syscall. */
	if (sid && (ev->exit->exit_code & 0x80))
		pl_channel_alert(p, ev->hdr, SW_CH_CORE_DUMP, 0, 0, 0, NULL, 0, 0);
	pl_release_files(p, ev->hdr);
	sw_proctab__exit(p->pt, ev->hdr->tgid);
	/* The session's last process: its summary once its held alerts have left. */
	s = sid ? sw_proctab__find_session(p->pt, sid) : NULL;
	if (s && s->ended)
		sw_summary__end(p->sum, sid, rec_time(p, ev->hdr->ktime));
}

/* ---- sessions and processes ---- */

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
		const char *home;
		struct sw_request *r;
		size_t len;

		label = sw_agentproc__label(p->rules, ev, comm);
		if (!label)
			return 0;
		e = sw_proctab__exec(p->pt, h->tgid, h->ppid, h->uid, 0, comm, ev->filename,
				     ev->filename_len, ev->args, ev->args_len);
		home = sw_agentproc__home(ev, &len);
		p->cand_tgid = h->tgid;
		snprintf(p->cand_home, sizeof(p->cand_home), "%.*s", home ? (int)len : 0,
			 home ? home : "");
		r = pl_request(p, SW_REQ_ADOPT, h, NULL, 0);
		if (r)
			snprintf(r->label, sizeof(r->label), "%s", label);
		return e;
	}
	if (h->session_id)
		pl_session(p, h->session_id, h->tgid, rec_time(p, h->ktime));
	hs = &p->hits;
	hs->p = p;
	hs->n = 0;
	hs->redact = 0;
	pl_exec_scan(p, ev, 0, hs, elem);
	pl_exec_scan(p, ev, 1, hs, elem);
	e = pl_exec_proc(p, ev, comm);
	/* Agent processes, the session's home and label (a new session's too): agentproc.h. */
	sw_agentproc__exec(p->pt, p->rules, ev, comm, h->session_id);
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
	if (ev->session->agent[0]) {
		snprintf(s->agent, sizeof(s->agent), "%.*s", (int)sizeof(ev->session->agent) - 1,
			 ev->session->agent);
		s->provisional = 0;
	}
	/* An adopted interpreter: it joins the session it now roots, an agent with its home. */
	if (pr && !pr->session_id) {
		int e = sw_proctab__exec(p->pt, pr->tgid, pr->ppid, pr->uid, h->session_id,
					 pr->comm, pr->exe, strlen(pr->exe), pr->args,
					 pr->args_len);

		sw_proctab__mark_agent(p->pt, h->tgid);
		if (p->cand_tgid == h->tgid && p->cand_home[0])
			sw_proctab__set_home(p->pt, h->session_id, p->cand_home,
					     strlen(p->cand_home));
		p->cand_tgid = 0;
		return e;
	}
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
	pl_tls_infer_due(p);
}

void pl_boot_note(struct sw_pipeline *p, uint64_t session_id)
{
	size_t i;

	for (i = 0; i < p->boot.n; i++)
		if (p->boot.id[i] == session_id)
			return;
	if (p->boot.n < sizeof(p->boot.id) / sizeof(p->boot.id[0]))
		p->boot.id[p->boot.n++] = session_id;
	else
		p->boot.more++;
}

/* No daemon ran from down_since_ns to this record: the programs went on capturing and the
 * ring's records were fed before this one. What was lost meanwhile, and the sessions that
 * lived then, in one coverage_gap; nothing when neither. */
void pl_on_down(struct sw_pipeline *p, const struct sw_event *ev)
{
	static const char *const what[] = {"ringbuf_full",   "truncated",  "read_error",
					   "path_truncated", "scope_full", "copy_unread"};
	const struct sw_loss_rec *r = ev->loss;
	const struct sw_loss *l = &r->loss;
	const uint64_t n[] = {l->ringbuf_full,	 l->truncated,	l->read_errors,
			      l->path_truncated, l->scope_full, l->copies_unread};
	uint64_t now = rec_time(p, ev->hdr->ktime), since = r->down_since_ns / 1000;
	char from[SW_ALERT_TIME_LEN], to[SW_ALERT_TIME_LEN], ids[160] = "";
	struct sw_alert *a = &p->alert;
	size_t i, len = 0, nsess = p->boot.n + p->boot.more;
	uint64_t lost = r->dropped_bytes;

	p->boot.open = 0;
	for (i = 0; i < 6; i++)
		lost += n[i];
	if (!lost && !nsess)
		return;
	sw_alertbuild__base(a, SW_ALERT_COVERAGE_GAP, now, p->host, &p->policy);
	for (i = 0; i < 6 && a->ngaps < 6; i++) {
		if (!n[i])
			continue;
		snprintf(a->gaps[a->ngaps].what, sizeof(a->gaps[0].what), "%s", what[i]);
		a->gaps[a->ngaps++].count = n[i];
	}
	if (r->dropped_bytes) {
		snprintf(a->gaps[a->ngaps].what, sizeof(a->gaps[0].what), "ring_bytes_dropped");
		a->gaps[a->ngaps++].count = r->dropped_bytes;
	}
	snprintf(a->gaps[a->ngaps].what, sizeof(a->gaps[0].what), "no_daemon_ms");
	a->gaps[a->ngaps++].count = since && now > since ? (now - since) / 1000 : 0;
	for (i = 0; i < p->boot.n && len < sizeof(ids) - 24; i++)
		len += snprintf(ids + len, sizeof(ids) - len, "%s%llu", i ? ", " : "",
				(unsigned long long)p->boot.id[i]);
	if (p->boot.n == 1)
		sw_alertbuild__session(a, p->pt, p->boot.id[0]);
	a->count = nsess;
	sw_alert__format_time(since, from);
	sw_alert__format_time(now, to);
	snprintf(a->message, sizeof(a->message),
		 "no daemon ran from %s to %s; the programs went on capturing and the ring was "
		 "read at start (%llu bytes); %zu session(s) lived then%s%s%s; %llu record(s) "
		 "lost%s",
		 since ? from : "an unknown time", to, (unsigned long long)r->drained_bytes, nsess,
		 nsess ? ": " : "", ids, p->boot.more ? " and more" : "",
		 (unsigned long long)(lost - r->dropped_bytes),
		 r->dropped_bytes ? "; a ring of another record format was thrown away unread, "
				    "its sessions unknown"
				  : "");
	sw_delivery__emit(p->dl, a);
}
