/* SPDX-License-Identifier: Apache-2.0 */
/* Alerts: the record security teams consume, and its JSON / OCSF encodings. No field ever
 * holds a plaintext secret: name, id, variant, length at most. */
#ifndef SW_ALERT_H
#define SW_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "artifact.h"
#include "container.h"

enum sw_alert_kind {
	SW_ALERT_SECRET_SPREAD = 0,
	SW_ALERT_SECRET_EXPOSURE,
	SW_ALERT_SECRET_DISCOVERED,
	SW_ALERT_COVERAGE_GAP,
	SW_ALERT_UNMONITORED_CHANNEL,
	SW_ALERT_RATE_LIMITED,	  /* flood-control summary */
	SW_ALERT_STATE_WARNING,	  /* e.g. corrupt registry rebuilt */
	SW_ALERT_SESSION_SUMMARY, /* a session ended: the secrets that spread in it, and where */
	SW_ALERT__COUNT,
};

enum sw_severity {
	SW_SEV_INFO = 0,
	SW_SEV_LOW,
	SW_SEV_MEDIUM,
	SW_SEV_HIGH,
	SW_SEV_CRITICAL,
	SW_SEV__COUNT,
};

#define SW_ARGV_MAX 64

/* Each argv element is encoded up to this many bytes (the rest is cut) so that one alert stays
 * bounded whatever a process was started with. */
#define SW_ALERT_ARG_MAX 4096

struct sw_alert_process {
	uint32_t pid, ppid, uid;
	char comm[16];
	char exe[4096];
	uint32_t argc;
	/* Borrowed. The caller passes argv already redacted of known secrets; for an exec_arg
	 * alert the encoders also replace argv[artifact.index] by "[redacted]". */
	const char *argv[SW_ARGV_MAX];
};

struct sw_alert_session {
	uint64_t id;
	char agent[64];
	uint32_t root_pid;
	char root_exe[4096];
};

/* session_summary: one place a secret reached in the session. */
struct sw_alert_place {
	uint8_t type;	   /* enum sw_artifact_type */
	uint8_t severity;  /* the highest of its alerts */
	const char *label; /* the place in one line (see alertrow.h) */
	uint64_t count;	   /* alerts for it in the session */
	uint64_t first_us; /* its first alert */
};

/* session_summary: one secret of the session. */
struct sw_alert_spread {
	char id[17];
	char name[128];
	int read_origin; /* the session opened the file the secret lives in */
	const struct sw_alert_place *places;
	uint32_t nplaces;
	uint32_t more_places; /* beyond the bound, counted */
};

struct sw_alert {
	uint64_t time_us; /* unix time, microseconds */
	uint8_t kind;	  /* enum sw_alert_kind */
	uint8_t severity; /* enum sw_severity */
	char host[256];
	/* secret (kinds spread, exposure, discovered) */
	int has_secret;
	char secret_id[17];
	uint8_t secret_key[8]; /* the same id in binary, for flood control; never encoded */
	char secret_name[128];
	char variant[16];
	uint32_t secret_len; /* 0 = omit */
	/* artifact */
	int has_artifact;
	struct sw_artifact artifact;
	int has_process;
	struct sw_alert_process process;
	/* the process's cgroup v2 path ("" unknown) and the container it names, if any */
	char cgroup[1024];
	int has_container;
	struct sw_container container;
	int has_session;
	struct sw_alert_session session;
	int first_seen;
	int has_origin;
	char origin_path[4096];
	uint64_t count;
	/* coverage_gap / unmonitored_channel / rate_limited / state_warning detail */
	char channel[32];  /* unmonitored_channel: "io_uring", "mmap_shared", ... */
	char action[16];   /* a guarded TLS write: "redacted" or "blocked" */
	char message[512]; /* human-readable detail, never containing a secret */
	uint32_t ngaps;
	struct {
		char what[32];
		uint64_t count;
	} gaps[8]; /* coverage_gap counts by kind */
	/* session_summary: borrowed, valid while the alert is being emitted */
	const struct sw_alert_spread *spread;
	uint32_t nspread;
	uint32_t more_secrets; /* beyond the bound, counted */
};

/* Sets the cgroup path and the container it names (container.h). NULL clears both. */
void sw_alert__set_cgroup(struct sw_alert *a, const char *path);

const char *sw_alert__kind_name(enum sw_alert_kind k);
const char *sw_alert__severity_name(enum sw_severity s);

/* "2026-11-29T18:00:00.123456Z" into out (at least SW_ALERT_TIME_LEN bytes). */
#define SW_ALERT_TIME_LEN 32
void sw_alert__format_time(uint64_t time_us, char out[SW_ALERT_TIME_LEN]);

/* One JSON object, no trailing newline, in the DESIGN.md schema. Returns the length that the
 * full encoding needs (like snprintf), or a negative errno. */
int sw_alert__json(const struct sw_alert *a, char *buf, size_t size);
/* OCSF 1.x Detection Finding (class_uid 2004, schema version SW_OCSF_VERSION). Same return
 * convention. sprawlwatch-specific fields (secret, session, origin, frameworks, gaps, channel)
 * go under "unmapped". */
#define SW_OCSF_VERSION "1.3.0"
int sw_alert__ocsf(const struct sw_alert *a, char *buf, size_t size);

#endif
