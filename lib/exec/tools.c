/*
 * tools: one entry point for the 16 tools, and their default
 * configuration; see tools.h.
 */
#include "exec/tools.h"
#include "exec/fs_tool.h"

#include <string.h>

#include "core/clock.h"
#include "core/jsontext.h"
#include "exec/sandbox.h"
#include "exec/web.h"

static void call_exec(struct ise_ws *ws, const cJSON *args, struct ise_tool_result *r)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(args, "command");
	const cJSON *wd = cJSON_GetObjectItemCaseSensitive(args, "workdir");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(args, "timeout");
	const cJSON *bg = cJSON_GetObjectItemCaseSensitive(args, "background");
	if (!cJSON_IsString(cmd)) {
		ise_tool_fail(r, "exec: command must be a string");
		return;
	}
	if ((wd && !cJSON_IsNull(wd) && !cJSON_IsString(wd)) ||
	    (to && !cJSON_IsNull(to) && !cJSON_IsNumber(to)) ||
	    (bg && !cJSON_IsNull(bg) && !cJSON_IsBool(bg))) {
		ise_tool_fail(r, "exec: workdir must be a string, timeout a number of seconds, "
				 "background true or false");
		return;
	}
	struct ise_exec e = {
	    .command = cmd->valuestring,
	    .workdir = cJSON_IsString(wd) ? wd->valuestring : NULL,
	    .timeout_s = cJSON_IsNumber(to) && to->valuedouble > 0 ? to->valuedouble : 0,
	    .background = cJSON_IsTrue(bg),
	};
	ise_ws_exec(ws, &e, r);
}

void ise_tool_call(struct ise_ws *ws, const struct ise_tools_config *c, const char *name,
		   const cJSON *arguments, struct ise_tool_result *r)
{
	memset(r, 0, sizeof *r);
	r->exit_code = -1;
	double t0 = ise_now_ms();
	cJSON *parsed = NULL;
	const cJSON *args = arguments;
	if (cJSON_IsString(arguments)) /* as models send them */
		args = parsed =
		    ise_json_parse(arguments->valuestring, strlen(arguments->valuestring));
	/* C strings end at a NUL: a call that holds one would run only in part
	 * (a command cut short, a file written short) and be recorded whole */
	if (args && ise_json_has_nul(args)) {
		ise_tool_fail(r,
			      "%s: the arguments hold a NUL character (\\u0000), which no command, "
			      "path or file text here can carry: nothing was done",
			      name);
		goto done;
	}
	/* the file tools take JSON text as it came, to see a \u0000 in a path */
	if (ise_fs_tool(ise_ws_rootfd(ws), ise_ws_uid(ws), ise_ws_gid(ws), c, name, arguments, r))
		goto done;
	if (cJSON_IsString(arguments) && !parsed) {
		ise_tool_fail(r, "%s: the arguments are not valid JSON", name);
		goto done;
	}
	if (!args || cJSON_IsNull(args))
		args = parsed = cJSON_CreateObject();
	if (!cJSON_IsObject(args)) {
		ise_tool_fail(r, "%s: the arguments must be a JSON object", name);
	} else if (!strcmp(name, "exec")) {
		call_exec(ws, args, r);
	} else if (!strcmp(name, "process")) {
		ise_ws_process(ws, args, r);
	} else if (!ise_web_tool(&c->web, name, args, r)) {
		ise_tool_fail(r, "unknown tool '%s'", name);
	}
done:
	cJSON_Delete(parsed);
	if (!r->content)
		r->content = ise_utf8_clean("", 0, &(size_t){0});
	if (!r->duration_ms)
		r->duration_ms = ise_now_ms() - t0;
}
