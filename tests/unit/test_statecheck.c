// SPDX-License-Identifier: Apache-2.0
/* Damaged state at the daemon's start: a truncated set and a flipped byte run with a warning
 * naming the set's file; a replaced key refuses the start; a key missing beside an existing
 * set refuses without making a new key; a damaged key refuses. Secrets are made at run time. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "secretset.h"
#include "statecheck.h"
#include "testutil.h"

static char dir[] = "/tmp/sw-statecheck-XXXXXX";
static char key_path[256], set_path[256];
static char msg[2048];

static int setup(void **state)
{
	if (sodium_init() < 0 || !mkdtemp(dir))
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/key", dir);
	snprintf(set_path, sizeof(set_path), "%s/secrets.pb", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(key_path);
	unlink(set_path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
}

/* A fresh key and a saved set of two secrets made at run time; returns the file's bytes. */
static uint8_t *fresh_state(size_t *len)
{
	struct sw_secretset *set = sw_secretset__new();
	struct rng r = {42};
	struct sw_secret s;
	struct sw_key key;
	uint8_t v[40], *buf;
	struct stat st;
	int i, fd;

	unlink(key_path);
	unlink(set_path);
	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), 0);
	for (i = 0; i < 2; i++) {
		memset(&s, 0, sizeof(s));
		gen_secret(&r, GEN_BASE62, v, sizeof(v));
		assert_int_equal(sw_fingerprint__secret(&key, v, sizeof(v), &s), 0);
		snprintf(s.name, sizeof(s.name), "STATE_%d", i);
		assert_int_equal(sw_secretset__put(set, &s), 0);
	}
	assert_int_equal(sw_secretset__save(set, set_path, &key), 0);
	sw_secretset__free(set);
	assert_int_equal(stat(set_path, &st), 0);
	buf = malloc(st.st_size);
	fd = open(set_path, O_RDONLY);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

/* The key as the daemon would load it, then the set: the verdict at start. */
static enum sw_state_verdict start(void)
{
	struct sw_secretset *set = NULL;
	struct sw_key key;
	int e;

	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), 0);
	e = sw_secretset__load(set_path, &key, &set);
	sw_secretset__free(set);
	msg[0] = 0;
	return sw_statecheck__set(e, 1, set_path, key_path, msg, sizeof(msg));
}

static void test_intact(void **state)
{
	size_t len;
	uint8_t *buf = fresh_state(&len);

	assert_int_equal(start(), SW_STATE_OK);
	free(buf);
}

static void test_truncated_set_warns(void **state)
{
	size_t len, cut;
	uint8_t *buf = fresh_state(&len);
	char want[512];

	snprintf(want, sizeof(want), "secret set %s is truncated, altered", set_path);
	for (cut = 0; cut < len; cut += 1 + len / 17) {
		write_file(set_path, buf, cut);
		assert_int_equal(start(), SW_STATE_WARN);
		assert_non_null(strstr(msg, set_path));
		assert_non_null(strstr(msg, "NO registered secret is tracked"));
	}
	write_file(set_path, buf, len / 2);
	assert_int_equal(start(), SW_STATE_WARN);
	assert_non_null(strstr(msg, want));
	write_file(set_path, buf, 0);
	assert_int_equal(start(), SW_STATE_WARN);
	assert_non_null(strstr(msg, "is empty (0 bytes)"));
	free(buf);
}

static void test_flipped_byte_warns(void **state)
{
	size_t len, i;
	uint8_t *buf = fresh_state(&len);

	for (i = 0; i < len; i += 1 + len / 23) {
		buf[i] ^= 0x10;
		write_file(set_path, buf, len);
		buf[i] ^= 0x10;
		assert_int_equal(start(), SW_STATE_WARN);
		assert_non_null(strstr(msg, set_path));
		assert_non_null(strstr(msg, "restore it from a backup"));
	}
	/* At a reload the previous set stays in use, and the message says so. */
	assert_int_equal(sw_statecheck__set(-EBADMSG, 0, set_path, key_path, msg, sizeof(msg)),
			 SW_STATE_WARN);
	assert_non_null(strstr(msg, "the secrets loaded before stay tracked"));
	free(buf);
}

static void test_key_replaced_refuses(void **state)
{
	uint8_t other[SW_KEY_BYTES];
	size_t len;
	uint8_t *buf = fresh_state(&len);

	randombytes_buf(other, sizeof(other));
	write_file(key_path, other, sizeof(other));
	assert_int_equal(start(), SW_STATE_REFUSE);
	assert_non_null(strstr(msg, set_path));
	assert_non_null(strstr(msg, "the key was replaced"));
	assert_non_null(strstr(msg, key_path));
	/* After start (a set from another host copied in), the running set stays: a warning. */
	assert_int_equal(sw_statecheck__set(-EKEYREJECTED, 0, set_path, key_path, msg, sizeof(msg)),
			 SW_STATE_WARN);
	free(buf);
}

static void test_key_missing_with_set_refuses(void **state)
{
	struct sw_key key;
	struct stat st;
	size_t len;
	uint8_t *buf = fresh_state(&len);

	assert_int_equal(unlink(key_path), 0);
	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), -ENOKEY);
	assert_int_equal(stat(key_path, &st), -1); /* no new key was made */
	assert_non_null(strstr(msg, "the key is missing but the secret set"));
	assert_non_null(strstr(msg, set_path));
	/* With no set either, a first start makes the key. */
	assert_int_equal(unlink(set_path), 0);
	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), 0);
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(buf);
}

static void test_key_damaged_refuses(void **state)
{
	uint8_t k[SW_KEY_BYTES + 1];
	struct sw_key key;
	size_t len;
	uint8_t *buf = fresh_state(&len);

	memset(k, 7, sizeof(k));
	write_file(key_path, k, 20);
	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "this file is 20"));
	write_file(key_path, k, sizeof(k));
	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), -EBADMSG);
	write_file(key_path, k, SW_KEY_BYTES);
	assert_int_equal(chmod(key_path, 0644), 0);
	assert_int_equal(sw_statecheck__key(key_path, set_path, &key, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "mode 644"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_truncated_set_warns),
		cmocka_unit_test(test_flipped_byte_warns),
		cmocka_unit_test(test_key_replaced_refuses),
		cmocka_unit_test(test_key_missing_with_set_refuses),
		cmocka_unit_test(test_key_damaged_refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
