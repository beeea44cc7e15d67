/* SPDX-License-Identifier: Apache-2.0 */
/* Which processes of a session are its agents, decided by the agent rules alone: a process
 * whose exec matches an agent rule (the launcher, the native binary it execs or spawns, the
 * agent relaunching itself) is an agent until its next exec. The tool output such a process
 * reads is in the model's context. The exec of a session's root also gives the session its
 * home (HOME in the environment: the `~` of the agent rules) and, when the session was
 * started without a label, its label. A pure function of exec records. */
#ifndef SW_AGENTPROC_H
#define SW_AGENTPROC_H

#include "event.h"
#include "proctab.h"
#include "rules.h"

/* The label of the agent rule the exec matches, or NULL. comm is the task comm after the
 * exec. */
const char *sw_agentproc__label(const struct sw_rules *rules, const struct sw_event *ev,
				const char *comm);

/* After sw_proctab__exec of a process of session (0: none): marks it as an agent when its
 * exec matches a rule, and for the session's root records the home and names an unlabelled
 * session (the rule's label, else "run" until a later exec of the root matches). Returns the
 * matched label or NULL. */
const char *sw_agentproc__exec(struct sw_proctab *pt, const struct sw_rules *rules,
			       const struct sw_event *ev, const char *comm, uint64_t session);

/* HOME=... of the exec's environment (only a whole string), or NULL. */
const char *sw_agentproc__home(const struct sw_event *ev, size_t *len);

/* The process a session's tool output reaches the model through: an agent process (see
 * above) or the session's root (the process the session was started for). */
int sw_agentproc__is_agent(const struct sw_proctab *pt, uint64_t session, uint32_t tgid);

#endif
