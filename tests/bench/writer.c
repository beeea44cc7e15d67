// SPDX-License-Identifier: Apache-2.0
// Workload for tests/bench/run.sh (compiled there with cc -O2; not part of the product).
//
//   writer loop PATH COUNT SIZE        COUNT timed write()s of SIZE bytes to PATH; the file is
//                                      rewound (lseek) every 1 MiB so it stays small; prints
//                                      "ns_per_write MEAN median_chunk MEDIAN": the mean over all
//                                      writes and the median over 20 equal chunks (robust to a
//                                      few preemptions on a shared machine)
//   writer rate PATH SIZE MBPS SECS [WRAP]
//                                      paced write()s of SIZE bytes at MBPS (0 = as fast as
//                                      possible) for SECS, rewound every WRAP bytes (default
//                                      1 MiB); prints "mbps N writes N"
//   writer copy PATH SRC SIZE MBPS     the bytes of file SRC written to PATH in paced write()s
//                                      of SIZE bytes at MBPS (0 = unpaced); prints "mbps N
//                                      writes N"
//   writer leak                        reads a secret (first line of stdin), then commands:
//                                      "f PATH" writes it into new file PATH, "u PORT" sends it
//                                      to 127.0.0.1:PORT over UDP; answers each with the
//                                      CLOCK_MONOTONIC ns taken just before write()/sendto()
//
// The data written by loop/rate is printable pseudo-random text (no secret in it), so a
// tracked run makes the matcher scan real bytes without ever alerting.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WRAP_BYTES (1u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fill_text(char *p, size_t n)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789 _=;(){}\n";
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = a[x % (sizeof(a) - 1)];
	}
}

static int open_out(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		fprintf(stderr, "writer: open %s: %s\n", path, strerror(errno));
	return fd;
}

