#include "export/datasetinfo.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/jsonl.h"
#include "core/strbuf.h"

/* The entries of an existing file, or a new object; NULL with err. */
static cJSON *load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct ise_strbuf text = {0};
	char buf[65536];
	size_t n;

	if (!f) {
		if (errno == ENOENT)
			return ise_json_checked(cJSON_CreateObject());
		ise_errf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof buf, f)))
		ise_sb_add(&text, buf, n);
	int bad = ferror(f);
	fclose(f);
	cJSON *json = NULL;
	if (bad)
		ise_errf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
	else if (!text.s || ise_json_strict(text.s, text.len) ||
		 !(json = cJSON_ParseWithLength(text.s, text.len)) || !cJSON_IsObject(json))
		ise_errf(err, errlen, "%s: not a JSON object, left as it is", path);
	if (json && !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		json = NULL;
	}
	free(text.s);
	return json;
}

static cJSON *entry(const char *file_name)
{
	cJSON *e = ise_json_checked(cJSON_CreateObject());
	cJSON *columns = ise_json_checked(cJSON_CreateObject());

	ise_json_add(e, "file_name", cJSON_CreateString(file_name));
	ise_json_add(e, "formatting", cJSON_CreateString("sharegpt"));
	ise_json_add(columns, "messages", cJSON_CreateString("conversations"));
	ise_json_add(columns, "system", cJSON_CreateString("system"));
	ise_json_add(columns, "tools", cJSON_CreateString("tools"));
	ise_json_add(e, "columns", columns);
	return e;
}

/* Write info to path through a new file renamed over it. */
static int replace(const char *path, const cJSON *info, char *err, size_t errlen)
{
	char *text = cJSON_Print(info);
	struct ise_strbuf tmp = {0};
	ise_sb_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
	FILE *f = text ? fopen(tmp.s, "w") : NULL;
	int rc = f ? 0 : -1;
	if (f) {
		int wrote = fprintf(f, "%s\n", text) >= 0;
		rc = fclose(f) || !wrote || rename(tmp.s, path) ? -1 : 0;
	}
	if (rc) {
		ise_errf(err, errlen, "cannot write '%s': %s", path,
			 text ? strerror(errno) : "out of memory");
		unlink(tmp.s);
	}
	cJSON_free(text);
	free(tmp.s);
	return rc;
}

int ise_dataset_info_write(const char *name, const char *const *splits, const char *const *paths,
			   size_t n, char *err, size_t errlen)
{
	const char *slash = strrchr(paths[0], '/');
	struct ise_strbuf path = {0}, key = {0};

	ise_sb_printf(&path, "%.*sdataset_info.json", slash ? (int)(slash - paths[0] + 1) : 0,
		      paths[0]);
	cJSON *info = load(path.s, err, errlen);
	int rc = info ? 0 : -1;
	for (size_t k = 0; info && k < n; k++) {
		const char *file = strrchr(paths[k], '/') ? strrchr(paths[k], '/') + 1 : paths[k];
		key.len = 0;
		ise_sb_printf(&key, splits ? "%s_%s" : "%s", name, splits ? splits[k] : "");
		cJSON_DeleteItemFromObjectCaseSensitive(info, key.s);
		ise_json_add(info, key.s, entry(file));
	}
	if (info)
		rc = replace(path.s, info, err, errlen);
	cJSON_Delete(info);
	free(path.s);
	free(key.s);
	return rc;
}
