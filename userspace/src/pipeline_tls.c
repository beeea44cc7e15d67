// SPDX-License-Identifier: Apache-2.0
/* The pipeline's TLS part: the server names ClientHellos carry (the kernel sees them cross the
 * socket in plaintext), naming a TLS write's place by its connection, and what is inferred of
 * a process whose TLS stack no uprobe can see (rustls, Go, an unknown BoringSSL build): once a
 * secret has reached its agent's context, each TLS connection it opens is a spread. */
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"
#include "tlshello.h"

#define PENDING_WAIT_US 1000000 /* a TLS write whose thread writes no socket within: as named */

static const char *stack_name(uint32_t stack)
{
	switch (stack) {
	case SW_STACK_RUSTLS:
		return "rustls";
	case SW_STACK_GO:
		return "go crypto/tls";
	case SW_STACK_BORINGSSL:
		return "boringssl (unknown build)";
	case SW_STACK_LATE:
		return "hooked late";
	case SW_STACK_OPENSSL:
		return "openssl (unknown build)";
	case SW_STACK_UNHOOKED:
		return "its uprobes could not be attached";
	case SW_STACK_JAVA:
		return "java (jsse)";
	default:
		return "unknown";
	}
}

static const struct blind *blind_of(const struct sw_pipeline *p, uint32_t tgid)
{
	size_t i;

	for (i = 0; i < BLIND_MAX; i++)
		if (p->blind[i].tgid == tgid)
			return &p->blind[i];
	return NULL;
}

struct sw_alert *pl_tls_channel_alert(struct sw_pipeline *p, const struct sw_hdr *h, uint64_t t)
{
	struct sw_alert *a = &p->alert;

	sw_alertbuild__base(a, SW_ALERT_UNMONITORED_CHANNEL, t, p->host, &p->policy);
	pl_process_of(p, a, h);
	sw_alertbuild__session(a, p->pt, h->session_id);
	snprintf(a->channel, sizeof(a->channel), "tls");
	a->has_artifact = 1;
	a->first_seen = 1;
	a->count = 1;
	return a;
}

static void blind_add(struct sw_pipeline *p, const struct sw_hdr *h)
{
	if (blind_of(p, h->tgid))
		return;
	p->blind[p->blind_next].tgid = h->tgid;
	p->blind[p->blind_next].session = h->session_id;
	p->blind_next = (p->blind_next + 1) % BLIND_MAX;
}

void pl_tls_blind(struct sw_pipeline *p, const struct sw_event *ev)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	const struct sw_channel_rec *c = ev->channel;
	uint64_t t = rec_time(p, ev->hdr->ktime);
	struct sw_alert *a;
	char key[128];

	/* Hooked late (a job in a terminal's foreground, not stopped for its uprobes): what it
	 * wrote before is unseen, what it writes now is seen; once per process. */
	if (c->detail == SW_STACK_LATE)
		snprintf(key, sizeof(key), "channel:tls-late:%llu:%u",
			 (unsigned long long)ev->hdr->session_id, ev->hdr->tgid);
	else
		/* Once per binary, whichever session runs it. */
		snprintf(key, sizeof(key), "channel:tls:%llu:%llu", (unsigned long long)c->dev,
			 (unsigned long long)c->ino);
	if (c->detail != SW_STACK_LATE)
		blind_add(p, ev->hdr);
	else /* (what it wrote before its hooks is told here: no TLS "no hook saw" for it) */
		pl_tls_plain(p, ev);
	if (sw_registry__see(p->reg, no_secret, key, t) != 1)
		return;
	a = pl_tls_channel_alert(p, ev->hdr, t);
	a->artifact.type = SW_ART_FILE;
	a->artifact.dev = c->dev;
	a->artifact.ino = c->ino;
	snprintf(a->artifact.path, sizeof(a->artifact.path), "%.*s", (int)ev->path_len, ev->path);
	if (c->detail == SW_STACK_LATE)
		snprintf(a->message, sizeof(a->message),
			 "its TLS writes before its uprobes were attached were not seen: it wrote "
			 "TCP first (a job in a terminal's foreground is not stopped to wait for "
			 "them); its later TLS writes are seen");
	else
		snprintf(a->message, sizeof(a->message),
			 "its TLS stack (%s) cannot be hooked: its TLS writes are not seen; once a "
			 "secret reaches its agent's context, its TLS connections are reported as "
			 "inferred spreads",
			 stack_name(c->detail));
	sw_delivery__emit(p->dl, a);
}

