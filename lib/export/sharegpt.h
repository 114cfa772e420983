/*
 * sharegpt: a sample in LLaMA-Factory's sharegpt layout,
 * {"id", "conversations": [{"from", "value"}], "system", "tools"}.
 *
 * A user message is "human"; an assistant message "gpt", or "function_call"
 * when it calls tools, its value the call as JSON {"name", "arguments"} or
 * a list of them for parallel calls, after the message's text and
 * "\n<tool_call>" when it has text (ending "</tool_call>"); the results of
 * one message's calls are one "observation", joined by
 * "\n</tool_response>\n<tool_response>\n" as LLaMA-Factory's own importer
 * joins them.  Kept reasoning leads its value as "<think>\n...\n</think>\n\n".
 * The loader wants human and observation at odd positions and gpt and
 * function_call at even ones (from 1), and the conversation to end on the
 * assistant's side: tool results after the last assistant message are left
 * out, and a sample whose messages cannot stand in that order is refused.
 * "system" is the system message's text and "tools" the tools as JSON text
 * ("" for none).
 */
#ifndef ISE_EXPORT_SHAREGPT_H
#define ISE_EXPORT_SHAREGPT_H

#include <stddef.h>

#include "core/strbuf.h"
#include "export/view.h"

/* The "tools" value (a JSON string holding the tools, or ""), into b. */
void ise_export_sharegpt_tools(const struct ise_conv *c, struct ise_strbuf *b);
/* The sample of v appended to b (no newline); id as in openai.h; scratch
 * is the caller's buffer for the calls' JSON.  -1 with err (b unchanged) when
 * the messages cannot stand in the loader's order. */
int ise_export_sharegpt(const struct ise_view *v, const char *id, struct ise_strbuf *b,
			struct ise_strbuf *scratch, char *err, size_t errlen);

#endif
