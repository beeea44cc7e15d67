// SPDX-License-Identifier: Apache-2.0
/* Registry: first-time logic, persistence across reopen, crash-safe files, corrupt and
 * foreign-key files, the bound. Secret ids are plain byte arrays here. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "registry.h"
#include "sprawl.pb-c.h"

static const uint8_t key_a[SW_KEY_ID_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t key_b[SW_KEY_ID_BYTES] = {8, 7, 6, 5, 4, 3, 2, 1};
static const uint8_t s1[SW_SECRET_ID_BYTES] = {0xa1, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t s2[SW_SECRET_ID_BYTES] = {0xa2, 0, 0, 0, 0, 0, 0, 2};

struct ctx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	snprintf(c->dir, sizeof(c->dir), "/tmp/sw-registry-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	snprintf(c->path, sizeof(c->path), "%s/registry.pb", c->dir);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	struct dirent *d;
	char p[512];
	DIR *dir = opendir(c->dir);

	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", c->dir, d->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(c->dir);
	free(c);
	return 0;
}

static int count_aside(const struct ctx *c)
{
	struct dirent *d;
	DIR *dir = opendir(c->dir);
	int n = 0;

	while (dir && (d = readdir(dir)))
		if (strstr(d->d_name, "registry.pb.corrupt-"))
			n++;
	if (dir)
		closedir(dir);
	return n;
}

static void write_bytes(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

static void test_first_then_count(void **state)
{
	struct ctx *c = *state;
	struct sw_registry_entry e;
	struct sw_registry *r;
	int corrupt = -1;

	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 0);
	assert_int_equal(sw_registry__size(r), 0);
	assert_int_equal(sw_registry__see(r, s1, "file:1:2", 100), 1);
	assert_int_equal(sw_registry__see(r, s1, "file:1:2", 200), 2);
	assert_int_equal(sw_registry__see(r, s1, "file:1:2", 300), 3);
	/* Same place, other secret; same secret, other place: both first. */
	assert_int_equal(sw_registry__see(r, s2, "file:1:2", 400), 1);
	assert_int_equal(sw_registry__see(r, s1, "file:1:3", 500), 1);
	assert_int_equal(sw_registry__size(r), 3);
	assert_int_equal(sw_registry__get(r, s1, "file:1:2", &e), 0);
	assert_int_equal(e.count, 3);
	assert_int_equal(e.first_seen, 100);
	assert_int_equal(e.last_seen, 300);
	assert_false(e.known);
	assert_int_equal(sw_registry__get(r, s2, "file:9:9", &e), -ENOENT);
	assert_int_equal(sw_registry__see(r, s1, "", 1), -EINVAL);
	assert_int_equal(sw_registry__see(r, s1, NULL, 1), -EINVAL);
	sw_registry__free(r);
	sw_registry__free(NULL);
}

static void test_known_places_never_first(void **state)
{
	struct ctx *c = *state;
	struct sw_registry_entry e;
	struct sw_registry *r = sw_registry__open(c->path, key_a, NULL);

	assert_non_null(r);
	assert_int_equal(sw_registry__know(r, s1, "file:8:1"), 0);
	assert_int_equal(sw_registry__see(r, s1, "file:8:1", 10), 2);
	assert_int_equal(sw_registry__get(r, s1, "file:8:1", &e), 0);
	assert_true(e.known);
	/* Knowing a place already seen keeps its count. */
	assert_int_equal(sw_registry__see(r, s2, "tty", 10), 1);
	assert_int_equal(sw_registry__know(r, s2, "tty"), 0);
	assert_int_equal(sw_registry__see(r, s2, "tty", 11), 2);
	sw_registry__free(r);
}

