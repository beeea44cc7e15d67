// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the secret set as the daemon loads it at start (secrets.pb) and a fleet's
 * export as `secrets import` reads it, from a memfd (no disk). The first byte picks which.
 * Damage must be an error (never a crash, never a set that loads empty from a damaged file):
 * whatever loads has at most the secrets the file counts. The statefiles target covers the
 * same files with seeds past the MAC; this one is fast enough for a million runs. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "secretset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_key key;
	static char path[64];
	static int fd = -1;
	struct sw_secretset *set = NULL;
	struct sw_secretset_export_info info;
	int r;

	if (fd < 0) {
		if (sodium_init() < 0)
			abort();
		fd = memfd_create("sw-fuzz-set", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		memset(key.bytes, 9, sizeof(key.bytes));
		sw_key__derive(&key);
	}
	if (size < 1)
		return 0;
	if (ftruncate(fd, 0) || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		abort();
	if (data[0] & 1)
		r = sw_secretset__import(path, &key, &set, &info);
	else
		r = sw_secretset__load(path, &key, &set);
	if (r == 0 && !set)
		abort();
	if (r != 0 && set)
		abort();
	/* A file of no bytes is the one damaged set that must not load as empty. */
	if (r == 0 && size == 1 && !(data[0] & 1))
		abort();
	sw_secretset__free(set);
	return 0;
}
