// SPDX-License-Identifier: Apache-2.0
/* The pipeline's matching: a record's bytes (data, argv, environment) through the detectors and
 * the matcher, and each match that is a first sighting in its place into an alert. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"
#include "tlshello.h"

/* ---- matching ---- */

static int collect(const struct sw_match *m, void *ctx)
{
	struct hits *h = ctx;
	struct sw_pipeline *p = h->p;

	if (h->n >= MATCHES_MAX) {
		p->gaps[GAP_MATCHES]++;
		return 0;
	}
	h->learned[h->n] = m->secret >= h->first_new;
	h->m[h->n++] = *m;
	if (h->redact)
		sw_redact__match(&p->red, m, p->set->secrets[m->secret].id,
				 m->variant | (h->learned[h->n - 1] ? SW_REDACT_DISCOVERED : 0));
	return 0;
}

/* Replay: a match the live run recorded joins the matcher's. */
static void recorded(const uint8_t *id, const struct sw_match *m, int discovered, void *ctx)
{
	struct hits *h = ctx;
	const struct sw_secret *s = sw_secretset__find_id(h->p->set, id);

	if (!s) {
		h->p->st.replay_unknown++;
		return;
	}
	if (h->n >= MATCHES_MAX)
		return;
	h->m[h->n] = *m;
	h->m[h->n].secret = s - h->p->set->secrets;
	h->learned[h->n++] = discovered;
}

/* Learns what the detectors find in data (the new secrets join the matcher first, so where
 * they were found is their first sighting), then matches data at stream offset start of
 * stream st, keeping the spans out of the trace. ds: the detectors' stream (NULL: data on its
 * own). base: data's offset in the record. whole: nothing continues these bytes (an argv
 * string), so no tail of them is unsettled. */
static void found(void *ctx, size_t secret, uint64_t pos, size_t len)
{
	struct sw_pipeline *p = ctx;

	if (p->nfound < PL_FOUND_MAX)
		p->found[p->nfound++] = (struct pl_found){(uint32_t)secret, (uint32_t)len, pos};
}

/* The detectors' hits of learned secrets the index does not hold yet, as raw matches at
 * stream offset start. */
static void unindexed_hits(struct sw_pipeline *p, struct hits *h, uint64_t start)
{
	struct sw_match m = {.variant = SW_VAR_RAW};
	size_t i, j;

	for (i = 0; i < p->nfound; i++)
		for (j = 0; j < p->nunindexed; j++)
			if (p->unindexed[j] == p->found[i].secret) {
				m.secret = p->found[i].secret;
				m.len = p->found[i].len;
				m.offset = start + p->found[i].pos;
				collect(&m, h);
				break;
			}
	p->nfound = 0;
}

void pl_scan(struct sw_pipeline *p, struct hits *h, struct sw_stream *st,
	     struct sw_detect_stream *ds, const void *data, size_t len, size_t base, int whole,
	     int learn)
{
	uint64_t start = sw_stream__offset(st);

	h->first_new = p->set->n;
	p->learn.known = p->m;
	p->learn.found = found;
	p->learn.found_ctx = p;
	p->nfound = 0;
	if (learn && !p->recorded_finds &&
	    sw_learn__scan(&p->learn, p->rules, p->set, ds, data, len, p->rec_us / 1000000)) {
		if (!pl_index_add(p, h->first_new))
			p->learned_dirty = 1;
		else
			h->first_new = p->set->n;
	}
	sw_redact__scope(&p->red, base, start, len);
	h->redact = 1;
	sw_matcher__scan(p->m, st, data, len, collect, h);
	if (p->nunindexed)
		unindexed_hits(p, h, start);
	h->redact = 0;
	/* The tail that may begin a secret the next write completes. */
	if (!whole)
		sw_redact__unsettled(&p->red, sw_stream__unsettled(st, p->m));
	sw_redact__recorded(&p->red, p->recorded, p->nrecorded, recorded, h);
}

/* ---- alerts ---- */

/* A secret's own origin, and the places the policy allows it, are not spread. */
static int known_place(const struct sw_pipeline *p, const struct sw_secret *s,
		       const struct sw_artifact *art)
{
	if (art->type != SW_ART_FILE)
		return 0;
	if (sw_origins__holds(p->origins, s, art->dev, art->ino))
		return 1;
	return art->path[0] && sw_rules__allowlisted(p->rules, s->name, art->path);
}

