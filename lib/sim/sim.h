/*
 * sim: one trajectory of the ISE loop.  A simulated user (a model playing
 * the persona, sim/simuser.h, or the offline script's user,
 * sim/offline_user.h) gives one instruction per turn to a tool-using agent
 * (a model, or the offline script's agent, sim/offline_agent.h); every tool
 * call the agent makes runs for real in a workspace of its own
 * (exec/sandbox.h, exec/tools.h), and the user sees what really ran
 * before its next turn.  The trajectory ends when the user says it is done,
 * or fails at a cap (turns, wall time) or on an error.
 *
 * ise_sim_run is called by many threads at once with one shared, read-only
 * configuration; everything it returns belongs to the caller.
 */
#ifndef ISE_SIM_H
#define ISE_SIM_H

#include <cJSON.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lexicon.h"
#include "exec/sandbox.h"
#include "exec/tools.h"
#include "gen/catalog.h"
#include "llm/llm.h"
#include "sim/agentmsg.h"
#include "sim/context.h"
#include "sim/turn.h"

enum ise_verify {
	ISE_VERIFY_REQUIRE, /* a trajectory whose checks fail is rejected: unverified */
	ISE_VERIFY_RECORD,  /* kept, with its verification */
	ISE_VERIFY_OFF,     /* no checks run */
};

struct ise_sim_stats; /* sim/simprogress.h */

struct ise_sim_config {
	struct ise_llm *user_llm, *agent_llm; /* NULL, NULL: the offline engine */
	const char *user_model, *agent_model; /* as asked; may be NULL (the record names the
						 model each server said answered) */
	long context_window;        /* the agent model's, in tokens; 0: unknown (sim/context.h) */
	const char *context_source; /* where it came from, for the record */
	long agent_max_tokens;      /* kept free in the window for each reply */
	long user_context_window;   /* the simulator model's, likewise */
	const char *user_context_source;
	long user_max_tokens;
	const char *user_prompt, *agent_prompt;
	const char *user_prompt_name, *agent_prompt_name; /* file, or "built-in" */
	const struct ise_catalog *catalog;
	const struct ise_lexicon *drift;
	const cJSON *tools; /* the OpenAI function specs the agent gets */
	struct ise_sandbox *sandbox;
	const struct ise_tools_config *tools_config;
	const char *template_name; /* the workspace template, for the record */
	double exec_timeout;       /* a command's default wall time */
	int net;                   /* commands have the network */
	unsigned max_turns, max_steps, sim_attempts, drift_retries;
	double budget;                      /* wall seconds per trajectory */
	enum ise_think think;               /* sent back and stored alike */
	enum ise_textcalls_mode text_calls; /* calls the agent wrote as text */
	enum ise_verify verify;
	const char *keep_dir; /* NULL, or where to save each workspace */
	int timings;          /* put timings in the record */
	uint64_t seed;
	struct ise_sim_stats *stats;
};

struct ise_sim_outcome {
	cJSON *added;        /* the fields the trajectory adds to its intent */
	const char *failure; /* NULL when the trajectory is kept, else why not */
	char error[512];     /* the detail of a failure */
	int fatal;           /* an endpoint is down: stop the run */
};

/* Play one intent (a record with id, natural_language_intent, persona or
 * metadata.persona, tasks).  Without added, the record cannot be played at
 * all (error says why). */
void ise_sim_run(const struct ise_sim_config *c, const cJSON *intent, struct ise_sim_outcome *out);

#endif