void pl_tls_context(struct sw_pipeline *p, const struct sw_alert *a)
{
	struct in_context *c;
	size_t i;

	if (a->kind != SW_ALERT_SECRET_SPREAD || a->severity != SW_SEV_CRITICAL ||
	    !a->has_session ||
	    (a->artifact.type != SW_ART_PIPE && a->artifact.type != SW_ART_FILE &&
	     a->artifact.type != SW_ART_TTY))
		return;
	for (i = 0; i < CONTEXT_MAX; i++)
		if (p->context[i].session == a->session.id &&
		    !memcmp(p->context[i].secret, a->secret_key, SW_SECRET_ID_BYTES))
			return;
	c = &p->context[p->context_next];
	p->context_next = (p->context_next + 1) % CONTEXT_MAX;
	c->session = a->session.id;
	c->since_us = a->time_us;
	memcpy(c->secret, a->secret_key, SW_SECRET_ID_BYTES);
	p->context_new = 1;
}

int pl_tls_is_blind(const struct sw_pipeline *p, uint32_t tgid)
{
	return blind_of(p, tgid) != NULL;
}

void pl_tls_conn_art(const struct sw_pipeline *p, const struct sw_event *sock, const char *sni,
		     struct sw_artifact *art)
{
	(void)p;
	/* Named like a TLS write to that socket. */
	sw_naming__data(sock, NULL, art);
	art->type = SW_ART_TLS;
	art->proto[0] = 0;
	snprintf(art->sni, sizeof(art->sni), "%s", sni);
}

/* Connection k was written to at k->last_us: every secret in its session's agent context by
 * then may have left in it (once per secret and place, as ever). */
static void infer(struct sw_pipeline *p, const struct tls_conn *k)
{
	struct sw_artifact *art = malloc(sizeof(*art));
	char key[SW_ARTIFACT_KEY_MAX];
	struct sw_alert *a = &p->alert;
	const struct sw_secret *s;
	struct sw_event e = {};
	size_t i, j;

	if (!art)
		return;
	e.hdr = &k->hdr;
	e.data = &k->rec;
	pl_tls_conn_art(p, &e, k->sni, art);
	sw_artifact__key(art, key, sizeof(key));
	for (i = 0; i < CONTEXT_MAX; i++) {
		const struct in_context *c = &p->context[i];

		if (!c->session || c->session != k->hdr.session_id || c->since_us > k->last_us)
			continue;
		for (j = 0, s = NULL; j < p->set->n && !s; j++)
			if (!memcmp(p->set->secrets[j].id, c->secret, SW_SECRET_ID_BYTES))
				s = &p->set->secrets[j];
		if (!s || sw_registry__see(p->reg, s->id, key, k->last_us) != 1)
			continue;
		sw_alertbuild__base(a, SW_ALERT_SECRET_SPREAD, k->last_us, p->host, &p->policy);
		sw_alertbuild__secret(a, s);
		snprintf(a->variant, sizeof(a->variant), "inferred");
		a->has_artifact = 1;
		a->artifact = *art;
		pl_process_of(p, a, &k->hdr);
		sw_alertbuild__session(a, p->pt, k->hdr.session_id);
		if (s->origin && s->origin[0]) {
			a->has_origin = 1;
			snprintf(a->origin_path, sizeof(a->origin_path), "%s", s->origin);
		}
		a->count = 1;
		a->first_seen = 1;
		sw_alertbuild__place(a, p->rules, &p->policy, p->pt);
		snprintf(a->message, sizeof(a->message),
			 "inferred: the secret was in the agent's context when this process, whose "
			 "TLS cannot be seen, wrote to this TLS connection");
		sw_delivery__emit(p->dl, a);
	}
	free(art);
}

/* A process's connection sock (its ClientHello named sni) shows TLS no hook sees: the process
 * is one whose TLS we cannot see, this connection the first of its inferred ones. */
