// SPDX-License-Identifier: Apache-2.0
/* Rules loader: YAML (libyaml document API after an event pre-scan that enforces the depth
 * limit and refuses aliases) into agents, compiled detectors and the artifact policy. Every
 * problem is reported once, with file:line:column and words a user can act on.
 *
 * This file reads the files and loads a rule set; the YAML helpers are in rules_yaml.c, each
 * file's keys and queries in rules_agents.c, rules_detectors.c and rules_policy.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "detect.h"
#include "fingerprint.h"
#include "rules.h"
#include "rules_priv.h"
#include "sprawl_events.h"

_Static_assert(SW_AGENT_COMM_LEN == SW_COMM_LEN, "agent comm table entries are kernel comms");
_Static_assert(SW_DETECTOR_ID_MAX == sizeof(((struct sw_secret *)0)->detector),
	       "a detector id fits a learned secret's detector field");

static const char *const rule_files[] = {"agents.yaml", "detectors.yaml", "policy.yaml"};
#define NFILES (sizeof(rule_files) / sizeof(rule_files[0]))

int sw_rules_error__format(const struct sw_rules_error *e, char *out, size_t size)
{
	if (e->line > 0)
		return snprintf(out, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
	return snprintf(out, size, "%s: %s", e->file, e->msg);
}

/* ---- freeing ---- */

void rl_strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void detector_free(struct sw_detector *d)
{
	size_t i;

	pcre2_code_free(d->code);
	free(d->regex);
	for (i = 0; i < d->nallow_re; i++)
		pcre2_code_free(d->allow_re[i]);
	free(d->allow_re);
	for (i = 0; i < d->nstopwords; i++)
		free(d->stopwords[i]);
	free(d->stopwords);
	for (i = 0; i < d->nmatch; i++)
		free(d->match[i]);
	free(d->match);
	for (i = 0; i < d->nnomatch; i++)
		free(d->nomatch[i]);
	free(d->nomatch);
	for (i = 0; i < d->nkeywords; i++)
		free(d->keywords[i]);
	free(d->keywords);
	for (i = 0; i < d->nprefilter; i++)
		free(d->prefilter[i]);
	free(d->prefilter);
}

void sw_rules__free(struct sw_rules *r)
{
	size_t i;

	if (!r)
		return;
	sw_detect__index_free(r->index);
	rl_strv_free(&r->interpreters);
	for (i = 0; i < r->nagents; i++) {
		rl_strv_free(&r->agents[i].basename);
		rl_strv_free(&r->agents[i].comm);
		rl_strv_free(&r->agents[i].script);
		rl_strv_free(&r->agents[i].transcripts);
		rl_strv_free(&r->agents[i].tool_output);
		rl_strv_free(&r->agents[i].credentials);
		rl_strv_free(&r->agents[i].credential_env);
	}
	free(r->agents);
	for (i = 0; i < r->ndet; i++)
		detector_free(&r->det[i]);
	free(r->det);
	for (i = 0; i < r->nallow; i++) {
		rl_strv_free(&r->allow[i].secrets);
		rl_strv_free(&r->allow[i].paths);
	}
	free(r->allow);
	free(r);
}

static struct sw_rules *rules_alloc(void)
{
	struct sw_rules *r = calloc(1, sizeof(*r));
	struct sw_policy *p;

	if (!r)
		return NULL;
	p = &r->policy;
	sw_policy__defaults(p);
	return r;
}

/* ---- one file ---- */

