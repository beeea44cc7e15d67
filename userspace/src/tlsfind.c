// SPDX-License-Identifier: Apache-2.0
/* TLS write entry points of an ELF file, for uprobes (see tlsfind.h). Everything read from the
 * file is outside data: every offset is checked against the mapping before it is used, every
 * walk has a bound. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tlsfind.h"

#define SYMS_MAX       (1u << 22)  /* symbols looked at per table */
#define STR_HITS_MAX   4	   /* copies of ssl_lib.cc's path we follow */
#define SITES_MAX      256	   /* ERR_put_error calls from ssl_lib.cc we read */
#define NOTES_MAX      64	   /* notes looked at per PT_NOTE */
#define SSL_WRITE_SPAN 100	   /* source lines SSL_write's four errors lie within */
#define FUNC_BACK_MAX  (64u << 10) /* bytes from a call back to its function's start */

/* BoringSSL error codes (include/openssl/err.h, ssl.h): stable, they are its ABI. */
#define ERR_LIB_SSL			  16
#define ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED 66
#define SSL_R_BAD_LENGTH		  111
#define SSL_R_SSL_HANDSHAKE_FAILURE	  215
#define SSL_R_UNINITIALIZED		  226

struct view {
	int fd;
	Elf *elf;
	const unsigned char *raw;
	size_t size;
	size_t phnum;
	int x86_64;
};

/* Bun builds of Claude Code whose SSL_write was placed by analysis (tools/tlsfind/README.md):
 * the sure path for the versions we pin; the pattern covers the others. */
static const struct {
	const char *build_id;
	unsigned long long offset;
} known_builds[] = {
	/* Claude Code 2.1.332 (claude.exe, Bun, BoringSSL): SSL_write at vaddr 0x3531300. */
	{"24889a915d13b00c65a2ee107976d2fea709352c", 0x3330300},
};

static const struct {
	const char *name;
	enum sw_tls_fn fn;
	const char *stack;
	int inner; /* takes the place of the same fn's other name: every caller passes it */
} wanted[] = {
	{"SSL_write", SW_TLS_SSL_WRITE, "openssl", 0},
	{"SSL_write_ex", SW_TLS_SSL_WRITE_EX, "openssl", 0},
	/* gnutls_record_send jumps to gnutls_record_send2 (3.6.3 on; gnutls_record_send_file
	 * calls send): hooked at send2, a caller of send2 itself is seen too. */
	{"gnutls_record_send", SW_TLS_GNUTLS_RECORD_SEND, "gnutls", 0},
	{"gnutls_record_send2", SW_TLS_GNUTLS_RECORD_SEND, "gnutls", 1},
};

static void view_close(struct view *v)
{
	if (v->elf)
		elf_end(v->elf);
	if (v->fd >= 0)
		close(v->fd);
	v->elf = NULL;
	v->fd = -1;
}

static int view_open(const char *path, struct view *v)
{
	GElf_Ehdr eh;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	if (!path)
		return -EINVAL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	v->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (v->fd < 0)
		return -errno;
	v->elf = elf_begin(v->fd, ELF_C_READ_MMAP, NULL);
	if (!v->elf || elf_kind(v->elf) != ELF_K_ELF || !gelf_getehdr(v->elf, &eh) ||
	    elf_getphdrnum(v->elf, &v->phnum) ||
	    !(v->raw = (const unsigned char *)elf_rawfile(v->elf, &v->size))) {
		view_close(v);
		return -ENOEXEC;
	}
	v->x86_64 = gelf_getclass(v->elf) == ELFCLASS64 && eh.e_machine == EM_X86_64;
	return 0;
}

/* The PT_LOAD holding x (a virtual address, or a file offset when by_off) with n bytes of the
 * file behind it, only executable ones when exec: 0 and *ph, or -ENOENT. */
