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
 *
 * The conversation grows with every turn; when the request would not fit
 * the simulator model's context window (estimated as context.h does,
 * learnt from the server's token counts and refusals), the oldest turns
 * outside the last ISE_CONTEXT_KEEP_TURNS are first shown briefly (the
 * query and the reply's start, no digest of the calls), then left out
 * under one line that says so, as little as frees a quarter of the window.
 */
#ifndef ISE_SIMUSER_H
#define ISE_SIMUSER_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lexicon.h"
#include "llm/llm.h"
#include "sim/context.h"
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
	ISE_SIMUSER_ERROR,   /* no usable decision: simulator_error */
	ISE_SIMUSER_DRIFT,   /* every query was in the assistant's voice: role_drift */
	ISE_SIMUSER_FATAL,   /* the endpoint is down */
	ISE_SIMUSER_CONTEXT, /* the request cannot fit the window: context_exceeded */
};

/* One trajectory's fitting of the simulator's requests to its window. */
struct ise_simuser_fit {
	struct ise_context *context; /* the window and the estimate; NULL: no limit */
	size_t brief;                /* the oldest turns shown briefly */
	size_t omitted;              /* ... and, of those, left out */
	unsigned long changes;       /* the times the shortening grew */
};

/* The decision for user turn nturns + 1 of at most max_turns (one more
 * than max_turns: the last call, which may only finish).  d is filled on
 * OK; fit is the trajectory's, kept from turn to turn; usage counts every
 * request; err says why otherwise. */
enum ise_simuser_status ise_simuser_decide(const struct ise_simuser *u, const cJSON *persona,
					   const char *intent, const struct ise_turn *turns,
					   size_t nturns, unsigned max_turns, uint64_t seed,
					   struct ise_simuser_fit *fit, struct ise_decision *d,
					   struct ise_role_usage *usage, char *err, size_t errlen);

/* [system, user]: the request's messages for that turn, the first brief
 * turns shown briefly and the first omitted of them left out. */
cJSON *ise_simuser_messages(const char *prompt, const cJSON *persona, const char *intent,
			    const struct ise_turn *turns, size_t nturns, unsigned max_turns,
			    size_t brief, size_t omitted);

/* NULL when json is a valid decision (d filled, strings copied), else why not. */
const char *ise_decision_parse(const cJSON *json, struct ise_decision *d);

#endif
