/*
 * simuser: the simulated user played by a model (the paper's Stage 2).
 *
 * Each turn the model gets the persona-filled prompt (share/ise/prompts/
 * user.txt, or --user-prompt) with the conversation as the user saw it:
 * its own queries, the agent's final replies, and a digest of what really
 * ran (tools, exit codes, errors), so that it follows the real state and
 * not the agent's account of it.  It answers one JSON object
 * {completed, query, reason, is_success?}, parsed strictly: booleans must
 * be JSON booleans and an unfinished turn needs a non-empty query.  A reply
 * that fails is asked for again with the reason appended and a new seed;
 * a query in the assistant's voice (a phrase of the role-drift lexicon) is
 * asked for again the same way, up to its own limit.
 */
#ifndef ISE_SIMUSER_H
#define ISE_SIMUSER_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lexicon.h"
#include "llm/llm.h"
#include "sim/turn.h"

struct ise_simuser {
	struct ise_llm *llm;
	const char *prompt;              /* the template */
	const struct ise_lexicon *drift; /* the role-drift phrases */
	unsigned attempts;               /* requests for a usable decision */
	unsigned drift_retries;          /* further requests for a query that drifts */
};

enum ise_simuser_status {
	ISE_SIMUSER_OK,
	ISE_SIMUSER_ERROR, /* no usable decision: simulator_error */
	ISE_SIMUSER_DRIFT, /* every query was in the assistant's voice: role_drift */
	ISE_SIMUSER_FATAL, /* the endpoint is down */
};

/* The decision for user turn nturns + 1 of at most max_turns (one more
 * than max_turns: the last call, which may only finish).  d is filled on
 * OK; usage counts every request; err says why otherwise. */
enum ise_simuser_status ise_simuser_decide(const struct ise_simuser *u, const cJSON *persona,
					   const char *intent, const struct ise_turn *turns,
					   size_t nturns, unsigned max_turns, uint64_t seed,
					   struct ise_decision *d, struct ise_role_usage *usage,
					   char *err, size_t errlen);

/* [system, user]: the request's messages for that turn. */
cJSON *ise_simuser_messages(const char *prompt, const cJSON *persona, const char *intent,
			    const struct ise_turn *turns, size_t nturns, unsigned max_turns);

/* NULL when json is a valid decision (d filled, strings copied), else why not. */
const char *ise_decision_parse(const cJSON *json, struct ise_decision *d);

#endif
