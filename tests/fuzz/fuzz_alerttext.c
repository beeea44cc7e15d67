// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: `sprawlctl alerts --format text` reading an alert file line (any bytes,
 * as a file someone else wrote may hold). The line shown must be NUL-terminated inside its
 * buffer and hold no control character: a file name must not drive the terminal. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerttext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[1024];
	size_t i, n;
	int r;

	if (size < 1)
		return 0;
	/* First byte: colour or not, and the output size (short ones test the cut). */
	n = data[0] & 1 ? sizeof(out) : 1 + data[0] % 64;
	r = sw_alerttext__format((const char *)data + 1, size - 1, data[0] & 2, out, n);
	if (r == -EINVAL) {
		sw_alerttext__clean((const char *)data + 1, size - 1, out, n);
	} else if (r < 0) {
		abort();
	}
	if (!memchr(out, 0, n))
		abort();
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 && out[i] != 0x1b) /* ESC only in our colours */
			abort();
	if (!(data[0] & 2) && r != -EINVAL && strchr(out, 0x1b))
		abort();
	return 0;
}
