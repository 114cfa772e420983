/*
 * xalloc: allocation that cannot return NULL.  Running out of memory is a
 * fatal runtime error (exit 3 after the output is flushed), never a crash.
 * The caller owns and frees what these return.
 */
#ifndef ISE_XALLOC_H
#define ISE_XALLOC_H

#include <stddef.h>

void *ise_xmalloc(size_t n);
void *ise_xcalloc(size_t count, size_t size);
void *ise_xrealloc(void *p, size_t n);
char *ise_xstrdup(const char *s);
/* s[0..n), without the spaces, tabs and line ends at either end */
char *ise_xstrtrim(const char *s, size_t n);
/* printf into a new string */
char *ise_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow *p (holding *cap elements of size) to hold at least need elements. */
void ise_xgrow(void **p, size_t *cap, size_t need, size_t size);

#endif
