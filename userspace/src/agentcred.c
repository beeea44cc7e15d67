// SPDX-License-Identifier: Apache-2.0
/* See agentcred.h. A ring of ids: a handful per agent run. */
#include <stdlib.h>
#include <string.h>

#include "agentcred.h"
#include "agentproc.h"

struct sw_agentcred {
	uint8_t id[SW_AGENTCRED_MAX][SW_SECRET_ID_BYTES];
	size_t n, next;
};

struct sw_agentcred *sw_agentcred__new(void)
{
	return calloc(1, sizeof(struct sw_agentcred));
}

void sw_agentcred__free(struct sw_agentcred *c)
{
	free(c);
}

int sw_agentcred__has(const struct sw_agentcred *c, const uint8_t id[SW_SECRET_ID_BYTES])
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!memcmp(c->id[i], id, SW_SECRET_ID_BYTES))
			return 1;
	return 0;
}

int sw_agentcred__env(struct sw_agentcred *c, const struct sw_rules *rules,
		      const struct sw_proctab *pt, const struct sw_key *key,
		      const struct sw_event *ev, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	uint8_t value[SW_SECRET_MAX];
	struct sw_secret sec;
	size_t vlen;

	if (!rules || !eq || !sw_rules__credential_env(rules, s, eq - s))
		return 0;
	vlen = len - (eq + 1 - s);
	/* Only what an agent process hands its tools is the agent's own: a tool setting the
	 * variable itself does not make a value the agent's. */
	if (vlen < SW_SECRET_MIN || vlen > SW_SECRET_MAX ||
	    !sw_agentproc__is_agent(pt, ev->hdr->session_id, ev->hdr->ppid))
		return 1;
	memset(&sec, 0, sizeof(sec));
	memcpy(value, eq + 1, vlen); /* wiped by the fingerprinting */
	if (sw_fingerprint__secret(key, value, vlen, &sec))
		return 1;
	if (!sw_agentcred__has(c, sec.id)) {
		memcpy(c->id[c->next], sec.id, SW_SECRET_ID_BYTES);
		c->next = (c->next + 1) % SW_AGENTCRED_MAX;
		if (c->n < SW_AGENTCRED_MAX)
			c->n++;
	}
	sw_secret__clear(&sec);
	return 1;
}
