#include "export/qwen3.h"

#include <stdlib.h>
#include <string.h>

#include "core/jsontext.h"
#include "core/xalloc.h"
#include "export/pyjson.h"

static const char tools_head[] =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
static const char tools_tail[] =
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
    "<function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

void ise_export_qwen3_tools(const struct ise_conv *c, struct ise_strbuf *b)
{
	const cJSON *tool;

	ise_sb_add(b, "", 0);
	if (!c->tools)
		return;
	cJSON_ArrayForEach(tool, c->tools) {
		ise_sb_add(b, "\n", 1);
		ise_pyjson_put(b, tool);
	}
}

static void add(struct ise_strbuf *b, struct ise_text t)
{
	ise_sb_add(b, t.s, t.n);
}

static struct ise_text trim_newlines(struct ise_text t, int left, int right)
{
	while (right && t.n && t.s[t.n - 1] == '\n')
		t.n--;
	while (left && t.n && t.s[0] == '\n')
		t.s++, t.n--;
	return t;
}

/* The text and reasoning the template sees for assistant message i: the
 * reasoning when the sample keeps it; else none, and the template splits
 * an inline <think> block off the text itself. */
static void template_view(const struct ise_view *v, size_t i, struct ise_text *content,
			  struct ise_text *reasoning)
{
	const struct ise_message *m = &v->c->msgs[i];

	*content = m->content;
	*reasoning = (struct ise_text){"", 0};
	if (ise_view_keeps_reasoning(v, i))
		*reasoning = m->reasoning;
	else
		ise_think_split(m->content, reasoning, content);
}

static void put_assistant(struct ise_strbuf *t, const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];
	struct ise_text content, reasoning;

	template_view(v, i, &content, &reasoning);
	if (v->last_query != v->end && i > v->last_query && (i + 1 == v->end || reasoning.n)) {
		ise_sb_add(t, "<think>\n", 8);
		add(t, trim_newlines(reasoning, 1, 1));
		ise_sb_add(t, "\n</think>\n\n", 11);
		add(t, trim_newlines(content, 1, 0));
	} else {
		add(t, content);
	}
	for (size_t k = 0; k < m->ncalls; k++) {
		const struct ise_export_call *call = &v->c->calls[m->first_call + k];
		if (k || content.n)
			ise_sb_add(t, "\n", 1);
		ise_sb_puts(t, "<tool_call>\n{\"name\": \"");
		ise_sb_puts(t, call->name);
		ise_sb_puts(t, "\", \"arguments\": ");
		if (!v->cf->arguments_object && cJSON_IsString(call->given))
			ise_sb_puts(t, call->given->valuestring);
		else
			ise_pyjson_put(t, call->object);
		ise_sb_puts(t, "}\n</tool_call>");
	}
}

/* Byte offsets to code point offsets, in place; offsets ascending. */
static void to_characters(const char *s, size_t *offsets, size_t n)
{
	size_t byte = 0, chars = 0;

	for (size_t k = 0; k < n; k++) {
		for (; byte < offsets[k]; byte++)
			chars += ((unsigned char)s[byte] & 0xc0) != 0x80;
		offsets[k] = chars;
	}
}

void ise_export_qwen3(const struct ise_view *v, const char *id, struct ise_strbuf *b,
		      struct ise_strbuf *t)
{
	const struct ise_conv *c = v->c;
	const struct ise_message *first = &c->msgs[0];
	size_t *spans = NULL, nspans = 0, cap = 0;

	t->len = 0;
	ise_sb_add(t, "", 0);
	if (c->tools) {
		ise_sb_puts(t, "<|im_start|>system\n");
		if (first->role == ISE_MSG_SYSTEM) {
			add(t, first->content);
			ise_sb_add(t, "\n\n", 2);
		}
		ise_sb_puts(t, tools_head);
		add(t, v->tools);
		ise_sb_puts(t, tools_tail);
	} else if (first->role == ISE_MSG_SYSTEM) {
		ise_sb_puts(t, "<|im_start|>system\n");
		add(t, first->content);
		ise_sb_puts(t, "<|im_end|>\n");
	}
	for (size_t i = 0; i < v->end; i++) {
		const struct ise_message *m = &c->msgs[i];
		if (m->role == ISE_MSG_USER || (m->role == ISE_MSG_SYSTEM && i)) {
			ise_sb_puts(t, m->role == ISE_MSG_USER ? "<|im_start|>user\n"
							       : "<|im_start|>system\n");
			add(t, m->content);
			ise_sb_puts(t, "<|im_end|>\n");
		} else if (m->role == ISE_MSG_ASSISTANT) {
			ise_sb_puts(t, "<|im_start|>assistant\n");
			size_t start = t->len;
			put_assistant(t, v, i);
			ise_sb_puts(t, "<|im_end|>");
			if (ise_view_weight(v, i)) {
				ise_xgrow((void **)&spans, &cap, nspans + 2, sizeof *spans);
				spans[nspans++] = start;
				spans[nspans++] = t->len;
			}
			ise_sb_add(t, "\n", 1);
		} else if (m->role == ISE_MSG_TOOL) {
			if (!i || c->msgs[i - 1].role != ISE_MSG_TOOL)
				ise_sb_puts(t, "<|im_start|>user");
			ise_sb_puts(t, "\n<tool_response>\n");
			add(t, m->content);
			ise_sb_puts(t, "\n</tool_response>");
			if (i + 1 == v->end || c->msgs[i + 1].role != ISE_MSG_TOOL)
				ise_sb_puts(t, "<|im_end|>\n");
		}
	}
	to_characters(t->s, spans, nspans);
	ise_view_open_sample(b, id);
	ise_sb_puts(b, "\"text\":");
	ise_json_put_string(b, t->s, t->len);
	ise_sb_puts(b, ",\"spans\":[");
	for (size_t k = 0; k < nspans; k += 2)
		ise_sb_printf(b, "%s[%zu,%zu]", k ? "," : "", spans[k], spans[k + 1]);
	ise_sb_puts(b, "]}");
	free(spans);
}
