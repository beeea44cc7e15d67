// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the state files a daemon reads at start (secret set, registry). The
 * first byte picks the file; the rest is its content. A damaged file must be an error, never
 * a crash or a silent empty set. Built with -DSW_FUZZ_SEEDGEN instead, this file is a program
 * that writes one valid seed of each (made by the real writers, under the fuzz key) into the
 * directory it is given, so the fuzzer starts past the parsers' first checks. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "registry.h"
#include "secretset.h"

#ifndef SW_FUZZ_SEEDGEN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sw_key key;
	static char dir[] = "/tmp/sw-fuzz-state.XXXXXX";
	static int ready;
	struct sw_secretset *set = NULL;
	struct sw_registry *reg;
	char path[64];
	int fd, corrupt = 0;

	if (!ready) {
		if (sodium_init() < 0 || !mkdtemp(dir))
			abort();
		memset(key.bytes, 9, sizeof(key.bytes));
		sw_key__derive(&key);
		ready = 1;
	}
	if (size < 1)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, data[0] & 1 ? "registry.pb" : "secrets.pb");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	if (data[0] & 1) {
		reg = sw_registry__open(path, key.id, &corrupt);
		if (!reg)
			abort(); /* a corrupt registry is rebuilt, never a failure */
		sw_registry__free(reg);
		/* a corrupt file was set aside: remove what the rename left */
		if (corrupt) {
			char cmd[128];

			snprintf(cmd, sizeof(cmd), "rm -f %s/registry.pb.corrupt-*", dir);
			if (system(cmd))
				abort();
		}
	} else if (sw_secretset__load(path, &key, &set) == 0) {
		sw_secretset__free(set);
	}
	unlink(path);
	return 0;
}
#else
/* Writes DIR/seed-secrets (selector 0 + a secret set of two secrets, one with an origin) and
 * DIR/seed-registry (selector 1 + a registry of three places). The values are random. */
static int seed(const char *dir, const char *name, uint8_t sel, const char *src)
{
	char path[4096], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = fopen(src, "rb");
	out = fopen(path, "wb");
	if (!in || !out || fputc(sel, out) == EOF)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return -1;
	fclose(in);
	return fclose(out) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct sw_key key;
	struct sw_secretset *set;
	struct sw_registry *reg;
	struct sw_secret s;
	char tmp[] = "/tmp/sw-fuzz-seed.XXXXXX", path[64];
	uint8_t v[40];
	int i, corrupt;

	if (argc != 2 || sodium_init() < 0 || !mkdtemp(tmp))
		return 1;
	memset(key.bytes, 9, sizeof(key.bytes)); /* the fuzz target's key */
	sw_key__derive(&key);
	set = sw_secretset__new();
	snprintf(path, sizeof(path), "%s/secrets.pb", tmp);
	for (i = 0; i < 2; i++) {
		memset(&s, 0, sizeof(s));
		randombytes_buf(v, sizeof(v));
		if (!set || sw_fingerprint__secret(&key, v, sizeof(v), &s))
			return 1;
		snprintf(s.name, sizeof(s.name), "SEED_%d", i);
		if (i)
			sw_secret__set_origin(&s, "/home/u/.env");
		if (sw_secretset__put(set, &s))
			return 1;
	}
	if (sw_secretset__save(set, path, &key) || seed(argv[1], "seed-secrets", 0, path))
		return 1;
	snprintf(path, sizeof(path), "%s/registry.pb", tmp);
	reg = sw_registry__open(path, key.id, &corrupt);
	if (!reg)
		return 1;
	for (i = 0; i < 3; i++)
		sw_registry__see(reg, set->secrets[i % 2].id,
				 i == 0	  ? "file:65024:12:34"
				 : i == 1 ? "socket:tcp:127.0.0.1%3A8080"
					  : "pipe:/usr/bin/wc",
				 1000000 + i);
	if (sw_registry__flush(reg) || seed(argv[1], "seed-registry", 1, path))
		return 1;
	sw_registry__free(reg);
	sw_secretset__free(set);
	snprintf(path, sizeof(path), "rm -rf %s", tmp);
	return system(path) ? 1 : 0;
}
#endif
