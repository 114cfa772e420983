/*
 * verify: set up a trajectory's tasks and check them (see verify.h).
 */
#include "sim/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/xalloc.h"
#include "exec/result.h"
#include "exec/tools.h"

#define OUTPUT_KEPT 2000 /* bytes of a check's output kept in the record */

int ise_env_task(const struct ise_script *s, size_t i, int given_only)
{
	const struct ise_offline_task *t = &s->tasks[i];
	return t->id && (t->setup || cJSON_GetArraySize(t->checks)) && (!given_only || t->given);
}

static void run(struct ise_ws *ws, const char *command, double timeout, struct ise_tool_result *r)
{
	struct ise_exec e = {.command = command, .timeout_s = timeout};
	memset(r, 0, sizeof *r);
	r->exit_code = -1;
	ise_ws_lock(ws);
	ise_ws_exec(ws, &e, r);
	ise_ws_unlock(ws);
}

int ise_env_setup(struct ise_ws *ws, const struct ise_script *s, int given_only, char *err,
		  size_t errlen)
{
	for (size_t i = 0; i < s->ntasks; i++) {
		const struct ise_offline_task *t = &s->tasks[i];
		if (!ise_env_task(s, i, given_only) || !t->setup)
			continue;
		struct ise_tool_result r;
		run(ws, t->setup, ISE_SETUP_TIMEOUT, &r);
		int ok = r.ok && r.exit_code == 0;
		if (!ok)
			snprintf(err, errlen, "the setup of task '%s' failed: %.400s", t->id,
				 r.content ? r.content : "");
		ise_tool_result_free(&r);
		if (!ok)
			return -1;
	}
	return 0;
}

static void write_replies(struct ise_ws *ws, const struct ise_tools_config *tc, const char *replies)
{
	cJSON *args = ise_json_checked(cJSON_CreateObject());
	ise_json_add(args, "path", cJSON_CreateString(".ise/replies.txt"));
	ise_json_add(args, "content", cJSON_CreateString(replies ? replies : ""));
	struct ise_tool_result r;
	ise_ws_lock(ws);
	ise_tool_call(ws, tc, "write", args, &r);
	ise_ws_unlock(ws);
	ise_tool_result_free(&r);
	cJSON_Delete(args);
}

cJSON *ise_env_verify(struct ise_ws *ws, const struct ise_tools_config *tc,
		      const struct ise_script *s, int given_only, const char *replies)
{
	cJSON *checks = NULL;
	int passed = 0, total = 0;

	for (size_t i = 0; i < s->ntasks; i++) {
		const struct ise_offline_task *t = &s->tasks[i];
		const cJSON *check;
		if (!ise_env_task(s, i, given_only) || !cJSON_GetArraySize(t->checks))
			continue;
		if (!checks) {
			checks = ise_json_checked(cJSON_CreateArray());
			write_replies(ws, tc, replies);
		}
		cJSON_ArrayForEach(check, t->checks) {
			const cJSON *to = cJSON_GetObjectItemCaseSensitive(check, "timeout");
			char *cmd = ise_xasprintf("ISE_REPLIES=/workspace/.ise/replies.txt; export "
						  "ISE_REPLIES\n%s",
						  ise_json_string_or(check, "command", "false"));
			struct ise_tool_result r;
			run(ws, cmd, cJSON_IsNumber(to) ? to->valuedouble : ISE_CHECK_TIMEOUT, &r);
			free(cmd);
			int ok = r.ok && r.exit_code == 0;
			const char *out = r.content ? r.content : "";
			size_t n = strlen(out);
			if (n > OUTPUT_KEPT) { /* the end says most; cut on a character */
				out += n - OUTPUT_KEPT;
				while (((unsigned char)*out & 0xC0) == 0x80)
					out++;
			}
			cJSON *c = ise_json_checked(cJSON_CreateObject());
			ise_json_add(c, "task", cJSON_CreateString(t->id));
			ise_json_add(c, "what",
				     cJSON_CreateString(ise_json_string_or(check, "what", "")));
			ise_json_add(c, "ok", cJSON_CreateBool(ok));
			ise_json_add(c, "exit_code",
				     r.exit_code >= 0 ? cJSON_CreateNumber(r.exit_code)
						      : cJSON_CreateNull());
			ise_json_add(c, "output", cJSON_CreateString(out));
			ise_json_add(checks, NULL, c);
			ise_tool_result_free(&r);
			passed += ok;
			total++;
		}
	}
	if (!checks)
		return NULL;
	cJSON *v = ise_json_checked(cJSON_CreateObject());
	ise_json_add(v, "verified", cJSON_CreateBool(passed == total));
	ise_json_add(v, "passed", cJSON_CreateNumber(passed));
	ise_json_add(v, "total", cJSON_CreateNumber(total));
	ise_json_add(v, "checks", checks);
	return v;
}
