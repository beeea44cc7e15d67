// SPDX-License-Identifier: Apache-2.0
/* gitobj: where a path lies in a repository, loose and pack headers, deltas, trees, commits and
 * object ids (checked against ids git itself gives). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitobj.h"

static void test_classify(void **state)
{
	static const struct {
		const char *path;
		enum sw_git_place place;
		const char *gitdir;
	} cases[] = {
		{"/w/p/.git/objects/ab/tmp_obj_Xy12", SW_GIT_LOOSE, "/w/p/.git"},
		{"/w/p/.git/objects/ab/cdef0123", SW_GIT_LOOSE, "/w/p/.git"},
		{"/srv/r.git/objects/incoming-Q1w2/ab/tmp_obj_a", SW_GIT_LOOSE, "/srv/r.git"},
		{"/w/p/.git/objects/pack/tmp_pack_abc", SW_GIT_PACK, "/w/p/.git"},
		{"/w/p/.git/objects/pack/pack-0a1b.pack", SW_GIT_PACK, "/w/p/.git"},
		{"/srv/r.git/objects/incoming-Q1/pack/tmp_pack_z", SW_GIT_PACK, "/srv/r.git"},
		{"/srv/r.git/./objects/tmp_objdir-incoming-EUgz/10/cda4", SW_GIT_LOOSE,
		 "/srv/r.git"},
		{"/srv/r.git/./refs/heads/main", SW_GIT_REF, "/srv/r.git"},
		{"/w/p/.git/objects/pack/.tmp-1346-pack-b6c9.pack", SW_GIT_PACK, "/w/p/.git"},
		{"/w/p/.git/refs/heads/main.lock", SW_GIT_REF, "/w/p/.git"},
		{"/w/p/.git/objects/pack/pack-0a1b.idx", SW_GIT_NONE, ""},
		{"/w/p/.git/objects/info/packs", SW_GIT_NONE, ""},
		{"/w/p/.git/objects/zz/file", SW_GIT_NONE, ""},
		{"/w/p/src/main.c", SW_GIT_NONE, ""},
		{"/objects/ab/cd", SW_GIT_NONE, ""},
	};
	size_t i, gl;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sw_gitobj__classify(cases[i].path, strlen(cases[i].path), &gl),
				 cases[i].place);
		if (cases[i].place != SW_GIT_NONE) {
			assert_int_equal(gl, strlen(cases[i].gitdir));
			assert_memory_equal(cases[i].path, cases[i].gitdir, gl);
		}
	}
	assert_int_equal(sw_gitobj__repo_len("/w/p/.git/objects/ab/c", 9), 4);
	assert_int_equal(sw_gitobj__repo_len("/srv/r.git/objects/ab/c", 10), 10);
}

static void test_loose_header(void **state)
{
	int type;
	uint64_t size;

	(void)state;
	assert_int_equal(sw_gitobj__loose_hdr((const uint8_t *)"blob 12\0xx", 10, &type, &size), 8);
	assert_int_equal(type, SW_GIT_BLOB);
	assert_int_equal(size, 12);
	assert_int_equal(sw_gitobj__loose_hdr((const uint8_t *)"tree 1", 6, &type, &size), 0);
	assert_int_equal(sw_gitobj__loose_hdr((const uint8_t *)"bolb 1\0", 7, &type, &size),
			 -EINVAL);
	assert_int_equal(sw_gitobj__loose_hdr((const uint8_t *)"blob x\0", 7, &type, &size),
			 -EINVAL);
}

static void test_pack_header(void **state)
{
	/* blob of 300 bytes: 0b1_011_1100 (type 3, low bits 12), then 300 >> 4 = 18. */
	static const uint8_t blob[] = {0xbc, 0x12};
	/* OFS_DELTA of 5 bytes, base 200 back: 200 = ((0 + 1) << 7) | 72 -> 0x80, 0x48. */
	static const uint8_t ofs[] = {0x65, 0x80, 0x48};
	uint8_t base[SW_GIT_ID_BYTES], ref[1 + SW_GIT_ID_BYTES];
	uint64_t size, off;
	int type;

	(void)state;
	assert_int_equal(sw_gitobj__pack_hdr(blob, 2, &type, &size, &off, base), 2);
	assert_int_equal(type, SW_GIT_BLOB);
	assert_int_equal(size, 300);
	assert_int_equal(sw_gitobj__pack_hdr(blob, 1, &type, &size, &off, base), 0);
	assert_int_equal(sw_gitobj__pack_hdr(ofs, 3, &type, &size, &off, base), 3);
	assert_int_equal(type, SW_GIT_OFS_DELTA);
	assert_int_equal(size, 5);
	assert_int_equal(off, 200);
	assert_int_equal(sw_gitobj__pack_hdr(ofs, 2, &type, &size, &off, base), 0);
	ref[0] = 0x75;
	memset(ref + 1, 0xab, SW_GIT_ID_BYTES);
	assert_int_equal(sw_gitobj__pack_hdr(ref, 10, &type, &size, &off, base), 0);
	assert_int_equal(sw_gitobj__pack_hdr(ref, sizeof(ref), &type, &size, &off, base),
			 (int)sizeof(ref));
	assert_int_equal(type, SW_GIT_REF_DELTA);
	assert_int_equal(base[19], 0xab);
	ref[0] = 0x55; /* type 5 is reserved */
	assert_int_equal(sw_gitobj__pack_hdr(ref, sizeof(ref), &type, &size, &off, base), -EINVAL);
}

