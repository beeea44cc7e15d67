// SPDX-License-Identifier: Apache-2.0
/* Rules loader: the default files load, agents and transcripts match, allowlists and policy
 * values, and every kind of error is reported with its exact file:line:col text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"

static const struct sw_embedded_file *embedded(const char *name)
{
	size_t i;

	for (i = 0; sw_embedded_rules[i].name; i++)
		if (!strcmp(sw_embedded_rules[i].name, name))
			return &sw_embedded_rules[i];
	return NULL;
}

/* The default rule set with one file replaced by text (or left out when text is NULL). */
static struct sw_rules *load_with(const char *name, const char *text, struct sw_rules_error *e)
{
	static const char *const names[] = {"agents.yaml", "detectors.yaml", "policy.yaml"};
	struct sw_embedded_file files[4] = {{0}};
	size_t i, n = 0;

	for (i = 0; i < 3; i++) {
		if (!strcmp(names[i], name)) {
			if (!text)
				continue;
			files[n].name = name;
			files[n].data = (const unsigned char *)text;
			files[n].len = strlen(text);
		} else {
			files[n] = *embedded(names[i]);
		}
		n++;
	}
	return sw_rules__load_files(files, "rules/", e);
}

/* Loads with one file replaced and returns the formatted error (the load must fail). */
static const char *error_of(const char *name, const char *text)
{
	static char out[1024];
	struct sw_rules_error e;
	struct sw_rules *r = load_with(name, text, &e);

	assert_null(r);
	sw_rules_error__format(&e, out, sizeof(out));
	return out;
}

static void test_defaults_load(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r, *d;
	size_t n;

	r = sw_rules__load_embedded(&e);
	if (!r)
		fail_msg("embedded rules: %s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	assert_true(sw_rules__agent_count(r) >= 8);
	sw_rules__detectors(r, &n);
	assert_true(n >= 13);
	assert_non_null(sw_rules__detect_index(r));

	/* The installed copy is the same text: loading the directory gives the same rules. */
	d = sw_rules__load_dir("rules", &e);
	if (!d)
		fail_msg("rules/: %s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	assert_int_equal(sw_rules__agent_count(d), sw_rules__agent_count(r));
	sw_rules__free(d);
	sw_rules__free(r);
	sw_rules__free(NULL);
}

static void test_each_default_file_checks(void **state)
{
	struct sw_rules_error errs[4];

	assert_int_equal(sw_rules__check_dir("rules", errs, 4), 0);
}

static void test_policy_defaults(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	const struct sw_policy *p;

	assert_non_null(r);
	p = sw_rules__policy(r);
	assert_int_equal(p->flood_burst, 20);
	assert_int_equal(p->flood_per_minute, 120);
	assert_int_equal(p->capture_max_bytes, 1 << 20);
	assert_int_equal(p->ringbuf_bytes, 16 << 20);
	assert_int_equal(
		sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD, SW_ART_FILE),
		SW_SEV_MEDIUM);
	assert_int_equal(
		sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD, SW_ART_TLS),
		SW_SEV_CRITICAL);
	assert_int_equal(sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD,
					     SW_PLACE_AGENT_PIPE),
			 SW_SEV_CRITICAL);
	assert_int_equal(sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD,
					     SW_PLACE_TRANSCRIPT),
			 SW_SEV_HIGH);
	assert_string_equal(sw_alert__severity_name(sw_policy__severity(
				    sw_rules__policy(r), SW_ALERT_SECRET_SPREAD, SW_ART_PIPE)),
			    "low");
	sw_rules__free(r);

	/* An empty policy file keeps every default; a partial one overrides only what it says. */
	r = load_with("policy.yaml", "# nothing here\n", &e);
	assert_non_null(r);
	assert_int_equal(sw_rules__policy(r)->flood_burst, 20);
	sw_rules__free(r);
	r = load_with("policy.yaml",
		      "severity:\n  pipe: critical\nflood: {burst: 3}\n"
		      "capture: {ringbuf_bytes: 262144}\n",
		      &e);
	assert_non_null(r);
	assert_int_equal(
		sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD, SW_ART_PIPE),
		SW_SEV_CRITICAL);
	assert_int_equal(
		sw_policy__severity(sw_rules__policy(r), SW_ALERT_SECRET_SPREAD, SW_ART_FILE),
		SW_SEV_MEDIUM);
	assert_int_equal(sw_rules__policy(r)->flood_burst, 3);
	assert_int_equal(sw_rules__policy(r)->flood_per_minute, 120);
	assert_int_equal(sw_rules__policy(r)->ringbuf_bytes, 262144);
	sw_rules__free(r);
}

