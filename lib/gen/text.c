/*
 * text: one text helper for articles and the like: English wording the
 * generators share (see text.h).
 */
#include "gen/text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Whether a word, as read aloud, starts with a vowel sound: "8-commit",
 * "11", "audit_log", "urgent", "x" do; "one-page", "unified", "user" do not. */
int ise_vowel_sound(const char *w)
{
	size_t digits = strspn(w, "0123456789");
	char c = (char)tolower((unsigned char)w[0]);

	if (digits)
		return w[0] == '8' || ((digits == 2 || digits == 5) && w[0] == '1' &&
				       (w[1] == '1' || w[1] == '8'));
	if (!isalpha((unsigned char)w[0]))
		return 0;
	if (!isalpha((unsigned char)w[1]))
		return strchr("aefhilmnorsx", c) != NULL; /* a letter said alone */
	if (isupper((unsigned char)w[0]) && isupper((unsigned char)w[1]))
		return strchr("AEFHILMNORSX", w[0]) != NULL; /* an acronym, said letter by letter */
	if (c == 'a' || c == 'i')
		return 1;
	if (c == 'e')
		return strncasecmp(w, "eu", 2) && strncasecmp(w, "ewe", 3);
	if (c == 'o')
		return strncasecmp(w, "one", 3) && strncasecmp(w, "once", 4);
	if (c == 'u')
		return strchr("nrpmgl", tolower((unsigned char)w[1])) && strncasecmp(w, "uni", 3);
	return 0;
}

const char *ise_article(const char *word)
{
	return ise_vowel_sound(word) ? "an" : "a";
}
