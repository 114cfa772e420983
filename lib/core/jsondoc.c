#include "core/jsondoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

char *ise_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		ise_die(ISE_EXIT_USAGE, "cannot open '%s': %s", path, strerror(errno));
	do {
		ise_xgrow((void **)&buf, &cap, n + 65536, 1);
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	if (ferror(f))
		ise_fatal("cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

cJSON *ise_jsondoc_load(const char *path, const char *builtin, size_t len, const char *builtin_name)
{
	char *owned = path ? ise_read_file(path, &len) : NULL;
	const char *text = owned ? owned : builtin, *end = NULL;
	const char *name = path ? path : builtin_name;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);

	if (!doc || !cJSON_IsObject(doc)) {
		unsigned long line = 1, col = 1;
		for (const char *p = text; end && p < end && p < text + len; p++)
			if (*p == '\n')
				line++, col = 1;
			else
				col++;
		free(owned);
		if (!doc)
			ise_die(ISE_EXIT_USAGE, "%s:%lu:%lu: invalid JSON", name, line, col);
		cJSON_Delete(doc);
		ise_die(ISE_EXIT_USAGE, "%s: expected a JSON object", name);
	}
	free(owned);
	return doc;
}

cJSON *ise_json_checked(cJSON *item)
{
	if (!item)
		ise_fatal("out of memory");
	return item;
}

void ise_json_add(cJSON *to, const char *key, cJSON *item)
{
	ise_json_checked(item);
	if (key ? !cJSON_AddItemToObject(to, key, item) : !cJSON_AddItemToArray(to, item))
		ise_fatal("out of memory");
}

const char *ise_json_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *ise_json_string_or(const cJSON *obj, const char *key, const char *fallback)
{
	const char *s = ise_json_string(obj, key);

	return s ? s : fallback;
}

const cJSON *ise_json_array(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsArray(v) ? v : NULL;
}

char *ise_json_join(const cJSON *array, const char *sep)
{
	struct ise_strbuf t = {0};
	const cJSON *item;

	cJSON_ArrayForEach(item, array) {
		if (!cJSON_IsString(item))
			continue;
		if (t.len)
			ise_sb_puts(&t, sep);
		ise_sb_puts(&t, item->valuestring);
	}
	return ise_sb_take(&t);
}
