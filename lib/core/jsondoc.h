/*
 * jsondoc: whole JSON documents (the catalog, the persona pools), read from a
 * file named by an option or from the copy built into the binary.  A syntax
 * error is reported with FILE:LINE:COL and ends the program (exit 2: the
 * file was named on the command line).  The caller owns the tree returned.
 */
#ifndef ISE_JSONDOC_H
#define ISE_JSONDOC_H

#include <cJSON.h>
#include <stddef.h>

/* path NULL loads builtin[0..len) and names it builtin_name. */
cJSON *ise_jsondoc_load(const char *path, const char *builtin, size_t len,
			const char *builtin_name);

/* The whole file as a NUL-terminated string (exit 2 if it cannot be opened:
 * it was named on the command line).  The caller frees it. */
char *ise_read_file(const char *path, size_t *len);

/* item, or exit 3 (out of memory) when cJSON could not make it. */
cJSON *ise_json_checked(cJSON *item);
/* Add item to object `to` under key, or to array `to` when key is NULL;
 * exit 3 when out of memory. */
void ise_json_add(cJSON *to, const char *key, cJSON *item);

/* Small typed getters used by the validators; NULL/0 when absent or of another type. */
const char *ise_json_string(const cJSON *obj, const char *key);
/* The string member key of obj, or fallback. */
const char *ise_json_string_or(const cJSON *obj, const char *key, const char *fallback);
const cJSON *ise_json_array(const cJSON *obj, const char *key);

/* The strings of array (other items skipped) joined with sep; "" when there
 * are none.  The caller frees it. */
char *ise_json_join(const cJSON *array, const char *sep);

#endif
