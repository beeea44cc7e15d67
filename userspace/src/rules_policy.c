// SPDX-License-Identifier: Apache-2.0
/* policy.yaml: the allowlist, severities, flood limits and capture bounds; and the allowlist
 * query. */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "rules.h"
#include "rules_priv.h"

/* ---- policy.yaml ---- */

static int al_reason(struct ld *c, yaml_node_t *v, void *obj)
{
	const char *s;

	(void)obj;
	return rl_get_str(c, v, "reason", 0, SW_RULES_STR_MAX, &s);
}

static int al_secrets(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_get_strv(c, v, "secrets", 1, SW_RULES_STR_MAX, 0,
			   &((struct sw_allow *)obj)->secrets);
}

static int al_paths(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_allow *a = obj;
	size_t i;
	int rc = rl_get_strv(c, v, "paths", 1, SW_RULES_STR_MAX, 0, &a->paths);

	if (rc)
		return rc;
	for (i = 0; i < a->paths.n; i++)
		if (a->paths.v[i][0] != '/' && strncmp(a->paths.v[i], "~/", 2) &&
		    a->paths.v[i][0] != '*')
			return rl_fail(c, v,
				       "paths must be absolute globs (starting with '/', '~/' "
				       "or '*')");
	return 0;
}

static const struct key allow_keys[] = {
	{"reason", al_reason},
	{"secrets", al_secrets},
	{"paths", al_paths},
};

static int policy_allowlist(struct ld *c, yaml_node_t *v, void *obj)
{
	struct sw_rules *r = c->r;
	yaml_node_item_t *it;
	yaml_node_t *e;
	size_t count, i;
	uint32_t seen;
	int rc;

	(void)obj;
	rc = rl_get_list(c, v, "allowlist", &it, &count);
	if (rc)
		return rc;
	r->allow = calloc(count ? count : 1, sizeof(*r->allow));
	if (!r->allow)
		return -ENOMEM;
	for (i = 0; i < count; i++, it++) {
		e = rl_node(c, *it);
		if (!e)
			return rl_fail(c, v, "allowlist: broken list");
		rc = rl_count_rule(c, e);
		if (rc)
			return rc;
		rc = rl_parse_map(c, e, "an allowlist entry", allow_keys, 3, &r->allow[r->nallow++],
				  &seen);
		if (rc)
			return rc;
		if (!(seen & 4))
			return rl_fail(c, e, "allowlist entry has no paths");
	}
	return 0;
}

static int policy_severity(struct ld *c, yaml_node_t *v, void *obj)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *val;
	uint64_t done = 0;
	unsigned int i, s;
	char b[72];

	(void)obj;
	if (v->type != YAML_MAPPING_NODE)
		return rl_fail(c, v, "severity must be a mapping (artifact type: severity), not %s",
			       rl_kind(v));
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		k = rl_node(c, p->key);
		val = rl_node(c, p->value);
		if (!k || !val)
			return rl_fail(c, v, "severity: broken mapping");
		if (k->type != YAML_SCALAR_NODE)
			return rl_fail(c, k, "keys in severity must be strings, not %s",
				       rl_kind(k));
		/* Artifact types and places first, then the other alert kinds. */
		for (i = 0; i < SW_PLACE__COUNT + SW_ALERT__COUNT; i++) {
			const char *name = i < SW_PLACE__COUNT
						   ? sw_policy__place_name(i)
						   : sw_policy__kind_key(i - SW_PLACE__COUNT);
			if (name && !strcmp(rl_scalar(k), name))
				break;
		}
		if (i == SW_PLACE__COUNT + SW_ALERT__COUNT)
			return rl_fail(c, k,
				       "unknown key '%s' (expected one of: file, socket, "
				       "exec_arg, exec_env, pipe, tty, tls, transcript, "
				       "agent_pipe, exposure, discovered, coverage_gap, "
				       "unmonitored_channel, rate_limited, state_warning)",
				       rl_shown(rl_scalar(k), b));
		if (done & (1ull << i))
			return rl_fail(c, k, "duplicate key '%s'", rl_scalar(k));
		done |= 1ull << i;
		if (val->type != YAML_SCALAR_NODE)
			return rl_fail(c, val, "severity must be a string, not %s", rl_kind(val));
		for (s = 0; s < SW_SEV__COUNT; s++)
			if (!strcmp(rl_scalar(val), sw_alert__severity_name(s)))
				break;
		if (s == SW_SEV__COUNT)
			return rl_fail(c, val,
				       "unknown severity '%s' (expected one of: info, low, "
				       "medium, high, critical)",
				       rl_shown(rl_scalar(val), b));
		if (i < SW_PLACE__COUNT)
			c->r->policy.place[i] = (uint8_t)s;
		else
			c->r->policy.kind[i - SW_PLACE__COUNT] = (uint8_t)s;
	}
	return 0;
}

static int fl_burst(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u32(c, v, "burst", 1, 100000, &c->r->policy.flood_burst);
}