const struct sw_proc *pl_proc_of(struct sw_pipeline *p, const struct sw_hdr *h)
{
	return sw_proctab__get(p->pt, h->tgid, h->ppid, h->uid, h->session_id, h->comm);
}

void pl_process_of(struct sw_pipeline *p, struct sw_alert *a, const struct sw_hdr *h)
{
	const struct sw_proc *pr = sw_proctab__find(p->pt, h->tgid);
	const char *exe;

	sw_alertbuild__process(a, h, pr, p->m);
	/* Exited already (a read-back at its exit): the table remembers its exe a while. */
	if (!pr && (exe = sw_proctab__exe(p->pt, h->tgid)))
		snprintf(a->process.exe, sizeof(a->process.exe), "%s", exe);
}

/* Each match a first sighting in its place becomes an alert. A pipe's place is its reader,
 * known for sure only once it has read: key NULL, decided as the alert leaves delivery. */
void pl_spread(struct sw_pipeline *p, const struct hits *h, const struct sw_hdr *hdr,
	       const struct sw_artifact *art, const char *key)
{
	struct sw_alert *a = &p->alert;
	uint64_t t = rec_time(p, hdr->ktime);
	const struct sw_secret *s;
	int64_t count;
	size_t i;

	/* Names the daemon keeps (the place's key, the alert's artifact) hold no secret. */
	art = pl_fill_artifact(p, art, &key);
	for (i = 0; i < h->n; i++) {
		s = &p->set->secrets[h->m[i].secret];
		p->st.matches++;
		/* The agent's own credential (a detector's find in the file where it keeps it, or a
		 * value it handed its tools) is not news; a registered secret there still is. */
		if (known_place(p, s, art) ||
		    (h->learned[i] && art->type == SW_ART_FILE &&
		     sw_rules__credentials(p->rules, art->path,
					   sw_proctab__home(p->pt, hdr->session_id), NULL)) ||
		    (s->learned && sw_agentcred__has(p->cred, s->id)))
			continue;
		count = key ? sw_registry__see(p->reg, s->id, key, t) : 0;
		if (key && count != 1)
			continue;
		sw_alertbuild__base(
			a, h->learned[i] ? SW_ALERT_SECRET_DISCOVERED : SW_ALERT_SECRET_SPREAD, t,
			p->host, &p->policy);
		if (h->learned[i])
			snprintf(a->message, sizeof(a->message),
				 "detector %s found a secret nobody registered; it is tracked as "
				 "%s from now on",
				 s->detector, s->name);
		else if (p->in_name)
			snprintf(a->message, sizeof(a->message),
				 "the secret is in a name the process gave (a path or a symlink's "
				 "target): anyone who can list the directory reads it");
		sw_alertbuild__secret(a, s);
		snprintf(a->variant, sizeof(a->variant), "%s", sw_variant__name(h->m[i].variant));
		a->has_artifact = 1;
		a->artifact = *art;
		pl_process_of(p, a, hdr);
		sw_alertbuild__session(a, p->pt, hdr->session_id);
		if (s->origin && s->origin[0]) {
			a->has_origin = 1;
			snprintf(a->origin_path, sizeof(a->origin_path), "%s", s->origin);
		}
		a->count = count;
		a->first_seen = count == 1;
		sw_alertbuild__place(a, p->rules, &p->policy, p->pt);
		if (p->action)
			snprintf(a->action, sizeof(a->action), "%s", p->action);
		sw_delivery__push(p->dl, a);
	}
}

/* ---- records ---- */

/* A copy without a user buffer (copy_file_range, sendfile, splice, tee): what the destination
 * received is the source's bytes, read back from the source file. */
