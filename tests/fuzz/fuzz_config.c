// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the daemon's config file (sprawlwatchd.yaml) from memory. Anything wrong
 * must be an error with a position, never a crash; what loads must format its options. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_dconf *c = sw_dconf__new();
	struct sw_dconf_error e = {};
	char msg[1500];
	int r;

	if (!c)
		abort();
	r = sw_dconf__load_buf(c, (const char *)data, size, "fuzz.yaml", &e);
	if (r && r != -EINVAL && r != -ENOMEM && r != -E2BIG && r != -EFBIG)
		abort();
	if (r == -EINVAL && sw_dconf_error__format(&e, msg, sizeof(msg)) < 0)
		abort();
	sw_dconf__free(c);
	return 0;
}
