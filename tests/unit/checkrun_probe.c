/*
 * checkrun_probe: the script that runs a trajectory's checks
 * (lib/sim/checkrun.c), outside the sandbox, for the tests.
 *
 *   checkrun_probe script <checks.json >script.sh
 *   checkrun_probe read N <output
 *
 * script reads [{command, timeout, task}...] and prints the script with
 * the mark ise-check-0123456789abcdef and 2,000 bytes kept a check; read
 * takes what that script printed and gives one line
 * {exit_code, duration_ms, output} for each of the N checks (null for one
 * that never ran).  Exit 2 for bad usage or input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "sim/checkrun.h"

#define MARK "ise-check-0123456789abcdef"

int main(int argc, char **argv)
{
	size_t len;

	ise_diag_init(argv[0]);
	if (argc == 2 && !strcmp(argv[1], "script")) {
		char *text = ise_read_file("/dev/stdin", &len);
		cJSON *list = cJSON_Parse(text);
		free(text);
		int n = cJSON_GetArraySize(list);
		if (!cJSON_IsArray(list) || !n) {
			fprintf(stderr, "checkrun_probe: stdin must be [{command, timeout, task}...]\n");
			return 2;
		}
		struct ise_check_cmd *c = calloc((size_t)n, sizeof *c);
		for (int i = 0; i < n; i++) {
			cJSON *e = cJSON_GetArrayItem(list, i);
			c[i].command = ise_json_string_or(e, "command", "false");
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "timeout");
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "task");
			c[i].timeout = cJSON_IsNumber(t) ? t->valuedouble : 10;
			c[i].task = cJSON_IsNumber(k) ? (size_t)k->valuedouble : 0;
		}
		double limit;
		char *script = ise_checkrun_script(c, (size_t)n, MARK, 2000, &limit);
		fputs(script, stdout);
		free(script);
		free(c);
		cJSON_Delete(list);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "read")) {
		char *text = ise_read_file("/dev/stdin", &len);
		for (long i = 0; i < strtol(argv[2], NULL, 10); i++) {
			int rc;
			double ms;
			char *out = ise_checkrun_output(text, MARK, (size_t)i, &rc, &ms);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, "exit_code",
					      out ? cJSON_CreateNumber(rc) : cJSON_CreateNull());
			cJSON_AddItemToObject(o, "duration_ms",
					      out && ms >= 0 ? cJSON_CreateNumber(ms) : cJSON_CreateNull());
			cJSON_AddItemToObject(o, "output",
					      out ? cJSON_CreateString(out) : cJSON_CreateNull());
			char *line = cJSON_PrintUnformatted(o);
			puts(line);
			free(line);
			cJSON_Delete(o);
			free(out);
		}
		free(text);
		return 0;
	}
	fprintf(stderr, "usage: checkrun_probe script | read N\n");
	return 2;
}
