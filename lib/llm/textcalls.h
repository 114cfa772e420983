/*
 * textcalls: tool calls that came back as text.
 *
 * A server with no tool parser, or the wrong one, or one whose parser
 * failed, returns a model's tool calls in the content in the model's own
 * markup instead of in tool_calls.  Such a reply is no final answer.  The
 * common formats are found and parsed here:
 *
 *   hermes       <tool_call>{"name": N, "arguments": {...}}</tool_call>
 *                (Hermes, Qwen2.5, Qwen3; one block per call)
 *   qwen3_coder  <tool_call><function=N><parameter=K>V</parameter>...
 *                </function></tool_call>  (values typed by the tool's schema)
 *   mistral      [TOOL_CALLS][{"name": N, "arguments": {...}}, ...]
 *                or [TOOL_CALLS]N[ARGS]{...}
 *   llama_json   the whole reply {"name": N, "parameters": {...}}, calls
 *                separated by ';' (Llama 3.x), naming a tool it was given
 *
 * Used by ise-sim to turn them into real calls (or fail the turn) and by
 * ise-audit to flag a trajectory that still holds them.  Returned trees
 * and strings are the caller's.
 */
#ifndef ISE_TEXTCALLS_H
#define ISE_TEXTCALLS_H

#include <cJSON.h>

enum ise_text_calls {
	ISE_TEXT_CALLS_NONE,
	ISE_TEXT_CALLS_HERMES,
	ISE_TEXT_CALLS_XML,
	ISE_TEXT_CALLS_MISTRAL,
	ISE_TEXT_CALLS_JSON,
};

/* "hermes", "qwen3_coder", "mistral", "llama_json"; "" for NONE. */
const char *ise_text_calls_name(enum ise_text_calls format);

/* The server option that parses that format, for messages. */
const char *ise_text_calls_fix(enum ise_text_calls format);

/* The format of the tool-call markup in text, NONE when it holds none.
 * tools (OpenAI function specs, or NULL for any name) decide whether a bare
 * JSON object is a call. */
enum ise_text_calls ise_text_calls_find(const char *text, const cJSON *tools);

/* The calls in text, of the format found: *calls gets an array of
 * {type: "function", function: {name, arguments}} with arguments as JSON
 * text and no ids, *rest the text around the markup (trimmed).  NULL on
 * success, else why the markup does not parse (and *calls, *rest NULL). */
const char *ise_text_calls_parse(const char *text, enum ise_text_calls format, const cJSON *tools,
				 cJSON **calls, char **rest);

#endif
