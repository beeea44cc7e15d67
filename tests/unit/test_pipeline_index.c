// SPDX-License-Identifier: Apache-2.0
/* The pipeline's secret index (pipeline_index.c): a set built off the event loop is staged and
 * takes effect exactly at the tick record flagged SW_F_INDEX that names its generation, not
 * before, not at another generation's tick; secrets are generated at run time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "matcher.h"
#include "pipeline.h"
#include "testutil.h"

/* Writes value to a new file ino and lets its held alert come due; returns the alerts made. */
static size_t leak(struct tp *f, const uint8_t *v, size_t len, uint64_t ino, uint64_t *ms)
{
	uint8_t buf[256];
	size_t before = f->n;

	memset(buf, '.', sizeof(buf));
	memcpy(buf + 20, v, len);
	tp_at(f, *ms);
	tp_file(f, TP_PID, ino, "/w/leak", buf, len + 40);
	tp_feed(f);
	*ms += 1000;
	tp_tick(f, *ms);
	tp_feed(f);
	*ms += 10;
	return f->n - before;
}

static void index_tick(struct tp *f, uint64_t ms, uint64_t gen)
{
	struct sw_tick_rec *t = tp_tick(f, ms);

	t->hdr.flags = SW_F_INDEX;
	t->hdr.session_id = gen;
	tp_feed(f);
}

static void test_staged_index_switches_at_its_record(void **state)
{
	struct tp *f = *state;
	struct sw_secretset *set = sw_secretset__new(), *old;
	struct sw_matcher *m, *oldm;
	struct sw_secret s;
	struct rng r = {0x1d5};
	uint8_t nv[40], tmp[40];
	uint64_t ms = 100;

	assert_non_null(set);
	gen_secret(&r, GEN_BASE62, nv, sizeof(nv));
	/* the new set: OTHER_KEY stays, UNIT_KEY goes, NEW_KEY comes */
	memset(&s, 0, sizeof(s));
	memcpy(tmp, f->sec[1].v, f->sec[1].len);
	assert_int_equal(sw_fingerprint__secret(&f->key, tmp, f->sec[1].len, &s), 0);
	snprintf(s.name, sizeof(s.name), "OTHER_KEY");
	assert_int_equal(sw_secretset__put(set, &s), 0);
	memset(&s, 0, sizeof(s));
	memcpy(tmp, nv, sizeof(nv));
	assert_int_equal(sw_fingerprint__secret(&f->key, tmp, sizeof(nv), &s), 0);
	snprintf(s.name, sizeof(s.name), "NEW_KEY");
	assert_int_equal(sw_secretset__put(set, &s), 0);
	m = sw_matcher__new_reserve(&f->key, set->secrets, set->n, SW_PIPELINE_INDEX_RESERVE);
	assert_non_null(m);
	assert_int_equal(sw_pipeline__stage_secrets(f->p, 5, set, m), 0);

	/* staged, not in force: the old set still decides */
	assert_int_equal(sw_pipeline__secrets(f->p)->n, 2);
	assert_int_equal(leak(f, nv, sizeof(nv), 60, &ms), 0);
	assert_int_equal(leak(f, f->sec[0].v, f->sec[0].len, 61, &ms), 1);
	/* another generation's record does not put it in force */
	index_tick(f, ms, 4);
	assert_int_equal(sw_pipeline__index_gen(f->p), 4);
	assert_int_equal(leak(f, nv, sizeof(nv), 62, &ms), 0);
	/* its record does; the replaced index is handed out once, to be freed off the loop */
	sw_pipeline__retired(f->p, &old, &oldm);
	assert_null(old);
	assert_null(oldm);
	index_tick(f, ms, 5);
	assert_int_equal(sw_pipeline__index_gen(f->p), 5);
	sw_pipeline__retired(f->p, &old, &oldm);
	assert_non_null(old);
	assert_non_null(oldm);
	assert_int_equal(old->n, 2);
	sw_secretset__free(old);
	sw_matcher__free(oldm);
	sw_pipeline__retired(f->p, &old, &oldm);
	assert_null(old);
	assert_non_null(sw_secretset__find_id(sw_pipeline__secrets(f->p), s.id));
	assert_int_equal(leak(f, nv, sizeof(nv), 63, &ms), 1);
	assert_string_equal(f->got[f->n - 1].a.secret_name, "NEW_KEY");
	assert_int_equal(leak(f, f->sec[0].v, f->sec[0].len, 64, &ms), 0); /* UNIT_KEY gone */
	assert_int_equal(leak(f, f->sec[1].v, f->sec[1].len, 65, &ms), 1); /* OTHER_KEY stays */
	/* a second tick of the same generation changes nothing */
	index_tick(f, ms, 5);
	assert_int_equal(sw_pipeline__secrets(f->p)->n, 2);
	sodium_memzero(nv, sizeof(nv));
	sodium_memzero(tmp, sizeof(tmp));
}

/* Staging refuses half an index and frees what it was given. */
static void test_stage_needs_both(void **state)
{
	struct tp *f = *state;

	assert_int_equal(sw_pipeline__stage_secrets(f->p, 9, sw_secretset__new(), NULL), -EINVAL);
	index_tick(f, 100, 9);
	assert_int_equal(sw_pipeline__secrets(f->p)->n, 2);
}

/* A secret the detectors learn while a staged index is being built (it is not in that set) is
 * carried into it at the switch, and keeps alerting where it goes next. */
