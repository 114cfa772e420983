/*
 * script: the offline engine of ise-sim, which needs no model and still
 * runs every tool call for real, plays one script object per trajectory:
 * the intent's tasks, each with its request clause and its catalog plan,
 * slots filled with the record's task_params (drawn from (seed, id) when
 * the record has none), and where the scripted user (offline_user.h) and
 * the scripted agent (offline_agent.h) have got to.  The user hands the
 * agent its work directly through the script rather than through the text
 * of the query.
 */
#ifndef ISE_SCRIPT_H
#define ISE_SCRIPT_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#include "gen/catalog.h"
#include "gen/register.h"

struct ise_offline_task {
	const char *name;
	char *request; /* the request clause, slots filled */
	char *brief;   /* a shorter one (the request when there is none) */
	char *verify;  /* the check, or NULL */
	cJSON *plan;   /* [{tool, args}] with slots filled; NULL: not in the catalog */
	int done;      /* its last attempt had no failure but the network's */
	char *problem; /* what failed last, or NULL */
	/* the task environment, slots filled (NULL when none) */
	const char *id; /* the catalog's task id, or NULL */
	char *setup;    /* the shell script that makes the starting state */
	cJSON *state;   /* [{path, holds?} | {branch, repo}]: what setup must make */
	cJSON *checks;  /* [{what, command, timeout?}] */
	int given;      /* the slot values came with the record (task_params) */
};

enum ise_offline_ask {
	ISE_ASK_TASK,
	ISE_ASK_REPAIR,
	ISE_ASK_CHECK,
	ISE_ASK_DONE,
};

struct ise_script {
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
struct ise_script *ise_script_new(const cJSON *intent, const struct ise_catalog *c, uint64_t seed,
				  const char **why);
void ise_script_free(struct ise_script *o);

/* Tools whose failure means only that the network is not there. */
int ise_script_network_tool(const char *name);

#endif
