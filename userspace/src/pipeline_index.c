// SPDX-License-Identifier: Apache-2.0
/* The pipeline's secret index: the set and its matcher, replaced whole (a set given, or one
 * built off the event loop and staged until the record that puts it in force), and grown in
 * place as detectors learn secrets. */
#include <errno.h>
#include <stdlib.h>

#include "pipeline_priv.h"

int sw_pipeline__set_secrets(struct sw_pipeline *p, struct sw_secretset *set)
{
	struct sw_matcher *m =
		sw_matcher__new_reserve(p->key, set->secrets, set->n, PL_INDEX_RESERVE);

	if (!m) {
		int e = -errno;
		sw_secretset__free(set);
		return e;
	}
	sw_matcher__free(p->m);
	sw_secretset__free(p->set);
	p->m = m;
	p->set = set;
	p->nunindexed = 0;
	sw_learn__reset(&p->learn, set);
	pl_origins_follow(p);
	return 0;
}

int pl_index_add(struct sw_pipeline *p, size_t first)
{
	struct sw_matcher *m;
	size_t i;

	for (i = first; i < p->set->n; i++) {
		if (!sw_matcher__add(p->m, &p->set->secrets[i], (uint32_t)i))
			continue;
		if (!p->set->lean)
			break;
		/* Its hits stand in for matches until the next index takes it. */
		if (p->nunindexed == PL_UNINDEXED_MAX)
			return -ENOSPC;
		p->unindexed[p->nunindexed++] = (uint32_t)i;
		p->learned_dirty = 1;
	}
	if (i == p->set->n)
		return 0;
	/* No room (or a pattern too short for the stride): the whole index, once. The
	 * secrets already added are in the new one too. A lean set (read as the daemon's index
	 * was built off the loop) holds no patterns but learned ones to rebuild from: the
	 * daemon's next index, built off the loop from the file they are saved to first (they
	 * are pending), is the rebuild; until it is in force they are not matched. Rebuilding
	 * 100,000 secrets here held the loop ~1 s. */
	if (p->set->lean) {
		p->learned_dirty = 1;
		return -ENOSPC;
	}
	m = sw_matcher__new_reserve(p->key, p->set->secrets, p->set->n, PL_INDEX_RESERVE);
	if (!m)
		return -errno;
	sw_matcher__free(p->m);
	p->m = m;
	return 0;
}

int sw_pipeline__stage_secrets(struct sw_pipeline *p, uint64_t gen, struct sw_secretset *set,
			       struct sw_matcher *m)
{
	if (!set || !m) {
		sw_secretset__free(set);
		sw_matcher__free(m);
		return -EINVAL;
	}
	sw_secretset__free(p->staged_set);
	sw_matcher__free(p->staged_m);
	p->staged_set = set;
	p->staged_m = m;
	p->staged_gen = gen;
	return 0;
}

/* The tick that says index gen is ready: the staged set and matcher take over. What detectors
 * learned since the staged set was read joins it (added to its matcher), so nothing learned is
 * forgotten by the switch. A replay has nothing staged: its set is the one it was given. */
void pl_take_index(struct sw_pipeline *p, uint64_t gen)
{
	struct sw_secretset *old;
	size_t first;

	p->index_gen = gen;
	if (!p->staged_set || p->staged_gen != gen)
		return;
	first = p->staged_set->n;
	if (sw_learn__export(p->set, p->staged_set) < 0)
		return; /* out of memory: the index in force stays; the next reload retries */
	old = p->set;
	p->set = p->staged_set;
	/* The old index is freed by whoever takes it (sw_pipeline__retired): 100,000 secrets take
	 * milliseconds to free. */
	sw_secretset__free(p->retired_set);
	sw_matcher__free(p->retired_m);
	p->retired_set = old;
	p->retired_m = p->m;
	p->m = p->staged_m;
	p->staged_set = NULL;
	p->staged_m = NULL;
	p->nunindexed = 0;
	pl_index_add(p, first);
	sw_learn__reset(&p->learn, p->set);
	pl_origins_follow(p);
}

/* The set in force follows the origin moves known (origins.h). */
void pl_origins_follow(struct sw_pipeline *p)
{
	if (sw_origins__apply(p->origins, p->set) != 0)
		p->origins_moved = 1; /* (out of memory too: the map is pushed again) */
}

void sw_pipeline__retired(struct sw_pipeline *p, struct sw_secretset **set, struct sw_matcher **m)
{
	*set = p->retired_set;
	*m = p->retired_m;
	p->retired_set = NULL;
	p->retired_m = NULL;
}

uint64_t sw_pipeline__index_gen(const struct sw_pipeline *p)
{
	return p->index_gen;
}

int sw_pipeline__learned_pending(const struct sw_pipeline *p)
{
	return p->learned_dirty;
}
