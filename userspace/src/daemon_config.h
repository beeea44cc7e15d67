/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's options: one table (daemon_config.c) is the single source of truth for every
 * knob. It drives the command-line parser, the keys of the config file
 * (/etc/sprawlwatch/sprawlwatchd.yaml, parsed with libyaml), --help, the commented example
 * config the package installs, and the test that README and --help agree.
 *
 * Precedence: a flag wins over the config file, which wins over the built-in default. A YAML
 * key is the flag's long name (`state-dir: /var/lib/sprawlwatch`). */
#ifndef SW_DAEMON_CONFIG_H
#define SW_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* Trace-log retention: a week back and more fits, within a bound a workstation can spare. */
#define SW_TRACE_MAX_MB_DEFAULT	      1024
#define SW_TRACE_MAX_AGE_DAYS_DEFAULT 30

enum sw_dopt_id {
	SW_DO_CONFIG = 0,
	SW_DO_STATE_DIR,
	SW_DO_RUN_DIR,
	SW_DO_RULES,
	SW_DO_ALERTS,
	SW_DO_FORMAT,
	SW_DO_SYSLOG,
	SW_DO_HOOK,
	SW_DO_HOOK_ARG,
	SW_DO_HOOK_TIMEOUT_MS,
	SW_DO_TRACE_DIR,
	SW_DO_TRACE_MAX_MB,
	SW_DO_TRACE_MAX_AGE_DAYS,
	SW_DO_RINGBUF_MB,
	SW_DO_MAX_BYTES,
	SW_DO_GUARD,
	SW_DO_METRICS,
	SW_DO_CLICKHOUSE,
	SW_DO_CLICKHOUSE_SPOOL_KB,
	SW_DO_LOG_LEVEL,
	SW_DO_VERBOSE,
	SW_DO_HELP,
	SW_DO_VERSION,
	SW_DO__COUNT,
};

enum sw_dopt_type {
	SW_DOPT_STR,	/* any text */
	SW_DOPT_UINT,	/* a decimal number within [min, max] (a power of two with pow2) */
	SW_DOPT_CHOICE, /* one of choices ("json|ocsf") */
	SW_DOPT_LIST,	/* repeatable flag; a YAML sequence (or one scalar) */
	SW_DOPT_BOOL,	/* a flag without argument; true/false in YAML */
};

struct sw_dopt {
	const char *name; /* long flag, and the YAML key unless cli_only */
	char short_name;  /* or 0 */
	enum sw_dopt_type type;
	const char *arg;  /* the argument's placeholder in --help ("DIR") */
	const char *help; /* may hold '\n' for more lines */
	const char *def;  /* the default in words, or NULL */
	unsigned long min, max;
	int pow2;
	const char *choices;
	int reload;   /* SIGHUP applies a change of it; others need a restart */
	int cli_only; /* --config, --help, --version: no config key */
	int follows;  /* a list that belongs to another option (hook-arg → hook): a flag
		       * that sets the owner also drops the list's file values */
};

extern const struct sw_dopt sw_dopts[SW_DO__COUNT];

struct sw_dconf_error {
	char file[512];
	int line, col; /* 1-based; 0 = not a position in a file */
	char msg[512];
};

/* "file:line:col: message" (or just the message) into out, like snprintf. */
int sw_dconf_error__format(const struct sw_dconf_error *e, char *out, size_t size);

/* A set of values: where each came from and, for the file, where it stood. */
struct sw_dconf;

struct sw_dconf *sw_dconf__new(void);
void sw_dconf__free(struct sw_dconf *c);

/* Checks value for option id and stores it (a list appends). 0 or -EINVAL with e->msg. */
int sw_dconf__set(struct sw_dconf *c, enum sw_dopt_id id, const char *value,
		  struct sw_dconf_error *e);

/* The command line. Returns 0, or -EINVAL with e->msg (unknown flag, bad value, stray
 * argument). --help and --version are recorded like any flag; the caller acts on them. */
int sw_dconf__parse_args(struct sw_dconf *c, int argc, char **argv, struct sw_dconf_error *e);

/* A config file (YAML mapping of keys to values). -ENOENT when it does not exist (e unset);
 * -EINVAL with file:line:col in e for anything wrong in it; other -errno on I/O errors. */
int sw_dconf__load_file(struct sw_dconf *c, const char *path, struct sw_dconf_error *e);
/* The same from memory; name is what errors call the file. */
int sw_dconf__load_buf(struct sw_dconf *c, const char *buf, size_t len, const char *name,
		       struct sw_dconf_error *e);

/* out = flags over file (flags win; see follows). out must be empty. */
int sw_dconf__merge(struct sw_dconf *out, const struct sw_dconf *file,
		    const struct sw_dconf *flags);

/* Replaces to's value(s) of option id by from's (unset when from has none). */
int sw_dconf__copy(struct sw_dconf *to, const struct sw_dconf *from, enum sw_dopt_id id);

/* Accessors: NULL / 0 / n=0 when unset. */
int sw_dconf__is_set(const struct sw_dconf *c, enum sw_dopt_id id);
const char *sw_dconf__str(const struct sw_dconf *c, enum sw_dopt_id id);
unsigned long sw_dconf__num(const struct sw_dconf *c, enum sw_dopt_id id);
const char *const *sw_dconf__list(const struct sw_dconf *c, enum sw_dopt_id id, size_t *n);
/* Index of the value among the option's choices ("json|ocsf": json 0, ocsf 1), or -1. */
int sw_dconf__choice(const struct sw_dconf *c, enum sw_dopt_id id);
/* Whether option id has the same value(s) in a and b. */
int sw_dconf__same(const struct sw_dconf *a, const struct sw_dconf *b, enum sw_dopt_id id);

/* The option list of --help, from the table. */
void sw_dconf__help(FILE *f);
/* A config file with every key commented out at its default, each with its help: what the
 * package installs as /etc/sprawlwatch/sprawlwatchd.yaml. */
void sw_dconf__example(FILE *f);

#endif
