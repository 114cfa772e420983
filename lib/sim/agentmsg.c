/*
 * agentmsg: the agent's assistant messages, stored as they are sent (see
 * agentmsg.h).
 */
#include "sim/agentmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/xalloc.h"

/* Give call a unique id: its own when new, else call_TURN_N (with a suffix
 * in the unlikely case that a server took that one too). */
static void unique_id(cJSON *call, struct ise_idset *ids, unsigned turn, size_t n)
{
	const char *id = ise_json_string(call, "id");
	char made[96];

	if (id && *id && ise_idset_add(ids, id))
		return;
	snprintf(made, sizeof made, "call_%u_%zu", turn, n);
	for (unsigned extra = 2; !ise_idset_add(ids, made); extra++)
		snprintf(made, sizeof made, "call_%u_%zu_%u", turn, n, extra);
	if (id && *id) {
		cJSON *server = ise_json_checked(cJSON_CreateString(id));
		cJSON_DeleteItemFromObjectCaseSensitive(call, "server_id");
		ise_json_add(call, "server_id", server);
	}
	cJSON *item = ise_json_checked(cJSON_CreateString(made));
	if (cJSON_GetObjectItemCaseSensitive(call, "id")) {
		cJSON_ReplaceItemInObjectCaseSensitive(call, "id", item);
	} else { /* the id leads, as servers write it */
		ise_json_add(call, "id", item);
		cJSON_DetachItemViaPointer(call, item);
		cJSON_InsertItemInArray(call, 0, item);
	}
}

cJSON *ise_agent_message(const char *content, const char *reasoning, cJSON *calls,
			 const char *text_format, enum ise_think think, struct ise_idset *ids,
			 unsigned turn, size_t done)
{
	cJSON *m = ise_json_checked(cJSON_CreateObject()), *call;
	int has_reasoning = reasoning && *reasoning && think != ISE_THINK_DROP;

	ise_json_add(m, "role", cJSON_CreateString("assistant"));
	if (has_reasoning && think == ISE_THINK_INLINE) {
		char *text =
		    ise_xasprintf("<think>\n%s\n</think>\n\n%s", reasoning, content ? content : "");
		ise_json_add(m, "content", cJSON_CreateString(text));
		free(text);
	} else {
		ise_json_add(m, "content", cJSON_CreateString(content ? content : ""));
	}
	if (calls) {
		size_t n = done;
		cJSON_ArrayForEach(call, calls)
			unique_id(call, ids, turn, ++n);
		ise_json_add(m, "tool_calls", calls);
	}
	if (has_reasoning && think == ISE_THINK_KEEP)
		ise_json_add(m, "reasoning_content", cJSON_CreateString(reasoning));
	if (text_format)
		ise_json_add(m, "text_tool_calls", cJSON_CreateString(text_format));
	return m;
}

cJSON *ise_agent_wire(const cJSON *messages)
{
	cJSON *copy = ise_json_checked(cJSON_Duplicate(messages, 1)), *m, *call;

	cJSON_ArrayForEach(m, copy) {
		cJSON_DeleteItemFromObjectCaseSensitive(m, "text_tool_calls");
		cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m, "tool_calls"))
			cJSON_DeleteItemFromObjectCaseSensitive(call, "server_id");
	}
	return copy;
}
