// SPDX-License-Identifier: Apache-2.0
/* Records <-> typed Events: every record kind, with random contents, goes to an Event, through
 * protobuf's wire format and back to the identical C record; redactions keep their offsets and
 * say where they are in the Event's terms; invalid records and Events are refused. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "event.h"
#include "sprawl.pb-c.h"
#include "sprawl_events.h"
#include "testutil.h"
#include "tracerec.h"

#define BUF (SW_RULES_REC_MAX + 4096)

/* Printable text, so NUL-separated areas get the NULs the test puts in. */
static void text(struct rng *r, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(' ' + rng_next(r) % 95);
}

/* NUL-separated strings filling n bytes; the last one unterminated when cut. */
static void strv(struct rng *r, uint8_t *p, size_t n, int cut)
{
	size_t i;

	text(r, p, n);
	for (i = 0; i < n; i++)
		if (rng_next(r) % 9 == 0)
			p[i] = 0;
	if (n && !cut)
		p[n - 1] = 0;
	if (n && cut)
		p[n - 1] = 'x';
}

static void hdr(struct rng *r, struct sw_hdr *h, uint16_t type, size_t size)
{
	h->type = type;
	h->flags = (uint16_t)rng_next(r);
	h->size = (uint32_t)size;
	h->ktime = rng_next(r);
	h->pid = (uint32_t)rng_next(r);
	h->tgid = (uint32_t)rng_next(r);
	h->ppid = (uint32_t)rng_next(r);
	h->uid = (uint32_t)rng_next(r);
	h->session_id = rng_next(r);
	text(r, (uint8_t *)h->comm, rng_range(r, 0, SW_COMM_LEN));
}

