// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: kernel records through the whole pipeline (replay mode: nothing from
 * /proc). The input is a sequence of records, each prefixed by a 16-bit little-endian
 * length; the pipeline must validate every one and never crash, leak or hang. */
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
#include "sink.h"

static void discard(const char *json, size_t len, void *ctx)
{
	(void)json;
	(void)len;
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_key key;
	static char dir[] = "/tmp/sw-fuzz-records.XXXXXX";
	static int ready;
	struct sw_pipeline_opts o = {.key = &key, .host = "fuzz"};
	struct sw_secretset *set;
	struct sw_pipeline *p;
	struct sw_registry *reg;
	struct sw_secret s;
	struct sw_sink *sink;
	uint8_t v[32], rec[70000] __attribute__((aligned(8)));
	char path[64];
	int corrupt;
	size_t len;

	if (!ready) {
		if (sodium_init() < 0 || !mkdtemp(dir))
			abort();
		memset(key.bytes, 7, sizeof(key.bytes));
		sw_key__derive(&key);
		ready = 1;
	}
	snprintf(path, sizeof(path), "%s/registry.pb", dir);
	unlink(path);
	reg = sw_registry__open(path, key.id, &corrupt);
	o.registry = reg;
	p = sw_pipeline__new(&o);
	sink = sw_sink__callback(discard, NULL, SW_FMT_JSON);
	set = sw_secretset__new();
	if (!reg || !p || !sink || !set)
		abort();
	/* One secret, so data records reach the matcher and the alert path. */
	memcpy(v, "fuzz-secret-value-0123456789abcd", sizeof(v));
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "FUZZ");
	if (sw_fingerprint__secret(&key, v, sizeof(v), &s) || sw_secretset__put(set, &s) ||
	    sw_pipeline__set_secrets(p, set) || sw_pipeline__add_sink(p, sink))
		abort();
	while (size >= 2) {
		len = data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(rec, data, len);
		sw_pipeline__record(p, rec, len);
		data += len;
		size -= len;
	}
	sw_pipeline__flush(p, UINT64_MAX, 1);
	sw_pipeline__free(p);
	sw_sink__free(sink);
	sw_registry__free(reg);
	return 0;
}
