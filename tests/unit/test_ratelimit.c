// SPDX-License-Identifier: Apache-2.0
/* Flood control arithmetic, with the clock injected. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ratelimit.h"

#define SEC 1000000ull
#define MIN (60 * SEC)

static const uint8_t s1[SW_SECRET_ID_BYTES] = {1, 1, 1, 1, 1, 1, 1, 1};
static const uint8_t s2[SW_SECRET_ID_BYTES] = {2, 2, 2, 2, 2, 2, 2, 2};

static struct sw_ratelimit *make(uint32_t burst, uint32_t per_min, uint32_t interval_s,
				 uint32_t max_keys)
{
	struct sw_ratelimit_config cfg = {burst, per_min, interval_s, max_keys};
	struct sw_ratelimit *rl = sw_ratelimit__new(&cfg);

	assert_non_null(rl);
	return rl;
}

static void test_burst_then_rate(void **state)
{
	struct sw_ratelimit *rl = make(5, 6, 60, 0); /* one token every 10 s */
	uint64_t t = 1000 * SEC;
	int i, allowed = 0;

	for (i = 0; i < 100; i++)
		allowed += sw_ratelimit__allow(rl, s1, 7, t);
	assert_int_equal(allowed, 5);
	assert_int_equal(sw_ratelimit__suppressed_total(rl), 95);
	/* 9.999999 s later: still nothing; at 10 s exactly: one. */
	assert_int_equal(sw_ratelimit__allow(rl, s1, 7, t + 10 * SEC - 1), 0);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 7, t + 10 * SEC), 1);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 7, t + 10 * SEC), 0);
	/* An hour idle refills to the burst, not beyond. */
	t += 3600 * SEC;
	allowed = 0;
	for (i = 0; i < 20; i++)
		allowed += sw_ratelimit__allow(rl, s1, 7, t);
	assert_int_equal(allowed, 5);
	sw_ratelimit__free(rl);
}

static void test_keys_independent(void **state)
{
	struct sw_ratelimit *rl = make(1, 0, 60, 0);

	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 0), 1);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 0), 0);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 2, 0), 1); /* other session */
	assert_int_equal(sw_ratelimit__allow(rl, s2, 1, 0), 1); /* other secret */
	/* per_minute 0: the burst is all there is. */
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 100 * MIN), 0);
	assert_int_equal(sw_ratelimit__keys(rl), 3);
	sw_ratelimit__free(rl);
}

static void test_fractional_rate_exact(void **state)
{
	/* 7 a minute: tokens arrive every 60/7 s; over one minute exactly 7 more pass. (The
	 * burst is 2 so that no fraction of a token is lost to a full bucket between polls.) */
	struct sw_ratelimit *rl = make(2, 7, 60, 0);
	uint64_t t;
	int allowed = 0;

	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 0), 1);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 0), 1);
	for (t = SEC / 10; t <= MIN; t += SEC / 10)
		allowed += sw_ratelimit__allow(rl, s1, 1, t);
	assert_int_equal(allowed, 7);
	sw_ratelimit__free(rl);
}

static void test_clock_backwards(void **state)
{
	struct sw_ratelimit *rl = make(1, 60, 60, 0);

	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 100 * SEC), 1);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 50 * SEC), 0);
	/* Time that went back is not time passed. */
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 100 * SEC + SEC - 1), 0);
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, 101 * SEC), 1);
	/* Far future: no overflow. */
	assert_int_equal(sw_ratelimit__allow(rl, s1, 1, UINT64_MAX - 1), 1);
	sw_ratelimit__free(rl);
}

