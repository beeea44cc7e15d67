// SPDX-License-Identifier: Apache-2.0
/* See log.h. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int level = LOG_INFO;
static int journal; /* stderr is connected to journald: priority prefixes */

void log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* systemd sets JOURNAL_STREAM to "DEV:INO" of the stream it gave us; a child whose
	 * stderr was redirected elsewhere must not prefix. */
	journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
		  st.st_dev == dev && st.st_ino == ino;
}

void log_set_level(int prio)
{
	if (prio >= LOG_EMERG && prio <= LOG_DEBUG)
		level = prio;
}

int log_level(void)
{
	return level;
}

void log_atv(int prio, const char *fmt, va_list ap)
{
	static const char *const words[] = {
		"emergency: ", "alert: ", "critical: ", "error: ", "warning: ", "", "", "debug: "};
	char line[2048];

	if (prio > level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "sprawlwatchd: %s%s\n", words[prio & 7], line);
}

void log_at(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_atv(prio, fmt, ap);
	va_end(ap);
}
