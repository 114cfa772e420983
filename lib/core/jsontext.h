/*
 * jsontext: JSON text in which numbers keep the text they came with.
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
 */
#ifndef ISE_JSONTEXT_H
#define ISE_JSONTEXT_H

#include <cJSON.h>
#include <stddef.h>

/* Note the source text of root's numbers; text[0..len) is what root was
 * parsed from.  Nothing is noted when the two do not match up. */
void ise_json_keep_numbers(cJSON *root, const char *text, size_t len);

/* item as compact JSON text (exit 3 when out of memory); the caller frees
 * it with free(). */
char *ise_json_print(const cJSON *item);

#endif
