/*
 * render_llm: the LLM engine's request, the chat messages that ask a model
 * for a tuple's intent.  The array returned is the caller's (cJSON_Delete).
 */
#ifndef ISE_RENDER_LLM_H
#define ISE_RENDER_LLM_H

#include <cJSON.h>

#include "gen/catalog.h"

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
