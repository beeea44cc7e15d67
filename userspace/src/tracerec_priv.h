/* SPDX-License-Identifier: Apache-2.0 */
/* The record <-> Event converter's internals, shared by its lifecycle (tracerec.c), the C record
 * -> Event direction (tracerec_encode.c) and the Event -> C record direction
 * (tracerec_decode.c). Nothing else includes this. */
#ifndef SW_TRACEREC_PRIV_H
#define SW_TRACEREC_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "sprawl.pb-c.h"
#include "tracelog.h"
#include "tracerec.h"

struct sw_tracerec {
	/* to_event */
	Sprawl__Event ev;
	Sprawl__Header hdr;
	union {
		Sprawl__Fork fork;
		Sprawl__Exec exec;
		Sprawl__Exit exit;
		Sprawl__Data data;
		Sprawl__Open open;
		Sprawl__Rename rename;
		Sprawl__Channel channel;
		Sprawl__Session session;
		Sprawl__Reader reader;
		Sprawl__Loss loss;
		Sprawl__Renamed renamed;
		Sprawl__Tick tick;
		Sprawl__Proc proc;
		Sprawl__Closed closed;
		Sprawl__Guarded guarded;
		Sprawl__Rules rules;
	} m;
	ProtobufCBinaryData *argv, *env;
	size_t argv_cap, env_cap;
	Sprawl__RuleFile *files;
	Sprawl__RuleFile **filep;
	size_t files_cap, filep_cap;
	Sprawl__Redaction *pr;
	Sprawl__Redaction **prp;
	size_t pr_cap, prp_cap;

	/* from_event */
	uint8_t *rec;
	size_t rec_cap;
	struct sw_redaction *red;
	size_t red_cap;
};

/* Grows *p to hold need elements of elem bytes (doubling, from 16). 0 or -ENOMEM. */
int tr_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
