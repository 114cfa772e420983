/*
 * simprogress: ise-sim's progress line.  A trajectory takes seconds to
 * minutes, so the line comes from a timer thread rather than from the
 * record loop, and counts turns and tokens as well as records.
 */
#ifndef ISE_SIMPROGRESS_H
#define ISE_SIMPROGRESS_H

#include <stdatomic.h>

struct ise_llm; /* llm/llm.h */

/* Counters for the progress line, shared by every worker. */
struct ise_sim_stats {
	atomic_ullong done, kept, rejected, turns, calls, tokens;
};

/* A progress line on standard error (done, kept, rejected, user turns and
 * tokens a second, and each client's lowered limit on requests in flight
 * while a busy server keeps it below -j) every few seconds, from a thread
 * of its own, when force is set or standard error is a terminal; stop
 * prints the last one.  user: the simulated user's client (NULL offline);
 * agent: the agent's when it has a limit of its own (another server),
 * else NULL: the line names the roles only then. */
struct ise_sim_progress;
struct ise_sim_progress *ise_sim_progress_start(struct ise_sim_stats *stats, int force,
						struct ise_llm *user, struct ise_llm *agent);
void ise_sim_progress_stop(struct ise_sim_progress *p);

#endif
