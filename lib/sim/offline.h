/*
 * offline: the scripted user and the scripted agent of ise-sim's offline
 * engine, which needs no model and still runs every tool call for real.
 *
 * The user (offline_user.c) opens with the intent's first task and asks
 * for one task per turn, in the persona's register (experience level and
 * style family, lib/register.h); when a step of the last turn failed it
 * restates the task with the error, once; when the network was the only
 * problem it accepts the fallback values; after the last task it asks once
 * for a check, then completes, successful when every task was done.
 *
 * The agent (offline_agent.c) turns the task asked for into the tool calls
 * of its catalog plan, slots filled with the record's task_params (drawn
 * from (seed, id) when the record has none), and sends them a few at a
 * time (consecutive writes together, as parallel calls); a repair reruns
 * the steps that failed; a check lists the workspace and shows the files
 * it wrote.  Its final reply reports what really happened, one line per
 * call, failures included.  A task the catalog does not know is answered
 * honestly: the agent writes the request down and says it cannot do it.
 *
 * Both follow the same script object, one per trajectory; the user hands
 * the agent its work directly rather than through the text of the query.
 */
#ifndef ISE_OFFLINE_H
#define ISE_OFFLINE_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#include "gen/catalog.h"
#include "gen/register.h"
#include "sim/sim.h"

struct ise_offline_task {
	const char *name;
	char *request; /* the request clause, slots filled */
	char *brief;   /* a shorter one (the request when there is none) */
	char *verify;  /* the check, or NULL */
	cJSON *plan;   /* [{tool, args}] with slots filled; NULL: not in the catalog */
	int done;      /* its last attempt had no failure but the network's */
	char *problem; /* what failed last, or NULL */
};

enum ise_offline_ask {
	ISE_ASK_TASK,
	ISE_ASK_REPAIR,
	ISE_ASK_CHECK,
	ISE_ASK_DONE,
};

struct ise_offline {
	struct ise_offline_task *tasks;
	size_t ntasks;
	enum ise_level level;
	enum ise_family family;
	char *first_name, *role;
	gsl_rng *rng;
	/* the user's place in the script */
	enum ise_offline_ask ask;
	size_t task; /* the task asked for */
	/* the agent's work for the current turn */
	cJSON *steps; /* [{tool, args}] still to call, from `next` */
	int next;
	unsigned turn, ncall; /* for call ids */
	cJSON *retry;         /* steps that failed last turn, for a repair */
	cJSON *written;       /* paths written so far, for the check */
};

/* NULL when the intent has no task to play (why says which). */
struct ise_offline *ise_offline_new(const cJSON *intent, const struct ise_catalog *c, uint64_t seed,
				    const char **why);
void ise_offline_free(struct ise_offline *o);

/* The user's decision after turns[0..nturns) (the last one just ended). */
void ise_offline_user(struct ise_offline *o, const struct ise_turn *turns, size_t nturns,
		      struct ise_decision *d);

/* The agent's next message in the current turn (turn holds the calls made
 * so far): *tool_calls (OpenAI form) to run, or NULL and the final *content. */
void ise_offline_agent(struct ise_offline *o, const struct ise_turn *turn, char **content,
		       cJSON **tool_calls);

/* Tools whose failure means only that the network is not there. */
int ise_offline_network_tool(const char *name);

#endif
