#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/xalloc.h"

void ise_sb_add(struct ise_strbuf *sb, const void *bytes, size_t n)
{
	ise_xgrow((void **)&sb->s, &sb->cap, sb->len + n + 1, 1);
	if (n)
		memcpy(sb->s + sb->len, bytes, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void ise_sb_puts(struct ise_strbuf *sb, const char *s)
{
	ise_sb_add(sb, s, strlen(s));
}

void ise_sb_shquote(struct ise_strbuf *sb, const char *s)
{
	ise_sb_puts(sb, "'");
	for (const char *q; (q = strchr(s, '\'')); s = q + 1) {
		ise_sb_add(sb, s, (size_t)(q - s));
		ise_sb_puts(sb, "'\\''");
	}
	ise_sb_puts(sb, s);
	ise_sb_puts(sb, "'");
}

void ise_sb_printf(struct ise_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[256]; /* most pieces fit: one vsnprintf, no second pass */

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		ise_sb_add(sb, small, (size_t)n);
		return;
	}
	ise_xgrow((void **)&sb->s, &sb->cap, sb->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *ise_sb_take(struct ise_strbuf *sb)
{
	char *s = sb->s ? sb->s : ise_xstrdup("");

	*sb = (struct ise_strbuf){0};
	return s;
}
