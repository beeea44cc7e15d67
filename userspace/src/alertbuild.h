/* SPDX-License-Identifier: Apache-2.0 */
/* Alert building: the fields of an alert from a record, the process table and the policy. Never
 * a plaintext secret: argv elements that hold a tracked secret are shown as "[redacted]". */
#ifndef SW_ALERTBUILD_H
#define SW_ALERTBUILD_H

#include <stdint.h>

#include "alert.h"
#include "fingerprint.h"
#include "matcher.h"
#include "policy.h"
#include "proctab.h"
#include "rules.h"
#include "sprawl_events.h"

/* Clears a and sets kind, time, host and the policy's severity for the kind. */
void sw_alertbuild__base(struct sw_alert *a, enum sw_alert_kind kind, uint64_t time_us,
			 const char *host, const struct sw_policy *pol);
/* The secret's name and id (hex for the world, binary for flood control). */
void sw_alertbuild__secret(struct sw_alert *a, const struct sw_secret *s);
/* The process: pid, ppid, uid, comm from the record header; exe and argv from pr (may be NULL).
 * argv points into pr: the alert is valid while pr is. */
void sw_alertbuild__process(struct sw_alert *a, const struct sw_hdr *h, const struct sw_proc *pr,
			    const struct sw_matcher *m);
void sw_alertbuild__session(struct sw_alert *a, const struct sw_proctab *pt, uint64_t id);
/* Severity and message of a spread by its place: an agent's transcript, tool output the agent
 * reads back (file) or reads from a pipe, or the artifact type. */
void sw_alertbuild__place(struct sw_alert *a, const struct sw_rules *rules,
			  const struct sw_policy *pol, const struct sw_proctab *pt);

#endif
