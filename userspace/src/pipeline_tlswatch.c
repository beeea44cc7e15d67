// SPDX-License-Identifier: Apache-2.0
/* TLS that no hook saw, told by what crosses the socket. A TLS library sprawlwatch neither hooks
 * nor recognises (NSS, mbedTLS, wolfSSL, a TLS written in an interpreter's own language, an
 * OpenSSL built in and stripped of what names it) carried a session's plaintext unseen and
 * unreported. Its socket still shows TLS: a ClientHello opens the connection, then records.
 * A hooked stack's plaintext record (the uprobe runs before the encryption) comes before the
 * encrypted application data it becomes. A connection that carries application data while
 * its process wrote no plaintext at a hook since the ClientHello is TLS we cannot see: one
 * unmonitored_channel (per session and binary), and the process is treated as one whose TLS
 * stack we cannot hook (spreads inferred once a secret is in its agent's context).
 *
 * Application data, as the client's records show it: TLS 1.2 encrypts its Finished as a
 * handshake record after the ChangeCipherSpec, so every encrypted record (type 23) bigger than
 * an alert is application data. TLS 1.3 sends its Finished (and a client certificate's
 * records) as type 23 too: the first is not counted, and the verdict waits GRACE_NS after the
 * first, judged at the ticks, for a hooked stack's plaintext (a client certificate's flight
 * is three records written before its first SSL_write).
 *
 * QUIC (HTTP/3) carries TLS inside its own packets, encrypted by the QUIC stack: a session's
 * QUIC Initial packet is told as a TLS channel no hook sees. */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pipeline_priv.h"
#include "tlshello.h"

#define ALERT_MAX   24 /* an encrypted alert record's length (2 bytes, type, 16-byte tag) */
#define GRACE_NS    1000000000ull
#define LOST_MIN    40 /* bytes after records were lost: more than a close_notify */
#define TLS_CCS	    20
#define TLS_HS	    22
#define TLS_APPDATA 23

static struct tls_watch *watch_of(struct sw_pipeline *p, uint32_t tgid, uint64_t ino)
{
	size_t i;

	for (i = 0; i < WATCH_MAX; i++)
		if (p->watch[i].tgid == tgid && p->watch[i].ino == ino)
			return &p->watch[i];
	return NULL;
}

void pl_tls_plain(struct sw_pipeline *p, const struct sw_event *ev)
{
	size_t i;

	for (i = 0; i < PLAIN_MAX; i++)
		if (p->plain[i].tgid == ev->hdr->tgid)
			break;
	if (i == PLAIN_MAX) {
		i = p->plain_next;
		p->plain_next = (p->plain_next + 1) % PLAIN_MAX;
		p->plain[i].tgid = ev->hdr->tgid;
	}
	p->plain[i].ktime = ev->hdr->ktime;
}

/* Whether tgid wrote TLS plaintext at a hook since ktime. */
static int plain_since(const struct sw_pipeline *p, uint32_t tgid, uint64_t ktime)
{
	size_t i;

	for (i = 0; i < PLAIN_MAX; i++)
		if (p->plain[i].tgid == tgid)
			return p->plain[i].ktime >= ktime;
	return 0;
}

/* Whether record bytes [off, off + len) are kept out of the trace (a replay reads filler there):
 * this record's redactions, or in a replay the recorded ones. */
static int redacted(const struct sw_pipeline *p, size_t off, size_t len)
{
	const struct sw_redaction *r = p->replaying ? p->recorded : p->red.span;
	size_t n = p->replaying ? p->nrecorded : p->red.n, i;

	for (i = 0; i < n; i++)
		if (off < r[i].offset + r[i].length && r[i].offset < off + len)
			return 1;
	return 0;
}

/* Follows w's records through the write's bytes (at offset base in its record): big encrypted
 * records counted, TLS 1.2 told by its encrypted Finished. -1 when the stream is no TLS (a
 * record header no TLS record has), -2 when a header lies where the trace keeps no bytes (a
 * write's unsettled tail, or a whole write the matcher keeps open: a replay could not follow
 * it). */
