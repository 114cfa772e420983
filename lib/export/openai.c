#include "export/openai.h"

#include <stdlib.h>
#include <string.h>

#include "core/jsontext.h"

static void put_text(struct ise_strbuf *b, struct ise_text t)
{
	ise_json_put_string(b, t.s, t.n);
}

static void put_cstring(struct ise_strbuf *b, const char *s)
{
	ise_json_put_string(b, s, strlen(s));
}

void ise_export_openai_tools(const struct ise_conv *c, struct ise_strbuf *b)
{
	if (c->tools)
		ise_json_put(b, c->tools);
	else
		ise_sb_add(b, "[]", 2);
}

/* The arguments as JSON text in a string: the record's own text when it
 * gave one, so that its bytes and numbers stay as they were. */
static void put_arguments(struct ise_strbuf *b, const struct ise_export_call *call, int as_object)
{
	if (as_object) {
		ise_json_put(b, call->object);
	} else if (cJSON_IsString(call->given)) {
		put_cstring(b, call->given->valuestring);
	} else {
		struct ise_strbuf text = {0};
		ise_json_put(&text, call->object);
		ise_json_put_string(b, text.s, text.len);
		free(text.s);
	}
}

static void put_assistant(struct ise_strbuf *b, const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];
	int as_object = v->cf->format == ISE_EXPORT_MESSAGES && v->cf->arguments_object;

	ise_sb_puts(b, "{\"role\":\"assistant\",\"content\":");
	put_text(b, m->content);
	if (ise_view_keeps_reasoning(v, i)) {
		ise_sb_puts(b, ",\"reasoning_content\":");
		put_text(b, m->reasoning);
	}
	if (m->ncalls) {
		ise_sb_puts(b, ",\"tool_calls\":[");
		for (size_t k = 0; k < m->ncalls; k++) {
			const struct ise_export_call *call = &v->c->calls[m->first_call + k];
			ise_sb_puts(b, k ? ",{\"id\":" : "{\"id\":");
			put_cstring(b, call->id);
			ise_sb_puts(b, ",\"type\":\"function\",\"function\":{\"name\":");
			put_cstring(b, call->name);
			ise_sb_puts(b, ",\"arguments\":");
			put_arguments(b, call, as_object);
			ise_sb_puts(b, "}}");
		}
		ise_sb_add(b, "]", 1);
	}
	if (v->cf->format == ISE_EXPORT_OPENAI && ise_view_writes_weight(v, i))
		ise_sb_puts(b, ise_view_weight(v, i) ? ",\"weight\":1" : ",\"weight\":0");
	ise_sb_add(b, "}", 1);
}

static void put_message(struct ise_strbuf *b, const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];

	switch (m->role) {
	case ISE_MSG_ASSISTANT:
		put_assistant(b, v, i);
		return;
	case ISE_MSG_TOOL: {
		const struct ise_export_call *call = &v->c->calls[m->call];
		ise_sb_puts(b, "{\"role\":\"tool\",\"tool_call_id\":");
		put_cstring(b, call->id);
		if (v->cf->format == ISE_EXPORT_MESSAGES) {
			ise_sb_puts(b, ",\"name\":");
			put_cstring(b, call->name);
		}
		break;
	}
	default:
		ise_sb_puts(b, m->role == ISE_MSG_SYSTEM ? "{\"role\":\"system\""
							 : "{\"role\":\"user\"");
	}
	ise_sb_puts(b, ",\"content\":");
	put_text(b, m->content);
	ise_sb_add(b, "}", 1);
}

void ise_export_openai(const struct ise_view *v, const char *id, struct ise_strbuf *b)
{
	int parallel = 0;

	ise_view_open_sample(b, id);
	ise_sb_puts(b, "\"messages\":[");
	for (size_t i = 0; i < v->end; i++) {
		if (i)
			ise_sb_add(b, ",", 1);
		put_message(b, v, i);
		parallel |= v->c->msgs[i].ncalls > 1;
	}
	ise_sb_add(b, "]", 1);
	if (v->cf->format == ISE_EXPORT_MESSAGES || v->c->tools) {
		ise_sb_puts(b, ",\"tools\":");
		ise_sb_add(b, v->tools.s, v->tools.n);
	}
	if (v->cf->format == ISE_EXPORT_OPENAI && v->c->tools)
		ise_sb_puts(b, parallel ? ",\"parallel_tool_calls\":true"
					: ",\"parallel_tool_calls\":false");
	ise_sb_add(b, "}", 1);
}
