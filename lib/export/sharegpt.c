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
	ise_sb_add(b, t.s, t.n);
}

/* The reasoning block and the text of assistant message i, as the value
 * starts. */
static void put_reply(struct ise_strbuf *value, const struct ise_view *v, size_t i)
{
	const struct ise_message *m = &v->c->msgs[i];
	struct ise_text r = m->reasoning, content = m->content;

	while (r.n && r.s[r.n - 1] == '\n')
		r.n--;
	while (r.n && r.s[0] == '\n')
		r.s++, r.n--;
	if (ise_view_keeps_reasoning(v, i) && r.n) {
		ise_sb_add(value, "<think>\n", 8);
		add_text(value, r);
		ise_sb_add(value, "\n</think>\n\n", 11);
		while (content.n && content.s[0] == '\n')
			content.s++, content.n--;
	}
	add_text(value, content);
}

static void put_calls(struct ise_strbuf *value, const struct ise_conv *c,
		      const struct ise_message *m)
{
	if (m->ncalls > 1)
		ise_sb_add(value, "[", 1);
	for (size_t k = 0; k < m->ncalls; k++) {
		const struct ise_export_call *call = &c->calls[m->first_call + k];
		ise_sb_puts(value, k ? ",{\"name\":" : "{\"name\":");
		ise_json_put_string(value, call->name, strlen(call->name));
		ise_sb_puts(value, ",\"arguments\":");
		ise_json_put(value, call->object);
		ise_sb_add(value, "}", 1);
	}
	if (m->ncalls > 1)
		ise_sb_add(value, "]", 1);
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

static void put_turn(struct ise_strbuf *b, size_t pos, const char *from,
		     const struct ise_strbuf *value)
{
	ise_sb_puts(b, pos > 1 ? ",{\"from\":\"" : "{\"from\":\"");
	ise_sb_puts(b, from);
	ise_sb_puts(b, "\",\"value\":");
	ise_json_put_string(b, value->s, value->len);
	ise_sb_add(b, "}", 1);
}

int ise_export_sharegpt(const struct ise_view *v, const char *id, struct ise_strbuf *b,
			struct ise_strbuf *scratch, char *err, size_t errlen)
{
	const struct ise_conv *c = v->c;
	size_t start = b->len, last = 0, pos = 0, i = 0;

	for (size_t k = 0; k < v->end; k++)
		if (c->msgs[k].role == ISE_MSG_ASSISTANT)
			last = k;
	ise_sb_add(b, "{", 1);
	if (id) {
		ise_sb_puts(b, "\"id\":");
		ise_json_put_string(b, id, strlen(id));
		ise_sb_add(b, ",", 1);
	}
	ise_sb_puts(b, "\"conversations\":[");
	if (c->msgs[0].role == ISE_MSG_SYSTEM)
		i = 1;
	while (i <= last) {
		const struct ise_message *m = &c->msgs[i];
		const char *from;
		scratch->len = 0;
		if (m->role == ISE_MSG_USER) {
			from = "human";
			add_text(scratch, m->content);
			i++;
		} else if (m->role == ISE_MSG_ASSISTANT) {
			from = m->ncalls ? "function_call" : "gpt";
			put_reply(scratch, v, i);
			if (m->ncalls && m->content.n)
				ise_sb_puts(scratch, "\n<tool_call>");
			put_calls(scratch, c, m);
			if (m->ncalls && m->content.n)
				ise_sb_puts(scratch, "</tool_call>");
			i++;
		} else {
			from = "observation";
			for (size_t k = i; i <= last && c->msgs[i].role == ISE_MSG_TOOL; i++) {
				if (i > k)
					ise_sb_puts(scratch,
						    "\n</tool_response>\n<tool_response>\n");
				add_text(scratch, c->msgs[i].content);
			}
		}
		if (place(m, from, ++pos, err, errlen)) {
			b->len = start;
			b->s[start] = '\0';
			return -1;
		}
		put_turn(b, pos, from, scratch);
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