static int records(const struct sw_pipeline *p, struct tls_watch *w, const uint8_t *b, size_t n,
		   size_t base, uint64_t ktime)
{
	size_t pos = 0, take;

	while (pos < n) {
		if (w->rec_left) {
			take = n - pos < w->rec_left ? n - pos : w->rec_left;
			pos += take;
			w->rec_left -= (uint32_t)take;
			continue;
		}
		take = sizeof(w->hdr) - w->hdr_have;
		if (take > n - pos)
			take = n - pos;
		if (redacted(p, base + pos, take))
			return -2;
		memcpy(w->hdr + w->hdr_have, b + pos, take);
		w->hdr_have += (uint8_t)take;
		pos += take;
		if (w->hdr_have < sizeof(w->hdr))
			break;
		w->hdr_have = 0;
		if (w->hdr[0] < TLS_CCS || w->hdr[0] > TLS_APPDATA + 1 || w->hdr[1] != 3)
			return -1;
		w->rec_left = (uint32_t)w->hdr[3] << 8 | w->hdr[4];
		if (w->hdr[0] == TLS_HS && w->prev_type == TLS_CCS)
			w->tls12 = 1;
		w->prev_type = w->hdr[0];
		if (w->hdr[0] == TLS_APPDATA && w->rec_left > ALERT_MAX) {
			if (!w->big++)
				w->first_ktime = ktime;
		}
	}
	return 0;
}

/* Whether w's process showed its TLS otherwise: plaintext at a hook since the ClientHello, or
 * told already (its stack as one we cannot hook, or this connection). */
static int accounted(const struct sw_pipeline *p, const struct tls_watch *w)
{
	return w->told || !w->tgid || pl_tls_is_blind(p, w->tgid) ||
	       plain_since(p, w->tgid, w->hello_ktime);
}

/* Whether w shows application data no hook saw, by ktime (force: no grace left). Records no
 * longer followed: more than a close_notify written after, a grace after the loss. */
static int unexplained(const struct sw_pipeline *p, const struct tls_watch *w, uint64_t ktime,
		       int force)
{
	if (w->lost ? w->lost_bytes <= LOST_MIN : w->big < (w->tls12 ? 1u : 2u))
		return 0;
	if ((w->lost || !w->tls12) && !force && ktime < w->first_ktime + GRACE_NS)
		return 0;
	return !accounted(p, w);
}

/* Application data no hook saw on w's connection: told once per session and binary; the
 * process's TLS is inferred from now on. */
static void unseen(struct sw_pipeline *p, struct tls_watch *w)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	struct sw_event ev = {.hdr = &w->last_hdr, .data = &w->last};
	const struct sw_proc *pr = pl_proc_of(p, &w->last_hdr);
	uint64_t t = rec_time(p, w->last_hdr.ktime);
	struct sw_alert *a;
	char key[SW_ARTIFACT_KEY_MAX + 64];
	struct sw_artifact art;

	w->told = 1;
	pl_tls_conn_art(p, &ev, w->sni, &art);
	pl_tls_blind_proc(p, &ev, w->sni);
	snprintf(key, sizeof(key), "channel:tls-unseen:%llu:%s",
		 (unsigned long long)w->last_hdr.session_id,
		 pr && pr->exe && pr->exe[0] ? pr->exe : w->last_hdr.comm);
	if (sw_registry__see(p->reg, no_secret, key, t) != 1)
		return;
	a = pl_tls_channel_alert(p, &w->last_hdr, t);
	a->artifact = art;
	snprintf(
		a->message, sizeof(a->message),
		"TLS application data left on this connection with no plaintext at any hooked TLS "
		"function: its TLS stack is one sprawlwatch cannot see, its TLS writes are not "
		"seen; once a secret reaches the agent's context, its TLS connections are inferred "
		"spreads");
	sw_delivery__emit(p->dl, a);
}

void pl_tls_watch_due(struct sw_pipeline *p, uint64_t ktime, int force)
{
	size_t i;

	for (i = 0; i < WATCH_MAX; i++)
		if (unexplained(p, &p->watch[i], ktime, force))
			unseen(p, &p->watch[i]);
}

