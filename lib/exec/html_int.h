/*
 * html: a fetched page's bytes as text for the agent: its character set to
 * UTF-8, and HTML to markdown or plain text.  Strings returned are
 * malloc'd and NUL-terminated, and the caller's.
 */
#ifndef ISE_HTML_INT_H
#define ISE_HTML_INT_H

#include <stddef.h>

/* The charset parameter of Content-Type type, or of a <meta> in the first
 * 1024 bytes of html[0..n) (html NULL: not a page), lower case, into
 * out[0..size); "" when none. */
void ise_html_charset_of(const char *type, const char *html, size_t n, char *out, size_t size);
/* s[0..n) in charset ("" or UTF-8: as it is; a byte order mark wins) as
 * valid UTF-8 text; *outlen gets its length. */
char *ise_html_to_utf8(const char *s, size_t n, const char *charset, size_t *outlen);
/* s[0..n) with character references decoded, whitespace collapsed and
 * trimmed; in_attr: read as an attribute value, where a legacy reference
 * without ';' before '=' or a letter stays as it is. */
char *ise_html_decode_text(const char *s, size_t n, int in_attr);
/* HTML (valid UTF-8) as markdown (markdown != 0) or plain text, links made
 * absolute against base_url; *title gets the page's <title> or NULL. */
char *ise_html_to_text(const char *s, size_t n, int markdown, const char *base_url, char **title);
/* Whether name is one of set, a NULL-terminated list (tag names, methods). */
int ise_name_in(const char *name, const char *const *set);

#endif
