/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials an agent makes for itself and hands to its tools (Claude Code's
 * CLAUDE_CODE_MESSAGING_TOKEN): a fresh random token per run, which the detectors would
 * otherwise "discover" on every run, in the tools' environment and wherever a tool prints its
 * environment back to the agent. The agent rules name such variables (credential_env); when
 * an agent process execs a tool with one, the value's fingerprint id is remembered here, and a
 * detector's find of that value is the agent's own, not a discovery. Registered secrets are
 * never affected: only what detectors would learn. Bounded; no I/O. */
#ifndef SW_AGENTCRED_H
#define SW_AGENTCRED_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "fingerprint.h"
#include "proctab.h"
#include "rules.h"

#define SW_AGENTCRED_MAX 1024 /* agent credentials remembered; the oldest go first */

struct sw_agentcred;

struct sw_agentcred *sw_agentcred__new(void);
void sw_agentcred__free(struct sw_agentcred *c);
/* One NAME=VALUE string of an exec's environment: 1 when NAME is an agent credential variable
 * (the caller does not run the detectors on it), else 0. The value is remembered when the
 * exec's parent is an agent process of the session. */
int sw_agentcred__env(struct sw_agentcred *c, const struct sw_rules *rules,
		      const struct sw_proctab *pt, const struct sw_key *key,
		      const struct sw_event *ev, const char *s, size_t len);
/* 1 when the secret id is an agent's own credential. */
int sw_agentcred__has(const struct sw_agentcred *c, const uint8_t id[SW_SECRET_ID_BYTES]);

#endif
