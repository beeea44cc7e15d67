// SPDX-License-Identifier: Apache-2.0
/* sprawlctl rules import-gitleaks FILE.toml: a gitleaks configuration as a detectors.yaml on
 * stdout. Converted: regex (Go RE2; what PCRE2 compiles), secretGroup, entropy, keywords (as
 * prefilter literals: gitleaks uses them to pick fragments, not as context), allowlists'
 * regexes and stopwords (global ones go to every rule). Every rule that cannot be converted,
 * and every part of one that is dropped, is named on stderr with the reason. Each converted
 * rule is loaded through the rules loader before it is printed, so the output loads. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "gitleaks_toml.h"
#include "rules.h"
#include "sprawlctl.h"

#define ID_MAX 63

/* YAML scalar: single-quoted, or a double-quoted JSON-style string when it holds control
 * characters. */
static void yq(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (!*p) {
		fputc('\'', f);
		for (p = (const unsigned char *)s; *p; p++) {
			if (*p == '\'')
				fputc('\'', f);
			fputc(*p, f);
		}
		fputc('\'', f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void yq_list(FILE *f, const char *key, char *const *v, size_t n)
{
	size_t i;

	fprintf(f, "%s: [", key);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		yq(f, v[i]);
	}
	fputs("]\n", f);
}

static void sanitize_id(const char *in, size_t idx, char out[ID_MAX + 1])
{
	size_t i, o = 0;

	for (i = 0; in && in[i] && o < ID_MAX; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)in[i]);

		out[o++] = (char)(isalnum(c) ? c : '-');
	}
	if (!o)
		o = (size_t)snprintf(out, ID_MAX + 1, "gitleaks-rule-%zu", idx + 1);
	out[o] = '\0';
}

struct strs {
	char **v;
	size_t n, cap;
};

static void strs_add(struct strs *s, char *const *v, size_t n)
{
	size_t i;
	char **nv;

	for (i = 0; i < n; i++) {
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 16;
			nv = realloc(s->v, s->cap * sizeof(*nv));
			if (!nv)
				return;
			s->v = nv;
		}
		s->v[s->n++] = v[i];
	}
}

/* Folds one gitleaks allowlist into the rule's; names what cannot be expressed. */
static void take_allow(const struct gl_allow *a, const char *id, const char *whose, struct strs *re,
		       struct strs *sw, int *match_target, int *line_dropped)
{
	int and = a->condition && !strcasecmp(a->condition, "AND");

	if (a->paths.n)
		fprintf(stderr,
			"gitleaks rule '%s': %s allowlist paths dropped (detectors see content, "
			"not "
			"file names; use policy.yaml allowlist)%s\n",
			id, whose, and? "; its condition AND made the rest narrower" : "");
	if (a->commits.n)
		fprintf(stderr,
			"gitleaks rule '%s': %s allowlist commits dropped (no git history "
			"here)\n",
			id, whose);
	if (and&&(a->paths.n || a->commits.n)) {
		/* With AND, regexes alone would allow more than gitleaks does: drop them all. */
		fprintf(stderr, "gitleaks rule '%s': %s allowlist not converted (AND with paths)\n",
			id, whose);
		return;
	}
	if (a->target && !strcmp(a->target, "line")) {
		if (a->regexes.n)
			*line_dropped = 1;
	} else if (a->regexes.n) {
		if (a->target && !strcmp(a->target, "match"))
			*match_target = 1;
		strs_add(re, a->regexes.v, a->regexes.n);
	}
	strs_add(sw, a->stopwords.v, a->stopwords.n);
}

