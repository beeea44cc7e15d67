// SPDX-License-Identifier: Apache-2.0
/* The trace log: segment files of zlib-compressed blocks of length-delimited protobuf Events.
 *
 * Block on disk: "SWTB" | u32 LE header length | u32 LE crc32(header) | BlockHeader |
 * compressed_length bytes of zlib data (crc32 in the header). The header has its own CRC so that
 * its lengths can be trusted: a block whose trusted lengths run past the end of its segment is a
 * torn tail (crash mid-write), anything else that does not check out is corruption, and the
 * reader then resumes at the next magic. Each block is written with one write(); a writer never
 * appends to an existing segment, so a torn tail is always the end of its file.
 *
 * This file: segment names and their listing, shared by the writer (tracelog_writer.c) and the
 * reader (tracelog_reader.c, tracelog_parse.c); the block framing (magic, preamble, varints) is
 * in tracelog_priv.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "fingerprint.h"
#include "tracelog_priv.h"

_Static_assert(sizeof(((struct sw_redaction *)0)->secret_id) == SW_SECRET_ID_BYTES,
	       "redaction secret id size");

int tl_grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;
	size_t n = *cap ? *cap : 4096;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static int is_segment_name(const char *s, int strict)
{
	size_t n = strlen(s), i;

	if (n < sizeof(NAME_PREFIX) - 1 + sizeof(NAME_SUFFIX) - 1 ||
	    strncmp(s, NAME_PREFIX, sizeof(NAME_PREFIX) - 1) ||
	    strcmp(s + n - (sizeof(NAME_SUFFIX) - 1), NAME_SUFFIX))
		return 0;
	if (!strict)
		return 1;
	if (n != NAME_LEN || s[sizeof(NAME_PREFIX) - 1 + 16] != '-')
		return 0;
	for (i = sizeof(NAME_PREFIX) - 1; i < NAME_LEN - (sizeof(NAME_SUFFIX) - 1); i++)
		if (i != sizeof(NAME_PREFIX) - 1 + 16 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void tl_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int tl_list_segments(int dirfd, int strict, char ***out, size_t *nout)
{
	char **names = NULL, **p;
	size_t n = 0, cap = 0;
	struct dirent *d;
	int fd, err = 0;
	DIR *dir;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((errno = 0, d = readdir(dir))) {
		if (!is_segment_name(d->d_name, strict))
			continue;
		if (n == SW_TRACELOG_DIR_FILES_MAX) {
			err = -E2BIG;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(names, cap * sizeof(*names));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			names = p;
		}
		names[n] = strdup(d->d_name);
		if (!names[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	if (!err && errno)
		err = -errno;
	closedir(dir);
	if (err) {
		tl_free_names(names, n);
		return err;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*nout = n;
	return 0;
}

uint64_t tl_name_us(const char *name)
{
	return strtoull(name + sizeof(NAME_PREFIX) - 1, NULL, 10);
}

int sw_tracelog__segments(const char *dir, struct sw_tracelog_segment **out, size_t *n)
{
	struct sw_tracelog_segment *v;
	char **names = NULL;
	size_t k = 0, i;
	int fd, err;

	if (!dir || !out || !n)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = tl_list_segments(fd, 1, &names, &k);
	close(fd);
	if (err)
		return err;
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		tl_free_names(names, k);
		return -ENOMEM;
	}
	for (i = 0; i < k; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s", names[i]);
		v[i].start_us = tl_name_us(names[i]);
	}
	tl_free_names(names, k);
	*out = v;
	*n = k;
	return 0;
}