static int match(const struct sw_rules *r, const char *exe, const char *comm,
		 const char *const *argv, const char **label)
{
	int argc = 0;

	while (argv && argv[argc])
		argc++;
	*label = NULL;
	return sw_rules__agent_match(r, exe, comm, argv, argc, label);
}

static void test_agent_match(void **state)
{
	static const char *const claude[] = {"claude", "--print", NULL};
	static const char *const claude_bun[] = {"/home/u/.local/share/claude/versions/2.1.3",
						 NULL};
	static const char *const gem_pkg[] = {
		"node",
		"--no-warnings=DEP0040",
		"/usr/lib/node_modules/@google/gemini-cli/dist/index.js",
		"-p",
		"hi",
		NULL};
	static const char *const gem_bin[] = {"node", "/usr/local/bin/gemini", "-y", NULL};
	static const char *const node_other[] = {"node", "/srv/app/server.js", NULL};
	static const char *const node_mention[] = {"node", "x.js", "@google/gemini-cli", NULL};
	static const char *const aider[] = {"python3.11", "-m", "aider", "--model", "x", NULL};
	static const char *const bash[] = {"bash", "-c", "claude", NULL};
	static const char *const codex[] = {"codex-x86_64-unknown-linux-musl", NULL};
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	const char *label;

	assert_non_null(r);
	assert_int_equal(match(r, "/usr/local/bin/claude", "claude", claude, &label), 1);
	assert_string_equal(label, "claude");
	/* Claude Code's native binary lives under a versioned name: comm still says claude. */
	assert_int_equal(match(r, claude_bun[0], "claude", claude_bun, &label), 1);
	assert_string_equal(label, "claude");
	assert_int_equal(match(r, "/usr/bin/node", "node", gem_pkg, &label), 1);
	assert_string_equal(label, "gemini");
	assert_int_equal(match(r, "/usr/bin/node", "gemini", gem_bin, &label), 1);
	assert_string_equal(label, "gemini");
	/* Via a shebang exec, comm is unknown to the caller: the script's base name decides. */
	assert_int_equal(match(r, "/usr/bin/node", NULL, gem_bin, &label), 1);
	assert_string_equal(label, "gemini");
	assert_int_equal(match(r, "/usr/bin/node", "node", node_other, &label), 0);
	assert_null(label);
	/* Script text counts in any argument of an interpreter (node -e, loaders, ...). */
	assert_int_equal(match(r, "/usr/bin/node", "node", node_mention, &label), 1);
	assert_int_equal(match(r, "/usr/bin/python3.11", "python3.11", aider, &label), 1);
	assert_string_equal(label, "aider");
	/* A shell that runs an agent is not the agent; its child exec will be. */
	assert_int_equal(match(r, "/usr/bin/bash", "bash", bash, &label), 0);
	/* The kernel truncates comm to 15 characters; rules match the truncated form. */
	assert_int_equal(match(r, "/opt/codex/codex-x86_64-unknown-linux-musl", "codex-x86_64-un",
			       codex, &label),
			 1);
	assert_string_equal(label, "codex");
	assert_int_equal(match(r, NULL, "codex-x86_64-un", NULL, &label), 1);
	assert_int_equal(match(r, NULL, NULL, NULL, &label), 0);
	/* Script rules apply only to interpreters. */
	assert_int_equal(match(r, "/usr/bin/grep", "grep", node_mention, &label), 0);
	sw_rules__free(r);
}

static void test_agent_comms(void **state)
{
	char table[64][SW_AGENT_COMM_LEN], small[2][SW_AGENT_COMM_LEN];
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	size_t n, i, claude = 0, codex = 0;

	assert_non_null(r);
	n = sw_rules__agent_comms(r, table, 64);
	assert_true(n > 8 && n <= 64);
	for (i = 0; i < n; i++) {
		assert_true(strlen(table[i]) <= 15);
		claude += !strcmp(table[i], "claude");
		codex += !strcmp(table[i], "codex-x86_64-un");
	}
	/* claude is both a basename and a comm: one entry. */
	assert_int_equal(claude, 1);
	assert_int_equal(codex, 1);
	assert_int_equal(sw_rules__agent_comms(r, small, 2), n);
	sw_rules__free(r);
}

