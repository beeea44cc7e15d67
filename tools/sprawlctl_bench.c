// SPDX-License-Identifier: Apache-2.0
/* sprawlctl bench matcher: our matcher against `grep -F -f` on the same generated data and the
 * same values, measured in the same run. Secret values are generated at random in memory; they
 * are written only to a private 0600 temp file that grep reads, deleted right after. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "matcher.h"
#include "sprawlctl_bench.h"

#define MB	    1000000.0
#define SIZE_MAX_MB 4096
#define SECRETS_MAX 1000000
#define NCOUNTS_MAX 8
#define GREP_SLICE  (10u << 20) /* grep -F gets at most this much input beyond 1,000 values */
#define CHUNK	    (1u << 20)	/* the matcher is fed 1 MiB writes, like a busy artifact */
#define REPEATS	    3
#define VAL_MIN	    20
#define VAL_MAX	    64

struct prng {
	uint64_t s;
};

static uint64_t prng_next(struct prng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void sw_bench_gen_source(uint8_t *p, size_t n, uint64_t seed)
{
	static const char *const w[] = {
		"int",	   "return", "if",   "else",	  "for",      "while",	  "static",
		"const",   "struct", "void", "char",	  "size_t",   "uint64_t", "self",
		"def",	   "import", "from", "let",	  "function", "=>",	  "{",
		"}",	   "(",	     ")",    ";",	  ",",	      "=",	  "==",
		"+",	   "->",     "*",    "&",	  "buf",      "len",	  "count",
		"value",   "config", "path", "name",	  "err",      "ctx",	  "data",
		"0",	   "1",	     "42",   "\"hello\"", "'%s'",     "// TODO",  "# note",
		"/* x */", "NULL",   "true",
	};
	struct prng r = {seed};
	size_t i = 0, l, k, depth;
	uint64_t x;
	const char *s;

	while (i < n) {
		x = prng_next(&r);
		depth = x % 4;
		for (k = 0; k < depth && i < n; k++)
			p[i++] = '\t';
		for (k = 0; k < 3 + (x >> 8) % 9 && i < n; k++) {
			s = w[prng_next(&r) % (sizeof(w) / sizeof(w[0]))];
			l = strlen(s);
			if (l > n - i)
				l = n - i;
			memcpy(p + i, s, l);
			i += l;
			if (i < n)
				p[i++] = ' ';
		}
		if (i < n)
			p[i++] = '\n';
	}
}

void sw_bench_gen_base64(uint8_t *p, size_t n, uint64_t seed)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct prng r = {seed};
	size_t i, col = 0;
	uint64_t x = 0;
	int left = 0;

	for (i = 0; i < n; i++) {
		if (col == 76) {
			p[i] = '\n';
			col = 0;
			continue;
		}
		if (!left) {
			x = prng_next(&r);
			left = 10;
		}
		p[i] = (uint8_t)a[x & 63];
		x >>= 6;
		left--;
		col++;
	}
}

/* Token-like values: vendor-style prefix + base62, or hex, 20-64 bytes. */
static size_t gen_value(struct prng *r, uint8_t *v)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static const char *const pre[] = {"sk-", "ghp_", "xoxb-", "AKIA", "glpat-", "", ""};
	size_t len = VAL_MIN + prng_next(r) % (VAL_MAX - VAL_MIN + 1), i, pl;
	const char *pf = pre[prng_next(r) % (sizeof(pre) / sizeof(pre[0]))];

	pl = strlen(pf);
	memcpy(v, pf, pl);
	if (!pl && prng_next(r) % 2) {
		for (i = 0; i < len; i++)
			v[i] = (uint8_t) "0123456789abcdef"[prng_next(r) % 16];
		return len;
	}
	for (i = pl; i < len; i++)
		v[i] = (uint8_t)b62[prng_next(r) % 62];
	return len;
}

static int count_match(const struct sw_match *m, void *ctx)
{
	(void)m;
	(*(size_t *)ctx)++;
	return 0;
}

