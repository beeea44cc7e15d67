/* SPDX-License-Identifier: Apache-2.0 */
/* The alert encoders' shared parts: a bounded JSON writer and the objects both encodings write
 * (alert.c), used by alert_json.c (DESIGN.md schema) and alert_ocsf.c (OCSF). Nothing outside
 * the alert module includes this. */
#ifndef SW_ALERT_PRIV_H
#define SW_ALERT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

/* ---- a bounded JSON writer: stores what fits, counts everything ---- */

#define JW_DEPTH 16

struct jw {
	char *buf;
	size_t size;
	size_t len;
	int depth;
	unsigned int count[JW_DEPTH];
};

void jw_raw(struct jw *w, const char *s, size_t n);
void jw_sep(struct jw *w);
void jw_open(struct jw *w, char c);
void jw_close(struct jw *w, char c);
/* Key names are literals of the encoders: plain ASCII, nothing to escape. */
void jw_key(struct jw *w, const char *k);
void jw_ostart(struct jw *w, const char *k);
void jw_astart(struct jw *w, const char *k);
/* The escaped body (no quotes) of at most max bytes of str (stops at NUL). */
void jw_esc(struct jw *w, const char *str, size_t max);
/* A quoted, escaped string. */
void jw_strn(struct jw *w, const char *str, size_t max);
void jw_kstrn(struct jw *w, const char *k, const char *s, size_t max);
void jw_ku64(struct jw *w, const char *k, uint64_t v);
void jw_kbool(struct jw *w, const char *k, int v);
/* The length the whole text needs (a NUL ends what was stored), or -EOVERFLOW. */
int jw_finish(struct jw *w);

#define jw_str(w, s)	 jw_strn((w), (s), sizeof(s))
#define jw_kstr(w, k, s) jw_kstrn((w), (k), (s), sizeof(s))

/* ---- pieces both encodings share ---- */

int al_has_art(const struct sw_alert *a);
/* argv[i] as alerts show it: the argument that held the secret is "[redacted]". */
const char *al_arg_at(const struct sw_alert *a, uint32_t i);
uint32_t al_argc_of(const struct sw_alert *a);
int al_wants_first_seen(const struct sw_alert *a);
/* The per-type artifact fields of the DESIGN.md schema (inside an open object). */
void al_artifact_fields(struct jw *w, const struct sw_artifact *t);
void al_secret_obj(struct jw *w, const struct sw_alert *a);
void al_session_obj(struct jw *w, const struct sw_alert *a);
void al_origin_obj(struct jw *w, const struct sw_alert *a);
void al_gaps_obj(struct jw *w, const struct sw_alert *a);
/* session_summary's "secrets" list and "more_secrets". */
void al_spread_arr(struct jw *w, const struct sw_alert *a);
void al_frameworks_arr(struct jw *w, const struct sw_alert *a);

#endif
