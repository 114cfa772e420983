/*
 * tools: the 16 tools of the catalog, executed for real.
 *
 * ise_tool_call is the one entry point ise-exec and ise-sim use: it takes a
 * workspace, a tool name and its arguments (an object, or a JSON string as
 * models send them) and fills a result with the text the agent sees.  Tools
 * never trust their arguments: every path is resolved inside the workspace,
 * every size is capped, every byte of output is made valid UTF-8.
 *
 * The file tools (fs_*.c) work on the workspace's root directory fd from
 * the host side with openat2(RESOLVE_IN_ROOT), so `..`, absolute paths and
 * symlinks resolve inside the workspace as they would for the sandboxed
 * shell; the web tools (web.c) run in this process with libcurl; exec and
 * process go to the sandbox (sandbox.h: command.c and session.c).
 */
#ifndef ISE_TOOLS_H
#define ISE_TOOLS_H

#include <stddef.h>
#include <sys/types.h>

#include <cJSON.h>

#include "exec/result.h"
#include "exec/toolconf.h"

struct ise_ws;

/* Run one tool call in ws.  Never fails as a program: every problem is a
 * result with ok = 0 and the error text a real tool would give.  The
 * caller holds ise_ws_lock(ws), so calls on one workspace never overlap. */
void ise_tool_call(struct ise_ws *ws, const struct ise_tools_config *c, const char *name,
		   const cJSON *arguments, struct ise_tool_result *r);

/* The parts, for tests and for ise_tool_call: the file tools are in
 * exec/fs_tool.h, the web tools in exec/web.h. */

#endif