static void test_transcripts(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	const char *label = NULL;

	assert_non_null(r);
	assert_int_equal(sw_rules__transcript(r, "/home/u/.claude/projects/-home-u-p/5e1.jsonl",
					      NULL, &label),
			 1);
	assert_string_equal(label, "claude");
	assert_int_equal(
		sw_rules__transcript(r, "/root/.gemini/tmp/ab12/chats/s.jsonl", NULL, &label), 1);
	assert_string_equal(label, "gemini");
	assert_int_equal(
		sw_rules__transcript(r, "/home/u/proj/.aider.chat.history.md", NULL, &label), 1);
	assert_string_equal(label, "aider");
	assert_int_equal(sw_rules__transcript(r, "/tmp/.claude/projects/x.jsonl", NULL, NULL), 0);
	assert_int_equal(sw_rules__transcript(r, "/home//.claude/projects/x.jsonl", NULL, NULL), 0);
	assert_int_equal(sw_rules__transcript(r, "/home/u/.claude/settings.json", NULL, NULL), 0);
	sw_rules__free(r);
}

/* Agent globs are path globs: `*` stays in one directory, `**` crosses them; `~/` is the
 * session's home when known. */
static void test_path_globs(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	const char *label = NULL;

	assert_non_null(r);
	assert_int_equal(sw_rules__transcript(r, "/w/h/.codex/sessions/2026/11/30/rollout-a.jsonl",
					      "/w/h", &label),
			 1);
	assert_string_equal(label, "codex");
	assert_int_equal(
		sw_rules__transcript(r, "/w/h/.codex/thread_history_1.sqlite-wal", "/w/h/", NULL),
		1);
	assert_int_equal(
		sw_rules__transcript(r, "/w/h/.codex/thread_history_1.sqlite-shm", "/w/h", NULL),
		0);
	/* `*` does not cross a directory: a database below ~/.codex is not ~/.codex/X.sqlite. */
	assert_int_equal(sw_rules__transcript(r, "/w/h/.codex/x/y.sqlite", "/w/h", NULL), 0);
	/* Another home is not this session's. */
	assert_int_equal(sw_rules__transcript(r, "/home/u/.codex/sessions/r.jsonl", "/w/h", NULL),
			 0);
	assert_int_equal(sw_rules__transcript(r, "/w/hx/.codex/sessions/r.jsonl", "/w/h", NULL), 0);
	/* Unknown home ("/" is none): any home directory. */
	assert_int_equal(sw_rules__transcript(r, "/home/u/.codex/sessions/r.jsonl", "/", NULL), 1);
	/* `**` + `/` matches no directory too; `*` in the last component. */
	assert_int_equal(sw_rules__transcript(r, "/.aider.chat.history.md", NULL, NULL), 1);
	assert_int_equal(sw_rules__transcript(r, "/a/b/c/.aider.chat.history.md", NULL, &label), 1);
	assert_string_equal(label, "aider");
	assert_int_equal(
		sw_rules__tool_output(r, "/t/claude-0/-p/4dc1/tasks/b3.output", "/w", &label), 1);
	assert_string_equal(label, "claude");
	assert_int_equal(sw_rules__tool_output(r, "/t/claudex/0/tasks/b3.output", "/w", NULL), 0);
	assert_int_equal(
		sw_rules__tool_output(r, "/t/claude-0/-p/4dc1/tasks/x/b3.output", "/w", NULL), 0);
	assert_int_equal(sw_rules__credentials(r, "/w/.claude/sessions/42.ab.key", "/w", &label),
			 1);
	assert_int_equal(
		sw_rules__credentials(r, "/w/.claude/sessions/42.ab.key.tmp.x1", "/w", NULL), 1);
	assert_int_equal(sw_rules__credentials(r, "/w/.claude/projects/k.key", "/w", NULL), 0);
	/* A hostile path cannot make matching expensive: bounded, and no match. */
	{
		char path[4096];

		memset(path, 'a', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = 0;
		assert_int_equal(sw_rules__transcript(r, path, NULL, NULL), 0);
	}
	sw_rules__free(r);
}

static void test_allowlist(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_embedded(&e);

	assert_non_null(r);
	assert_int_equal(sw_rules__allowlisted(r, "ANY", "/dev/null"), 1);
	assert_int_equal(sw_rules__allowlisted(r, "ANY", "/dev/nullx"), 0);
	assert_int_equal(sw_rules__allowlisted(r, "ANY", "/proc/self/fd/1"), 0);
	sw_rules__free(r);

	r = load_with("policy.yaml",
		      "allowlist:\n"
		      "  - secrets: [\"AWS_*\"]\n"
		      "    paths: [\"~/.aws/*\"]\n"
		      "  - reason: vault agent cache\n"
		      "    paths: /var/cache/vault/*.json\n",
		      &e);
	if (!r)
		fail_msg("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	assert_int_equal(sw_rules__allowlisted(r, "AWS_SECRET", "/home/u/.aws/credentials"), 1);
	assert_int_equal(sw_rules__allowlisted(r, "AWS_SECRET", "/root/.aws/config"), 1);
	assert_int_equal(sw_rules__allowlisted(r, "GH_TOKEN", "/home/u/.aws/credentials"), 0);
	assert_int_equal(sw_rules__allowlisted(r, "AWS_SECRET", "/tmp/.aws/credentials"), 0);
	assert_int_equal(sw_rules__allowlisted(r, "X", "/var/cache/vault/a/b.json"), 1);
	assert_int_equal(sw_rules__allowlisted(r, NULL, "/var/cache/vault/t.json"), 1);
	assert_int_equal(sw_rules__allowlisted(r, "X", "/var/cache/vault/t.txt"), 0);
	assert_int_equal(sw_rules__allowlisted(r, "X", NULL), 0);
	sw_rules__free(r);
}

static void test_errors_exact(void **state)
{
	assert_string_equal(
		error_of("agents.yaml", "agents:\n"
					"  - label: claude\n"
					"    basename: claude\n"
					"    mtach: [x]\n"),
		"rules/agents.yaml:4:5: unknown key 'mtach' (expected one of: label, basename, "
		"comm, script, transcripts, tool_output, credentials, credential_env)");
	assert_string_equal(error_of("agents.yaml", "agents:\n  - label: [x\n"),
			    "rules/agents.yaml:3:1: while parsing a flow sequence: did not find "
			    "expected ',' or ']'");
	assert_string_equal(error_of("agents.yaml", "agents:\n  - label: a\n   basename: b\n"),
			    "rules/agents.yaml:3:4: while parsing a block collection: did not find "
			    "expected '-' indicator");
	assert_string_equal(error_of("agents.yaml", "agents:\n  - label: x\n"),
			    "rules/agents.yaml:2:5: agent 'x' matches nothing: give basename, comm "
			    "or script");
	assert_string_equal(error_of("agents.yaml", "agents:\n"
						    "  - {label: x, basename: x}\n"
						    "  - {label: x, comm: y}\n"),
			    "rules/agents.yaml:3:5: duplicate agent label 'x' (also at line 2)");
	assert_string_equal(error_of("agents.yaml", "agents:\n"
						    "  - label: x\n"
						    "    comm: a-very-long-command\n"),
			    "rules/agents.yaml:3:11: comm is longer than 15 characters (the kernel "
			    "keeps only 15)");
	assert_string_equal(error_of("agents.yaml", "agents: {label: x}\n"),
			    "rules/agents.yaml:1:9: agents must be a list, not a mapping");
	assert_string_equal(error_of("agents.yaml", "interpreters: [node]\n"),
			    "rules/agents.yaml:1:1: missing key 'agents'");
	assert_string_equal(error_of("agents.yaml", ""),
			    "rules/agents.yaml: file is empty (expected key 'agents')");
	assert_string_equal(error_of("agents.yaml", NULL),
			    "rules/agents.yaml: missing: a rule set needs agents.yaml, "
			    "detectors.yaml and policy.yaml");
	assert_string_equal(
		error_of("agents.yaml", "a: &x [1]\nagents: *x\n"),
		"rules/agents.yaml:2:9: aliases (*name) are not supported in rule files");
	assert_string_equal(error_of("agents.yaml", "agents: []\n---\nagents: []\n"),
			    "rules/agents.yaml:2:1: more than one YAML document ('---') in a rule "
			    "file");
	assert_string_equal(
		error_of("agents.yaml", "agents: [[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]\n"),
		"rules/agents.yaml:1:24: nested deeper than 16 levels");
	assert_string_equal(error_of("agents.yaml", "agents:\n  - label: \"\\x01\\xff\"\n"),
			    "rules/agents.yaml:2:12: label may only contain a-z, 0-9, '-' and '_'");
}

static void test_errors_detectors(void **state)
{
	assert_string_equal(
		error_of("detectors.yaml", "detectors:\n"
					   "  - id: bad\n"
					   "    regex: 'ab(c'\n"),
		"rules/detectors.yaml:3:12: bad regex in detector 'bad': missing closing "
		"parenthesis at offset 4");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n"
						       "  - id: a\n"
						       "    regex: x{8}\n"
						       "  - id: a\n"
						       "    regex: y{8}\n"),
			    "rules/detectors.yaml:4:5: duplicate detector id 'a'");
	assert_string_equal(
		error_of("detectors.yaml", "detectors:\n"
					   "  - id: a\n"
					   "    regex: x{8}\n"
					   "    min_length: 4\n"),
		"rules/detectors.yaml:4:17: min_length must be between 8 and 4096, not 4");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n"
						       "  - id: a\n"
						       "    regex: x{8}\n"
						       "    min_entropy: \"3\"\n"),
			    "rules/detectors.yaml:4:18: min_entropy must be a number, not a quoted "
			    "string");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n"
						       "  - id: a\n"
						       "    regex: x{8}\n"
						       "    min_entropy: lots\n"),
			    "rules/detectors.yaml:4:18: min_entropy must be a number, not 'lots'");
	assert_string_equal(
		error_of("detectors.yaml", "detectors:\n"
					   "  - id: a\n"
					   "    regex: (x{8})\n"
					   "    group: 2\n"),
		"rules/detectors.yaml:4:12: group 2 does not exist: the regex of 'a' has "
		"1 capture group(s)");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n"
						       "  - id: a\n"
						       "    regex: x{8}\n"
						       "    min_length: 20\n"
						       "    max_length: 10\n"),
			    "rules/detectors.yaml:5:17: max_length 10 is less than min_length 20");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n"
						       "  - id: a\n"
						       "    regex: x{8}\n"
						       "    prefilter: [x]\n"),
			    "rules/detectors.yaml:4:17: prefilter must not be shorter than 2 "
			    "characters");
	assert_string_equal(
		error_of("detectors.yaml", "detectors:\n"
					   "  - id: a\n"
					   "    regex: x{8}\n"
					   "    check: luhn\n"),
		"rules/detectors.yaml:4:12: unknown check 'luhn' (expected one of: none, "
		"jwt)");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n  - name: x\n"),
			    "rules/detectors.yaml:2:5: detector has no id");
	assert_string_equal(error_of("detectors.yaml", "detectors:\n  - id: Bad\n"),
			    "rules/detectors.yaml:2:9: id may only contain a-z, 0-9 and '-'");
}

