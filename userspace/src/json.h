/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON string of outside text (paths, names, argv, recorded bytes) for the status output and
 * the trace dump. The alert encoder has its own, stricter writer (alert.c). */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..n) as a quoted JSON string: quotes and backslashes escaped, every byte outside
 * printable ASCII as \u00XX, so hostile text stays one harmless line. */
void sw_json__str(FILE *f, const char *s, size_t n);

#endif
