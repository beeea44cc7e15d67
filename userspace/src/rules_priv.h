/* SPDX-License-Identifier: Apache-2.0 */
/* The rules' internals, shared by the loader (rules.c), its YAML helpers (rules_yaml.c) and the
 * parsers and queries of each file (rules_agents.c, rules_detectors.c, rules_policy.c).
 * Nothing else includes this. */
#ifndef SW_RULES_PRIV_H
#define SW_RULES_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "detect.h"
#include "rules.h"

struct strv {
	char **v;
	size_t n;
};

struct sw_agent {
	char label[SW_AGENT_LABEL_MAX];
	int line;
	struct strv basename, comm, script, transcripts, tool_output, credentials, credential_env;
};

struct sw_allow {
	struct strv secrets, paths;
};

struct sw_rules {
	struct strv interpreters;
	struct sw_agent *agents;
	size_t nagents;
	struct sw_detector *det;
	size_t ndet;
	struct sw_allow *allow;
	size_t nallow;
	size_t nrules;
	struct sw_policy policy;
	struct sw_detect_index *index; /* built at first use (sw_rules__detect_index) */
	int index_failed;
};

/* ---- loader context (rules_yaml.c) ---- */

struct ld {
	struct sw_rules *r;
	yaml_document_t *doc;
	const char *file;
	struct sw_rules_error *err;
};

typedef int (*key_fn)(struct ld *c, yaml_node_t *val, void *obj);

struct key {
	const char *name;
	key_fn fn;
};

void rl_strv_free(struct strv *s);

int __attribute__((format(printf, 5, 6)))
rl_fail_at(struct sw_rules_error *err, const char *file, int line, int col, const char *fmt, ...);
int __attribute__((format(printf, 3, 4)))
rl_fail(struct ld *c, const yaml_node_t *n, const char *fmt, ...);
const char *rl_shown(const char *s, char buf[72]);
const char *rl_kind(const yaml_node_t *n);
yaml_node_t *rl_node(struct ld *c, int id);
const char *rl_scalar(const yaml_node_t *n);
int rl_get_str(struct ld *c, yaml_node_t *n, const char *what, size_t min, size_t max,
	       const char **out);
int rl_get_strbuf(struct ld *c, yaml_node_t *n, const char *what, char *buf, size_t size);
int rl_get_u64(struct ld *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
	       uint64_t *out);
int rl_get_u32(struct ld *c, yaml_node_t *n, const char *what, uint32_t min, uint32_t max,
	       uint32_t *out);
int rl_get_double(struct ld *c, yaml_node_t *n, const char *what, double min, double max,
		  double *out);
int rl_get_strv(struct ld *c, yaml_node_t *n, const char *what, size_t min, size_t max, int lower,
		struct strv *out);
int rl_parse_map(struct ld *c, yaml_node_t *map, const char *what, const struct key *keys,
		 size_t nkeys, void *obj, uint32_t *seen);
int rl_count_rule(struct ld *c, yaml_node_t *n);
int rl_get_list(struct ld *c, yaml_node_t *n, const char *what, yaml_node_item_t **first,
		size_t *count);
int rl_yaml_fail(struct ld *c, const yaml_parser_t *p, const unsigned char *buf, size_t len);
int rl_prescan(struct ld *c, const unsigned char *buf, size_t len);

/* The top-level keys of each file; the last one is required (except in policy.yaml). */
extern const struct key rl_agents_file_keys[2];
extern const struct key rl_detectors_file_keys[1];
extern const struct key rl_policy_file_keys[6];

#endif /* SW_RULES_PRIV_H */
