/*
 * tools_probe: the file tools (lib/exec/fs_*.c) and the text helpers
 * (lib/exec/result.c) for the tests.
 *
 *   tools_probe ROOT [UID GID]   one call {"name", "arguments"} on stdin,
 *                                run with ROOT as the workspace; prints
 *                                {handled, ok, content, truncated, details}
 *   tools_probe --clean          stdin bytes through ise_utf8_clean:
 *                                prints {text, length}
 *   tools_probe --cap MAX        stdin bytes through ise_text_cap, then
 *                                ise_utf8_clean: prints {text, cut, length}
 *
 * PROBE_MAX_READ and PROBE_MAX_OUTPUT set the caps; PROBE_REPEAT=N runs
 * the call N times (for races) and adds "failures", the calls that did
 * not succeed, and "contents", the distinct texts they gave (at most 20).
 */
#define _GNU_SOURCE /* O_PATH */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "exec/fs_tool.h"
#include "exec/tools.h"

static int print(cJSON *out)
{
	char *s = cJSON_PrintUnformatted(out);
	puts(s);
	free(s);
	cJSON_Delete(out);
	return 0;
}

int main(int argc, char **argv)
{
	struct ise_tools_config cfg;
	struct ise_tool_result r;
	size_t len, clen;
	char *text;

	ise_diag_init(argv[0]);
	if (argc == 2 && !strcmp(argv[1], "--clean")) {
		text = ise_read_file("/dev/stdin", &len);
		char *clean = ise_utf8_clean(text, len, &clen);
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "text", clean);
		cJSON_AddNumberToObject(out, "length", (double)clen);
		free(clean);
		free(text);
		return print(out);
	}
	if (argc == 3 && !strcmp(argv[1], "--cap")) {
		int cut = -1;
		text = ise_read_file("/dev/stdin", &len);
		char *capped = ise_text_cap(text, len, strtoul(argv[2], NULL, 10), &cut);
		char *clean = ise_utf8_clean(capped, strlen(capped), &clen);
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "text", clean);
		cJSON_AddBoolToObject(out, "cut", cut);
		cJSON_AddNumberToObject(out, "length", (double)clen);
		free(clean);
		free(capped);
		free(text);
		return print(out);
	}
	if (argc != 2 && argc != 4) {
		ise_warn("usage: tools_probe ROOT [UID GID] | --clean | --cap MAX");
		return 2;
	}
	/* O_PATH: the weaker of the two roots tools.h allows */
	int root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		ise_warn("cannot open '%s'", argv[1]);
		return 2;
	}
	uid_t uid = argc == 4 ? (uid_t)strtoul(argv[2], NULL, 10) : (uid_t)-1;
	gid_t gid = argc == 4 ? (gid_t)strtoul(argv[3], NULL, 10) : (gid_t)-1;
	ise_tools_config_default(&cfg);
	if (getenv("PROBE_MAX_READ"))
		cfg.max_read = strtoul(getenv("PROBE_MAX_READ"), NULL, 10);
	if (getenv("PROBE_MAX_OUTPUT"))
		cfg.max_output = strtoul(getenv("PROBE_MAX_OUTPUT"), NULL, 10);
	long repeat = getenv("PROBE_REPEAT") ? strtol(getenv("PROBE_REPEAT"), NULL, 10) : 1;
	text = ise_read_file("/dev/stdin", &len);
	cJSON *call = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(call)) {
		ise_warn("stdin is not a JSON object");
		return 2;
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(call, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(call, "arguments");
	long failures = 0;
	int handled = 0;
	cJSON *seen = cJSON_CreateArray();
	memset(&r, 0, sizeof r);
	for (long i = 0; i < (repeat > 0 ? repeat : 1); i++) {
		ise_tool_result_free(&r);
		handled = ise_fs_tool(root, uid, gid, &cfg,
				      cJSON_IsString(name) ? name->valuestring : "", args, &r);
		failures += handled && !r.ok;
		int known = 0;
		const cJSON *s;
		cJSON_ArrayForEach(s, seen)
			known |= r.content && !strcmp(s->valuestring, r.content);
		if (handled && !known && cJSON_GetArraySize(seen) < 20)
			cJSON_AddItemToArray(seen, cJSON_CreateString(r.content));
	}
	cJSON *out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "handled", handled);
	if (handled) {
		cJSON_AddBoolToObject(out, "ok", r.ok);
		cJSON_AddStringToObject(out, "content", r.content);
		cJSON_AddBoolToObject(out, "truncated", r.truncated);
		cJSON_AddNumberToObject(out, "exit_code", r.exit_code);
		if (r.details)
			cJSON_AddItemToObject(out, "details", cJSON_Duplicate(r.details, 1));
		if (repeat > 1) {
			cJSON_AddNumberToObject(out, "failures", (double)failures);
			cJSON_AddItemToObject(out, "contents", seen);
			seen = NULL;
		}
	}
	cJSON_Delete(seen);
	ise_tool_result_free(&r);
	cJSON_Delete(call);
	close(root);
	return print(out);
}
