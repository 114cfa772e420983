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
	pthread_cond_init(&g->retry_room, NULL);
	g->max = max;
	g->fixed = fixed;
	g->limit = gate_off(g) || max < START ? max : START;
	g->count = g->waiting = g->retrying = g->mark = g->run = 0;
	g->patience = 1;
	g->epoch = 0;
}

void ise_inflight_destroy(struct ise_inflight *g)
{
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->room);
	pthread_cond_destroy(&g->retry_room);
}

/* Wake as many waiting jobs as may go, retries first; new requests only
 * once no retry waits.  Not every job that waits: at -j 64 that would be
 * 60 threads a reply woken for nothing.  Under the lock. */
static void wake(struct ise_inflight *g)
{
	unsigned room = g->count < g->limit ? g->limit - g->count : 0;
	unsigned n = room < g->retrying ? room : g->retrying;
	for (unsigned i = 0; i < n; i++)
		pthread_cond_signal(&g->retry_room);
	if (g->retrying)
		return; /* the retries go in first, then wake the rest */
	for (n = room < g->waiting ? room : g->waiting; n; n--)
		pthread_cond_signal(&g->room);
}

void ise_inflight_enter(struct ise_inflight *g, struct ise_inflight_ticket *t, int retry)
{
	pthread_mutex_lock(&g->lock);
	/* a new request also waits while a retry does */
	unsigned *queue = retry ? &g->retrying : &g->waiting;
	while (!gate_off(g) && (g->count >= g->limit || (!retry && g->retrying))) {
		++*queue;
		pthread_cond_wait(retry ? &g->retry_room : &g->room, &g->lock);
		--*queue;
	}
	t->position = ++g->count;
	t->epoch = g->epoch;
	t->limit = g->limit;
	/* the new requests held back for this retry may go, room allowing */
	if (retry)
		wake(g);
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
	wake(g);
	pthread_mutex_unlock(&g->lock);
}

int ise_inflight_busy(struct ise_inflight *g, const struct ise_inflight_ticket *t)
{
	pthread_mutex_lock(&g->lock);
	unsigned met = g->limit > t->limit ? g->limit : t->limit;
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
	int lower = !gate_off(g) && g->limit < met;
	pthread_mutex_unlock(&g->lock);
	return lower;
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
