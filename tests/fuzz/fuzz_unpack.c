// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: what a session writes, as the unpacker reads it (gzip, a git loose object, a
 * git pack with deltas). The first byte picks the kind and the size of the writes the rest is
 * fed in; the unpacker must never crash, leak, read out of bounds or stop on anything but its
 * bounds (kept small here so the fuzzer reaches them). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "unpack.h"

static void on_begin(void *ctx, const struct sw_unpack_obj *o)
{
	(void)ctx;
	(void)o;
}

static void on_data(void *ctx, const void *p, size_t n)
{
	/* Touch every byte handed out (ASan checks it is real memory). */
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		*(uint8_t *)ctx ^= b[i];
}

static void on_end(void *ctx, const struct sw_unpack_obj *o)
{
	size_t i;

	for (i = 0; o->content && i < o->content_len; i++)
		*(uint8_t *)ctx ^= o->content[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sw_unpack_ops ops = {on_begin, on_data, on_end, NULL};
	struct sw_unpack_limits lim = {4u << 20, 50, 1u << 20};
	struct sw_unpack *u;
	uint8_t sink = 0;
	size_t step, off, k;

	if (size < 1)
		return 0;
	u = sw_unpack__new((enum sw_unpack_kind)(data[0] % 3 + 1), &lim);
	if (!u)
		return 0;
	step = 1 + (data[0] >> 2) * 97;
	for (off = 1; off < size; off += k) {
		k = size - off < step ? size - off : step;
		sw_unpack__feed(u, data + off, k, &ops, &sink);
		sw_unpack__take_unresolved(u);
	}
	sw_unpack__free(u);
	return sink == 0xff ? 0 : 0;
}
