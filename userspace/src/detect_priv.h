/* SPDX-License-Identifier: Apache-2.0 */
/* The detectors' internals, shared by the scan engine (detect.c), the index builder
 * (detect_index.c), the value checks (detect_check.c) and the previous engine
 * (detect_prefilter.c). Nothing else includes this. */
#ifndef SW_DETECT_PRIV_H
#define SW_DETECT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <hs/hs.h>

#include "detect.h"

#define SPANS_MAX      256	/* reported spans remembered per scan for overlap suppression */
#define MATCH_LIMIT    10000000 /* PCRE2 backtracking bound per pcre2_match call */
#define DEPTH_LIMIT    100000
#define JWT_HEADER_MAX 2048 /* base64url characters of a JWT header we decode */
#define NOT_ARMED      SIZE_MAX
#define JOBS_MAX       65536 /* confirmation windows per write; more are merged */
#define PEND_MAX       32    /* matches per stream waiting for the next write */
#define RECENT_MAX     64    /* spans per stream remembered across writes */
#define LOOKAHEAD      16    /* bytes after a Hyperscan end offset a lookahead may inspect */
#define WHY_MAX	       160

enum mode {
	M_REGEX,   /* in the database as its regex (prefilter mode) */
	M_LITERAL, /* in the database as its prefilter literals */
	M_ALWAYS,  /* not in the database: PCRE2 runs over every write */
};

struct literal {
	uint16_t gram; /* first two bytes, folded to lower case */
	uint8_t len;
	uint32_t det;
	char s[SW_RULES_LITERAL_MAX]; /* lower case */
};

struct span {
	uint64_t off, len;
};

/* One Hyperscan pattern: its detector and how far before the end offset a match can start. */
struct pat {
	uint32_t det;
	uint32_t back;
};

/* PCRE2 runs over [from - before, until) for detector det. */
struct job {
	uint32_t det;
	uint64_t from, until;
};

struct pend {
	uint32_t det;
	uint64_t from;
};

struct rspan {
	uint32_t det;
	uint32_t cut; /* reported at the end of the bytes then: the value may have gone on */
	uint64_t off, end;
};

struct sw_detect_index {
	const struct sw_detector *det;
	size_t ndet;
	uint8_t fold[256];
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct span spans[SPANS_MAX];
	size_t nspans;

	/* Hyperscan engine */
	uint64_t gen; /* streams opened on another index start over */
	hs_database_t *db;
	hs_scratch_t *scratch;
	struct pat *pats;
	size_t npats;
	uint8_t *mode;	      /* enum mode per detector */
	uint32_t *width;      /* per detector: longest match considered (bounded by the tail) */
	uint32_t *before;     /* per detector: context bytes a lookbehind or keyword needs */
	char (*why)[WHY_MAX]; /* per detector: why not M_REGEX */
	size_t tail_max;
	struct job *jobs; /* per scan */
	size_t njobs, jobcap;
	uint32_t *lastjob; /* per detector: its latest job in this scan, or UINT32_MAX */
	uint8_t *buf;	   /* tail + data when a job reaches before the write; wiped */
	size_t bufcap;
	uint64_t hs_base; /* stream offset where the Hyperscan stream began */

	/* the previous engine: literal prefilter */
	uint64_t bitmap[65536 / 64]; /* grams that start some literal */
	struct literal *lits;	     /* sorted by gram */
	size_t nlits;
	uint32_t *always; /* detectors without literals */
	size_t nalways;
	size_t *first; /* per detector: first literal offset or NOT_ARMED */
	uint32_t *armed;
	size_t narmed;
};

struct sw_detect_stream {
	uint64_t gen;
	hs_stream_t *hs;
	uint64_t off;	  /* bytes seen */
	uint64_t hs_base; /* offset where the Hyperscan stream began */
	uint8_t *tail;
	size_t tail_len, tail_cap;
	struct pend pend[PEND_MAX];
	size_t npend;
	struct rspan recent[RECENT_MAX];
	size_t nrecent, recent_next;
};

/* detect_check.c: checks of a value after its regex matched */
int dx_fold_eq(const uint8_t *fold, const uint8_t *p, const char *lit, size_t len);
int dx_keyword_before(const struct sw_detect_index *ix, const struct sw_detector *d,
		      const uint8_t *data, size_t off);
int dx_jwt_ok(const uint8_t *v, size_t len);

#endif /* SW_DETECT_PRIV_H */