static void test_delta(void **state)
{
	const char *base = "the quick brown fox jumps over the lazy dog";
	/* src 43, dst 23: copy 10 bytes at 4 ("quick brow"), insert "n cat", copy 8 at 35. */
	const uint8_t d[] = {43, 23, 0x91, 4, 10, 5, 'n', ' ', 'c', 'a', 't', 0x91, 35, 8};
	uint8_t *out;
	size_t n;

	(void)state;
	assert_int_equal(sw_gitobj__delta((const uint8_t *)base, 43, d, sizeof(d), 1000, &out, &n),
			 0);
	assert_int_equal(n, 23);
	assert_memory_equal(out, "quick brown catlazy dog", 23);
	free(out);
	/* A copy out of the base, a wrong base size, a result over the bound. */
	{
		uint8_t bad[sizeof(d)];

		memcpy(bad, d, sizeof(d));
		bad[12] = 40;
		assert_int_equal(sw_gitobj__delta((const uint8_t *)base, 43, bad, sizeof(bad), 1000,
						  &out, &n),
				 -EINVAL);
		assert_int_equal(
			sw_gitobj__delta((const uint8_t *)base, 42, d, sizeof(d), 1000, &out, &n),
			-EINVAL);
		assert_int_equal(
			sw_gitobj__delta((const uint8_t *)base, 43, d, sizeof(d), 10, &out, &n),
			-EFBIG);
	}
}

static void count_entry(const uint8_t *id, void *ctx)
{
	(void)id;
	(*(int *)ctx)++;
}

static void test_tree_commit_ids(void **state)
{
	uint8_t tree[2 * (16 + SW_GIT_ID_BYTES)], id[SW_GIT_ID_BYTES];
	const char *commit = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor x\n";
	struct sw_gitid *g;
	char hex[SW_GIT_ID_HEX];
	size_t n = 0;
	int count = 0;

	(void)state;
	memcpy(tree + n, "100644 a.txt", 13);
	n += 13;
	memset(tree + n, 1, SW_GIT_ID_BYTES);
	n += SW_GIT_ID_BYTES;
	memcpy(tree + n, "40000 d", 8);
	n += 8;
	memset(tree + n, 2, SW_GIT_ID_BYTES);
	n += SW_GIT_ID_BYTES;
	assert_int_equal(sw_gitobj__tree(tree, n, count_entry, &count), 2);
	assert_int_equal(count, 2);
	assert_int_equal(sw_gitobj__tree(tree, n - 1, count_entry, &count), -EINVAL);
	assert_int_equal(sw_gitobj__commit_tree((const uint8_t *)commit, strlen(commit), id), 0);
	sw_gitobj__hex(id, hex);
	assert_string_equal(hex, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
	/* Ids git gives: the empty blob, and the blob "hello\n". */
	g = sw_gitid__new(SW_GIT_BLOB, 0);
	sw_gitid__final(g, id);
	sw_gitid__free(g);
	sw_gitobj__hex(id, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	g = sw_gitid__new_raw();
	sw_gitid__update(g, "blob 6\0hello\n", 13);
	sw_gitid__final(g, id);
	sw_gitid__free(g);
	sw_gitobj__hex(id, hex);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),	cmocka_unit_test(test_loose_header),
		cmocka_unit_test(test_pack_header),	cmocka_unit_test(test_delta),
		cmocka_unit_test(test_tree_commit_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
