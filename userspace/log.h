/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's log lines, on stderr. Under systemd (stderr is the journal's stream, as
 * $JOURNAL_STREAM says) each line starts with its syslog priority ("<3>"), which journald
 * turns into the entry's PRIORITY; on a terminal, "sprawlwatchd: error: ...". Lines less
 * important than the level (--log-level) are not written. No line ever holds a secret. */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdarg.h>
#include <syslog.h>

void log_init(void);
/* LOG_ERR .. LOG_DEBUG. */
void log_set_level(int prio);
int log_level(void);
void log_at(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_atv(int prio, const char *fmt, va_list ap);

#define log_err(...)	log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)

#endif