static int write_all(int fd, const char *buf, size_t size)
{
	ssize_t w = write(fd, buf, size);

	if (w != (ssize_t)size) {
		fprintf(stderr, "writer: write: %s\n", w < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

#define CHUNKS 20

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_loop(const char *path, long count, long size)
{
	long per_wrap = (long)WRAP_BYTES / size, i, per_chunk = count / CHUNKS;
	uint64_t t0, t1, tc, chunk[CHUNKS];
	int c = 0;
	char *buf;
	int fd;

	if (count < CHUNKS || size <= 0 || size > (1 << 24))
		return 2;
	if (per_wrap < 1)
		per_wrap = 1;
	buf = malloc((size_t)size);
	fd = open_out(path);
	if (!buf || fd < 0)
		return 1;
	fill_text(buf, (size_t)size);
	for (i = 0; i < per_wrap * 4; i++) { /* warm the page cache / tmpfs pages */
		if (i % per_wrap == 0)
			lseek(fd, 0, SEEK_SET);
		if (write_all(fd, buf, (size_t)size))
			return 1;
	}
	t0 = tc = now_ns();
	for (i = 0; i < count; i++) {
		if (i % per_wrap == 0)
			lseek(fd, 0, SEEK_SET);
		if (write_all(fd, buf, (size_t)size))
			return 1;
		if ((i + 1) % per_chunk == 0 && c < CHUNKS) {
			t1 = now_ns();
			chunk[c++] = t1 - tc;
			tc = t1;
		}
	}
	t1 = now_ns();
	close(fd);
	qsort(chunk, CHUNKS, sizeof(chunk[0]), cmp_u64);
	printf("ns_per_write %.1f median_chunk %.1f\n", (double)(t1 - t0) / (double)count,
	       (double)(chunk[CHUNKS / 2 - 1] + chunk[CHUNKS / 2]) / 2.0 / (double)per_chunk);
	return 0;
}

static int cmd_rate(const char *path, long size, double mbps, double secs, double wrap)
{
	long per_wrap, n = 0;
	uint64_t t0, end, now, target;
	double ns_per_byte = mbps > 0 ? 1000.0 / mbps : 0; /* 1 MB/s = 1 byte per 1000 ns */
	char *buf;
	int fd;

	if (size <= 0 || size > (1 << 24) || secs <= 0 || secs > 60)
		return 2;
	per_wrap = (long)(wrap > 0 ? wrap : WRAP_BYTES) / size;
	if (per_wrap < 1)
		per_wrap = 1;
	buf = malloc((size_t)size);
	fd = open_out(path);
	if (!buf || fd < 0)
		return 1;
	fill_text(buf, (size_t)size);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		now = now_ns();
		if (now >= end)
			break;
		if (ns_per_byte > 0) {
			target = t0 + (uint64_t)((double)n * (double)size * ns_per_byte);
			if (target > now) {
				struct timespec ts = {(time_t)(target / 1000000000ull),
						      (long)(target % 1000000000ull)};
				if (target >= end)
					break;
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
		}
		if (n % per_wrap == 0)
			lseek(fd, 0, SEEK_SET);
		if (write_all(fd, buf, (size_t)size))
			return 1;
		n++;
	}
	now = now_ns();
	close(fd);
	printf("mbps %.1f writes %ld\n", (double)n * (double)size * 1000.0 / (double)(now - t0), n);
	return 0;
}

static int cmd_copy(const char *path, const char *src, long size, double mbps)
{
	double ns_per_byte = mbps > 0 ? 1000.0 / mbps : 0;
	uint64_t t0, now, target;
	struct stat st;
	long n = 0;
	size_t off, len;
	char *p;
	int fd, in;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) || st.st_size <= 0 || size <= 0 || size > (1 << 24))
		return 2;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, in, 0);
	close(in);
	fd = open_out(path);
	if (p == MAP_FAILED || fd < 0)
		return 1;
	t0 = now_ns();
	for (off = 0; off < (size_t)st.st_size; off += len, n++) {
		len = (size_t)st.st_size - off < (size_t)size ? (size_t)st.st_size - off
							      : (size_t)size;
		if (ns_per_byte > 0) {
			target = t0 + (uint64_t)((double)off * ns_per_byte);
			now = now_ns();
			if (target > now) {
				struct timespec ts = {(time_t)(target / 1000000000ull),
						      (long)(target % 1000000000ull)};
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
		}
		if (write_all(fd, p + off, len))
			return 1;
	}
	now = now_ns();
	close(fd);
	printf("mbps %.1f writes %ld\n", (double)st.st_size * 1000.0 / (double)(now - t0), n);
	return 0;
}

static int cmd_leak(void)
{
	char secret[512], line[4096];
	size_t slen;
	int us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (us < 0 || !fgets(secret, sizeof(secret), stdin))
		return 1;
	slen = strcspn(secret, "\r\n");
	secret[slen] = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t t = 0;

		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == 'f' && line[1] == ' ') {
			int fd = open_out(line + 2);

			if (fd < 0)
				return 1;
			t = now_ns();
			if (write_all(fd, secret, slen))
				return 1;
			close(fd);
		} else if (line[0] == 'u' && line[1] == ' ') {
			struct sockaddr_in sa = {.sin_family = AF_INET};

			sa.sin_port = htons((uint16_t)atoi(line + 2));
			sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			t = now_ns();
			if (sendto(us, secret, slen, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				fprintf(stderr, "writer: sendto: %s\n", strerror(errno));
				return 1;
			}
		} else {
			break;
		}
		printf("%llu\n", (unsigned long long)t);
	}
	explicit_bzero(secret, sizeof(secret));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "loop"))
		return cmd_loop(argv[2], atol(argv[3]), atol(argv[4]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "rate"))
		return cmd_rate(argv[2], atol(argv[3]), atof(argv[4]), atof(argv[5]),
				argc == 7 ? atof(argv[6]) : 0);
	if (argc == 6 && !strcmp(argv[1], "copy"))
		return cmd_copy(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
	if (argc == 2 && !strcmp(argv[1], "leak"))
		return cmd_leak();
	fprintf(stderr, "usage: writer loop PATH COUNT SIZE | rate PATH SIZE MBPS SECS [WRAP] | "
			"copy PATH SRC "
			"SIZE MBPS | leak\n");
	return 2;
}
