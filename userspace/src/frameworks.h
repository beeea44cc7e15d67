/* SPDX-License-Identifier: Apache-2.0 */
/* Which entries of the agentic-AI risk frameworks an alert kind evidences: OWASP Top 10 for
 * Agentic Applications (2026 list, ASI01..ASI10) and CSA MAESTRO (layers L1..L7 plus
 * cross-layer, with the threat named in the framework). */
#ifndef SW_FRAMEWORKS_H
#define SW_FRAMEWORKS_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

#define SW_FRAMEWORKS_MAX 8

struct sw_framework_ref {
	const char *framework; /* "owasp_asi_2026" or "csa_maestro" */
	const char *id;	       /* "ASI03"; "L2" / "cross_layer" */
	const char *name;      /* the entry's title in the framework */
	const char *threat;    /* MAESTRO: the threat within the layer; NULL for OWASP */
};

/* Fills out with up to max references for this kind (and artifact type, SW_ART__COUNT when
 * none); returns how many. The pointers are static. */
size_t sw_frameworks__for(enum sw_alert_kind kind, unsigned int art_type,
			  const struct sw_framework_ref **out, size_t max);

#endif
