// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the state files a daemon reads at start (secret set, registry). The
 * first byte picks the file; the rest is its content. A damaged file must be an error, never
 * a crash or a silent empty set. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "registry.h"
#include "secretset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_key key;
	static char dir[] = "/tmp/sw-fuzz-state.XXXXXX";
	static int ready;
	struct sw_secretset *set = NULL;
	struct sw_registry *reg;
	char path[64];
	int fd, corrupt = 0;

	if (!ready) {
		if (sodium_init() < 0 || !mkdtemp(dir))
			abort();
		memset(key.bytes, 9, sizeof(key.bytes));
		sw_key__derive(&key);
		ready = 1;
	}
	if (size < 1)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, data[0] & 1 ? "registry.pb" : "secrets.pb");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	if (data[0] & 1) {
		reg = sw_registry__open(path, key.id, &corrupt);
		if (!reg)
			abort(); /* a corrupt registry is rebuilt, never a failure */
		sw_registry__free(reg);
		/* a corrupt file was set aside: remove what the rename left */
		if (corrupt) {
			char cmd[128];

			snprintf(cmd, sizeof(cmd), "rm -f %s/registry.pb.corrupt-*", dir);
			if (system(cmd))
				abort();
		}
	} else if (sw_secretset__load(path, &key, &set) == 0) {
		sw_secretset__free(set);
	}
	unlink(path);
	return 0;
}
