/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding and validating kernel records. Nothing from the kernel is trusted before this. */
#ifndef SW_EVENT_H
#define SW_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "sprawl_events.h"

struct sw_event {
	const struct sw_hdr *hdr;
	union {
		const struct sw_fork_rec *fork;
		const struct sw_exec_rec *exec;
		const struct sw_exit_rec *exit;
		const struct sw_data_rec *data;
		const struct sw_open_rec *open;
		const struct sw_rename_rec *rename;
		const struct sw_channel_rec *channel;
		const struct sw_session_rec *session;
		const struct sw_reader_rec *reader;
		const struct sw_loss_rec *loss;
		const struct sw_renamed_rec *renamed;
		const struct sw_tick_rec *tick;
		const struct sw_proc_rec *proc;
		const struct sw_closed_rec *closed;
		const struct sw_rules_rec *rules;
		const struct sw_guarded_rec *guarded;
	};
	/* SW_EV_DATA, SW_EV_OPEN, SW_EV_CHANNEL, SW_EV_RENAMED; SW_EV_RENAME: the directory;
	 * SW_EV_READER, SW_EV_PROC: the exe; SW_EV_RULES: the rule files (see sw_rules_rec) */
	const char *path;
	size_t path_len;
	/* SW_EV_DATA with SW_F_COPY: the source's path; SW_EV_RENAME: the new name */
	const char *src_path;
	size_t src_path_len;
	/* path and src_path as the kernel named them, for read-backs by name: the pipeline shows
	 * the others, where a tracked secret in a name is filled (pipeline_names.c) */
	const char *path_raw, *src_raw;
	size_t path_raw_len, src_raw_len;
	const uint8_t *bytes;
	size_t bytes_len;
	/* SW_EV_PROC: the cgroup path */
	const char *cgroup;
	size_t cgroup_len;
	/* SW_EV_EXEC; SW_EV_RENAME: a symlink's target */
	const char *filename;
	size_t filename_len;
	const char *args; /* NUL-separated; also SW_EV_PROC */
	size_t args_len;
	const char *env; /* NUL-separated */
	size_t env_len;
};

/* Validates type, size and every tail length of rec. Returns 0 or -EBADMSG. */
int sw_event__decode(const void *rec, size_t size, struct sw_event *ev);

#endif