static void test_errors_policy(void **state)
{
	assert_string_equal(
		error_of("policy.yaml", "severity:\n  file: severe\n"),
		"rules/policy.yaml:2:9: unknown severity 'severe' (expected one of: info, "
		"low, medium, high, critical)");
	assert_string_equal(
		error_of("policy.yaml", "severity:\n  disk: low\n"),
		"rules/policy.yaml:2:3: unknown key 'disk' (expected one of: file, "
		"socket, exec_arg, exec_env, pipe, tty, tls, transcript, agent_pipe, "
		"exposure, discovered, coverage_gap, unmonitored_channel, rate_limited, "
		"state_warning)");
	assert_string_equal(error_of("policy.yaml", "flood:\n  burst: 0\n"),
			    "rules/policy.yaml:2:10: burst must be between 1 and 100000, not 0");
	assert_string_equal(error_of("policy.yaml", "flood:\n  burst: -1\n"),
			    "rules/policy.yaml:2:10: burst must be a whole number, not '-1'");
	assert_string_equal(error_of("policy.yaml", "flood:\n  burst: 99999999999999999999999\n"),
			    "rules/policy.yaml:2:10: burst must be a whole number, not "
			    "'99999999999999999999999'");
	assert_string_equal(
		error_of("policy.yaml", "capture:\n  ringbuf_bytes: 100000\n"),
		"rules/policy.yaml:2:18: ringbuf_bytes must be a power of two, not 100000");
	assert_string_equal(error_of("policy.yaml", "flood: {burst: 1, burst: 2}\n"),
			    "rules/policy.yaml:1:19: duplicate key 'burst'");
	assert_string_equal(error_of("policy.yaml", "allowlist:\n  - secrets: [\"*\"]\n"),
			    "rules/policy.yaml:2:5: allowlist entry has no paths");
	assert_string_equal(
		error_of("policy.yaml", "allowlist:\n  - paths: [relative/*]\n"),
		"rules/policy.yaml:2:12: paths must be absolute globs (starting with '/', "
		"'~/' or '*')");
	assert_string_equal(
		error_of("policy.yaml", "- 1\n"),
		"rules/policy.yaml:1:1: the top level must be a mapping (key: value), not "
		"a list");
	assert_string_equal(error_of("policy.yaml", "flood:\n  burst: \x80\n"),
			    "rules/policy.yaml:2:10: invalid leading UTF-8 octet (byte 0x80)");
}

