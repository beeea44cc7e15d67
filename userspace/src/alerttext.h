/* SPDX-License-Identifier: Apache-2.0 */
/* An alert JSON line (DESIGN.md schema) as one line for a person at a terminal:
 *   TIME SEVERITY KIND SECRET  WHERE  PROCESS  SESSION/AGENT
 * Every string of the alert came from outside (paths, argv, comm), so each is cleaned of
 * control characters (ESC, C1 controls, newlines) before it reaches a terminal: an attacker's
 * file name cannot move the cursor, recolour or rewrite what the person sees. */
#ifndef SW_ALERTTEXT_H
#define SW_ALERTTEXT_H

#include <stddef.h>

/* Formats the alert in json[0..len) into out (NUL-terminated, cut to size), with ANSI colours
 * when color is set. Returns the length of the whole line (like snprintf), or -EINVAL when the
 * text is not a JSON object with a "kind" (the caller prints such a line as it is, cleaned). */
int sw_alerttext__format(const char *json, size_t len, int color, char *out, size_t size);

/* Copies text into out (NUL-terminated, cut to size), with every control character, DEL, C1
 * control and invalid UTF-8 byte shown as '?'. Returns the length of the whole result. */
size_t sw_alerttext__clean(const char *text, size_t len, char *out, size_t size);

#endif
