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
	*t = 0;
	expect_none("x ", add_rand(add(add(t, "sk_"), "test_"), ALNUM, 24));
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
	expect_hit("generic-secret", "api-key: ", t, NULL);
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
		cmocka_unit_test(test_aws),	     cmocka_unit_test(test_github_gitlab),
		cmocka_unit_test(test_slack_stripe), cmocka_unit_test(test_openai_anthropic_google),
		cmocka_unit_test(test_private_key),  cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_generic),	     cmocka_unit_test(test_overlap_and_many),
		cmocka_unit_test(test_entropy),	     cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
