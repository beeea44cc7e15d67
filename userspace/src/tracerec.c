// SPDX-License-Identifier: Apache-2.0
/* See tracerec.h. To an Event: every byte field points into the record (no copy), the messages
 * live in this object. From an Event: the record is laid out as event.c reads it, fixed part
 * then tails in order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fingerprint.h"
#include "sprawl_events.h"
#include "tracerec.h"

struct sw_tracerec {
	/* to_event */
	Sprawl__Event ev;
	Sprawl__Header hdr;
	union {
		Sprawl__Fork fork;
		Sprawl__Exec exec;
		Sprawl__Exit exit;
		Sprawl__Data data;
		Sprawl__Open open;
		Sprawl__Rename rename;
		Sprawl__Channel channel;
		Sprawl__Session session;
		Sprawl__Reader reader;
		Sprawl__Loss loss;
		Sprawl__Renamed renamed;
		Sprawl__Tick tick;
		Sprawl__Proc proc;
		Sprawl__Closed closed;
		Sprawl__Rules rules;
	} m;
	ProtobufCBinaryData *argv, *env;
	size_t argv_cap, env_cap;
	Sprawl__RuleFile *files;
	Sprawl__RuleFile **filep;
	size_t files_cap, filep_cap;
	Sprawl__Redaction *pr;
	Sprawl__Redaction **prp;
	size_t pr_cap, prp_cap;

	/* from_event */
	uint8_t *rec;
	size_t rec_cap;
	struct sw_redaction *red;
	size_t red_cap;
};

struct sw_tracerec *sw_tracerec__new(void)
{
	return calloc(1, sizeof(struct sw_tracerec));
}

void sw_tracerec__free(struct sw_tracerec *t)
{
	if (!t)
		return;
	free(t->argv);
	free(t->env);
	free(t->files);
	free(t->filep);
	free(t->pr);
	free(t->prp);
	free(t->rec);
	free(t->red);
	free(t);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

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
		err = grow((void **)v, cap, k + 1, sizeof(**v));
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
	err = grow((void **)&t->files, &t->files_cap, e->rules->nfiles, sizeof(*t->files));
	if (!err)
		err = grow((void **)&t->filep, &t->filep_cap, e->rules->nfiles, sizeof(*t->filep));
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
		t->m.open.path = bin(e->path, e->path_len);
		t->ev.open = &t->m.open;
		t->ev.record_case = SPRAWL__EVENT__RECORD_OPEN;
		return 0;
	case SW_EV_RENAME:
		sprawl__rename__init(&t->m.rename);
		t->m.rename.syscall_nr = e->rename->syscall_nr;
		t->m.rename.dir = bin(e->path, e->path_len);
		t->m.rename.name = bin(e->src_path, e->src_path_len);
		t->ev.rename = &t->m.rename;
		t->ev.record_case = SPRAWL__EVENT__RECORD_RENAME;
		return 0;
	case SW_EV_CHANNEL:
		sprawl__channel__init(&t->m.channel);
		t->m.channel.channel = e->channel->channel;
		t->m.channel.dev = e->channel->dev;
		t->m.channel.ino = e->channel->ino;
		t->m.channel.gen = e->channel->gen;
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
	err = grow((void **)&t->pr, &t->pr_cap, nr, sizeof(*t->pr));
	if (!err)
		err = grow((void **)&t->prp, &t->prp_cap, nr, sizeof(*t->prp));
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

/* ---- from an Event ---- */

/* Bytes an element list takes as NUL-separated strings. */
static size_t strv_len(const ProtobufCBinaryData *v, size_t n, protobuf_c_boolean cut)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		len += v[i].len + 1;
	return len - (n && cut);
}

static uint8_t *put(uint8_t *p, ProtobufCBinaryData b)
{
	if (b.len)
		memcpy(p, b.data, b.len);
	return p + b.len;
}

static uint8_t *put_strv(uint8_t *p, const ProtobufCBinaryData *v, size_t n, protobuf_c_boolean cut)
{
	size_t i;

	for (i = 0; i < n; i++) {
		p = put(p, v[i]);
		if (i + 1 < n || !cut)
			*p++ = 0;
	}
	return p;
}

