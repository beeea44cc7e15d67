// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: what a control-socket client sends, as the daemon takes it. The input
 * arrives in chunks (each chunk's length is the next input byte), is framed into lines by
 * sw_ctl__next_line in a client-sized buffer, and each line goes through sw_ctl__parse. A
 * crash, a read outside the buffers or a request that breaks its invariants is a finding. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void check(const struct sw_ctl_req *r)
{
	size_t i, n = strnlen(r->agent, sizeof(r->agent));

	if (n == sizeof(r->agent))
		abort(); /* the label is always NUL-terminated */
	for (i = 0; i < n; i++)
		if (r->agent[i] <= ' ' || r->agent[i] > '~')
			abort();
	if (r->verb == SW_CTL_WATCH && r->pid <= 0)
		abort();
	if (r->verb != SW_CTL_WATCH && r->pid != 0)
		abort();
	if (r->verb > SW_CTL_INDEX) /* the last verb */
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[SW_CTL_LINE_MAX];
	char line[SW_CTL_LINE_MAX], err[160];
	struct sw_ctl_req r;
	size_t inlen = 0, pos = 0, chunk;
	int n;

	while (pos < size) {
		chunk = 1 + data[pos++] % 64;
		if (chunk > size - pos)
			chunk = size - pos;
		if (chunk > sizeof(in) - inlen)
			chunk = sizeof(in) - inlen;
		memcpy(in + inlen, data + pos, chunk);
		inlen += chunk;
		pos += chunk;
		for (;;) {
			n = sw_ctl__next_line(in, &inlen, line, sizeof(line));
			if (n == -EAGAIN)
				break;
			if (n == -EMSGSIZE)
				return 0; /* the daemon drops such a client */
			if (n < 0 || (size_t)n >= sizeof(line) || inlen > sizeof(in) ||
			    strlen(line) > (size_t)n)
				abort();
			if (!sw_ctl__parse(line, (size_t)n, &r, err, sizeof(err)))
				check(&r);
			else if (!memchr(err, 0, sizeof(err)))
				abort();
		}
	}
	return 0;
}
