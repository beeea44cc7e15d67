// SPDX-License-Identifier: Apache-2.0
/* sprawlctl bench detect: the detectors' engines and their false positives, in one run.
 *
 *   bench detect [--size MB] [--secrets N] [--fp DIR]...
 *       rows "ROW|name|result|baseline|ratio" for run.sh: the streaming Hyperscan engine and
 *       the literal-prefilter engine before it over the same generated base64 and source
 *       text, Hyperscan literal mode over N raw values as the anchor, and detector hits per
 *       10 MB over the files under each DIR (ordinary source: nothing there is a secret).
 *   bench detect gen base64|source MB SEED FILE    the corpus the daemon row writes
 *   bench detect values N SEED FILE                N generated values as a .env (mode 0600)
 *   bench detect hs VALUES_ENV DATA                Hyperscan literal mode, values of the .env
 *                                                  over DATA: "hs_ns_per_byte X mbps Y"
 * Values are generated in memory; the .env exists only for `secrets import-env` in the bench's
 * private temp dir, which the bench deletes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>
#include <sodium.h>

#include "detect.h"
#include "rules.h"
#include "sprawlctl_bench.h"

#define MB	     1000000.0
#define WRITE	     65536	  /* the daemon sees 64 KiB writes of a busy artifact */
#define HS_CHUNK     (1u << 20)	  /* Hyperscan literal mode gets 1 MiB blocks */
#define FP_BYTES_MAX (400u << 20) /* bytes read per false-positive corpus */
#define FP_FILE_MAX  (8u << 20)
#define FP_TARGET    1.0 /* hits per 10 MB */
#define SPEED_TARGET 2.0 /* daemon CPU per byte vs Hyperscan's */
#define VALUES_MAX   1000000
#define REPEATS	     3

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_hit(const struct sw_detect_hit *h, void *ctx)
{
	(void)h;
	(*(size_t *)ctx)++;
	return 0;
}

/* MB per CPU-second of the streaming engine: one stream, 64 KiB writes; best of REPEATS. */
static double bench_stream(const struct sw_rules *r, const uint8_t *d, size_t n, size_t *hits)
{
	struct sw_detect_stream *st;
	double best = 0, t0, dt;
	size_t off, c;
	int rep;

	for (rep = 0; rep < REPEATS; rep++) {
		st = sw_detect__stream_new(r);
		if (!st)
			return -1;
		*hits = 0;
		t0 = cpu_now();
		for (off = 0; off < n; off += c) {
			c = n - off < WRITE ? n - off : WRITE;
			sw_detect__scan_stream(r, st, d + off, c, count_hit, hits);
		}
		dt = cpu_now() - t0;
		sw_detect__stream_free(st);
		if (dt > 0 && n / dt > best)
			best = n / dt;
	}
	return best / MB;
}

static double bench_prefilter(const struct sw_rules *r, const uint8_t *d, size_t n, size_t *hits)
{
	double best = 0, t0, dt;
	size_t off, c;
	int rep;

	for (rep = 0; rep < REPEATS; rep++) {
		*hits = 0;
		t0 = cpu_now();
		for (off = 0; off < n; off += c) {
			c = n - off < WRITE ? n - off : WRITE;
			sw_detect__scan_prefilter(r, d + off, c, count_hit, hits);
		}
		dt = cpu_now() - t0;
		if (dt > 0 && n / dt > best)
			best = n / dt;
	}
	return best / MB;
}

static int hs_count(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(size_t *)ctx)++;
	return 0;
}

