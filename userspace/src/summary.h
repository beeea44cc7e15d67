/* SPDX-License-Identifier: Apache-2.0 */
/* Per-session accounting for the session_summary alert: fed every emitted alert, asked at the
 * end of a session for one alert listing the secrets that spread in it and where (what a
 * responder rotates or revokes). Pure: no clock, no I/O; times come from the caller. */
#ifndef SW_SUMMARY_H
#define SW_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

/* Bounds on what one session's summary lists; beyond them places and secrets are counted. */
#define SW_SUMMARY_SECRETS  64
#define SW_SUMMARY_PLACES   64
#define SW_SUMMARY_SESSIONS 4096 /* sessions accounted at once; the oldest gives way */

struct sw_summary;

struct sw_summary *sw_summary__new(void);
void sw_summary__free(struct sw_summary *s);
/* An alert that left for the sinks: a spread, exposure or discovery in a session counts. */
void sw_summary__feed(struct sw_summary *s, const struct sw_alert *a);
/* The session's last process exited at time_us. Its summary is due once the alerts still held
 * for it (file alerts wait for renames) have left: see __next. */
void sw_summary__end(struct sw_summary *s, uint64_t session_id, uint64_t time_us);
/* The next ended session whose end is at or before ended_by_us and that saw any secret: fills
 * *a (kind session_summary, severity the highest of the session's alerts, host from its
 * alerts, time = time_us) and returns 1; its accounting
 * is dropped then. The alert borrows memory from s until the next call. 0 when none is due;
 * ended sessions with nothing to say are dropped silently. */
int sw_summary__next(struct sw_summary *s, uint64_t ended_by_us, uint64_t time_us,
		     struct sw_alert *a);
/* Sessions dropped at the bound before they ended (their summaries were lost). */
uint64_t sw_summary__evicted(const struct sw_summary *s);

#endif
