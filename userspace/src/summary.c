// SPDX-License-Identifier: Apache-2.0
/* Session summaries: per session, the secrets seen and their places, from the alerts as they
 * were emitted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertrow.h"
#include "summary.h"

struct place {
	struct sw_alert_place pub;
	char *label;
};

struct secret {
	struct sw_alert_spread pub;
	struct place places[SW_SUMMARY_PLACES];
	struct sw_alert_place view[SW_SUMMARY_PLACES];
};

struct sess {
	uint64_t id;
	char agent[64];
	uint32_t root_pid;
	char *root_exe;
	char host[256];
	uint8_t severity;
	int ended;
	uint64_t ended_us, seen_us;
	struct secret *secrets;
	uint32_t nsecrets, more_secrets;
	struct sw_alert_spread *view;
	struct sess *next;
};

struct sw_summary {
	struct sess *head;
	size_t n;
	uint64_t evicted;
	struct sess *out; /* the session whose summary was handed out last */
};

struct sw_summary *sw_summary__new(void)
{
	return calloc(1, sizeof(struct sw_summary));
}

static void sess_free(struct sess *x)
{
	uint32_t i, k;

	if (!x)
		return;
	for (i = 0; i < x->nsecrets; i++)
		for (k = 0; k < x->secrets[i].pub.nplaces; k++)
			free(x->secrets[i].places[k].label);
	free(x->secrets);
	free(x->view);
	free(x->root_exe);
	free(x);
}

void sw_summary__free(struct sw_summary *s)
{
	struct sess *x, *next;

	if (!s)
		return;
	for (x = s->head; x; x = next) {
		next = x->next;
		sess_free(x);
	}
	sess_free(s->out);
	free(s);
}

uint64_t sw_summary__evicted(const struct sw_summary *s)
{
	return s ? s->evicted : 0;
}

/* Makes room: the least recently seen session goes (counted when it had not ended). */
static void evict(struct sw_summary *s)
{
	struct sess **pp, **old = NULL;

	for (pp = &s->head; *pp; pp = &(*pp)->next)
		if (!old || (*pp)->seen_us < (*old)->seen_us)
			old = pp;
	if (old) {
		struct sess *x = *old;

		*old = x->next;
		s->evicted += !x->ended;
		sess_free(x);
		s->n--;
	}
}

static struct sess *find(struct sw_summary *s, uint64_t id)
{
	struct sess *x;

	for (x = s->head; x; x = x->next)
		if (x->id == id)
			return x;
	return NULL;
}

static struct sess *get(struct sw_summary *s, const struct sw_alert *a)
{
	struct sess *x = find(s, a->session.id);

	if (x)
		return x;
	if (s->n >= SW_SUMMARY_SESSIONS)
		evict(s);
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->id = a->session.id;
	snprintf(x->agent, sizeof(x->agent), "%s", a->session.agent);
	x->root_pid = a->session.root_pid;
	x->root_exe = strdup(a->session.root_exe);
	if (!x->root_exe) {
		free(x);
		return NULL;
	}
	x->next = s->head;
	s->head = x;
	s->n++;
	return x;
}

static struct secret *secret_of(struct sess *x, const struct sw_alert *a)
{
	struct secret *sec;
	uint32_t i;

	for (i = 0; i < x->nsecrets; i++)
		if (!strcmp(x->secrets[i].pub.id, a->secret_id))
			return &x->secrets[i];
	if (x->nsecrets >= SW_SUMMARY_SECRETS) {
		x->more_secrets++;
		return NULL;
	}
	/* Grown one at a time: most sessions see one or two secrets. */
	sec = realloc(x->secrets, (x->nsecrets + 1) * sizeof(*sec));
	if (!sec)
		return NULL;
	x->secrets = sec;
	sec = &x->secrets[x->nsecrets++];
	memset(sec, 0, sizeof(*sec));
	snprintf(sec->pub.id, sizeof(sec->pub.id), "%s", a->secret_id);
	snprintf(sec->pub.name, sizeof(sec->pub.name), "%s", a->secret_name);
	return sec;
}

