/*
 * conversation: one trajectory's messages, checked and laid out for the
 * exporters.
 *
 * ise_conv_load reads a record's messages (OpenAI chat format, as ise-sim,
 * the reference pipeline and ise-export --format openai write them) into a
 * flat array: each assistant message with its text, its reasoning
 * (reasoning_content, or an inline <think> block split off its text the way
 * Qwen3's template splits it) and its calls with their arguments parsed;
 * each tool message with the call it answers; every message with the user
 * turn it belongs to.  A trajectory that cannot be exported (a tool message
 * without its call, a call without its result, arguments that are not a
 * JSON object...) is refused with a message that says where.
 *
 * Strings point into the record, which must outlive the conversation; the
 * parsed arguments belong to it.  One conversation is reused record after
 * record (its arrays keep their memory); ise_conv_release frees it.
 */
#ifndef ISE_EXPORT_CONVERSATION_H
#define ISE_EXPORT_CONVERSATION_H

#include <cJSON.h>
#include <stddef.h>

enum ise_msg_role {
	ISE_MSG_SYSTEM,
	ISE_MSG_USER,
	ISE_MSG_ASSISTANT,
	ISE_MSG_TOOL,
};

/* A piece of text: s[0..n), not NUL-terminated in general. */
struct ise_text {
	const char *s;
	size_t n;
};

struct ise_export_call {
	const char *id, *name;
	const cJSON *given;  /* the arguments as in the record: a string or an object */
	const cJSON *object; /* the arguments as an object (given, or parsed from it) */
	cJSON *parsed;       /* what was parsed, owned; NULL when given is the object */
};

struct ise_message {
	enum ise_msg_role role;
	size_t index;            /* in the record's messages array */
	unsigned turn;           /* the user turn it belongs to, from 1 */
	int query;               /* user: a real request, not only tool responses */
	struct ise_text content; /* assistant: without an inline <think> block */
	/* assistant: the reasoning (s NULL when there is none), and whether it
	 * came as reasoning_content (else from <think> in the text) */
	struct ise_text reasoning;
	int reasoning_field;
	size_t first_call, ncalls; /* assistant: its calls in conv.calls */
	size_t call;               /* tool: the call it answers, in conv.calls */
	int weight;                /* assistant: the record's weight, 0 or 1; -1 none */
};

struct ise_conv {
	const char *id; /* id, else intent_id, else session_id; NULL if none */
	struct ise_message *msgs;
	size_t n, msgs_cap;
	struct ise_export_call *calls;
	size_t ncalls, calls_cap;
	const cJSON *tools;      /* the record's tools when a non-empty array, else NULL */
	unsigned turns;          /* user turns (real requests) */
	unsigned char *answered; /* while loading: which calls have their result */
	size_t answered_cap;
};

void ise_conv_init(struct ise_conv *c);
/* Lay out record's messages; 0, or -1 with err saying why it cannot be
 * exported. */
int ise_conv_load(struct ise_conv *c, const cJSON *record, char *err, size_t errlen);
void ise_conv_release(struct ise_conv *c);

/* The record's id as ise_conv_load takes it (id, intent_id, session_id). */
const char *ise_conv_record_id(const cJSON *record);

/* Split text at Qwen3's rule for an inline <think> block: when it holds
 * "</think>", the reasoning is what comes before the first "</think>",
 * without trailing newlines, after the last "<think>" in it, without
 * leading newlines; the text is what follows the last "</think>", without
 * leading newlines.  0 when there is no "</think>" (nothing set). */
int ise_think_split(struct ise_text text, struct ise_text *reasoning, struct ise_text *rest);

#endif
