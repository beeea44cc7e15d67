// SPDX-License-Identifier: Apache-2.0
/* The daemon's options: one table behind flags, config keys, --help and the README. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon_config.h"

static struct sw_dconf *load(const char *text, int *r, struct sw_dconf_error *e)
{
	struct sw_dconf *c = sw_dconf__new();

	assert_non_null(c);
	*r = sw_dconf__load_buf(c, text, strlen(text), "t.yaml", e);
	return c;
}

static void expect_error(const char *text, const char *want)
{
	struct sw_dconf_error e;
	char msg[1200];
	int r;
	struct sw_dconf *c = load(text, &r, &e);

	assert_int_equal(r, -EINVAL);
	sw_dconf_error__format(&e, msg, sizeof(msg));
	if (strncmp(msg, want, strlen(want)))
		fail_msg("got '%s', want '%s...'", msg, want);
	sw_dconf__free(c);
}

static void test_file_values(void **state)
{
	struct sw_dconf_error e;
	const char *const *l;
	size_t n;
	int r;
	struct sw_dconf *c = load("# comment\n"
				  "state-dir: /srv/sw\n"
				  "format: ocsf\n"
				  "ringbuf-mb: 64\n"
				  "verbose: true\n"
				  "hook: /usr/bin/logger\n"
				  "hook-arg: [-t, sprawl]\n"
				  "syslog:\n",
				  &r, &e);

	assert_int_equal(r, 0);
	assert_string_equal(sw_dconf__str(c, SW_DO_STATE_DIR), "/srv/sw");
	assert_int_equal(sw_dconf__choice(c, SW_DO_FORMAT), 1);
	assert_int_equal(sw_dconf__num(c, SW_DO_RINGBUF_MB), 64);
	assert_int_equal(sw_dconf__num(c, SW_DO_VERBOSE), 1);
	l = sw_dconf__list(c, SW_DO_HOOK_ARG, &n);
	assert_int_equal(n, 2);
	assert_string_equal(l[0], "-t");
	assert_string_equal(l[1], "sprawl");
	assert_false(sw_dconf__is_set(c, SW_DO_SYSLOG)); /* an empty value keeps the default */
	sw_dconf__free(c);

	c = load("# only comments\n", &r, &e);
	assert_int_equal(r, 0);
	sw_dconf__free(c);
	c = load("", &r, &e);
	assert_int_equal(r, 0);
	sw_dconf__free(c);
}

/* Every mistake names the file, the line and the column. */
static void test_file_errors(void **state)
{
	expect_error("state-dir: /x\nmtach: 1\n", "t.yaml:2:1: unknown key 'mtach'");
	expect_error("ringbuf-mb: 3\n", "t.yaml:1:13: ringbuf-mb: '3': expected a power of two");
	expect_error("format: xml\n", "t.yaml:1:9: format: 'xml': expected one of json|ocsf");
	expect_error("alerts: /a\nalerts: /b\n", "t.yaml:2:1: key 'alerts' given twice");
	expect_error("alerts: [/a, /b]\n", "t.yaml:1:9: alerts: expected a single value");
	expect_error("- a\n- b\n", "t.yaml:1:1: expected a mapping");
	expect_error("config: /etc/x\n", "t.yaml:1:1: unknown key 'config'"); /* flag only */
	expect_error("state-dir: \"unterminated\n", "t.yaml:");
	expect_error("verbose: maybe\n", "t.yaml:1:10: verbose: 'maybe': expected true or false");
	expect_error("max-bytes: -5\n", "t.yaml:1:12: max-bytes: '-5': expected 4096");
}

static void test_flags_win(void **state)
{
	char *argv[] = {"sprawlwatchd", "--format",   "json",	     "--hook", "/bin/true",
			"-v",		"--alerts=-", "--log-level", "debug",  NULL};
	struct sw_dconf *flags = sw_dconf__new(), *m = sw_dconf__new();
	struct sw_dconf_error e;
	size_t n;
	int r;
	struct sw_dconf *file = load("format: ocsf\nalerts: /var/x\nhook: /bin/a\nhook-arg: [z]\n"
				     "trace-dir: /t\n",
				     &r, &e);

	assert_int_equal(r, 0);
	assert_int_equal(sw_dconf__parse_args(flags, 9, argv, &e), 0);
	assert_int_equal(sw_dconf__merge(m, file, flags), 0);
	assert_int_equal(sw_dconf__choice(m, SW_DO_FORMAT), 0);
	assert_string_equal(sw_dconf__str(m, SW_DO_ALERTS), "-");
	assert_string_equal(sw_dconf__str(m, SW_DO_HOOK), "/bin/true");
	/* the file's hook arguments belonged to the file's hook */
	assert_null(sw_dconf__list(m, SW_DO_HOOK_ARG, &n));
	assert_string_equal(sw_dconf__str(m, SW_DO_TRACE_DIR), "/t");
	assert_int_equal(sw_dconf__num(m, SW_DO_VERBOSE), 1);
	assert_int_equal(sw_dconf__choice(m, SW_DO_LOG_LEVEL), 4);
	assert_false(sw_dconf__same(m, file, SW_DO_FORMAT));
	assert_true(sw_dconf__same(m, file, SW_DO_TRACE_DIR));
	sw_dconf__free(flags);
	sw_dconf__free(file);
	sw_dconf__free(m);
}

