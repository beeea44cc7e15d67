// SPDX-License-Identifier: Apache-2.0
/* detectors.yaml: each detector's regex (PCRE2, JIT), its value checks, allowlist and examples;
 * and the check that every detector passes its own examples. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "detect.h"
#include "fingerprint.h"
#include "rules.h"
#include "rules_priv.h"

/* ---- detectors.yaml ---- */

struct det_ld {
	struct sw_detector *d;
	yaml_node_t *regex, *group, *max_len;
};

static int dt_id(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;
	size_t i;
	int rc = rl_get_strbuf(c, v, "id", d->id, sizeof(d->id));

	if (rc)
		return rc;
	for (i = 0; d->id[i]; i++)
		if (!islower((unsigned char)d->id[i]) && !isdigit((unsigned char)d->id[i]) &&
		    d->id[i] != '-')
			return rl_fail(c, v, "id may only contain a-z, 0-9 and '-'");
	return 0;
}

static int dt_name(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;

	return rl_get_strbuf(c, v, "name", d->name, sizeof(d->name));
}

static int dt_regex(struct ld *c, yaml_node_t *v, void *obj)
{
	const char *s;
	int rc = rl_get_str(c, v, "regex", 1, SW_RULES_REGEX_MAX, &s);

	if (rc)
		return rc;
	((struct det_ld *)obj)->regex = v;
	free(((struct det_ld *)obj)->d->regex);
	((struct det_ld *)obj)->d->regex = strndup(s, v->data.scalar.length);
	return ((struct det_ld *)obj)->d->regex ? 0 : -ENOMEM;
}

static int dt_group(struct ld *c, yaml_node_t *v, void *obj)
{
	struct det_ld *dl = obj;

	dl->group = v;
	return rl_get_u32(c, v, "group", 0, 255, &dl->d->group);
}

static int dt_min_entropy(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_double(c, v, "min_entropy", 0, 8, &((struct det_ld *)obj)->d->min_entropy);
}

static int dt_min_length(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_u32(c, v, "min_length", SW_SECRET_MIN, SW_SECRET_MAX,
			  &((struct det_ld *)obj)->d->min_len);
}

static int dt_max_length(struct ld *c, yaml_node_t *v, void *obj)
{
	struct det_ld *dl = obj;

	dl->max_len = v;
	return rl_get_u32(c, v, "max_length", SW_SECRET_MIN, SW_SECRET_MAX, &dl->d->max_len);
}

static int dt_keyword_window(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_u32(c, v, "keyword_window", 1, 4096,
			  &((struct det_ld *)obj)->d->keyword_window);
}

static int set_strv(struct ld *c, yaml_node_t *v, const char *what, size_t min, size_t max,
		    char ***arr, size_t *n)
{
	struct strv s = {0};
	int rc = rl_get_strv(c, v, what, min, max, 1, &s);

	*arr = s.v;
	*n = s.n;
	return rc;
}

static int dt_keywords(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;

	return set_strv(c, v, "keywords", 1, SW_RULES_STR_MAX, &d->keywords, &d->nkeywords);
}

static int dt_prefilter(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;

	return set_strv(c, v, "prefilter", SW_RULES_LITERAL_MIN, SW_RULES_LITERAL_MAX,
			&d->prefilter, &d->nprefilter);
}

static int dt_check(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = ((struct det_ld *)obj)->d;
	const char *s;
	char b[72];
	int rc = rl_get_str(c, v, "check", 1, 64, &s);

	if (rc)
		return rc;
	if (!strcmp(s, "none"))
		d->check = SW_CHECK_NONE;
	else if (!strcmp(s, "jwt"))
		d->check = SW_CHECK_JWT;
	else
		return rl_fail(c, v, "unknown check '%s' (expected one of: none, jwt)",
			       rl_shown(s, b));
	return 0;
}

/* Templates keep their case (set_strv lower-cases). */
static int ex_list(struct ld *c, yaml_node_t *v, const char *what, char ***arr, size_t *n)
{
	struct strv s = {0};
	int rc = rl_get_strv(c, v, what, 1, SW_RULES_STR_MAX, 0, &s);

	*arr = s.v;
	*n = s.n;
	return rc;
}

