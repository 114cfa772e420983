/*
 * jsontext: JSON text in which numbers keep the text they came with (see
 * jsontext.h).
 */
#include "core/jsontext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

/* d as the suite prints a number it computed; buf holds at least 32 bytes. */
static const char *format_number(double d, char *buf, size_t size)
{
	if (!isfinite(d))
		return "null";
	if (d == 0)
		return "0";
	if (d == floor(d) && fabs(d) < 9223372036854775808.0) {
		snprintf(buf, size, "%.0f", d);
		return buf;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%1.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return buf;
}

/* ---- noting the source text ---- */

struct walk {
	const char *p, *end;
	int ok, numbers;
};

/* The next string or number token of the text: *start and *n span it;
 * 's' or 'n', or 0 at the end. */
static int next_token(struct walk *w, const char **start, size_t *n)
{
	while (w->p < w->end) {
		char c = *w->p;
		if (c == '"') {
			*start = w->p++;
			/* the closing quote: the first one after an even number of
			 * backslashes (the text is valid JSON) */
			for (;;) {
				const char *q = memchr(w->p, '"', (size_t)(w->end - w->p));
				if (!q) {
					w->p = w->end;
					break;
				}
				const char *b = q;
				while (b > *start + 1 && b[-1] == '\\')
					b--;
				w->p = q + 1;
				if ((q - b) % 2 == 0)
					break;
			}
			*n = (size_t)(w->p - *start);
			return 's';
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			*start = w->p;
			while (w->p < w->end && *w->p && strchr("0123456789+-.eE", *w->p))
				w->p++;
			*n = (size_t)(w->p - *start);
			return 'n';
		}
		w->p++;
	}
	return 0;
}

/* Whether the number token s[0..n) of value d would print otherwise. */
static int needs_text(double d, const char *s, size_t n)
{
	size_t i = s[0] == '-', plain = i;
	size_t digits = n - i;
	while (plain < n && s[plain] >= '0' && s[plain] <= '9')
		plain++; /* within the token: the text may end right after it */
	if (digits && digits <= 15 && plain == n && !(s[i] == '0' && (i || digits > 1)))
		return 0; /* a plain integer prints as it came */
	char buf[64];
	const char *printed = format_number(d, buf, sizeof buf);
	return strlen(printed) != n || memcmp(printed, s, n);
}

/* Whether the string token s[0..n) holds the escape \u0000. */
static int holds_nul(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	while ((p = memchr(p, '\\', (size_t)(end - p))) && p + 1 < end) {
		if (p[1] == 'u' && end - p > 5 && !memcmp(p + 2, "0000", 4))
			return 1;
		p += 2;
	}
	return 0;
}

static int expect(struct walk *w, int kind, const char **s, size_t *n)
{
	if (next_token(w, s, n) != kind)
		w->ok = 0;
	return w->ok;
}

static void note(cJSON *item, struct walk *w)
{
	const char *s;
	size_t n;

	for (; item && w->ok; item = item->next) {
		if (item->string && !expect(w, 's', &s, &n)) /* the member's name */
			return;
		if (cJSON_IsNumber(item)) {
			if (!expect(w, 'n', &s, &n))
				return;
			if (w->numbers && !item->valuestring &&
			    needs_text(item->valuedouble, s, n)) {
				item->valuestring = ise_xmalloc(n + 1);
				memcpy(item->valuestring, s, n);
				item->valuestring[n] = '\0';
			}
		} else if (cJSON_IsString(item)) {
			if (!expect(w, 's', &s, &n))
				return;
			if (holds_nul(s, n))
				item->type |= ISE_JSON_NUL;
		} else if (item->child) {
			note(item->child, w);
		}
	}
}

void ise_json_note_source(cJSON *root, const char *text, size_t len, int numbers)
{
	struct walk w = {text, text + len, 1, numbers};

	if (root && (cJSON_IsArray(root) || cJSON_IsObject(root)))
		note(root->child, &w);
	else if (root)
		note(root, &w);
}

cJSON *ise_json_parse(const char *text, size_t len)
{
	cJSON *json = cJSON_ParseWithLength(text, len);

	if (json)
		ise_json_note_source(json, text, len, 1);
	return json;
}

int ise_json_has_nul(const cJSON *item)
{
	for (; item; item = item->next)
		if ((cJSON_IsString(item) && (item->type & ISE_JSON_NUL)) ||
		    ise_json_has_nul(item->child))
			return 1;
	return 0;
}

/* ---- printing ---- */

/* A byte a JSON string holds as it is. */
static int plain_byte(unsigned char c)
{
	return c > 31 && c != '"' && c != '\\';
}

void ise_json_put_chars(struct ise_strbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *end = p + (s ? n : 0);

	/* room for the worst case (every byte as \u00XX) up front: the text
	 * goes in without a check a byte */
	ise_xgrow((void **)&b->s, &b->cap, b->len + 6 * (size_t)(end - p) + 1, 1);
	char *out = b->s + b->len;
	while (p < end) {
		const unsigned char *run = p;
		while (end - p >= 8 && ise_json_plain8(p))
			p += 8;
		while (p < end && plain_byte(*p))
			p++;
		memcpy(out, run, (size_t)(p - run));
		out += p - run;
		if (p == end)
			break;
		*out++ = '\\';
		switch (*p) {
		case '"':
		case '\\':
			*out++ = (char)*p;
			break;
		case '\b':
			*out++ = 'b';
			break;
		case '\f':
			*out++ = 'f';
			break;
		case '\n':
			*out++ = 'n';
			break;
		case '\r':
			*out++ = 'r';
			break;
		case '\t':
			*out++ = 't';
			break;
		default:
			memcpy(out, "u00", 3);
			out[3] = hex[*p >> 4];
			out[4] = hex[*p & 15];
			out += 5;
		}
		p++;
	}
	b->len = (size_t)(out - b->s);
	b->s[b->len] = '\0';
}

void ise_json_put_string(struct ise_strbuf *b, const char *s, size_t n)
{
	ise_sb_add(b, "\"", 1);
	ise_json_put_chars(b, s, n);
	ise_sb_add(b, "\"", 1);
}

/* The noted text, while it still reads as the item's value. */
static const char *kept_text(const cJSON *item)
{
	const char *s = item->valuestring;
	if (!s)
		return NULL;
	double d = strtod(s, NULL);
	return d == item->valuedouble || (isinf(d) && isinf(item->valuedouble) &&
					  signbit(d) == signbit(item->valuedouble))
		   ? s
		   : NULL;
}

static void put_string(struct ise_strbuf *b, const char *s)
{
	ise_json_put_string(b, s, s ? strlen(s) : 0);
}

const char *ise_json_number_text(const cJSON *item, char *buf, size_t size)
{
	const char *s = kept_text(item);
	return s ? s : format_number(item->valuedouble, buf, size);
}

void ise_json_put(struct ise_strbuf *b, const cJSON *item)
{
	char buf[64];
	const cJSON *c;

	switch (item->type & 0xFF) {
	case cJSON_NULL:
		ise_sb_puts(b, "null");
		break;
	case cJSON_False:
		ise_sb_puts(b, "false");
		break;
	case cJSON_True:
		ise_sb_puts(b, "true");
		break;
	case cJSON_Number:
		ise_sb_puts(b, ise_json_number_text(item, buf, sizeof buf));
		break;
	case cJSON_String:
		put_string(b, item->valuestring);
		break;
	case cJSON_Raw:
		ise_sb_puts(b, item->valuestring ? item->valuestring : "");
		break;
	case cJSON_Array:
		ise_sb_add(b, "[", 1);
		for (c = item->child; c; c = c->next) {
			ise_json_put(b, c);
			if (c->next)
				ise_sb_add(b, ",", 1);
		}
		ise_sb_add(b, "]", 1);
		break;
	case cJSON_Object:
		ise_sb_add(b, "{", 1);
		for (c = item->child; c; c = c->next) {
			put_string(b, c->string);
			ise_sb_add(b, ":", 1);
			ise_json_put(b, c);
			if (c->next)
				ise_sb_add(b, ",", 1);
		}
		ise_sb_add(b, "}", 1);
		break;
	default:
		ise_fatal("cannot print a JSON item of type %d", item->type);
	}
}

char *ise_json_print(const cJSON *item)
{
	struct ise_strbuf b = {0};

	ise_sb_add(&b, "", 0);
	ise_json_put(&b, item);
	return ise_sb_take(&b);
}