/* The record's size from the Event, with every length checked against its kernel limit. */
static int record_size(const Sprawl__Event *ev, size_t *out)
{
	size_t a, b, c;

	switch (ev->record_case) {
	case SPRAWL__EVENT__RECORD_FORK:
		*out = sizeof(struct sw_fork_rec);
		return 0;
	case SPRAWL__EVENT__RECORD_EXIT:
		*out = sizeof(struct sw_exit_rec);
		return 0;
	case SPRAWL__EVENT__RECORD_EXEC:
		a = strv_len(ev->exec->argv, ev->exec->n_argv, ev->exec->argv_cut);
		b = strv_len(ev->exec->env, ev->exec->n_env, ev->exec->env_cut);
		if (ev->exec->filename.len > SW_PATH_LEN || a > SW_ARGS_LEN || b > SW_ENV_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_exec_rec) + ev->exec->filename.len + a + b;
		return 0;
	case SPRAWL__EVENT__RECORD_DATA:
		a = ev->data->path.len;
		b = ev->data->data.len;
		c = ev->data->src_path.len;
		if (a > SW_PATH_LEN || b > SW_CHUNK || c > SW_PATH_LEN || ev->data->addr.len > 16 ||
		    (c && b))
			return -EBADMSG;
		*out = sizeof(struct sw_data_rec) + a + b + c;
		return 0;
	case SPRAWL__EVENT__RECORD_OPEN:
		if (ev->open->path.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_open_rec) + ev->open->path.len;
		return 0;
	case SPRAWL__EVENT__RECORD_RENAME:
		if (ev->rename->dir.len > SW_PATH_LEN || ev->rename->name.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_rename_rec) + ev->rename->dir.len + ev->rename->name.len;
		return 0;
	case SPRAWL__EVENT__RECORD_CHANNEL:
		if (ev->channel->path.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_channel_rec) + ev->channel->path.len;
		return 0;
	case SPRAWL__EVENT__RECORD_SESSION:
		if (ev->session->agent.len > sizeof(((struct sw_session_rec *)0)->agent))
			return -EBADMSG;
		*out = sizeof(struct sw_session_rec);
		return 0;
	case SPRAWL__EVENT__RECORD_READER:
		if (ev->reader->exe.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_reader_rec) + ev->reader->exe.len;
		return 0;
	case SPRAWL__EVENT__RECORD_LOSS:
		*out = sizeof(struct sw_loss_rec);
		return 0;
	case SPRAWL__EVENT__RECORD_RENAMED:
		if (ev->renamed->path.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_renamed_rec) + ev->renamed->path.len;
		return 0;
	case SPRAWL__EVENT__RECORD_TICK:
		*out = sizeof(struct sw_tick_rec);
		return 0;
	case SPRAWL__EVENT__RECORD_PROC:
		a = strv_len(ev->proc->argv, ev->proc->n_argv, ev->proc->argv_cut);
		if (ev->proc->exe.len > SW_PATH_LEN || a > SW_ARGS_LEN ||
		    ev->proc->cgroup.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_proc_rec) + ev->proc->exe.len + a + ev->proc->cgroup.len;
		return 0;
	case SPRAWL__EVENT__RECORD_CLOSED:
		*out = sizeof(struct sw_closed_rec);
		return 0;
	case SPRAWL__EVENT__RECORD_RULES:
		for (a = b = 0; a < ev->rules->n_file; a++) {
			if (ev->rules->file[a]->name.len > SW_RULES_REC_MAX ||
			    ev->rules->file[a]->text.len > SW_RULES_REC_MAX)
				return -EBADMSG;
			b += 8 + ev->rules->file[a]->name.len + ev->rules->file[a]->text.len;
			if (b > SW_RULES_REC_MAX)
				return -EBADMSG;
		}
		*out = sizeof(struct sw_rules_rec) + b;
		return 0;
	default:
		return -EBADMSG;
	}
}