static void copy_readback(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	struct sw_request *r;

	if (d->src_kind != SW_AK_FILE || !ev->src_path_len || d->src_pos < 0) {
		p->gaps[GAP_COPY]++;
		return;
	}
	r = pl_request(p, SW_REQ_READBACK, ev->hdr, ev->src_raw, ev->src_raw_len);
	if (!r)
		return;
	r->copy = *d;
	if (d->art_kind == SW_AK_FILE && d->file_pos >= 0 && ev->path_len)
		r->dst_path = strndup(ev->path_raw, ev->path_raw_len); /* NULL: no fallback */
	r->dev = sw_naming__user_dev(d->src_dev);
	r->ino = d->src_ino;
	r->offset = d->src_pos;
	r->length =
		d->total < p->policy.readback_max_bytes ? d->total : p->policy.readback_max_bytes;
	p->st.readbacks++;
	if (d->total > p->policy.readback_max_bytes)
		p->gaps[GAP_READBACK_CUT]++;
}

/* A connection a client may speak HTTP on: TLS plaintext, or a TCP socket's bytes. */
static int http_stream(const struct sw_data_rec *d)
{
	return d->art_kind == SW_AK_TLS ||
	       (d->art_kind == SW_AK_SOCKET && (d->family == AF_INET || d->family == AF_INET6) &&
		d->protocol == IPPROTO_TCP);
}

