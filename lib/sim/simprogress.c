/*
 * simprogress: ise-sim's progress line.  A trajectory takes seconds to
 * minutes, so the line comes from a timer thread rather than from the
 * record loop, and counts turns and tokens as well as records.
 */
#include "sim/simprogress.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/xalloc.h"
#include "llm/llm.h"

struct ise_sim_progress {
	struct ise_sim_stats *stats;
	struct ise_llm *user, *agent;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop, tty;
	double start;
};

static void show(const struct ise_sim_progress *p)
{
	double t = ise_now() - p->start;
	char line[384], user[64] = "", agent[64] = "";

	if (t <= 0)
		t = 1e-9;
	if (p->user)
		ise_llm_jobs_note(p->user, p->agent ? "user" : NULL, user, sizeof user);
	if (p->agent)
		ise_llm_jobs_note(p->agent, "agent", agent, sizeof agent);
	/* a whole line each time: on a terminal it goes above the pool's own */
	int n = snprintf(line, sizeof line,
			 "%s%s: %llu done (%llu kept, %llu rejected), %.2f turns/s, %.0f tokens/s, "
			 "%llu tool calls%s%s%s\n",
			 p->tty ? "\r" : "", ise_progname(), atomic_load(&p->stats->done),
			 atomic_load(&p->stats->kept), atomic_load(&p->stats->rejected),
			 (double)atomic_load(&p->stats->turns) / t,
			 (double)atomic_load(&p->stats->tokens) / t, atomic_load(&p->stats->calls),
			 user, agent, p->tty ? "\033[K" : "");
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
			     (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void *run(void *arg)
{
	struct ise_sim_progress *p = arg;
	double period = p->tty ? 2.0 : 5.0;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)period;
		int rc = 0;
		while (!p->stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&p->wake, &p->lock, &until);
		if (!p->stop)
			show(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct ise_sim_progress *ise_sim_progress_start(struct ise_sim_stats *stats, int force,
						struct ise_llm *user, struct ise_llm *agent)
{
	int tty = isatty(STDERR_FILENO);

	if (!force && !tty)
		return NULL;
	struct ise_sim_progress *p = ise_xcalloc(1, sizeof *p);
	p->stats = stats;
	p->user = user;
	p->agent = agent;
	p->tty = tty;
	p->start = ise_now();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (pthread_create(&p->thread, NULL, run, p))
		ise_fatal("cannot start the progress thread");
	return p;
}

void ise_sim_progress_stop(struct ise_sim_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	show(p);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p);
}
