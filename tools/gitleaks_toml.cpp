// SPDX-License-Identifier: Apache-2.0
// gitleaks TOML -> the plain structs of gitleaks_toml.h, with toml++. No C++ type crosses the
// interface; every string is strdup'ed for the C side.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <toml++/toml.h>

#include "gitleaks_toml.h"

static constexpr size_t RULES_MAX = 10000;
static constexpr size_t LIST_MAX = 4096;

static char *dup(std::string_view s)
{
	char *p = static_cast<char *>(malloc(s.size() + 1));

	if (p) {
		memcpy(p, s.data(), s.size());
		p[s.size()] = '\0';
	}
	return p;
}

static char *str(const toml::node_view<const toml::node> &n)
{
	auto v = n.value<std::string_view>();
	return v ? dup(*v) : nullptr;
}

static void strv(const toml::node_view<const toml::node> &n, gl_strv *out)
{
	const toml::array *a = n.as_array();

	out->v = nullptr;
	out->n = 0;
	if (!a || a->empty())
		return;
	size_t cap = a->size() < LIST_MAX ? a->size() : LIST_MAX;
	out->v = static_cast<char **>(calloc(cap, sizeof(char *)));
	if (!out->v)
		return;
	for (const auto &e : *a) {
		if (out->n >= cap)
			break;
		auto v = e.value<std::string_view>();
		if (v)
			out->v[out->n++] = dup(*v);
	}
}

static void allow(const toml::node_view<const toml::node> &t, gl_allow *a)
{
	strv(t["regexes"], &a->regexes);
	strv(t["stopwords"], &a->stopwords);
	strv(t["paths"], &a->paths);
	strv(t["commits"], &a->commits);
	a->target = str(t["regexTarget"]);
	a->condition = str(t["condition"]);
}

static void strv_free(gl_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static void allow_free(gl_allow *a)
{
	strv_free(&a->regexes);
	strv_free(&a->stopwords);
	strv_free(&a->paths);
	strv_free(&a->commits);
	free(a->target);
	free(a->condition);
}

extern "C" void gl_free(gl_config *c)
{
	for (size_t i = 0; i < c->nrules; i++) {
		gl_rule *r = &c->rules[i];
		free(r->id);
		free(r->description);
		free(r->regex);
		free(r->path);
		strv_free(&r->keywords);
		for (size_t k = 0; k < r->nallows; k++)
			allow_free(&r->allows[k]);
		free(r->allows);
	}
	free(c->rules);
	allow_free(&c->global);
	memset(c, 0, sizeof(*c));
}

extern "C" int gl_parse(const char *path, gl_config *out, char *err, size_t errsize)
{
	memset(out, 0, sizeof(*out));
	try {
		const toml::table t = toml::parse_file(path);
		const toml::node_view<const toml::node> root{t};

		out->extends = t.contains("extend");
		if (const toml::table *g = t["allowlist"].as_table()) {
			out->has_global = 1;
			allow(toml::node_view<const toml::node>{g}, &out->global);
		}
		const toml::array *rules = t["rules"].as_array();
		if (!rules)
			return 0;
		size_t n = rules->size() < RULES_MAX ? rules->size() : RULES_MAX;
		out->rules = static_cast<gl_rule *>(calloc(n ? n : 1, sizeof(gl_rule)));
		if (!out->rules) {
			snprintf(err, errsize, "out of memory");
			return -1;
		}
		for (const auto &e : *rules) {
			if (out->nrules >= n)
				break;
			const toml::table *rt = e.as_table();
			if (!rt)
				continue;
			const toml::node_view<const toml::node> r{rt};
			gl_rule *g = &out->rules[out->nrules++];
			g->line = (int)rt->source().begin.line;
			g->id = str(r["id"]);
			g->description = str(r["description"]);
			g->regex = str(r["regex"]);
			g->path = str(r["path"]);
			g->secret_group = r["secretGroup"].value<int64_t>().value_or(-1);
			g->entropy = r["entropy"].value<double>().value_or(-1);
			strv(r["keywords"], &g->keywords);
			/* v8.21+: [[rules.allowlists]]; before: [rules.allowlist] */
			const toml::array *al = r["allowlists"].as_array();
			size_t na = al ? al->size() : r["allowlist"].as_table() ? 1 : 0;
			if (na > LIST_MAX)
				na = LIST_MAX;
			if (na) {
				g->allows = static_cast<gl_allow *>(calloc(na, sizeof(gl_allow)));
				if (!g->allows)
					continue;
			}
			if (al) {
				for (const auto &x : *al) {
					if (g->nallows >= na)
						break;
					if (const toml::table *xt = x.as_table())
						allow(toml::node_view<const toml::node>{xt},
						      &g->allows[g->nallows++]);
				}
			} else if (na) {
				allow(r["allowlist"], &g->allows[g->nallows++]);
			}
		}
	} catch (const toml::parse_error &e) {
		snprintf(err, errsize, "line %u: %.*s", (unsigned)e.source().begin.line,
			 (int)e.description().size(), e.description().data());
		gl_free(out);
		return -1;
	} catch (const std::exception &e) {
		snprintf(err, errsize, "%s", e.what());
		gl_free(out);
		return -1;
	}
	return 0;
}