int pl_on_data(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	uint16_t fl = ev->hdr->flags;
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_stream_ent *se;
	struct sw_stream_id sid;
	struct sw_artifact *a;
	struct hits *h;
	int keep;

	p->st.data_bytes += ev->bytes_len;
	if (d->art_kind == SW_AK_GITOBJ && (fl & SW_F_READBACK)) {
		pl_git_base(p, ev); /* no place of its own: a delta's base, asked for */
		return 0;
	}
	if (d->art_kind < SW_AK_FILE || d->art_kind > SW_AK_TLS)
		return 0;
	if (d->art_kind == SW_AK_SOCKET && (fl & SW_F_FIRST) && !d->offset)
		pl_tls_hello(p, ev);
	if (d->art_kind == SW_AK_SOCKET && (fl & SW_F_FIRST))
		pl_tls_socket(p, ev);
	if (d->art_kind == SW_AK_TLS)
		pl_tls_plain(p, ev);
	sw_naming__stream_id(ev, &sid);
	if ((fl & SW_F_RESCAN) && (fl & SW_F_FIRST))
		sw_streams__drop(p->streams, &sid); /* a read-back starts from nothing */
	se = sw_streams__get(p->streams, &sid);
	if (se && d->art_kind == SW_AK_FILE && !(fl & SW_F_READBACK) && se->gen_known &&
	    se->gen != d->gen) {
		/* A file system gave a deleted file's inode number to a new file (streams are
		 * keyed by device and inode): nothing of the old stream carries over, what it
		 * decided (inflate or not) included. */
		sw_streams__drop(p->streams, &sid);
		se = sw_streams__get(p->streams, &sid);
	}
	if (!se)
		return -ENOMEM;
	if (d->art_kind == SW_AK_FILE && !(fl & SW_F_READBACK)) {
		se->gen = d->gen;
		se->gen_known = 1;
	}
	/* Only the first chunk of a syscall names the artifact; a path the kernel cut keeps its
	 * last part, and says so. */
	if (ev->path_len && d->art_kind != SW_AK_SOCKET) {
		if (fl & SW_F_PATH_TRUNC) {
			char cut[SW_PATH_LEN + 8];
			int n = snprintf(cut, sizeof(cut), "...%.*s", (int)ev->path_raw_len,
					 ev->path_raw);

			sw_stream_ent__set_path(se, cut, n);
		} else {
			sw_stream_ent__set_path(se, ev->path_raw, ev->path_raw_len);
		}
	}
	/* A syscall's chunks come in order, the last flagged: a chunk missing (the ring was full)
	 * means what follows does not continue what came before. */
	if (!(fl & SW_F_READBACK) && !(fl & SW_F_COPY)) {
		if (((fl & SW_F_FIRST) && se->in_syscall) ||
		    (!(fl & SW_F_FIRST) && (!se->in_syscall || d->offset != se->next_chunk))) {
			/* A file write whose rest the ring had no room for (a new syscall begins
			 * mid-syscall) was spilled, to be read back, or counted lost by the kernel
			 * (ringbuf_full): not a gap of its own. */
			if (d->art_kind != SW_AK_FILE || !(fl & SW_F_FIRST))
				p->gaps[GAP_CHUNKS]++;
			sw_stream__reset(se->s);
		}
		se->in_syscall = !(fl & SW_F_LAST);
		se->next_chunk = d->offset + d->data_len;
	}
	if ((fl & SW_F_READBACK) && (fl & SW_F_READ_ERR) && !(fl & SW_F_GONE))
		p->gaps[GAP_READBACK_FAILED]++;
	if ((fl & SW_F_READBACK) && (fl & SW_F_TRUNCATED))
		p->gaps[GAP_READBACK_CUT]++;
	if (fl & SW_F_COPY) {
		copy_readback(p, ev);
		return 0;
	}
	/* A write at an explicit position may land out of order, and one cut at the capture bound
	 * was not scanned whole: read the file back at its close. (A write of a multi-threaded
	 * process, SW_F_SHARED_MM, is not: the source compares its range with the file at once,
	 * userspace/racecheck.c, and sends a read-back only when they differ.) */
	if (d->art_kind == SW_AK_FILE && (d->file_pos >= 0 || (fl & SW_F_TRUNCATED)) && se->path &&
	    !(fl & SW_F_READBACK))
		pl_rescan_add(p, ev->hdr, sw_naming__user_dev(d->dev), d->ino, d->gen, se->path);
	h = &p->hits; /* nothing re-enters the pipeline while a record is handled */
	h->p = p;
	h->n = 0;
	h->redact = 0;
	/* A read-back is whole already; a write continues its stream, detectors' too. */
	if (!se->ds && !(fl & SW_F_READBACK) && !p->recorded_finds)
		se->ds = sw_detect__stream_new(p->rules);
	/* A TLS ClientHello's tail is kept in the trace (it is no secret's beginning: ciphertext
	 * follows it), so a replay reads the same server name. */
	keep = d->art_kind == SW_AK_FILE && pl_decode_start(p, se, ev, sw_stream__offset(se->s));
	keep = keep || (d->art_kind == SW_AK_SOCKET && (fl & SW_F_FIRST) && !d->offset &&
			sw_tlshello__sni(ev->bytes, ev->bytes_len, (char[256]){0}, 256));
	/* HTTP requests followed for a git push are kept whole too, so a replay follows them. */
	if (http_stream(d))
		keep = pl_push_start(p, se, ev) || keep;
	pl_scan(p, h, se->s, se->ds, ev->bytes, ev->bytes_len,
		(const char *)ev->bytes - (const char *)ev->hdr, keep, 1);
	/* (after the scan: what of these bytes the trace keeps is known) */
	if (d->art_kind == SW_AK_SOCKET)
		pl_tls_watch(p, ev);
	/* Bytes are missing after these (cut or unreadable): what follows does not continue
	 * them. */
	if (fl & (SW_F_TRUNCATED | SW_F_READ_ERR))
		sw_stream__reset(se->s);
	p->action = NULL;
	if (d->art_kind == SW_AK_TLS && (fl & SW_F_HELD) && h->n)
		p->action = d->guard == SW_GUARD_BLOCK ? "blocked" : "redacted";
	if (h->n) {
		a = malloc(sizeof(*a));
		if (a) {
			sw_naming__data(ev, se->path, a);
			if (a->type == SW_ART_TLS)
				pl_tls_name(p, ev, a);
			if (a->type == SW_ART_FILE && !se->path && !(fl & SW_F_READBACK)) {
				struct sw_request *r =
					pl_request(p, SW_REQ_NAME_FD, ev->hdr, NULL, 0);

				if (r) {
					r->fd = d->fd;
					r->dev = a->dev;
					r->ino = a->ino;
				}
			}
			sw_artifact__key(a, key, sizeof(key));
			/* A terminal is its path; which agent reads it (its pty's master) is asked
			 * for as the alert leaves, by the terminal's device. */
			if (a->type == SW_ART_TTY)
				a->dev = d->rdev;
			/* A read-back may come after its writer exited: it is not brought back. */
			if (!(fl & SW_F_READBACK))
				pl_proc_of(p, ev->hdr);
			if (a->type != SW_ART_TLS || pl_tls_defer(p, h, ev, a))
				pl_spread(p, h, ev->hdr, a, a->type == SW_ART_PIPE ? NULL : key);
			free(a);
		}
	}
	p->action = NULL;
	if (d->art_kind == SW_AK_TLS && (fl & SW_F_HELD))
		pl_tls_held(p, ev);
	/* A compressed file: what it holds, inflated (after the bytes as written). */
	if (d->art_kind == SW_AK_FILE)
		pl_decode(p, se, ev);
	else if (http_stream(d))
		pl_push(p, se, ev);
	if ((fl & SW_F_RESCAN) && (fl & SW_F_LAST))
		pl_readback_done(p, ev);
	if ((fl & SW_F_RESCAN) && (fl & SW_F_LAST))
		sw_streams__drop(p->streams, &sid);
	return 0;
}

