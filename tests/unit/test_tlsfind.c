// SPDX-License-Identifier: Apache-2.0
/* TLS write entry points: symbols in the system's libssl, node and libgnutls (offsets checked
 * against where the dynamic loader maps them), binaries built here at run time (exported or
 * stripped functions, a BoringSSL look-alike for the pattern, Go and rustls markers), a
 * non-ELF file, and the real Claude Code and Codex CLI binaries when installed. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tlsfind.h"

#define LIBSSL	  "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define LIBGNUTLS "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"
#define NODE	  "/usr/bin/node"
/* Where tests/e2e/agents/install.sh puts the pinned agents (SPRAWL_CLAUDE / SPRAWL_CODEX
 * override). */
#define CACHE "/var/cache/sprawlwatch-test/npm"
#define CLAUDE_DEFAULT                                                                             \
	CACHE "/claude-code-2.1.332/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
#define CODEX_DEFAULT                                                                              \
	CACHE "/codex-0.171.0/node_modules/@openai/codex-linux-x64/vendor/"                        \
	      "x86_64-unknown-linux-musl/bin/codex"
#define CLAUDE_BUILD_ID	 "24889a915d13b00c65a2ee107976d2fea709352c"
#define CLAUDE_SSL_WRITE 0x3330300ull

static char dir[] = "/tmp/test_tlsfind.XXXXXX";

static const struct sw_tls_hook *find(const struct sw_tls_hook *h, int n, enum sw_tls_fn fn)
{
	int i;

	for (i = 0; i < n; i++)
		if (h[i].fn == fn)
			return &h[i];
	return NULL;
}

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The file offset the dynamic loader gave addr: its mapping in /proc/self/maps. */
static unsigned long long loader_offset(const void *addr)
{
	unsigned long long lo, hi, off, a = (uintptr_t)addr;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx %*s %llx", &lo, &hi, &off) == 3 && a >= lo && a < hi) {
			fclose(f);
			return a - lo + off;
		}
	fclose(f);
	fail_msg("no mapping holds %p", addr);
	return 0;
}

/* The offset by section headers (sh_addr -> sh_offset), the other way libbpf has used. */
static unsigned long long section_offset(const char *path, const char *name)
{
	unsigned long long res = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while (!res && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *s;

			gelf_getsym(d, (int)i, &sym);
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name) && sym.st_shndx != SHN_UNDEF) {
				Elf_Scn *in = elf_getscn(elf, sym.st_shndx);
				GElf_Shdr ish;

				assert_non_null(gelf_getshdr(in, &ish));
				res = sym.st_value - ish.sh_addr + ish.sh_offset;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return res;
}

static void check_lib(const char *path, const char *sym, enum sw_tls_fn fn, const char *stack)
{
	struct sw_tls_hook h[8];
	void *lib, *addr;
	int n;

	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	addr = dlsym(lib, sym);
	assert_non_null(addr);
	n = sw_tlsfind__scan(path, h, 8);
	assert_true(n >= 1);
	assert_non_null(find(h, n, fn));
	assert_int_equal(find(h, n, fn)->how, SW_TLS_BY_SYMBOL);
	assert_string_equal(find(h, n, fn)->stack, stack);
	assert_int_equal(find(h, n, fn)->offset, loader_offset(addr));
	dlclose(lib);
}

static void test_libssl(void **state)
{
	struct sw_tls_hook h[8];
	char what[64];

	check_lib(LIBSSL, "SSL_write", SW_TLS_SSL_WRITE, "openssl");
	check_lib(LIBSSL, "SSL_write_ex", SW_TLS_SSL_WRITE_EX, "openssl");
	assert_int_equal(sw_tlsfind__scan(LIBSSL, h, 8), 2);
	assert_null(find(h, 2, SW_TLS_GNUTLS_RECORD_SEND));
	/* max bounds what is stored. */
	assert_int_equal(sw_tlsfind__scan(LIBSSL, h, 1), 1);
	assert_int_equal(sw_tlsfind__scan(LIBSSL, NULL, 0), 0);
	assert_int_equal(sw_tlsfind__unhookable(LIBSSL, what, sizeof(what)), 0);
}

static void test_libgnutls(void **state)
{
	struct sw_tls_hook h[8];

	/* At gnutls_record_send2: gnutls_record_send jumps there, and a caller of send2 is seen. */
	check_lib(LIBGNUTLS, "gnutls_record_send2", SW_TLS_GNUTLS_RECORD_SEND, "gnutls");
	assert_int_equal(sw_tlsfind__scan(LIBGNUTLS, h, 8), 1);
}

