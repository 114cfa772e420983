#include "export/conversation.h"

#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsonl.h"
#include "core/jsontext.h"
#include "core/xalloc.h"

void ise_conv_init(struct ise_conv *c)
{
	memset(c, 0, sizeof *c);
}

static void clear_calls(struct ise_conv *c)
{
	for (size_t i = 0; i < c->ncalls; i++)
		cJSON_Delete(c->calls[i].parsed);
	c->ncalls = 0;
}

void ise_conv_release(struct ise_conv *c)
{
	clear_calls(c);
	free(c->msgs);
	free(c->calls);
	free(c->answered);
	memset(c, 0, sizeof *c);
}

const char *ise_conv_record_id(const cJSON *record)
{
	static const char *const keys[] = {"id", "intent_id", "session_id"};

	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(record, keys[i]);
		if (cJSON_IsString(v))
			return v->valuestring;
	}
	return NULL;
}

/* The first (last) place of needle in text, or NULL. */
static const char *find(struct ise_text text, const char *needle, int last)
{
	size_t k = strlen(needle);
	const char *found = NULL;

	for (size_t i = 0; k <= text.n && i <= text.n - k; i++)
		if (text.s[i] == needle[0] && !memcmp(text.s + i, needle, k)) {
			found = text.s + i;
			if (!last)
				break;
		}
	return found;
}

int ise_think_split(struct ise_text text, struct ise_text *reasoning, struct ise_text *rest)
{
	const char *first = find(text, "</think>", 0);

	if (!first)
		return 0;
	const char *last = find(text, "</think>", 1) + strlen("</think>");
	struct ise_text before = {text.s, (size_t)(first - text.s)};
	const char *open = find(before, "<think>", 1);
	if (open) {
		before.n -= (size_t)(open + strlen("<think>") - before.s);
		before.s = open + strlen("<think>");
	}
	while (before.n && before.s[before.n - 1] == '\n')
		before.n--;
	while (before.n && before.s[0] == '\n')
		before.s++, before.n--;
	*reasoning = before;
	rest->s = last;
	rest->n = (size_t)(text.s + text.n - last);
	while (rest->n && rest->s[0] == '\n')
		rest->s++, rest->n--;
	return 1;
}

static struct ise_text text_of(const char *s)
{
	return (struct ise_text){s, strlen(s)};
}

static int starts_ends(struct ise_text t, const char *head, const char *tail)
{
	size_t h = strlen(head), k = strlen(tail);
	return t.n >= h && t.n >= k && !memcmp(t.s, head, h) && !memcmp(t.s + t.n - k, tail, k);
}

static struct ise_message *add_message(struct ise_conv *c)
{
	ise_xgrow((void **)&c->msgs, &c->msgs_cap, c->n + 1, sizeof *c->msgs);
	struct ise_message *m = &c->msgs[c->n++];
	memset(m, 0, sizeof *m);
	m->weight = -1;
	return m;
}

/* The arguments of a call as an object; -1 with err when they are not one. */
static int load_arguments(struct ise_export_call *call, size_t at, char *err, size_t errlen)
{
	const cJSON *a = call->given;

	if (cJSON_IsObject(a)) {
		call->object = a;
		return 0;
	}
	if (!cJSON_IsString(a)) {
		ise_errf(err, errlen, "message %zu: call '%s': %s", at, call->id,
			 a ? "arguments are neither a JSON string nor an object" : "no arguments");
		return -1;
	}
	size_t n = strlen(a->valuestring);
	if (ise_json_strict(a->valuestring, n) ||
	    !(call->parsed = ise_json_parse(a->valuestring, n))) {
		ise_errf(err, errlen, "message %zu: call '%s': arguments are not JSON", at,
			 call->id);
		return -1;
	}
	if (!cJSON_IsObject(call->parsed)) {
		ise_errf(err, errlen, "message %zu: call '%s': arguments are not a JSON object", at,
			 call->id);
		return -1;
	}
	if (ise_json_has_nul(call->parsed->child)) {
		ise_errf(err, errlen, "message %zu: call '%s': arguments hold a NUL character", at,
			 call->id);
		return -1;
	}
	call->object = call->parsed;
	return 0;
}