static int ex_match(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;

	return ex_list(c, v, "examples.match", &d->match, &d->nmatch);
}

static int ex_nomatch(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;

	return ex_list(c, v, "examples.nomatch", &d->nomatch, &d->nnomatch);
}

static const struct key example_keys[] = {
	{"match", ex_match},
	{"nomatch", ex_nomatch},
};

/* examples: {match: [TEMPLATE...], nomatch: [TEMPLATE...]}; templates are expanded and
 * verified by `rules check` (sw_detect__check_examples), not at load. */
static int dt_examples(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_parse_map(c, v, "examples", example_keys, 2, ((struct det_ld *)obj)->d, NULL);
}

static int da_regexes(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	struct strv sv = {0};
	size_t i;
	int rc = rl_get_strv(c, v, "allowlist.regexes", 1, SW_RULES_REGEX_MAX, 0, &sv), errcode;

	if (!rc) {
		d->allow_re = calloc(sv.n ? sv.n : 1, sizeof(*d->allow_re));
		if (!d->allow_re)
			rc = -ENOMEM;
	}
	for (i = 0; !rc && i < sv.n; i++) {
		d->allow_re[i] = pcre2_compile((PCRE2_SPTR)sv.v[i], PCRE2_ZERO_TERMINATED, 0,
					       &errcode, &erroff, NULL);
		if (!d->allow_re[i]) {
			pcre2_get_error_message(errcode, msg, sizeof(msg));
			rc = rl_fail(c, v, "bad allowlist regex %zu: %s at offset %zu", i + 1,
				     (const char *)msg, (size_t)erroff);
			break;
		}
		pcre2_jit_compile(d->allow_re[i], PCRE2_JIT_COMPLETE);
		d->nallow_re++;
	}
	rl_strv_free(&sv);
	return rc;
}

static int da_stopwords(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;

	return set_strv(c, v, "allowlist.stopwords", 1, SW_RULES_STR_MAX, &d->stopwords,
			&d->nstopwords);
}

static int da_target(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_detector *d = obj;
	const char *s;
	int rc = rl_get_str(c, v, "allowlist.target", 1, 16, &s);

	if (rc)
		return rc;
	if (strcmp(s, "secret") && strcmp(s, "match"))
		return rl_fail(c, v, "allowlist.target must be secret or match");
	d->allow_match = !strcmp(s, "match");
	return 0;
}

static const struct key det_allow_keys[] = {
	{"regexes", da_regexes},
	{"stopwords", da_stopwords},
	{"target", da_target},
};

/* allowlist: {regexes: [...], stopwords: [...], target: secret|match} */
static int dt_allowlist(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_parse_map(c, v, "allowlist", det_allow_keys, 3, ((struct det_ld *)obj)->d, NULL);
}

static const struct key detector_keys[] = {
	{"id", dt_id},
	{"name", dt_name},
	{"regex", dt_regex},
	{"group", dt_group},
	{"min_entropy", dt_min_entropy},
	{"min_length", dt_min_length},
	{"max_length", dt_max_length},
	{"keywords", dt_keywords},
	{"keyword_window", dt_keyword_window},
	{"prefilter", dt_prefilter},
	{"check", dt_check},
	{"examples", dt_examples},
	{"allowlist", dt_allowlist},
};
#define NDETECTOR_KEYS (sizeof(detector_keys) / sizeof(detector_keys[0]))