static double bench_ours(const struct sw_matcher *m, const uint8_t *d, size_t n, size_t *hits)
{
	double best = 0, t0, dt;
	struct sw_stream *s;
	size_t off, c;
	int rep;

	for (rep = 0; rep < REPEATS; rep++) {
		s = sw_stream__new();
		if (!s)
			return -1;
		*hits = 0;
		t0 = now();
		for (off = 0; off < n; off += c) {
			c = n - off < CHUNK ? n - off : CHUNK;
			if (sw_matcher__scan(m, s, d + off, c, count_match, hits) < 0) {
				sw_stream__free(s);
				return -1;
			}
		}
		dt = now() - t0;
		sw_stream__free(s);
		if (best == 0 || n / dt > best)
			best = (double)n / dt;
	}
	return best / MB;
}

/* grep -F -c -f VALUES < slice; returns MB/s or -1. */
static double bench_grep(const char *values, const uint8_t *d, size_t n)
{
	int pfd[2], st, devnull;
	void (*old)(int);
	double t0, dt;
	ssize_t w;
	size_t off = 0;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	t0 = now();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		dup2(pfd[0], 0);
		if (devnull >= 0)
			dup2(devnull, 1);
		close(pfd[0]);
		close(pfd[1]);
		setenv("LC_ALL", "C", 1);
		execlp("grep", "grep", "-F", "-c", "-f", values, (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	old = signal(SIGPIPE, SIG_IGN);
	while (off < n) {
		w = write(pfd[1], d + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(pfd[1]);
	signal(SIGPIPE, old);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	dt = now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		return -1;
	return (double)n / dt / MB;
}

static int parse_counts(const char *s, size_t *out, size_t *n)
{
	char *end;
	unsigned long v;

	*n = 0;
	while (*s && *n < NCOUNTS_MAX) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || v == 0 || v > SECRETS_MAX || (*end && *end != ','))
			return -EINVAL;
		out[(*n)++] = v;
		s = *end ? end + 1 : end;
	}
	return *s || !*n ? -EINVAL : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: sprawlctl bench matcher [--size MB] [--secrets N,N,N]\n");
}

static int run_matcher(size_t size_mb, const size_t *counts, size_t ncounts)
{
	const char *corpus_name[2] = {"source", "base64"};
	struct sw_secret *sec = NULL;
	struct sw_matcher *m;
	uint8_t *corpus[2] = {NULL, NULL};
	uint8_t v[VAL_MAX + 1];
	size_t n = size_mb * 1000000, maxn = 0, i, c, k, len, hits, slice, npat;
	char tmp[] = "/tmp/sprawl-bench-values-XXXXXX";
	double ours, grep, tb;
	struct sw_key key;
	struct prng r = {0x5eed};
	int fd, rc = EXIT_FAILURE;
	FILE *f;

	for (i = 0; i < ncounts; i++)
		maxn = counts[i] > maxn ? counts[i] : maxn;
	corpus[0] = malloc(n);
	corpus[1] = malloc(n);
	sec = calloc(maxn, sizeof(*sec));

	if (!corpus[0] || !corpus[1] || !sec) {
		fprintf(stderr, "bench: out of memory for %zu MB corpora\n", size_mb);
		goto out;
	}
	sw_bench_gen_source(corpus[0], n, 1);
	sw_bench_gen_base64(corpus[1], n, 2);
	randombytes_buf(key.bytes, sizeof(key.bytes));
	sw_key__derive(&key);

	printf("matcher benchmark: %zu MB per corpus, values %d-%d B, one core, best of %d; "
	       "sprawl scans every variant (raw, base64 x3 alignments x2 alphabets, hex x2, "
	       "percent, json), grep -F only the raw values\n",
	       size_mb, VAL_MIN, VAL_MAX, REPEATS);
	printf("%-7s %8s %9s %12s %12s %10s %8s %10s %8s\n", "corpus", "secrets", "patterns",
	       "sprawl MB/s", "grep-F MB/s", "grep input", "ratio", "index MiB", "build s");
	for (c = 0; c < ncounts; c++) {
		/* values for grep: a private 0600 temp file, removed right after use */
		fd = mkstemp(tmp);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			fprintf(stderr, "bench: cannot create temp file: %s\n", strerror(errno));
			goto out;
		}
		npat = 0;
		tb = now();
		for (i = 0; i < counts[c]; i++) {
			len = gen_value(&r, v);
			fwrite(v, 1, len, f);
			fputc('\n', f);
			memset(&sec[i], 0, sizeof(sec[i]));
			if (sw_fingerprint__secret(&key, v, len, &sec[i]) < 0) {
				fprintf(stderr, "bench: fingerprint failed\n");
				fclose(f);
				goto out_unlink;
			}
			npat += sec[i].npatterns;
		}
		sodium_memzero(v, sizeof(v));
		fclose(f);
		m = sw_matcher__new(&key, sec, counts[c]);
		tb = now() - tb;
		if (!m) {
			fprintf(stderr, "bench: matcher: %s\n", strerror(errno));
			goto out_unlink;
		}
		for (k = 0; k < 2; k++) {
			ours = bench_ours(m, corpus[k], n, &hits);
			slice = counts[c] > 1000 && n > GREP_SLICE ? GREP_SLICE : n;
			grep = bench_grep(tmp, corpus[k], slice);
			printf("%-7s %8zu %9zu %12.0f %12.1f %8.0fMB %7.1fx %10.1f %8.2f\n",
			       corpus_name[k], counts[c], npat, ours, grep, slice / MB,
			       grep > 0 ? ours / grep : 0.0, sw_matcher__memory(m) / 1048576.0, tb);
			fflush(stdout);
			if (hits)
				printf("  (%zu matches)\n", hits);
		}
		sw_matcher__free(m);
		unlink(tmp);
		memcpy(tmp + sizeof(tmp) - 7, "XXXXXX", 6);
		for (i = 0; i < counts[c]; i++)
			sw_secret__clear(&sec[i]);
	}
	printf("grep input: grep -F is given the first 10 MB of a corpus when there are more than "
	       "1,000 values (it is too slow for the whole corpus at 100,000)\n");
	rc = EXIT_SUCCESS;
	goto out;
out_unlink:
	unlink(tmp);
out:
	free(corpus[0]);
	free(corpus[1]);
	if (sec) {
		for (i = 0; i < maxn; i++)
			sw_secret__clear(&sec[i]);
		free(sec);
	}
	sodium_memzero(&key, sizeof(key));
	return rc;
}

int sw_ctl_bench(int argc, char **argv)
{
	size_t size_mb = 100, counts[NCOUNTS_MAX] = {100, 10000, 100000}, ncounts = 3;
	unsigned long v;
	char *end;
	int i = 0;

	if (i < argc && !strcmp(argv[i], "bench"))
		i++;
	if (i < argc && !strcmp(argv[i], "detect"))
		return sw_ctl_bench_detect(argc - i - 1, argv + i + 1);
	if (i < argc && !strcmp(argv[i], "inflate"))
		return sw_ctl_bench_inflate(argc - i - 1, argv + i + 1);
	if (i >= argc || strcmp(argv[i], "matcher")) {
		usage();
		return EXIT_FAILURE;
	}
	for (i++; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			errno = 0;
			v = strtoul(argv[++i], &end, 10);
			if (errno || *end || v == 0 || v > SIZE_MAX_MB) {
				fprintf(stderr, "bench: --size: 1..%d MB\n", SIZE_MAX_MB);
				return EXIT_FAILURE;
			}
			size_mb = v;
		} else if (!strcmp(argv[i], "--secrets") && i + 1 < argc) {
			if (parse_counts(argv[++i], counts, &ncounts)) {
				fprintf(stderr, "bench: --secrets: up to %d counts of 1..%d\n",
					NCOUNTS_MAX, SECRETS_MAX);
				return EXIT_FAILURE;
			}
		} else {
			usage();
			return EXIT_FAILURE;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "bench: libsodium failed to initialise\n");
		return EXIT_FAILURE;
	}
	return run_matcher(size_mb, counts, ncounts);
}