static void test_summaries(void **state)
{
	struct sw_ratelimit *rl = make(2, 0, 60, 0);
	struct sw_ratelimit_summary out[4];
	int i;

	for (i = 0; i < 12; i++)
		sw_ratelimit__allow(rl, s1, 7, 10 * SEC + (uint64_t)i * SEC);
	sw_ratelimit__allow(rl, s2, 8, 20 * SEC);
	sw_ratelimit__allow(rl, s2, 8, 20 * SEC);
	sw_ratelimit__allow(rl, s2, 8, 25 * SEC); /* suppressed */
	/* Not due until an interval after the first suppression (12 s and 25 s). */
	assert_int_equal(sw_ratelimit__summaries(rl, 71 * SEC, out, 4), 0);
	assert_int_equal(sw_ratelimit__summaries(rl, 72 * SEC, out, 4), 1);
	assert_memory_equal(out[0].secret_id, s1, SW_SECRET_ID_BYTES);
	assert_int_equal(out[0].session_id, 7);
	assert_int_equal(out[0].suppressed, 10);
	assert_int_equal(out[0].first_us, 12 * SEC);
	assert_int_equal(out[0].last_us, 21 * SEC);
	/* Reported once. */
	assert_int_equal(sw_ratelimit__summaries(rl, 80 * SEC, out, 4), 0);
	assert_int_equal(sw_ratelimit__summaries(rl, 85 * SEC, out, 4), 1);
	assert_memory_equal(out[0].secret_id, s2, SW_SECRET_ID_BYTES);
	assert_int_equal(out[0].suppressed, 1);
	/* New suppressions start a new span. */
	sw_ratelimit__allow(rl, s1, 7, 90 * SEC);
	assert_int_equal(sw_ratelimit__summaries(rl, 100 * SEC, out, 4), 0);
	/* Shutdown: everything pending, now. */
	assert_int_equal(sw_ratelimit__summaries(rl, UINT64_MAX, out, 4), 1);
	assert_int_equal(out[0].suppressed, 1);
	assert_int_equal(sw_ratelimit__suppressed_total(rl), 12);
	sw_ratelimit__free(rl);
}

static void test_summaries_max_out(void **state)
{
	struct sw_ratelimit *rl = make(1, 0, 0, 0);
	struct sw_ratelimit_summary out[2];
	uint64_t sess;

	for (sess = 0; sess < 5; sess++) {
		sw_ratelimit__allow(rl, s1, sess, 0);
		sw_ratelimit__allow(rl, s1, sess, 0);
	}
	assert_int_equal(sw_ratelimit__summaries(rl, 0, out, 2), 2);
	assert_int_equal(sw_ratelimit__summaries(rl, 0, out, 2), 2);
	assert_int_equal(sw_ratelimit__summaries(rl, 0, out, 2), 1);
	assert_int_equal(sw_ratelimit__summaries(rl, 0, out, 2), 0);
	sw_ratelimit__free(rl);
}

/* At the bound, forgotten pairs' counts still get reported (as the all-zero record). */
static void test_bound_keeps_counts(void **state)
{
	struct sw_ratelimit *rl = make(1, 0, 0, 2);
	struct sw_ratelimit_summary out[8];
	static const uint8_t zero[SW_SECRET_ID_BYTES];
	uint64_t total = 0;
	size_t n, i;
	int found_zero = 0;

	sw_ratelimit__allow(rl, s1, 1, 0);
	sw_ratelimit__allow(rl, s1, 1, 0); /* suppressed, pending */
	sw_ratelimit__allow(rl, s1, 2, 1);
	sw_ratelimit__allow(rl, s1, 3, 2); /* evicts (s1,1) */
	assert_int_equal(sw_ratelimit__keys(rl), 2);
	n = sw_ratelimit__summaries(rl, 10, out, 8);
	for (i = 0; i < n; i++) {
		total += out[i].suppressed;
		if (!memcmp(out[i].secret_id, zero, sizeof(zero)) && out[i].session_id == 0)
			found_zero = 1;
	}
	assert_int_equal(total, 1);
	assert_true(found_zero);
	sw_ratelimit__free(rl);
}

static void test_bad_config(void **state)
{
	struct sw_ratelimit_config cfg = {0, 10, 60, 0};

	assert_null(sw_ratelimit__new(&cfg));
	assert_int_equal(errno, EINVAL);
	assert_null(sw_ratelimit__new(NULL));
	/* No limiter: everything passes. */
	assert_int_equal(sw_ratelimit__allow(NULL, s1, 1, 0), 1);
	sw_ratelimit__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_keys_independent),
		cmocka_unit_test(test_fractional_rate_exact),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_summaries),
		cmocka_unit_test(test_summaries_max_out),
		cmocka_unit_test(test_bound_keeps_counts),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