/* A random valid record of the given type, pads zero, in buf; returns its size. */
static size_t make(struct rng *r, uint16_t type, uint8_t *buf)
{
	size_t a, b, c, n = 0;
	int copy = 0;
	uint8_t *t;
	uint32_t i;

	memset(buf, 0, BUF);
	switch (type) {
	case SW_EV_FORK: {
		struct sw_fork_rec *x = (void *)buf;

		x->parent_tgid = (uint32_t)rng_next(r);
		x->cgroup_id = rng_next(r);
		x->child_tgid = (uint32_t)rng_next(r);
		n = sizeof(*x);
		break;
	}
	case SW_EV_EXEC: {
		struct sw_exec_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		b = rng_range(r, 0, SW_ARGS_LEN);
		c = rng_range(r, 0, SW_ENV_LEN);
		x->filename_len = (uint32_t)a;
		x->args_len = (uint32_t)b;
		x->env_len = (uint32_t)c;
		x->old_pid = (uint32_t)rng_next(r);
		x->cgroup_id = rng_next(r);
		t = buf + sizeof(*x);
		text(r, t, a);
		strv(r, t + a, b, rng_next(r) & 1);
		strv(r, t + a + b, c, rng_next(r) & 1);
		n = sizeof(*x) + a + b + c;
		break;
	}
	case SW_EV_EXIT: {
		struct sw_exit_rec *x = (void *)buf;

		x->exit_code = (int32_t)rng_next(r);
		n = sizeof(*x);
		break;
	}
	case SW_EV_DATA: {
		struct sw_data_rec *x = (void *)buf;

		copy = rng_next(r) & 1 ? SW_F_COPY : 0;

		a = rng_range(r, 0, SW_PATH_LEN);
		b = copy ? 0 : rng_range(r, 0, SW_CHUNK);
		c = copy ? rng_range(r, 0, SW_PATH_LEN) : 0;
		x->syscall_nr = (uint32_t)rng_next(r);
		x->fd = (int32_t)rng_next(r);
		x->total = rng_next(r);
		x->offset = rng_next(r);
		x->file_pos = (int64_t)rng_next(r);
		x->dev = rng_next(r);
		x->ino = rng_next(r);
		x->path_len = (uint32_t)a;
		x->data_len = (uint32_t)b;
		x->art_kind = (uint16_t)rng_range(r, 0, 4);
		x->family = (uint16_t)rng_next(r);
		x->sock_type = (uint16_t)rng_next(r);
		x->protocol = (uint16_t)rng_next(r);
		x->port = (uint16_t)rng_next(r);
		x->rdev = (uint32_t)rng_next(r);
		/* no address, an IPv4 one, or 16 bytes */
		rng_fill(r, x->addr, (size_t[]){0, 4, 16}[rng_next(r) % 3]);
		x->src_dev = rng_next(r);
		x->src_ino = rng_next(r);
		x->src_pos = (int64_t)rng_next(r);
		x->src_kind = (uint16_t)rng_range(r, 0, 4);
		x->src_path_len = (uint32_t)c;
		x->gen = (uint32_t)rng_next(r);
		t = buf + sizeof(*x);
		text(r, t, a);
		rng_fill(r, t + a, b); /* data is any bytes, NULs included */
		text(r, t + a + b, c);
		n = sizeof(*x) + a + b + c;
		break;
	}
	case SW_EV_OPEN: {
		struct sw_open_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		x->dev = rng_next(r);
		x->ino = rng_next(r);
		x->open_flags = (uint32_t)rng_next(r);
		x->path_len = (uint32_t)a;
		x->gen = (uint32_t)rng_next(r);
		text(r, buf + sizeof(*x), a);
		n = sizeof(*x) + a;
		break;
	}
	case SW_EV_RENAME: {
		struct sw_rename_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		b = rng_range(r, 0, SW_PATH_LEN);
		c = rng_range(r, 0, 2) ? rng_range(r, 0, SW_PATH_LEN) : 0; /* a symlink's target */
		x->syscall_nr = (uint32_t)rng_next(r);
		x->dir_len = (uint32_t)a;
		x->name_len = (uint32_t)b;
		x->target_len = (uint32_t)c;
		text(r, buf + sizeof(*x), a + b + c);
		n = sizeof(*x) + a + b + c;
		break;
	}
	case SW_EV_CHANNEL: {
		struct sw_channel_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		x->channel = (uint32_t)rng_range(r, 1, 3);
		x->path_len = (uint32_t)a;
		x->dev = rng_next(r);
		x->ino = rng_next(r);
		x->gen = (uint32_t)rng_next(r);
		text(r, buf + sizeof(*x), a);
		n = sizeof(*x) + a;
		break;
	}
	case SW_EV_SESSION: {
		struct sw_session_rec *x = (void *)buf;

		text(r, (uint8_t *)x->agent, rng_range(r, 0, sizeof(x->agent)));
		n = sizeof(*x);
		break;
	}
	case SW_EV_READER: {
		struct sw_reader_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		x->dev = rng_next(r);
		x->ino = rng_next(r);
		x->exe_len = (uint32_t)a;
		text(r, buf + sizeof(*x), a);
		n = sizeof(*x) + a;
		break;
	}
	case SW_EV_LOSS: {
		struct sw_loss_rec *x = (void *)buf;

		x->loss.ringbuf_full = rng_next(r);
		x->loss.truncated = rng_next(r);
		x->loss.read_errors = rng_next(r);
		x->loss.path_truncated = rng_next(r);
		x->loss.scope_full = rng_next(r);
		x->loss.copies_unread = rng_next(r);
		x->loss.spilled = rng_next(r);
		x->down_since_ns = rng_next(r);
		x->drained_bytes = rng_next(r);
		x->dropped_bytes = rng_next(r);
		n = sizeof(*x);
		break;
	}
	case SW_EV_RENAMED: {
		struct sw_renamed_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		x->dev = rng_next(r);
		x->ino = rng_next(r);
		x->path_len = (uint32_t)a;
		text(r, buf + sizeof(*x), a);
		n = sizeof(*x) + a;
		break;
	}
	case SW_EV_TICK: {
		struct sw_tick_rec *x = (void *)buf;

		x->realtime_ns = rng_next(r);
		n = sizeof(*x);
		break;
	}
	case SW_EV_PROC: {
		struct sw_proc_rec *x = (void *)buf;

		a = rng_range(r, 0, SW_PATH_LEN);
		b = rng_range(r, 0, SW_ARGS_LEN);
		c = rng_range(r, 0, SW_PATH_LEN);
		x->exe_len = (uint32_t)a;
		x->args_len = (uint32_t)b;
		x->cgroup_len = (uint32_t)c;
		t = buf + sizeof(*x);
		text(r, t, a);
		strv(r, t + a, b, rng_next(r) & 1);
		text(r, t + a + b, c);
		n = sizeof(*x) + a + b + c;
		break;
	}
	case SW_EV_CLOSED: {
		struct sw_closed_rec *x = (void *)buf;

		x->dev = rng_next(r);
		x->ino = rng_next(r);
		n = sizeof(*x);
		break;
	}
	case SW_EV_RULES: {
		struct sw_rules_rec *x = (void *)buf;
		uint32_t nl, tl;

		x->nfiles = (uint32_t)rng_range(r, 0, 4);
		t = buf + sizeof(*x);
		for (i = 0; i < x->nfiles; i++) {
			nl = (uint32_t)rng_range(r, 0, 40);
			tl = (uint32_t)rng_range(r, 0, 60000);
			memcpy(t, &nl, 4);
			memcpy(t + 4, &tl, 4);
			text(r, t + 8, nl + tl);
			t += 8 + nl + tl;
		}
		x->len = (uint32_t)(t - (buf + sizeof(*x)));
		n = sizeof(*x) + x->len;
		break;
	}
	}
	hdr(r, (struct sw_hdr *)buf, type, n);
	/* The copy flag decides a data record's layout. */
	((struct sw_hdr *)buf)->flags &= (uint16_t)~SW_F_COPY;
	((struct sw_hdr *)buf)->flags |= (uint16_t)copy;
	return n;
}

