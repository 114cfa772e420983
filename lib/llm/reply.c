/*
 * reply: reasoning apart from the answer, and whether a reply is one a
 * program may keep (see reply.h).
 */
#include "llm/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/xalloc.h"

static const char space[] = " \t\r\n";

void ise_reply_add_reasoning(char **reasoning, const char *more)
{
	char *m = ise_xstrtrim(more, strlen(more));

	if (!*m) {
		free(m);
	} else if (!*reasoning || !**reasoning) {
		free(*reasoning);
		*reasoning = m;
	} else if (strstr(*reasoning, m)) { /* the same reasoning, twice over */
		free(m);
	} else if (strstr(m, *reasoning)) {
		free(*reasoning);
		*reasoning = m;
	} else {
		char *both = ise_xasprintf("%s\n\n%s", *reasoning, m);
		free(*reasoning);
		free(m);
		*reasoning = both;
	}
}

void ise_reply_split_think(char **content, char **reasoning)
{
	static const char open_tag[] = "<think>", close_tag[] = "</think>";
	const size_t olen = sizeof open_tag - 1, clen = sizeof close_tag - 1;

	for (;;) {
		const char *text = *content;
		const char *open = strstr(text, open_tag), *close = strstr(text, close_tag);
		struct ise_strbuf rest = {0};
		char *inner;

		if (!open && !close)
			break;
		if (close && (!open || close < open)) { /* the prompt opened it */
			inner = ise_xstrtrim(text, (size_t)(close - text));
			ise_sb_puts(&rest, close + clen);
		} else if (close) {
			inner = ise_xstrtrim(open + olen, (size_t)(close - open - olen));
			ise_sb_add(&rest, text, (size_t)(open - text));
			ise_sb_puts(&rest, close + clen);
		} else { /* never closed: all the rest is reasoning */
			inner = ise_xstrtrim(open + olen, strlen(open + olen));
			ise_sb_add(&rest, text, (size_t)(open - text));
		}
		ise_reply_add_reasoning(reasoning, inner);
		free(inner);
		char *left = ise_sb_take(&rest);
		free(*content);
		*content = ise_xstrtrim(left, strlen(left));
		free(left);
	}
	if (*reasoning && !**reasoning) {
		free(*reasoning);
		*reasoning = NULL;
	}
}

enum ise_reply_kind ise_reply_kind(const char *content, const char *reasoning, int has_calls,
				   const char *finish_reason)
{
	if (has_calls)
		return ISE_REPLY_USABLE;
	if (finish_reason && !strcmp(finish_reason, "length"))
		return ISE_REPLY_CUT;
	if (content && content[strspn(content, space)])
		return ISE_REPLY_USABLE;
	if (reasoning && reasoning[strspn(reasoning, space)])
		return ISE_REPLY_REASONING_ONLY;
	return ISE_REPLY_EMPTY;
}

void ise_reply_explain(enum ise_reply_kind kind, const char *content, const char *reasoning,
		       long max_tokens, char *buf, size_t size)
{
	char limit[64];
	size_t thought = reasoning ? strlen(reasoning) : 0;
	int text = content && content[strspn(content, space)];

	if (max_tokens > 0)
		snprintf(limit, sizeof limit, "--max-tokens %ld", max_tokens);
	else
		snprintf(limit, sizeof limit, "the server's own limit");
	switch (kind) {
	case ISE_REPLY_USABLE:
		snprintf(buf, size, "the reply is usable");
		break;
	case ISE_REPLY_CUT:
		if (text)
			snprintf(buf, size,
				 "the reply was cut at the token limit (%s), so its text is "
				 "incomplete: raise --max-tokens",
				 limit);
		else if (thought)
			snprintf(buf, size,
				 "the reply was cut at the token limit (%s) while the model was "
				 "still reasoning (%zu characters of reasoning, no answer): raise "
				 "--max-tokens, or turn thinking off (for Qwen3: --extra-body "
				 "'{\"chat_template_kwargs\":{\"enable_thinking\":false}}')",
				 limit, thought);
		else
			snprintf(buf, size,
				 "the reply was cut at the token limit (%s) before any text: raise "
				 "--max-tokens",
				 limit);
		break;
	case ISE_REPLY_REASONING_ONLY:
		snprintf(buf, size,
			 "the reply holds reasoning only (%zu characters) and no answer, and an "
			 "answer is never taken from reasoning: the server's reasoning parser "
			 "took the whole reply for reasoning, as vLLM's deepseek_r1 parser does "
			 "when thinking is off; start the server with the parser that fits the "
			 "model (vLLM: --reasoning-parser qwen3 for Qwen3), or leave thinking on",
			 thought);
		break;
	case ISE_REPLY_EMPTY:
		snprintf(buf, size, "the reply is empty: no text and no tool call");
		break;
	}
}