/* Hyperscan literal mode over the raw values: MB per CPU-second, best of REPEATS. */
static double bench_hs(uint8_t **vals, const size_t *lens, size_t nv, const uint8_t *d, size_t n,
		       size_t *hits)
{
	unsigned int *flags = calloc(nv, sizeof(*flags)), *ids = calloc(nv, sizeof(*ids));
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	double best = -1, t0, dt;
	size_t i, off, c;
	int rep;

	if (!flags || !ids)
		goto out;
	for (i = 0; i < nv; i++)
		ids[i] = (unsigned int)i;
	if (hs_compile_lit_multi((const char *const *)vals, flags, ids, lens, (unsigned int)nv,
				 HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		fprintf(stderr, "bench: hyperscan: %s\n", cerr ? cerr->message : "compile failed");
		hs_free_compile_error(cerr);
		goto out;
	}
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		goto out;
	best = 0;
	for (rep = 0; rep < REPEATS; rep++) {
		*hits = 0;
		t0 = cpu_now();
		for (off = 0; off < n; off += c) {
			c = n - off < HS_CHUNK ? n - off : HS_CHUNK;
			hs_scan(db, (const char *)d + off, (unsigned int)c, 0, scratch, hs_count,
				hits);
		}
		dt = cpu_now() - t0;
		if (dt > 0 && n / dt > best)
			best = n / dt;
	}
	best /= MB;
out:
	hs_free_scratch(scratch);
	hs_free_database(db);
	free(flags);
	free(ids);
	return best;
}

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Random base62 values of 20..64 bytes: what people register. */
static size_t gen_values(uint64_t seed, size_t nv, uint8_t ***vals, size_t **lens)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i, k;

	*vals = calloc(nv, sizeof(**vals));
	*lens = calloc(nv, sizeof(**lens));
	if (!*vals || !*lens)
		return 0;
	for (i = 0; i < nv; i++) {
		(*lens)[i] = 20 + mix(&seed) % 45;
		(*vals)[i] = sodium_malloc((*lens)[i] + 1);
		if (!(*vals)[i])
			return i;
		for (k = 0; k < (*lens)[i]; k++)
			(*vals)[i][k] = (uint8_t)b62[mix(&seed) % 62];
		(*vals)[i][k] = '\0';
	}
	return nv;
}

static void free_values(uint8_t **vals, size_t *lens, size_t nv)
{
	size_t i;

	for (i = 0; vals && i < nv; i++)
		sodium_free(vals[i]); /* wipes */
	free(vals);
	free(lens);
}

/* ---- false positives over real files ---- */

struct fp {
	const struct sw_rules *r;
	uint8_t *buf;
	uint64_t bytes, files;
	size_t hits, *per_det;
	const struct sw_detector *det;
};

static int fp_hit(const struct sw_detect_hit *h, void *ctx)
{
	struct fp *f = ctx;

	f->hits++;
	f->per_det[h->rule - f->det]++;
	return 0;
}

static void fp_file(struct fp *f, int dfd, const char *name)
{
	struct sw_detect_stream *st;
	ssize_t n;
	size_t got = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return;
	while (got < FP_FILE_MAX && (n = read(fd, f->buf + got, FP_FILE_MAX - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (!got)
		return;
	st = sw_detect__stream_new(f->r);
	if (!st)
		return;
	for (size_t off = 0, c; off < got; off += c) {
		c = got - off < WRITE ? got - off : WRITE;
		sw_detect__scan_stream(f->r, st, f->buf + off, c, fp_hit, f);
	}
	sw_detect__stream_free(st);
	f->bytes += got;
	f->files++;
}

/* Depth-first, bounded in depth and in bytes read. */
static void fp_dir(struct fp *f, int dfd, int depth)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	if (depth > 24 || f->bytes >= FP_BYTES_MAX)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) && f->bytes < FP_BYTES_MAX) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0)
				fp_dir(f, fd, depth + 1);
		} else if (S_ISREG(st.st_mode) && st.st_size > 0) {
			fp_file(f, dirfd(d), e->d_name);
		}
	}
	closedir(d);
}

