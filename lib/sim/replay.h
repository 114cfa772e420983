/*
 * replay: run a trajectory's tool calls again, in order, in a fresh
 * workspace made from its tasks' setups, and say where the results part
 * from the recorded ones and whether the checks still pass.  A trajectory
 * that replays is one an environment can reset to any of its steps.
 *
 * Results are compared after what a clock or the process table decides is
 * masked: times of day, dates and timestamps, durations, commit and other
 * long hex hashes, process ids and background session names.  A call whose
 * text differed only there is named as normalised, not as a divergence.
 */
#ifndef ISE_REPLAY_H
#define ISE_REPLAY_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/sandbox.h"
#include "exec/toolconf.h"
#include "gen/catalog.h"

struct ise_replay_config {
	struct ise_sandbox *sandbox;
	const struct ise_tools_config *tools;
	const struct ise_catalog *catalog;
	uint64_t seed; /* the seed the trajectory was made with (offline slot draws) */
	int timings;   /* each check's duration_ms */
};

/* {calls, diverged: null | {call, name, recorded, replayed}, normalised:
 * [call numbers], verification} for the trajectory (a record with
 * messages); NULL with err when it cannot be replayed at all. */
cJSON *ise_replay(const struct ise_replay_config *c, const cJSON *trajectory, char *err,
		  size_t errlen);

#endif
