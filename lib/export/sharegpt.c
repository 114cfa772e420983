#include "export/sharegpt.h"

#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsontext.h"

void ise_export_sharegpt_tools(const struct ise_conv *c, struct ise_strbuf *b)
{
	struct ise_strbuf text = {0};

	if (!c->tools) {
		ise_sb_add(b, "\"\"", 2);
		return;
	}
	ise_json_put(&text, c->tools);
	ise_json_put_string(b, text.s, text.len);
	free(text.s);
}

static void add_text(struct ise_strbuf *b, struct ise_text t)
{
	ise_json_put_chars(b, t.s, t.n);
}

/* The reasoning block and the text of assistant message i, as the value
 * starts, escaped into b. */
static void put_reply(struct ise_strbuf *b, const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];
	struct ise_text r = m->reasoning, content = m->content;

	while (r.n && r.s[r.n - 1] == '\n')
		r.n--;
	while (r.n && r.s[0] == '\n')
		r.s++, r.n--;
	if (ise_view_keeps_reasoning(v, i) && r.n) {
		ise_sb_puts(b, "<think>\\n");
		add_text(b, r);
		ise_sb_puts(b, "\\n</think>\\n\\n");
		while (content.n && content.s[0] == '\n')
			content.s++, content.n--;
	}
	add_text(b, content);
}

/* The calls of m as JSON, escaped into b (scratch holds the JSON). */
static void put_calls(struct ise_strbuf *b, const struct ise_conv *c, const struct ise_message *m,
		      struct ise_strbuf *scratch)
{
	scratch->len = 0;
	ise_sb_add(scratch, "", 0);
	if (m->ncalls > 1)
		ise_sb_add(scratch, "[", 1);
	for (size_t k = 0; k < m->ncalls; k++) {
		const struct ise_export_call *call = &c->calls[m->first_call + k];
		ise_sb_puts(scratch, k ? ",{\"name\":" : "{\"name\":");
		ise_json_put_string(scratch, call->name, strlen(call->name));
		ise_sb_puts(scratch, ",\"arguments\":");
		ise_json_put(scratch, call->object);
		ise_sb_add(scratch, "}", 1);
	}
	if (m->ncalls > 1)
		ise_sb_add(scratch, "]", 1);
	ise_json_put_chars(b, scratch->s, scratch->len);
}

static const char *const role_names[] = {"system", "user", "assistant", "tool"};

/* One turn of the conversation: "from" at 1-based position pos must be on
 * the side the loader wants there. */
static int place(const struct ise_message *m, const char *from, size_t pos, char *err,
		 size_t errlen)
{
	int odd = !strcmp(from, "human") || !strcmp(from, "observation");

	if (odd == (int)(pos % 2))
		return 0;
	ise_errf(err, errlen,
		 "message %zu (%s) would be '%s' at position %zu of the sharegpt conversation, "
		 "where LLaMA-Factory's loader wants %s",
		 m->index, role_names[m->role], from, pos,
		 pos % 2 ? "human or observation" : "gpt or function_call");
	return -1;
}

int ise_export_sharegpt(const struct ise_view *v, const char *id, struct ise_strbuf *b,
			struct ise_strbuf *scratch, char *err, size_t errlen)
{
	const struct ise_conv *c = v->c;
	size_t start = b->len, last = 0, pos = 0, i = 0;

	for (size_t k = 0; k < v->end; k++)
		if (c->msgs[k].role == ISE_MSG_ASSISTANT)
			last = k;
	ise_view_open_sample(b, id);
	ise_sb_puts(b, "\"conversations\":[");
	if (c->msgs[0].role == ISE_MSG_SYSTEM)
		i = 1;
	while (i <= last) {
		const struct ise_message *m = &c->msgs[i];
		const char *from = m->role == ISE_MSG_USER   ? "human"
				   : m->role == ISE_MSG_TOOL ? "observation"
				   : m->ncalls               ? "function_call"
							     : "gpt";
		if (place(m, from, ++pos, err, errlen)) {
			b->len = start;
			b->s[start] = '\0';
			return -1;
		}
		ise_sb_printf(b, "%s{\"from\":\"%s\",\"value\":\"", pos > 1 ? "," : "", from);
		if (m->role == ISE_MSG_USER) {
			add_text(b, m->content);
			i++;
		} else if (m->role == ISE_MSG_ASSISTANT) {
			put_reply(b, v, i);
			if (m->ncalls && m->content.n)
				ise_sb_puts(b, "\\n<tool_call>");
			if (m->ncalls)
				put_calls(b, c, m, scratch);
			if (m->ncalls && m->content.n)
				ise_sb_puts(b, "</tool_call>");
			i++;
		} else {
			for (size_t k = i; i <= last && c->msgs[i].role == ISE_MSG_TOOL; i++) {
				if (i > k)
					ise_sb_puts(b, "\\n</tool_response>\\n<tool_response>\\n");
				add_text(b, c->msgs[i].content);
			}
		}
		ise_sb_puts(b, "\"}");
	}
	ise_sb_puts(b, "],\"system\":");
	if (c->msgs[0].role == ISE_MSG_SYSTEM)
		ise_json_put_string(b, c->msgs[0].content.s, c->msgs[0].content.n);
	else
		ise_sb_add(b, "\"\"", 2);
	ise_sb_puts(b, ",\"tools\":");
	ise_sb_add(b, v->tools.s, v->tools.n);
	ise_sb_add(b, "}", 1);
	return 0;
}
