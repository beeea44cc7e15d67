// SPDX-License-Identifier: Apache-2.0
/* The pipeline's TLS part: the server names ClientHellos carry (the kernel sees them cross the
 * socket in plaintext), and naming a TLS write's place by its connection. */
#include <string.h>

#include "pipeline_priv.h"
#include "tlshello.h"

void pl_tls_hello(struct sw_pipeline *p, const struct sw_event *ev)
{
	struct sni *s;
	char name[sizeof(s->name)];
	size_t i;

	if (!sw_tlshello__sni(ev->bytes, ev->bytes_len, name, sizeof(name)) || !name[0])
		return;
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
