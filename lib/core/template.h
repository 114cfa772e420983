/*
 * template: the one placeholder syntax of the suite, {{NAME}}, in the
 * prompt templates of share/ise/prompts/ and in the catalog's requests,
 * checks and plans (gen/slots.h).
 *
 * A name the caller does not give is left as it is, so a text may show
 * {{...}} literally; a value is a string, or a number printed without an
 * exponent where it can be.  In a prompt template a line "---user---"
 * splits it into the system message (above) and the user message (below).
 * Strings returned are the caller's.
 */
#ifndef ISE_TEMPLATE_H
#define ISE_TEMPLATE_H

#include <cJSON.h>
#include <stddef.h>

/* text[0..n) with every {{name}} that vars (an object of strings and
 * numbers; may be NULL) holds replaced. */
char *ise_template_expand(const char *text, size_t n, const cJSON *vars);

/* A prompt: expanded, white space trimmed at both ends.  A placeholder in
 * the old ${name} form, for a name vars holds, is warned about once. */
char *ise_template_fill(const char *text, size_t n, const cJSON *vars);

/* Split at the line "---user---": *system gets the text above it (NULL when
 * there is no such line) and *user the text below (the whole text when
 * there is none), both filled. */
void ise_template_split(const char *tpl, const cJSON *vars, char **system, char **user);

/* Add name = value (or fallback when value is NULL or empty) to vars. */
void ise_template_var(cJSON *vars, const char *name, const char *value, const char *fallback);

#endif
