/* SPDX-License-Identifier: Apache-2.0 */
/* A gitleaks configuration (TOML) read with toml++ (Debian's libtomlplusplus-dev; Debian has
 * no C TOML library), handed to C as plain structs. Only what the importer converts or names. */
#ifndef GITLEAKS_TOML_H
#define GITLEAKS_TOML_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gl_strv {
	char **v;
	size_t n;
};

struct gl_allow {
	struct gl_strv regexes, stopwords, paths, commits;
	char *target;	 /* regexTarget: "secret" (default), "match" or "line" */
	char *condition; /* "OR" (default) or "AND" */
};

struct gl_rule {
	char *id, *description, *regex, *path;
	long secret_group; /* -1 when absent */
	double entropy;	   /* -1 when absent */
	struct gl_strv keywords;
	struct gl_allow *allows;
	size_t nallows;
	int line; /* of the [[rules]] table */
};

struct gl_config {
	struct gl_rule *rules;
	size_t nrules;
	struct gl_allow global;
	int has_global, extends;
};

/* Returns 0, or -1 with err filled ("line N: ..."). */
int gl_parse(const char *path, struct gl_config *out, char *err, size_t errsize);
void gl_free(struct gl_config *c);

#ifdef __cplusplus
}
#endif

#endif
