// SPDX-License-Identifier: Apache-2.0
/* e2e driver: sends alerts through the syslog sink to ADDR, then waits until they are out.
 * One alert carries a secret value generated here at run time in the argv slot its exec_arg
 * artifact points at; the value is written (mode 0600) to VALUE_FILE so that the script can
 * check it never reached the collector. Usage: syslog_send ADDR COUNT VALUE_FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sink.h"

int main(int argc, char **argv)
{
	const char *args[3] = {"curl", "-H", NULL};
	unsigned char rnd[32];
	char value[sizeof(rnd) + 1];
	struct sw_sink_stats st;
	struct timespec ts;
	struct sw_alert a;
	struct sw_sink *s;
	long i, count;
	size_t k;
	int fd;

	if (argc != 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: syslog_send ADDR COUNT VALUE_FILE\n");
		return EXIT_FAILURE;
	}
	count = strtol(argv[2], NULL, 10);
	if (count < 1 || count > 100000) {
		fprintf(stderr, "syslog_send: COUNT must be 1..100000\n");
		return EXIT_FAILURE;
	}
	randombytes_buf(rnd, sizeof(rnd));
	for (k = 0; k < sizeof(rnd); k++)
		value[k] = (char)('A' + rnd[k] % 26);
	value[sizeof(rnd)] = '\0';
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value) || close(fd)) {
		perror("syslog_send: value file");
		return EXIT_FAILURE;
	}
	args[2] = value;

	s = sw_sink__syslog(argv[1], SW_FMT_JSON);
	if (!s) {
		perror("syslog_send: syslog sink");
		return EXIT_FAILURE;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < count; i++) {
		memset(&a, 0, sizeof(a));
		a.time_us =
			(uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 + (uint64_t)i;
		a.kind = SW_ALERT_SECRET_SPREAD;
		a.severity = SW_SEV_HIGH;
		snprintf(a.host, sizeof(a.host), "e2ehost");
		a.has_secret = 1;
		snprintf(a.secret_id, sizeof(a.secret_id), "%016lx", (unsigned long)(0xabc000 + i));
		snprintf(a.secret_name, sizeof(a.secret_name), "E2E_TOKEN");
		snprintf(a.variant, sizeof(a.variant), "raw");
		a.has_artifact = 1;
		a.artifact.type = SW_ART_EXEC_ARG;
		snprintf(a.artifact.path, sizeof(a.artifact.path), "/usr/bin/curl");
		a.artifact.index = 2;
		a.has_process = 1;
		a.process.pid = 4242;
		a.process.ppid = 1;
		snprintf(a.process.comm, sizeof(a.process.comm), "curl");
		snprintf(a.process.exe, sizeof(a.process.exe), "/usr/bin/curl");
		a.process.argc = 3;
		memcpy(a.process.argv, args, sizeof(args));
		a.first_seen = 1;
		a.count = 1;
		if (sw_sink__emit(s, &a) < 0)
			fprintf(stderr, "syslog_send: alert %ld not queued\n", i);
	}
	sodium_memzero(value, sizeof(value));
	if (sw_sink__flush(s, 10000)) {
		fprintf(stderr, "syslog_send: not everything was delivered within 10 s\n");
		sw_sink__free(s);
		return EXIT_FAILURE;
	}
	sw_sink__stats(s, &st);
	printf("sent=%llu dropped=%llu failed=%llu connects=%llu\n", (unsigned long long)st.sent,
	       (unsigned long long)st.dropped, (unsigned long long)st.failed,
	       (unsigned long long)st.connects);
	sw_sink__free(s);
	return st.sent == (uint64_t)count ? EXIT_SUCCESS : EXIT_FAILURE;
}