static void build(const Sprawl__Event *ev, uint8_t *rec)
{
	const Sprawl__Header *mh = ev->hdr;
	struct sw_hdr *h = (struct sw_hdr *)rec;
	uint8_t *p;
	uint32_t u;
	size_t i;

	h->flags = (uint16_t)mh->flags;
	h->ktime = mh->ktime;
	h->pid = mh->pid;
	h->tgid = mh->tgid;
	h->ppid = mh->ppid;
	h->uid = mh->uid;
	h->session_id = mh->session_id;
	put((uint8_t *)h->comm, mh->comm);
	switch (ev->record_case) {
	case SPRAWL__EVENT__RECORD_FORK: {
		struct sw_fork_rec *r = (void *)rec;

		h->type = SW_EV_FORK;
		r->parent_tgid = ev->fork->parent_tgid;
		r->child_tgid = ev->fork->child_tgid;
		break;
	}
	case SPRAWL__EVENT__RECORD_EXEC: {
		struct sw_exec_rec *r = (void *)rec;
		const Sprawl__Exec *m = ev->exec;

		h->type = SW_EV_EXEC;
		r->filename_len = (uint32_t)m->filename.len;
		r->args_len = (uint32_t)strv_len(m->argv, m->n_argv, m->argv_cut);
		r->env_len = (uint32_t)strv_len(m->env, m->n_env, m->env_cut);
		r->old_pid = m->old_pid;
		p = put(rec + sizeof(*r), m->filename);
		p = put_strv(p, m->argv, m->n_argv, m->argv_cut);
		put_strv(p, m->env, m->n_env, m->env_cut);
		break;
	}
	case SPRAWL__EVENT__RECORD_EXIT: {
		struct sw_exit_rec *r = (void *)rec;

		h->type = SW_EV_EXIT;
		r->exit_code = ev->exit->exit_code;
		break;
	}
	case SPRAWL__EVENT__RECORD_DATA: {
		struct sw_data_rec *r = (void *)rec;
		const Sprawl__Data *m = ev->data;

		h->type = SW_EV_DATA;
		r->syscall_nr = m->syscall_nr;
		r->fd = m->fd;
		r->total = m->total;
		r->offset = m->offset;
		r->file_pos = m->file_pos;
		r->dev = m->dev;
		r->ino = m->ino;
		r->path_len = (uint32_t)m->path.len;
		r->data_len = (uint32_t)m->data.len;
		r->art_kind = (uint16_t)m->art_kind;
		r->family = (uint16_t)m->family;
		r->sock_type = (uint16_t)m->sock_type;
		r->protocol = (uint16_t)m->protocol;
		r->port = (uint16_t)m->port;
		r->rdev = m->rdev;
		put(r->addr, m->addr);
		r->src_dev = m->src_dev;
		r->src_ino = m->src_ino;
		r->src_pos = m->src_pos;
		r->src_kind = (uint16_t)m->src_kind;
		r->src_path_len = (uint32_t)m->src_path.len;
		r->gen = m->gen;
		p = put(rec + sizeof(*r), m->path);
		p = put(p, m->data);
		put(p, m->src_path);
		break;
	}
	case SPRAWL__EVENT__RECORD_OPEN: {
		struct sw_open_rec *r = (void *)rec;

		h->type = SW_EV_OPEN;
		r->dev = ev->open->dev;
		r->ino = ev->open->ino;
		r->open_flags = ev->open->open_flags;
		r->path_len = (uint32_t)ev->open->path.len;
		r->gen = ev->open->gen;
		put(rec + sizeof(*r), ev->open->path);
		break;
	}
	case SPRAWL__EVENT__RECORD_RENAME: {
		struct sw_rename_rec *r = (void *)rec;

		h->type = SW_EV_RENAME;
		r->syscall_nr = ev->rename->syscall_nr;
		r->dir_len = (uint32_t)ev->rename->dir.len;
		r->name_len = (uint32_t)ev->rename->name.len;
		put(put(rec + sizeof(*r), ev->rename->dir), ev->rename->name);
		break;
	}
	case SPRAWL__EVENT__RECORD_CHANNEL: {
		struct sw_channel_rec *r = (void *)rec;

		h->type = SW_EV_CHANNEL;
		r->channel = ev->channel->channel;
		r->path_len = (uint32_t)ev->channel->path.len;
		r->dev = ev->channel->dev;
		r->ino = ev->channel->ino;
		r->gen = ev->channel->gen;
		put(rec + sizeof(*r), ev->channel->path);
		break;
	}
	case SPRAWL__EVENT__RECORD_SESSION: {
		struct sw_session_rec *r = (void *)rec;

		h->type = SW_EV_SESSION;
		put((uint8_t *)r->agent, ev->session->agent);
		break;
	}
	case SPRAWL__EVENT__RECORD_READER: {
		struct sw_reader_rec *r = (void *)rec;

		h->type = SW_EV_READER;
		r->dev = ev->reader->dev;
		r->ino = ev->reader->ino;
		r->exe_len = (uint32_t)ev->reader->exe.len;
		put(rec + sizeof(*r), ev->reader->exe);
		break;
	}
	case SPRAWL__EVENT__RECORD_LOSS: {
		struct sw_loss_rec *r = (void *)rec;

		h->type = SW_EV_LOSS;
		r->loss.ringbuf_full = ev->loss->ringbuf_full;
		r->loss.truncated = ev->loss->truncated;
		r->loss.read_errors = ev->loss->read_errors;
		r->loss.path_truncated = ev->loss->path_truncated;
		r->loss.scope_full = ev->loss->scope_full;
		r->loss.copies_unread = ev->loss->copies_unread;
		break;
	}
	case SPRAWL__EVENT__RECORD_RENAMED: {
		struct sw_renamed_rec *r = (void *)rec;

		h->type = SW_EV_RENAMED;
		r->dev = ev->renamed->dev;
		r->ino = ev->renamed->ino;
		r->path_len = (uint32_t)ev->renamed->path.len;
		put(rec + sizeof(*r), ev->renamed->path);
		break;
	}
	case SPRAWL__EVENT__RECORD_TICK: {
		struct sw_tick_rec *r = (void *)rec;

		h->type = SW_EV_TICK;
		r->realtime_ns = ev->tick->realtime_ns;
		break;
	}
	case SPRAWL__EVENT__RECORD_PROC: {
		struct sw_proc_rec *r = (void *)rec;
		const Sprawl__Proc *m = ev->proc;

		h->type = SW_EV_PROC;
		r->exe_len = (uint32_t)m->exe.len;
		r->args_len = (uint32_t)strv_len(m->argv, m->n_argv, m->argv_cut);
		r->cgroup_len = (uint32_t)m->cgroup.len;
		p = put(rec + sizeof(*r), m->exe);
		p = put_strv(p, m->argv, m->n_argv, m->argv_cut);
		put(p, m->cgroup);
		break;
	}
	case SPRAWL__EVENT__RECORD_CLOSED: {
		struct sw_closed_rec *r = (void *)rec;

		h->type = SW_EV_CLOSED;
		r->dev = ev->closed->dev;
		r->ino = ev->closed->ino;
		break;
	}
	case SPRAWL__EVENT__RECORD_RULES: {
		struct sw_rules_rec *r = (void *)rec;

		h->type = SW_EV_RULES;
		r->nfiles = (uint32_t)ev->rules->n_file;
		p = rec + sizeof(*r);
		for (i = 0; i < ev->rules->n_file; i++) {
			u = (uint32_t)ev->rules->file[i]->name.len;
			memcpy(p, &u, 4);
			u = (uint32_t)ev->rules->file[i]->text.len;
			memcpy(p + 4, &u, 4);
			p = put(put(p + 8, ev->rules->file[i]->name), ev->rules->file[i]->text);
		}
		r->len = (uint32_t)(p - (rec + sizeof(*r)));
		break;
	}
	default:
		break;
	}
}

