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

#ifdef SW_FUZZ_SEEDGEN
/* Seeds: a session whose process writes the target's secret into a file in two chunks, sends
 * it over UDP, then exits; live mode. Built without the library: records by hand. */
#include <errno.h>
#include <sys/socket.h>

static uint8_t out[8192];
static size_t outlen;

static void put(const void *rec, size_t len)
{
	out[outlen++] = len & 0xff;
	out[outlen++] = len >> 8;
	memcpy(out + outlen, rec, len);
	outlen += len;
}

static void hdr(struct sw_hdr *h, uint16_t type, uint32_t size, uint64_t kt)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->size = size;
	h->ktime = kt;
	h->pid = h->tgid = 200;
	h->ppid = 100;
	h->session_id = 7;
	memcpy(h->comm, "sh", 2);
}

int main(int argc, char **argv)
{
	static const char secret[] = "fuzz-secret-value-0123456789abcd";
	struct {
		struct sw_data_rec d;
		char tail[256];
	} dr;
	struct sw_tick_rec t;
	struct sw_session_rec se;
	struct sw_exit_rec ex;
	char path[512];
	FILE *f;

	if (argc != 2)
		return 2;
	out[outlen++] = 0; /* live */
	hdr(&t.hdr, SW_EV_TICK, sizeof(t), 1000000000ull);
	t.hdr.flags = SW_F_FIRST;
	t.realtime_ns = 1764460800000000000ull;
	put(&t, sizeof(t));
	hdr(&se.hdr, SW_EV_SESSION, sizeof(se), 1000000001ull);
	memset(se.agent, 0, sizeof(se.agent));
	memcpy(se.agent, "fuzz", 4);
	put(&se, sizeof(se));
	for (int i = 0; i < 2; i++) {
		memset(&dr.d, 0, sizeof(dr.d));
		hdr(&dr.d.hdr, SW_EV_DATA, 0, 1000000100ull + i);
		dr.d.hdr.flags = SW_F_FIRST | SW_F_LAST;
		dr.d.art_kind = SW_AK_FILE;
		dr.d.dev = (8 << 20) | 1;
		dr.d.ino = 1000;
		dr.d.file_pos = -1;
		dr.d.fd = 3;
		dr.d.path_len = i ? 0 : 6;
		memcpy(dr.tail, "/w/out", dr.d.path_len);
		dr.d.data_len = 16;
		dr.d.total = 16;
		memcpy(dr.tail + dr.d.path_len, secret + 16 * i, 16);
		dr.d.hdr.size = sizeof(dr.d) + dr.d.path_len + dr.d.data_len;
		put(&dr, dr.d.hdr.size);
	}
	memset(&dr.d, 0, sizeof(dr.d));
	hdr(&dr.d.hdr, SW_EV_DATA, 0, 1000000200ull);
	dr.d.hdr.flags = SW_F_FIRST | SW_F_LAST;
	dr.d.art_kind = SW_AK_SOCKET;
	dr.d.family = AF_INET;
	dr.d.protocol = 17;
	dr.d.port = 53;
	dr.d.data_len = 32;
	dr.d.total = 32;
	memcpy(dr.tail, secret, 32);
	dr.d.hdr.size = sizeof(dr.d) + 32;
	put(&dr, dr.d.hdr.size);
	hdr(&ex.hdr, SW_EV_EXIT, sizeof(ex), 1000000300ull);
	ex.exit_code = 0;
	put(&ex, sizeof(ex));
	hdr(&t.hdr, SW_EV_TICK, sizeof(t), 2000000000ull);
	t.realtime_ns = 1764460801000000000ull;
	put(&t, sizeof(t));
	snprintf(path, sizeof(path), "%s/seed-session", argv[1]);
	f = fopen(path, "wb");
	if (!f || fwrite(out, 1, outlen, f) != outlen || fclose(f))
		return 1;
	return 0;
}
#else
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
#endif