static void test_node(void **state)
{
	struct sw_tls_hook h[8];
	char what[64];
	int n;

	if (access(NODE, R_OK)) {
		print_message("test_tlsfind: %s absent: node skipped\n", NODE);
		skip();
	}
	n = sw_tlsfind__scan(NODE, h, 8);
	assert_int_equal(n, 2);
	assert_non_null(find(h, n, SW_TLS_SSL_WRITE));
	assert_int_equal(find(h, n, SW_TLS_SSL_WRITE)->offset, section_offset(NODE, "SSL_write"));
	assert_int_equal(find(h, n, SW_TLS_SSL_WRITE_EX)->offset,
			 section_offset(NODE, "SSL_write_ex"));
	assert_int_equal(find(h, n, SW_TLS_SSL_WRITE)->how, SW_TLS_BY_SYMBOL);
	assert_int_equal(sw_tlsfind__unhookable(NODE, what, sizeof(what)), 0);
}

/* A program that exports SSL_write and gnutls_record_send (-rdynamic) and prints the file
 * offsets its own loader gave them; stripped, the .dynsym still names them. */
static void test_synthetic_exported(void **state)
{
	static const char src[] =
		"#include <stdio.h>\n#include <stdint.h>\n"
		"__attribute__((noinline)) int SSL_write(void *s, const void *b, int n)"
		" { (void)s; (void)b; return n + 1; }\n"
		"__attribute__((noinline)) long gnutls_record_send(void *s, const void *b, long n)"
		" { (void)s; (void)b; return n + 2; }\n"
		"static unsigned long long off(const void *p) { unsigned long long lo, hi, o;"
		" char l[512]; FILE *f = fopen(\"/proc/self/maps\", \"r\");"
		" while (fgets(l, sizeof l, f)) if (sscanf(l, \"%llx-%llx %*s %llx\", &lo, &hi, &o)"
		" == 3 && (uintptr_t)p >= lo && (uintptr_t)p < hi) return (uintptr_t)p - lo + o;"
		" return 0; }\n"
		"int main(void) { printf(\"%llu %llu\\n\", off((void *)SSL_write),"
		" off((void *)gnutls_record_send)); return 0; }\n";
	unsigned long long want_ssl = 0, want_gnutls = 0;
	struct sw_tls_hook h[8];
	char path[PATH_MAX], out[PATH_MAX], what[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/exported.c", dir);
	write_file(path, src);
	assert_int_equal(sh("cc -O2 -rdynamic -o %s/exported %s && strip %s/exported && "
			    "%s/exported > %s/exported.out",
			    dir, path, dir, dir, dir),
			 0);
	snprintf(out, sizeof(out), "%s/exported.out", dir);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu %llu", &want_ssl, &want_gnutls), 2);
	fclose(f);
	snprintf(path, sizeof(path), "%s/exported", dir);
	n = sw_tlsfind__scan(path, h, 8);
	assert_int_equal(n, 2);
	assert_int_equal(find(h, n, SW_TLS_SSL_WRITE)->offset, want_ssl);
	assert_int_equal(find(h, n, SW_TLS_GNUTLS_RECORD_SEND)->offset, want_gnutls);
	assert_int_equal(find(h, n, SW_TLS_GNUTLS_RECORD_SEND)->how, SW_TLS_BY_SYMBOL);
	assert_string_equal(find(h, n, SW_TLS_GNUTLS_RECORD_SEND)->stack, "gnutls");
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 0);

	/* Not exported and stripped: nothing names them, nothing is found, nothing claimed. */
	snprintf(path, sizeof(path), "%s/exported.c", dir);
	assert_int_equal(sh("cc -O2 -o %s/hidden %s && strip %s/hidden", dir, path, dir), 0);
	snprintf(path, sizeof(path), "%s/hidden", dir);
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 0);
	assert_int_equal(sw_tlsfind__scan_pattern(path, h, 8), 0);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 0);
}

/* A BoringSSL look-alike: ssl/ssl_lib.cc's SSL_write error calls (library, reason, __FILE__,
 * __LINE__) in its real order, beside an SSL_read with some of the same errors; built with
 * clang like Bun, stripped. The pattern must find the write function's offset, which the
 * program prints from its own mapping. */
