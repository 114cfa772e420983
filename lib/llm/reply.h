/*
 * reply: what a chat reply means, whatever server sent it.
 *
 * Servers hand back a model's reasoning in a field of its own
 * (reasoning_content, reasoning), inline in the content between <think>
 * tags, or both at once (llama-server's deepseek-legacy format); a reply
 * may be cut at the token limit, inside its reasoning or after it, or hold
 * reasoning and no answer.  The rules here decide what is the answer and
 * whether a program may keep it; ise-sim, ise-render and ise-persona all
 * go by them, through lib/llm.  Nothing is ever taken from reasoning as an
 * answer.
 *
 * Strings are malloc'd and belong to the caller; nothing here keeps state.
 */
#ifndef ISE_REPLY_H
#define ISE_REPLY_H

#include <stddef.h>

/*
 * Move the reasoning in *content to *reasoning (NULL when none):
 *   <think>R</think>A   R is reasoning, A the content;
 *   R</think>A          the same (the template opened the tag itself);
 *   T<think>R           no closing tag (cut by the token limit, or a
 *                       server with no reasoning parser): R is reasoning,
 *                       only T stays content;
 * and again for every further block.  Reasoning that is already in
 * *reasoning (given in a field as well) is kept once.  Both stay trimmed.
 */
void ise_reply_split_think(char **content, char **reasoning);

/* Add more reasoning to *reasoning unless it holds it already (or more
 * holds all of it: then more replaces it); blank text adds nothing. */
void ise_reply_add_reasoning(char **reasoning, const char *more);

enum ise_reply_kind {
	ISE_REPLY_USABLE,         /* an answer, or tool calls */
	ISE_REPLY_CUT,            /* no tool call, and cut at the token limit */
	ISE_REPLY_REASONING_ONLY, /* reasoning, but neither text nor a tool call */
	ISE_REPLY_EMPTY,          /* nothing at all */
};

/* What a reply (its reasoning already split off) is.  A reply with tool
 * calls is usable even when cut: each call is checked when it runs. */
enum ise_reply_kind ise_reply_kind(const char *content, const char *reasoning, int has_calls,
				   const char *finish_reason);

/* One line for the person running the program: what happened to a reply of
 * that kind and what to change.  max_tokens is what the request allowed
 * (0 or less: the server's own limit). */
void ise_reply_explain(enum ise_reply_kind kind, const char *content, const char *reasoning,
		       long max_tokens, char *buf, size_t size);

#endif
