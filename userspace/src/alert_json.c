// SPDX-License-Identifier: Apache-2.0
/* An alert in the DESIGN.md JSON schema (the common writer and objects: alert.c). */
#include <errno.h>

#include "alert.h"
#include "alert_priv.h"

static void container_obj(struct jw *w, const struct sw_alert *a)
{
	jw_ostart(w, "container");
	jw_kstr(w, "id", a->container.id);
	jw_kstr(w, "runtime", a->container.runtime);
	jw_close(w, '}');
}

int sw_alert__json(const struct sw_alert *a, char *buf, size_t size)
{
	struct jw w = {.buf = buf, .size = size};
	char ts[SW_ALERT_TIME_LEN];
	uint32_t i, argc;

	if (!a || (!buf && size))
		return -EINVAL;
	sw_alert__format_time(a->time_us, ts);
	jw_open(&w, '{');
	jw_kstr(&w, "time", ts);
	jw_kstrn(&w, "kind", sw_alert__kind_name(a->kind), 32);
	jw_kstrn(&w, "severity", sw_alert__severity_name(a->severity), 16);
	jw_kstr(&w, "host", a->host);
	if (a->has_secret)
		al_secret_obj(&w, a);
	if (al_has_art(a)) {
		jw_ostart(&w, "artifact");
		al_artifact_fields(&w, &a->artifact);
		jw_close(&w, '}');
	}
	if (a->has_process) {
		argc = al_argc_of(a);
		jw_ostart(&w, "process");
		jw_ku64(&w, "pid", a->process.pid);
		jw_ku64(&w, "ppid", a->process.ppid);
		jw_ku64(&w, "uid", a->process.uid);
		jw_kstr(&w, "comm", a->process.comm);
		jw_kstr(&w, "exe", a->process.exe);
		jw_astart(&w, "argv");
		for (i = 0; i < argc; i++) {
			jw_sep(&w);
			jw_strn(&w, al_arg_at(a, i), SW_ALERT_ARG_MAX);
		}
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	if (a->cgroup[0])
		jw_kstr(&w, "cgroup", a->cgroup);
	if (a->has_container)
		container_obj(&w, a);
	if (a->has_session)
		al_session_obj(&w, a);
	if (al_wants_first_seen(a))
		jw_kbool(&w, "first_seen", a->first_seen);
	if (a->has_origin)
		al_origin_obj(&w, a);
	if (al_has_art(a) || a->count)
		jw_ku64(&w, "count", a->count);
	if (a->channel[0])
		jw_kstr(&w, "channel", a->channel);
	if (a->action[0])
		jw_kstr(&w, "action", a->action);
	if (a->kind == SW_ALERT_COVERAGE_GAP || a->ngaps)
		al_gaps_obj(&w, a);
	if (a->kind == SW_ALERT_SESSION_SUMMARY)
		al_spread_arr(&w, a);
	if (a->message[0])
		jw_kstr(&w, "message", a->message);
	al_frameworks_arr(&w, a);
	jw_close(&w, '}');
	return jw_finish(&w);
}
