/*
 * sim: one trajectory of the ISE loop.  A simulated user (a model playing
 * the persona, lib/simuser.c, or the offline script, lib/offline.c) gives
 * one instruction per turn to a tool-using agent (a model, or the offline
 * script); every tool call the agent makes runs for real in a workspace of
 * its own (lib/sandbox.c, lib/tools.c), and the user sees what really ran
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

#include "gen/catalog.h"
#include "core/lexicon.h"
#include "llm/llm.h"
#include "exec/sandbox.h"
#include "exec/tools.h"

/* What a tool call did, as the user's digest and the offline agent see it. */
struct ise_call {
	char *name;
	char *args;    /* the arguments as the agent sent them */
	int ok;        /* 0: the tool failed or refused the call */
	int exit_code; /* exec: the command's status; -1 otherwise */
	int signal;    /* exec: the signal that ended it */
	int timed_out;
	char *content; /* the text the agent was given */
};

/* 1 when the call failed: refused, timed out, or a command that exited
 * non-zero or was killed (one still running in the background has not). */
int ise_call_failed(const struct ise_call *c);
/* The line of its content that says most: a refusal's first line, else the
 * last line with text that is not the sandbox's note on the exit status;
 * *s points into c->content (NULL when there is none). */
void ise_call_key_line(const struct ise_call *c, const char **s, size_t *len);
/* One line of fact: "exec `make test` -> exit 2: <first line of output>". */
char *ise_call_digest(const struct ise_call *c);

/* One user turn: the query, the calls that ran, the agent's final text. */
struct ise_turn {
	char *query;
	struct ise_call *calls;
	size_t ncalls, cap;
	char *reply;     /* "" when the agent gave no text */
	int step_capped; /* --max-steps ended the turn before a final reply */
};

/* A decision of the simulated user. */
struct ise_decision {
	int completed;
	int is_success; /* 1 or 0; -1 when not given */
	char *query, *reason;
	unsigned attempts; /* requests it took (1 for the offline script) */
	unsigned redrafts; /* of those, asked again for role drift */
};

void ise_decision_release(struct ise_decision *d);

/* Tokens of one role in one trajectory. */
struct ise_role_usage {
	unsigned long requests;
	long prompt_tokens, completion_tokens;
	int estimated;
};

void ise_role_usage_add(struct ise_role_usage *u, const struct ise_llm_reply *r);

enum ise_think {
	ISE_THINK_KEEP,   /* reasoning as reasoning_content */
	ISE_THINK_INLINE, /* <think>...</think> before the content */
	ISE_THINK_DROP,
};

/* Counters for the progress line, shared by every worker. */
struct ise_sim_stats {
	atomic_ullong done, kept, rejected, turns, calls, tokens;
};

struct ise_sim_config {
	struct ise_llm *user_llm, *agent_llm; /* NULL, NULL: the offline engine */
	const char *user_model, *agent_model; /* for the record; may be NULL */
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
	double budget; /* wall seconds per trajectory */
	enum ise_think think;
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

/* A progress line on standard error (done, kept, rejected, user turns and
 * tokens a second) every few seconds, from a thread of its own, when force
 * is set or standard error is a terminal; stop prints the last one. */
struct ise_sim_progress;
struct ise_sim_progress *ise_sim_progress_start(struct ise_sim_stats *stats, int force);
void ise_sim_progress_stop(struct ise_sim_progress *p);

/* A role's endpoint (role "USER" or "AGENT"): the first set of base_url
 * and model (the role's options; may be NULL), ISE_<ROLE>_BASE_URL,
 * _API_KEY and _MODEL, and common (the common options over OPENAI_BASE_URL,
 * OPENAI_API_KEY and ISE_MODEL). */
struct ise_llm_config ise_sim_role(const struct ise_llm_config *common, const char *role,
				   const char *base_url, const char *model);
/* 1 when both roles can share one client: same URL, key and model. */
int ise_sim_same_endpoint(const struct ise_llm_config *a, const struct ise_llm_config *b);
/* The agent's tool specs: the catalog's, or those of path (a JSON array of
 * OpenAI function specs, or an object with one under "tools"); a bad file
 * is a usage error.  The caller owns the array. */
cJSON *ise_sim_tools(const char *path, const struct ise_catalog *catalog);

/* The persona of an intent: persona, or metadata.persona; NULL when none. */
const cJSON *ise_sim_persona(const cJSON *intent);

#endif
