// SPDX-License-Identifier: Apache-2.0
/* The policy is one source of truth: rules/policy.yaml (embedded) states exactly the built-in
 * defaults, every alert kind's severity comes from it, and the README and `sprawlwatchd --help`
 * say the same numbers. Run from the repository root (make unit does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "rules.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 20);
	n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static void test_yaml_states_the_defaults(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	struct sw_policy def;
	const struct sw_policy *p;
	size_t i;

	(void)state;
	assert_non_null(r);
	sw_policy__defaults(&def);
	p = sw_rules__policy(r);
	for (i = 0; i < SW_PLACE__COUNT; i++)
		assert_int_equal(p->place[i], def.place[i]);
	for (i = 0; i < SW_ALERT__COUNT; i++)
		assert_int_equal(p->kind[i], def.kind[i]);
	assert_int_equal(p->flood_burst, def.flood_burst);
	assert_int_equal(p->flood_per_minute, def.flood_per_minute);
	assert_int_equal(p->capture_max_bytes, def.capture_max_bytes);
	assert_int_equal(p->ringbuf_bytes, def.ringbuf_bytes);
	assert_int_equal(p->readback_max_bytes, def.readback_max_bytes);
	assert_int_equal(p->hold_ms, def.hold_ms);
	assert_memory_equal(p, &def, sizeof(def));
	sw_rules__free(r);
}

static void test_severity_by_kind_and_place(void **state)
{
	struct sw_policy p;

	(void)state;
	sw_policy__defaults(&p);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_SECRET_SPREAD, SW_ART_FILE),
			 SW_SEV_MEDIUM);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_SECRET_SPREAD, SW_ART_PIPE), SW_SEV_LOW);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_SECRET_SPREAD, SW_ART_TLS),
			 SW_SEV_CRITICAL);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_SECRET_SPREAD, SW_ART_EXEC_ENV),
			 SW_SEV_MEDIUM);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_SECRET_SPREAD, SW_PLACE_AGENT_PIPE),
			 SW_SEV_CRITICAL);
	/* Other kinds ignore the place. */
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_COVERAGE_GAP, SW_ART_FILE), SW_SEV_HIGH);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT_SECRET_DISCOVERED, SW_ART_SOCKET),
			 SW_SEV_MEDIUM);
	assert_int_equal(sw_policy__severity(&p, SW_ALERT__COUNT, 0), SW_SEV_HIGH);
	assert_string_equal(sw_policy__place_name(SW_PLACE_AGENT_PIPE), "agent_pipe");
	assert_null(sw_policy__place_name(SW_PLACE__COUNT));
	assert_string_equal(sw_policy__kind_key(SW_ALERT_UNMONITORED_CHANNEL),
			    "unmonitored_channel");
}

static struct sw_rules *with_policy(const char *yaml, struct sw_rules_error *e)
{
	struct sw_embedded_file files[4] = {{0}};
	size_t i;

	for (i = 0; i < 3; i++) {
		files[i] = sw_embedded_rules[i];
		if (!strcmp(files[i].name, "policy.yaml")) {
			files[i].data = (const unsigned char *)yaml;
			files[i].len = strlen(yaml);
		}
	}
	return sw_rules__load_files(files, "t/", e);
}

static void test_yaml_overrides_every_kind(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r;

	(void)state;
	r = with_policy("severity:\n  coverage_gap: low\n  exposure: critical\n  pipe: high\n"
			"capture:\n  readback_max_bytes: 2097152\n  hold_ms: 0\n",
			&e);
	assert_non_null(r);
	assert_int_equal(sw_policy__severity(sw_rules__policy(r), SW_ALERT_COVERAGE_GAP, 0),
			 SW_SEV_LOW);
	assert_int_equal(sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_EXPOSURE, 0),
			 SW_SEV_CRITICAL);
	assert_int_equal(
		sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD, SW_ART_PIPE),
		SW_SEV_HIGH);
	assert_int_equal(sw_rules__policy(r)->readback_max_bytes, 2u << 20);
	assert_int_equal(sw_rules__policy(r)->hold_ms, 0);
	sw_rules__free(r);
	r = with_policy("severity:\n  exposur: low\n", &e);
	assert_null(r);
	assert_non_null(strstr(e.msg, "unknown key 'exposur'"));
	r = with_policy("capture:\n  max_bytes: 1024\n", &e);
	assert_null(r);
	/* The inflate bounds. */
	r = with_policy("inflate:\n  max_inflated_bytes: 2097152\n  max_ratio: 20\n"
			"  cache_bytes: 1048576\n",
			&e);
	assert_non_null(r);
	assert_int_equal(sw_rules__policy(r)->inflate_max_bytes, 2u << 20);
	assert_int_equal(sw_rules__policy(r)->inflate_max_ratio, 20);
	assert_int_equal(sw_rules__policy(r)->inflate_cache_bytes, 1u << 20);
	sw_rules__free(r);
	r = with_policy("inflate:\n  max_ratio: 1\n", &e);
	assert_null(r);
	r = with_policy("inflate:\n  max_inflated_bytes: 1000\n", &e);
	assert_null(r);
}

/* The README and --help state the policy's numbers, not numbers of their own. */
static void test_readme_and_help_agree(void **state)
{
	struct sw_policy p;
	char *readme = slurp("README.md"), *help, want[128];
	FILE *f;
	size_t n;

	(void)state;
	sw_policy__defaults(&p);
	assert_non_null(readme);
	snprintf(want, sizeof(want), "a burst (%u) per (secret, session) and then a rate (%u/min)",
		 p.flood_burst, p.flood_per_minute);
	assert_non_null(strstr(readme, want));
	free(readme);
	f = popen(".output/bin/sprawlwatchd --help", "r");
	assert_non_null(f);
	help = calloc(1, 65536);
	assert_non_null(help);
	n = fread(help, 1, 65535, f);
	assert_true(n > 0);
	assert_int_equal(pclose(f), 0);
	snprintf(want, sizeof(want), "(default: the policy's, %llu)",
		 (unsigned long long)(p.ringbuf_bytes >> 20));
	assert_non_null(strstr(strstr(help, "--ringbuf-mb"), want));
	snprintf(want, sizeof(want), "(default: the policy's, %llu)",
		 (unsigned long long)p.capture_max_bytes);
	assert_non_null(strstr(strstr(help, "--max-bytes"), want));
	free(help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_states_the_defaults),
		cmocka_unit_test(test_severity_by_kind_and_place),
		cmocka_unit_test(test_yaml_overrides_every_kind),
		cmocka_unit_test(test_readme_and_help_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