static void test_learned_survives_switch(void **state)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct tp *f = *state;
	struct sw_secretset *set = sw_secretset__new();
	struct sw_matcher *m;
	struct rng r = {4321};
	char tok[41], text[80];
	uint64_t ms = 100;
	size_t i, n;

	assert_non_null(set);
	m = sw_matcher__new_reserve(&f->key, set->secrets, 0, SW_PIPELINE_INDEX_RESERVE);
	assert_non_null(m);
	assert_int_equal(sw_pipeline__stage_secrets(f->p, 3, set, m), 0); /* an empty set */
	memcpy(tok, "ghp_", 4);
	for (i = 4; i < 40; i++)
		tok[i] = b62[rng_next(&r) % 62];
	tok[40] = 0;
	n = snprintf(text, sizeof(text), "push with %s now\n", tok);
	tp_at(f, ms);
	tp_file(f, TP_PID, 1500, "/w/notes.txt", text, n);
	tp_feed(f);
	tp_tick(f, ms += 1000);
	tp_feed(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].a.kind, SW_ALERT_SECRET_DISCOVERED);
	/* learned in place: in the matcher without a rebuild, alerting at once */
	assert_int_equal(leak(f, (const uint8_t *)tok, 40, 1501, &ms), 1);
	index_tick(f, ms, 3);
	assert_int_equal(sw_pipeline__secrets(f->p)->n, 1); /* the learned one, carried over */
	assert_true(sw_pipeline__secrets(f->p)->secrets[0].learned);
	assert_int_equal(leak(f, (const uint8_t *)tok, 40, 1502, &ms), 1);
	assert_int_equal(leak(f, f->sec[0].v, f->sec[0].len, 1503, &ms), 0); /* not in the set */
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(text, sizeof(text));
}

/* The daemon's index is lean (sw_secretset__load_lean: the set keeps no patterns but learned
 * ones). Staged and switched like any other; a learned secret that does not fit its matcher
 * (no reserve left) cannot be rebuilt in place from a lean set: the index in force keeps
 * matching what it has, the learned secret joins the set and is pending for the daemon's next
 * index, and is matched once that index (which has it) is in force. */
static void test_lean_index_learns_at_next(void **state)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct tp *f = *state;
	struct sw_secretset *set = sw_secretset__new(), *next = sw_secretset__new();
	struct sw_matcher *m;
	struct sw_secret s;
	struct rng r = {777};
	char tok[41], text[80];
	uint8_t tmp[64];
	uint64_t ms = 100;
	size_t i, n;

	assert_true(set && next);
	memset(&s, 0, sizeof(s));
	memcpy(tmp, f->sec[0].v, f->sec[0].len);
	assert_int_equal(sw_fingerprint__secret(&f->key, tmp, f->sec[0].len, &s), 0);
	snprintf(s.name, sizeof(s.name), "UNIT_KEY");
	assert_int_equal(sw_secretset__put(set, &s), 0);
	m = sw_matcher__new_reserve(&f->key, set->secrets, set->n, 0); /* no room to learn */
	assert_non_null(m);
	free(set->secrets[0].patterns); /* as the lean read leaves it */
	set->secrets[0].patterns = NULL;
	set->secrets[0].npatterns = 0;
	set->lean = 1;
	assert_int_equal(sw_pipeline__stage_secrets(f->p, 7, set, m), 0);
	index_tick(f, ms, 7);
	assert_int_equal(leak(f, f->sec[0].v, f->sec[0].len, 1600, &ms), 1);
	memcpy(tok, "ghp_", 4);
	for (i = 4; i < 40; i++)
		tok[i] = b62[rng_next(&r) % 62];
	tok[40] = 0;
	n = snprintf(text, sizeof(text), "push with %s now\n", tok);
	f->recording = 1; /* the trace of what follows holds no token */
	tp_at(f, ms);
	tp_file(f, TP_PID, 1601, "/w/notes.txt", text, n);
	tp_feed(f);
	tp_tick(f, ms += 1000);
	tp_feed(f);
	assert_true(sw_pipeline__learned_pending(f->p));
	assert_int_equal(sw_pipeline__secrets(f->p)->n, 2);
	/* Not in this matcher, yet discovered where it was found: the detector's hit stands in
	 * for a match, until the next index; so a write of it elsewhere is a spread, and neither
	 * write leaves it in the trace. The one in force still matches what it has. */
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].a.kind, SW_ALERT_SECRET_DISCOVERED);
	assert_string_equal(f->got[1].a.artifact.path, "/w/notes.txt");
	assert_int_equal(leak(f, (const uint8_t *)tok, 40, 1602, &ms), 1);
	assert_int_equal(f->got[2].a.kind, SW_ALERT_SECRET_SPREAD);
	assert_string_equal(f->got[2].a.secret_id, f->got[1].a.secret_id);
	for (i = 0; i < f->nlog; i++)
		assert_null(memmem(f->log[i].rec, f->log[i].size, tok, 40));
	f->recording = 0;
	assert_int_equal(leak(f, f->sec[0].v, f->sec[0].len, 1603, &ms), 1);
	/* the daemon's next index has it (saved, then read): matched from its switch on */
	assert_int_equal(sw_pipeline__learned(f->p, next), 1);
	m = sw_matcher__new_reserve(&f->key, next->secrets, next->n, SW_PIPELINE_INDEX_RESERVE);
	assert_non_null(m);
	assert_int_equal(sw_pipeline__stage_secrets(f->p, 8, next, m), 0);
	index_tick(f, ms, 8);
	assert_int_equal(leak(f, (const uint8_t *)tok, 40, 1604, &ms), 1);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(text, sizeof(text));
	sodium_memzero(tmp, sizeof(tmp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_staged_index_switches_at_its_record, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_stage_needs_both, tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_learned_survives_switch, tp_setup,
						tp_teardown),
		cmocka_unit_test_setup_teardown(test_lean_index_learns_at_next, tp_setup,
						tp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