static int load_of(const struct view *v, uint64_t x, int by_off, int exec, size_t n, GElf_Phdr *ph)
{
	size_t i;

	for (i = 0; i < v->phnum; i++) {
		uint64_t base;

		if (!gelf_getphdr(v->elf, (int)i, ph) || ph->p_type != PT_LOAD ||
		    (exec && !(ph->p_flags & PF_X)) || ph->p_offset > v->size ||
		    ph->p_filesz > v->size - ph->p_offset)
			continue;
		base = by_off ? ph->p_offset : ph->p_vaddr;
		if (x >= base && x - base < ph->p_filesz && ph->p_filesz - (x - base) >= n)
			return 0;
	}
	return -ENOENT;
}

/* A virtual address in an executable PT_LOAD to the file offset a uprobe takes. */
static int text_off(const struct view *v, uint64_t va, uint64_t *off)
{
	GElf_Phdr ph;

	if (load_of(v, va, 0, 1, 1, &ph))
		return -ENOENT;
	*off = va - ph.p_vaddr + ph.p_offset;
	return 0;
}

/* A virtual address to its n bytes in the file, or NULL. */
static const unsigned char *va_bytes(const struct view *v, uint64_t va, size_t n)
{
	GElf_Phdr ph;

	return load_of(v, va, 0, 0, n, &ph) ? NULL : v->raw + (va - ph.p_vaddr + ph.p_offset);
}

static int hook_at(const struct sw_tls_hook *out, size_t n, enum sw_tls_fn fn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (out[i].fn == fn)
			return (int)i;
	return -1;
}

static int has_fn(const struct sw_tls_hook *out, size_t n, enum sw_tls_fn fn)
{
	return hook_at(out, n, fn) >= 0;
}

static void put_hook(struct sw_tls_hook *h, enum sw_tls_fn fn, enum sw_tls_how how, uint64_t off,
		     const char *stack)
{
	memset(h, 0, sizeof(*h));
	h->fn = fn;
	h->how = how;
	h->offset = off;
	snprintf(h->stack, sizeof(h->stack), "%s", stack);
}

static size_t scan_symbols(const struct view *v, struct sw_tls_hook *out, size_t n, size_t max)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while (n < max && (scn = elf_nextscn(v->elf, scn))) {
		Elf_Data *data;
		size_t i, count;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		count = sh.sh_size / sh.sh_entsize;
		if (count > SYMS_MAX)
			count = SYMS_MAX;
		for (i = 0; i < count && n < max; i++) {
			GElf_Sym sym;
			const char *name;
			uint64_t off;
			size_t w;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			/* Functions only: an IFUNC's value is its resolver, not the function. */
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			name = elf_strptr(v->elf, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			for (w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++) {
				int at;

				if (strcmp(name, wanted[w].name) || text_off(v, sym.st_value, &off))
					continue;
				at = hook_at(out, n, wanted[w].fn);
				if (at >= 0 && !wanted[w].inner)
					continue;
				put_hook(&out[at >= 0 ? (size_t)at : n++], wanted[w].fn,
					 SW_TLS_BY_SYMBOL, off, wanted[w].stack);
			}
		}
	}
	return n;
}

/* The GNU build id from the PT_NOTE segments, as hex. */
static int note_build_id(const struct view *v, char *hex, size_t len)
{
	GElf_Phdr ph;
	size_t i;

	for (i = 0; i < v->phnum; i++) {
		uint64_t pos, end, align;
		unsigned k;

		if (!gelf_getphdr(v->elf, (int)i, &ph) || ph.p_type != PT_NOTE ||
		    ph.p_offset > v->size || ph.p_filesz > v->size - ph.p_offset)
			continue;
		align = ph.p_align == 8 ? 8 : 4;
		pos = ph.p_offset;
		end = ph.p_offset + ph.p_filesz;
		for (k = 0; k < NOTES_MAX && end - pos >= 12; k++) {
			uint32_t nh[3];
			uint64_t name, desc, next;
			size_t j;

			memcpy(nh, v->raw + pos, sizeof(nh));
			name = pos + 12;
			desc = name + ((nh[0] + align - 1) & ~(align - 1));
			next = desc + ((nh[1] + align - 1) & ~(align - 1));
			if (desc > end || next > end || next <= pos)
				break;
			if (nh[2] == NT_GNU_BUILD_ID && nh[0] == 4 &&
			    !memcmp(v->raw + name, "GNU", 4) && nh[1] > 0) {
				if (len < 2 * (size_t)nh[1] + 1)
					return -ENOSPC;
				for (j = 0; j < nh[1]; j++)
					snprintf(hex + 2 * j, 3, "%02x", v->raw[desc + j]);
				return 0;
			}
			pos = next;
		}
	}
	return -ENOENT;
}