static int load_calls(struct ise_conv *c, struct ise_message *m, const cJSON *calls, char *err,
		      size_t errlen)
{
	const cJSON *tc;
	size_t at = m->index;

	m->first_call = c->ncalls;
	if (!calls || cJSON_IsNull(calls))
		return 0;
	if (!cJSON_IsArray(calls)) {
		ise_errf(err, errlen, "message %zu: tool_calls is not an array", at);
		return -1;
	}
	cJSON_ArrayForEach(tc, calls) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc, "id"));
		const char *name =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "name"));
		if (!cJSON_IsObject(tc) || !cJSON_IsObject(fn) || !name || !*name) {
			ise_errf(err, errlen, "message %zu: a call without a function name", at);
			return -1;
		}
		if (!id || !*id) {
			ise_errf(err, errlen, "message %zu: call of '%s' without an id", at, name);
			return -1;
		}
		for (size_t k = m->first_call; k < c->ncalls; k++)
			if (!strcmp(c->calls[k].id, id)) {
				ise_errf(err, errlen, "message %zu: two calls with the id '%s'", at,
					 id);
				return -1;
			}
		ise_xgrow((void **)&c->calls, &c->calls_cap, c->ncalls + 1, sizeof *c->calls);
		struct ise_export_call *call = &c->calls[c->ncalls++];
		*call = (struct ise_export_call){.id = id, .name = name};
		call->given = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
		if (load_arguments(call, at, err, errlen))
			return -1;
		m->ncalls++;
	}
	return 0;
}

static int load_assistant(struct ise_conv *c, struct ise_message *m, const cJSON *msg, char *err,
			  size_t errlen)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	const cJSON *reasoning = cJSON_GetObjectItemCaseSensitive(msg, "reasoning_content");
	const cJSON *weight = cJSON_GetObjectItemCaseSensitive(msg, "weight");

	if (content && !cJSON_IsNull(content) && !cJSON_IsString(content)) {
		ise_errf(err, errlen, "message %zu: content is not text", m->index);
		return -1;
	}
	m->content = text_of(cJSON_IsString(content) ? content->valuestring : "");
	if (cJSON_IsString(reasoning)) {
		m->reasoning = text_of(reasoning->valuestring);
		m->reasoning_field = 1;
	} else if (reasoning && !cJSON_IsNull(reasoning)) {
		ise_errf(err, errlen, "message %zu: reasoning_content is not text", m->index);
		return -1;
	} else {
		ise_think_split(m->content, &m->reasoning, &m->content);
	}
	if (weight) {
		if (!cJSON_IsNumber(weight) ||
		    (weight->valuedouble != 0 && weight->valuedouble != 1)) {
			ise_errf(err, errlen, "message %zu: weight is not 0 or 1", m->index);
			return -1;
		}
		m->weight = weight->valuedouble != 0;
	}
	return load_calls(c, m, cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), err, errlen);
}

/* The calls of the last assistant message, conv.calls[from..to), and
 * which of them a tool message answered (conv.answered). */
struct pending {
	size_t from, to;
	unsigned char *done;
};

static int load_tool(struct ise_conv *c, struct ise_message *m, const cJSON *msg, struct pending *p,
		     char *err, size_t errlen)
{
	const char *id =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "tool_call_id"));
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");

	if (!id) {
		ise_errf(err, errlen, "message %zu: tool message without a tool_call_id", m->index);
		return -1;
	}
	for (size_t k = p->from; k < p->to; k++)
		if (!p->done[k] && !strcmp(c->calls[k].id, id)) {
			p->done[k] = 1;
			m->call = k;
			if (!cJSON_IsString(content)) {
				ise_errf(err, errlen,
					 "message %zu: tool message without text content",
					 m->index);
				return -1;
			}
			m->content = text_of(content->valuestring);
			return 0;
		}
	ise_errf(err, errlen,
		 "message %zu: tool message for '%s', which is no call of the assistant "
		 "message before it",
		 m->index, id);
	return -1;
}

