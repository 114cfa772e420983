/*
 * openai: a sample as OpenAI chat messages, the layout both OpenAI's
 * fine-tuning and the Hugging Face trainers read.
 *
 * --format openai: {"id", "messages", "tools", "parallel_tool_calls"}, the
 * arguments of every call as JSON text, every tool message with the
 * tool_call_id of its call, and a "weight" on assistant messages where the
 * view writes one.  --format messages: {"id", "messages", "tools"} for
 * TRL's SFTTrainer and axolotl's chat_template type, tool messages with the
 * name of their function, arguments as JSON text or (arguments_object) as
 * objects, no weights, and "tools" always there ([] when none).  In both,
 * kept reasoning is the assistant message's "reasoning_content".
 */
#ifndef ISE_EXPORT_OPENAI_H
#define ISE_EXPORT_OPENAI_H

#include "core/strbuf.h"
#include "export/view.h"

/* The tools as these formats write them (compact JSON), into b. */
void ise_export_openai_tools(const struct ise_conv *c, struct ise_strbuf *b);
/* The sample of v as one JSON object appended to b (no newline); id is
 * the sample's, or NULL to write none. */
void ise_export_openai(const struct ise_view *v, const char *id, struct ise_strbuf *b);

#endif
