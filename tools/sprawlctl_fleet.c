// SPDX-License-Identifier: Apache-2.0
/* sprawlctl secrets export|import: one fingerprint set for the hosts of a fleet. Hosts that
 * share the key file compute the same ids and fingerprints, so a set exported on one host is
 * the set of every other; the file holds no key and no value, and a MAC under the key
 * authenticates it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "secretset.h"
#include "sprawlctl.h"

static void key_hex(const uint8_t id[SW_KEY_ID_BYTES], char out[2 * SW_KEY_ID_BYTES + 1])
{
	sodium_bin2hex(out, 2 * SW_KEY_ID_BYTES + 1, id, SW_KEY_ID_BYTES);
}

int cmd_secrets_export(int argc, char **argv)
{
	char host[256] = "", kid[2 * SW_KEY_ID_BYTES + 1];
	struct locked_set ls;
	int e;

	if (argc != 2) {
		err("usage: secrets export FILE");
		return -EINVAL;
	}
	e = open_set(&ls);
	if (!e) {
		gethostname(host, sizeof(host) - 1);
		e = sw_secretset__export(ls.set, argv[1], &ls.key, host, time(NULL));
		if (e)
			err("%s: cannot write the export: %s", argv[1], strerror(-e));
	}
	if (!e) {
		key_hex(ls.key.id, kid);
		printf("exported %zu secret(s) to %s (fingerprints only; key id %s: import it on "
		       "hosts that share this key file)\n",
		       ls.set->n, argv[1], kid);
	}
	close_set(&ls);
	return e;
}

/* Merges one imported secret; returns 1 added, 2 replaced, 0 unchanged, or -EEXIST. */
static int merge(struct locked_set *ls, struct sw_secret *s)
{
	size_t i;
	int e, had = 0;

	/* The origin's inode names a file of the exporting host: it means nothing here. */
	s->origin_dev = s->origin_ino = 0;
	for (i = 0; i < ls->set->n; i++) {
		const struct sw_secret *o = &ls->set->secrets[i];

		if (strcmp(o->name, s->name))
			continue;
		if (!memcmp(o->id, s->id, SW_SECRET_ID_BYTES))
			return 0;
		had = 1;
	}
	e = sw_secretset__put(ls->set, s);
	if (e)
		return e;
	return had ? 2 : 1;
}

int cmd_secrets_import(int argc, char **argv)
{
	char kid[2 * SW_KEY_ID_BYTES + 1], mine[2 * SW_KEY_ID_BYTES + 1], when[32];
	struct sw_secretset_export_info info;
	struct sw_secretset *in = NULL;
	size_t i, added = 0, replaced = 0, same = 0, skipped = 0;
	struct locked_set ls;
	time_t t;
	int e;

	if (argc != 2) {
		err("usage: secrets import FILE (a file made by 'sprawlctl secrets export')");
		return -EINVAL;
	}
	e = open_set(&ls);
	if (e) {
		close_set(&ls);
		return e;
	}
	e = sw_secretset__import(argv[1], &ls.key, &in, &info);
	key_hex(info.key_id, kid);
	key_hex(ls.key.id, mine);
	if (e == -EKEYREJECTED)
		err("%s was made with another key (key id %s; this host's key %s has id %s): "
		    "hosts of a fleet share one key file: install the exporting host's key there "
		    "(mode 0600, then restart the daemon) and import again",
		    argv[1], kid, paths.key, mine);
	else if (e == -EBADMSG)
		err("%s is not an export file, is damaged or was altered after export (its MAC "
		    "does not verify under this key); export it again",
		    argv[1]);
	else if (e == -EPROTONOSUPPORT)
		err("%s is of another format version; export it again with this version", argv[1]);
	else if (e)
		err("%s: cannot read: %s", argv[1], strerror(-e));
	for (i = 0; !e && i < in->n; i++) {
		int r = merge(&ls, &in->secrets[i]);

		if (r == -EEXIST) {
			err("%s: skipped: its value is already tracked here under another name",
			    in->secrets[i].name);
			skipped++;
		} else if (r < 0) {
			err("%s: %s", in->secrets[i].name, strerror(-r));
			e = r;
		} else {
			added += r == 1;
			replaced += r == 2;
			same += r == 0;
		}
	}
	if (!e && (added || replaced))
		e = commit_set(&ls);
	if (!e) {
		t = info.exported;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		printf("imported %zu secret(s) from %s (exported by %s at %s): %zu new, %zu "
		       "replaced, %zu unchanged, %zu skipped\n",
		       in->n, argv[1], info.host[0] ? info.host : "?", when, added, replaced, same,
		       skipped);
	}
	sw_secretset__free(in);
	close_set(&ls);
	return e;
}
