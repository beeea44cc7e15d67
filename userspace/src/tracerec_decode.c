// SPDX-License-Identifier: Apache-2.0
/* Trace-log Events to records (see tracerec.h): the record is laid out as event.c reads it,
 * fixed part then tails in order, in the sw_tracerec object's buffer. */
#include <errno.h>
#include <string.h>

#include "sprawl_events.h"
#include "tracerec_priv.h"

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
		if (ev->rename->dir.len > SW_PATH_LEN || ev->rename->name.len > SW_PATH_LEN ||
		    ev->rename->target.len > SW_PATH_LEN)
			return -EBADMSG;
		*out = sizeof(struct sw_rename_rec) + ev->rename->dir.len + ev->rename->name.len +
		       ev->rename->target.len;
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
	case SPRAWL__EVENT__RECORD_GUARDED:
		*out = sizeof(struct sw_guarded_rec);
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
		r->cgroup_id = ev->fork->cgroup_id;
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
		r->cgroup_id = m->cgroup_id;
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
		r->guard = (uint16_t)m->guard;
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
		r->origin = !ev->open->name_only;
		put(rec + sizeof(*r), ev->open->path);
		break;
	}
	case SPRAWL__EVENT__RECORD_RENAME: {
		struct sw_rename_rec *r = (void *)rec;

		h->type = SW_EV_RENAME;
		r->syscall_nr = ev->rename->syscall_nr;
		r->dir_len = (uint32_t)ev->rename->dir.len;
		r->name_len = (uint32_t)ev->rename->name.len;
		r->target_len = (uint32_t)ev->rename->target.len;
		put(put(put(rec + sizeof(*r), ev->rename->dir), ev->rename->name),
		    ev->rename->target);
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
		r->detail = ev->channel->detail;
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
		r->loss.spilled = ev->loss->spilled;
		r->down_since_ns = ev->loss->down_since_ns;
		r->drained_bytes = ev->loss->drained_bytes;
		r->dropped_bytes = ev->loss->dropped_bytes;
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
	case SPRAWL__EVENT__RECORD_GUARDED: {
		struct sw_guarded_rec *r = (void *)rec;

		h->type = SW_EV_GUARDED;
		r->action = ev->guarded->action;
		r->result = ev->guarded->result;
		r->spans = ev->guarded->spans;
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
	err = tr_grow((void **)&t->rec, &t->rec_cap, size, 1);
	if (!err)
		err = tr_grow((void **)&t->red, &t->red_cap, ev->n_redaction, sizeof(*t->red));
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
