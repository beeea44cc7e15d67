// SPDX-License-Identifier: Apache-2.0
/* Records to trace-log Events (see tracerec.h): every byte field points into the record (no
 * copy), the messages live in the sw_tracerec object. */
#include <errno.h>
#include <string.h>

#include "event.h"
#include "sprawl_events.h"
#include "tracerec_priv.h"

static ProtobufCBinaryData bin(const void *p, size_t n)
{
	return (ProtobufCBinaryData){.len = n, .data = (uint8_t *)p};
}

/* NUL-separated strings as elements; *cut when the last one has no NUL. */
static int split(ProtobufCBinaryData **v, size_t *cap, const char *s, size_t n, size_t *count,
		 protobuf_c_boolean *cut)
{
	const char *end = s + n;
	size_t k = 0, l;
	int err;

	*cut = 0;
	while (s < end) {
		err = tr_grow((void **)v, cap, k + 1, sizeof(**v));
		if (err)
			return err;
		l = strnlen(s, (size_t)(end - s));
		(*v)[k++] = bin(s, l);
		if (s + l == end)
			*cut = 1;
		s += l + 1;
	}
	*count = k;
	return 0;
}

/* Where a span of the record starts, in the Event's terms. */
static void locate(Sprawl__Redaction *x, const struct sw_event *e, size_t off)
{
	const char *base = (const char *)e->hdr, *s, *end;
	const char *area = NULL;
	size_t area_len = 0, idx = 0, l;

	if (e->bytes_len && off >= (size_t)((const char *)e->bytes - base) &&
	    off < (size_t)((const char *)e->bytes - base) + e->bytes_len) {
		x->field = SPRAWL__REDACTED_FIELD__FIELD_DATA;
		x->field_offset = (uint32_t)(off - (size_t)((const char *)e->bytes - base));
		return;
	}
	if (e->args_len && off >= (size_t)(e->args - base) &&
	    off < (size_t)(e->args - base) + e->args_len) {
		x->field = SPRAWL__REDACTED_FIELD__FIELD_ARGV;
		area = e->args;
		area_len = e->args_len;
	} else if (e->env_len && off >= (size_t)(e->env - base) &&
		   off < (size_t)(e->env - base) + e->env_len) {
		x->field = SPRAWL__REDACTED_FIELD__FIELD_ENV;
		area = e->env;
		area_len = e->env_len;
	} else {
		x->field = SPRAWL__REDACTED_FIELD__FIELD_OTHER;
		x->field_offset = (uint32_t)off;
		return;
	}
	for (s = area, end = area + area_len; s < end; s += l + 1, idx++) {
		l = strnlen(s, (size_t)(end - s));
		if ((size_t)(s - base) + l >= off) {
			x->index = (uint32_t)idx;
			x->field_offset = (uint32_t)(off - (size_t)(s - base));
			return;
		}
	}
}

static int rules_to_event(struct sw_tracerec *t, const struct sw_event *e)
{
	const uint8_t *p = (const uint8_t *)e->path, *end = p + e->path_len;
	uint32_t nl, tl, i;
	int err;

	if (e->rules->nfiles > e->path_len / 8)
		return -EBADMSG;
	err = tr_grow((void **)&t->files, &t->files_cap, e->rules->nfiles, sizeof(*t->files));
	if (!err)
		err = tr_grow((void **)&t->filep, &t->filep_cap, e->rules->nfiles,
			      sizeof(*t->filep));
	if (err)
		return err;
	for (i = 0; i < e->rules->nfiles; i++) {
		if (end - p < 8)
			return -EBADMSG;
		memcpy(&nl, p, 4);
		memcpy(&tl, p + 4, 4);
		p += 8;
		if (nl > (size_t)(end - p) || tl > (size_t)(end - p) - nl)
			return -EBADMSG;
		sprawl__rule_file__init(&t->files[i]);
		t->files[i].name = bin(p, nl);
		t->files[i].text = bin(p + nl, tl);
		t->filep[i] = &t->files[i];
		p += nl + tl;
	}
	if (p != end)
		return -EBADMSG;
	sprawl__rules__init(&t->m.rules);
	t->m.rules.n_file = e->rules->nfiles;
	t->m.rules.file = t->filep;
	t->ev.rules = &t->m.rules;
	return 0;
}

static void data_to_event(struct sw_tracerec *t, const struct sw_event *e)
{
	const struct sw_data_rec *d = e->data;
	Sprawl__Data *m = &t->m.data;
	static const uint8_t zero[16];

	sprawl__data__init(m);
	m->syscall_nr = d->syscall_nr;
	m->fd = d->fd;
	m->total = d->total;
	m->offset = d->offset;
	m->file_pos = d->file_pos;
	m->art_kind = d->art_kind;
	m->dev = d->dev;
	m->ino = d->ino;
	m->gen = d->gen;
	m->path = bin(e->path, e->path_len);
	m->data = bin(e->bytes, e->bytes_len);
	m->family = d->family;
	m->sock_type = d->sock_type;
	m->protocol = d->protocol;
	m->port = d->port;
	m->guard = d->guard;
	/* An IPv4 peer is 4 bytes; an address that is all zero is no address. */
	if (memcmp(d->addr, zero, 16))
		m->addr = bin(d->addr, memcmp(d->addr + 4, zero, 12) ? 16 : 4);
	m->rdev = d->rdev;
	m->src_dev = d->src_dev;
	m->src_ino = d->src_ino;
	m->src_pos = d->src_pos;
	m->src_kind = d->src_kind;
	if (e->src_path)
		m->src_path = bin(e->src_path, e->src_path_len);
	t->ev.data = m;
}

