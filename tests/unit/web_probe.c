/*
 * web_probe: one call of a web tool (lib/exec/web.c) for the tests.  Reads
 * {"name": ..., "arguments": {...}} on stdin (arguments may be a JSON
 * string, as models send them) and prints one line
 * {known, ok, content, truncated, duration_ms, details}.
 *
 *   web_probe [--allow-private] [--search-url URL] [--max-bytes N]
 *             [--max-chars N] [--timeout SECONDS] [--user-agent UA]
 *
 * The rest of the configuration is ise_tools_config_default's.  Exit 0
 * when the tool ran (whatever its result), 1 for an unknown tool, 2 for
 * bad usage or input.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "exec/tools.h"
#include "exec/web.h"

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"allow-private", no_argument, NULL, 'p'},
						 {"search-url", required_argument, NULL, 's'},
						 {"max-bytes", required_argument, NULL, 'b'},
						 {"max-chars", required_argument, NULL, 'c'},
						 {"timeout", required_argument, NULL, 't'},
						 {"user-agent", required_argument, NULL, 'u'},
						 {NULL, 0, NULL, 0}};
	struct ise_tools_config cfg;
	struct ise_tool_result r;
	char *text;
	size_t len;
	int opt;

	ise_diag_init(argv[0]);
	ise_tools_config_default(&cfg);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			cfg.web.allow_private = 1;
			break;
		case 's':
			cfg.web.search_url = optarg;
			break;
		case 'b':
			cfg.web.max_bytes = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			cfg.web.max_chars = strtoul(optarg, NULL, 10);
			break;
		case 't':
			cfg.web.timeout_s = strtod(optarg, NULL);
			break;
		case 'u':
			cfg.web.user_agent = optarg;
			break;
		default:
			return 2;
		}
	}
	text = ise_read_file("/dev/stdin", &len);
	cJSON *call = cJSON_Parse(text);
	free(text);
	const char *name = ise_json_string(call, "name");
	cJSON *args = cJSON_GetObjectItemCaseSensitive(call, "arguments"), *parsed = NULL;
	if (!name) {
		fprintf(stderr, "web_probe: stdin must be {\"name\": ..., \"arguments\": ...}\n");
		return 2;
	}
	if (cJSON_IsString(args))
		args = parsed = cJSON_Parse(args->valuestring);

	memset(&r, 0, sizeof r);
	int known = ise_web_tool(&cfg.web, name, args, &r);
	cJSON *out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "known", known);
	cJSON_AddBoolToObject(out, "ok", r.ok);
	cJSON_AddStringToObject(out, "content", r.content ? r.content : "");
	cJSON_AddBoolToObject(out, "truncated", r.truncated);
	cJSON_AddNumberToObject(out, "duration_ms", r.duration_ms);
	if (r.details) {
		cJSON_AddItemToObject(out, "details", r.details);
		r.details = NULL;
	} else {
		cJSON_AddNullToObject(out, "details");
	}
	text = cJSON_PrintUnformatted(out);
	puts(text);
	free(text);
	cJSON_Delete(out);
	cJSON_Delete(parsed);
	cJSON_Delete(call);
	ise_tool_result_free(&r);
	return known ? 0 : 1;
}