void pl_tls_blind_proc(struct sw_pipeline *p, const struct sw_event *sock, const char *sni)
{
	struct tls_conn *k;

	blind_add(p, sock->hdr);
	k = &p->conns[p->conns_next];
	p->conns_next = (p->conns_next + 1) % CONNS_MAX;
	k->hdr = *sock->hdr;
	k->rec = *sock->data;
	snprintf(k->sni, sizeof(k->sni), "%s", sni);
	k->last_us = rec_time(p, sock->hdr->ktime);
	infer(p, k);
}

void pl_tls_infer_due(struct sw_pipeline *p)
{
	size_t i;

	if (!p->context_new)
		return;
	p->context_new = 0;
	for (i = 0; i < CONNS_MAX; i++)
		if (p->conns[i].hdr.tgid)
			infer(p, &p->conns[i]);
}

int pl_tls_defer(struct sw_pipeline *p, const struct hits *h, const struct sw_event *ev,
		 const struct sw_artifact *art)
{
	struct tls_pending *w = NULL;
	size_t i;

	if (!(ev->hdr->flags & SW_F_PEER_GUESS) && art->peer[0])
		return -1;
	for (i = 0; i < PENDING_MAX && !w; i++)
		if (!p->pending[i].art)
			w = &p->pending[i];
	if (!w || !(w->art = malloc(sizeof(*w->art))))
		return -1; /* full: spread now, as guessed */
	*w->art = *art;
	w->hdr = *ev->hdr;
	w->time_us = rec_time(p, ev->hdr->ktime);
	w->n = h->n < PENDING_MATCHES ? h->n : PENDING_MATCHES;
	memcpy(w->m, h->m, w->n * sizeof(w->m[0]));
	memcpy(w->learned, h->learned, w->n);
	w->action = p->action;
	return 0;
}

/* A waiting TLS write goes out, named by sock (a socket record of its thread) or as it was. */
static void release(struct sw_pipeline *p, struct tls_pending *w, const struct sw_event *sock)
{
	char key[SW_ARTIFACT_KEY_MAX];
	struct hits *h = malloc(sizeof(*h));

	if (sock) {
		struct sw_artifact_git git = w->art->git;
		char inflated[sizeof(w->art->inflated)];
		struct sw_data_rec d = *sock->data;
		struct sw_event e = *sock;
		struct sw_hdr hd = w->hdr;

		memcpy(inflated, w->art->inflated, sizeof(inflated));
		d.art_kind = SW_AK_TLS;
		e.data = &d;
		sw_naming__data(&e, NULL, w->art);
		hd.tgid = sock->hdr->tgid;
		e.hdr = &hd;
		d.ino = sock->data->ino;
		pl_tls_name(p, &e, w->art);
		/* A pushed pack's object stays named (pipeline_decode.c). */
		w->art->git = git;
		memcpy(w->art->inflated, inflated, sizeof(inflated));
	}
	if (h) {
		h->p = p;
		h->n = w->n;
		memcpy(h->m, w->m, w->n * sizeof(w->m[0]));
		memcpy(h->learned, w->learned, w->n);
		h->redact = 0;
		h->first_new = p->set->n;
		sw_artifact__key(w->art, key, sizeof(key));
		p->action = w->action;
		pl_spread(p, h, &w->hdr, w->art, key);
		p->action = NULL;
		free(h);
	}
	free(w->art);
	w->art = NULL;
}

void pl_tls_flush(struct sw_pipeline *p, uint64_t now_us, int force)
{
	size_t i;

	for (i = 0; i < PENDING_MAX; i++)
		if (p->pending[i].art &&
		    (force || now_us > p->pending[i].time_us + PENDING_WAIT_US))
			release(p, &p->pending[i], NULL);
}

void pl_tls_socket(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct blind *b = blind_of(p, ev->hdr->tgid);
	struct tls_conn *k = NULL;
	char name[256];
	size_t i;

	if ((ev->data->family != AF_INET && ev->data->family != AF_INET6) ||
	    ev->data->protocol != IPPROTO_TCP)
		return;
	/* The first TCP write of a thread after its TLS write: that write's connection. */
	for (i = 0; i < PENDING_MAX; i++)
		if (p->pending[i].art && p->pending[i].hdr.pid == ev->hdr->pid &&
		    p->pending[i].hdr.tgid == ev->hdr->tgid)
			release(p, &p->pending[i], ev);
	if (!b)
		return;
	for (i = 0; i < CONNS_MAX && !k; i++)
		if (p->conns[i].hdr.tgid == ev->hdr->tgid && p->conns[i].rec.ino == ev->data->ino)
			k = &p->conns[i];
	if (!k) {
		/* A connection starts: TLS only if a ClientHello opens it. */
		if (ev->data->offset ||
		    !sw_tlshello__sni(ev->bytes, ev->bytes_len, name, sizeof(name)))
			return;
		k = &p->conns[p->conns_next];
		p->conns_next = (p->conns_next + 1) % CONNS_MAX;
		pl_fill_secrets(p, name, strnlen(name, sizeof(name)));
		memcpy(k->sni, name, sizeof(k->sni));
	}
	k->hdr = *ev->hdr;
	k->rec = *ev->data;
	k->last_us = rec_time(p, ev->hdr->ktime);
	infer(p, k);
}

