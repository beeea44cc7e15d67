/* SPDX-License-Identifier: Apache-2.0 */
/* The rules record (SW_EV_RULES): the rule files a daemon runs, carried in its records so that a
 * replay runs exactly the same rules. */
#ifndef SW_RULESREC_H
#define SW_RULESREC_H

#include <stddef.h>

#include "embedded.h"
#include "event.h"
#include "rules.h"

/* Builds a rules record of files (terminated by a NULL name) into buf. Returns its size, or
 * -E2BIG when the files exceed SW_RULES_REC_MAX or size. */
long sw_rulesrec__pack(const struct sw_embedded_file *files, void *buf, size_t size);
/* The rules a decoded SW_EV_RULES record carries (names prefixed with prefix in errors). NULL
 * with errno set and *err filled when they do not load. */
struct sw_rules *sw_rulesrec__load(const struct sw_event *ev, const char *prefix,
				   struct sw_rules_error *err);

#endif
