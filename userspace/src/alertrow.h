/* SPDX-License-Identifier: Apache-2.0 */
/* An alert's JSON line read back into flat, typed fields: the ClickHouse columns and what
 * `sprawlctl trail` draws. One reading of the alert format for every consumer, so a column
 * and a trail node always say the same thing. */
#ifndef SW_ALERTROW_H
#define SW_ALERTROW_H

#include <stddef.h>
#include <stdint.h>

#include "artifact.h"

#define SW_ALERTROW_STR 4200 /* a path plus a short prefix */

struct sw_alertrow {
	uint64_t time_us; /* unix microseconds, from "time" */
	char host[256];
	char kind[32];
	char severity[16];
	char secret_id[17];
	char secret_name[128];
	char variant[16];
	char artifact_type[16];
	/* The place, one line: file/tty path; "tcp 10.0.0.1:443" for a socket; "PATH argv[N]"
	 * for an exec argument; "PATH env NAME" for an exec environment variable; "pipe to EXE"
	 * for a pipe; the peer (and sni) for tls. */
	char artifact[SW_ALERTROW_STR];
	uint64_t dev, ino; /* file */
	/* The registry's key for the place (artifact.h); for a file the inode generation is not
	 * in the alert: the key ends in ":0" and matches the registry's by its "file:DEV:INO:"
	 * prefix. */
	char artifact_key[SW_ARTIFACT_KEY_MAX];
	uint64_t session_id;
	char agent[64];
	uint32_t root_pid;
	char root_exe[SW_ALERTROW_STR];
	uint32_t pid;
	char comm[16];
	char exe[SW_ALERTROW_STR];
	char origin[SW_ALERTROW_STR];
	uint64_t count;
	int first_seen;
};

/* Fills row from one alert JSON line (sprawlwatch's own format; missing fields stay empty).
 * 0, or -EBADMSG when the line is not a JSON object with time and kind. */
int sw_alertrow__parse(const char *json, size_t len, struct sw_alertrow *row);
/* The one-line label of a place (the `artifact` field above), from the artifact itself. */
void sw_alertrow__label(const struct sw_artifact *t, char *out, size_t cap);
/* "2026-11-29T18:00:00.123456Z" to unix microseconds; 0 when malformed. */
uint64_t sw_alertrow__time_us(const char *rfc3339);

#endif
