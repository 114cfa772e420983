/*
 * render: a structured tuple (ise-sample) to a natural-language intent.
 *
 * ise_render_params draws the values of every task's typed slots; the
 * offline engine (render_offline.h) turns tuple + values into one
 * first-person request in the persona's register; ise_render_messages
 * (render_llm.h) builds the chat request for an LLM renderer from a prompt
 * template; ise_render_check (render_check.h) decides whether a reply can
 * be kept.  Randomness comes only from the generator passed in, so a record
 * seeded from (seed, id) renders the same anywhere.  Returned cJSON trees
 * and strings belong to the caller (cJSON_Delete / free).
 */
#ifndef ISE_RENDER_H
#define ISE_RENDER_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>

#include "gen/catalog.h"

/* The length the offline engine keeps to, and the default check bounds. */
#define ISE_RENDER_MIN_WORDS 90
#define ISE_RENDER_MAX_WORDS 160

/*
 * {task_id: {slot: value}} for every task of tuple, in the tuple's order,
 * tasks looked up in c by id.  NULL when the tuple has no task array, a task
 * has no string id or an id is not in c; *why (if why is not NULL) then says
 * which, in a buffer of the calling thread valid until its next call.
 */
cJSON *ise_render_params(const cJSON *tuple, const struct ise_catalog *c, gsl_rng *r,
			 const char **why);

/* Words of text: runs of non-space characters. */
unsigned ise_render_words(const char *text);

#endif
