/* SPDX-License-Identifier: Apache-2.0 */
/* The ClickHouse sink's shared state (sink_clickhouse.c: rows, writer, life cycle;
 * sink_clickhouse_spool.c: the files on disk and the acknowledgement; sink_clickhouse_http.c:
 * HTTP and the delivery thread). Nothing outside the sink includes this. */
#ifndef SW_SINK_CLICKHOUSE_PRIV_H
#define SW_SINK_CLICKHOUSE_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "sink_clickhouse.h"

#define UID_HEX 32

struct sw_clickhouse {
	char *url;
	char dir[1024];
	uint64_t max;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* rows arrived, stop asked, or (for flush) rows acknowledged */
	pthread_t thread;
	int started, stop;

	/* Under mu. The writer appends to spool file `gen` (fd, end bytes); every row before
	 * (ack_gen, ack_off) is in ClickHouse. */
	int fd;
	uint64_t gen, end;
	uint64_t ack_gen, ack_off;
	uint64_t refused_new;
	struct sw_clickhouse_stats st;

	/* Delivery thread only. */
	CURL *curl;
	int rfd; /* read side of spool file rgen */
	uint64_t rgen;
	int schema_ok;
	int uncertain; /* rows after the ack may be in ClickHouse already: ask before sending */
};

/* sink_clickhouse.c: a failed request or spool operation into the stats. */
void ch_set_error(struct sw_clickhouse *c, const char *msg);

/* sink_clickhouse_spool.c */
/* Finds the spool files, drops those already delivered, opens the last for appending. */
int ch_spool_open(struct sw_clickhouse *c);
/* Reads the next batch of whole rows after the ack; 0 bytes when none. */
ssize_t ch_read_batch(struct sw_clickhouse *c, char *buf, uint64_t *gen, uint64_t *off,
		      size_t *rows);
void ch_acknowledge(struct sw_clickhouse *c, uint64_t gen, uint64_t off, size_t bytes, size_t rows,
		    uint64_t skipped);
/* After the current file is fully delivered: move to the next one, or start a new file when
 * this one has grown large. */
void ch_advance_file(struct sw_clickhouse *c, uint64_t gen);

/* sink_clickhouse_http.c: the delivery thread's body (arg: the sink). */
void *ch_deliver_thread(void *arg);

#endif