/* One rule as YAML into f (a list item). Returns 0, or -1 with why filled. */
static int emit_rule(FILE *f, const struct gl_config *cfg, const struct gl_rule *g, size_t idx,
		     char *why, size_t whysize)
{
	char id[ID_MAX + 1], desc[SW_DETECTOR_NAME_MAX];
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	struct strs re = {0}, sw = {0}, kw = {0};
	pcre2_code *code;
	uint32_t ngroups = 0;
	size_t i;
	long group;
	int errcode, match_target = 0, line_dropped = 0;

	sanitize_id(g->id, idx, id);
	if (!g->regex) {
		snprintf(why, whysize, "%s",
			 g->path ? "a path-only rule (it matches file names, "
				   "not content)"
				 : "no regex");
		return -1;
	}
	if (strlen(g->regex) > SW_RULES_REGEX_MAX) {
		snprintf(why, whysize, "regex longer than %d bytes", SW_RULES_REGEX_MAX);
		return -1;
	}
	code = pcre2_compile((PCRE2_SPTR)g->regex, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff,
			     NULL);
	if (!code) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		snprintf(why, whysize, "regex (Go RE2) that PCRE2 cannot take: %s at offset %zu",
			 (const char *)msg, (size_t)erroff);
		return -1;
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ngroups);
	pcre2_code_free(code);
	/* gitleaks: secretGroup, else the first capture group when there is one, else the
	 * whole match. */
	group = g->secret_group > 0 ? g->secret_group : ngroups ? 1 : 0;
	if (group > (long)ngroups) {
		snprintf(why, whysize, "secretGroup %ld but the regex has %u group(s)", group,
			 ngroups);
		return -1;
	}
	if (g->entropy > 8) {
		snprintf(why, whysize, "entropy %.2f above 8 bits per character", g->entropy);
		return -1;
	}
	if (g->path)
		fprintf(stderr,
			"gitleaks rule '%s': path condition dropped (the rule now applies "
			"to all content)\n",
			id);
	for (i = 0; i < g->nallows; i++)
		take_allow(&g->allows[i], id, "its", &re, &sw, &match_target, &line_dropped);
	if (cfg->has_global)
		take_allow(&cfg->global, id, "the global", &re, &sw, &match_target, &line_dropped);
	if (line_dropped)
		fprintf(stderr,
			"gitleaks rule '%s': allowlist regexes on the line dropped "
			"(regexTarget = \"line\")\n",
			id);
	for (i = 0; i < g->keywords.n; i++) {
		size_t l = strlen(g->keywords.v[i]);

		if (l >= SW_RULES_LITERAL_MIN && l <= SW_RULES_LITERAL_MAX)
			strs_add(&kw, &g->keywords.v[i], 1);
	}
	/* A prefilter must cover every match: with a keyword dropped it would not. */
	if (kw.n != g->keywords.n) {
		fprintf(stderr,
			"gitleaks rule '%s': keywords not used (one is shorter than %d or "
			"longer than %d characters)\n",
			id, SW_RULES_LITERAL_MIN, SW_RULES_LITERAL_MAX);
		kw.n = 0;
	}
	snprintf(desc, sizeof(desc), "%s", g->description ? g->description : id);
	fprintf(f, "  - id: %s\n    name: ", id);
	yq(f, desc);
	fputs("\n    regex: ", f);
	yq(f, g->regex);
	fputc('\n', f);
	if (group)
		fprintf(f, "    group: %ld\n", group);
	if (g->entropy > 0)
		fprintf(f, "    min_entropy: %g\n", g->entropy);
	if (kw.n) {
		fputs("    ", f);
		yq_list(f, "prefilter", kw.v, kw.n);
	}
	if (re.n || sw.n) {
		fputs("    allowlist:\n", f);
		if (re.n) {
			fputs("      ", f);
			yq_list(f, "regexes", re.v, re.n);
		}
		if (sw.n) {
			fputs("      ", f);
			yq_list(f, "stopwords", sw.v, sw.n);
		}
		if (match_target)
			fputs("      target: match\n", f);
	}
	free(re.v);
	free(sw.v);
	free(kw.v);
	return 0;
}

/* Loads detectors yaml (with the embedded agents and policy): 0 or -1 with why. */
static int loads(const char *yaml, size_t len, char *why, size_t whysize)
{
	struct sw_embedded_file files[4] = {{0}};
	struct sw_rules_error e;
	struct sw_rules *r;
	size_t i, n = 0;

	for (i = 0; sw_embedded_rules[i].name && n < 2; i++)
		if (strcmp(sw_embedded_rules[i].name, "detectors.yaml"))
			files[n++] = sw_embedded_rules[i];
	files[n].name = "detectors.yaml";
	files[n].data = (const unsigned char *)yaml;
	files[n].len = len;
	r = sw_rules__load_files(files, "", &e);
	if (!r) {
		snprintf(why, whysize, "%s", e.msg);
		return -1;
	}
	sw_rules__free(r);
	return 0;
}

int sw_ctl_import_gitleaks(const char *file)
{
	static const char head[] = "detectors:\n";
	struct gl_config cfg;
	char msg[512], why[600];
	char *all = NULL, *one = NULL;
	size_t alllen = 0, onelen = 0, i, ok = 0;
	FILE *out, *f1;
	long start;

	if (gl_parse(file, &cfg, msg, sizeof(msg))) {
		err("%s: %s", file, msg);
		return -EINVAL;
	}
	out = open_memstream(&all, &alllen);
	if (!out) {
		gl_free(&cfg);
		return -ENOMEM;
	}
	fprintf(out,
		"# SPDX-License-Identifier: Apache-2.0\n# Converted from the gitleaks "
		"configuration %s by `sprawlctl rules import-gitleaks`.\n",
		file);
	if (cfg.extends)
		fputs("# Its [extend] (gitleaks' default rules) is not included: only the rules "
		      "the file itself defines.\n",
		      out);
	fputs(head, out);
	for (i = 0; i < cfg.nrules; i++) {
		char id[ID_MAX + 1];

		sanitize_id(cfg.rules[i].id, i, id);
		f1 = open_memstream(&one, &onelen);
		if (!f1)
			break;
		fputs(head, f1);
		start = ftell(f1);
		why[0] = '\0';
		if (emit_rule(f1, &cfg, &cfg.rules[i], i, why, sizeof(why))) {
			fclose(f1);
			fprintf(stderr, "gitleaks rule '%s' (line %d) not converted: %s\n", id,
				cfg.rules[i].line, why);
		} else {
			fclose(f1);
			if (loads(one, onelen, why, sizeof(why)))
				fprintf(stderr, "gitleaks rule '%s' (line %d) not converted: %s\n",
					id, cfg.rules[i].line, why);
			else if (fwrite(one + start, 1, onelen - (size_t)start, out) ==
				 onelen - (size_t)start)
				ok++;
		}
		free(one);
		one = NULL;
	}
	if (!ok)
		fputs("  []\n", out);
	fclose(out);
	/* The whole file loads too (duplicate ids are caught here). */
	if (ok && loads(all, alllen, why, sizeof(why))) {
		err("%s: the converted rules do not load together: %s", file, why);
		free(all);
		gl_free(&cfg);
		return -EINVAL;
	}
	fwrite(all, 1, alllen, stdout);
	fprintf(stderr, "converted %zu of %zu gitleaks rule(s)\n", ok, cfg.nrules);
	free(all);
	gl_free(&cfg);
	return 0;
}
