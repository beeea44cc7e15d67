// SPDX-License-Identifier: Apache-2.0
/* The secret-set file: proto SecretSet, authenticated with a keyed hash over its bytes,
 * replaced atomically. Holds fingerprints only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "secretset.h"
#include "secretset_priv.h"
#include "sprawl.pb-c.h"

#define FILE_MAX	(512u << 20) /* far above 100k secrets; bounds what a bad file makes us read */
#define SECRETS_MAX	(1u << 22)
#define PATTERN_LEN_MAX (6 * SW_SECRET_MAX) /* JSON \u00XX of every byte */
#define PATTERNS_MAX	32
#define DETECTOR_MAX	sizeof(((struct sw_secret *)0)->detector)

static const char mac_prefix[] = "sprawlwatch secretset mac v1";
/* An export file is authenticated under its own prefix: neither file passes for the other. */
static const char export_prefix[] = "sprawlwatch secret export mac v1";

struct sw_secretset *sw_secretset__new(void)
{
	return calloc(1, sizeof(struct sw_secretset));
}

void sw_secretset__free(struct sw_secretset *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		sw_secret__clear(&set->secrets[i]);
	free(set->secrets);
	sw_secretset_index_free(set);
	free(set);
}

/* The file is the packed SecretSet without its mac field, followed by that field (tag 4,
 * length 32): the keyed hash of every byte before it. Protobuf allows a field appended after
 * the others, so the file stays a plain SecretSet message, and any change to the bytes - even
 * one that decodes to the same values - is detected. */
#define MAC_TAG		0x22 /* field 4, wire type 2 */
#define MAC_FIELD_BYTES (2 + SW_FULL_HASH_BYTES)

static void file_mac_as(const struct sw_key *key, const char *prefix, size_t plen, const uint8_t *p,
			size_t n, uint8_t out[SW_FULL_HASH_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key->bytes, sizeof(key->bytes), SW_FULL_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)prefix, plen);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, out, SW_FULL_HASH_BYTES);
}

static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return -EBADMSG;
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

static int from_proto_pattern(const Sprawl__Pattern *pp, struct sw_pattern *p)
{
	size_t j, want;

	if (pp->variant >= SW_VAR__COUNT || pp->length < SW_WINDOW ||
	    pp->length > PATTERN_LEN_MAX || pp->full_hash.len != SW_FULL_HASH_BYTES)
		return -EBADMSG;
	want = pp->length - SW_WINDOW + 1;
	if (want > SW_STRIDE_MAX)
		want = SW_STRIDE_MAX;
	if (pp->n_window != want)
		return -EBADMSG;
	p->variant = (uint8_t)pp->variant;
	p->len = pp->length;
	memcpy(p->full_hash, pp->full_hash.data, SW_FULL_HASH_BYTES);
	p->nwin = (uint32_t)want;
	for (j = 0; j < want; j++)
		p->win[j] = pp->window[j];
	return 0;
}

static int from_proto_secret(const Sprawl__Secret *ps, struct sw_secret *s)
{
	size_t k;
	int rc;

	memset(s, 0, sizeof(*s));
	if (ps->id.len != SW_SECRET_ID_BYTES || !ps->name || !ps->name[0] ||
	    ps->value_length < SW_SECRET_MIN || ps->value_length > SW_SECRET_MAX ||
	    !ps->n_pattern || ps->n_pattern > PATTERNS_MAX)
		return -EBADMSG;
	memcpy(s->id, ps->id.data, SW_SECRET_ID_BYTES);
	if (copy_str(s->name, sizeof(s->name), ps->name) ||
	    copy_str(s->detector, DETECTOR_MAX, ps->detector))
		return -EBADMSG;
	rc = sw_secret__set_origin(s, ps->origin);
	if (rc)
		return rc == -ENOMEM ? rc : -EBADMSG;
	s->owner_uid = ps->owner_uid;
	s->origin_dev = ps->origin_dev;
	s->origin_ino = ps->origin_ino;
	s->created = ps->created;
	s->value_len = ps->value_length;
	s->learned = ps->learned ? 1 : 0;
	s->patterns = calloc(ps->n_pattern, sizeof(*s->patterns));
	if (!s->patterns) {
		sw_secret__clear(s);
		return -ENOMEM;
	}
	for (k = 0; k < ps->n_pattern; k++) {
		rc = from_proto_pattern(ps->pattern[k], &s->patterns[k]);
		if (rc) {
			sw_secret__clear(s);
			return rc;
		}
		s->npatterns++;
	}
	return 0;
}

