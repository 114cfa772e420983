/*
 * utf8: one code point to and from UTF-8.
 *
 * The tokenisers and the HTML reader call these once a character, so they
 * are inline here rather than behind a call.  Nothing is allocated: the
 * caller's buffer receives what is encoded.
 */
#ifndef ISE_UTF8_H
#define ISE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* What ise_utf8_decode returns for a byte that does not start a valid
 * sequence: never a code point. */
#define ISE_UTF8_NONE UINT32_MAX

/* The code point that s[0..len) starts with, its length in *used; or
 * ISE_UTF8_NONE, *used = 1, when s does not start a valid, shortest-form
 * sequence of a scalar value (no surrogates, nothing past U+10FFFF).  A
 * byte that is not a continuation byte, a NUL say, ends a sequence, so a
 * NUL-terminated string may pass SIZE_MAX as len. */
static inline uint32_t ise_utf8_decode(const unsigned char *s, size_t len, size_t *used)
{
	uint32_t c = s[0], min;
	size_t n;

	*used = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return ISE_UTF8_NONE;
	if (len < n)
		return ISE_UTF8_NONE;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return ISE_UTF8_NONE;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return ISE_UTF8_NONE;
	*used = n;
	return c;
}

/* Code point c (below 0x110000) as UTF-8 in out[0..4); its length. */
static inline size_t ise_utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

#endif