static int run_fp(const struct sw_rules *r, const char *dir)
{
	struct fp f = {.r = r};
	size_t nd, i;
	double per10;
	int fd;

	f.det = sw_rules__detectors(r, &nd);
	f.per_det = calloc(nd ? nd : 1, sizeof(*f.per_det));
	f.buf = malloc(FP_FILE_MAX);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!f.per_det || !f.buf || fd < 0) {
		free(f.per_det);
		free(f.buf);
		if (fd >= 0)
			close(fd);
		printf("ROW|detector false positives %s|not scanned (%s)|-|-\n", dir,
		       fd < 0 ? "absent" : "out of memory");
		return 0;
	}
	fp_dir(&f, fd, 0);
	per10 = f.bytes ? f.hits / (f.bytes / 10e6) : 0;
	printf("ROW|detector hits %s|%.2f per 10 MB (%zu in %.0f MB)|target <= %.0f per 10 MB|%s\n",
	       dir, per10, f.hits, f.bytes / MB, FP_TARGET, per10 <= FP_TARGET ? "ok" : "FAIL");
	for (i = 0; i < nd; i++)
		if (f.per_det[i])
			printf("NOTE|false positives %s: %s x%zu\n", dir, f.det[i].id,
			       f.per_det[i]);
	free(f.per_det);
	free(f.buf);
	return per10 <= FP_TARGET ? 0 : 1;
}

/* ---- subcommands ---- */

static uint8_t *gen_corpus(const char *kind, size_t n, uint64_t seed)
{
	uint8_t *d = malloc(n ? n : 1);

	if (!d)
		return NULL;
	if (!strcmp(kind, "base64"))
		sw_bench_gen_base64(d, n, seed);
	else
		sw_bench_gen_source(d, n, seed);
	return d;
}

static int write_all(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t w;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < n) {
		w = write(fd, (const uint8_t *)p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		off += (size_t)w;
	}
	return close(fd) ? -errno : 0;
}

static int cmd_gen(int argc, char **argv)
{
	size_t n;
	uint8_t *d;
	int rc;

	if (argc != 4 || (strcmp(argv[0], "base64") && strcmp(argv[0], "source")))
		return -EINVAL;
	n = strtoull(argv[1], NULL, 10) << 20;
	if (!n || n > (4096ull << 20))
		return -EINVAL;
	d = gen_corpus(argv[0], n, strtoull(argv[2], NULL, 0));
	if (!d)
		return -ENOMEM;
	rc = write_all(argv[3], d, n, 0644);
	free(d);
	return rc;
}

static int cmd_values(int argc, char **argv)
{
	size_t nv, i, len = 0, *lens = NULL;
	uint8_t **vals = NULL;
	char *env;
	int rc;

	if (argc != 3)
		return -EINVAL;
	nv = strtoull(argv[0], NULL, 10);
	if (!nv || nv > VALUES_MAX)
		return -EINVAL;
	if (gen_values(strtoull(argv[1], NULL, 0), nv, &vals, &lens) != nv) {
		free_values(vals, lens, nv);
		return -ENOMEM;
	}
	env = sodium_malloc(nv * 96);
	if (!env) {
		free_values(vals, lens, nv);
		return -ENOMEM;
	}
	for (i = 0; i < nv; i++)
		len += (size_t)sprintf(env + len, "BENCH_%zu=%s\n", i, (const char *)vals[i]);
	rc = write_all(argv[2], env, len, 0600);
	sodium_free(env);
	free_values(vals, lens, nv);
	return rc;
}

