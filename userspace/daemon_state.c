// SPDX-License-Identifier: Apache-2.0
/* The daemon's state at start and at reload: the key and the secret set. Damage is never a
 * silent empty set. What makes every fingerprint meaningless (the key missing while a set made
 * under it exists, a key replaced, a damaged key) refuses the start with what to do; a damaged
 * secret set lets the daemon run (sessions, detectors and coverage still work) and raises a
 * `state_warning` alert naming the set's file, kept as it is for the administrator. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "statecheck.h"

void daemon_state__warning(struct daemon *d, const char *path, const char *fmt, ...)
{
	struct sw_alert *a = calloc(1, sizeof(*a));
	struct stat st;
	va_list ap;

	if (!a)
		return;
	a->time_us = now_us();
	a->kind = SW_ALERT_STATE_WARNING;
	a->severity = SW_SEV_MEDIUM;
	gethostname(a->host, sizeof(a->host) - 1);
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
	if (path) {
		a->has_artifact = 1;
		a->artifact.type = SW_ART_FILE;
		snprintf(a->artifact.path, sizeof(a->artifact.path), "%s", path);
		if (!stat(path, &st)) {
			a->artifact.dev = st.st_dev;
			a->artifact.ino = st.st_ino;
		}
	}
	log_warn("%s", a->message);
	/* Outside the pipeline (it is about the daemon's own files, not a record): every sink. */
	daemon_sinks__emit(d, a);
	free(a);
}

int daemon_state__key(struct daemon *d)
{
	char msg[3 * 1100 + 256];
	int e;

	e = sw_statecheck__key(d->paths.key, d->paths.secrets, &d->key, msg, sizeof(msg));
	if (e)
		log_err("%s", msg);
	return e;
}

int daemon_state__secrets_failed(struct daemon *d, int e, int at_start)
{
	char msg[sizeof(((struct sw_alert *)0)->message)];

	d->secrets_damaged = 1;
	switch (sw_statecheck__set(e, at_start, d->paths.secrets, d->paths.key, msg, sizeof(msg))) {
	case SW_STATE_REFUSE:
		log_err("%s", msg);
		return -1;
	case SW_STATE_WARN:
		daemon_state__warning(d, d->paths.secrets, "%s", msg);
		return 0;
	default:
		d->secrets_damaged = 0;
		return 0;
	}
}