static const uint16_t kinds[] = {SW_EV_FORK,   SW_EV_EXEC,   SW_EV_EXIT,    SW_EV_DATA,
				 SW_EV_OPEN,   SW_EV_RENAME, SW_EV_CHANNEL, SW_EV_SESSION,
				 SW_EV_READER, SW_EV_LOSS,   SW_EV_RENAMED, SW_EV_TICK,
				 SW_EV_PROC,   SW_EV_CLOSED, SW_EV_RULES};

/* rec -> Event -> bytes -> Event -> rec, which must be rec again. */
static void round_trip(struct sw_tracerec *a, struct sw_tracerec *b, const uint8_t *rec, size_t n,
		       const struct sw_redaction *red, size_t nred, const struct sw_redaction **out,
		       size_t *nout)
{
	const Sprawl__Event *ev;
	Sprawl__Event *back;
	const uint8_t *rec2;
	uint8_t *wire;
	size_t len, n2;

	assert_int_equal(sw_tracerec__to_event(a, rec, n, red, nred, &ev), 0);
	len = sprawl__event__get_packed_size(ev);
	wire = malloc(len + 1);
	assert_int_equal(sprawl__event__pack(ev, wire), len);
	back = sprawl__event__unpack(NULL, len, wire);
	assert_non_null(back);
	assert_int_equal(sw_tracerec__from_event(b, back, &rec2, &n2, out, nout), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(rec2, rec, n);
	sprawl__event__free_unpacked(back, NULL);
	free(wire);
}

static void test_every_kind(void **state)
{
	struct sw_tracerec *a = sw_tracerec__new(), *b = sw_tracerec__new();
	uint8_t *buf = malloc(BUF);
	const struct sw_redaction *out;
	struct sw_event e;
	struct rng r = {77};
	size_t k, i, n, nout;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (i = 0; i < 200; i++) {
			n = make(&r, kinds[k], buf);
			assert_int_equal(sw_event__decode(buf, n, &e), 0);
			round_trip(a, b, buf, n, NULL, 0, &out, &nout);
			assert_int_equal(nout, 0);
		}
	}
	sw_tracerec__free(a);
	sw_tracerec__free(b);
	sw_tracerec__free(NULL);
	free(buf);
}