/* Every call of the last assistant message has its result. */
static int all_answered(const struct ise_conv *c, const struct pending *p, char *err, size_t errlen)
{
	for (size_t k = p->from; k < p->to; k++)
		if (!p->done[k]) {
			ise_errf(err, errlen, "call '%s' has no tool message with its result",
				 c->calls[k].id);
			return 0;
		}
	return 1;
}

static enum ise_msg_role role_of(const char *role, int *ok)
{
	static const char *const names[] = {"system", "user", "assistant", "tool"};

	*ok = 1;
	for (int r = 0; r < 4; r++)
		if (role && !strcmp(role, names[r]))
			return (enum ise_msg_role)r;
	*ok = 0;
	return ISE_MSG_USER;
}

static int load_messages(struct ise_conv *c, const cJSON *messages, struct pending *p, char *err,
			 size_t errlen)
{
	const cJSON *msg;
	size_t at = 0;

	cJSON_ArrayForEach(msg, messages) {
		const char *role =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "role"));
		int ok;
		enum ise_msg_role r = role_of(role, &ok);
		if (!cJSON_IsObject(msg) || !ok) {
			ise_errf(err, errlen, "message %zu: %s%s%s", at,
				 !cJSON_IsObject(msg) ? "not an object"
				 : role               ? "unknown role '"
						      : "no role",
				 cJSON_IsObject(msg) && role ? role : "",
				 cJSON_IsObject(msg) && role ? "'" : "");
			return -1;
		}
		if (r != ISE_MSG_TOOL && !all_answered(c, p, err, errlen))
			return -1;
		struct ise_message *m = add_message(c);
		m->role = r;
		m->index = at++;
		if (r == ISE_MSG_SYSTEM && m->index) {
			ise_errf(err, errlen, "message %zu: a system message that is not the first",
				 m->index);
			return -1;
		}
		if (r == ISE_MSG_ASSISTANT) {
			if (load_assistant(c, m, msg, err, errlen))
				return -1;
			ise_xgrow((void **)&c->answered, &c->answered_cap, c->ncalls + 1, 1);
			p->done = c->answered;
			memset(p->done + m->first_call, 0, m->ncalls);
			p->from = m->first_call;
			p->to = m->first_call + m->ncalls;
		} else if (r == ISE_MSG_TOOL) {
			if (load_tool(c, m, msg, p, err, errlen))
				return -1;
		} else {
			const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
			if (!cJSON_IsString(content)) {
				ise_errf(err, errlen,
					 "message %zu: %s message without text content", m->index,
					 role);
				return -1;
			}
			m->content = text_of(content->valuestring);
			m->query = r == ISE_MSG_USER &&
				   !starts_ends(m->content, "<tool_response>", "</tool_response>");
			c->turns += m->query;
			p->from = p->to = 0;
		}
		m->turn = c->turns ? c->turns : 1;
	}
	return all_answered(c, p, err, errlen) ? 0 : -1;
}

int ise_conv_load(struct ise_conv *c, const cJSON *record, char *err, size_t errlen)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(record, "messages");
	const cJSON *tools = cJSON_GetObjectItemCaseSensitive(record, "tools");
	struct pending p = {0};

	clear_calls(c);
	c->n = 0;
	c->turns = 0;
	c->id = ise_conv_record_id(record);
	c->tools = cJSON_IsArray(tools) && tools->child ? tools : NULL;
	if (!cJSON_IsArray(messages)) {
		ise_errf(err, errlen, "record without a 'messages' array");
		return -1;
	}
	if (tools && !cJSON_IsNull(tools) && !cJSON_IsArray(tools)) {
		ise_errf(err, errlen, "'tools' is not an array");
		return -1;
	}
	if (ise_json_has_nul(messages->child) || (c->tools && ise_json_has_nul(c->tools->child))) {
		ise_errf(err, errlen, "a message or tool holds a NUL character (\\u0000)");
		return -1;
	}
	if (load_messages(c, messages, &p, err, errlen))
		return -1;
	if (!c->n) {
		ise_errf(err, errlen, "no messages");
		return -1;
	}
	return 0;
}
