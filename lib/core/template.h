/*
 * template: the prompt templates of share/ise/prompts/.
 *
 * A template is plain text in which ${NAME} stands for a variable; a name
 * the caller does not give is left as it is, so a template may show ${...}
 * literally.  A line "---user---" splits a template into the system message
 * (above) and the user message (below).  Strings returned are the caller's.
 */
#ifndef ISE_TEMPLATE_H
#define ISE_TEMPLATE_H

#include <cJSON.h>
#include <stddef.h>

/* text[0..n) with every ${name} that vars (an object of strings) holds
 * replaced, white space trimmed at both ends. */
char *ise_template_fill(const char *text, size_t n, const cJSON *vars);

/* Split at the line "---user---": *system gets the text above it (NULL when
 * there is no such line) and *user the text below (the whole text when
 * there is none), both filled. */
void ise_template_split(const char *tpl, const cJSON *vars, char **system, char **user);

/* Add name = value (or fallback when value is NULL or empty) to vars. */
void ise_template_var(cJSON *vars, const char *name, const char *value, const char *fallback);

#endif
