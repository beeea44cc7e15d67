/* SPDX-License-Identifier: Apache-2.0 */
/* The .env format of `sprawlctl secrets import-env`: KEY=VALUE lines, "export " allowed,
 * values bare (a " #" starts a comment, blanks trimmed) or in single or double quotes. */
#ifndef SW_ENVFILE_H
#define SW_ENVFILE_H

#include <stddef.h>

/* Splits one NUL-terminated line in place: *name (NUL-terminated) and the value span *val of
 * *vlen bytes, both inside line. Returns 1 for an assignment, 0 for a blank or comment line,
 * -1 for a malformed line (the reason in *why, never quoting the line). */
int sw_envfile__line(char *line, char **name, char **val, size_t *vlen, const char **why);

#endif
