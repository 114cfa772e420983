/*
 * view: what one sample of a trajectory holds, and the choices every
 * format makes alike: which assistant messages keep their reasoning
 * (--think, --per-turn) and which are trained (their weight).
 *
 * A sample is the first `end` messages of the conversation.  With
 * --per-turn there is one sample a user turn, ending with that turn, and
 * only that turn is trained and keeps its reasoning: the turns before it
 * are history, as a chat template shows them.  A view borrows everything
 * it points to.
 */
#ifndef ISE_EXPORT_VIEW_H
#define ISE_EXPORT_VIEW_H

#include <stddef.h>

#include "core/strbuf.h"
#include "export/conversation.h"

enum ise_export_format {
	ISE_EXPORT_OPENAI,
	ISE_EXPORT_SHAREGPT,
	ISE_EXPORT_MESSAGES,
	ISE_EXPORT_QWEN3,
};

enum ise_export_think {
	ISE_EXPORT_THINK_KEEP, /* every assistant message keeps its reasoning */
	ISE_EXPORT_THINK_DROP, /* none does */
	ISE_EXPORT_THINK_LAST, /* those after the last user request do */
};

struct ise_export_config {
	enum ise_export_format format;
	enum ise_export_think think;
	int per_turn;
	int arguments_object; /* messages, qwen3: arguments as objects, not JSON text */
	int no_id;            /* samples without "id" */
	unsigned weight_zero; /* the audit checks whose turns are not trained (weights.h) */
};

struct ise_view {
	const struct ise_export_config *cf;
	const struct ise_conv *c;
	size_t end;                     /* the sample is messages [0, end) */
	unsigned turn;                  /* --per-turn: the turn it trains; 0 with all */
	size_t last_query;              /* the last real request before end, or end */
	const unsigned char *zero_turn; /* [turn] 1 when --weight-zero names it; or NULL */
	struct ise_text tools;          /* the tools as the format writes them (once a record) */
};

/* Set v->last_query from v->end. */
void ise_view_settle(struct ise_view *v);
/* Whether assistant message i keeps its reasoning in this sample. */
int ise_view_keeps_reasoning(const struct ise_view *v, size_t i);
/* The weight of assistant message i: 0 when it is not trained. */
int ise_view_weight(const struct ise_view *v, size_t i);
/* Whether a "weight" is written for assistant message i: when the record
 * had one, or with --weight-zero or --per-turn. */
int ise_view_writes_weight(const struct ise_view *v, size_t i);
/* The sample's id: the record's, or with --per-turn "ID#TURN" (made in
 * buf); NULL when the record has none. */
const char *ise_view_id(const struct ise_view *v, struct ise_strbuf *buf);
/* Open a sample's object in b: '{', and its "id" first when id is not NULL. */
void ise_view_open_sample(struct ise_strbuf *b, const char *id);

#endif
