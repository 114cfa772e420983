/*
 * render_check: whether an LLM's reply can be kept as an intent.
 */
#ifndef ISE_RENDER_CHECK_H
#define ISE_RENDER_CHECK_H

/*
 * NULL if an LLM reply is usable as an intent, else one of these reasons:
 * "empty", "wrapped in json", "wrapped in a code fence", "contains a
 * leftover placeholder", "contains markdown", "a refusal", "written as the
 * assistant", "contains a note about the text", "too short", "too long"
 * (bounds in words, inclusive; max_words 0 means no upper bound).
 */
const char *ise_render_check(const char *text, unsigned min_words, unsigned max_words);

#endif
