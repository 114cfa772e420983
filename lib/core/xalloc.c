#include "core/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"

static void *check(void *p)
{
	if (!p)
		ise_fatal("out of memory");
	return p;
}

void *ise_xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *ise_xcalloc(size_t count, size_t size)
{
	return check(calloc(count ? count : 1, size ? size : 1));
}

void *ise_xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
}

char *ise_xstrdup(const char *s)
{
	return check(strdup(s));
}

char *ise_xstrtrim(const char *s, size_t n)
{
	static const char space[] = " \t\r\n";
	while (n && strchr(space, *s))
		s++, n--;
	while (n && strchr(space, s[n - 1]))
		n--;
	char *d = ise_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void ise_xgrow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			ise_fatal("out of memory");
		n *= 2;
	}
	*p = ise_xrealloc(*p, n * size);
	*cap = n;
}

char *ise_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		ise_fatal("bad format");
	char *s = ise_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}
