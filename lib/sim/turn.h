/*
 * turn: the vocabulary of a trajectory that the loop (sim.h), the simulated
 * users (simuser.h, offline_user.h) and the offline agent share: what a
 * tool call did, one user turn, a decision of the simulated user, a role's
 * token usage, and an intent's persona.
 */
#ifndef ISE_TURN_H
#define ISE_TURN_H

#include <cJSON.h>
#include <stddef.h>

#include "llm/llm.h"

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

/* Tokens of one role in one trajectory, and the model its server named in
 * its first reply that named one ("" when none did). */
struct ise_role_usage {
	unsigned long requests;
	long prompt_tokens, completion_tokens;
	int estimated;
	char model[256];
};

void ise_role_usage_add(struct ise_role_usage *u, const struct ise_llm_reply *r);

/* The persona of an intent: persona, or metadata.persona; NULL when none. */
const cJSON *ise_sim_persona(const cJSON *intent);

#endif
