/*
 * inflight: the gate on a client's requests in flight (see inflight_int.h).
 */
#include "llm/inflight_int.h"

/* The limit to start with (or max when lower), and the run of successes
 * asked for at the mark grows to this many limits. */
#define START        8
#define PATIENCE_MAX 64

static int gate_off(const struct ise_inflight *g)
{
	return !g->max || g->fixed;
}

void ise_inflight_init(struct ise_inflight *g, unsigned max, int fixed)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->room, NULL);
	g->max = max;
	g->fixed = fixed;
	g->limit = gate_off(g) || max < START ? max : START;
	g->count = g->waiting = g->mark = g->run = 0;
	g->patience = 1;
	g->epoch = 0;
}

void ise_inflight_destroy(struct ise_inflight *g)
{
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->room);
}

void ise_inflight_enter(struct ise_inflight *g, struct ise_inflight_ticket *t)
{
	pthread_mutex_lock(&g->lock);
	while (!gate_off(g) && g->count >= g->limit) {
		g->waiting++;
		pthread_cond_wait(&g->room, &g->lock);
		g->waiting--;
	}
	t->position = ++g->count;
	t->epoch = g->epoch;
	t->limit = g->limit;
	pthread_mutex_unlock(&g->lock);
}

/* One success more: climb by one every second success while no refusal
 * has come (the limit grows by half each round trip), every success below
 * the mark, and after a run of patience x limit successes to reach the
 * mark or go past it.  Under the lock. */
static void climb(struct ise_inflight *g)
{
	if (g->limit >= g->max)
		return;
	g->run++;
	unsigned need = !g->mark ? 2 : g->limit + 1 < g->mark ? 1 : g->patience * g->limit;
	if (g->run < need)
		return;
	g->limit++;
	g->run = 0;
	if (g->mark && g->limit > g->mark) {
		/* the server takes more now: go on by a run a step */
		g->mark = g->limit + 1;
		g->patience = 1;
	}
}

void ise_inflight_leave(struct ise_inflight *g, const struct ise_inflight_ticket *t, int success)
{
	(void)t;
	pthread_mutex_lock(&g->lock);
	/* a limit the jobs do not use proves nothing: climb only while at
	 * least half of it was in flight */
	if (success && !gate_off(g) && 2 * g->count >= g->limit)
		climb(g);
	g->count--;
	/* wake as many as may go (one, or two when the limit rose), not every
	 * job that waits: at -j 64 that is 60 threads a reply for nothing */
	unsigned room = g->count < g->limit ? g->limit - g->count : 0;
	for (unsigned n = room < g->waiting ? room : g->waiting; n; n--)
		pthread_cond_signal(&g->room);
	pthread_mutex_unlock(&g->lock);
}

void ise_inflight_busy(struct ise_inflight *g, const struct ise_inflight_ticket *t)
{
	pthread_mutex_lock(&g->lock);
	if (gate_off(g)) {
		/* nothing to lower */
	} else if (t->epoch == g->epoch && g->mark && g->limit == g->mark) {
		/* a probe of the level refused before, after a long run one
		 * below it: that level is still too many and the one below
		 * still enough; back to it, and probe less often */
		g->patience = g->patience * 2 < PATIENCE_MAX ? g->patience * 2 : PATIENCE_MAX;
		g->limit = g->mark - 1 ? g->mark - 1 : 1;
		g->run = 0;
		g->epoch++;
	} else if (t->epoch == g->epoch) {
		/* the first refusal, or one below the mark (the server takes
		 * fewer than it did): halve */
		g->patience = 1;
		g->mark = g->limit;
		g->limit = g->mark / 2 ? g->mark / 2 : 1;
		g->run = 0;
		g->epoch++;
	} else if (t->epoch + 1 == g->epoch && t->position < g->mark) {
		/* the same overload, met with fewer in flight: that many were
		 * too many already */
		g->mark = t->position;
		if (g->limit > g->mark / 2)
			g->limit = g->mark / 2 ? g->mark / 2 : 1;
	}
	pthread_mutex_unlock(&g->lock);
}

int ise_inflight_adapts(const struct ise_inflight *g)
{
	return !gate_off(g);
}

unsigned ise_inflight_limit(struct ise_inflight *g, unsigned *max)
{
	pthread_mutex_lock(&g->lock);
	unsigned limit = g->limit;
	*max = g->max;
	pthread_mutex_unlock(&g->lock);
	return limit;
}