/* An environment variable is inherited by every child: the place is the variable as the
 * session's agent hands it down (name + the agent's exe), not each program that inherits it,
 * or one token in an agent's environment would alert once per tool it runs. */
static void env_place(struct sw_pipeline *p, const struct sw_event *ev, const struct sw_artifact *a,
		      char *key, size_t size)
{
	const struct sw_session *s = sw_proctab__find_session(p->pt, ev->hdr->session_id);
	struct sw_artifact k;

	memset(&k, 0, sizeof(k));
	k.type = SW_ART_EXEC_ENV;
	snprintf(k.name, sizeof(k.name), "%s", a->name);
	snprintf(k.path, sizeof(k.path), "%s", s && s->root_exe ? s->root_exe : a->path);
	sw_artifact__key(&k, key, size);
}

/* Whether a span of the record that matched a tracked secret (found now, or recorded with a
 * replayed record) overlaps [off, off + len). */
static int span_holds_secret(const struct sw_pipeline *p, size_t off, size_t len)
{
	static const uint8_t zero[8];
	size_t i;

	for (i = 0; i < p->red.n; i++)
		if (memcmp(p->red.span[i].secret_id, zero, 8) &&
		    p->red.span[i].offset < off + len &&
		    p->red.span[i].offset + p->red.span[i].length > off)
			return 1;
	for (i = 0; i < p->nrecorded; i++)
		if (memcmp(p->recorded[i].secret_id, zero, 8) &&
		    p->recorded[i].offset < off + len &&
		    p->recorded[i].offset + p->recorded[i].length > off)
			return 1;
	return 0;
}

/* argv and the environment of an exec are artifacts of their own: each element is scanned as a
 * fresh stream. The matches are kept per element (elem[i]) and spread once the process table
 * holds the new image with its secret-bearing argv elements shown as "[redacted]". */
void pl_exec_scan(struct sw_pipeline *p, const struct sw_event *ev, int env, struct hits *h,
		  uint32_t *elem)
{
	const char *s = env ? ev->env : ev->args, *end = s + (env ? ev->env_len : ev->args_len);
	struct sw_stream *st;
	uint32_t index = 0;
	size_t len, before;

	/* The kernel copies argv and the environment whole up to SW_ARGS_LEN/SW_ENV_LEN (256 KiB
	 * each, far above what agents use); past that the rest was not scanned: a gap naming the
	 * bound. */
	if (ev->hdr->flags & (env ? SW_F_ENV_TRUNC : SW_F_ARGS_TRUNC)) {
		*(env ? &p->st.exec_env_truncated : &p->st.exec_args_truncated) += 1;
		p->gaps[env ? GAP_EXEC_ENV : GAP_EXEC_ARGS]++;
	}
	for (; s < end && index < 65536; s += len + 1, index++) {
		len = strnlen(s, end - s);
		if (len < SW_SECRET_MIN || !(st = sw_stream__new()))
			continue;
		before = h->n;
		/* An agent's own credential for its tools is no discovery (agentcred.h). */
		pl_scan(p, h, st, NULL, s, len, s - (const char *)ev->hdr, 1,
			!env || !sw_agentcred__env(p->cred, p->rules, p->pt, p->key, ev, s, len));
		sw_stream__free(st);
		while (before < h->n)
			elem[before++] = index | (env ? 0x80000000u : 0);
	}
}

