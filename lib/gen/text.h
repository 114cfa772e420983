/*
 * text: one text helper for articles and the like: English wording the
 * generators share.  The strings returned are static.
 */
#ifndef ISE_TEXT_H
#define ISE_TEXT_H

/* Whether a word, as read aloud, starts with a vowel sound: numbers as
 * said ("8", "80", "11", "18", "11000"), a letter said alone or an acronym
 * said letter by letter ("x", "HR", "NFT"), and words that start with a
 * vowel, less the ones said with a consonant ("one", "once", "eu...",
 * "ewe...", "uni...", and "u" unless before n, r, p, m, g or l). */
int ise_vowel_sound(const char *w);
/* The indefinite article for word: "an" before a vowel sound, else "a":
 * "an urban", "an HR", "an 8-step"; "a UX Designer", "a University
 * President", "a one-off", "a European". */
const char *ise_article(const char *word);

#endif