void sw_summary__feed(struct sw_summary *s, const struct sw_alert *a)
{
	char label[SW_ALERTROW_STR];
	struct secret *sec;
	struct place *pl;
	struct sess *x;
	uint32_t k;

	if (!s || !a || !a->has_session || !a->has_secret || !a->secret_id[0])
		return;
	if (a->kind != SW_ALERT_SECRET_SPREAD && a->kind != SW_ALERT_SECRET_EXPOSURE &&
	    a->kind != SW_ALERT_SECRET_DISCOVERED)
		return;
	x = get(s, a);
	if (!x)
		return;
	x->seen_us = a->time_us;
	if (!x->host[0])
		snprintf(x->host, sizeof(x->host), "%s", a->host);
	if (a->severity > x->severity)
		x->severity = a->severity;
	sec = secret_of(x, a);
	if (!sec)
		return;
	if (a->kind == SW_ALERT_SECRET_EXPOSURE) {
		sec->pub.read_origin = 1;
		return;
	}
	if (!a->has_artifact)
		return;
	sw_alertrow__label(&a->artifact, label, sizeof(label));
	for (k = 0; k < sec->pub.nplaces; k++) {
		pl = &sec->places[k];
		if (pl->pub.type == a->artifact.type && !strcmp(pl->label, label)) {
			pl->pub.count++;
			if (a->severity > pl->pub.severity)
				pl->pub.severity = a->severity;
			return;
		}
	}
	if (sec->pub.nplaces >= SW_SUMMARY_PLACES) {
		sec->pub.more_places++;
		return;
	}
	pl = &sec->places[sec->pub.nplaces];
	pl->label = strdup(label);
	if (!pl->label)
		return;
	pl->pub.type = a->artifact.type;
	pl->pub.severity = a->severity;
	pl->pub.count = 1;
	pl->pub.first_us = a->time_us;
	sec->pub.nplaces++;
}

void sw_summary__end(struct sw_summary *s, uint64_t session_id, uint64_t time_us)
{
	struct sess *x = s ? find(s, session_id) : NULL;

	if (!x)
		return; /* nothing was seen in it: nothing to summarise */
	x->ended = 1;
	x->ended_us = time_us;
}

/* Points the alert at the session's lists (the view arrays borrow the places' memory). */
static int fill(struct sess *x, uint64_t time_us, struct sw_alert *a)
{
	uint64_t places = 0;
	uint32_t i, k;

	x->view = calloc(x->nsecrets ? x->nsecrets : 1, sizeof(*x->view));
	if (!x->view)
		return -ENOMEM;
	for (i = 0; i < x->nsecrets; i++) {
		struct secret *sec = &x->secrets[i];

		for (k = 0; k < sec->pub.nplaces; k++) {
			sec->view[k] = sec->places[k].pub;
			sec->view[k].label = sec->places[k].label;
		}
		x->view[i] = sec->pub;
		x->view[i].places = sec->view;
		places += sec->pub.nplaces + sec->pub.more_places;
	}
	memset(a, 0, sizeof(*a));
	a->time_us = time_us;
	a->kind = SW_ALERT_SESSION_SUMMARY;
	a->severity = x->severity; /* the highest of the session's alerts */
	snprintf(a->host, sizeof(a->host), "%s", x->host);
	a->has_session = 1;
	a->session.id = x->id;
	snprintf(a->session.agent, sizeof(a->session.agent), "%s", x->agent);
	a->session.root_pid = x->root_pid;
	snprintf(a->session.root_exe, sizeof(a->session.root_exe), "%s", x->root_exe);
	a->spread = x->view;
	a->nspread = x->nsecrets;
	a->more_secrets = x->more_secrets;
	a->count = places;
	if (places)
		snprintf(a->message, sizeof(a->message),
			 "session ended: %u secret(s) spread to %llu place(s) in it; rotate or "
			 "revoke them",
			 x->nsecrets + x->more_secrets, (unsigned long long)places);
	else
		snprintf(a->message, sizeof(a->message),
			 "session ended: it read the origin of %u secret(s); no spread was seen",
			 x->nsecrets + x->more_secrets);
	return 0;
}

int sw_summary__next(struct sw_summary *s, uint64_t ended_by_us, uint64_t time_us,
		     struct sw_alert *a)
{
	struct sess **pp, *x;

	if (!s || !a)
		return 0;
	sess_free(s->out);
	s->out = NULL;
	for (pp = &s->head; *pp; pp = &(*pp)->next) {
		x = *pp;
		if (!x->ended || x->ended_us > ended_by_us)
			continue;
		*pp = x->next;
		s->n--;
		if (!x->nsecrets && !x->more_secrets) {
			sess_free(x);
			return sw_summary__next(s, ended_by_us, time_us, a);
		}
		if (fill(x, time_us, a)) {
			sess_free(x);
			return 0;
		}
		s->out = x;
		return 1;
	}
	return 0;
}