static int record_to_event(struct sw_tracerec *t, const struct sw_event *e)
{
	protobuf_c_boolean cut;
	int err;

	switch (e->hdr->type) {
	case SW_EV_FORK:
		sprawl__fork__init(&t->m.fork);
		t->m.fork.parent_tgid = e->fork->parent_tgid;
		t->m.fork.child_tgid = e->fork->child_tgid;
		t->m.fork.cgroup_id = e->fork->cgroup_id;
		t->ev.fork = &t->m.fork;
		t->ev.record_case = SPRAWL__EVENT__RECORD_FORK;
		return 0;
	case SW_EV_EXEC:
		sprawl__exec__init(&t->m.exec);
		t->m.exec.filename = bin(e->filename, e->filename_len);
		err = split(&t->argv, &t->argv_cap, e->args, e->args_len, &t->m.exec.n_argv, &cut);
		if (err)
			return err;
		t->m.exec.argv = t->argv;
		t->m.exec.argv_cut = cut;
		err = split(&t->env, &t->env_cap, e->env, e->env_len, &t->m.exec.n_env, &cut);
		if (err)
			return err;
		t->m.exec.env = t->env;
		t->m.exec.env_cut = cut;
		t->m.exec.cgroup_id = e->exec->cgroup_id;
		t->m.exec.old_pid = e->exec->old_pid;
		t->ev.exec = &t->m.exec;
		t->ev.record_case = SPRAWL__EVENT__RECORD_EXEC;
		return 0;
	case SW_EV_EXIT:
		sprawl__exit__init(&t->m.exit);
		t->m.exit.exit_code = e->exit->exit_code;
		t->ev.exit = &t->m.exit;
		t->ev.record_case = SPRAWL__EVENT__RECORD_EXIT;
		return 0;
	case SW_EV_DATA:
		data_to_event(t, e);
		t->ev.record_case = SPRAWL__EVENT__RECORD_DATA;
		return 0;
	case SW_EV_OPEN:
		sprawl__open__init(&t->m.open);
		t->m.open.dev = e->open->dev;
		t->m.open.ino = e->open->ino;
		t->m.open.gen = e->open->gen;
		t->m.open.open_flags = e->open->open_flags;
		t->m.open.name_only = !e->open->origin;
		t->m.open.path = bin(e->path, e->path_len);
		t->ev.open = &t->m.open;
		t->ev.record_case = SPRAWL__EVENT__RECORD_OPEN;
		return 0;
	case SW_EV_RENAME:
		sprawl__rename__init(&t->m.rename);
		t->m.rename.syscall_nr = e->rename->syscall_nr;
		t->m.rename.dir = bin(e->path, e->path_len);
		t->m.rename.name = bin(e->src_path, e->src_path_len);
		t->m.rename.target = bin(e->filename, e->filename_len);
		t->ev.rename = &t->m.rename;
		t->ev.record_case = SPRAWL__EVENT__RECORD_RENAME;
		return 0;
	case SW_EV_CHANNEL:
		sprawl__channel__init(&t->m.channel);
		t->m.channel.channel = e->channel->channel;
		t->m.channel.dev = e->channel->dev;
		t->m.channel.ino = e->channel->ino;
		t->m.channel.gen = e->channel->gen;
		t->m.channel.detail = e->channel->detail;
		t->m.channel.path = bin(e->path, e->path_len);
		t->ev.channel = &t->m.channel;
		t->ev.record_case = SPRAWL__EVENT__RECORD_CHANNEL;
		return 0;
	case SW_EV_SESSION:
		sprawl__session__init(&t->m.session);
		t->m.session.agent = bin(e->session->agent,
					 strnlen(e->session->agent, sizeof(e->session->agent)));
		t->ev.session = &t->m.session;
		t->ev.record_case = SPRAWL__EVENT__RECORD_SESSION;
		return 0;
	case SW_EV_READER:
		sprawl__reader__init(&t->m.reader);
		t->m.reader.dev = e->reader->dev;
		t->m.reader.ino = e->reader->ino;
		t->m.reader.exe = bin(e->path, e->path_len);
		t->ev.reader = &t->m.reader;
		t->ev.record_case = SPRAWL__EVENT__RECORD_READER;
		return 0;
	case SW_EV_LOSS:
		sprawl__loss__init(&t->m.loss);
		t->m.loss.ringbuf_full = e->loss->loss.ringbuf_full;
		t->m.loss.truncated = e->loss->loss.truncated;
		t->m.loss.read_errors = e->loss->loss.read_errors;
		t->m.loss.path_truncated = e->loss->loss.path_truncated;
		t->m.loss.scope_full = e->loss->loss.scope_full;
		t->m.loss.copies_unread = e->loss->loss.copies_unread;
		t->m.loss.spilled = e->loss->loss.spilled;
		t->m.loss.down_since_ns = e->loss->down_since_ns;
		t->m.loss.drained_bytes = e->loss->drained_bytes;
		t->m.loss.dropped_bytes = e->loss->dropped_bytes;
		t->ev.loss = &t->m.loss;
		t->ev.record_case = SPRAWL__EVENT__RECORD_LOSS;
		return 0;
	case SW_EV_RENAMED:
		sprawl__renamed__init(&t->m.renamed);
		t->m.renamed.dev = e->renamed->dev;
		t->m.renamed.ino = e->renamed->ino;
		t->m.renamed.path = bin(e->path, e->path_len);
		t->ev.renamed = &t->m.renamed;
		t->ev.record_case = SPRAWL__EVENT__RECORD_RENAMED;
		return 0;
	case SW_EV_TICK:
		sprawl__tick__init(&t->m.tick);
		t->m.tick.realtime_ns = e->tick->realtime_ns;
		t->ev.tick = &t->m.tick;
		t->ev.record_case = SPRAWL__EVENT__RECORD_TICK;
		return 0;
	case SW_EV_PROC:
		sprawl__proc__init(&t->m.proc);
		t->m.proc.exe = bin(e->path, e->path_len);
		err = split(&t->argv, &t->argv_cap, e->args, e->args_len, &t->m.proc.n_argv, &cut);
		if (err)
			return err;
		t->m.proc.argv = t->argv;
		t->m.proc.argv_cut = cut;
		t->m.proc.cgroup = bin(e->cgroup, e->cgroup_len);
		t->ev.proc = &t->m.proc;
		t->ev.record_case = SPRAWL__EVENT__RECORD_PROC;
		return 0;
	case SW_EV_GUARDED:
		sprawl__guarded__init(&t->m.guarded);
		t->m.guarded.action = e->guarded->action;
		t->m.guarded.result = e->guarded->result;
		t->m.guarded.spans = e->guarded->spans;
		t->ev.guarded = &t->m.guarded;
		t->ev.record_case = SPRAWL__EVENT__RECORD_GUARDED;
		return 0;
	case SW_EV_CLOSED:
		sprawl__closed__init(&t->m.closed);
		t->m.closed.dev = e->closed->dev;
		t->m.closed.ino = e->closed->ino;
		t->ev.closed = &t->m.closed;
		t->ev.record_case = SPRAWL__EVENT__RECORD_CLOSED;
		return 0;
	case SW_EV_RULES:
		t->ev.record_case = SPRAWL__EVENT__RECORD_RULES;
		return rules_to_event(t, e);
	default:
		return -EBADMSG;
	}
}