static int read_file(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	size_t got = 0;
	uint8_t *buf;
	ssize_t r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (st.st_size < 0 || (uint64_t)st.st_size > FILE_MAX)
		return -EFBIG;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return r < 0 ? -errno : -EBADMSG;
		}
		got += (size_t)r;
	}
	*out = buf;
	*len = got;
	return 0;
}

/* Checks a packed file's key id, count and mac field (under prefix), then fills
 * the empty set from its secrets. */
static int unseal(const struct sw_key *key, const char *prefix, size_t plen, const uint8_t *buf,
		  size_t len, const ProtobufCBinaryData *key_id, Sprawl__Secret **secret, size_t n,
		  struct sw_secretset *set)
{
	uint8_t mac[SW_FULL_HASH_BYTES];
	size_t i;
	int rc;

	if (sodium_memcmp(key_id->data, key->id, SW_KEY_ID_BYTES))
		return -EKEYREJECTED;
	if (len < MAC_FIELD_BYTES || buf[len - MAC_FIELD_BYTES] != MAC_TAG ||
	    buf[len - MAC_FIELD_BYTES + 1] != SW_FULL_HASH_BYTES || n > SECRETS_MAX)
		return -EBADMSG;
	file_mac_as(key, prefix, plen, buf, len - MAC_FIELD_BYTES, mac);
	if (sodium_memcmp(mac, buf + len - SW_FULL_HASH_BYTES, SW_FULL_HASH_BYTES))
		return -EBADMSG;
	set->secrets = calloc(n ? n : 1, sizeof(*set->secrets));
	if (!set->secrets)
		return -ENOMEM;
	set->cap = n ? n : 1;
	for (i = 0; i < n; i++) {
		rc = from_proto_secret(secret[i], &set->secrets[i]);
		if (rc)
			return rc;
		set->n++;
	}
	return 0;
}

/* Reading a set file as it streams: the file is read through a bounded buffer and each Secret
 * is unpacked (protobuf-c) and converted on its own, so a set of 100,000 never exists as a
 * whole file in memory beside its unpacked protobuf (~280 MiB at 100,000: what kept the
 * daemon's peak over 400 MiB). protobuf-c has no streaming API: the SecretSet's own fields
 * (varint, length-delimited, fixed) are walked here, each Secret handed to protobuf-c. */
#define RD_BUF	     (1u << 20)
#define SECRET_BYTES (1u << 20) /* one Secret field, at most (a real one is < 16 KiB) */

struct rd {
	int fd;
	uint8_t *buf;
	size_t pos, len; /* unread bytes: buf[pos..len) */
	uint64_t left;	 /* bytes of the walked region not read into buf yet */
	crypto_generichash_state mac;
};