/* The typed fields are what the record says: a reader of the .proto sees argv, env, data. */
static void test_typed_fields(void **state)
{
	struct sw_tracerec *t = sw_tracerec__new();
	uint8_t buf[1024];
	struct sw_exec_rec *x = (void *)buf;
	struct sw_data_rec *d = (void *)buf;
	const Sprawl__Event *ev;
	const char tail[] = "/bin/shsh\0-c\0echo hi\0HOME=/root\0PATH=/bin";

	(void)state;
	memset(buf, 0, sizeof(buf));
	x->hdr.type = SW_EV_EXEC;
	x->hdr.size = (uint32_t)(sizeof(*x) + sizeof(tail) - 1);
	x->hdr.ktime = 42;
	x->hdr.tgid = 7;
	memcpy(x->hdr.comm, "sh", 2);
	x->filename_len = 7;
	x->args_len = 3 + 3 + 8;
	x->env_len = 11 + 9;
	memcpy(buf + sizeof(*x), tail, sizeof(tail) - 1);
	assert_int_equal(sw_tracerec__to_event(t, buf, x->hdr.size, NULL, 0, &ev), 0);
	assert_int_equal(ev->record_case, SPRAWL__EVENT__RECORD_EXEC);
	assert_int_equal(ev->hdr->ktime, 42);
	assert_int_equal(ev->hdr->tgid, 7);
	assert_int_equal(ev->hdr->comm.len, 2);
	assert_int_equal(ev->exec->filename.len, 7);
	assert_int_equal(ev->exec->n_argv, 3);
	assert_memory_equal(ev->exec->argv[2].data, "echo hi", 7);
	assert_int_equal(ev->exec->argv[2].len, 7);
	assert_false(ev->exec->argv_cut);
	assert_int_equal(ev->exec->n_env, 2);
	assert_memory_equal(ev->exec->env[1].data, "PATH=/bin", 9);
	assert_true(ev->exec->env_cut); /* the environment area lost its last NUL */

	memset(buf, 0, sizeof(buf));
	d->hdr.type = SW_EV_DATA;
	d->hdr.flags = SW_F_FIRST;
	d->path_len = 4;
	d->data_len = 5;
	d->family = 2;
	d->art_kind = SW_AK_SOCKET;
	memcpy(d->addr, "\x7f\0\0\x01", 4);
	d->port = 8080;
	memcpy(buf + sizeof(*d), "/tmphello", 9);
	d->hdr.size = sizeof(*d) + 9;
	assert_int_equal(sw_tracerec__to_event(t, buf, d->hdr.size, NULL, 0, &ev), 0);
	assert_int_equal(ev->record_case, SPRAWL__EVENT__RECORD_DATA);
	assert_int_equal(ev->data->art_kind, SPRAWL__ARTIFACT_KIND__ART_SOCKET);
	assert_int_equal(ev->data->addr.len, 4);
	assert_int_equal(ev->data->port, 8080);
	assert_memory_equal(ev->data->data.data, "hello", 5);
	assert_memory_equal(ev->data->path.data, "/tmp", 4);
	assert_int_equal(ev->data->src_path.len, 0);
	sw_tracerec__free(t);
}

/* Redaction offsets stay C-record offsets, and name the data byte, argv or env element. */
static void test_redactions(void **state)
{
	struct sw_tracerec *a = sw_tracerec__new(), *b = sw_tracerec__new();
	uint8_t buf[1024];
	struct sw_exec_rec *x = (void *)buf;
	struct sw_data_rec *d = (void *)buf;
	const char tail[] = "/bin/shsh\0-c\0echo **********\0HOME=/root\0TOKEN=*******\0";
	struct sw_redaction rd[4] = {0};
	const struct sw_redaction *out;
	const Sprawl__Event *ev;
	size_t base = sizeof(*x), nout;

	(void)state;
	memset(buf, 0, sizeof(buf));
	x->hdr.type = SW_EV_EXEC;
	x->hdr.size = (uint32_t)(sizeof(*x) + sizeof(tail) - 1);
	x->filename_len = 7;
	x->args_len = 3 + 3 + 16;
	x->env_len = 11 + 14;
	memcpy(buf + base, tail, sizeof(tail) - 1);
	rd[0] = (struct sw_redaction){
		.offset = (uint32_t)(base + 7 + 6 + 5), .length = 10, .variant = 2};
	memset(rd[0].secret_id, 0xab, 8);
	rd[1] = (struct sw_redaction){.offset = (uint32_t)(base + 7 + 22 + 11 + 6), .length = 7};
	/* past hdr.size: not part of the record, dropped; one straddling it is clipped */
	rd[2] = (struct sw_redaction){.offset = x->hdr.size + 3, .length = 4};
	rd[3] = (struct sw_redaction){.offset = x->hdr.size - 2, .length = 5};
	assert_int_equal(sw_tracerec__to_event(a, buf, x->hdr.size + 16, rd, 4, &ev), 0);
	assert_int_equal(ev->n_redaction, 3);
	assert_int_equal(ev->redaction[0]->field, SPRAWL__REDACTED_FIELD__FIELD_ARGV);
	assert_int_equal(ev->redaction[0]->index, 2);
	assert_int_equal(ev->redaction[0]->field_offset, 5);
	assert_int_equal(ev->redaction[0]->offset, rd[0].offset);
	assert_int_equal(ev->redaction[1]->field, SPRAWL__REDACTED_FIELD__FIELD_ENV);
	assert_int_equal(ev->redaction[1]->index, 1);
	assert_int_equal(ev->redaction[1]->field_offset, 6);
	assert_int_equal(ev->redaction[2]->length, 2);
	round_trip(a, b, buf, x->hdr.size, rd, 2, &out, &nout);
	assert_int_equal(nout, 2);
	assert_int_equal(out[0].offset, rd[0].offset);
	assert_int_equal(out[0].length, 10);
	assert_int_equal(out[0].variant, 2);
	assert_memory_equal(out[0].secret_id, rd[0].secret_id, 8);
	assert_int_equal(out[1].offset, rd[1].offset);

	memset(buf, 0, sizeof(buf));
	d->hdr.type = SW_EV_DATA;
	d->path_len = 4;
	d->data_len = 20;
	d->hdr.size = sizeof(*d) + 24;
	rd[0] = (struct sw_redaction){.offset = sizeof(*d) + 4 + 3, .length = 9};
	rd[1] = (struct sw_redaction){.offset = 8, .length = 8}; /* in the header */
	assert_int_equal(sw_tracerec__to_event(a, buf, d->hdr.size, rd, 2, &ev), 0);
	assert_int_equal(ev->redaction[0]->field, SPRAWL__REDACTED_FIELD__FIELD_DATA);
	assert_int_equal(ev->redaction[0]->field_offset, 3);
	assert_int_equal(ev->redaction[1]->field, SPRAWL__REDACTED_FIELD__FIELD_OTHER);
	sw_tracerec__free(a);
	sw_tracerec__free(b);
}