void pl_tls_hello(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct sni *s;
	char name[sizeof(s->name)];
	size_t i;

	if (!sw_tlshello__sni(ev->bytes, ev->bytes_len, name, sizeof(name)) || !name[0])
		return;
	pl_fill_secrets(p, name, strnlen(name, sizeof(name)));
	for (i = 0; i < SNI_MAX; i++) {
		s = &p->sni[i];
		if (s->tgid == ev->hdr->tgid && s->ino == ev->data->ino)
			break;
	}
	if (i == SNI_MAX) {
		s = &p->sni[p->sni_next];
		p->sni_next = (p->sni_next + 1) % SNI_MAX;
	}
	s->tgid = ev->hdr->tgid;
	s->ino = ev->data->ino;
	memcpy(s->name, name, sizeof(s->name));
}

void pl_tls_name(const struct sw_pipeline *p, const struct sw_event *ev, struct sw_artifact *a)
{
	size_t i;

	if (!ev->data->ino)
		return;
	for (i = 0; i < SNI_MAX; i++)
		if (p->sni[i].tgid == ev->hdr->tgid && p->sni[i].ino == ev->data->ino) {
			memcpy(a->sni, p->sni[i].name, sizeof(a->sni));
			return;
		}
}

void pl_tls_held(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	uint64_t base = (const char *)ev->bytes - (const char *)ev->hdr, end = base + ev->bytes_len;
	static const uint8_t zero[SW_SECRET_ID_BYTES];
	struct held *w = &p->held;
	struct sw_request *q;
	size_t i;

	if (ev->hdr->flags & SW_F_FIRST) {
		memset(w, 0, sizeof(*w));
		w->pid = ev->hdr->pid;
		w->tgid = ev->hdr->tgid;
		w->addr = (uint64_t)d->file_pos;
		w->total = d->total;
	}
	if (w->tgid != ev->hdr->tgid || w->pid != ev->hdr->pid)
		return;
	/* Every span of this chunk that holds a tracked secret, as a range of the buffer. */
	for (i = 0; i < p->red.n; i++) {
		const struct sw_redaction *r = &p->red.span[i];
		uint64_t s = r->offset, e = (uint64_t)r->offset + r->length;

		if (!memcmp(r->secret_id, zero, sizeof(zero)) || e <= base || s >= end)
			continue;
		s = s < base ? base : s;
		e = e > end ? end : e;
		if (w->nspans == SW_VERDICT_SPANS) {
			w->overflow = 1;
			continue;
		}
		w->spans[w->nspans].offset = s - base + d->offset;
		w->spans[w->nspans].length = e - s;
		w->nspans++;
	}
	if (!(ev->hdr->flags & SW_F_LAST))
		return;
	q = pl_request(p, SW_REQ_VERDICT, ev->hdr, NULL, 0);
	if (q) {
		/* More spans than a verdict carries cannot all be overwritten: stopped instead. */
		q->action = !w->nspans					? SW_GA_RESUMED
			    : d->guard == SW_GUARD_BLOCK || w->overflow ? SW_GA_KILLED
									: SW_GA_REDACTED;
		q->offset = w->addr;
		q->length = w->total;
		q->nspans = w->nspans;
		memcpy(q->spans, w->spans, sizeof(q->spans));
	}
	w->tgid = 0;
}

void pl_tls_guarded(struct sw_pipeline *p, const struct sw_event *ev)
{
	if (ev->guarded->result < 0 || ev->guarded->action == SW_GA_FAILOPEN)
		p->gaps[GAP_GUARD]++;
}
