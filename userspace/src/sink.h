/* SPDX-License-Identifier: Apache-2.0 */
/* Alert sinks: where alerts go. Each sink formats and delivers one alert at a time. */
#ifndef SW_SINK_H
#define SW_SINK_H

#include "alert.h"

enum sw_sink_format { SW_FMT_JSON = 0, SW_FMT_OCSF };

struct sw_sink;

/* JSON lines appended to path ("-" = stdout); reopened by sw_sink__reopen (SIGHUP). */
struct sw_sink *sw_sink__file(const char *path, enum sw_sink_format fmt);
/* RFC 5424 syslog; addr is "tcp:HOST:PORT" or "unix:/path" (datagram or stream). */
struct sw_sink *sw_sink__syslog(const char *addr, enum sw_sink_format fmt);
/* Runs argv (no shell) with the alert's JSON on stdin; killed after timeout_ms. */
struct sw_sink *sw_sink__hook(char *const argv[], int timeout_ms);
/* A caller-provided delivery function (e.g. the control-socket stream). */
struct sw_sink *sw_sink__callback(void (*fn)(const char *json, size_t len, void *ctx), void *ctx,
				  enum sw_sink_format fmt);

int sw_sink__emit(struct sw_sink *s, const struct sw_alert *a);
int sw_sink__reopen(struct sw_sink *s);
void sw_sink__free(struct sw_sink *s);

#endif
