// SPDX-License-Identifier: Apache-2.0
/* sprawlctl bench inflate PACK [--secrets N]: the daemon's inflate-and-scan path over a real git
 * pack, in process, one core: the pack fed in 1 MiB writes to the unpacker (inflate, deltas
 * resolved within the bounded cache) with the policy's default bounds, (a) inflating only,
 * (b) inflating and running the matcher (N generated secrets, every variant) over each object.
 * Best of 3. Prints one line of key=value figures that tests/bench/run.sh reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "matcher.h"
#include "policy.h"
#include "sprawlctl_bench.h"
#include "unpack.h"

#define CHUNK	(1u << 20)
#define REPEATS 3
#define VAL_LEN 40

struct run {
	const struct sw_matcher *m;
	struct sw_stream *s;
	uint64_t out, objects, matches;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count(const struct sw_match *m, void *ctx)
{
	(void)m;
	((struct run *)ctx)->matches++;
	return 0;
}

static void on_begin(void *ctx, const struct sw_unpack_obj *o)
{
	struct run *r = ctx;

	(void)o;
	if (r->m) {
		sw_stream__free(r->s);
		r->s = sw_stream__new();
	}
}

static void on_data(void *ctx, const void *p, size_t n)
{
	struct run *r = ctx;

	r->out += n;
	if (r->m && r->s)
		sw_matcher__scan(r->m, r->s, p, n, count, r);
}

static void on_end(void *ctx, const struct sw_unpack_obj *o)
{
	(void)o;
	((struct run *)ctx)->objects++;
}

static const struct sw_unpack_ops ops = {on_begin, on_data, on_end, NULL};

/* One pass; returns seconds, or a negative value when the unpacker stopped early. */
static double pass(const uint8_t *pack, size_t n, const struct sw_unpack_limits *lim, struct run *r,
		   uint64_t *unresolved, int *stop)
{
	struct sw_unpack *u = sw_unpack__new(SW_UNPACK_PACK, lim);
	double t = now();
	size_t off, k;
	int rc = 0;

	if (!u)
		return -1;
	*unresolved = 0;
	for (off = 0; off < n && !rc; off += k) {
		k = n - off < CHUNK ? n - off : CHUNK;
		rc = sw_unpack__feed(u, pack + off, k, &ops, r);
		*unresolved += sw_unpack__take_unresolved(u);
	}
	t = now() - t;
	*stop = rc;
	sw_unpack__free(u);
	sw_stream__free(r->s);
	r->s = NULL;
	return t;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *b;
	ssize_t got;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || !(b = malloc(st.st_size ? st.st_size : 1))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size && (got = read(fd, b + off, st.st_size - off)) > 0)
		off += got;
	close(fd);
	*n = off;
	return b;
}

int sw_ctl_bench_inflate(int argc, char **argv)
{
	struct sw_policy pol;
	struct sw_unpack_limits lim;
	struct sw_secret *sec;
	struct sw_matcher *m = NULL;
	struct sw_key key;
	struct run r;
	uint8_t v[VAL_LEN], *pack;
	double best_inf = 1e9, best_scan = 1e9, t;
	uint64_t unresolved = 0, out = 0, objects = 0;
	size_t n, nsec = 100, i;
	const char *path = NULL;
	int stop = 0, rep;

	for (i = 0; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--secrets") && i + 1 < (size_t)argc)
			nsec = strtoul(argv[++i], NULL, 10);
		else if (!path)
			path = argv[i];
	}
	if (!path || !nsec || nsec > 1000000) {
		fprintf(stderr, "usage: sprawlctl bench inflate PACK [--secrets N]\n");
		return EXIT_FAILURE;
	}
	pack = slurp(path, &n);
	if (!pack) {
		fprintf(stderr, "bench inflate: %s: %s\n", path, strerror(errno));
		return EXIT_FAILURE;
	}
	sw_policy__defaults(&pol);
	lim = (struct sw_unpack_limits){pol.inflate_max_bytes, pol.inflate_max_ratio,
					pol.inflate_cache_bytes};
	randombytes_buf(key.bytes, sizeof(key.bytes));
	sw_key__derive(&key);
	sec = calloc(nsec, sizeof(*sec));
	for (i = 0; sec && i < nsec; i++) {
		size_t k;

		for (k = 0; k < VAL_LEN; k++)
			v[k] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
				[randombytes_uniform(62)];
		if (sw_fingerprint__secret(&key, v, VAL_LEN, &sec[i]) < 0)
			break;
	}
	sodium_memzero(v, sizeof(v));
	if (sec && i == nsec)
		m = sw_matcher__new(&key, sec, nsec);
	free(sec);
	if (!m) {
		fprintf(stderr, "bench inflate: cannot build the matcher\n");
		free(pack);
		return EXIT_FAILURE;
	}
	for (rep = 0; rep < REPEATS; rep++) {
		memset(&r, 0, sizeof(r));
		t = pass(pack, n, &lim, &r, &unresolved, &stop);
		if (t >= 0 && t < best_inf)
			best_inf = t;
		out = r.out;
		objects = r.objects;
		memset(&r, 0, sizeof(r));
		r.m = m;
		t = pass(pack, n, &lim, &r, &unresolved, &stop);
		if (t >= 0 && t < best_scan)
			best_scan = t;
	}
	printf("pack_bytes=%zu inflated_bytes=%llu objects=%llu unresolved=%llu stop=%d "
	       "inflate_s=%.4f inflate_scan_s=%.4f inflate_mbps=%.1f inflate_scan_mbps=%.1f "
	       "secrets=%zu\n",
	       n, (unsigned long long)out, (unsigned long long)objects,
	       (unsigned long long)unresolved, stop, best_inf, best_scan, out / best_inf / 1e6,
	       out / best_scan / 1e6, nsec);
	sw_matcher__free(m);
	free(pack);
	return EXIT_SUCCESS;
}