static int fl_per_minute(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u32(c, v, "per_minute", 1, 1000000, &c->r->policy.flood_per_minute);
}

static const struct key flood_keys[] = {
	{"burst", fl_burst},
	{"per_minute", fl_per_minute},
};

static int policy_flood(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_parse_map(c, v, "flood", flood_keys, 2, obj, NULL);
}

static int cp_max_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u64(c, v, "max_bytes", SW_POLICY_MAX_BYTES_MIN, SW_POLICY_MAX_BYTES_MAX,
			  &c->r->policy.capture_max_bytes);
}

static int cp_readback_max_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u64(c, v, "readback_max_bytes", SW_POLICY_READBACK_MIN,
			  SW_POLICY_READBACK_MAX, &c->r->policy.readback_max_bytes);
}

static int cp_hold_ms(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u32(c, v, "hold_ms", 0, 60000, &c->r->policy.hold_ms);
}

static int cp_ringbuf_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	uint64_t n;
	int rc;

	(void)obj;
	rc = rl_get_u64(c, v, "ringbuf_bytes", SW_POLICY_RINGBUF_MIN, SW_POLICY_RINGBUF_MAX, &n);
	if (rc)
		return rc;
	if (n & (n - 1))
		return rl_fail(c, v, "ringbuf_bytes must be a power of two, not %llu",
			       (unsigned long long)n);
	c->r->policy.ringbuf_bytes = n;
	return 0;
}

static const struct key capture_keys[] = {
	{"max_bytes", cp_max_bytes},
	{"ringbuf_bytes", cp_ringbuf_bytes},
	{"readback_max_bytes", cp_readback_max_bytes},
	{"hold_ms", cp_hold_ms},
};

static int policy_capture(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_parse_map(c, v, "capture", capture_keys, 4, obj, NULL);
}

static int policy_guard(struct ld *c, yaml_node_t *v, void *obj)
{
	char name[16];
	int rc, g;

	(void)obj;
	rc = rl_get_strbuf(c, v, "guard", name, sizeof(name));
	if (rc)
		return rc;
	g = sw_policy__guard_of(name);
	if (g < 0)
		return rl_fail(c, v, "guard must be alert, redact or block, not '%s'", name);
	c->r->policy.guard = g;
	return 0;
}

static int in_max_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u64(c, v, "max_inflated_bytes", SW_POLICY_INFLATE_MIN, SW_POLICY_INFLATE_MAX,
			  &c->r->policy.inflate_max_bytes);
}

static int in_max_ratio(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u32(c, v, "max_ratio", 2, 100000, &c->r->policy.inflate_max_ratio);
}

static int in_cache_bytes(struct ld *c, yaml_node_t *v, void *obj)
{
	(void)obj;
	return rl_get_u64(c, v, "cache_bytes", SW_POLICY_INFLATE_MIN, SW_POLICY_INFLATE_MAX,
			  &c->r->policy.inflate_cache_bytes);
}

static const struct key inflate_keys[] = {
	{"max_inflated_bytes", in_max_bytes},
	{"max_ratio", in_max_ratio},
	{"cache_bytes", in_cache_bytes},
};

static int policy_inflate(struct ld *c, yaml_node_t *v, void *obj)
{
	return rl_parse_map(c, v, "inflate", inflate_keys, 3, obj, NULL);
}

const struct key rl_policy_file_keys[] = {
	{"allowlist", policy_allowlist}, {"severity", policy_severity}, {"flood", policy_flood},
	{"capture", policy_capture},	 {"guard", policy_guard},	{"inflate", policy_inflate},
};
/* ---- queries ---- */

/* fnmatch with `*` matching '/' too; a leading "~/" matches below any home directory. */
static int glob_match(const char *glob, const char *path)
{
	const char *rel;

	if (glob[0] == '~' && glob[1] == '/') {
		if (!strncmp(path, "/root/", 6)) {
			rel = path + 5;
		} else if (!strncmp(path, "/home/", 6)) {
			rel = strchr(path + 6, '/');
			if (!rel || rel == path + 6)
				return 0;
		} else {
			return 0;
		}
		return fnmatch(glob + 1, rel, 0) == 0;
	}
	return fnmatch(glob, path, 0) == 0;
}
int sw_rules__allowlisted(const struct sw_rules *r, const char *secret_name, const char *path)
{
	const struct sw_allow *a;
	size_t i, k;
	int name_ok;

	if (!path)
		return 0;
	if (!secret_name)
		secret_name = "";
	for (i = 0; i < r->nallow; i++) {
		a = &r->allow[i];
		name_ok = !a->secrets.n;
		for (k = 0; k < a->secrets.n && !name_ok; k++)
			name_ok = fnmatch(a->secrets.v[k], secret_name, 0) == 0;
		if (!name_ok)
			continue;
		for (k = 0; k < a->paths.n; k++)
			if (glob_match(a->paths.v[k], path))
				return 1;
	}
	return 0;
}