static void test_limits(void **state)
{
	size_t big = SW_RULES_FILE_MAX + 1, i, off, ndet, nother;
	char *text = malloc(big + 1);
	char msg[1024], want[1024];
	struct sw_rules *r;
	struct sw_rules_error e;

	assert_non_null(text);
	memset(text, '#', big);
	text[big] = '\0';
	assert_null(load_with("policy.yaml", text, &e));
	assert_int_equal(errno, EFBIG);
	sw_rules_error__format(&e, msg, sizeof(msg));
	assert_string_equal(msg, "rules/policy.yaml: file is larger than 1048576 bytes");

	/* The limit counts rules of all files: the default agents and detectors come first. */
	r = sw_rules__load_embedded(&e);
	assert_non_null(r);
	sw_rules__detectors(r, &ndet);
	nother = sw_rules__agent_count(r) + ndet;
	sw_rules__free(r);
	off = (size_t)sprintf(text, "allowlist:\n");
	for (i = 0; i <= SW_RULES_MAX && off + 64 < big; i++)
		off += (size_t)sprintf(text + off, "- {paths: /x}\n");
	assert_null(load_with("policy.yaml", text, &e));
	sw_rules_error__format(&e, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "rules/policy.yaml:%zu:3: too many rules (at most 10000 in all files)",
		 1 + SW_RULES_MAX - nother + 1);
	assert_string_equal(msg, want);
	free(text);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_check_dir_reports_each(void **state)
{
	char dir[] = "/tmp/sw-rules-XXXXXX", msg[1024], want[1024], path[512];
	struct sw_rules_error errs[4], e;
	struct sw_rules *r;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "agents.yaml", "agents:\n  - lable: x\n");
	write_file(dir, "detectors.yaml", (const char *)embedded("detectors.yaml")->data);
	assert_int_equal(sw_rules__check_dir(dir, errs, 4), 2);
	sw_rules_error__format(&errs[0], msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "%s/agents.yaml:2:5: unknown key 'lable' (expected one of: label, basename, comm, "
		 "script, transcripts, tool_output, credentials, credential_env)",
		 dir);
	assert_string_equal(msg, want);
	sw_rules_error__format(&errs[1], msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s/policy.yaml: cannot open: No such file or directory", dir);
	assert_string_equal(msg, want);

	r = sw_rules__load_dir(dir, &e);
	assert_null(r);
	sw_rules_error__format(&e, msg, sizeof(msg));
	/* A load stops at the first problem: reading comes before parsing. */
	snprintf(want, sizeof(want), "%s/policy.yaml: cannot open: No such file or directory", dir);
	assert_string_equal(msg, want);

	write_file(dir, "agents.yaml", (const char *)embedded("agents.yaml")->data);
	write_file(dir, "policy.yaml", "flood: {burst: 5}\n");
	assert_int_equal(sw_rules__check_dir(dir, errs, 4), 0);
	r = sw_rules__load_dir(dir, &e);
	assert_non_null(r);
	assert_int_equal(sw_rules__policy(r)->flood_burst, 5);
	sw_rules__free(r);

	snprintf(path, sizeof(path), "%s/agents.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/detectors.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_load),
		cmocka_unit_test(test_each_default_file_checks),
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_agent_match),
		cmocka_unit_test(test_agent_comms),
		cmocka_unit_test(test_transcripts),
		cmocka_unit_test(test_path_globs),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_errors_exact),
		cmocka_unit_test(test_errors_detectors),
		cmocka_unit_test(test_errors_policy),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_check_dir_reports_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