static int cmd_hs(int argc, char **argv)
{
	size_t nv = 0, cap = 0, hits, *lens = NULL, n;
	uint8_t **vals = NULL, *d = NULL;
	char line[512], *eq;
	struct stat st;
	double mbps;
	FILE *f;
	int fd;

	if (argc != 2)
		return -EINVAL;
	f = fopen(argv[0], "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && nv < VALUES_MAX) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		eq++;
		eq[strcspn(eq, "\n")] = '\0';
		if (nv == cap) {
			cap = cap ? 2 * cap : 1024;
			vals = realloc(vals, cap * sizeof(*vals));
			lens = realloc(lens, cap * sizeof(*lens));
			if (!vals || !lens)
				break;
		}
		lens[nv] = strlen(eq);
		vals[nv] = sodium_malloc(lens[nv] + 1);
		if (!vals[nv])
			break;
		memcpy(vals[nv], eq, lens[nv] + 1);
		nv++;
	}
	sodium_memzero(line, sizeof(line));
	fclose(f);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !fstat(fd, &st) && st.st_size > 0) {
		n = (size_t)st.st_size;
		d = malloc(n);
		if (d && read(fd, d, n) != (ssize_t)n) {
			free(d);
			d = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	if (!d || !nv || !vals || !lens) {
		free(d);
		free_values(vals, lens, nv);
		return -EINVAL;
	}
	mbps = bench_hs(vals, lens, nv, d, n, &hits);
	free(d);
	free_values(vals, lens, nv);
	if (mbps <= 0)
		return -EIO;
	printf("hs_ns_per_byte %.4f mbps %.0f values %zu hits %zu\n", 1e3 / mbps, mbps, nv, hits);
	return 0;
}

static int run_engines(size_t size_mb, size_t nv, char **fp, int nfp)
{
	static const char *const kinds[] = {"base64", "source"};
	struct sw_rules_error e;
	struct sw_detect_info info;
	struct sw_rules *r = sw_rules__load_embedded(&e);
	size_t n = size_mb << 20, hn, ho, hh, k, *lens = NULL;
	uint8_t **vals = NULL, *d;
	double mn, mo, mh;
	int fails = 0, i;

	if (!r) {
		fprintf(stderr, "bench: embedded rules: %s\n", e.msg);
		return EXIT_FAILURE;
	}
	if (gen_values(42, nv, &vals, &lens) != nv) {
		free_values(vals, lens, nv);
		sw_rules__free(r);
		return EXIT_FAILURE;
	}
	sw_detect__info(r, &info);
	printf("NOTE|detectors: %zu in the Hyperscan database as regexes, %zu by literals, %zu on "
	       "every write; %zu bytes of tail per stream\n",
	       info.regex, info.literal, info.always, info.tail);
	for (k = 0; k < 2; k++) {
		d = gen_corpus(kinds[k], n, 7 + k);
		if (!d)
			break;
		mn = bench_stream(r, d, n, &hn);
		mo = bench_prefilter(r, d, n, &ho);
		mh = bench_hs(vals, lens, nv, d, n, &hh);
		printf("ROW|detectors alone, %s|%.0f MB/s (%zu hits)|before (prefilter+PCRE2) %.0f "
		       "MB/s|%.1fx\n",
		       kinds[k], mn, hn, mo, mo > 0 ? mn / mo : 0);
		printf("ROW|detectors vs Hyperscan lit, %s|%.0f MB/s|hs literal %zuk values %.0f "
		       "MB/s|%.2fx\n",
		       kinds[k], mn, nv / 1000, mh, mh > 0 ? mn / mh : 0);
		free(d);
	}
	free_values(vals, lens, nv);
	for (i = 0; i < nfp; i++)
		fails += run_fp(r, fp[i]);
	sw_rules__free(r);
	return fails ? EXIT_FAILURE : EXIT_SUCCESS;
}

int sw_ctl_bench_detect(int argc, char **argv)
{
	size_t size_mb = 64, nv = 10000;
	char *fp[16];
	int i, nfp = 0, rc;

	if (argc >= 1 && !strcmp(argv[0], "gen"))
		rc = cmd_gen(argc - 1, argv + 1);
	else if (argc >= 1 && !strcmp(argv[0], "values"))
		rc = cmd_values(argc - 1, argv + 1);
	else if (argc >= 1 && !strcmp(argv[0], "hs"))
		rc = cmd_hs(argc - 1, argv + 1);
	else
		rc = 1;
	if (rc <= 0) {
		if (rc)
			fprintf(stderr, "bench detect %s: %s\n", argv[0], strerror(-rc));
		return rc ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size_mb = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--secrets") && i + 1 < argc)
			nv = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--fp") && i + 1 < argc && nfp < 16)
			fp[nfp++] = argv[++i];
		else
			goto usage;
	}
	if (!size_mb || size_mb > 4096 || !nv || nv > VALUES_MAX)
		goto usage;
	return run_engines(size_mb, nv, fp, nfp);
usage:
	fprintf(stderr, "usage: sprawlctl bench detect [--size MB] [--secrets N] [--fp DIR]...\n"
			"       sprawlctl bench detect gen base64|source MB SEED FILE\n"
			"       sprawlctl bench detect values N SEED FILE\n"
			"       sprawlctl bench detect hs VALUES_ENV DATA\n");
	return EXIT_FAILURE;
}