int sw_tracerec__to_event(struct sw_tracerec *t, const void *rec, size_t len,
			  const struct sw_redaction *r, size_t nr, const Sprawl__Event **out)
{
	const struct sw_hdr *h;
	struct sw_event e;
	size_t i, n, size;
	int err;

	if (!t || !rec || (!r && nr) || !out)
		return -EINVAL;
	if (sw_event__decode(rec, len, &e))
		return -EBADMSG;
	h = e.hdr;
	size = h->size;
	sprawl__event__init(&t->ev);
	sprawl__header__init(&t->hdr);
	t->hdr.flags = h->flags;
	t->hdr.ktime = h->ktime;
	t->hdr.pid = h->pid;
	t->hdr.tgid = h->tgid;
	t->hdr.ppid = h->ppid;
	t->hdr.uid = h->uid;
	t->hdr.session_id = h->session_id;
	t->hdr.comm = bin(h->comm, strnlen(h->comm, sizeof(h->comm)));
	t->ev.hdr = &t->hdr;
	err = record_to_event(t, &e);
	if (err)
		return err;
	err = tr_grow((void **)&t->pr, &t->pr_cap, nr, sizeof(*t->pr));
	if (!err)
		err = tr_grow((void **)&t->prp, &t->prp_cap, nr, sizeof(*t->prp));
	if (err)
		return err;
	for (i = n = 0; i < nr; i++) {
		Sprawl__Redaction *x = &t->pr[n];

		/* Bytes past hdr.size are no part of the record and are not kept. */
		if (r[i].offset > size || (r[i].offset == size && r[i].length))
			continue;
		sprawl__redaction__init(x);
		x->offset = r[i].offset;
		x->length = r[i].length < size - r[i].offset ? r[i].length
							     : (uint32_t)(size - r[i].offset);
		x->secret_id = bin(r[i].secret_id, sizeof(r[i].secret_id));
		x->variant = r[i].variant;
		locate(x, &e, r[i].offset);
		t->prp[n++] = x;
	}
	t->ev.n_redaction = n;
	t->ev.redaction = t->prp;
	*out = &t->ev;
	return 0;
}
