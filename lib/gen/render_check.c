/*
 * render_check: whether an LLM's reply can be kept as an intent (see
 * render_check.h): no wrapping, placeholder, markdown, refusal, assistant
 * voice or note about the text, and a length within bounds.
 */
#include "gen/render_check.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gen/render.h"
#include "gen/render_int.h"
#include "core/strbuf.h"

/* ---- checking an LLM reply ---- */

/* text in lower case with typographic apostrophes and quotes made plain */
static char *normalise(const char *text)
{
	struct ise_strbuf t = {0};

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99)) {
			ise_sb_puts(&t, "'"), p += 2;
		} else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x9C || p[2] == 0x9D)) {
			ise_sb_puts(&t, "\""), p += 2;
		} else {
			char ch = (char)tolower(*p);
			ise_sb_add(&t, &ch, 1);
		}
	}
	return ise_sb_take(&t);
}

/* s holds one of list as whole words: "as an ai" is not in "as an airline pilot" */
static int contains_any(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(list[i]);
		for (const char *p = s; (p = strstr(p, list[i])); p++)
			if ((p == s || !isalnum((unsigned char)p[-1]) ||
			     !isalnum((unsigned char)p[0])) &&
			    (!isalnum((unsigned char)p[k]) || !isalnum((unsigned char)p[k - 1])))
				return 1;
	}
	return 0;
}

/* s starts with one of list as a whole word or phrase */
static int starts_with_any(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(list[i]);
		if (!strncmp(s, list[i], k) &&
		    (!isalnum((unsigned char)s[k]) || !isalnum((unsigned char)s[k - 1])))
			return 1;
	}
	return 0;
}

static int markdown(const char *text)
{
	for (const char *line = text; line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (line[0] == '#' && (line[1] == '#' || line[1] == ' '))
			return 1;
	}
	return strstr(text, "**") != NULL;
}

const char *ise_render_check(const char *text, unsigned min_words, unsigned max_words)
{
	/* a user may well write "I can't get cron to fire": refusals are
	 * matched by what is refused, or by an apology at the very start */
	static const char *const refusal_anywhere[] = {
	    "as an ai",
	    "as a language model",
	    "i cannot help with",
	    "i can't help with",
	    "i can't assist with",
	    "i cannot assist with",
	    "i'm unable to help",
	    "i am unable to help",
	    "i'm not able to help",
	    "i won't be able to help",
	    "i can't fulfill",
	    "i cannot fulfill",
	    "i can't comply",
	    "i cannot comply",
	    "i must decline",
	    "i'm sorry, but i",
	    "i am sorry, but i",
	    "i apologize, but i",
	    "against my guidelines",
	    "violates my",
	};
	static const char *const refusal_start[] = {
	    "i'm sorry",        "i am sorry",       "sorry",
	    "i apologize",      "unfortunately, i", "i can't help",
	    "i cannot help",    "i can't assist",   "i cannot assist",
	    "i can't create",   "i cannot create",  "i can't write",
	    "i cannot write",   "i can't generate", "i cannot generate",
	    "i can't provide",  "i cannot provide", "i can't do that",
	    "i cannot do that", "i won't",          "i will not",
	};
	static const char *const assistant_start[] = {
	    "sure",
	    "certainly",
	    "of course",
	    "absolutely",
	    "here is",
	    "here's",
	    "here are",
	    "below is",
	    "okay, here",
	    "ok, here",
	    "alright, here",
	    "great question",
	    "as requested",
	    "as your assistant",
	    "i'd be happy to",
	    "i would be happy to",
	    "happy to help",
	    "request:",
	    "intent:",
	    "user:",
	};
	static const char *const assistant_anywhere[] = {
	    "as your assistant",
	    "i'd be happy to help",
	    "i would be happy to help",
	    "sure, here is",
	    "sure, here's",
	    "here is a first-person",
	    "here's a first-person",
	    "here is the request",
	    "here's the request",
	    "here is your request",
	    "here's your request",
	    "here is the intent",
	    "hope this helps",
	    "let me know if you'd like me to",
	    "let me know if you want me to",
	    "i hope this meets",
	};
	static const char *const notes[] = {"word count:", "(word count", "words)", "(note:"};

	if (!text)
		return "empty";
	const char *p = text;
	while (*p && isspace((unsigned char)*p))
		p++;
	if (!*p)
		return "empty";
	if (*p == '{' || *p == '[')
		return "wrapped in json";
	if (strstr(p, "```"))
		return "wrapped in a code fence";
	if (strstr(p, "{{") || strstr(p, "${"))
		return "contains a leftover placeholder";
	if (markdown(p))
		return "contains markdown";

	char *low = normalise(p);
	const char *start = low;
	while (*start == '"' || *start == '\'' || *start == '*' || *start == '>' || *start == ' ')
		start++;
	const char *why = NULL;
	if (contains_any(low, refusal_anywhere, COUNT(refusal_anywhere)) ||
	    starts_with_any(start, refusal_start, COUNT(refusal_start)))
		why = "a refusal";
	else if (starts_with_any(start, assistant_start, COUNT(assistant_start)) ||
		 contains_any(low, assistant_anywhere, COUNT(assistant_anywhere)))
		why = "written as the assistant";
	else if (contains_any(low, notes, COUNT(notes)))
		why = "contains a note about the text";
	free(low);
	if (why)
		return why;

	unsigned words = ise_render_words(p);
	if (words < min_words)
		return "too short";
	if (max_words && words > max_words)
		return "too long";
	return NULL;
}