static const char boring_src[] =
	"#include <stdio.h>\n#include <stdint.h>\n"
	"struct ssl { void *quic; void *hs; int ok; };\n"
	"volatile int sink;\n"
	"__attribute__((noinline)) void ERR_put_error(int l, int u, int r, const char *f,"
	" unsigned n) { sink = l + u + r + (int)n + f[0]; }\n"
	"#define PUT(r) ERR_put_error(16, 0, r, __FILE__, __LINE__)\n"
	"__attribute__((noinline)) int hs(struct ssl *s) { return sink + s->ok; }\n"
	"__attribute__((noinline)) int rd(struct ssl *s, void *b, int n) {\n"
	"  if (s->quic) { PUT(66); return -1; }\n"
	"  if (!s->hs) { PUT(226); return -1; }\n"
	"  if (hs(s) == 0) { PUT(215); return -1; }\n"
	"  return n + (int)(uintptr_t)b; }\n"
	"__attribute__((noinline)) int wr(struct ssl *s, const void *b, int n) {\n"
	"  if (s->quic) { PUT(66); return -1; }\n"
	"  if (!s->hs) { PUT(226); return -1; }\n"
	"  %s\n"
	"  if (n < 0) { PUT(111); return -1; }\n"
	"  return n + (int)(uintptr_t)b; }\n"
	"static unsigned long long off(const void *p) { unsigned long long lo, hi, o;"
	" char l[512]; FILE *f = fopen(\"/proc/self/maps\", \"r\");"
	" while (fgets(l, sizeof l, f)) if (sscanf(l, \"%%llx-%%llx %%*s %%llx\", &lo, &hi, &o)"
	" == 3 && (uintptr_t)p >= lo && (uintptr_t)p < hi) return (uintptr_t)p - lo + o;"
	" return 0; }\n"
	"int main(int c, char **v) { struct ssl s = {0, v, c}; printf(\"%%llu\\n\","
	" off((void *)wr)); sink = rd(&s, v, c) + wr(&s, v, c); return 0; }\n";

static unsigned long long build_boring(const char *name, const char *flags, int complete)
{
	unsigned long long want = 0;
	char src[4096], path[PATH_MAX];
	FILE *f;

	snprintf(src, sizeof(src), boring_src,
		 complete ? "if (hs(s) == 0) { PUT(215); return -1; }" : "");
	snprintf(path, sizeof(path), "%s/vendor/boringssl/ssl", dir);
	assert_int_equal(sh("mkdir -p %s", path), 0);
	snprintf(path, sizeof(path), "%s/vendor/boringssl/ssl/ssl_lib.cc", dir);
	write_file(path, src);
	/* Compiled from ../../vendor/... as Bun's build does, so __FILE__ reads like it. */
	assert_int_equal(sh("cd %s/vendor/boringssl/ssl && clang -x c -O2 -fno-omit-frame-pointer "
			    "%s -o %s/%s ../../../vendor/boringssl/ssl/ssl_lib.cc && "
			    "strip %s/%s && %s/%s > %s/%s.out",
			    dir, flags, dir, name, dir, name, dir, name, dir, name),
			 0);
	snprintf(path, sizeof(path), "%s/%s.out", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &want), 1);
	fclose(f);
	return want;
}

static void check_boring(const char *name, const char *flags)
{
	unsigned long long want = build_boring(name, flags, 1);
	struct sw_tls_hook h[8];
	char path[PATH_MAX], what[64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 1);
	assert_int_equal(h[0].fn, SW_TLS_SSL_WRITE);
	assert_int_equal(h[0].how, SW_TLS_BY_PATTERN);
	assert_string_equal(h[0].stack, "boringssl");
	assert_int_equal(h[0].offset, want);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 0);
}

static void test_boring_pattern(void **state)
{
	if (sh("command -v clang >/dev/null")) {
		print_message("test_tlsfind: no clang: BoringSSL pattern skipped\n");
		skip();
	}
	check_boring("boring_nopie", "-fno-pie -no-pie"); /* mov $str,%ecx */
	check_boring("boring_pie", "-fpie -pie");	  /* lea str(%rip) */
	check_boring("boring_nounwind", "-fno-pie -no-pie -fno-asynchronous-unwind-tables"
					" -fno-unwind-tables"); /* prologue */
}