static int load_file(struct sw_rules *r, const char *base, const char *file,
		     const unsigned char *buf, size_t len, struct sw_rules_error *err)
{
	struct ld c = {.r = r, .file = file, .err = err};
	const struct key *keys;
	yaml_document_t doc;
	yaml_parser_t p;
	yaml_node_t *root;
	size_t nkeys;
	uint32_t seen = 0;
	int rc;

	if (len > SW_RULES_FILE_MAX) {
		rl_fail_at(err, file, 0, 0, "file is larger than %u bytes", SW_RULES_FILE_MAX);
		return -EFBIG;
	}
	rc = rl_prescan(&c, buf, len);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, buf, len);
	if (!yaml_parser_load(&p, &doc)) {
		rc = rl_yaml_fail(&c, &p, buf, len);
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_parser_delete(&p);
	c.doc = &doc;
	if (!strcmp(base, "agents.yaml")) {
		keys = rl_agents_file_keys;
		nkeys = 2;
	} else if (!strcmp(base, "detectors.yaml")) {
		keys = rl_detectors_file_keys;
		nkeys = 1;
	} else {
		keys = rl_policy_file_keys;
		nkeys = 6;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		/* Only policy.yaml may be empty: every policy value has a default. */
		if (keys != rl_policy_file_keys)
			rc = rl_fail_at(err, file, 0, 0, "file is empty (expected key '%s')",
					keys[nkeys - 1].name);
	} else {
		rc = rl_parse_map(&c, root, "the top level", keys, nkeys, NULL, &seen);
		if (!rc && keys != rl_policy_file_keys && !(seen & (1u << (nkeys - 1))))
			rc = rl_fail(&c, root, "missing key '%s'", keys[nkeys - 1].name);
	}
	yaml_document_delete(&doc);
	return rc;
}

static const struct sw_embedded_file *find_file(const struct sw_embedded_file *files,
						const char *name)
{
	size_t i;

	for (i = 0; files[i].name && i < 64; i++)
		if (!strcmp(files[i].name, name))
			return &files[i];
	return NULL;
}