/* A QUIC Initial packet (RFC 9000 17.2.2: long header, type Initial; versions 1 and 2, whose
 * Initial type differs): the first datagram of a QUIC connection, and its ClientHello. */
static int quic_initial(const uint8_t *b, size_t n)
{
	uint32_t version;

	if (n < 7 || (b[0] & 0xc0) != 0xc0)
		return 0;
	version = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
	return (version == 0x00000001 && (b[0] & 0x30) == 0x00) ||
	       (version == 0x6b3343cf && (b[0] & 0x30) == 0x10);
}

/* QUIC (HTTP/3): its TLS runs inside QUIC, whose stack encrypts the streams itself, through no
 * TLS write function a hook could take. Told once per session and binary. */
static void quic(struct sw_pipeline *p, const struct sw_event *ev)
{
	static const uint8_t no_secret[SW_SECRET_ID_BYTES];
	const struct sw_proc *pr = pl_proc_of(p, ev->hdr);
	uint64_t t = rec_time(p, ev->hdr->ktime);
	char key[SW_ARTIFACT_KEY_MAX + 64];
	struct sw_alert *a;

	snprintf(key, sizeof(key), "channel:quic:%llu:%s", (unsigned long long)ev->hdr->session_id,
		 pr && pr->exe && pr->exe[0] ? pr->exe : ev->hdr->comm);
	if (sw_registry__see(p->reg, no_secret, key, t) != 1)
		return;
	a = pl_tls_channel_alert(p, ev->hdr, t);
	pl_tls_conn_art(p, ev, "", &a->artifact);
	snprintf(
		a->message, sizeof(a->message),
		"QUIC (HTTP/3) to this peer: its TLS runs inside QUIC, encrypted by the QUIC stack "
		"through no hooked TLS function; what it sends is not seen");
	sw_delivery__emit(p->dl, a);
}

void pl_tls_watch(struct sw_pipeline *p, const struct sw_event *ev)
{
	const struct sw_data_rec *d = ev->data;
	struct tls_watch *w;
	char name[sizeof(w->sni)];
	int r;

	if (d->art_kind != SW_AK_SOCKET || (d->family != AF_INET && d->family != AF_INET6) ||
	    !ev->hdr->session_id)
		return;
	if (d->protocol == IPPROTO_UDP && (ev->hdr->flags & SW_F_FIRST) &&
	    quic_initial(ev->bytes, ev->bytes_len))
		quic(p, ev);
	if (d->protocol != IPPROTO_TCP)
		return;
	w = watch_of(p, ev->hdr->tgid, d->ino);
	if (!w) {
		/* A connection opens with a ClientHello: watched, unless its process's TLS is
		 * known to be unseen already. */
		if (!(ev->hdr->flags & SW_F_FIRST) || d->offset ||
		    !sw_tlshello__sni(ev->bytes, ev->bytes_len, name, sizeof(name)) ||
		    pl_tls_is_blind(p, ev->hdr->tgid))
			return;
		w = &p->watch[p->watch_next];
		p->watch_next = (p->watch_next + 1) % WATCH_MAX;
		memset(w, 0, sizeof(*w));
		w->tgid = ev->hdr->tgid;
		w->ino = d->ino;
		w->hello_ktime = ev->hdr->ktime;
		memcpy(w->sni, name, sizeof(w->sni));
	}
	if (w->told)
		return;
	w->last_hdr = *ev->hdr;
	w->last = *d;
	if (w->lost) {
		w->lost_bytes += (uint32_t)ev->bytes_len;
	} else {
		r = records(p, w, ev->bytes, ev->bytes_len,
			    (const char *)ev->bytes - (const char *)ev->hdr, ev->hdr->ktime);
		if (r == -1) {
			w->tgid = 0; /* no TLS: not watched */
			return;
		}
		/* A header where the trace keeps no bytes (a replay could not read it): the
		 * records are followed no more, and what the connection carries after is judged
		 * by its size (a stack that cuts its headers at a write's end must not slip
		 * past). */
		if (r == -2) {
			w->lost = 1;
			w->first_ktime = ev->hdr->ktime;
		}
	}
	if (unexplained(p, w, ev->hdr->ktime, 0))
		unseen(p, w);
}
