// SPDX-License-Identifier: Apache-2.0
/* Detectors: each default rule finds a realistic token generated at run time, in context, and
 * stays quiet on near misses (too short, low entropy, wrong prefix). No token-like string is
 * written in this file: prefixes are split literals and bodies are random.
 * SW_DETECT_BENCH=1 measures throughput on 50 MB (SW_DETECT_BENCH_FILE: text to use). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "detect.h"

static struct sw_rules *rules;

#define ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define B64URL	ALNUM "_-"
#define B64	ALNUM "+/"
#define UPPER32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define DIGITS	"0123456789"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Appends n random characters of alphabet to s. */
static char *add_rand(char *s, const char *alphabet, size_t n)
{
	size_t len = strlen(s), k = strlen(alphabet), i;

	for (i = 0; i < n; i++)
		s[len + i] = alphabet[rnd() % k];
	s[len + n] = '\0';
	return s;
}

static char *add(char *s, const char *t)
{
	return strcat(s, t);
}

struct hits {
	size_t n;
	char id[8][64];
	size_t off[8], len[8];
	int stop_with;
};

static int collect(const struct sw_detect_hit *h, void *ctx)
{
	struct hits *hs = ctx;

	if (hs->n < 8) {
		snprintf(hs->id[hs->n], sizeof(hs->id[0]), "%s", h->rule->id);
		hs->off[hs->n] = h->offset;
		hs->len[hs->n] = h->len;
	}
	hs->n++;
	return hs->stop_with;
}

static struct hits scan(const char *text)
{
	struct hits hs = {0};

	assert_int_equal(sw_detect__scan(rules, text, strlen(text), collect, &hs), 0);
	return hs;
}

/* token placed in source-like context must give exactly one hit of rule id, covering value
 * (a substring of token; the whole token when value is NULL). */
static void expect_hit(const char *id, const char *pre, const char *token, const char *value)
{
	char text[8192];
	const char *v = value ? value : token;
	struct hits hs;
	size_t at;

	snprintf(text, sizeof(text), "// config for the service\nint x = 1;\n%s%s\";\nreturn 0;\n",
		 pre, token);
	at = (size_t)(strstr(text, v) - text);
	hs = scan(text);
	if (hs.n != 1 || strcmp(hs.id[0], id))
		fail_msg("rule %s: %zu hits, first '%s'", id, hs.n, hs.n ? hs.id[0] : "");
	assert_int_equal(hs.off[0], at);
	assert_int_equal(hs.len[0], strlen(v));
	/* Also found at the very start and end of a buffer, with nothing around it. */
	if (!pre[0]) {
		hs = scan(token);
		assert_int_equal(hs.n, 1);
		assert_string_equal(hs.id[0], id);
	}
}

/* No hit of rule id (other rules may rightly fire). */
static void expect_not(const char *id, const char *pre, const char *token)
{
	char text[8192];
	struct hits hs;
	size_t i;

	snprintf(text, sizeof(text), "x = 1\n%s%s\nend\n", pre, token);
	hs = scan(text);
	for (i = 0; i < hs.n && i < 8; i++)
		if (!strcmp(hs.id[i], id))
			fail_msg("near miss '%s...' fired rule %s", pre, id);
}

static void expect_none(const char *pre, const char *token)
{
	char text[8192];
	struct hits hs;

	snprintf(text, sizeof(text), "x = 1\n%s%s\nend\n", pre, token);
	hs = scan(text);
	if (hs.n)
		fail_msg("near miss '%s...' fired rule %s", pre, hs.id[0]);
}

static void test_aws(void **state)
{
	char t[256], v[64];

	*t = 0;
	add_rand(add(add(t, "AK"), "IA"), UPPER32, 16);
	expect_hit("aws-access-key-id", "key = \"", t, NULL);
	expect_hit("aws-access-key-id", "", t, NULL);
	*t = 0;
	add_rand(add(add(t, "AS"), "IA"), UPPER32, 16);
	expect_hit("aws-access-key-id", "id: ", t, NULL);
	/* near misses: 15 characters, wrong prefix, inside a longer word, low entropy */
	*t = 0;
	expect_none("key = ", add_rand(add(add(t, "AK"), "IA"), UPPER32, 15));
	*t = 0;
	expect_none("key = ", add_rand(add(add(t, "AK"), "IB"), UPPER32, 16));
	*t = 0;
	expect_none("key = ", add_rand(add(add(t, "XAK"), "IA"), UPPER32, 16));
	*t = 0;
	expect_none("key = ", add(add(add(t, "AK"), "IA"), "AAAAAAAAAAAAAAAA"));

	*v = 0;
	add_rand(v, B64, 40);
	expect_hit("aws-secret-access-key", "aws_secret_access_key = \"", v, NULL);
	expect_hit("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY=", v, NULL);
	expect_none("random_blob = ", v);
	*v = 0;
	expect_not("aws-secret-access-key", "aws_secret_access_key = ", add_rand(v, B64, 39));
	*v = 0;
	expect_none("aws_secret_access_key = ", add(v, "abababababababababababababababababababab"));
}

