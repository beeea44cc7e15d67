// SPDX-License-Identifier: Apache-2.0
/* See rulesrec.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulesrec.h"

#define FILES_MAX 16

long sw_rulesrec__pack(const struct sw_embedded_file *files, void *buf, size_t size)
{
	struct sw_rules_rec *r = buf;
	uint8_t *out = (uint8_t *)(r + 1);
	size_t len = 0, i;

	if (size < sizeof(*r))
		return -E2BIG;
	memset(r, 0, sizeof(*r));
	for (i = 0; files[i].name && i < FILES_MAX; i++) {
		uint32_t nl = strlen(files[i].name), tl = files[i].len;
		size_t need = 8 + (size_t)nl + tl;

		if (len + need > SW_RULES_REC_MAX || sizeof(*r) + len + need > size)
			return -E2BIG;
		memcpy(out + len, &nl, 4);
		memcpy(out + len + 4, &tl, 4);
		memcpy(out + len + 8, files[i].name, nl);
		memcpy(out + len + 8 + nl, files[i].data, tl);
		len += need;
	}
	r->hdr.type = SW_EV_RULES;
	r->hdr.size = sizeof(*r) + len;
	r->nfiles = i;
	r->len = len;
	return (long)r->hdr.size;
}

struct sw_rules *sw_rulesrec__load(const struct sw_event *ev, const char *prefix,
				   struct sw_rules_error *err)
{
	struct sw_embedded_file files[FILES_MAX + 1];
	const uint8_t *p = (const uint8_t *)ev->path, *end = p + ev->path_len;
	struct sw_rules *r = NULL;
	size_t n = 0, i;
	int e = EBADMSG;

	memset(files, 0, sizeof(files));
	memset(err, 0, sizeof(*err));
	for (i = 0; i < ev->rules->nfiles && n < FILES_MAX; i++) {
		uint32_t nl, tl;
		char *name, *text;

		if (end - p < 8)
			goto bad;
		memcpy(&nl, p, 4);
		memcpy(&tl, p + 4, 4);
		p += 8;
		if (nl > 255 || (size_t)(end - p) < (size_t)nl + tl)
			goto bad;
		name = strndup((const char *)p, nl);
		text = malloc((size_t)tl + 1);
		if (!name || !text) {
			free(name);
			free(text);
			e = ENOMEM;
			goto out;
		}
		memcpy(text, p + nl, tl);
		text[tl] = 0;
		files[n].name = name;
		files[n].data = (const unsigned char *)text;
		files[n].len = tl;
		n++;
		p += nl + tl;
	}
	r = sw_rules__load_files(files, prefix, err);
	e = r ? 0 : errno;
	goto out;
bad:
	snprintf(err->msg, sizeof(err->msg), "a rules record is damaged");
out:
	for (i = 0; i < n; i++) {
		free((void *)files[i].name);
		free((void *)files[i].data);
	}
	if (!r)
		errno = e;
	return r;
}
