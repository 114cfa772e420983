/*
 * qwen3: a sample as the text Qwen3's chat template renders for its
 * messages and tools (Hermes-style tool calls; no generation prompt), with
 * the character ranges of the assistant's output to train on:
 * {"id", "text", "spans": [[start, end], ...]}.
 *
 * The rules, as ise-export(1) states them:
 *  - every turn is "<|im_start|>ROLE\n" ... "<|im_end|>\n";
 *  - with tools, the first turn is a system turn: the system message's
 *    text and "\n\n" (when there is one), then the "# Tools" block with
 *    each tool as tojson on a line of its own inside <tools></tools>;
 *    without tools, the system message alone, when there is one;
 *  - an assistant turn is its text, then each call as
 *    "<tool_call>\n{\"name\": \"NAME\", \"arguments\": ARGS}\n</tool_call>",
 *    a newline before each call but the first, and before the first when
 *    the text is not empty; ARGS is the arguments' JSON text when they are
 *    given as text, else tojson of the object;
 *  - the results of consecutive tool messages share one user turn, each
 *    as "\n<tool_response>\nTEXT\n</tool_response>";
 *  - an assistant message after the last user message that is a real
 *    request (not only tool responses) starts with
 *    "<think>\nREASONING\n</think>\n\n" (newlines around the reasoning
 *    trimmed, those before the text too) when it has reasoning or is the
 *    last message; an earlier one shows its text alone.
 * A span runs from the first character after "<|im_start|>assistant\n" to
 * the end of that turn's "<|im_end|>", for each assistant message whose
 * weight is not 0.  Characters are Unicode code points.
 */
#ifndef ISE_EXPORT_QWEN3_H
#define ISE_EXPORT_QWEN3_H

#include "core/strbuf.h"
#include "export/view.h"

/* "\n" and tojson of each tool, one after the other, into b. */
void ise_export_qwen3_tools(const struct ise_conv *c, struct ise_strbuf *b);
/* The sample of v appended to b (no newline); id as in openai.h; text is
 * the caller's buffer for the rendering. */
void ise_export_qwen3(const struct ise_view *v, const char *id, struct ise_strbuf *b,
		      struct ise_strbuf *text);

#endif