static void test_github_gitlab(void **state)
{
	static const char *const kinds[] = {"p_", "o_", "u_", "s_", "r_"};
	char t[512];
	size_t i;

	for (i = 0; i < 5; i++) {
		*t = 0;
		add_rand(add(add(t, "gh"), kinds[i]), ALNUM, 36);
		expect_hit("github-token", "GH_TOKEN=", t, NULL);
	}
	*t = 0;
	add_rand(add(add(add_rand(add(add(t, "github_"), "pat_"), ALNUM, 22), "_"), ""), ALNUM, 59);
	expect_hit("github-fine-grained-pat", "token: ", t, NULL);
	*t = 0;
	expect_none("GH = ", add_rand(add(add(t, "gh"), "p_"), ALNUM, 20));
	*t = 0;
	expect_none("GH = ", add_rand(add(add(t, "gh"), "x_"), ALNUM, 36));
	*t = 0;
	expect_none("GH_TOKEN=",
		    add(add(add(t, "gh"), "p_"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	/* in an assignment a malformed token is still a generic secret, never a GitHub one */
	*t = 0;
	expect_not("github-token", "GH_TOKEN=", add_rand(add(add(t, "gh"), "x_"), ALNUM, 36));

	*t = 0;
	add_rand(add(add(t, "glp"), "at-"), B64URL, 20);
	expect_hit("gitlab-pat", "", t, NULL);
	*t = 0;
	expect_none("x: ", add_rand(add(add(t, "glp"), "at-"), B64URL, 12));
}

static void test_slack_stripe(void **state)
{
	char t[512];

	*t = 0;
	add_rand(add(add_rand(add(add_rand(add(add(t, "xo"), "xb-"), DIGITS, 11), "-"), DIGITS, 12),
		     "-"),
		 ALNUM, 24);
	expect_hit("slack-token", "SLACK_BOT_TOKEN=", t, NULL);
	*t = 0;
	add_rand(add(add_rand(add(add(t, "xo"), "xp-"), DIGITS, 12), "-"), ALNUM, 30);
	expect_hit("slack-token", "", t, NULL);
	*t = 0;
	expect_none("x ", add_rand(add(add(t, "xo"), "xq-"), ALNUM, 30));

	*t = 0;
	add_rand(add(add(t, "sk_"), "live_"), ALNUM, 24);
	expect_hit("stripe-live-key", "stripe.api_key = \"", t, NULL);
	*t = 0;
	add_rand(add(add(t, "rk_"), "live_"), ALNUM, 99);
	expect_hit("stripe-live-key", "", t, NULL);
	/* test keys are secrets too, of their own rule */
	*t = 0;
	expect_hit("stripe-test-key", "key = ", add_rand(add(add(t, "sk_"), "test_"), ALNUM, 24),
		   NULL);
	*t = 0;
	expect_none("x ", add_rand(add(add(t, "sk_"), "live_"), ALNUM, 10));
}

static void test_openai_anthropic_google(void **state)
{
	char t[512];

	*t = 0;
	add_rand(add(add(t, "sk-"), "proj-"), B64URL, 156);
	expect_hit("openai-api-key", "OPENAI_API_KEY=", t, NULL);
	*t = 0;
	add_rand(add(t, "sk-"), ALNUM, 48);
	expect_hit("openai-api-key", "", t, NULL);
	*t = 0;
	add(add_rand(add(add(t, "sk-"), "ant-api03-"), B64URL, 93), "AA");
	expect_hit("anthropic-api-key", "ANTHROPIC_API_KEY=", t, NULL);
	expect_hit("anthropic-api-key", "", t, NULL);
	*t = 0;
	expect_none("x ", add_rand(add(t, "sk-"), ALNUM, 20));
	*t = 0;
	expect_none("x ", add(add(t, "sk-"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	/* "task-" and friends are words, not keys */
	*t = 0;
	expect_none("x ", add_rand(add(t, "task-"), ALNUM, 48));

	*t = 0;
	add_rand(add(add(t, "AI"), "za"), B64URL, 35);
	expect_hit("google-api-key", "key=", t, NULL);
	*t = 0;
	expect_none("key=", add_rand(add(add(t, "AI"), "za"), B64URL, 30));
	*t = 0;
	expect_none("key=", add_rand(add(add(t, "AI"), "zb"), B64URL, 35));
}

static void test_private_key(void **state)
{
	char t[4096], body[2048];
	size_t i;

	*body = 0;
	for (i = 0; i < 12; i++)
		add(add_rand(body, B64, 64), "\n");
	add_rand(body, B64, 20);
	add(body, "==");
	*t = 0;
	add(add(add(add(add(add(t, "-----BEGIN "), "RSA "), "PRIVATE KEY-----\n"), body), "\n"),
	    "-----END RSA PRIVATE KEY-----\n");
	expect_hit("private-key", "const char *k = \"", t, body);
	/* PKCS#8 and OpenSSH forms, CRLF line ends */
	*t = 0;
	add(add(add(add(add(t, "-----BEGIN "), "OPENSSH "), "PRIVATE KEY-----\r\n"), body),
	    "\r\n-----END OPENSSH PRIVATE KEY-----");
	expect_hit("private-key", "", t, body);
	/* a public key or a certificate is not a secret */
	*t = 0;
	add(add(add(add(t, "-----BEGIN "), "PUBLIC KEY-----\n"), body),
	    "\n-----END PUBLIC KEY-----");
	expect_none("", t);
	/* a placeholder body has low entropy */
	*t = 0;
	add(add(add(add(t, "-----BEGIN "), "PRIVATE KEY-----\n"),
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	    "\n-----END PRIVATE KEY-----");
	expect_none("", t);
}

static void b64url(const char *json, char *out, size_t size)
{
	sodium_bin2base64(out, size, (const unsigned char *)json, strlen(json),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void test_jwt(void **state)
{
	char t[1024], h[256], p[256];

	b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h, sizeof(h));
	b64url("{\"sub\":\"1234567890\",\"name\":\"A User\",\"iat\":1516239022}", p, sizeof(p));
	snprintf(t, sizeof(t), "%s.%s.", h, p);
	add_rand(t, B64URL, 43);
	expect_hit("jwt", "Authorization: Bearer ", t, NULL);
	expect_hit("jwt", "", t, NULL);
	/* header that is not JSON with alg */
	b64url("{\"typ\":\"JWT\",\"kid\":\"abc\"}", h, sizeof(h));
	snprintf(t, sizeof(t), "%s.%s.", h, p);
	add_rand(t, B64URL, 43);
	expect_none("Bearer ", t);
	/* random base64url that merely starts like a JWT */
	*t = 0;
	add(add_rand(add(add(add_rand(add(t, "eyJ"), B64URL, 30), "."), "eyJ"), B64URL, 40), ".");
	add_rand(t, B64URL, 43);
	expect_none("Bearer ", t);
}

static void test_generic(void **state)
{
	char t[256];

	*t = 0;
	add_rand(t, ALNUM "!@#$%^&*", 20);
	expect_hit("generic-secret", "DB_PASSWORD = \"", t, NULL);
	expect_hit("generic-secret", "\"client_secret\": \"", t, NULL);
	/* unquoted (.env, YAML): a value with a digit that is no dotted name from code */
	add(t, "7");
	expect_hit("generic-secret-unquoted", "api-key: ", t, NULL);
	expect_none("token = ", "self._token.address2");
	expect_none("password = ", "process.AuthenticationString");
	expect_none("token = ", "\"quoted-string\"");
	expect_none("password = ", "\"changeme\"");
	expect_none("password = ", "\"aaaaaaaaaaaaaaaaaaaa\"");
	expect_none("password = ", "os.environ[\"DB_PASSWORD\"]");
	expect_none("token = ", "getToken(config)");
	expect_none("password = ", "\"short\"");
	/* no keyword, no hit */
	expect_none("value = \"", t);
}

/* A specific rule's span is not reported again by the generic rule, and several secrets in one
 * buffer are all found. */
static void test_overlap_and_many(void **state)
{
	char text[2048], a[128], b[128], c[128];
	struct hits hs;

	*a = *b = *c = 0;
	add_rand(add(add(a, "gh"), "p_"), ALNUM, 36);
	add_rand(add(add(b, "AK"), "IA"), UPPER32, 16);
	add_rand(add(add(c, "glp"), "at-"), B64URL, 20);
	snprintf(text, sizeof(text), "token = \"%s\"\nnothing here\nid=%s and %s; token = %s\n", a,
		 b, c, a);
	hs = scan(text);
	assert_int_equal(hs.n, 4);
	assert_string_equal(hs.id[0], "aws-access-key-id");
	assert_string_equal(hs.id[1], "github-token");
	assert_string_equal(hs.id[2], "github-token");
	assert_string_equal(hs.id[3], "gitlab-pat");
	assert_int_equal(hs.off[1], strstr(text, a) - text);
	assert_int_equal(hs.off[2], strstr(strstr(text, a) + 1, a) - text);

	/* The callback's non-zero value stops the scan and is returned. */
	hs = (struct hits){.stop_with = 7};
	assert_int_equal(sw_detect__scan(rules, text, strlen(text), collect, &hs), 7);
	assert_int_equal(hs.n, 1);
	/* The scratch was reset: the next scan sees everything again. */
	hs = scan(text);
	assert_int_equal(hs.n, 4);
	hs = scan("");
	assert_int_equal(hs.n, 0);
	assert_int_equal(sw_detect__scan(rules, NULL, 1, collect, &hs), -EINVAL);
}

static void test_entropy(void **state)
{
	unsigned char all[256];
	size_t i;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	assert_true(sw_detect__entropy("aaaa", 4) == 0);
	assert_true(sw_detect__entropy("", 0) == 0);
	assert_true(sw_detect__entropy("abcd", 4) > 1.999999 &&
		    sw_detect__entropy("abcd", 4) < 2.000001);
	assert_true(sw_detect__entropy(all, 256) > 7.999999 &&
		    sw_detect__entropy(all, 256) < 8.000001);
	assert_true(sw_detect__entropy("aab", 3) > 0.918 && sw_detect__entropy("aab", 3) < 0.919);
}

/* A rule with keywords fires only with a keyword close enough before the value; a rule without
 * prefilter literals is still run. */
static void test_keywords(void **state)
{
	static const char *const agents = "agents:\n  - {label: x, basename: x}\n";
	static const char *const policy = "{}\n";
	static const char *const det = "detectors:\n"
				       "  - id: vault\n"
				       "    regex: '[a-z0-9]{24}'\n"
				       "    keywords: [vault]\n"
				       "    keyword_window: 16\n"
				       "    min_entropy: 3\n"
				       "  - id: hex\n"
				       "    regex: '\\b[0-9a-f]{32}\\b'\n"
				       "    min_entropy: 3\n";
	struct sw_embedded_file files[] = {
		{"agents.yaml", (const unsigned char *)agents, strlen(agents)},
		{"detectors.yaml", (const unsigned char *)det, strlen(det)},
		{"policy.yaml", (const unsigned char *)policy, strlen(policy)},
		{NULL, NULL, 0},
	};
	struct sw_rules_error e;
	struct sw_rules *saved = rules;
	char v[64], h[64], text[256];
	struct hits hs;

	rules = sw_rules__load_files(files, "t/", &e);
	if (!rules)
		fail_msg("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	*v = *h = 0;
	add_rand(v, "abcdefghijklmnopqrstuvwxyz0123456789", 24);
	add_rand(h, "0123456789abcdef", 32);
	snprintf(text, sizeof(text), "VAULT: %s\n", v);
	hs = scan(text);
	assert_int_equal(hs.n, 1);
	assert_string_equal(hs.id[0], "vault");
	snprintf(text, sizeof(text), "vault and then a long gap: %s\n", v);
	assert_int_equal(scan(text).n, 0);
	snprintf(text, sizeof(text), "sum %s\n", h);
	hs = scan(text);
	assert_int_equal(hs.n, 1);
	assert_string_equal(hs.id[0], "hex");
	sw_rules__free(rules);
	rules = saved;
}

/* Source-like filler: identifiers, keywords, numbers, punctuation, sometimes "token" or
 * "password" without a secret after them. */
static void filler(char *buf, size_t len)
{
	static const char *const words[] = {
		"static ",
		"int ",
		"return ",
		"if (",
		") {\n",
		"}\n",
		"const char *",
		"struct ",
		"size_t ",
		"for (i = 0; i < n; i++)",
		" = ",
		";\n",
		"\t",
		"// the ",
		"value",
		"name",
		"buffer",
		"token",
		"password",
		"secret",
		"key",
		"config",
		"askey",
		"task-",
		"ghost",
		"eyJ",
		"0x1f",
		"AIM",
		"xo",
		"sk",
		"#include <stdio.h>\n",
		"self.",
		"def ",
		"():\n",
		"    ",
		"import os\n",
		"error",
		"len",
		"data",
		"result",
		"(",
		")",
		", ",
		"\"",
	};
	size_t off = 0, n = sizeof(words) / sizeof(words[0]), l;
	const char *w;

	while (off < len) {
		w = words[rnd() % n];
		l = strlen(w);
		if (off + l > len)
			l = len - off;
		memcpy(buf + off, w, l);
		off += l;
	}
}

static int count_only(const struct sw_detect_hit *h, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double bench(const char *buf, size_t len, size_t chunk, size_t *hits)
{
	double t0 = now();
	size_t off, n;
	int rc;

	*hits = 0;
	for (off = 0; off < len; off += chunk) {
		n = len - off < chunk ? len - off : chunk;
		rc = sw_detect__scan(rules, buf + off, n, count_only, hits);
		assert_int_equal(rc, 0);
	}
	return len / (now() - t0) / 1e6;
}

static void test_throughput(void **state)
{
	const char *file = getenv("SW_DETECT_BENCH_FILE");
	size_t len = getenv("SW_DETECT_BENCH") ? 50u << 20 : 4u << 20, got = 0, hits;
	char *buf = malloc(len);
	double mbs;
	ssize_t n;
	int fd;

	assert_non_null(buf);
	if (file) {
		fd = open(file, O_RDONLY);
		assert_true(fd >= 0);
		while (got < len && (n = read(fd, buf + got, len - got)) > 0)
			got += (size_t)n;
		close(fd);
		len = got;
	} else {
		filler(buf, len);
	}
	mbs = bench(buf, len, 65536, &hits);
	print_message("detect: %.0f MB/s in 64 KiB writes (%zu hits), ", mbs, hits);
	mbs = bench(buf, len, 4096, &hits);
	print_message("%.0f MB/s in 4 KiB writes, ", mbs);
	mbs = bench(buf, len, len, &hits);
	print_message("%.0f MB/s as one %zu MB buffer (%zu hits)\n", mbs, len >> 20, hits);
	free(buf);
}

/* ---- streams ---- */

struct shits {
	size_t n;
	char id[64][64];
	uint64_t off[64];
	size_t len[64];
	char val[64][128];
};

static int scollect(const struct sw_detect_hit *h, void *ctx)
{
	struct shits *hs = ctx;

	if (hs->n < 64) {
		snprintf(hs->id[hs->n], sizeof(hs->id[0]), "%s", h->rule->id);
		hs->off[hs->n] = h->offset;
		hs->len[hs->n] = h->len;
		snprintf(hs->val[hs->n], sizeof(hs->val[0]), "%.*s",
			 (int)(h->len < 127 ? h->len : 127), (const char *)h->value);
	}
	hs->n++;
	return 0;
}

/* text as writes of the given sizes (the last one takes the rest) */
static struct shits scan_writes(const char *text, const size_t *sizes, size_t nsizes)
{
	struct sw_detect_stream *st = sw_detect__stream_new(rules);
	struct shits hs = {0};
	size_t len = strlen(text), off = 0, i, n;

	assert_non_null(st);
	for (i = 0; off < len; i++) {
		n = i < nsizes && sizes[i] < len - off ? sizes[i] : len - off;
		assert_int_equal(sw_detect__scan_stream(rules, st, text + off, n, scollect, &hs),
				 0);
		off += n;
	}
	assert_int_equal(sw_detect__stream_offset(st), len);
	sw_detect__stream_free(st);
	return hs;
}

/* Exactly one hit of id with this value at its stream offset; any other hit must be a value cut
 * by the end of a write (ending at one of the cuts). */
static void expect_stream_hit(const struct shits *hs, const char *text, const char *id,
			      const char *value, const size_t *cuts, size_t ncuts)
{
	uint64_t at = (uint64_t)(strstr(text, value) - text);
	size_t i, k, found = 0, cut;

	for (i = 0; i < hs->n && i < 64; i++) {
		if (!strcmp(hs->id[i], id) && hs->off[i] == at && hs->len[i] == strlen(value)) {
			assert_memory_equal(hs->val[i], value, strlen(hs->val[i]));
			found++;
			continue;
		}
		for (k = 0, cut = 0; k < ncuts; k++)
			cut |= hs->off[i] + hs->len[i] == cuts[k];
		if (!cut && (strcmp(hs->id[i], id) || hs->off[i] != at))
			continue; /* another secret of the text */
		if (!cut)
			fail_msg("%s: unexpected hit at %llu len %zu", id,
				 (unsigned long long)hs->off[i], hs->len[i]);
	}
	if (found != 1)
		fail_msg("%s: found %zu times (of %zu hits)", id, found, hs->n);
}

/* Secrets split across two writes at every byte are found whole, at their stream offset. */
static void test_split_every_boundary(void **state)
{
	char text[2048], gh[64], ak[32], body[1024], pem[1400];
	size_t cut, i;
	struct shits hs;

	*gh = *ak = *body = *pem = 0;
	add_rand(add(add(gh, "gh"), "p_"), ALNUM, 36);
	add_rand(add(add(ak, "AK"), "IA"), UPPER32, 16);
	for (i = 0; i < 8; i++)
		add(add_rand(body, B64, 64), "\n");
	add(add_rand(body, B64, 40), "==");
	add(add(add(add(add(pem, "-----BEGIN "), "EC "), "PRIVATE KEY-----\n"), body),
	    "\n-----END EC PRIVATE KEY-----");
	snprintf(text, sizeof(text), "x1 = %s\nid %s here\n%s\nend\n", gh, ak, pem);
	for (cut = 0; cut <= strlen(text); cut++) {
		hs = scan_writes(text, &cut, 1);
		expect_stream_hit(&hs, text, "github-token", gh, &cut, 1);
		expect_stream_hit(&hs, text, "aws-access-key-id", ak, &cut, 1);
		expect_stream_hit(&hs, text, "private-key", body, &cut, 1);
	}
}

/* One byte per write: the Hyperscan stream and the tail carry everything. */
static void test_tiny_writes(void **state)
{
	char text[512], gh[64], ak[32];
	size_t ones[512], i;
	struct shits hs;

	*gh = *ak = 0;
	add_rand(add(add(gh, "gh"), "p_"), ALNUM, 36);
	add_rand(add(add(ak, "AS"), "IA"), UPPER32, 16);
	snprintf(text, sizeof(text), "first %s then %s.\n", gh, ak);
	for (i = 0; i < 512; i++)
		ones[i] = 1;
	hs = scan_writes(text, ones, 512);
	expect_stream_hit(&hs, text, "github-token", gh, NULL, 0);
	expect_stream_hit(&hs, text, "aws-access-key-id", ak, NULL, 0);
}

/* A value that reaches the end of a write is reported then (the stream may never go on); when
 * the next write continues it, the longer value is reported too, from the same start. */
static void test_cut_value_goes_on(void **state)
{
	char text[256], tok[128];
	size_t cut;
	struct shits hs;

	*tok = 0;
	add_rand(add(add(tok, "gh"), "p_"), ALNUM, 60);
	snprintf(text, sizeof(text), "x1 %s\n", tok);
	cut = (size_t)(strstr(text, tok) - text) + 50;
	hs = scan_writes(text, &cut, 1);
	assert_int_equal(hs.n, 2);
	assert_string_equal(hs.id[0], "github-token");
	assert_string_equal(hs.id[1], "github-token");
	assert_int_equal(hs.off[0], hs.off[1]);
	assert_int_equal(hs.len[0], 50);
	assert_int_equal(hs.len[1], strlen(tok));
	/* The same bytes again in one write: one hit. */
	hs = scan_writes(text, NULL, 0);
	assert_int_equal(hs.n, 1);
}

/* A stream made with one rule set and scanned with another starts over on the new one. */
static void test_stream_follows_reload(void **state)
{
	struct sw_rules_error e;
	struct sw_rules *other = sw_rules__load_embedded(&e);
	struct sw_detect_stream *st = sw_detect__stream_new(rules);
	struct shits hs = {0};
	char gh[64];

	assert_non_null(other);
	assert_non_null(st);
	*gh = 0;
	add_rand(add(add(gh, "gh"), "p_"), ALNUM, 36);
	assert_int_equal(sw_detect__scan_stream(rules, st, "x1 ", 3, scollect, &hs), 0);
	assert_int_equal(sw_detect__scan_stream(other, st, gh, strlen(gh), scollect, &hs), 0);
	assert_int_equal(sw_detect__scan_stream(other, st, "\n", 1, scollect, &hs), 0);
	assert_int_equal(hs.n, 1);
	assert_int_equal(hs.off[0], 3);
	sw_detect__stream_free(st);
	sw_rules__free(other);
}

/* The engine before Hyperscan finds the same values in one buffer. */
static void test_engines_agree(void **state)
{
	char text[4096], t[256];
	struct hits a = {0}, b = {0};
	size_t i;

	*text = 0;
	*t = 0;
	add(add(text, "x1 "), add_rand(add(add(t, "gh"), "p_"), ALNUM, 36));
	*t = 0;
	add(add(text, "\nkey = \""), add_rand(add(add(t, "AK"), "IA"), UPPER32, 16));
	*t = 0;
	add(add(text, "\"\nSLACK="), add_rand(add(add(t, "xo"), "xb-1234-5678-"), ALNUM, 24));
	*t = 0;
	add(add(text, "\nDB_PASSWORD = \""), add_rand(t, ALNUM, 20));
	add(text, "\"\n");
	assert_int_equal(sw_detect__scan(rules, text, strlen(text), collect, &a), 0);
	assert_int_equal(sw_detect__scan_prefilter(rules, text, strlen(text), collect, &b), 0);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		assert_string_equal(a.id[i], b.id[i]);
		assert_int_equal(a.off[i], b.off[i]);
		assert_int_equal(a.len[i], b.len[i]);
	}
}

/* ---- rules and their examples ---- */

static int has_random(const char *t)
{
	static const char *const ph[] = {
		"{alnum:", "{alpha:",	 "{upper:",  "{lower:", "{digit:",    "{hex:",
		"{HEX:",   "{b64:",	 "{b64url:", "{b32:",	"{lowalnum:", "{upalnum:",
		"{pw:",	   "{bech32up:", "{uuid}",   "{jwt}",	"{pembody:"};
	size_t i;

	for (i = 0; i < sizeof(ph) / sizeof(ph[0]); i++)
		if (strstr(t, ph[i]))
			return 1;
	return 0;
}

/* At least 150 default detectors, each with match and nomatch examples; every match example is
 * generated (holds random placeholders), and rules check verifies them all. */
static void test_default_examples(void **state)
{
	struct sw_rules_error errs[4];
	const struct sw_detector *d;
	size_t n, i, k;

	d = sw_rules__detectors(rules, &n);
	assert_true(n >= 150);
	for (i = 0; i < n; i++) {
		if (!d[i].nmatch || !d[i].nnomatch)
			fail_msg("detector %s lacks match or nomatch examples", d[i].id);
		for (k = 0; k < d[i].nmatch; k++)
			if (!has_random(d[i].match[k]))
				fail_msg("detector %s match example %zu is not generated", d[i].id,
					 k + 1);
	}
	n = sw_rules__check_examples(rules, "embedded:detectors.yaml", errs, 4);
	if (n)
		fail_msg("%s:%d: %s", errs[0].file, errs[0].line, errs[0].msg);
}

static void test_expand(void **state)
{
	char a[256], b[256], err[128];
	size_t len, vs, vl, len2;

	assert_int_equal(sw_detect__expand("k={<}x{hex:8}{>};{rep:z:3}", 1, a, sizeof(a), &len, &vs,
					   &vl, err, sizeof(err)),
			 0);
	assert_int_equal(len, strlen("k=x12345678;zzz"));
	assert_int_equal(vs, 2);
	assert_int_equal(vl, 9);
	assert_memory_equal(a + len - 3, "zzz", 3);
	assert_int_equal(strspn(a + 3, "0123456789abcdef"), 8);
	/* deterministic in the seed, different across seeds */
	assert_int_equal(
		sw_detect__expand("{alnum:32}", 7, a, sizeof(a), &len, &vs, &vl, err, sizeof(err)),
		0);
	assert_int_equal(
		sw_detect__expand("{alnum:32}", 7, b, sizeof(b), &len2, &vs, &vl, err, sizeof(err)),
		0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(
		sw_detect__expand("{alnum:32}", 8, b, sizeof(b), &len2, &vs, &vl, err, sizeof(err)),
		0);
	assert_true(memcmp(a, b, 32) != 0);
	assert_int_equal(
		sw_detect__expand("{nope:3}", 1, a, sizeof(a), &len, &vs, &vl, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(
		sw_detect__expand("{>}x{<}", 1, a, sizeof(a), &len, &vs, &vl, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		sw_detect__expand("{alnum:300}", 1, a, 64, &len, &vs, &vl, err, sizeof(err)),
		-ENOSPC);
}

static struct sw_rules *load_det(const char *det)
{
	static const char *const agents = "agents:\n  - {label: x, basename: x}\n";
	static const char *const policy = "{}\n";
	struct sw_embedded_file files[] = {
		{"agents.yaml", (const unsigned char *)agents, strlen(agents)},
		{"detectors.yaml", (const unsigned char *)det, strlen(det)},
		{"policy.yaml", (const unsigned char *)policy, strlen(policy)},
		{NULL, NULL, 0},
	};
	struct sw_rules_error e;
	struct sw_rules *r = sw_rules__load_files(files, "t/", &e);

	if (!r)
		fail_msg("%s:%d:%d: %s", e.file, e.line, e.col, e.msg);
	return r;
}

/* A wrong example is reported with the detector's line, never with the value. */
static void test_examples_fail_loudly(void **state)
{
	struct sw_rules *r = load_det("detectors:\n"
				      "  - id: acme\n"
				      "    regex: 'acme_[a-f0-9]{32}'\n"
				      "    examples:\n"
				      "      match: ['acme_{hex:32}', 'acme_{hex:12}']\n"
				      "      nomatch: ['acme_{hex:32}']\n");
	struct sw_rules_error errs[2];
	size_t n = sw_rules__check_examples(r, "t/detectors.yaml", errs, 2);

	assert_int_equal(n, 1);
	assert_int_equal(errs[0].line, 2);
	assert_non_null(strstr(errs[0].msg, "match example 2"));
	assert_null(strstr(errs[0].msg, "acme_"));
	sw_rules__free(r);
}

/* A rule Hyperscan cannot take runs from its literals, and says why. */
static void test_literal_fallback(void **state)
{
	struct sw_rules *saved = rules;
	struct sw_detect_info info;
	char v[64], text[128];
	struct hits hs;

	rules = load_det("detectors:\n"
			 "  - id: backref\n"
			 "    regex: 'zz\\K_([a-f0-9]{32})x'\n"
			 "    group: 1\n"
			 "    prefilter: [zz]\n");
	sw_detect__info(rules, &info);
	assert_int_equal(info.regex, 0);
	assert_int_equal(info.literal, 1);
	assert_true(strlen(sw_detect__why_literal(rules, 0)) > 0);
	*v = 0;
	add_rand(v, "0123456789abcdef", 32);
	snprintf(text, sizeof(text), "bzz_%sx\n", v);
	hs = scan(text);
	assert_int_equal(hs.n, 1);
	assert_int_equal(hs.off[0], 4);
	/* and across writes */
	assert_int_equal(scan_writes(text, (size_t[]){2}, 1).n, 1);
	assert_int_equal(scan_writes(text, (size_t[]){20}, 1).n, 1);
	sw_rules__free(rules);
	rules = saved;
}

/* Hyperscan gets the regex with its final lookahead and the spare count of its final repeat
 * cut off ({31,39} -> {31}); PCRE2 still confirms the whole value after the shorter match:
 * every length the regex allows is found whole, split at every byte and a byte per write, and
 * a value one longer than it allows is not found. */
static void test_cut_tail(void **state)
{
	struct sw_rules *saved = rules;
	size_t tails[] = {31, 35, 39}, ones[128], ends[128], cut, i, k;
	char v[64], text[128];
	struct shits hs;

	rules = load_det("detectors:\n"
			 "  - id: acme\n"
			 "    regex: '(?<![a-z0-9_])(acme_[a-z0-9]{31,39})(?![a-z0-9])'\n"
			 "    group: 1\n");
	for (i = 0; i < 128; i++) {
		ones[i] = 1;
		ends[i] = i;
	}
	for (k = 0; k < 3; k++) {
		*v = 0;
		add_rand(add(v, "acme_"), "abcdefghijklmnopqrstuvwxyz0123456789", tails[k]);
		snprintf(text, sizeof(text), "key = %s;\n", v);
		for (cut = 0; cut <= strlen(text); cut++) {
			hs = scan_writes(text, &cut, 1);
			expect_stream_hit(&hs, text, "acme", v, &cut, 1);
		}
		/* a value the regex allows to go on is reported at each write end too */
		hs = scan_writes(text, ones, 128);
		expect_stream_hit(&hs, text, "acme", v, ends, 128);
	}
	add_rand(v, "abcdefghijklmnopqrstuvwxyz", 1);
	snprintf(text, sizeof(text), "key = %s;\n", v);
	assert_int_equal(scan_writes(text, NULL, 0).n, 0);
	sw_rules__free(rules);
	rules = saved;
}

/* Allowlist regexes and stopwords (gitleaks') let values go. */
static void test_allowlist(void **state)
{
	struct sw_rules *saved = rules;
	char v[64], text[128];

	rules = load_det("detectors:\n"
			 "  - id: acme\n"
			 "    regex: 'acme_([a-z0-9]{24})'\n"
			 "    group: 1\n"
			 "    allowlist:\n"
			 "      regexes: ['^0{4}']\n"
			 "      stopwords: [example]\n");
	*v = 0;
	add_rand(v, "abcdfghijk123456789", 24);
	snprintf(text, sizeof(text), "k acme_%s\n", v);
	assert_int_equal(scan(text).n, 1);
	memcpy(v, "0000", 4);
	snprintf(text, sizeof(text), "k acme_%s\n", v);
	assert_int_equal(scan(text).n, 0);
	memcpy(v + 6, "eXaMple", 7);
	v[0] = 'a';
	snprintf(text, sizeof(text), "k acme_%s\n", v);
	assert_int_equal(scan(text).n, 0);
	sw_rules__free(rules);
	rules = saved;
}

static int setup(void **state)
{
	struct sw_rules_error e;

	rules = sw_rules__load_embedded(&e);
	if (!rules) {
		fprintf(stderr, "%s:%d:%d: %s\n", e.file, e.line, e.col, e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	sw_rules__free(rules);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws),
		cmocka_unit_test(test_github_gitlab),
		cmocka_unit_test(test_slack_stripe),
		cmocka_unit_test(test_openai_anthropic_google),
		cmocka_unit_test(test_private_key),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_overlap_and_many),
		cmocka_unit_test(test_entropy),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_split_every_boundary),
		cmocka_unit_test(test_tiny_writes),
		cmocka_unit_test(test_cut_value_goes_on),
		cmocka_unit_test(test_stream_follows_reload),
		cmocka_unit_test(test_engines_agree),
		cmocka_unit_test(test_default_examples),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_examples_fail_loudly),
		cmocka_unit_test(test_literal_fallback),
		cmocka_unit_test(test_cut_tail),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