/* At least want bytes (want <= RD_BUF) at buf + pos, or -EBADMSG when the region ends first. */
static int rd_need(struct rd *r, size_t want)
{
	ssize_t n;

	if (r->len - r->pos >= want)
		return 0;
	if (want > RD_BUF || r->len - r->pos + r->left < want)
		return -EBADMSG;
	memmove(r->buf, r->buf + r->pos, r->len - r->pos);
	r->len -= r->pos;
	r->pos = 0;
	while (r->len < want) {
		size_t room = RD_BUF - r->len;

		if (room > r->left)
			room = (size_t)r->left;
		n = read(r->fd, r->buf + r->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG; /* shorter than it was at fstat */
		crypto_generichash_update(&r->mac, r->buf + r->len, (size_t)n);
		r->len += (size_t)n;
		r->left -= (uint64_t)n;
	}
	return 0;
}

static int rd_done(const struct rd *r)
{
	return r->pos == r->len && !r->left;
}

static int rd_varint(struct rd *r, uint64_t *v)
{
	size_t i, have;

	have = r->len - r->pos;
	if (have < 10 && rd_need(r, (size_t)(have + r->left < 10 ? have + r->left : 10)))
		return -EBADMSG;
	*v = 0;
	for (i = 0; i < 10 && r->pos + i < r->len; i++) {
		*v |= (uint64_t)(r->buf[r->pos + i] & 0x7f) << (7 * i);
		if (!(r->buf[r->pos + i] & 0x80)) {
			r->pos += i + 1;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Skips n bytes of the region (a field not used here). */
static int rd_skip(struct rd *r, uint64_t n)
{
	size_t step;
	int e;

	while (n) {
		step = n < RD_BUF ? (size_t)n : RD_BUF;
		e = rd_need(r, step);
		if (e)
			return e;
		r->pos += step;
		n -= step;
	}
	return 0;
}

/* What a walk does with each Secret. */
enum walk_mode {
	WALK_FULL, /* every secret with its patterns into set */
	WALK_LEAN, /* patterns kept for learned secrets only; all counted in st */
	WALK_EACH, /* every secret with its patterns to sink, checked against set */
};

struct walk {
	enum walk_mode mode;
	struct sw_secretset *set;
	const struct sw_secretset_sink *sink;
	struct sw_secretset_stats st;
	size_t seen;	/* Secret fields */
	int secret_err; /* the first secret that did not convert (reported after the mac) */
	uint32_t version;
	uint8_t key_id[SW_KEY_ID_BYTES];
	size_t key_id_len;
};

static int set_grow(struct sw_secretset *set)
{
	struct sw_secret *g;
	size_t cap;

	if (set->n < set->cap)
		return 0;
	cap = set->cap ? set->cap * 2 : 64;
	g = realloc(set->secrets, cap * sizeof(*g));
	if (!g)
		return -ENOMEM;
	set->secrets = g;
	set->cap = cap;
	return 0;
}

static void stats_add(struct sw_secretset_stats *st, const struct sw_secret *s)
{
	uint32_t k;

	for (k = 0; k < s->npatterns; k++) {
		if (s->patterns[k].len < st->minlen)
			st->minlen = s->patterns[k].len;
		if (s->patterns[k].len > st->maxlen)
			st->maxlen = s->patterns[k].len;
	}
	st->npat += s->npatterns;
}

/* One Secret field's bytes. -EBADMSG when protobuf-c cannot unpack it (the whole file is
 * then damaged); a secret that unpacks but does not convert is remembered in secret_err. */
static int walk_secret(struct walk *w, const uint8_t *p, size_t n)
{
	Sprawl__Secret *ps = sprawl__secret__unpack(NULL, n, p);
	struct sw_secret s;
	int rc = 0;

	if (!ps)
		return -EBADMSG;
	w->seen++;
	if (w->secret_err || w->seen > SECRETS_MAX)
		goto out;
	rc = from_proto_secret(ps, &s);
	if (rc) {
		w->secret_err = rc;
		rc = rc == -ENOMEM ? rc : 0;
		goto out;
	}
	switch (w->mode) {
	case WALK_EACH:
		/* the file read again must be the one the set was read from */
		if (w->seen > w->set->n ||
		    memcmp(w->set->secrets[w->seen - 1].id, s.id, SW_SECRET_ID_BYTES)) {
			rc = -ESTALE;
		} else {
			rc = w->sink->add(w->sink->ctx, &s, (uint32_t)(w->seen - 1));
		}
		sw_secret__clear(&s);
		break;
	case WALK_LEAN:
		stats_add(&w->st, &s);
		if (!s.learned) { /* its patterns stay on disk: the index has them */
			free(s.patterns);
			s.patterns = NULL;
			s.npatterns = 0;
		}
		/* fall through */
	case WALK_FULL:
		rc = set_grow(w->set);
		if (rc) {
			sw_secret__clear(&s);
			break;
		}
		w->set->secrets[w->set->n++] = s;
		break;
	}
out:
	sprawl__secret__free_unpacked(ps, NULL);
	return rc;
}

/* Walks the SecretSet in fd (st: its fstat) up to its mac field, hashing every byte before it,
 * then checks what the whole-message load checks, in the same order: the message well-formed,
 * version, key id, the mac field and mac, the count, each secret. */
static int walk_file(int fd, const struct stat *fst, const struct sw_key *key, struct walk *w)
{
	uint8_t tail[MAC_FIELD_BYTES], mac[SW_FULL_HASH_BYTES];
	uint64_t size = (uint64_t)fst->st_size, tag, n;
	struct rd r = {.fd = fd};
	int e, has_mac;

	w->st.minlen = SIZE_MAX;
	/* The mac field is the file's last 34 bytes: the walk stops before them. */
	has_mac = 0;
	if (size >= MAC_FIELD_BYTES &&
	    pread(fd, tail, sizeof(tail), (off_t)(size - MAC_FIELD_BYTES)) == sizeof(tail) &&
	    tail[0] == MAC_TAG && tail[1] == SW_FULL_HASH_BYTES)
		has_mac = 1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	r.left = has_mac ? size - MAC_FIELD_BYTES : size;
	r.buf = malloc(RD_BUF);
	if (!r.buf)
		return -ENOMEM;
	crypto_generichash_init(&r.mac, key->bytes, sizeof(key->bytes), SW_FULL_HASH_BYTES);
	crypto_generichash_update(&r.mac, (const uint8_t *)mac_prefix, sizeof(mac_prefix));
	e = 0;
	while (!e && !rd_done(&r)) {
		e = rd_varint(&r, &tag);
		if (e)
			break;
		switch (tag & 7) {
		case 0:
			e = rd_varint(&r, &n);
			if (!e && tag >> 3 == 1)
				w->version = (uint32_t)n;
			break;
		case 1:
			e = rd_skip(&r, 8);
			break;
		case 5:
			e = rd_skip(&r, 4);
			break;
		case 2:
			e = rd_varint(&r, &n);
			if (e)
				break;
			if (tag >> 3 == 2) {
				if (n > r.len - r.pos + r.left)
					e = -EBADMSG;
				else if ((w->key_id_len = (size_t)n) == SW_KEY_ID_BYTES &&
					 !(e = rd_need(&r, SW_KEY_ID_BYTES)))
					memcpy(w->key_id, r.buf + r.pos, SW_KEY_ID_BYTES);
				if (!e)
					e = rd_skip(&r, n);
			} else if (tag >> 3 == 3) {
				if (n > SECRET_BYTES)
					e = -EBADMSG;
				else
					e = rd_need(&r, (size_t)n);
				if (!e)
					e = walk_secret(w, r.buf + r.pos, (size_t)n);
				r.pos += e ? 0 : (size_t)n;
			} else {
				e = rd_skip(&r, n);
			}
			break;
		default:
			e = -EBADMSG;
		}
		/* a known field with another wire type: protobuf-c refuses it too */
		if (!e && (((tag >> 3 == 1) && (tag & 7) != 0) ||
			   ((tag >> 3 == 2 || tag >> 3 == 3) && (tag & 7) != 2) || tag >> 3 == 0))
			e = -EBADMSG;
	}
	if (!e)
		crypto_generichash_final(&r.mac, mac, SW_FULL_HASH_BYTES);
	sodium_memzero(&r.mac, sizeof(r.mac));
	free(r.buf);
	if (e)
		return e;
	if (w->version != SW_SECRETSET_VERSION)
		return -EPROTONOSUPPORT;
	if (w->key_id_len != SW_KEY_ID_BYTES)
		return -EBADMSG;
	if (sodium_memcmp(w->key_id, key->id, SW_KEY_ID_BYTES))
		return -EKEYREJECTED;
	if (!has_mac || w->seen > SECRETS_MAX)
		return -EBADMSG;
	if (sodium_memcmp(mac, tail + 2, SW_FULL_HASH_BYTES))
		return -EBADMSG;
	if (w->secret_err)
		return w->secret_err;
	if (w->mode == WALK_EACH && w->seen != w->set->n)
		return -ESTALE;
	if (w->st.minlen == SIZE_MAX)
		w->st.minlen = 0;
	return 0;
}

/* Opens path for a walk: -ENOENT passes through (the caller's empty set). */
static int open_set_file(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (!S_ISREG(st->st_mode) || st->st_size < 0 || (uint64_t)st->st_size > FILE_MAX) {
		close(fd);
		return S_ISREG(st->st_mode) ? -EFBIG : -EBADMSG;
	}
	return fd;
}

static int load_mode(const char *path, const struct sw_key *key, enum walk_mode mode,
		     const struct sw_secretset_sink *sink, struct sw_secretset **out)
{
	struct sw_secretset *set;
	struct walk w = {.mode = mode};
	struct stat st;
	int fd, rc;

	if (!path || !key || !out)
		return -EINVAL;
	*out = NULL;
	if (sodium_init() < 0)
		return -EIO;
	set = sw_secretset__new();
	if (!set)
		return -ENOMEM;
	fd = open_set_file(path, &st);
	if (fd == -ENOENT) { /* no file yet: the empty set */
		set->lean = mode == WALK_LEAN;
		if (sink && (rc = sink->begin(sink->ctx, &w.st))) {
			sw_secretset__free(set);
			return rc;
		}
		*out = set;
		return 0;
	}
	if (fd < 0) {
		sw_secretset__free(set);
		return fd;
	}
	w.set = set;
	set->lean = mode == WALK_LEAN;
	rc = walk_file(fd, &st, key, &w);
	if (!rc && set->n && set->n < set->cap) { /* 100,000 kept for as long as it is in force */
		struct sw_secret *fit = realloc(set->secrets, set->n * sizeof(*fit));

		if (fit) {
			set->secrets = fit;
			set->cap = set->n;
		}
	}
	if (!rc && sink) {
		/* The same file, read again (under the caller's lock, and a set file is only
		 * ever replaced, never rewritten): each secret with its patterns to the sink. */
		struct walk e = {.mode = WALK_EACH, .set = set, .sink = sink};

		rc = sink->begin(sink->ctx, &w.st);
		if (!rc)
			rc = walk_file(fd, &st, key, &e);
	}
	close(fd);
	if (rc) {
		sw_secretset__free(set);
		return rc;
	}
	*out = set;
	return 0;
}

int sw_secretset__load(const char *path, const struct sw_key *key, struct sw_secretset **out)
{
	return load_mode(path, key, WALK_FULL, NULL, out);
}

int sw_secretset__load_lean(const char *path, const struct sw_key *key,
			    const struct sw_secretset_sink *sink, struct sw_secretset **out)
{
	if (sink && (!sink->begin || !sink->add))
		return -EINVAL;
	return load_mode(path, key, WALK_LEAN, sink, out);
}

/* The set as proto structures that borrow its memory: nothing is copied. */
struct proto_set {
	Sprawl__Secret *sp, **spp;
	Sprawl__Pattern *pp, **ppp;
};

static void proto_free(struct proto_set *p)
{
	free(p->sp);
	free(p->spp);
	free(p->pp);
	free(p->ppp);
}

static int proto_build(const struct sw_secretset *set, struct proto_set *p)
{
	size_t i, k, np = 0, pi = 0;
	const struct sw_secret *s;

	for (i = 0; i < set->n; i++)
		np += set->secrets[i].npatterns;
	p->sp = calloc(set->n + 1, sizeof(*p->sp));
	p->spp = calloc(set->n + 1, sizeof(*p->spp));
	p->pp = calloc(np + 1, sizeof(*p->pp));
	p->ppp = calloc(np + 1, sizeof(*p->ppp));
	if (!p->sp || !p->spp || !p->pp || !p->ppp) {
		proto_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < set->n; i++) {
		Sprawl__Secret *sp = &p->sp[i];

		s = &set->secrets[i];
		sprawl__secret__init(sp);
		sp->id.data = (uint8_t *)s->id;
		sp->id.len = SW_SECRET_ID_BYTES;
		sp->name = (char *)s->name;
		sp->owner_uid = s->owner_uid;
		sp->origin = (char *)sw_secret__origin(s);
		sp->created = s->created;
		sp->value_length = s->value_len;
		sp->learned = s->learned ? 1 : 0;
		sp->detector = (char *)s->detector;
		sp->origin_dev = s->origin_dev;
		sp->origin_ino = s->origin_ino;
		sp->n_pattern = s->npatterns;
		sp->pattern = &p->ppp[pi];
		for (k = 0; k < s->npatterns; k++, pi++) {
			Sprawl__Pattern *pp = &p->pp[pi];

			sprawl__pattern__init(pp);
			pp->variant = s->patterns[k].variant;
			pp->length = s->patterns[k].len;
			pp->full_hash.data = (uint8_t *)s->patterns[k].full_hash;
			pp->full_hash.len = SW_FULL_HASH_BYTES;
			pp->n_window = s->patterns[k].nwin;
			pp->window = (uint64_t *)s->patterns[k].win;
			p->ppp[pi] = pp;
		}
		p->spp[i] = sp;
	}
	return 0;
}

/* Appends the mac field to the packed message in buf (room for MAC_FIELD_BYTES more). */
static size_t seal(const struct sw_key *key, const char *prefix, size_t plen, uint8_t *buf,
		   size_t len)
{
	uint8_t mac[SW_FULL_HASH_BYTES];

	file_mac_as(key, prefix, plen, buf, len, mac);
	buf[len] = MAC_TAG;
	buf[len + 1] = SW_FULL_HASH_BYTES;
	memcpy(buf + len + 2, mac, SW_FULL_HASH_BYTES);
	return len + MAC_FIELD_BYTES;
}

/* Writes buf to path atomically (temp file + fsync + rename), mode 0600. */
static int write_atomic(const char *path, const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		rc = -errno;
	if (!rc)
		rc = sw_fileio__write_all(fd, buf, len);
	return sw_fileio__replace(fd, tmp, path, rc);
}

/* Packs a set's message, seals it under prefix and writes it in place of path. */
static int pack_sealed(const ProtobufCMessage *m, const struct sw_key *key, const char *prefix,
		       size_t plen, const char *path)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len + MAC_FIELD_BYTES);
	int rc;

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(m, buf);
	len = seal(key, prefix, plen, buf, len);
	rc = write_atomic(path, buf, len);
	free(buf);
	return rc;
}

int sw_secretset__save(const struct sw_secretset *set, const char *path, const struct sw_key *key)
{
	Sprawl__SecretSet ps = SPRAWL__SECRET_SET__INIT;
	struct proto_set p = {0};
	int rc;

	/* a lean set lacks the patterns the file must hold */
	if (!set || !path || !key || set->lean)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	rc = proto_build(set, &p);
	if (rc)
		return rc;
	ps.version = SW_SECRETSET_VERSION;
	ps.key_id.data = (uint8_t *)key->id;
	ps.key_id.len = SW_KEY_ID_BYTES;
	ps.n_secret = set->n;
	ps.secret = p.spp;
	rc = pack_sealed(&ps.base, key, mac_prefix, sizeof(mac_prefix), path);
	proto_free(&p);
	return rc;
}

/* Copies the set file in fd (st) up to its mac field into out, hashing it twice: for its own
 * mac (checked: the copy is of an intact file) and into the new file's (next). */
static int copy_sealed(int fd, const struct stat *st, const struct sw_key *key, int out,
		       crypto_generichash_state *next)
{
	uint8_t tail[MAC_FIELD_BYTES], mac[SW_FULL_HASH_BYTES], *buf;
	crypto_generichash_state own;
	uint64_t left;
	ssize_t n;
	int e = 0;

	if ((uint64_t)st->st_size < MAC_FIELD_BYTES ||
	    pread(fd, tail, sizeof(tail), st->st_size - MAC_FIELD_BYTES) != sizeof(tail) ||
	    tail[0] != MAC_TAG || tail[1] != SW_FULL_HASH_BYTES)
		return -EBADMSG;
	buf = malloc(RD_BUF);
	if (!buf)
		return -ENOMEM;
	crypto_generichash_init(&own, key->bytes, sizeof(key->bytes), SW_FULL_HASH_BYTES);
	crypto_generichash_update(&own, (const uint8_t *)mac_prefix, sizeof(mac_prefix));
	left = (uint64_t)st->st_size - MAC_FIELD_BYTES;
	while (!e && left) {
		n = pread(fd, buf, left < RD_BUF ? (size_t)left : RD_BUF,
			  st->st_size - MAC_FIELD_BYTES - (off_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? -errno : -EBADMSG;
			break;
		}
		crypto_generichash_update(&own, buf, (size_t)n);
		crypto_generichash_update(next, buf, (size_t)n);
		e = sw_fileio__write_all(out, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	free(buf);
	crypto_generichash_final(&own, mac, sizeof(mac));
	if (!e && sodium_memcmp(mac, tail + 2, SW_FULL_HASH_BYTES))
		e = -EBADMSG;
	return e;
}

int sw_secretset__append(const char *path, const struct sw_key *key, const struct sw_secret *add,
			 size_t n)
{
	struct sw_secretset view = {.n = n, .cap = n, .secrets = (struct sw_secret *)add};
	crypto_generichash_state next;
	uint8_t *buf = NULL, mac[MAC_FIELD_BYTES];
	char tmp[PATH_MAX];
	struct proto_set p = {0};
	struct stat st;
	size_t i, len, cap = 0;
	int fd, out, e;

	if (!path || !key || (n && !add))
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	fd = open_set_file(path, &st);
	if (fd < 0)
		return fd;
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	out = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (out < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	e = fchmod(out, 0600) ? -errno : 0;
	crypto_generichash_init(&next, key->bytes, sizeof(key->bytes), SW_FULL_HASH_BYTES);
	crypto_generichash_update(&next, (const uint8_t *)mac_prefix, sizeof(mac_prefix));
	if (!e)
		e = copy_sealed(fd, &st, key, out, &next);
	close(fd);
	if (!e)
		e = proto_build(&view, &p);
	/* Each as one more `secret` field (3, length-delimited): a repeated field's elements
	 * may come anywhere in a message, so the file is the set with these at its end. */
	for (i = 0; !e && i < n; i++) {
		size_t sz = protobuf_c_message_get_packed_size(&p.spp[i]->base), k = 0;

		if (sz + 11 > cap) {
			uint8_t *g = realloc(buf, sz + 11);

			if (!g) {
				e = -ENOMEM;
				break;
			}
			buf = g;
			cap = sz + 11;
		}
		buf[k++] = 0x1a;
		for (len = sz; len >= 0x80; len >>= 7)
			buf[k++] = (uint8_t)(len | 0x80);
		buf[k++] = (uint8_t)len;
		k += protobuf_c_message_pack(&p.spp[i]->base, buf + k);
		crypto_generichash_update(&next, buf, k);
		e = sw_fileio__write_all(out, buf, k);
	}
	if (!e) {
		mac[0] = MAC_TAG;
		mac[1] = SW_FULL_HASH_BYTES;
		crypto_generichash_final(&next, mac + 2, SW_FULL_HASH_BYTES);
		e = sw_fileio__write_all(out, mac, sizeof(mac));
	}
	if (p.sp)
		proto_free(&p);
	free(buf);
	return sw_fileio__replace(out, tmp, path, e);
}

int sw_secretset__export(const struct sw_secretset *set, const char *path, const struct sw_key *key,
			 const char *host, int64_t now)
{
	Sprawl__SecretExport pe = SPRAWL__SECRET_EXPORT__INIT;
	struct proto_set p = {0};
	int rc;

	/* a lean set lacks the patterns the file must hold */
	if (!set || !path || !key || set->lean)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	rc = proto_build(set, &p);
	if (rc)
		return rc;
	pe.version = SW_SECRETSET_VERSION;
	pe.key_id.data = (uint8_t *)key->id;
	pe.key_id.len = SW_KEY_ID_BYTES;
	pe.n_secret = set->n;
	pe.secret = p.spp;
	pe.host = (char *)(host ? host : "");
	pe.exported = now;
	rc = pack_sealed(&pe.base, key, export_prefix, sizeof(export_prefix), path);
	proto_free(&p);
	return rc;
}

int sw_secretset__import(const char *path, const struct sw_key *key, struct sw_secretset **out,
			 struct sw_secretset_export_info *info)
{
	Sprawl__SecretExport *pe = NULL;
	struct sw_secretset *set = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (!path || !key || !out)
		return -EINVAL;
	*out = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	if (sodium_init() < 0)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_file(fd, &buf, &len);
	close(fd);
	if (rc)
		return rc;
	set = sw_secretset__new();
	if (!set) {
		rc = -ENOMEM;
		goto err;
	}
	pe = sprawl__secret_export__unpack(NULL, len, buf);
	if (!pe || pe->key_id.len != SW_KEY_ID_BYTES) {
		rc = -EBADMSG;
		goto err;
	}
	if (info) {
		memcpy(info->key_id, pe->key_id.data, SW_KEY_ID_BYTES);
		snprintf(info->host, sizeof(info->host), "%s", pe->host ? pe->host : "");
		info->exported = pe->exported;
		info->n = pe->n_secret;
	}
	if (pe->version != SW_SECRETSET_VERSION) {
		rc = -EPROTONOSUPPORT;
		goto err;
	}
	rc = unseal(key, export_prefix, sizeof(export_prefix), buf, len, &pe->key_id, pe->secret,
		    pe->n_secret, set);
	if (rc)
		goto err;
	sprawl__secret_export__free_unpacked(pe, NULL);
	free(buf);
	*out = set;
	return 0;
err:
	if (pe)
		sprawl__secret_export__free_unpacked(pe, NULL);
	free(buf);
	sw_secretset__free(set);
	return rc;
}

int sw_secretset__put(struct sw_secretset *set, struct sw_secret *s)
{
	struct sw_secretset_index *x;
	const struct sw_secret *same;
	struct sw_secret *grown;
	size_t i, cap;

	if (!set || !s || !s->name[0])
		return -EINVAL;
	if (set->n == set->cap) {
		/* A quarter more, not twice: a set read at its size (100,000: 29 MiB) that learns
		 * one secret does not take 29 MiB more. */
		cap = set->cap + set->cap / 4 + 8;
		grown = realloc(set->secrets, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		set->secrets = grown;
		set->cap = cap;
	}
	x = sw_secretset_index_of(set);
	if (!x)
		return -ENOMEM;
	same = sw_secretset_index_id(x, set->secrets, s->id);
	if (same && strcmp(same->name, s->name))
		return -EEXIST;
	same = sw_secretset_index_name(x, set->secrets, s->name);
	if (same) {
		i = (size_t)(same - set->secrets);
		sw_secret__clear(&set->secrets[i]);
		set->secrets[i] = *s;
		sw_secretset_index_free(set); /* its id changed */
		goto taken;
	}
	set->secrets[set->n] = *s;
	sw_secretset_index_add(x, set->secrets, set->n);
	set->n++;
taken:
	s->patterns = NULL;
	s->npatterns = 0;
	s->origin = NULL;
	return 0;
}

int sw_secretset__remove(struct sw_secretset *set, const char *name)
{
	size_t i;

	if (!set || !name)
		return -EINVAL;
	for (i = 0; i < set->n; i++) {
		if (!strcmp(set->secrets[i].name, name)) {
			sw_secret__clear(&set->secrets[i]);
			memmove(&set->secrets[i], &set->secrets[i + 1],
				(set->n - i - 1) * sizeof(*set->secrets));
			set->n--;
			sw_secretset_index_free(set);
			return 0;
		}
	}
	return -ENOENT;
}

const struct sw_secret *sw_secretset__find_id(const struct sw_secretset *set,
					      const uint8_t id[SW_SECRET_ID_BYTES])
{
	struct sw_secretset_index *x;
	size_t i;

	if (!set || !id)
		return NULL;
	/* The index is a cache: building it does not change the set. */
	x = set->n > 16 ? sw_secretset_index_of((struct sw_secretset *)set) : NULL;
	if (x)
		return sw_secretset_index_id(x, set->secrets, id);
	for (i = 0; i < set->n; i++) {
		if (!memcmp(set->secrets[i].id, id, SW_SECRET_ID_BYTES))
			return &set->secrets[i];
	}
	return NULL;
}

const struct sw_secret *sw_secretset__find_name(const struct sw_secretset *set, const char *name)
{
	struct sw_secretset_index *x;
	size_t i;

	if (!set || !name)
		return NULL;
	/* The index is a cache: building it does not change the set. */
	x = set->n > 16 ? sw_secretset_index_of((struct sw_secretset *)set) : NULL;
	if (x)
		return sw_secretset_index_name(x, set->secrets, name);
	for (i = 0; i < set->n; i++) {
		if (!strcmp(set->secrets[i].name, name))
			return &set->secrets[i];
	}
	return NULL;
}

int sw_secretset__index(struct sw_secretset *set)
{
	if (!set)
		return -EINVAL;
	return set->n > 16 && !sw_secretset_index_of(set) ? -ENOMEM : 0;
}
