/* SPDX-License-Identifier: Apache-2.0 */
/* Where sprawlwatch keeps its files, shared by the daemon and the CLI. */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stddef.h>

#define SW_DEFAULT_STATE_DIR "/var/lib/sprawlwatch"
#define SW_DEFAULT_RUN_DIR   "/run/sprawlwatch"
#define SW_DEFAULT_ALERTS    "/var/log/sprawlwatch/alerts.jsonl"
#define SW_DEFAULT_PIN_DIR   "/sys/fs/bpf/sprawlwatch"
#define SW_DEFAULT_CONFIG    "/etc/sprawlwatch/sprawlwatchd.yaml"

struct sw_paths {
	char state_dir[1024];
	char run_dir[1024];
	char pin_dir[1024];
	char key[1100];
	char secrets[1100];
	char registry[1100];
	char lock[1100];
	char control[1100];
};

/* Resolves the directories: the explicit argument, else $SPRAWL_STATE_DIR / $SPRAWL_RUN_DIR /
 * $SPRAWL_PIN_DIR, else the defaults. Arguments may be NULL. */
int sw_paths__init(struct sw_paths *p, const char *state_dir, const char *run_dir);
/* Creates dir (and missing parents) with mode; an existing dir gets mode applied when
 * strict is set (the state dir must stay 0700). */
int sw_paths__mkdir(const char *dir, unsigned int mode, int strict);

#endif