static size_t scan_build_id(const struct view *v, struct sw_tls_hook *out, size_t n, size_t max)
{
	char hex[2 * 64 + 1];
	size_t i;

	if (n >= max || has_fn(out, n, SW_TLS_SSL_WRITE) || note_build_id(v, hex, sizeof(hex)))
		return n;
	for (i = 0; i < sizeof(known_builds) / sizeof(known_builds[0]); i++)
		if (!strcmp(hex, known_builds[i].build_id)) {
			put_hook(&out[n++], SW_TLS_SSL_WRITE, SW_TLS_BY_BUILD_ID,
				 known_builds[i].offset, "boringssl");
			break;
		}
	return n;
}

/* ---- The BoringSSL pattern (x86-64). ---- */

struct site {
	uint64_t func;
	uint32_t reason;
	uint32_t line;
};

static uint32_t rd32(const unsigned char *p)
{
	uint32_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* Where the string "...ssl/ssl_lib.cc" (BoringSSL's __FILE__) is mapped: up to max. */
static size_t find_file_strings(const struct view *v, uint64_t *va, size_t max)
{
	static const char tail[] = "/ssl/ssl_lib.cc"; /* with its NUL */
	const unsigned char *p = v->raw, *end = v->raw + v->size;
	GElf_Phdr ph;
	size_t n = 0;

	while (n < max && p < end) {
		const unsigned char *hit = memmem(p, (size_t)(end - p), tail, sizeof(tail));
		const unsigned char *start;
		unsigned back = 0;

		if (!hit)
			break;
		start = hit;
		while (start > v->raw && start[-1] >= 0x20 && start[-1] < 0x7f && back++ < 512)
			start--;
		if (!load_of(v, (uint64_t)(start - v->raw), 1, 0, 1, &ph))
			va[n++] = (uint64_t)(start - v->raw) - ph.p_offset + ph.p_vaddr;
		p = hit + sizeof(tail);
	}
	return n;
}

/* The start of the function holding va from .eh_frame_hdr's sorted table (the unwinder's own
 * map of functions), when an FDE covers va. */
static int func_of_eh(const struct view *v, uint64_t va, uint64_t *start)
{
	const unsigned char *hdr = NULL, *tab, *fde;
	uint64_t hdr_va = 0, count, lo, hi, fde_va;
	GElf_Phdr ph;
	size_t i;

	for (i = 0; i < v->phnum && !hdr; i++)
		if (gelf_getphdr(v->elf, (int)i, &ph) && ph.p_type == PT_GNU_EH_FRAME &&
		    ph.p_filesz >= 12 && ph.p_offset <= v->size &&
		    ph.p_filesz <= v->size - ph.p_offset) {
			hdr = v->raw + ph.p_offset;
			hdr_va = ph.p_vaddr;
		}
	/* version 1, fde_count udata4, table datarel|sdata4: what GNU ld and lld write. */
	if (!hdr || hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b || (hdr[1] & 0x0f) != 0x0b)
		return -ENOENT;
	count = rd32(hdr + 8);
	if (count == 0 || count > (ph.p_filesz - 12) / 8)
		return -ENOENT;
	tab = hdr + 12;
	lo = 0;
	hi = count;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (hdr_va + (int32_t)rd32(tab + 8 * mid) <= va)
			lo = mid;
		else
			hi = mid;
	}
	*start = hdr_va + (int32_t)rd32(tab + 8 * lo);
	if (*start > va)
		return -ENOENT;
	/* The FDE's pc_range (pcrel|sdata4 pc_begin, 4-byte range) must cover va. */
	fde_va = hdr_va + (int32_t)rd32(tab + 8 * lo + 4);
	fde = va_bytes(v, fde_va, 16);
	if (!fde || fde_va + 8 + (int32_t)rd32(fde + 8) != *start || va - *start >= rd32(fde + 12))
		return -ENOENT;
	return 0;
}

/* Where no FDE covers it (Bun's BoringSSL is built without unwind tables): the nearest
 * 16-byte aligned frame-pointer prologue (optional endbr64, push %rbp; mov %rsp,%rbp) at or
 * before va, within FUNC_BACK_MAX bytes. Bun keeps frame pointers. Whatever precedes it
 * (int3 or multi-byte nop padding) is not checked: a wrong start splits a function's calls,
 * and then SSL_write's four errors are not found together, so we miss rather than misplace. */
static int func_of(const struct view *v, const unsigned char *seg, uint64_t seg_va, size_t pos,
		   uint64_t *start)
{
	static const unsigned char push[4] = {0x55, 0x48, 0x89, 0xe5};
	static const unsigned char endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	uint64_t a;

	if (!func_of_eh(v, seg_va + pos, start))
		return 0;
	for (a = (seg_va + pos) & ~15ull; a > seg_va && seg_va + pos - a < FUNC_BACK_MAX; a -= 16) {
		const unsigned char *p = seg + (a - seg_va);

		if (!memcmp(p, endbr, 4))
			p += 4;
		if (!memcmp(p, push, 4)) {
			/* int3 padding between here and va: we walked out of va's function. */
			if (memmem(seg + (a - seg_va), pos - (a - seg_va), "\xcc\xcc", 2))
				return -ENOENT;
			*start = a;
			return 0;
		}
	}
	return -ENOENT;
}

/* One instruction of an OPENSSL_PUT_ERROR(SSL, reason) call's argument set-up at p (n bytes
 * there): its length, recording what it loads; 0 when it is none of those. */
static size_t arg_insn(const unsigned char *p, size_t n, struct site *s, int *lib)
{
	if (n >= 5 && p[0] == 0xbf) { /* mov $imm32,%edi: the library */
		*lib |= rd32(p + 1) == ERR_LIB_SSL;
		return 5;
	}
	if (n >= 5 && p[0] == 0xba) { /* mov $imm32,%edx: the reason */
		s->reason = rd32(p + 1);
		return 5;
	}
	if (n >= 6 && p[0] == 0x41 && p[1] == 0xb8) { /* mov $imm32,%r8d: the line */
		s->line = rd32(p + 2);
		return 6;
	}
	if (n >= 2 && (p[0] == 0x31 || p[0] == 0x33) && p[1] == 0xf6) /* xor %esi,%esi */
		return 2;
	if (n >= 3 && (p[0] & 0xf0) == 0x40 && (p[1] == 0x89 || p[1] == 0x8b) && (p[2] >> 6) == 3)
		return 3; /* mov between registers (saving something across the call) */
	if (n >= 2 && (p[0] == 0x89 || p[0] == 0x8b) && (p[1] >> 6) == 3)
		return 2;
	return 0;
}

/* Reads reason and line around a file-name load at pos (of insn_len bytes), decoding the
 * argument set-up forward up to the call and backward over what exactly precedes it, with
 * ERR_LIB_SSL (mov $16,%edi) among them. */
static int read_site(const unsigned char *seg, size_t seg_len, size_t pos, size_t insn_len,
		     struct site *s)
{
	size_t i = pos + insn_len, k, len;
	int lib = 0;

	s->reason = s->line = UINT32_MAX;
	for (k = 0; k < 8 && i < seg_len; k++, i += len) {
		len = arg_insn(seg + i, seg_len - i, s, &lib);
		if (!len)
			break;
	}
	/* Backward: only the fixed-length loads, each ending where the next one starts. */
	for (i = pos, k = 0; k < 8; k++) {
		if (i >= 6 && seg[i - 6] == 0x41 && seg[i - 5] == 0xb8 && s->line == UINT32_MAX)
			i -= arg_insn(seg + i - 6, 6, s, &lib);
		else if (i >= 5 && (seg[i - 5] == 0xba || seg[i - 5] == 0xbf))
			i -= arg_insn(seg + i - 5, 5, s, &lib);
		else if (i >= 2 && seg[i - 2] == 0x31 && seg[i - 1] == 0xf6)
			i -= 2;
		else
			break;
	}
	return lib && s->reason < 0x1000 && s->line < 0x100000 ? 0 : -ENOENT;
}

static void add_site(const struct view *v, const unsigned char *seg, size_t len, uint64_t seg_va,
		     size_t pos, size_t insn_len, struct site *sites, size_t *n)
{
	struct site s = {0};

	if (*n >= SITES_MAX || read_site(seg, len, pos, insn_len, &s) ||
	    func_of(v, seg, seg_va, pos, &s.func))
		return;
	sites[(*n)++] = s;
}

/* Every load of one of the file-name strings into %rcx (ERR_put_error's 4th argument) in the
 * executable segments: mov $imm32,%ecx (non-PIE) or lea disp(%rip),%rcx (PIE). */
static size_t collect_sites(const struct view *v, const uint64_t *str, size_t nstr,
			    struct site *sites)
{
	GElf_Phdr ph;
	size_t i, n = 0;

	for (i = 0; i < v->phnum; i++) {
		const unsigned char *seg, *p, *end;
		size_t len, k;

		if (!gelf_getphdr(v->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X) || ph.p_offset > v->size ||
		    ph.p_filesz > v->size - ph.p_offset)
			continue;
		seg = v->raw + ph.p_offset;
		len = ph.p_filesz;
		for (k = 0; k < nstr; k++) {
			unsigned char imm[5] = {0xb9};
			uint32_t lo = (uint32_t)str[k];

			if (str[k] > 0x7fffffff)
				continue;
			memcpy(imm + 1, &lo, 4);
			for (p = seg, end = seg + len; p < end;) {
				const unsigned char *hit = memmem(p, (size_t)(end - p), imm, 5);

				if (!hit)
					break;
				add_site(v, seg, len, ph.p_vaddr, (size_t)(hit - seg), 5, sites,
					 &n);
				p = hit + 5;
			}
		}
		for (p = seg, end = seg + len; p + 7 <= end;) {
			static const unsigned char lea[3] = {0x48, 0x8d, 0x0d};
			const unsigned char *hit = memmem(p, (size_t)(end - p), lea, 3);
			uint64_t tgt;

			if (!hit || hit + 7 > end)
				break;
			tgt = ph.p_vaddr + (uint64_t)(hit - seg) + 7 + (int32_t)rd32(hit + 3);
			for (k = 0; k < nstr; k++)
				if (tgt == str[k])
					add_site(v, seg, len, ph.p_vaddr, (size_t)(hit - seg), 7,
						 sites, &n);
			p = hit + 1;
		}
	}
	return n;
}

/* SSL_write: the one function whose errors from ssl_lib.cc are, in source order, SHOULD_NOT_
 * HAVE_BEEN_CALLED, UNINITIALIZED, SSL_HANDSHAKE_FAILURE, BAD_LENGTH (SSL_read and
 * SSL_do_handshake share some, never all four). Two different candidates: we do not guess. */
static int pattern_ssl_write(const struct view *v, uint64_t *func)
{
	static const uint32_t order[4] = {ERR_R_SHOULD_NOT_HAVE_BEEN_CALLED, SSL_R_UNINITIALIZED,
					  SSL_R_SSL_HANDSHAKE_FAILURE, SSL_R_BAD_LENGTH};
	struct site sites[SITES_MAX];
	uint64_t str[STR_HITS_MAX], found = 0;
	size_t nstr, n, i, j;
	int k;

	if (!v->x86_64)
		return -ENOENT;
	nstr = find_file_strings(v, str, STR_HITS_MAX);
	if (!nstr)
		return -ENOENT;
	n = collect_sites(v, str, nstr, sites);
	for (i = 0; i < n; i++) {
		uint32_t line[4] = {0};
		int ok = 1;

		if (sites[i].reason != order[0])
			continue;
		line[0] = sites[i].line;
		for (k = 1; k < 4; k++)
			for (j = 0; j < n; j++)
				if (sites[j].func == sites[i].func && sites[j].reason == order[k])
					line[k] = sites[j].line;
		for (k = 1; k < 4; k++)
			if (line[k] <= line[k - 1])
				ok = 0;
		if (!ok || line[3] - line[0] > SSL_WRITE_SPAN)
			continue;
		if (found && found != sites[i].func)
			return -ENOENT;
		found = sites[i].func;
	}
	if (!found)
		return -ENOENT;
	*func = found;
	return 0;
}

static size_t scan_pattern(const struct view *v, struct sw_tls_hook *out, size_t n, size_t max)
{
	uint64_t func, off;

	if (n >= max || has_fn(out, n, SW_TLS_SSL_WRITE) || pattern_ssl_write(v, &func) ||
	    text_off(v, func, &off))
		return n;
	put_hook(&out[n++], SW_TLS_SSL_WRITE, SW_TLS_BY_PATTERN, off, "boringssl");
	return n;
}

static size_t scan_view(const struct view *v, struct sw_tls_hook *out, size_t max, int pattern)
{
	size_t n = 0;

	if (!pattern)
		n = scan_build_id(v, out, scan_symbols(v, out, 0, max), max);
	return scan_pattern(v, out, n, max);
}

static int scan_path(const char *path, struct sw_tls_hook *out, size_t max, int pattern)
{
	struct view v;
	size_t n;
	int err;

	if (!out && max)
		return -EINVAL;
	err = view_open(path, &v);
	if (err)
		return err;
	n = scan_view(&v, out, max, pattern);
	view_close(&v);
	return (int)n;
}

int sw_tlsfind__scan(const char *path, struct sw_tls_hook *out, size_t max)
{
	return scan_path(path, out, max, 0);
}

int sw_tlsfind__scan_pattern(const char *path, struct sw_tls_hook *out, size_t max)
{
	return scan_path(path, out, max, 1);
}

int sw_tlsfind__build_id(const char *path, char *hex, size_t len)
{
	struct view v;
	int err;

	if (!hex)
		return -EINVAL;
	err = view_open(path, &v);
	if (err)
		return err;
	err = note_build_id(&v, hex, len);
	view_close(&v);
	return err;
}

static int has_bytes(const struct view *v, const char *s)
{
	return memmem(v->raw, v->size, s, strlen(s)) != NULL;
}

/* An SSL library linked in (s: a source file name its errors carry) with no SSL_write we find
 * to hook. */
static int ssl_unhooked(const struct view *v, const char *s)
{
	struct sw_tls_hook hooks[4];

	return has_bytes(v, s) &&
	       !has_fn(hooks, scan_view(v, hooks, sizeof(hooks) / sizeof(hooks[0]), 0),
		       SW_TLS_SSL_WRITE);
}

int sw_tlsfind__unhookable(const char *path, char *what, size_t len)
{
	const char *found = NULL;
	struct view v;
	int err;

	if (!what || !len)
		return -EINVAL;
	err = view_open(path, &v);
	if (err)
		return err;
	/* Go: the magic that opens .go.buildinfo (kept when section headers are stripped) and
	 * the package whose Conn.Write does the TLS in Go, not in any C library. */
	if (has_bytes(&v, "\xff Go buildinf:") && has_bytes(&v, "crypto/tls."))
		found = "go crypto/tls";
	/* rustls: the crate's own source paths in panic locations ("/rustls-0.23.x/src/"). */
	else if (has_bytes(&v, "/rustls-"))
		found = "rustls";
	else if (ssl_unhooked(&v, "/ssl/ssl_lib.cc"))
		found = "boringssl (unknown build)";
	/* OpenSSL linked in with no symbol to hook (a static, stripped curl). */
	else if (ssl_unhooked(&v, "ssl/record/rec_layer_s3.c"))
		found = "openssl (unknown build)";
	/* The JVM (HotSpot's libjvm: the structs its serviceability agent reads): Java's TLS
	 * (JSSE) is Java code, through no native function a uprobe could take. */
	else if (has_bytes(&v, "gHotSpotVMStructs"))
		found = "java (jsse)";
	view_close(&v);
	if (!found)
		return 0;
	snprintf(what, len, "%s", found);
	return 1;
}