static void test_flag_errors(void **state)
{
	char *a1[] = {"d", "--ringbuf-mb", "0", NULL};
	char *a2[] = {"d", "--nope", NULL};
	char *a3[] = {"d", "stray", NULL};
	char *a4[] = {"d", "--alerts", NULL};
	struct sw_dconf_error e = {};
	struct sw_dconf *c = sw_dconf__new();

	assert_int_equal(sw_dconf__parse_args(c, 3, a1, &e), -EINVAL);
	assert_string_equal(e.msg, "--ringbuf-mb: '0': expected a power of two from 1 to 1024");
	assert_int_equal(sw_dconf__parse_args(c, 2, a2, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--nope"));
	assert_int_equal(sw_dconf__parse_args(c, 2, a3, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'stray'"));
	assert_int_equal(sw_dconf__parse_args(c, 2, a4, &e), -EINVAL);
	assert_string_equal(e.msg, "--alerts needs an argument");
	sw_dconf__free(c);
}

static char *capture(void (*fn)(FILE *))
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fn(f);
	fclose(f);
	return out;
}

/* The example the package installs parses, sets nothing, and names every key. */
static void test_example(void **state)
{
	char *ex = capture(sw_dconf__example), key[64];
	struct sw_dconf_error e;
	int i, r;
	struct sw_dconf *c = load(ex, &r, &e);

	assert_int_equal(r, 0);
	for (i = 0; i < SW_DO__COUNT; i++) {
		assert_false(sw_dconf__is_set(c, i));
		snprintf(key, sizeof(key), "\n#%s: ", sw_dopts[i].name);
		if (sw_dopts[i].cli_only)
			assert_null(strstr(ex, key));
		else if (!strstr(ex, key))
			fail_msg("example lacks key %s", sw_dopts[i].name);
	}
	sw_dconf__free(c);
	free(ex);
}

/* README's option table and --help come from the same knobs: every option is documented,
 * and the README's daemon options section names no option the daemon lacks. */
static void test_readme_agrees(void **state)
{
	char *help = capture(sw_dconf__help), *readme = NULL, *sec, *end, *p, opt[64], want[80];
	size_t len = 0;
	FILE *f = fopen("README.md", "r");
	int i, found;

	if (!f)
		f = fopen("../../README.md", "r");
	assert_non_null(f);
	assert_int_not_equal(getdelim(&readme, &len, 0, f), -1);
	fclose(f);
	sec = strstr(readme, "<!-- daemon-options -->");
	end = sec ? strstr(sec, "<!-- /daemon-options -->") : NULL;
	assert_non_null(end);
	*end = 0;
	for (i = 0; i < SW_DO__COUNT; i++) {
		snprintf(want, sizeof(want), "`--%s", sw_dopts[i].name);
		if (!strstr(sec, want))
			fail_msg("README's daemon options lack --%s", sw_dopts[i].name);
		snprintf(want, sizeof(want), "--%s", sw_dopts[i].name);
		assert_non_null(strstr(help, want));
	}
	for (p = strstr(sec, "`--"); p; p = strstr(p + 1, "`--")) {
		sscanf(p + 3, "%63[a-z-]", opt);
		found = 0;
		for (i = 0; i < SW_DO__COUNT; i++)
			found |= !strcmp(opt, sw_dopts[i].name);
		if (!found)
			fail_msg("README names --%s, which sprawlwatchd does not have", opt);
	}
	free(readme);
	free(help);
}

/* sprawlwatchd(8) documents every option too (roff writes '-' as '\-'). */
static void test_man_agrees(void **state)
{
	char *man = NULL, want[96], *w;
	const char *n;
	size_t len = 0;
	FILE *f = fopen("packaging/man/man8/sprawlwatchd.8", "r");
	int i;

	if (!f)
		f = fopen("../../packaging/man/man8/sprawlwatchd.8", "r");
	assert_non_null(f);
	assert_int_not_equal(getdelim(&man, &len, 0, f), -1);
	fclose(f);
	for (i = 0; i < SW_DO__COUNT; i++) {
		w = want + sprintf(want, "\\-\\-");
		for (n = sw_dopts[i].name; *n; n++)
			w += *n == '-' ? sprintf(w, "\\-") : sprintf(w, "%c", *n);
		if (!strstr(man, want))
			fail_msg("sprawlwatchd.8 lacks %s", want);
	}
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_values), cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_flags_win),   cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_example),	    cmocka_unit_test(test_readme_agrees),
		cmocka_unit_test(test_man_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
