// SPDX-License-Identifier: Apache-2.0
/* See envfile.h. */
#include <string.h>

#include "envfile.h"

int sw_envfile__line(char *line, char **name, char **val, size_t *vlen, const char **why)
{
	char *s = line, *eq, *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == 0 || *s == '#' || *s == '\n' || *s == '\r')
		return 0;
	if (!strncmp(s, "export ", 7))
		s += 7;
	eq = strchr(s, '=');
	if (!eq) {
		*why = "expected KEY=VALUE";
		return -1;
	}
	*eq = 0;
	end = eq;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = 0;
	*name = s;
	s = eq + 1;
	end = s + strcspn(s, "\r\n");
	*end = 0;
	if (*s == '"' || *s == '\'') {
		char q = *s++;
		char *close = strrchr(s, q);

		if (!close) {
			*why = "unterminated quote";
			return -1;
		}
		*close = 0;
		end = close;
	} else {
		char *hash = strstr(s, " #");

		if (hash)
			end = hash;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	*val = s;
	*vlen = end - s;
	return 1;
}
