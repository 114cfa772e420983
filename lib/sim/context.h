/*
 * context: keeping the agent's conversation inside the model's context
 * window, as SWE-agent and OpenHands do, by cutting old tool outputs.
 *
 * Before each agent request its size is estimated: the characters of its
 * messages and tools over the characters a token takes (3 until the server
 * has counted a prompt of this trajectory, then what its counts say), a
 * few tokens a message for the chat template, and the reply's max_tokens.
 * When that is over the window, the oldest tool outputs before the last
 * ISE_CONTEXT_KEEP_TURNS user turns are replaced, in the request only, by
 * a marker that says how much was cut, until a quarter of the window is
 * free again.  A cut output stays cut in every later request, so the
 * prompt's prefix (what a server's prefix cache reuses) changes only at
 * those events, and they are counted.  When nothing is left to cut the
 * trajectory cannot go on: context_exceeded.
 *
 * The stored trajectory keeps every output whole; ise_context_record says
 * which messages were cut, from which request on.
 *
 * One struct ise_context per trajectory, used by one thread.
 */
#ifndef ISE_CONTEXT_H
#define ISE_CONTEXT_H

#include <cJSON.h>
#include <stddef.h>

#define ISE_CONTEXT_KEEP_TURNS 2

struct ise_context {
	long window;            /* tokens; 0: unknown, nothing is cut */
	const char *source;     /* where the window came from; static text */
	long reserve;           /* tokens kept for the reply (max_tokens) */
	double chars_per_token; /* learnt from the server's counts */
	unsigned char *cut;     /* cut[i]: message i is cut */
	size_t ncut;
	cJSON *elided; /* [{message, chars, lines, request}] */
	unsigned long prefix_changes;
};

void ise_context_init(struct ise_context *c, long window, const char *source, long reserve);
void ise_context_release(struct ise_context *c);

/* Make messages (a request's copy of the conversation, index for index
 * the stored one) fit with tools: apply the cuts made so far and make new
 * ones if needed.  request numbers the agent's requests from 1, for the
 * record.  *chars gets the request's size in characters.  0 when it fits
 * (always, when the window is unknown); -1 when it cannot, err saying by
 * how much. */
int ise_context_fit(struct ise_context *c, cJSON *messages, const cJSON *tools,
		    unsigned long request, size_t *chars, char *err, size_t errlen);

/* Whether messages, with extra characters more, are over the window
 * (low: over the share of it a cut frees down to); never when the window
 * is unknown.  *chars gets their size in characters.  For the simulated
 * user's requests, which ise_simuser_decide shortens itself. */
int ise_context_over(const struct ise_context *c, const cJSON *messages, size_t extra, int low,
		     size_t *chars);

/* The server counted prompt_tokens for a request of chars characters. */
void ise_context_learn(struct ise_context *c, long prompt_tokens, size_t chars);

/* The server refused a request of chars characters as too long for its
 * window, giving window and prompt tokens where it said them (else 0).  1
 * when that teaches something (fit again and ask again), 0 when not. */
int ise_context_refused(struct ise_context *c, long window, long prompt, size_t chars);

/* {window, source, elided[], prefix_changes}: the record's field. */
cJSON *ise_context_record(const struct ise_context *c);

#endif
