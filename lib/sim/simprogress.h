/*
 * simprogress: ise-sim's progress line.  A trajectory takes seconds to
 * minutes, so the line comes from a timer thread rather than from the
 * record loop, and counts turns and tokens as well as records.
 */
#ifndef ISE_SIMPROGRESS_H
#define ISE_SIMPROGRESS_H

#include <stdatomic.h>

/* Counters for the progress line, shared by every worker. */
struct ise_sim_stats {
	atomic_ullong done, kept, rejected, turns, calls, tokens;
};

/* A progress line on standard error (done, kept, rejected, user turns and
 * tokens a second) every few seconds, from a thread of its own, when force
 * is set or standard error is a terminal; stop prints the last one. */
struct ise_sim_progress;
struct ise_sim_progress *ise_sim_progress_start(struct ise_sim_stats *stats, int force);
void ise_sim_progress_stop(struct ise_sim_progress *p);

#endif
