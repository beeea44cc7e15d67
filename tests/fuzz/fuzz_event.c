// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the validation of a record as it comes out of the ring buffer or a trace
 * log (sw_event__decode). Whatever it accepts must lie inside the buffer it was given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

/* A span the decoder handed out: inside the record, and read whole (ASan checks each byte). */
uint8_t sw_fuzz_sink; /* what span() reads goes here, so no read is optimised away */

static void span(const uint8_t *rec, size_t size, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	if (!len)
		return;
	if (!b || b < rec || b > rec + size || len > (size_t)(rec + size - b))
		abort();
	for (i = 0; i < len; i++)
		sw_fuzz_sink ^= ((const volatile uint8_t *)b)[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_event ev;
	uint8_t *copy;

	/* An exact-size heap copy: ASan sees any read past the record. */
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	memset(&ev, 0, sizeof(ev));
	if (!sw_event__decode(copy, size, &ev)) {
		if ((const uint8_t *)ev.hdr != copy)
			abort();
		span(copy, size, ev.path, ev.path_len);
		span(copy, size, ev.src_path, ev.src_path_len);
		span(copy, size, ev.bytes, ev.bytes_len);
		span(copy, size, ev.cgroup, ev.cgroup_len);
		span(copy, size, ev.filename, ev.filename_len);
		span(copy, size, ev.args, ev.args_len);
		span(copy, size, ev.env, ev.env_len);
	}
	free(copy);
	return 0;
}