int sw_tracerec__from_event(struct sw_tracerec *t, const Sprawl__Event *ev, const uint8_t **rec,
			    size_t *len, const struct sw_redaction **red, size_t *nred)
{
	const Sprawl__Redaction *x;
	size_t size, i;
	int err;

	if (!t || !ev || !rec || !len || !red || !nred)
		return -EINVAL;
	if (!ev->hdr || ev->hdr->comm.len > SW_COMM_LEN ||
	    ev->n_redaction > SW_TRACELOG_REDACTIONS_MAX)
		return -EBADMSG;
	err = record_size(ev, &size);
	if (err)
		return err;
	err = grow((void **)&t->rec, &t->rec_cap, size, 1);
	if (!err)
		err = grow((void **)&t->red, &t->red_cap, ev->n_redaction, sizeof(*t->red));
	if (err)
		return err;
	/* Only the fixed part needs zeroing: the tails are written whole. */
	memset(t->rec, 0, sizeof(struct sw_data_rec) < size ? sizeof(struct sw_data_rec) : size);
	build(ev, t->rec);
	((struct sw_hdr *)t->rec)->size = (uint32_t)size;
	for (i = 0; i < ev->n_redaction; i++) {
		x = ev->redaction[i];
		if (x->secret_id.len != sizeof(t->red[i].secret_id) || x->offset > size ||
		    x->length > size - x->offset)
			return -EBADMSG;
		t->red[i].offset = x->offset;
		t->red[i].length = x->length;
		memcpy(t->red[i].secret_id, x->secret_id.data, sizeof(t->red[i].secret_id));
		t->red[i].variant = x->variant;
	}
	*rec = t->rec;
	*len = size;
	*red = t->red;
	*nred = ev->n_redaction;
	return 0;
}