/* BoringSSL linked in but SSL_write's four errors are not all there: we say we cannot. */
static void test_boring_unknown(void **state)
{
	struct sw_tls_hook h[8];
	char path[PATH_MAX], what[64];

	if (sh("command -v clang >/dev/null")) {
		print_message("test_tlsfind: no clang: BoringSSL unknown build skipped\n");
		skip();
	}
	build_boring("boring_unknown", "-fno-pie -no-pie", 0);
	snprintf(path, sizeof(path), "%s/boring_unknown", dir);
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 0);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 1);
	assert_string_equal(what, "boringssl (unknown build)");
	/* what is cut to len, NUL-terminated. */
	assert_int_equal(sw_tlsfind__unhookable(path, what, 6), 1);
	assert_string_equal(what, "borin");
}

static void test_go_and_rustls(void **state)
{
	char path[PATH_MAX], what[64];

	snprintf(path, sizeof(path), "%s/go.c", dir);
	write_file(path, "__attribute__((section(\".go.buildinfo\"), used)) static const char b[] ="
			 " \"\\xff Go buildinf:\\x08\\x02\";\n"
			 "const char *t = \"crypto/tls.(*Conn).Write\";\n"
			 "int main(void) { return t[0] == 0; }\n");
	assert_int_equal(sh("cc -O2 -o %s/go %s", dir, path), 0);
	snprintf(path, sizeof(path), "%s/go", dir);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 1);
	assert_string_equal(what, "go crypto/tls");

	snprintf(path, sizeof(path), "%s/jvm.c", dir);
	write_file(path, "const char *gHotSpotVMStructs = \"vm\";\nint main(void) { return 0; }\n");
	assert_int_equal(sh("cc -O2 -shared -fPIC -o %s/libjvm.so %s", dir, path), 0);
	snprintf(path, sizeof(path), "%s/libjvm.so", dir);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 1);
	assert_string_equal(what, "java (jsse)");

	snprintf(path, sizeof(path), "%s/rust.c", dir);
	write_file(path, "const char *p = \"/root/.cargo/registry/src/index.crates.io-1/"
			 "rustls-0.23.46/src/conn.rs\";\nint main(void) { return p[0] == 0; }\n");
	assert_int_equal(sh("cc -O2 -o %s/rust %s && strip %s/rust", dir, path, dir), 0);
	snprintf(path, sizeof(path), "%s/rust", dir);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 1);
	assert_string_equal(what, "rustls");
}

/* OpenSSL linked in statically and stripped (a static curl): no SSL_write to hook, so we say we
 * cannot (its error file names give it away); the same program linked to libssl.so.3 has
 * nothing of its own to say. */
static void test_openssl_static(void **state)
{
	struct sw_tls_hook h[8];
	char path[PATH_MAX], what[64];

	if (access("/usr/lib/x86_64-linux-gnu/libssl.a", R_OK)) {
		print_message("test_tlsfind: no libssl.a: static OpenSSL skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/ossl.c", dir);
	write_file(path, "#include <openssl/ssl.h>\n"
			 "int main(int argc, char **argv) {\n"
			 "  SSL_CTX *c = SSL_CTX_new(TLS_client_method());\n"
			 "  SSL *s = SSL_new(c);\n"
			 "  return argc > 5 ? SSL_write(s, argv[0], 1) : 0;\n}\n");
	assert_int_equal(sh("cc -O2 -static -s -o %s/ossl_static %s -lssl -lcrypto -pthread "
			    "2>/dev/null",
			    dir, path),
			 0);
	assert_int_equal(sh("cc -O2 -o %s/ossl_dyn %s -lssl -lcrypto", dir, path), 0);
	snprintf(path, sizeof(path), "%s/ossl_static", dir);
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 0);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 1);
	assert_string_equal(what, "openssl (unknown build)");
	snprintf(path, sizeof(path), "%s/ossl_dyn", dir);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 0);
}

static void test_errors(void **state)
{
	struct sw_tls_hook h[8];
	char path[PATH_MAX], what[64];

	snprintf(path, sizeof(path), "%s/not_elf", dir);
	write_file(path, "#!/bin/sh\necho not an ELF file\n");
	assert_int_equal(sw_tlsfind__scan(path, h, 8), -ENOEXEC);
	assert_int_equal(sw_tlsfind__scan_pattern(path, h, 8), -ENOEXEC);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), -ENOEXEC);
	assert_int_equal(sw_tlsfind__build_id(path, what, sizeof(what)), -ENOEXEC);
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "");
	assert_int_equal(sw_tlsfind__scan(path, h, 8), -ENOEXEC);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(sw_tlsfind__scan(path, h, 8), -ENOENT);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), -ENOENT);
	assert_int_equal(sw_tlsfind__scan(NULL, h, 8), -EINVAL);
	assert_int_equal(sw_tlsfind__scan(LIBSSL, NULL, 8), -EINVAL);
	assert_int_equal(sw_tlsfind__unhookable(LIBSSL, NULL, 0), -EINVAL);
}

