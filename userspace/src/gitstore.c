// SPDX-License-Identifier: Apache-2.0
/* See gitstore.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "gitstore.h"

#define ALT_MAX	    8	      /* object directories: the repository's and its alternates */
#define PACKS_MAX   1024      /* .idx files looked at per object directory */
#define ENVIRON_MAX (1 << 18) /* bytes of /proc/PID/environ read */
#define IDX_HDR	    (8 + 256 * 4)

struct store {
	char dir[ALT_MAX][PATH_MAX]; /* object directories */
	size_t n;
	size_t max;
};

static void wipe_free(uint8_t *b, size_t n)
{
	if (b) {
		sodium_memzero(b, n);
		free(b);
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Inflates the zlib stream at off of fd, which must make exactly want bytes. */
static int inflate_at(int fd, uint64_t off, size_t want, uint8_t **out)
{
	uint8_t in[65536], *buf = malloc(want + 1);
	/* Deflate never grows data by more than a few bytes per 16 KiB block. */
	uint64_t limit = want + want / 8 + 4096, taken = 0;
	z_stream zs;
	ssize_t n;
	int rc = Z_OK, e = 0;

	/* (The byte past want only shows a stream longer than its entry said.) */
	if (!buf)
		return -ENOMEM;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	zs.next_out = buf;
	zs.avail_out = want + 1;
	while (rc != Z_STREAM_END) {
		n = pread(fd, in, sizeof(in), (off_t)(off + taken));
		if (n <= 0 || taken > limit) {
			e = n < 0 ? -errno : -EINVAL;
			break;
		}
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		rc = inflate(&zs, Z_NO_FLUSH);
		taken += (uint64_t)n - zs.avail_in;
		if (rc != Z_OK && rc != Z_STREAM_END) {
			e = -EINVAL;
			break;
		}
		if (!zs.avail_out && rc != Z_STREAM_END) {
			e = -EINVAL; /* more than the entry said */
			break;
		}
	}
	if (!e && zs.total_out != want)
		e = -EINVAL;
	inflateEnd(&zs);
	if (e) {
		wipe_free(buf, want + 1);
		return e;
	}
	buf[want] = 0;
	*out = buf;
	return 0;
}

static int read_id(struct store *s, const uint8_t *id, int depth, int *type, uint8_t **out,
		   size_t *len);

/* The loose object id under object directory dir, if there. */
static int read_loose(const struct store *s, const char *dir, const uint8_t *id, int *type,
		      uint8_t **out, size_t *len)
{
	char hex[SW_GIT_ID_HEX], path[PATH_MAX + 64];
	uint8_t *z = NULL, *buf = NULL;
	size_t cap = 0;
	uint64_t size = 0;
	struct stat sb;
	z_stream zs;
	int fd, k, e = 0, rc;

	sw_gitobj__hex(id, hex);
	snprintf(path, sizeof(path), "%s/%.2s/%s", dir, hex, hex + 2);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	if ((uint64_t)sb.st_size > s->max + s->max / 8 + 4096) {
		close(fd);
		return -EFBIG;
	}
	z = malloc(sb.st_size ? sb.st_size : 1);
	if (!z || pread(fd, z, sb.st_size, 0) != sb.st_size) {
		e = z ? -EIO : -ENOMEM;
		goto out;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		e = -ENOMEM;
		goto out;
	}
	/* The header first ("<type> <size>\0", at most 32 bytes), then exactly size bytes. */
	cap = 32;
	buf = malloc(cap);
	zs.next_in = z;
	zs.avail_in = (uInt)sb.st_size;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	rc = buf ? inflate(&zs, Z_SYNC_FLUSH) : Z_MEM_ERROR;
	k = rc == Z_OK || rc == Z_STREAM_END ? sw_gitobj__loose_hdr(buf, zs.total_out, type, &size)
					     : -EINVAL;
	if (k <= 0) {
		e = buf ? -EINVAL : -ENOMEM;
	} else if (size > s->max) {
		e = -EFBIG;
	} else {
		uint8_t *nb = malloc(size + 1);
		size_t got = zs.total_out - (size_t)k;

		if (!nb) {
			e = -ENOMEM;
		} else {
			memcpy(nb, buf + k, got);
			zs.next_out = nb + got;
			zs.avail_out = (uInt)(size + 1 - got);
			rc = rc == Z_STREAM_END ? rc : inflate(&zs, Z_FINISH);
			if (rc != Z_STREAM_END || zs.total_out != (uLong)k + size) {
				wipe_free(nb, size);
				e = -EINVAL;
			} else {
				*out = nb;
				*len = size;
			}
		}
	}
	inflateEnd(&zs);
out:
	wipe_free(buf, cap);
	wipe_free(z, sb.st_size ? sb.st_size : 1);
	close(fd);
	return e;
}

/* The entry at off of pack fd (its chain applied). */
static int read_entry(struct store *s, int fd, uint64_t off, int depth, int *type, uint8_t **out,
		      size_t *len)
{
	uint8_t hdr[64], base_id[SW_GIT_ID_BYTES], *delta = NULL, *base = NULL;
	uint64_t size, ofs = 0;
	size_t blen = 0;
	ssize_t n;
	int k, e;

	if (depth > SW_GITSTORE_CHAIN_MAX)
		return -ELOOP;
	n = pread(fd, hdr, sizeof(hdr), (off_t)off);
	if (n <= 0)
		return -EINVAL;
	k = sw_gitobj__pack_hdr(hdr, (size_t)n, type, &size, &ofs, base_id);
	if (k <= 0)
		return -EINVAL;
	if (size > s->max)
		return -EFBIG;
	if (*type >= SW_GIT_COMMIT && *type <= SW_GIT_TAG) {
		e = inflate_at(fd, off + k, size, out);
		if (!e)
			*len = size;
		return e;
	}
	if (*type != SW_GIT_OFS_DELTA && *type != SW_GIT_REF_DELTA)
		return -EINVAL;
	if (*type == SW_GIT_OFS_DELTA && (!ofs || ofs > off))
		return -EINVAL;
	e = inflate_at(fd, off + k, size, &delta);
	if (e)
		return e;
	if (*type == SW_GIT_OFS_DELTA)
		e = read_entry(s, fd, off - ofs, depth + 1, type, &base, &blen);
	else
		e = read_id(s, base_id, depth + 1, type, &base, &blen);
	if (!e) {
		e = sw_gitobj__delta(base, blen, delta, size, s->max, out, len);
		wipe_free(base, blen);
	}
	wipe_free(delta, size);
	return e;
}

/* Where id is in the .idx at fd (version 2), or -ENOENT. */
static int idx_find(int fd, const uint8_t *id, uint64_t *off)
{
	uint8_t h[IDX_HDR], sha[SW_GIT_ID_BYTES], o[8];
	uint32_t lo, hi, mid, nobj, v;
	int c;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "\377tOc", 4) ||
	    be32(h + 4) != 2)
		return -EINVAL;
	nobj = be32(h + 8 + 255 * 4);
	lo = id[0] ? be32(h + 8 + (id[0] - 1) * 4) : 0;
	hi = be32(h + 8 + id[0] * 4);
	if (hi > nobj || lo > hi)
		return -EINVAL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pread(fd, sha, sizeof(sha), IDX_HDR + (off_t)mid * 20) != (ssize_t)sizeof(sha))
			return -EINVAL;
		c = memcmp(id, sha, sizeof(sha));
		if (!c) {
			if (pread(fd, o, 4, IDX_HDR + (off_t)nobj * 24 + (off_t)mid * 4) != 4)
				return -EINVAL;
			v = be32(o);
			if (!(v & 0x80000000u)) {
				*off = v;
				return 0;
			}
			/* A pack over 2 GiB: the offset is in the 8-byte table. */
			if (pread(fd, o, 8,
				  IDX_HDR + (off_t)nobj * 28 + (off_t)(v & 0x7fffffffu) * 8) != 8)
				return -EINVAL;
			*off = (uint64_t)be32(o) << 32 | be32(o + 4);
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

/* id in one of the packs of object directory dir. */
static int read_packed(struct store *s, const char *dir, const uint8_t *id, int depth, int *type,
		       uint8_t **out, size_t *len)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	uint64_t off = 0;
	size_t nl, seen = 0;
	int fd, pfd, e = -ENOENT, found;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/pack", dir);
	dp = opendir(path);
	if (!dp)
		return -ENOENT;
	while (e == -ENOENT && seen < PACKS_MAX && (de = readdir(dp))) {
		nl = strlen(de->d_name);
		if (nl < 5 || strcmp(de->d_name + nl - 4, ".idx"))
			continue;
		seen++;
		snprintf(path, sizeof(path), "%s/pack/%s", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		found = idx_find(fd, id, &off);
		close(fd);
		if (found)
			continue;
		memcpy(path + strlen(path) - 4, ".pack", 6);
		pfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (pfd < 0)
			continue;
		e = read_entry(s, pfd, off, depth, type, out, len);
		close(pfd);
	}
	closedir(dp);
	return e;
}

static int read_id(struct store *s, const uint8_t *id, int depth, int *type, uint8_t **out,
		   size_t *len)
{
	size_t i;
	int e, last = -ENOENT;

	if (depth > SW_GITSTORE_CHAIN_MAX)
		return -ELOOP;
	for (i = 0; i < s->n; i++) {
		e = read_loose(s, s->dir[i], id, type, out, len);
		if (e == -ENOENT)
			e = read_packed(s, s->dir[i], id, depth, type, out, len);
		if (e != -ENOENT)
			return e;
	}
	return last;
}

/* The repository's object directory and those objects/info/alternates names. */
static int open_store(struct store *s, const char *gitdir)
{
	char path[2 * PATH_MAX + 8], line[PATH_MAX];
	struct stat sb;
	FILE *f;
	size_t l;

	if (snprintf(s->dir[0], sizeof(s->dir[0]), "%s/objects", gitdir) >=
		    (int)sizeof(s->dir[0]) ||
	    stat(s->dir[0], &sb) || !S_ISDIR(sb.st_mode))
		return -ENOENT;
	s->n = 1;
	snprintf(path, sizeof(path), "%s/info/alternates", s->dir[0]);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (s->n < ALT_MAX && fgets(line, sizeof(line), f)) {
		l = strcspn(line, "\r\n");
		line[l] = 0;
		if (!l || line[0] == '#')
			continue;
		/* Relative to the object directory. */
		if (line[0] == '/')
			l = (size_t)snprintf(path, sizeof(path), "%s", line);
		else
			l = (size_t)snprintf(path, sizeof(path), "%s/%s", s->dir[0], line);
		if (l < sizeof(s->dir[0]))
			memcpy(s->dir[s->n++], path, l + 1);
	}
	fclose(f);
	return 0;
}

int sw_gitstore__read(const char *gitdir, const uint8_t id[SW_GIT_ID_BYTES], size_t max, int *type,
		      uint8_t **out, size_t *len)
{
	struct store *s = calloc(1, sizeof(*s));
	int e;

	if (!s)
		return -ENOMEM;
	s->max = max;
	*out = NULL;
	*len = 0;
	e = open_store(s, gitdir);
	if (!e)
		e = read_id(s, id, 0, type, out, len);
	free(s);
	return e;
}

static int is_dir(const char *p)
{
	struct stat sb;

	return !stat(p, &sb) && S_ISDIR(sb.st_mode);
}

/* A git dir: objects/ and HEAD in it. */
static int is_gitdir(const char *p)
{
	char a[PATH_MAX + 16];
	struct stat sb;

	snprintf(a, sizeof(a), "%s/objects", p);
	if (!is_dir(a))
		return 0;
	snprintf(a, sizeof(a), "%s/HEAD", p);
	return !stat(a, &sb);
}

int sw_gitstore__gitdir_of(pid_t pid, char *out, size_t size)
{
	char path[64], cwd[PATH_MAX], cand[PATH_MAX + 16], *env, *v = NULL, *slash;
	ssize_t n;
	size_t l;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	n = readlink(path, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return -ENOENT;
	cwd[n] = 0;
	/* GIT_DIR of its environment. */
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	env = malloc(ENVIRON_MAX + 1);
	f = env ? fopen(path, "re") : NULL;
	if (f) {
		l = fread(env, 1, ENVIRON_MAX, f);
		env[l] = 0;
		fclose(f);
		for (v = env; v < env + l; v += strlen(v) + 1)
			if (!strncmp(v, "GIT_DIR=", 8) && v[8])
				break;
		if (v < env + l) {
			v += 8;
			if (v[0] == '/')
				snprintf(cand, sizeof(cand), "%s", v);
			else
				snprintf(cand, sizeof(cand), "%s/%s", cwd, v);
			if (is_gitdir(cand) && strlen(cand) < size) {
				snprintf(out, size, "%s", cand);
				free(env);
				return 0;
			}
		}
	}
	free(env);
	/* The working directory and those above it. */
	for (;;) {
		snprintf(cand, sizeof(cand), "%s/.git", cwd[1] ? cwd : "");
		if (is_gitdir(cand)) {
			if (strlen(cand) >= size)
				return -ENAMETOOLONG;
			snprintf(out, size, "%s", cand);
			return 0;
		}
		/* A worktree's or submodule's .git file: "gitdir: X". */
		f = fopen(cand, "re");
		if (f) {
			char line[PATH_MAX];

			if (fgets(line, sizeof(line), f) && !strncmp(line, "gitdir: ", 8)) {
				int k;

				line[strcspn(line, "\r\n")] = 0;
				if (line[8] == '/')
					k = snprintf(cand, sizeof(cand), "%s", line + 8);
				else
					k = snprintf(cand, sizeof(cand), "%s/%s", cwd, line + 8);
				fclose(f);
				if (k < (int)sizeof(cand) && is_gitdir(cand) &&
				    strlen(cand) < size) {
					snprintf(out, size, "%s", cand);
					return 0;
				}
			} else {
				fclose(f);
			}
		}
		if (is_gitdir(cwd)) {
			if (strlen(cwd) >= size)
				return -ENAMETOOLONG;
			snprintf(out, size, "%s", cwd);
			return 0;
		}
		slash = strrchr(cwd, '/');
		if (!slash || slash == cwd)
			return -ENOENT;
		*slash = 0;
	}
}
