// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: records through the whole pure pipeline, live and replayed. The input is a
 * mode byte, then a sequence of records, each prefixed by a 16-bit little-endian length; in
 * replay mode (mode & 1) each record is followed by a count byte and that many struct
 * sw_redaction, the recorded spans (untrusted like the record). The pipeline must validate
 * every record and span and never crash, leak or hang; its requests are taken as the source
 * would take them, and the end of input is stop, then finish. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "pipeline.h"
#include "registry.h"
#include "secretset.h"

static size_t alerts;

static void count(const struct sw_alert *a, void *ctx)
{
	char buf[1024];

	(void)ctx;
	/* Encoding touches every field the pipeline filled. */
	sw_alert__json(a, buf, sizeof(buf));
	alerts++;
}

/* Reads what a source would read of each request. */
static void take_requests(struct sw_pipeline *p)
{
	const struct sw_request *q;
	size_t n, i, sum = 0;

	q = sw_pipeline__requests(p, &n);
	for (i = 0; i < n; i++)
		sum += q[i].kind + (q[i].path ? strlen(q[i].path) : 0) + q[i].length;
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_key key;
	static char dir[] = "/tmp/sw-fuzz-records.XXXXXX";
	static int ready;
	static uint8_t rec[70000] __attribute__((aligned(8)));
	static struct sw_redaction red[256];
	struct sw_pipeline_opts o = {.key = &key, .host = "fuzz"};
	struct sw_secretset *set;
	struct sw_pipeline *p;
	struct sw_registry *reg;
	struct sw_secret s;
	uint8_t v[32];
	char path[64];
	int corrupt, replay;
	size_t len, nred;

	if (!ready) {
		if (sodium_init() < 0 || !mkdtemp(dir))
			abort();
		memset(key.bytes, 7, sizeof(key.bytes));
		sw_key__derive(&key);
		ready = 1;
	}
	if (!size)
		return 0;
	replay = data[0] & 1;
	data++;
	size--;
	snprintf(path, sizeof(path), "%s/registry.pb", dir);
	unlink(path);
	reg = sw_registry__open(path, key.id, &corrupt);
	o.registry = reg;
	p = reg ? sw_pipeline__new(&o) : NULL;
	set = sw_secretset__new();
	if (!reg || !p || !set)
		abort();
	/* One secret, so data records reach the matcher and the alert paths. */
	memcpy(v, "fuzz-secret-value-0123456789abcd", sizeof(v));
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "FUZZ");
	if (sw_fingerprint__secret(&key, v, sizeof(v), &s) || sw_secretset__put(set, &s) ||
	    sw_pipeline__set_secrets(p, set))
		abort();
	while (size >= 2) {
		len = data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(rec, data, len);
		data += len;
		size -= len;
		if (replay) {
			nred = size ? data[0] : 0;
			if (size) {
				data++;
				size--;
			}
			if (nred * sizeof(red[0]) > size)
				nred = size / sizeof(red[0]);
			memcpy(red, data, nred * sizeof(red[0]));
			data += nred * sizeof(red[0]);
			size -= nred * sizeof(red[0]);
			sw_pipeline__replay(p, rec, len, red, nred);
		} else {
			sw_pipeline__record(p, rec, len);
			sw_pipeline__redactions(p, &nred);
		}
		take_requests(p);
		sw_pipeline__drain_alerts(p, count, NULL);
	}
	sw_pipeline__stop(p);
	take_requests(p);
	sw_pipeline__finish(p);
	sw_pipeline__drain_alerts(p, count, NULL);
	sw_pipeline__free(p);
	sw_registry__free(reg);
	return 0;
}
