// SPDX-License-Identifier: Apache-2.0
/* See redact.h. */
#include <string.h>

#include "redact.h"

void sw_redact__reset(struct sw_redact *r)
{
	r->n = 0;
	r->base = r->len = 0;
	r->start = 0;
}

void sw_redact__scope(struct sw_redact *r, size_t base, uint64_t start, size_t len)
{
	r->base = base;
	r->start = start;
	r->len = len;
}

static void add(struct sw_redact *r, size_t off, size_t len, const uint8_t *id, uint32_t variant)
{
	struct sw_redaction *s;

	if (r->n >= SW_REDACT_MAX) {
		/* Out of room: the last span covers everything from here to the scan's end. */
		s = &r->span[r->n - 1];
		memset(s->secret_id, 0, sizeof(s->secret_id));
		if (off < s->offset)
			s->offset = off;
		s->length = r->base + r->len - s->offset;
		s->variant = 0;
		return;
	}
	s = &r->span[r->n++];
	s->offset = off;
	s->length = len;
	if (id)
		memcpy(s->secret_id, id, sizeof(s->secret_id));
	else
		memset(s->secret_id, 0, sizeof(s->secret_id));
	s->variant = variant;
}

void sw_redact__match(struct sw_redact *r, const struct sw_match *m, const uint8_t *id,
		      uint32_t variant)
{
	uint64_t s = m->offset > r->start ? m->offset : r->start;
	uint64_t e = m->offset + m->len, end = r->start + r->len;

	if (e > end)
		e = end;
	if (e > s)
		add(r, r->base + (s - r->start), e - s, id, variant);
}

void sw_redact__unsettled(struct sw_redact *r, uint64_t from)
{
	if (from < r->start)
		from = r->start;
	if (from < r->start + r->len)
		add(r, r->base + (from - r->start), r->start + r->len - from, NULL, 0);
}

void sw_redact__recorded(const struct sw_redact *r, const struct sw_redaction *rec, size_t n,
			 sw_redact_fn fn, void *ctx)
{
	static const uint8_t zero[8];
	struct sw_match m;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!memcmp(rec[i].secret_id, zero, sizeof(zero)) || rec[i].offset < r->base ||
		    rec[i].offset >= r->base + r->len)
			continue;
		memset(&m, 0, sizeof(m));
		m.variant = rec[i].variant & 0xff;
		m.len = rec[i].length;
		m.offset = r->start + (rec[i].offset - r->base);
		fn(rec[i].secret_id, &m, (rec[i].variant & SW_REDACT_DISCOVERED) != 0, ctx);
	}
}