static void test_persist_across_reopen(void **state)
{
	struct ctx *c = *state;
	struct sw_registry_entry e;
	struct sw_registry *r;
	struct stat st;
	int corrupt = -1;

	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(sw_registry__flush(r), 0); /* nothing changed: no file */
	assert_int_equal(stat(c->path, &st), -1);
	assert_int_equal(sw_registry__see(r, s1, "socket:tcp:10.0.0.1%3A443", 1000), 1);
	assert_int_equal(sw_registry__see(r, s1, "socket:tcp:10.0.0.1%3A443", 2000), 2);
	assert_int_equal(sw_registry__see(r, s2, "pipe:/usr/bin/agent", 3000), 1);
	assert_int_equal(sw_registry__know(r, s1, "file:1:1"), 0); /* not persisted */
	assert_int_equal(sw_registry__flush(r), 0);
	assert_int_equal(stat(c->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	sw_registry__free(r);

	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 0);
	assert_int_equal(sw_registry__size(r), 2);
	assert_int_equal(sw_registry__get(r, s1, "socket:tcp:10.0.0.1%3A443", &e), 0);
	assert_int_equal(e.count, 2);
	assert_int_equal(e.first_seen, 1000);
	assert_int_equal(e.last_seen, 2000);
	/* A restart does not re-alert: the next sighting continues the count. */
	assert_int_equal(sw_registry__see(r, s1, "socket:tcp:10.0.0.1%3A443", 4000), 3);
	assert_int_equal(sw_registry__see(r, s2, "pipe:/usr/bin/agent", 4000), 2);
	assert_int_equal(sw_registry__get(r, s1, "file:1:1", &e), -ENOENT);
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);

	/* No temp file is left behind. */
	{
		char tmp[160];

		snprintf(tmp, sizeof(tmp), "%s.tmp", c->path);
		assert_int_equal(stat(tmp, &st), -1);
	}
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(sw_registry__see(r, s1, "socket:tcp:10.0.0.1%3A443", 5000), 4);
	sw_registry__free(r);
}

static void test_corrupt_file_renamed_aside(void **state)
{
	struct ctx *c = *state;
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x0f, 0x12, 0x99, 0x01, 0x02};
	struct sw_registry *r;
	int corrupt = 0;

	write_bytes(c->path, garbage, sizeof(garbage));
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 1);
	assert_int_equal(sw_registry__size(r), 0);
	assert_int_equal(count_aside(c), 1);
	/* Works as new, and the rebuilt file is good. */
	assert_int_equal(sw_registry__see(r, s1, "tty", 5), 1);
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(corrupt, 0);
	assert_int_equal(sw_registry__see(r, s1, "tty", 6), 2);
	sw_registry__free(r);

	/* A second corruption in the same second gets its own name. */
	write_bytes(c->path, garbage, sizeof(garbage));
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(corrupt, 1);
	sw_registry__free(r);
	assert_int_equal(count_aside(c), 2);

	/* Truncated in the middle of a record: also corrupt, also survivable. */
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(sw_registry__see(r, s1, "pipe:/usr/bin/agent", 5), 1);
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);
	assert_int_equal(truncate(c->path, 20), 0);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 1);
	sw_registry__free(r);
}

static void pack_to(const char *path, Sprawl__Registry *m)
{
	size_t len = sprawl__registry__get_packed_size(m);
	uint8_t *buf = malloc(len + 1);

	sprawl__registry__pack(m, buf);
	write_bytes(path, buf, len);
	free(buf);
}

static void test_wrong_key_or_bad_entries(void **state)
{
	struct ctx *c = *state;
	Sprawl__Registry m = SPRAWL__REGISTRY__INIT;
	Sprawl__RegistryEntry e = SPRAWL__REGISTRY_ENTRY__INIT, *ep = &e;
	struct sw_registry *r;
	int corrupt = 0;

	/* Made under another key: the ids mean nothing under ours. */
	r = sw_registry__open(c->path, key_b, &corrupt);
	assert_int_equal(sw_registry__see(r, s1, "tty", 5), 1);
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 1);
	assert_int_equal(sw_registry__size(r), 0);
	assert_int_equal(sw_registry__see(r, s1, "tty", 6), 1);
	sw_registry__free(r);
	assert_int_equal(count_aside(c), 1);

	/* Well-formed protobuf, bad content: short secret id. */
	m.version = SW_REGISTRY_VERSION;
	m.key_id.data = (uint8_t *)key_a;
	m.key_id.len = SW_KEY_ID_BYTES;
	m.n_entry = 1;
	m.entry = &ep;
	e.secret_id.data = (uint8_t *)s1;
	e.secret_id.len = 3;
	e.artifact_key = "tty";
	e.count = 1;
	e.first_seen = e.last_seen = 1;
	pack_to(c->path, &m);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 1);
	sw_registry__free(r);

	/* Unknown version. */
	e.secret_id.len = SW_SECRET_ID_BYTES;
	m.version = 99;
	pack_to(c->path, &m);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(corrupt, 1);
	sw_registry__free(r);

	/* And the same entry under the right version and key loads. */
	m.version = SW_REGISTRY_VERSION;
	pack_to(c->path, &m);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_int_equal(corrupt, 0);
	assert_int_equal(sw_registry__see(r, s1, "tty", 7), 2);
	sw_registry__free(r);
}

