// SPDX-License-Identifier: Apache-2.0
/* See policy.h. */
#include <string.h>

#include "policy.h"
#include "sprawl_events.h"

void sw_policy__defaults(struct sw_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->place[SW_ART_FILE] = SW_SEV_MEDIUM;
	p->place[SW_ART_SOCKET] = SW_SEV_HIGH;
	p->place[SW_ART_EXEC_ARG] = SW_SEV_HIGH;
	p->place[SW_ART_EXEC_ENV] = SW_SEV_MEDIUM;
	p->place[SW_ART_PIPE] = SW_SEV_LOW;
	p->place[SW_ART_TTY] = SW_SEV_LOW;
	p->place[SW_ART_TLS] = SW_SEV_CRITICAL;
	p->place[SW_PLACE_TRANSCRIPT] = SW_SEV_HIGH;
	p->place[SW_PLACE_AGENT_PIPE] = SW_SEV_CRITICAL;
	p->kind[SW_ALERT_SECRET_SPREAD] = SW_SEV_MEDIUM; /* unused: spread goes by place */
	p->kind[SW_ALERT_SECRET_EXPOSURE] = SW_SEV_MEDIUM;
	p->kind[SW_ALERT_SECRET_DISCOVERED] = SW_SEV_MEDIUM;
	p->kind[SW_ALERT_COVERAGE_GAP] = SW_SEV_HIGH;
	p->kind[SW_ALERT_UNMONITORED_CHANNEL] = SW_SEV_MEDIUM;
	p->kind[SW_ALERT_RATE_LIMITED] = SW_SEV_MEDIUM;
	p->kind[SW_ALERT_STATE_WARNING] = SW_SEV_MEDIUM;
	p->flood_burst = 20;
	p->flood_per_minute = 120;
	p->flood_summary_s = 10;
	p->capture_max_bytes = SW_POLICY_MAX_BYTES_DEFAULT;
	p->ringbuf_bytes = (uint64_t)SW_POLICY_RINGBUF_DEFAULT_MB << 20;
	p->readback_max_bytes = SW_POLICY_READBACK_MAX; /* read in slices off the loop */
	p->hold_ms = 500;
	p->learned_max = 10000;
	p->inflate_max_bytes = 256ull << 20;
	p->inflate_max_ratio = 100;
	p->inflate_cache_bytes = 32ull << 20;
}

enum sw_severity sw_policy__severity(const struct sw_policy *p, enum sw_alert_kind kind,
				     unsigned int place)
{
	if (kind == SW_ALERT_SECRET_SPREAD && place < SW_PLACE__COUNT)
		return (enum sw_severity)p->place[place];
	if ((unsigned int)kind < SW_ALERT__COUNT)
		return (enum sw_severity)p->kind[kind];
	return SW_SEV_HIGH;
}

const char *sw_policy__place_name(unsigned int place)
{
	static const char *const names[SW_PLACE__COUNT] = {
		[SW_ART_FILE] = "file",
		[SW_ART_SOCKET] = "socket",
		[SW_ART_EXEC_ARG] = "exec_arg",
		[SW_ART_EXEC_ENV] = "exec_env",
		[SW_ART_PIPE] = "pipe",
		[SW_ART_TTY] = "tty",
		[SW_ART_TLS] = "tls",
		[SW_PLACE_TRANSCRIPT] = "transcript",
		[SW_PLACE_AGENT_PIPE] = "agent_pipe",
	};

	return place < SW_PLACE__COUNT ? names[place] : NULL;
}

const char *sw_policy__kind_key(enum sw_alert_kind kind)
{
	static const char *const names[SW_ALERT__COUNT] = {
		[SW_ALERT_SECRET_EXPOSURE] = "exposure",
		[SW_ALERT_SECRET_DISCOVERED] = "discovered",
		[SW_ALERT_COVERAGE_GAP] = "coverage_gap",
		[SW_ALERT_UNMONITORED_CHANNEL] = "unmonitored_channel",
		[SW_ALERT_RATE_LIMITED] = "rate_limited",
		[SW_ALERT_STATE_WARNING] = "state_warning",
	};

	return (unsigned int)kind < SW_ALERT__COUNT ? names[kind] : NULL;
}

static const char *const guard_names[] = {
	[SW_GUARD_ALERT] = "alert",
	[SW_GUARD_REDACT] = "redact",
	[SW_GUARD_BLOCK] = "block",
};

const char *sw_policy__guard_name(uint32_t guard)
{
	return guard <= SW_GUARD_BLOCK ? guard_names[guard] : "alert";
}

int sw_policy__guard_of(const char *name)
{
	int i;

	for (i = SW_GUARD_ALERT; i <= SW_GUARD_BLOCK; i++)
		if (!strcmp(name, guard_names[i]))
			return i;
	return -1;
}
