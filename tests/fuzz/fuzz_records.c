// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: kernel records through the whole pipeline (replay mode: nothing from
 * /proc). The input is a sequence of records, each prefixed by a 16-bit little-endian
 * length; the pipeline must validate every one and never crash, leak or hang. Built with
 * -DSW_FUZZ_SEEDGEN instead, this file is a program that writes seed inputs (a session whose
 * process writes the target's secret into a file in two chunks, sends it over UDP and hits
 * a loss) into the directory it is given. */
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

#ifndef SW_FUZZ_SEEDGEN
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
#else
#include <arpa/inet.h>
#include <sys/socket.h>

#include "sprawl_events.h"

static uint8_t out[65536];
static size_t olen;

static void put(const void *rec, size_t len)
{
	if (olen + 2 + len > sizeof(out))
		abort();
	out[olen++] = len & 0xff;
	out[olen++] = len >> 8;
	memcpy(out + olen, rec, len);
	olen += len;
}

static void hdr(struct sw_hdr *h, uint16_t type, uint16_t flags, uint32_t size, uint64_t t)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->flags = flags;
	h->size = size;
	h->ktime = t;
	h->pid = h->tgid = 4242;
	h->ppid = 4241;
	h->session_id = 7;
	snprintf(h->comm, sizeof(h->comm), "sh");
}

/* A data record: fixed part, then path, then bytes. */
static void data_rec(uint16_t flags, uint64_t t, uint16_t kind, const char *path, const char *b,
		     uint64_t off, uint64_t total)
{
	uint8_t rec[1024] __attribute__((aligned(8)));
	struct sw_data_rec *d = (struct sw_data_rec *)rec;
	size_t pl = strlen(path), bl = strlen(b);

	memset(rec, 0, sizeof(rec));
	hdr(&d->hdr, SW_EV_DATA, flags, sizeof(*d) + pl + bl, t);
	d->syscall_nr = 1;
	d->fd = 3;
	d->total = total;
	d->offset = off;
	d->file_pos = -1;
	d->art_kind = kind;
	d->path_len = pl;
	d->data_len = bl;
	if (kind == SW_AK_FILE) {
		d->dev = 0xfe00000;
		d->ino = 1234;
		d->gen = 99;
	} else if (kind == SW_AK_SOCKET) {
		d->family = AF_INET;
		d->sock_type = SOCK_DGRAM;
		d->protocol = 17;
		d->port = 9;
		d->addr[0] = 127;
		d->addr[3] = 1;
	}
	memcpy(rec + sizeof(*d), path, pl);
	memcpy(rec + sizeof(*d) + pl, b, bl);
	put(rec, sizeof(*d) + pl + bl);
}

static int save(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(out, 1, olen, f) != olen)
		return -1;
	olen = 0;
	return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sw_session_rec sr;
	struct sw_tick_rec tr;
	struct sw_loss_rec lr;
	const char *v = "fuzz-secret-value-0123456789abcd"; /* the fuzz target's secret */
	char half[2][24];

	if (argc != 2)
		return 1;
	hdr(&sr.hdr, SW_EV_SESSION, 0, sizeof(sr), 1000);
	snprintf(sr.agent, sizeof(sr.agent), "fuzz");
	hdr(&tr.hdr, SW_EV_TICK, 0, sizeof(tr), 1000);
	tr.realtime_ns = 1796000000000000000ull;
	/* a file write in two chunks, the secret across the seam */
	snprintf(half[0], sizeof(half[0]), "k=%.14s", v);
	snprintf(half[1], sizeof(half[1]), "%s\n", v + 14);
	put(&sr, sizeof(sr));
	put(&tr, sizeof(tr));
	data_rec(SW_F_FIRST, 2000, SW_AK_FILE, "/home/u/leak.txt", half[0], 0, 36);
	data_rec(SW_F_LAST, 2001, SW_AK_FILE, "", half[1], strlen(half[0]), 36);
	tr.hdr.ktime = 900000000;
	put(&tr, sizeof(tr));
	if (save(argv[1], "seed-file"))
		return 1;
	/* a UDP send, then a loss report */
	put(&sr, sizeof(sr));
	data_rec(SW_F_FIRST | SW_F_LAST, 3000, SW_AK_SOCKET, "", v, 0, 32);
	hdr(&lr.hdr, SW_EV_LOSS, 0, sizeof(lr), 4000);
	memset(&lr.loss, 0, sizeof(lr.loss));
	lr.loss.truncated = 1;
	lr.loss.ringbuf_full = 2;
	put(&lr, sizeof(lr));
	return save(argv[1], "seed-socket-loss") ? 1 : 0;
}
#endif