void pl_exec_spread(struct sw_pipeline *p, const struct sw_event *ev, const struct hits *h,
		    const uint32_t *elem)
{
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_artifact *a = malloc(sizeof(*a));
	struct hits *one = malloc(sizeof(*one));
	size_t i;

	for (i = 0; a && one && i < h->n; i++) {
		int env = (elem[i] & 0x80000000u) != 0;
		uint32_t index = elem[i] & 0x7fffffffu;
		const char *s = env ? ev->env : ev->args,
			   *end = s + (env ? ev->env_len : ev->args_len);
		uint32_t k;

		for (k = 0; k < index && s < end; k++)
			s += strnlen(s, end - s) + 1;
		memset(a, 0, sizeof(*a));
		a->type = env ? SW_ART_EXEC_ENV : SW_ART_EXEC_ARG;
		snprintf(a->path, sizeof(a->path), "%.*s", (int)ev->filename_len, ev->filename);
		if (env) {
			size_t len = strnlen(s, end - s);
			const char *eq = memchr(s, '=', len);

			snprintf(a->name, sizeof(a->name), "%.*s", eq ? (int)(eq - s) : 0, s);
			env_place(p, ev, a, key, sizeof(key));
		} else {
			a->index = index;
			sw_artifact__key(a, key, sizeof(key));
		}
		one->n = 1;
		one->m[0] = h->m[i];
		one->learned[0] = h->learned[i];
		pl_spread(p, one, ev->hdr, a, key);
	}
	free(one);
	free(a);
}

/* A process image for the table: an argv element that holds a tracked secret (a span of the
 * record found now, or recorded with a replayed one) is stored as "[redacted]", so live alerts
 * and replayed ones show the same, and the table never holds the value. */
static int store_proc(struct sw_pipeline *p, const struct sw_hdr *hd, const char *comm,
		      const char *exe, size_t exe_len, const char *args, size_t args_len)
{
	const char *s = args, *end = args + args_len;
	size_t cap = args_len + 16 * SW_ARGV_MAX + 1, len;
	char *clean = malloc(cap), *o = clean;
	int e;

	if (!clean)
		return -ENOMEM;
	for (; s < end; s += len + 1) {
		len = strnlen(s, end - s);
		if (span_holds_secret(p, s - (const char *)hd, len) &&
		    (size_t)(o - clean) + 11 <= cap) {
			memcpy(o, "[redacted]", 11);
			o += 11;
		} else {
			memcpy(o, s, len);
			o[len] = 0;
			o += len + (s + len < end);
		}
	}
	e = sw_proctab__exec(p->pt, hd->tgid, hd->ppid, hd->uid, hd->session_id, comm, exe, exe_len,
			     clean, o - clean);
	free(clean);
	return e;
}

int pl_exec_proc(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	return store_proc(p, ev->hdr, comm, ev->filename, ev->filename_len, ev->args, ev->args_len);
}

/* What /proc said of a process whose exec the pipeline never saw. Its argv is not a place we
 * saw a secret land (the exec went unseen), but what holds one stays out of the trace and the
 * table. */
int pl_on_proc(struct sw_pipeline *p, const struct sw_event *ev, const char *comm)
{
	const struct sw_hdr *h = ev->hdr;
	const char *s = ev->args, *end = ev->args + ev->args_len;
	struct hits *hs = &p->hits;
	struct sw_stream *st;
	size_t len;
	int e;

	for (; s < end; s += len + 1) {
		len = strnlen(s, end - s);
		if (len < SW_SECRET_MIN || !(st = sw_stream__new()))
			continue;
		hs->p = p;
		hs->n = 0;
		hs->first_new = p->set->n;
		sw_redact__scope(&p->red, s - (const char *)ev->hdr, 0, len);
		hs->redact = 1;
		sw_matcher__scan(p->m, st, s, len, collect, hs);
		sw_stream__free(st);
	}

	if (h->session_id)
		pl_session(p, h->session_id, h->tgid, rec_time(p, h->ktime));
	/* Only a cgroup (the source tells it after an exec): the image stays the exec's. */
	if (!ev->path_len && !ev->args_len && sw_pipeline__knows(p, h->tgid))
		return sw_proctab__set_cgroup(p->pt, h->tgid, ev->cgroup, ev->cgroup_len);
	e = store_proc(p, h, comm, ev->path, ev->path_len, ev->args, ev->args_len);
	if (!e && ev->cgroup_len)
		e = sw_proctab__set_cgroup(p->pt, h->tgid, ev->cgroup, ev->cgroup_len);
	return e;
}