static void test_symlink_not_followed(void **state)
{
	struct ctx *c = *state;
	struct sw_registry *r;
	int corrupt = 0;

	assert_int_equal(symlink("/etc/passwd", c->path), 0);
	r = sw_registry__open(c->path, key_a, &corrupt);
	assert_non_null(r);
	assert_int_equal(corrupt, 1);
	assert_int_equal(sw_registry__see(r, s1, "tty", 1), 1);
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);
}

static void test_bound_lru(void **state)
{
	struct ctx *c = *state;
	struct sw_registry *r = sw_registry__open(c->path, key_a, NULL);
	char key[32];
	int i;

	sw_registry__set_cap(r, 4);
	assert_int_equal(sw_registry__know(r, s1, "origin"), 0); /* pinned */
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "file:1:%d", i);
		assert_int_equal(sw_registry__see(r, s1, key, 10 + (uint64_t)i), 1);
	}
	assert_int_equal(sw_registry__size(r), 4);
	/* Touch file:1:0 so file:1:1 is the least recently seen. */
	assert_int_equal(sw_registry__see(r, s1, "file:1:0", 20), 2);
	assert_int_equal(sw_registry__see(r, s1, "file:1:9", 21), 1);
	assert_int_equal(sw_registry__size(r), 4);
	assert_int_equal(sw_registry__evictions(r), 1);
	assert_int_equal(sw_registry__get(r, s1, "file:1:1", NULL), -ENOENT);
	assert_int_equal(sw_registry__get(r, s1, "file:1:0", NULL), 0);
	assert_int_equal(sw_registry__get(r, s1, "origin", NULL), 0);
	/* Forgetting only ever re-alerts. */
	assert_int_equal(sw_registry__see(r, s1, "file:1:1", 22), 1);

	/* Pinned entries alone at the bound: new pairs are refused, loudly. */
	sw_registry__set_cap(r, 1);
	assert_int_equal(sw_registry__see(r, s2, "file:2:2", 30), -ENOSPC);
	assert_int_equal(sw_registry__size(r), 1);
	sw_registry__free(r);

	/* A file with more entries than the bound keeps the most recently seen. */
	r = sw_registry__open(c->path, key_a, NULL);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "file:3:%d", i);
		sw_registry__see(r, s2, key, 100 + (uint64_t)i);
	}
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);
	r = sw_registry__open(c->path, key_a, NULL);
	assert_int_equal(sw_registry__size(r), 10);
	sw_registry__free(r);
}

static void test_many_entries(void **state)
{
	struct ctx *c = *state;
	struct sw_registry *r = sw_registry__open(c->path, key_a, NULL);
	uint8_t sid[SW_SECRET_ID_BYTES] = {0};
	char key[48];
	int i;

	for (i = 0; i < 20000; i++) {
		sid[0] = (uint8_t)(i & 7);
		snprintf(key, sizeof(key), "file:%d:%d", i % 13, i);
		assert_int_equal(sw_registry__see(r, sid, key, 1 + (uint64_t)i), 1);
	}
	assert_int_equal(sw_registry__flush(r), 0);
	sw_registry__free(r);
	r = sw_registry__open(c->path, key_a, NULL);
	assert_int_equal(sw_registry__size(r), 20000);
	sid[0] = 3;
	assert_int_equal(sw_registry__see(r, sid, "file:1:19995", 1),
			 2); /* 19995 % 13 == 1, 19995 & 7 == 3 */
	sw_registry__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_then_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_known_places_never_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_renamed_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_or_bad_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
