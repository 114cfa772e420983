/*
 * render: a structured tuple (ise-sample) to a natural-language intent.
 *
 * ise_render_params draws the values of every task's typed slots; the
 * offline engine turns tuple + values into one first-person request in the
 * persona's register; ise_render_messages builds the chat request for an
 * LLM renderer from a prompt template; ise_render_check decides whether a
 * reply can be kept.  Randomness comes only from the generator passed in,
 * so a record seeded from (seed, id) renders the same anywhere.  Returned
 * cJSON trees and strings belong to the caller (cJSON_Delete / free).
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

/*
 * The offline intent: one first-person request of ISE_RENDER_MIN_WORDS to
 * ISE_RENDER_MAX_WORDS words in the persona's voice that asks for every
 * task of the tuple, in order, with the values of params (from
 * ise_render_params), and names a deliverable.  Register follows the
 * persona's experience_level and style_family (derived from
 * communication_style when absent), extra checks follow the complexity.
 * A task missing from c or params is asked for by its description.
 */
char *ise_render_offline(const cJSON *tuple, const struct ise_catalog *c, const cJSON *params,
			 gsl_rng *r);

/* Words of text: runs of non-space characters. */
unsigned ise_render_words(const char *text);

/*
 * NULL if an LLM reply is usable as an intent, else one of these reasons:
 * "empty", "wrapped in json", "wrapped in a code fence", "contains a
 * leftover placeholder", "contains markdown", "a refusal", "written as the
 * assistant", "contains a note about the text", "too short", "too long"
 * (bounds in words, inclusive; max_words 0 means no upper bound).
 */
const char *ise_render_check(const char *text, unsigned min_words, unsigned max_words);

/*
 * [{role: system, content}, {role: user, content}] from prompt_template, a
 * text whose line "---user---" separates the system part from the user part
 * (without that line the whole text is the user message and no system
 * message is made).  ${NAME} is replaced for these names, anything else is
 * left as it is:
 *   persona.name persona.role persona.industry persona.experience_level
 *   persona.communication_style persona.style_family persona.work_context
 *   persona.expertise persona.goals complexity complexity_rule ntasks tasks
 *   checks register style min_words max_words
 * tasks is a numbered list "N. Name — description — filled request", checks
 * a list of the tasks' filled verify phrases; complexity_rule, register and
 * style are instructions for the complexity (with the checks when complex),
 * the persona's level and its style family.
 */
cJSON *ise_render_messages(const char *prompt_template, const cJSON *tuple,
			   const struct ise_catalog *c, const cJSON *params, unsigned min_words,
			   unsigned max_words);

#endif