/* Compiles the regex; a prefilter defaults to the keywords. */
static int detector_finish(struct ld *c, yaml_node_t *e, struct det_ld *dl)
{
	struct sw_detector *d = dl->d;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	uint32_t ngroups;
	int errcode;
	size_t i;

	if (!d->id[0])
		return rl_fail(c, e, "detector has no id");
	if (!dl->regex)
		return rl_fail(c, e, "detector '%s' has no regex", d->id);
	if (!d->name[0])
		snprintf(d->name, sizeof(d->name), "%s", d->id);
	if (d->min_len > d->max_len)
		return rl_fail(c, dl->max_len ? dl->max_len : e,
			       "max_length %u is less than min_length %u", d->max_len, d->min_len);
	for (i = 0; i < c->r->ndet - 1; i++)
		if (!strcmp(c->r->det[i].id, d->id))
			return rl_fail(c, e, "duplicate detector id '%s'", d->id);
	d->code = pcre2_compile((PCRE2_SPTR)rl_scalar(dl->regex), dl->regex->data.scalar.length, 0,
				&errcode, &erroff, NULL);
	if (!d->code) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return rl_fail(c, dl->regex, "bad regex in detector '%s': %s at offset %zu", d->id,
			       (const char *)msg, (size_t)erroff);
	}
	if (pcre2_pattern_info(d->code, PCRE2_INFO_CAPTURECOUNT, &ngroups))
		return rl_fail(c, dl->regex, "bad regex in detector '%s'", d->id);
	if (d->group > ngroups)
		return rl_fail(c, dl->group,
			       "group %u does not exist: the regex of '%s' has %u "
			       "capture group(s)",
			       d->group, d->id, ngroups);
	/* Without JIT (unsupported CPU or no executable memory) pcre2_match interprets: slower,
	 * same results, so a JIT failure is not an error. */
	pcre2_jit_compile(d->code, PCRE2_JIT_COMPLETE);
	if (!d->nprefilter && d->nkeywords) {
		d->prefilter = calloc(d->nkeywords, sizeof(*d->prefilter));
		if (!d->prefilter)
			return -ENOMEM;
		for (i = 0; i < d->nkeywords; i++) {
			if (strlen(d->keywords[i]) < SW_RULES_LITERAL_MIN ||
			    strlen(d->keywords[i]) > SW_RULES_LITERAL_MAX)
				return rl_fail(c, e,
					       "keyword '%.40s' cannot be a prefilter literal "
					       "(%d to %d characters): give a prefilter list",
					       d->keywords[i], SW_RULES_LITERAL_MIN,
					       SW_RULES_LITERAL_MAX);
			d->prefilter[i] = strdup(d->keywords[i]);
			if (!d->prefilter[i])
				return -ENOMEM;
			d->nprefilter++;
		}
	}
	return 0;
}

static int detectors_list(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_rules *r = c->r;
	yaml_node_item_t *it;
	struct det_ld dl;
	yaml_node_t *e;
	size_t count, i;
	int rc;

	(void)obj;
	rc = rl_get_list(c, v, "detectors", &it, &count);
	if (rc)
		return rc;
	r->det = calloc(count ? count : 1, sizeof(*r->det));
	if (!r->det)
		return -ENOMEM;
	for (i = 0; i < count; i++, it++) {
		e = rl_node(c, *it);
		if (!e)
			return rl_fail(c, v, "detectors: broken list");
		rc = rl_count_rule(c, e);
		if (rc)
			return rc;
		memset(&dl, 0, sizeof(dl));
		dl.d = &r->det[r->ndet++];
		dl.d->min_len = SW_SECRET_MIN;
		dl.d->max_len = SW_SECRET_MAX;
		dl.d->keyword_window = 64;
		dl.d->line = (int)e->start_mark.line + 1;
		rc = rl_parse_map(c, e, "a detector", detector_keys, NDETECTOR_KEYS, &dl, NULL);
		if (rc)
			return rc;
		rc = detector_finish(c, e, &dl);
		if (rc)
			return rc;
	}
	return 0;
}

const struct key rl_detectors_file_keys[] = {
	{"detectors", detectors_list},
};
size_t sw_rules__check_examples(const struct sw_rules *r, const char *file,
				struct sw_rules_error *errs, size_t max)
{
	char msg[sizeof(errs->msg)];
	uint64_t seed;
	size_t i, k, n = 0;

	for (i = 0; i < r->ndet; i++) {
		/* One fixed seed per detector: a failure reproduces run after run. */
		seed = 0x5eedu;
		for (k = 0; r->det[i].id[k]; k++)
			seed = (seed ^ (uint8_t)r->det[i].id[k]) * 0x100000001b3ull;
		msg[0] = '\0';
		if (!sw_detect__check_examples(r, i, seed, msg, sizeof(msg)))
			continue;
		if (n++ < max)
			rl_fail_at(&errs[n - 1], file, r->det[i].line, 1, "%s",
				   msg[0] ? msg : "cannot check examples");
	}
	return n;
}
