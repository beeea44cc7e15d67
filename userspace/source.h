/* SPDX-License-Identifier: Apache-2.0 */
/* The live source (source.c): the only way records reach the daemon's pipeline. */
#ifndef SW_SOURCE_H
#define SW_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "embedded.h"
#include "sprawl_events.h"

struct daemon;

/* A kernel record (or any record): fed with what it needs first, recorded, its alerts to the
 * sinks, its requests carried out. */
void source__feed(struct daemon *d, const void *rec, size_t size);
/* Time passes: a tick record (the wall clock at the kernel's clock). */
void source__tick(struct daemon *d);
/* The index staged as gen takes effect: a tick record flagged SW_F_INDEX. */
void source__index(struct daemon *d, uint64_t gen);
/* Kernel loss counters: a loss record when anything was lost since the last call. */
void source__loss(struct daemon *d);
/* At start, once the ring is drained: when programs ran on with no daemon, one loss record
 * (SW_F_DOWN) says from when, and what was lost or held. */
void source__down(struct daemon *d);
/* A session the daemon starts or recovers. */
void source__session(struct daemon *d, uint64_t id, uint32_t root, const char *agent);
/* The rule files the pipeline is to run (a rules record). 0 or a negative errno. */
int source__rules(struct daemon *d, const struct sw_embedded_file *files);
/* path names the file st now, or no file (st NULL), told as a rename record: no session's doing
 * (an origin saved by rename, an origin's file moved aside, or that name gone). */
void source__renamed(struct daemon *d, const char *path, const struct stat *st);
/* A channel the daemon found (SW_CH_TLS: the executable's TLS stack cannot be hooked; dev in
 * stat's encoding). */
void source__channel(struct daemon *d, uint32_t tgid, uint64_t session, uint32_t channel,
		     uint32_t detail, uint64_t dev, uint64_t ino, const char *path);
/* What became of a held TLS write (enum sw_guard_action; 0 or a negative errno). */
void source__guarded(struct daemon *d, const struct sw_hdr *h, uint32_t action, int32_t result,
		     uint32_t spans);
/* A file written by tgid through descriptor fd, still the same file (kernel dev, ino): opened
 * by path (NUL-terminated; NULL or "" for none), else through the descriptor. -1 when neither
 * works. */
int source__open_written(uint32_t tgid, int32_t fd, const char *path, uint64_t dev, uint64_t ino);
/* A file range the daemon reads back unasked (a kernel spill, a race check) as a fresh stream
 * of the file (SW_F_READBACK | SW_F_RESCAN), attributed to hdr. */
struct source_rescan {
	struct sw_hdr hdr;
	uint64_t dev, ino; /* kernel encoding */
	uint32_t gen;
	const char *path; /* named in the first chunk */
	size_t path_len;
	int fd; /* < 0: cannot be read (the chunk says SW_F_READ_ERR) */
	uint64_t start, len, done;
};
/* The next chunk of rs read into r (a record with room for SW_CHUNK bytes after a path), fed,
 * then wiped; rs->done moves on. Returns its flags: SW_F_LAST once the range is done, with
 * SW_F_READ_ERR when the file ended or failed before it. */
struct sw_data_rec;
uint16_t source__rescan_step(struct daemon *d, struct sw_data_rec *r, struct source_rescan *rs);
/* Read-backs are parked or waiting (the loop should not sleep); source__resume, once a turn of
 * the loop, gives them the turn's budget (1 MiB, all of them together) and answers the requests
 * behind them. */
int source__busy(const struct daemon *d);
void source__resume(struct daemon *d);
/* fanotify closes of files of the read-back set. */
void source__fanotify(struct daemon *d);
/* Daemon stop: drain the ring, read back what awaits a read-back, emit everything held. */
void source__stop(struct daemon *d);

#endif
