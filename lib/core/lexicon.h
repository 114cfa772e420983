/*
 * lexicon: a list of phrases (the role-drift lexicon of share/ise/) and a
 * matcher for them.  Phrases are read from a file named by an option, or
 * from the copy built into the binary: one per line, '#' starts a comment
 * line, blank lines are ignored.
 *
 * Matching is ASCII case-insensitive and on word boundaries: a phrase that
 * starts (ends) with a letter, digit or '_' matches only where the text
 * does not have one just before (after) it.  A space in a phrase matches any
 * run of white space, and an apostrophe matches ' or U+2019.  The lexicon
 * owns its phrases; hits point into the caller's text by offset.
 */
#ifndef ISE_LEXICON_H
#define ISE_LEXICON_H

#include <stddef.h>

struct ise_lexicon {
	char **phrases; /* as written in the file, white space collapsed */
	char **folded;  /* lower case, U+2019 turned into ' */
	size_t nphrases;
	size_t *by_first;   /* phrase indices grouped by first folded byte */
	size_t first[257];  /* by_first[first[c]..first[c+1]) start with byte c */
	const char *source; /* the file name, or "built-in role-drift lexicon" */
};

struct ise_lexicon_hit {
	size_t phrase;         /* index into phrases */
	size_t offset, length; /* the bytes of the text that matched */
};

/* path NULL loads the built-in lexicon.  A file that cannot be read, holds
 * no phrase, or repeats one, is a usage error (exit 2) naming FILE:LINE. */
void ise_lexicon_load(struct ise_lexicon *lex, const char *path);
/* Load from text[0..len) named name (for tests and other built-in lists). */
void ise_lexicon_parse(struct ise_lexicon *lex, const char *text, size_t len, const char *name);
/* The leftmost match starting at or after from (the longest phrase among
 * those starting there); 1 and *hit filled, or 0. */
int ise_lexicon_next(const struct ise_lexicon *lex, const char *text, size_t len, size_t from,
		     struct ise_lexicon_hit *hit);
void ise_lexicon_release(struct ise_lexicon *lex);

#endif
