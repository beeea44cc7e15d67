/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the compressed-data tests (test_inflate, test_unpack, test_pipeline_decode,
 * test_pipeline_git): deflate streams and git ids made at run time, and, with the pipeline
 * harness (testutil.h after pipeline.h), loose objects, files and TLS writes fed as records. */
#ifndef SW_TEST_GITUTIL_H
#define SW_TEST_GITUTIL_H

#include <string.h>

#include <zlib.h>

#include "gitobj.h"

/* data deflated with zlib (gzip: 1) framing. */
static inline size_t zpack(const void *data, size_t n, int gzip, uint8_t *out, size_t cap)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (uint8_t *)data;
	zs.avail_in = n;
	zs.next_out = out;
	zs.avail_out = cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	deflateEnd(&zs);
	return zs.total_out;
}

/* A pack entry's header, as git writes it: type and size, 7 bits a byte after the first 4. */
static inline size_t pack_entry_hdr(uint8_t *o, int type, size_t sz)
{
	size_t i = 0;

	o[i] = (uint8_t)(type << 4 | (sz & 15));
	sz >>= 4;
	while (sz) {
		o[i++] |= 0x80;
		o[i] = sz & 0x7f;
		sz >>= 7;
	}
	return i + 1;
}

/* Git's id of a blob of content c. */
static inline void blob_id(const void *c, size_t n, uint8_t id[SW_GIT_ID_BYTES])
{
	struct sw_gitid *g = sw_gitid__new(SW_GIT_BLOB, n);

	sw_gitid__update(g, c, n);
	sw_gitid__final(g, id);
	sw_gitid__free(g);
}

#ifdef SW_PIPELINE_H
/* A loose object of type for content, as git writes it. */
static inline size_t loose(const char *type, const uint8_t *content, size_t n, uint8_t *out,
			   size_t cap, uint8_t id[SW_GIT_ID_BYTES])
{
	uint8_t *raw = malloc(n + 64);
	struct sw_gitid *g;
	int h = snprintf((char *)raw, 64, "%s %zu", type, n) + 1;
	size_t zn;

	memcpy(raw + h, content, n);
	g = sw_gitid__new_raw();
	sw_gitid__update(g, raw, h + n);
	sw_gitid__final(g, id);
	sw_gitid__free(g);
	zn = zpack(raw, h + n, 0, out, cap);
	free(raw);
	return zn;
}

static inline void write_file(struct tp *f, uint32_t pid, uint64_t ino, const char *path,
			      const uint8_t *b, size_t n, size_t step)
{
	size_t off, k;

	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		tp_file(f, pid, ino, off ? NULL : path, b + off, k);
		tp_feed(f);
	}
}

/* A TLS write of n bytes by pid on connection fd/ino (peer 127.0.0.1:443). */
static inline void tls_write(struct tp *f, uint32_t pid, int fd, uint64_t ino, const uint8_t *b,
			     size_t n)
{
	struct sw_data_rec *d = tp_data(f, pid, SW_AK_TLS, ino, NULL, b, n);

	d->syscall_nr = SW_NR_TLS + SW_TLSW_SSL_WRITE;
	d->fd = fd;
	d->family = AF_INET;
	d->sock_type = SOCK_STREAM;
	d->protocol = IPPROTO_TCP;
	d->port = 443;
	inet_pton(AF_INET, "127.0.0.1", d->addr);
	tp_feed(f);
}

#endif
#endif
