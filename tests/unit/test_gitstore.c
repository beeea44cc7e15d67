// SPDX-License-Identifier: Apache-2.0
/* Reading objects from a repository's object store (gitstore.c) against git itself: a loose
 * blob; the versions of a file after a repack made them deltas of one another (OFS_DELTA
 * chains); the same objects in a pack written without offsets (REF_DELTA) in another
 * repository; a repository that borrows them through objects/info/alternates; a missing
 * object, one over the bound, a damaged pack; the git dir of a process in a subdirectory of a
 * work tree. Every object is compared byte for byte with `git cat-file`. Needs git (make deps
 * installs it); skipped without it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitobj.h"
#include "gitstore.h"

#define VERSIONS 6

struct fx {
	char dir[64];
	char blob[VERSIONS][SW_GIT_ID_HEX]; /* the file's versions */
	char loose[SW_GIT_ID_HEX];	    /* a blob left loose */
};

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* The first line a command prints. */
static void out1(char *buf, size_t size, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(buf, (int)size, p));
	buf[strcspn(buf, "\n")] = 0;
	pclose(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int i, l;

	if (system("git --version >/dev/null 2>&1")) {
		free(f);
		*state = NULL;
		return 0;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw-test-gitstore.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(
		sh("cd %s && git init -q r && cd r && git config user.email t@t.invalid && "
		   "git config user.name t",
		   f->dir),
		0);
	/* A file of 300 lines, changed a line at a time: after a repack, deltas. */
	for (i = 0; i < VERSIONS; i++) {
		char path[128];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/r/f.txt", f->dir);
		fp = fopen(path, "w");
		assert_non_null(fp);
		for (l = 0; l < 300; l++)
			fprintf(fp, "line %d of version %d\n", l, l == 17 * i ? i : 0);
		fclose(fp);
		assert_int_equal(sh("cd %s/r && git add f.txt && git commit -qm v%d", f->dir, i),
				 0);
		out1(f->blob[i], sizeof(f->blob[i]), "git -C %s/r rev-parse HEAD:f.txt", f->dir);
	}
	assert_int_equal(sh("cd %s/r && git repack -q -a -d -f --depth=50 --window=50", f->dir), 0);
	/* Deltas they are: git says so. */
	assert_int_equal(sh("cd %s/r && git verify-pack -v .git/objects/pack/*.idx | "
			    "grep -q 'chain length = [2-9]'",
			    f->dir),
			 0);
	out1(f->loose, sizeof(f->loose),
	     "cd %s/r && printf 'loose one\\n' > l.txt && git hash-object -w l.txt", f->dir);
	/* The same objects, as REF_DELTAs (no --delta-base-offset), in a repository of their own;
	 * and one that borrows from the first. */
	assert_int_equal(sh("cd %s && git init -q --bare s.git && git -C r rev-list --objects "
			    "--all | git -C r pack-objects -q --window=50 --depth=50 "
			    "../s.git/objects/pack/pack >/dev/null",
			    f->dir),
			 0);
	assert_int_equal(sh("cd %s && git init -q --bare a.git && echo %s/r/.git/objects > "
			    "a.git/objects/info/alternates",
			    f->dir, f->dir),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f)
		sh("rm -rf '%s'", f->dir);
	free(f);
	return 0;
}

/* Reads id from gitdir and compares it with what git cat-file says of it in repo. */
static void same_as_git(const struct fx *f, const char *gitdir, const char *repo, const char *hex)
{
	uint8_t id[SW_GIT_ID_BYTES], *out = NULL, *want;
	char path[256], tname[16];
	size_t len = 0, wn;
	int type = 0;
	FILE *fp;

	assert_int_equal(sw_gitobj__parse_id(hex, 40, id), 0);
	snprintf(path, sizeof(path), "%s/%s", f->dir, gitdir);
	assert_int_equal(sw_gitstore__read(path, id, 1 << 20, &type, &out, &len), 0);
	out1(tname, sizeof(tname), "git -C %s/%s cat-file -t %s", f->dir, repo, hex);
	assert_string_equal(sw_gitobj__type_name(type), tname);
	snprintf(path, sizeof(path), "git -C %s/%s cat-file %s %s", f->dir, repo, tname, hex);
	fp = popen(path, "r");
	assert_non_null(fp);
	want = malloc(1 << 20);
	assert_non_null(want);
	wn = fread(want, 1, 1 << 20, fp);
	pclose(fp);
	assert_int_equal(len, wn);
	assert_memory_equal(out, want, len);
	free(want);
	free(out);
}

static void test_loose_and_ofs_chains(void **state)
{
	struct fx *f = *state;
	char commit[SW_GIT_ID_HEX];
	int i;

	if (!f)
		skip();
	same_as_git(f, "r/.git", "r", f->loose);
	for (i = 0; i < VERSIONS; i++)
		same_as_git(f, "r/.git", "r", f->blob[i]);
	/* Trees and commits too. */
	out1(commit, sizeof(commit), "git -C %s/r rev-parse HEAD", f->dir);
	same_as_git(f, "r/.git", "r", commit);
	out1(commit, sizeof(commit), "git -C %s/r rev-parse HEAD^{tree}", f->dir);
	same_as_git(f, "r/.git", "r", commit);
}

static void test_ref_deltas_and_alternates(void **state)
{
	struct fx *f = *state;
	int i;

	if (!f)
		skip();
	for (i = 0; i < VERSIONS; i++) {
		same_as_git(f, "s.git", "s.git", f->blob[i]);
		same_as_git(f, "a.git", "a.git", f->blob[i]);
	}
}

static void test_missing_big_damaged(void **state)
{
	struct fx *f = *state;
	uint8_t id[SW_GIT_ID_BYTES], *out = NULL;
	char path[256];
	size_t len;
	int type;

	if (!f)
		skip();
	snprintf(path, sizeof(path), "%s/r/.git", f->dir);
	memset(id, 0xab, sizeof(id));
	assert_int_equal(sw_gitstore__read(path, id, 1 << 20, &type, &out, &len), -ENOENT);
	assert_int_equal(sw_gitstore__read("/nonexistent/.git", id, 1 << 20, &type, &out, &len),
			 -ENOENT);
	/* Over the bound: the object (packed, and loose). */
	assert_int_equal(sw_gitobj__parse_id(f->blob[VERSIONS - 1], 40, id), 0);
	assert_int_equal(sw_gitstore__read(path, id, 100, &type, &out, &len), -EFBIG);
	assert_null(out);
	/* A pack whose bytes were overwritten: an error, never a wrong object. */
	assert_int_equal(sh("cd %s/s.git/objects/pack && chmod u+w *.pack && "
			    "for p in *.pack; do dd if=/dev/zero of=$p bs=1 seek=200 count=4000 "
			    "conv=notrunc 2>/dev/null; done",
			    f->dir),
			 0);
	snprintf(path, sizeof(path), "%s/s.git", f->dir);
	assert_true(sw_gitstore__read(path, id, 1 << 20, &type, &out, &len) < 0);
	assert_null(out);
}

static void test_gitdir_of_a_process(void **state)
{
	struct fx *f = *state;
	char sub[256], cwd[1024], got[1024], want[300];

	if (!f)
		skip();
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(sub, sizeof(sub), "%s/r/d/e", f->dir);
	assert_int_equal(sh("mkdir -p %s", sub), 0);
	assert_int_equal(chdir(sub), 0);
	assert_int_equal(sw_gitstore__gitdir_of(getpid(), got, sizeof(got)), 0);
	snprintf(want, sizeof(want), "%s/r/.git", f->dir);
	assert_string_equal(got, want);
	/* A bare repository is its own git dir. */
	snprintf(sub, sizeof(sub), "%s/s.git", f->dir);
	assert_int_equal(chdir(sub), 0);
	assert_int_equal(sw_gitstore__gitdir_of(getpid(), got, sizeof(got)), 0);
	assert_string_equal(got, sub);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(sw_gitstore__gitdir_of(getpid(), got, sizeof(got)), -ENOENT);
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loose_and_ofs_chains),
		cmocka_unit_test(test_ref_deltas_and_alternates),
		cmocka_unit_test(test_gitdir_of_a_process),
		cmocka_unit_test(test_missing_big_damaged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
