/*
 * jsontext: what cJSON loses of a JSON text, kept: the text of numbers,
 * and NUL characters in strings.
 *
 * cJSON holds a number as a double, so 8999999999999999 would come back as
 * 9e+15, 1.0 as 1 and 1e99999 as null.  A record passes through the suite
 * unchanged, so the reader notes the source text of every number that would
 * not print back the same (in the number item's unused valuestring, which
 * cJSON_Delete frees and cJSON_Duplicate copies), and the printer writes
 * that text back.  A number a program computes (no text, or a text that no
 * longer matches its value) is printed exactly: whole numbers below 2^63 in
 * full, others in the shortest of 15, 16 or 17 significant digits that
 * reads back as the same double, never NaN or infinity (null).  Everything
 * else prints as cJSON_PrintUnformatted does.
 *
 * cJSON ends a C string at a \u0000 it decodes, so "a\u0000b" would read as
 * "a": a string that held one is marked ISE_JSON_NUL (a type bit cJSON
 * leaves alone and copies), for callers that must refuse it rather than
 * act on part of it (a tool call's arguments).
 */
#ifndef ISE_JSONTEXT_H
#define ISE_JSONTEXT_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/strbuf.h"

#define ISE_JSON_NUL (1 << 12)

/* Whether the 8 bytes at p are ASCII that a JSON string holds as they are
 * (no control character, '"' or '\\'): the scanners and the escaper skip
 * such runs a word at a time. */
static inline int ise_json_plain8(const void *p)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return !((x & high) | ((x - ones * 0x20) & ~x & high) | ((q - ones) & ~q & high) |
		 ((b - ones) & ~b & high));
}

/* Note the strings that held a NUL and, with numbers, the source text of
 * root's numbers that would not print back as they came (finding those
 * costs a formatted print of every number: pass 0 when the numbers are
 * never printed back); text[0..len) is what root was parsed from.  Nothing
 * is noted past a point where the two do not match up. */
void ise_json_note_source(cJSON *root, const char *text, size_t len, int numbers);
/* cJSON_ParseWithLength and ise_json_note_source; NULL on a syntax error. */
cJSON *ise_json_parse(const char *text, size_t len);
/* 1 when a string in item, its siblings after it or below them held a NUL. */
int ise_json_has_nul(const cJSON *item);

/* item as compact JSON text (exit 3 when out of memory); the caller frees
 * it with free(). */
char *ise_json_print(const cJSON *item);
/* The same text appended to b. */
void ise_json_put(struct ise_strbuf *b, const cJSON *item);
/* s[0..n) as a JSON string, quotes included, appended to b: only '"', '\\'
 * and control characters escaped, everything else (UTF-8) as it is. */
void ise_json_put_string(struct ise_strbuf *b, const char *s, size_t n);
/* The same without the quotes: a piece of a string written in parts. */
void ise_json_put_chars(struct ise_strbuf *b, const char *s, size_t n);
/* The text the printer writes for the number item: its source text while
 * that still reads as its value, else the computed form (in buf, which
 * holds at least 32 bytes). */
const char *ise_json_number_text(const cJSON *item, char *buf, size_t size);

#endif