static const char *claude_path(void)
{
	const char *p = getenv("SPRAWL_CLAUDE");

	return p && *p ? p : CLAUDE_DEFAULT;
}

/* SPRAWL_CODEX is the npm launcher (node); the Rust binary is in the platform package. */
static const char *codex_path(char *buf, size_t len)
{
	const char *p = getenv("SPRAWL_CODEX");
	char real[PATH_MAX], *cut;

	if (!p || !*p || !realpath(p, real))
		return CODEX_DEFAULT;
	cut = strstr(real, "/node_modules/@openai/codex/");
	if (!cut)
		return CODEX_DEFAULT;
	*cut = 0;
	if (snprintf(buf, len,
		     "%s/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/"
		     "bin/codex",
		     real) >= (int)len)
		return CODEX_DEFAULT;
	return buf;
}

static void test_claude(void **state)
{
	const char *path = claude_path();
	struct sw_tls_hook h[8];
	char what[64], id[128];

	if (access(path, R_OK)) {
		print_message("test_tlsfind: %s absent: Claude Code skipped\n", path);
		skip();
	}
	assert_int_equal(sw_tlsfind__build_id(path, id, sizeof(id)), 0);
	if (strcmp(id, CLAUDE_BUILD_ID)) {
		print_message("test_tlsfind: claude.exe build %s is not the pinned one\n", id);
		fail();
	}
	assert_int_equal(sw_tlsfind__build_id(path, id, 10), -ENOSPC);
	/* The build-id table, and the pattern on its own, agree. */
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 1);
	assert_int_equal(h[0].fn, SW_TLS_SSL_WRITE);
	assert_int_equal(h[0].how, SW_TLS_BY_BUILD_ID);
	assert_string_equal(h[0].stack, "boringssl");
	assert_int_equal(h[0].offset, CLAUDE_SSL_WRITE);
	assert_int_equal(sw_tlsfind__scan_pattern(path, h, 8), 1);
	assert_int_equal(h[0].how, SW_TLS_BY_PATTERN);
	assert_int_equal(h[0].offset, CLAUDE_SSL_WRITE);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 0);
}

/* Another Bun build (SPRAWL_BUN, e.g. npm's @oven/bun-linux-x64 bun 1.4.5): not in the table,
 * so only the pattern can place SSL_write (tests/tlsfind/verify_uprobe.sh checks it live). */
static void test_other_bun(void **state)
{
	const char *path = getenv("SPRAWL_BUN");
	struct sw_tls_hook h[8];
	char what[64];

	if (!path || !*path) {
		print_message("test_tlsfind: SPRAWL_BUN unset: other Bun build skipped\n");
		skip();
	}
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 1);
	assert_int_equal(h[0].fn, SW_TLS_SSL_WRITE);
	assert_int_equal(h[0].how, SW_TLS_BY_PATTERN);
	assert_string_equal(h[0].stack, "boringssl");
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 0);
}

static void test_codex(void **state)
{
	char buf[PATH_MAX], what[64];
	const char *path = codex_path(buf, sizeof(buf));
	struct sw_tls_hook h[8];

	if (access(path, R_OK)) {
		print_message("test_tlsfind: %s absent: Codex CLI skipped\n", path);
		skip();
	}
	assert_int_equal(sw_tlsfind__scan(path, h, 8), 0);
	assert_int_equal(sw_tlsfind__unhookable(path, what, sizeof(what)), 1);
	assert_string_equal(what, "rustls");
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return sh("rm -rf %s", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libssl),	       cmocka_unit_test(test_libgnutls),
		cmocka_unit_test(test_node),	       cmocka_unit_test(test_synthetic_exported),
		cmocka_unit_test(test_boring_pattern), cmocka_unit_test(test_boring_unknown),
		cmocka_unit_test(test_go_and_rustls),  cmocka_unit_test(test_openssl_static),
		cmocka_unit_test(test_errors),	       cmocka_unit_test(test_claude),
		cmocka_unit_test(test_other_bun),      cmocka_unit_test(test_codex),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
