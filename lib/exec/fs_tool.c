/*
 * fs_tool: the file tools' one entry point, ise_fs_tool; see fs_tool.h.
 */
#include "exec/fs_tool.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "exec/fs_cron_int.h"
#include "exec/fs_edit_int.h"
#include "exec/fs_jail_int.h"
#include "exec/fs_memory_int.h"
#include "exec/fs_patch_int.h"
#include "exec/fs_read_int.h"
#include "exec/fs_search_int.h"
#include "exec/result.h"
#include "exec/toolconf.h"

/* ---- dispatch ---------------------------------------------------------- */

/* Paths from readdir or the agent and text from .ise/cron.json may be any
 * bytes: make every string in the details valid UTF-8 as the content is. */
static void clean_strings(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring) {
			size_t n = strlen(j->valuestring), m;
			char *c = ise_utf8_clean(j->valuestring, n, &m);
			if (m != n || memcmp(c, j->valuestring, n))
				cJSON_SetValuestring(j, c);
			free(c);
		}
		clean_strings(j->child);
	}
}

static const struct {
	const char *name;
	void (*fn)(struct fs *f);
} tools[] = {
    {"read", ise_fs_tool_read},
    {"write", ise_fs_tool_write},
    {"edit", ise_fs_tool_edit},
    {"apply_patch", ise_fs_tool_apply_patch},
    {"list_dir", ise_fs_tool_list_dir},
    {"glob", ise_fs_tool_glob},
    {"grep", ise_fs_tool_grep},
    {"memory_write", ise_fs_tool_memory_write},
    {"memory_search", ise_fs_tool_memory_search},
    {"memory_get", ise_fs_tool_memory_get},
    {"cron", ise_fs_tool_cron},
};

int ise_fs_tool(int rootfd, uid_t uid, gid_t gid, const struct ise_tools_config *c,
		const char *name, const cJSON *args, struct ise_tool_result *r)
{
	struct ise_tools_config defaults;
	cJSON *parsed = NULL;
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		if (name && !strcmp(name, tools[i].name))
			break;
	if (i == sizeof tools / sizeof tools[0])
		return 0;
	double t0 = ise_now_ms();
	memset(r, 0, sizeof *r);
	r->exit_code = -1;
	if (!c) {
		ise_tools_config_default(&defaults);
		c = &defaults;
	}
	struct fs f = {rootfd, uid, gid, c, name, args, r};
	if (cJSON_IsString(args)) {
		parsed = ise_fs_parse_args_text(args->valuestring ? args->valuestring : "");
		f.args = parsed;
		if (!parsed)
			ise_tool_fail(r,
				      "Validation failed for tool \"%s\": arguments are not valid "
				      "JSON",
				      name);
	} else if (!args || cJSON_IsNull(args)) {
		parsed = cJSON_CreateObject();
		f.args = parsed;
	}
	if (f.args && !cJSON_IsObject(f.args))
		ise_tool_fail(r, "Validation failed for tool \"%s\": arguments must be an object",
			      name);
	else if (f.args)
		tools[i].fn(&f);
	if (!r->content) /* every path sets one; never hand back nothing */
		ise_tool_fail(r, "%s: internal error", name);
	if (r->details)
		clean_strings(r->details->child);
	cJSON_Delete(parsed);
	r->duration_ms = ise_now_ms() - t0;
	return 1;
}
