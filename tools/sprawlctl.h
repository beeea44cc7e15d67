/* SPDX-License-Identifier: Apache-2.0 */
/* What the sprawlctl command files share: the paths, error reporting, the locked secret set. */
#ifndef SPRAWLCTL_H
#define SPRAWLCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "config.h"
#include "fingerprint.h"
#include "secretset.h"

extern struct sw_paths paths;

/* The one place errors are reported: "sprawlctl: ..." on stderr. */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The secret set on disk, under an exclusive lock, with the key. */
struct locked_set {
	int lock_fd;
	struct sw_key key;
	struct sw_secretset *set;
};

int open_set(struct locked_set *ls);
void close_set(struct locked_set *ls);
/* Saves the set and tells a running daemon to reload it. */
int commit_set(struct locked_set *ls);
int valid_name(const char *name);
/* Fingerprints value (wiped by the call) as name; origin and ost may be NULL. */
int put_secret(struct locked_set *ls, const char *name, uint8_t *value, size_t len,
	       const char *origin, const struct stat *ost, const char *where);

struct sw_rules;
/* The rules a command runs: dir when given, else the installed /etc/sprawlwatch/rules when
 * present, else the embedded ones. Reports its error once; NULL on failure. */
struct sw_rules *ctl_load_rules(const char *dir);

int cmd_secrets_discover(int argc, char **argv);
int cmd_secrets_export(int argc, char **argv);
int cmd_secrets_import(int argc, char **argv);
int cmd_trail(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int sw_ctl_import_gitleaks(const char *file);
int cmd_replay(int argc, char **argv);
int cmd_trace(int argc, char **argv);

#endif
