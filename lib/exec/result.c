/*
 * result: what every tool and the sandbox share: results, and the two text
 * helpers that make any byte string safe to hand to the agent (valid
 * UTF-8, capped with head and tail kept).
 */
#include "exec/result.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void ise_tool_result_free(struct ise_tool_result *r)
{
	if (!r)
		return;
	free(r->content);
	r->content = NULL;
	cJSON_Delete(r->details);
	r->details = NULL;
}

void ise_tool_fail(struct ise_tool_result *r, const char *fmt, ...)
{
	va_list ap;
	char small[512], *msg = small;
	size_t len;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = 0;
		small[0] = '\0';
	} else if ((size_t)n >= sizeof small) {
		msg = ise_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	free(r->content);
	/* a message may quote a path or text from the agent: make it valid */
	r->content = ise_utf8_clean(msg, strlen(msg), &len);
	if (msg != small)
		free(msg);
	r->ok = 0;
	if (!cJSON_IsObject(r->details)) {
		cJSON_Delete(r->details);
		r->details = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(r->details, "status");
	cJSON_DeleteItemFromObjectCaseSensitive(r->details, "error");
	cJSON_AddStringToObject(r->details, "status", "error");
	cJSON_AddStringToObject(r->details, "error", r->content);
}

/*
 * The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when
 * s starts an invalid one; then *bad is how many bytes form its maximal
 * subpart (the bytes that could still have begun a valid sequence), which
 * is one U+FFFD (Unicode 15 section 3.9, "U+FFFD Substitution of Maximal
 * Subparts", the WHATWG decoder's behaviour).
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*bad = 1;
	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else
		return 0; /* NUL, continuation bytes, C0, C1, F5..FF */
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

char *ise_utf8_clean(const char *s, size_t n, size_t *outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k, bad, o = 0;
	char *out;

	while (i < n && (k = utf8_seq(u + i, n - i, &bad)) > 0)
		i += k;
	if (i == n) { /* the common case: already clean */
		out = ise_xmalloc(n + 1);
		if (n)
			memcpy(out, s, n);
		out[n] = '\0';
		if (outlen)
			*outlen = n;
		return out;
	}
	/* every bad byte becomes at most 3 bytes */
	if (n > (SIZE_MAX - 1) / 3)
		n = (SIZE_MAX - 1) / 3;
	out = ise_xmalloc(3 * n + 1);
	memcpy(out, s, i);
	o = i;
	while (i < n) {
		k = utf8_seq(u + i, n - i, &bad);
		if (k) {
			memcpy(out + o, u + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += bad;
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

static int is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

char *ise_text_cap(const char *s, size_t n, size_t max, int *cut)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out, mark[64];
	size_t head, tail, m, k;

	if (n <= max) {
		if (cut)
			*cut = 0;
		out = ise_xmalloc(n + 1);
		if (n)
			memcpy(out, s, n);
		out[n] = '\0';
		return out;
	}
	head = max / 2;
	tail = n - max / 2; /* where the kept tail starts */
	/* never split a sequence: back the head off, move the tail on (a
	 * sequence has at most three continuation bytes) */
	for (k = 0; k < 3 && head > 0 && is_cont(u[head]); k++)
		head--;
	for (k = 0; k < 3 && tail < n && is_cont(u[tail]); k++)
		tail++;
	m = (size_t)snprintf(mark, sizeof mark, "\n[... %zu bytes omitted ...]\n", tail - head);
	out = ise_xmalloc(head + m + (n - tail) + 1);
	memcpy(out, s, head);
	memcpy(out + head, mark, m);
	memcpy(out + head + m, s + tail, n - tail);
	out[head + m + n - tail] = '\0';
	if (cut)
		*cut = 1;
	return out;
}