static void test_invalid(void **state)
{
	struct sw_tracerec *t = sw_tracerec__new();
	Sprawl__Event ev = SPRAWL__EVENT__INIT;
	Sprawl__Header h = SPRAWL__HEADER__INIT;
	Sprawl__Data d = SPRAWL__DATA__INIT;
	Sprawl__Redaction x = SPRAWL__REDACTION__INIT, *xp = &x;
	uint8_t buf[256] = {0}, big[SW_CHUNK + 1] = {0};
	struct sw_hdr *hh = (void *)buf;
	const Sprawl__Event *out;
	const struct sw_redaction *red;
	const uint8_t *rec;
	size_t len, nred;

	(void)state;
	/* Records event.c refuses. */
	assert_int_equal(sw_tracerec__to_event(t, buf, 10, NULL, 0, &out), -EBADMSG);
	hh->type = 99;
	hh->size = sizeof(*hh);
	assert_int_equal(sw_tracerec__to_event(t, buf, sizeof(buf), NULL, 0, &out), -EBADMSG);
	hh->type = SW_EV_DATA;
	assert_int_equal(sw_tracerec__to_event(t, buf, sizeof(buf), NULL, 0, &out), -EBADMSG);
	/* Events no record comes from: no header, no record, fields past kernel limits, a
	 * redaction outside the record or with a short id. */
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	ev.hdr = &h;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	ev.record_case = SPRAWL__EVENT__RECORD_DATA;
	ev.data = &d;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), 0);
	assert_int_equal(len, sizeof(struct sw_data_rec));
	d.data.data = big;
	d.data.len = sizeof(big);
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	d.data.len = 10;
	d.addr.data = big;
	d.addr.len = 17;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	d.addr.len = 0;
	h.comm.data = big;
	h.comm.len = SW_COMM_LEN + 1;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	h.comm.len = 0;
	ev.n_redaction = 1;
	ev.redaction = &xp;
	x.secret_id.data = big;
	x.secret_id.len = 8;
	x.offset = (uint32_t)(sizeof(struct sw_data_rec) + 5);
	x.length = 6;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	x.length = 5;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), 0);
	assert_int_equal(nred, 1);
	x.secret_id.len = 4;
	assert_int_equal(sw_tracerec__from_event(t, &ev, &rec, &len, &red, &nred), -EBADMSG);
	sw_tracerec__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_typed_fields),
		cmocka_unit_test(test_redactions),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
