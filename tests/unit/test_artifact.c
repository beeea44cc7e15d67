// SPDX-License-Identifier: Apache-2.0
/* Artifact type names and canonical keys: one key per place, never two places per key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "artifact.h"

static struct sw_artifact art;

static const char *key_of(const struct sw_artifact *a)
{
	static char buf[SW_ARTIFACT_KEY_MAX];
	size_t n = sw_artifact__key(a, buf, sizeof(buf));

	assert_int_equal(n, strlen(buf));
	return buf;
}

static void reset(uint8_t type)
{
	memset(&art, 0, sizeof(art));
	art.type = type;
}

static void test_type_names(void **state)
{
	assert_string_equal(sw_artifact__type_name(SW_ART_FILE), "file");
	assert_string_equal(sw_artifact__type_name(SW_ART_SOCKET), "socket");
	assert_string_equal(sw_artifact__type_name(SW_ART_EXEC_ARG), "exec_arg");
	assert_string_equal(sw_artifact__type_name(SW_ART_EXEC_ENV), "exec_env");
	assert_string_equal(sw_artifact__type_name(SW_ART_PIPE), "pipe");
	assert_string_equal(sw_artifact__type_name(SW_ART_TTY), "tty");
	assert_string_equal(sw_artifact__type_name(SW_ART_TLS), "tls");
	assert_string_equal(sw_artifact__type_name(SW_ART__COUNT), "unknown");
}

static void test_keys_per_type(void **state)
{
	reset(SW_ART_FILE);
	art.dev = 2049;
	art.ino = 131074;
	snprintf(art.path, sizeof(art.path), "/a/b");
	assert_string_equal(key_of(&art), "file:2049:131074:0");
	/* A file is its inode: renaming it does not make a new place. */
	snprintf(art.path, sizeof(art.path), "/c/d");
	assert_string_equal(key_of(&art), "file:2049:131074:0");
	/* A reused inode number with a new generation is a new place. */
	art.gen = 77;
	assert_string_equal(key_of(&art), "file:2049:131074:77");
	art.gen = 0;

	reset(SW_ART_SOCKET);
	snprintf(art.proto, sizeof(art.proto), "tcp");
	snprintf(art.peer, sizeof(art.peer), "10.0.0.1:443");
	assert_string_equal(key_of(&art), "socket:tcp:10.0.0.1%3A443");

	reset(SW_ART_EXEC_ARG);
	snprintf(art.path, sizeof(art.path), "/usr/bin/curl");
	art.index = 4;
	assert_string_equal(key_of(&art), "exec_arg:/usr/bin/curl");

	reset(SW_ART_EXEC_ENV);
	snprintf(art.path, sizeof(art.path), "/usr/bin/node");
	snprintf(art.name, sizeof(art.name), "TOKEN");
	assert_string_equal(key_of(&art), "exec_env:/usr/bin/node:TOKEN");

	reset(SW_ART_PIPE);
	art.reader_pid = 77;
	snprintf(art.reader_exe, sizeof(art.reader_exe), "/usr/local/bin/claude");
	assert_string_equal(key_of(&art), "pipe:/usr/local/bin/claude");

	reset(SW_ART_TTY);
	snprintf(art.path, sizeof(art.path), "/dev/pts/1");
	assert_string_equal(key_of(&art), "tty");

	reset(SW_ART_TLS);
	snprintf(art.peer, sizeof(art.peer), "[::1]:443");
	snprintf(art.sni, sizeof(art.sni), "api.example.com");
	assert_string_equal(key_of(&art), "tls:[%3A%3A1]%3A443:api.example.com");
}

/* Separators inside fields cannot forge another key. */
static void test_keys_unambiguous(void **state)
{
	char k1[SW_ARTIFACT_KEY_MAX], k2[SW_ARTIFACT_KEY_MAX];
	size_t i;

	reset(SW_ART_EXEC_ENV);
	snprintf(art.path, sizeof(art.path), "/bin/a:b");
	snprintf(art.name, sizeof(art.name), "c");
	sw_artifact__key(&art, k1, sizeof(k1));
	snprintf(art.path, sizeof(art.path), "/bin/a");
	snprintf(art.name, sizeof(art.name), "b:c");
	sw_artifact__key(&art, k2, sizeof(k2));
	assert_string_not_equal(k1, k2);

	/* Escapes themselves are escaped. */
	reset(SW_ART_PIPE);
	snprintf(art.reader_exe, sizeof(art.reader_exe), "/x%%3A");
	assert_string_equal(key_of(&art), "pipe:/x%253A");

	/* Keys are printable ASCII whatever the bytes: controls, spaces, UTF-8, invalid bytes. */
	reset(SW_ART_PIPE);
	snprintf(art.reader_exe, sizeof(art.reader_exe), "/x y\n\x01\xff\xc3\xa9#");
	assert_string_equal(key_of(&art), "pipe:/x%20y%0A%01%FF%C3%A9%23");
	sw_artifact__key(&art, k1, sizeof(k1));
	for (i = 0; k1[i]; i++)
		assert_true(k1[i] > 0x20 && k1[i] < 0x7f);
}

/* Too long for the buffer: a prefix plus a digest of the whole key, never a bare cut. */
static void test_long_keys_digest(void **state)
{
	char k1[SW_ARTIFACT_KEY_MAX], k2[SW_ARTIFACT_KEY_MAX], k3[SW_ARTIFACT_KEY_MAX];
	char small[80];
	size_t n1, n2;

	reset(SW_ART_EXEC_ARG);
	/* Every byte escapes to three: the key is three times the path. */
	memset(art.path, ':', sizeof(art.path) - 2);
	art.path[sizeof(art.path) - 2] = 'A';
	n1 = sw_artifact__key(&art, k1, sizeof(k1));
	art.path[sizeof(art.path) - 2] = 'B';
	n2 = sw_artifact__key(&art, k2, sizeof(k2));
	assert_int_equal(n1, strlen(k1));
	assert_true(n1 < sizeof(k1));
	assert_true(n2 < sizeof(k2));
	assert_string_not_equal(k1, k2); /* they differ only in the last byte */
	assert_non_null(strchr(k1, '#'));
	art.path[sizeof(art.path) - 2] = 'A';
	sw_artifact__key(&art, k3, sizeof(k3));
	assert_string_equal(k1, k3); /* and are stable */

	/* The cut never splits an escape. */
	assert_int_equal(strlen(strchr(k1, '#')), 33);
	assert_true(*(strchr(k1, '#') - 1) == 'A' || *(strchr(k1, '#') - 3) == '%');

	reset(SW_ART_PIPE);
	snprintf(art.reader_exe, sizeof(art.reader_exe), "/a/very/long/path/to/some/agent/binary");
	n1 = sw_artifact__key(&art, small, 40);
	assert_int_equal(n1, 39);
	assert_int_equal(strlen(small), 39);
	assert_int_equal(sw_artifact__key(&art, small, 10), 0);
	assert_string_equal(small, "");
	assert_int_equal(sw_artifact__key(&art, small, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_keys_per_type),
		cmocka_unit_test(test_keys_unambiguous),
		cmocka_unit_test(test_long_keys_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
