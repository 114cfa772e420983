/*
 * strbuf: a growable text buffer, for the modules that build a string
 * piece by piece (prompts, reports, paths, web pages).
 *
 * Start from struct ise_strbuf sb = {0}.  After any add, sb.s holds the
 * text so far, NUL-terminated, and sb.len its length; running out of
 * memory is fatal, as in xalloc.  The buffer owns sb.s until ise_sb_take
 * hands it to the caller.
 */
#ifndef ISE_STRBUF_H
#define ISE_STRBUF_H

#include <stddef.h>

struct ise_strbuf {
	char *s;
	size_t len, cap;
};

/* Append bytes[0..n). */
void ise_sb_add(struct ise_strbuf *sb, const void *bytes, size_t n);
/* Append the string s. */
void ise_sb_puts(struct ise_strbuf *sb, const char *s);
/* Append s as one single-quoted shell word. */
void ise_sb_shquote(struct ise_strbuf *sb, const char *s);
/* Append what printf would print (nothing on an encoding error). */
void ise_sb_printf(struct ise_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text, never NULL ("" when nothing was added), now the caller's; the
 * buffer is left empty. */
char *ise_sb_take(struct ise_strbuf *sb);

#endif