struct sw_rules *sw_rules__load_files(const struct sw_embedded_file *files, const char *prefix,
				      struct sw_rules_error *err)
{
	const struct sw_embedded_file *f;
	struct sw_rules *r;
	char path[PATH_MAX];
	size_t i;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	r = rules_alloc();
	if (!r) {
		rl_fail_at(err, prefix ? prefix : "", 0, 0, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < NFILES && !rc; i++) {
		snprintf(path, sizeof(path), "%s%s", prefix ? prefix : "", rule_files[i]);
		f = find_file(files, rule_files[i]);
		if (!f || !f->data) {
			rl_fail_at(err, path, 0, 0,
				   "missing: a rule set needs agents.yaml, "
				   "detectors.yaml and policy.yaml");
			rc = -ENOENT;
			break;
		}
		rc = load_file(r, rule_files[i], path, f->data, f->len, err);
		if (rc == -ENOMEM)
			rl_fail_at(err, path, 0, 0, "out of memory");
	}
	if (rc) {
		sw_rules__free(r);
		errno = -rc;
		return NULL;
	}
	return r;
}

struct sw_rules *sw_rules__load_embedded(struct sw_rules_error *err)
{
	return sw_rules__load_files(sw_embedded_rules, "embedded:", err);
}

/* Reads a whole rule file (at most SW_RULES_FILE_MAX bytes) into a NUL-terminated buffer. */
static int read_file(const char *path, unsigned char **out, size_t *len, struct sw_rules_error *err)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		rl_fail_at(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		rl_fail_at(err, path, 0, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rl_fail_at(err, path, 0, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > SW_RULES_FILE_MAX) {
		rl_fail_at(err, path, 0, 0, "file is larger than %u bytes", SW_RULES_FILE_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf = malloc(SW_RULES_FILE_MAX + 2);
	if (!buf) {
		rc = -ENOMEM;
		rl_fail_at(err, path, 0, 0, "out of memory");
		goto out;
	}
	/* The file may grow after fstat: read at most one byte past the limit to notice. */
	while (got <= SW_RULES_FILE_MAX) {
		n = read(fd, buf + got, SW_RULES_FILE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			rl_fail_at(err, path, 0, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > SW_RULES_FILE_MAX) {
		rl_fail_at(err, path, 0, 0, "file is larger than %u bytes", SW_RULES_FILE_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int dir_path(const char *dir, const char *name, char *out, size_t size)
{
	size_t n = strlen(dir);
	int len = snprintf(out, size, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);

	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

int sw_rules__read_dir(const char *dir, struct sw_embedded_file files[SW_RULES_FILES + 1],
		       struct sw_rules_error *err)
{
	unsigned char *buf;
	char path[PATH_MAX];
	size_t i;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	memset(files, 0, (SW_RULES_FILES + 1) * sizeof(*files));
	for (i = 0; i < NFILES && !rc; i++) {
		rc = dir_path(dir, rule_files[i], path, sizeof(path));
		if (rc) {
			rl_fail_at(err, dir, 0, 0, "path too long");
			break;
		}
		buf = NULL;
		rc = read_file(path, &buf, &files[i].len, err);
		files[i].name = rule_files[i];
		files[i].data = buf;
	}
	if (rc)
		sw_rules__free_files(files);
	return rc;
}

void sw_rules__free_files(struct sw_embedded_file files[SW_RULES_FILES + 1])
{
	size_t i;

	for (i = 0; i < SW_RULES_FILES; i++) {
		free((void *)files[i].data);
		files[i].data = NULL;
		files[i].name = NULL;
	}
}

struct sw_rules *sw_rules__load_dir(const char *dir, struct sw_rules_error *err)
{
	struct sw_embedded_file files[SW_RULES_FILES + 1];
	char prefix[PATH_MAX];
	struct sw_rules *r;
	int rc;

	memset(err, 0, sizeof(*err));
	rc = dir_path(dir, "", prefix, sizeof(prefix));
	if (rc) {
		rl_fail_at(err, dir, 0, 0, "path too long");
		errno = -rc;
		return NULL;
	}
	rc = sw_rules__read_dir(dir, files, err);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	r = sw_rules__load_files(files, prefix, err);
	sw_rules__free_files(files);
	return r;
}

size_t sw_rules__check_dir(const char *dir, struct sw_rules_error *errs, size_t max)
{
	struct sw_rules_error e;
	struct sw_rules *r;
	unsigned char *buf;
	char path[PATH_MAX];
	size_t i, n = 0, len;
	int rc;

	for (i = 0; i < NFILES; i++) {
		memset(&e, 0, sizeof(e));
		buf = NULL;
		rc = dir_path(dir, rule_files[i], path, sizeof(path));
		if (rc)
			rl_fail_at(&e, dir, 0, 0, "path too long");
		else
			rc = read_file(path, &buf, &len, &e);
		if (!rc) {
			r = rules_alloc();
			rc = r ? load_file(r, rule_files[i], path, buf, len, &e) : -ENOMEM;
			if (rc == -ENOMEM)
				rl_fail_at(&e, path, 0, 0, "out of memory");
			sw_rules__free(r);
		}
		free(buf);
		if (rc && n++ < max)
			errs[n - 1] = e;
	}
	/* Limits that span files (the total rule count) show only in a full load. */
	if (!n) {
		r = sw_rules__load_dir(dir, &e);
		if (!r && n++ < max)
			errs[n - 1] = e;
		if (r && !dir_path(dir, "detectors.yaml", path, sizeof(path)))
			n += sw_rules__check_examples(r, path, errs, max);
		sw_rules__free(r);
	}
	return n;
}

const struct sw_policy *sw_rules__policy(const struct sw_rules *r)
{
	return &r->policy;
}

const struct sw_detector *sw_rules__detectors(const struct sw_rules *r, size_t *n)
{
	*n = r->ndet;
	return r->det;
}

/* Built at first use: compiling every detector into Hyperscan takes a good part of a second, and
 * a replay of the recorded rules, or a daemon's own copy of the rules, never scans. */
struct sw_detect_index *sw_rules__detect_index(const struct sw_rules *r)
{
	struct sw_rules *w = (struct sw_rules *)r; /* a cache: what r means does not change */

	if (!w->index && !w->index_failed) {
		w->index = sw_detect__index_new(r->det, r->ndet);
		w->index_failed = !w->index;
	}
	return r->index;
}
