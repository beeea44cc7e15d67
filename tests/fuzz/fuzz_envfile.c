// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the .env importer's line splitter (`sprawlctl secrets import-env`). The
 * input is a file; each line goes through sw_envfile__line as import-env gives it (NUL-
 * terminated, newline included). Name and value must lie inside the line, the name be
 * NUL-terminated and free of '=', and a malformed line say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	const char *why;
	char *line, *name, *val;
	size_t len, vlen;
	int r;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		line = malloc(len + 1);
		if (!line)
			abort();
		memcpy(line, p, len);
		line[len] = 0;
		why = NULL;
		r = sw_envfile__line(line, &name, &val, &vlen, &why);
		if (r == 1) {
			if (name < line || name > line + len || val < line || val > line + len ||
			    vlen > (size_t)(line + len - val) || strchr(name, '=') ||
			    strlen(name) > len)
				abort();
		} else if (r == -1) {
			if (!why)
				abort();
		} else if (r != 0) {
			abort();
		}
		free(line);
		p += len;
	}
	return 0;
}
