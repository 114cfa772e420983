/*
 * textcalls: the tool-call markup of the common model families, found and
 * parsed out of a reply's text (see textcalls.h).
 */
#include "llm/textcalls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsondoc.h"
#include "core/jsontext.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

static const char space[] = " \t\r\n";

#define TOOL_CALL     "<tool_call>"
#define TOOL_CALL_END "</tool_call>"
#define FUNCTION      "<function="
#define FUNCTION_END  "</function>"
#define PARAMETER     "<parameter="
#define PARAMETER_END "</parameter>"
#define MISTRAL       "[TOOL_CALLS]"
#define MISTRAL_ARGS  "[ARGS]"
#define PYTHON_TAG    "<|python_tag|>"
#define LEN(literal)  (sizeof literal - 1)

const char *ise_text_calls_name(enum ise_text_calls format)
{
	switch (format) {
	case ISE_TEXT_CALLS_HERMES:
		return "hermes";
	case ISE_TEXT_CALLS_XML:
		return "qwen3_coder";
	case ISE_TEXT_CALLS_MISTRAL:
		return "mistral";
	case ISE_TEXT_CALLS_JSON:
		return "llama_json";
	case ISE_TEXT_CALLS_NONE:
		break;
	}
	return "";
}

const char *ise_text_calls_fix(enum ise_text_calls format)
{
	switch (format) {
	case ISE_TEXT_CALLS_HERMES:
		return "vLLM --enable-auto-tool-choice --tool-call-parser hermes; SGLang "
		       "--tool-call-parser qwen25; llama-server --jinja";
	case ISE_TEXT_CALLS_XML:
		return "vLLM --enable-auto-tool-choice --tool-call-parser qwen3_coder; SGLang "
		       "--tool-call-parser qwen3_coder";
	case ISE_TEXT_CALLS_MISTRAL:
		return "vLLM --enable-auto-tool-choice --tool-call-parser mistral; SGLang "
		       "--tool-call-parser mistral";
	case ISE_TEXT_CALLS_JSON:
		return "vLLM --enable-auto-tool-choice --tool-call-parser llama3_json; SGLang "
		       "--tool-call-parser llama3";
	case ISE_TEXT_CALLS_NONE:
		break;
	}
	return "";
}

static const char *skip_space(const char *p)
{
	return p + strspn(p, space);
}

/* A JSON value at p (anything may follow it): *end just past it. */
static cJSON *json_at(const char *p, const char **end)
{
	const char *stop = NULL;
	size_t len = strlen(p);
	cJSON *v = cJSON_ParseWithLengthOpts(p, len, &stop, 0);

	if (!v)
		return NULL;
	ise_json_note_source(v, p, (size_t)(stop - p), 1);
	*end = stop;
	return v;
}

static const cJSON *tool_spec(const cJSON *tools, const char *name)
{
	const cJSON *spec;

	cJSON_ArrayForEach(spec, tools) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(spec, "function");
		const char *n = ise_json_string(fn, "name");
		if (n && !strcmp(n, name))
			return fn;
	}
	return NULL;
}

static void add_call(cJSON *calls, const char *name, const cJSON *args)
{
	cJSON *c = ise_json_checked(cJSON_CreateObject());
	cJSON *f = ise_json_checked(cJSON_CreateObject());

	ise_json_add(c, "type", cJSON_CreateString("function"));
	ise_json_add(f, "name", cJSON_CreateString(name));
	if (cJSON_IsString(args)) { /* already its JSON text */
		ise_json_add(f, "arguments", cJSON_CreateString(args->valuestring));
	} else if (args && !cJSON_IsNull(args)) {
		char *text = ise_json_print(args);
		ise_json_add(f, "arguments", cJSON_CreateString(text));
		free(text);
	} else {
		ise_json_add(f, "arguments", cJSON_CreateString("{}"));
	}
	ise_json_add(c, "function", f);
	ise_json_add(calls, NULL, c);
}

/* {"name": N, "arguments" or "parameters": ...} as a call; 0, or -1 when
 * it is no such object.  A bare object (no markup around it) must have its
 * arguments as an object and, when tools are known, name one of them: only
 * then is it surely a call and not an answer that happens to be JSON. */
static int json_call(cJSON *calls, const cJSON *o, const cJSON *tools, int bare)
{
	const char *name = ise_json_string(o, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "arguments");

	if (!args)
		args = cJSON_GetObjectItemCaseSensitive(o, "parameters");
	if (!cJSON_IsObject(o) || !name || !*name)
		return -1;
	if (args && !cJSON_IsObject(args) && !cJSON_IsString(args) && !cJSON_IsNull(args))
		return -1;
	if (bare && (!cJSON_IsObject(args) || (tools && !tool_spec(tools, name))))
		return -1;
	add_call(calls, name, args);
	return 0;
}

/* ---- hermes: <tool_call>{json}</tool_call> ---- */

static const char *parse_hermes(const char *text, const cJSON *tools, cJSON *calls,
				struct ise_strbuf *rest)
{
	const char *p = text, *open;

	while ((open = strstr(p, TOOL_CALL))) {
		const char *body = open + LEN(TOOL_CALL), *close = strstr(body, TOOL_CALL_END);
		size_t n = close ? (size_t)(close - body) : strlen(body);
		char *inner = ise_xstrtrim(body, n);
		cJSON *o = cJSON_Parse(inner);
		int bad = json_call(calls, o, tools, 0);
		cJSON_Delete(o);
		free(inner);
		if (bad)
			return "a <tool_call> block is not a JSON object with a \"name\" and its "
			       "\"arguments\"";
		ise_sb_add(rest, p, (size_t)(open - p));
		p = close ? close + LEN(TOOL_CALL_END) : body + n;
	}
	ise_sb_puts(rest, p);
	return NULL;
}

/* ---- qwen3_coder: <function=N><parameter=K>V</parameter></function> ---- */

/* The JSON type a tool's schema gives parameter key, or NULL. */
static const char *param_type(const cJSON *fn, const char *key)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(fn, "parameters"), "properties");
	const cJSON *type =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(props, key), "type");
	const cJSON *t;

	if (cJSON_IsString(type))
		return type->valuestring;
	cJSON_ArrayForEach(t, type) /* ["integer", "null"] */
		if (cJSON_IsString(t) && strcmp(t->valuestring, "null"))
			return t->valuestring;
	return NULL;
}

/* The value text v as the schema types it; text where it does not fit. */
static cJSON *typed_value(const char *v, const char *type)
{
	if (!type || !strcmp(type, "string"))
		return cJSON_CreateString(v);
	if (!strcasecmp(v, "null"))
		return cJSON_CreateNull();
	if (!strcmp(type, "boolean") && (!strcasecmp(v, "true") || !strcasecmp(v, "false")))
		return cJSON_CreateBool(!strcasecmp(v, "true"));
	if (!strcmp(type, "integer") || !strcmp(type, "number") || !strcmp(type, "object") ||
	    !strcmp(type, "array")) {
		cJSON *j = ise_json_parse(v, strlen(v));
		int fits = !strcmp(type, "object")  ? cJSON_IsObject(j)
			   : !strcmp(type, "array") ? cJSON_IsArray(j)
						    : cJSON_IsNumber(j);
		if (fits)
			return j;
		cJSON_Delete(j);
	}
	return cJSON_CreateString(v);
}

/* The parameters of one function body [body, end) into args. */
static void parse_parameters(const char *body, const char *end, const cJSON *fn, cJSON *args)
{
	const char *p = body, *open;

	while ((open = strstr(p, PARAMETER)) && open < end) {
		const char *key = open + LEN(PARAMETER), *gt = strchr(key, '>');
		if (!gt || gt >= end)
			break;
		const char *v = gt + 1, *close = strstr(v, PARAMETER_END),
			   *next = strstr(v, PARAMETER);
		const char *stop = close && close < end ? close : end;
		if (next && next < stop) /* a </parameter> left out */
			stop = next;
		/* one newline after the tag and one before the closing tag are layout */
		const char *vs = *v == '\n' ? v + 1 : v, *ve = stop;
		if (ve > vs && ve[-1] == '\n')
			ve--;
		if (ve > vs && ve[-1] == '\r')
			ve--;
		char *k = ise_xstrtrim(key, (size_t)(gt - key));
		char *value = ise_xmalloc((size_t)(ve > vs ? ve - vs : 0) + 1);
		memcpy(value, vs, (size_t)(ve > vs ? ve - vs : 0));
		value[ve > vs ? ve - vs : 0] = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(args, k);
		ise_json_add(args, k, ise_json_checked(typed_value(value, param_type(fn, k))));
		free(k);
		free(value);
		p = stop == close ? close + LEN(PARAMETER_END) : stop;
	}
}

static const char *parse_xml(const char *text, const cJSON *tools, cJSON *calls,
			     struct ise_strbuf *rest)
{
	const char *p = text, *fn;

	while ((fn = strstr(p, FUNCTION))) {
		const char *start = fn, *t;
		/* the <tool_call> around it, if any, goes with it */
		for (t = p; (t = strstr(t, TOOL_CALL)) && t < fn; t += LEN(TOOL_CALL))
			start = t;
		const char *name = fn + LEN(FUNCTION), *gt = strchr(name, '>');
		if (!gt || memchr(name, '\n', (size_t)(gt - name)))
			return "a <function=...> tag is not closed";
		char *n = ise_xstrtrim(name, (size_t)(gt - name));
		if (!*n) {
			free(n);
			return "a <function=> tag names no function";
		}
		const char *close = strstr(gt, FUNCTION_END);
		const char *end = close ? close : gt + strlen(gt);
		cJSON *args = ise_json_checked(cJSON_CreateObject());
		parse_parameters(gt + 1, end, tool_spec(tools, n), args);
		add_call(calls, n, args);
		cJSON_Delete(args);
		free(n);
		ise_sb_add(rest, p, (size_t)(start - p));
		p = close ? close + LEN(FUNCTION_END) : end;
		const char *after = skip_space(p);
		if (!strncmp(after, TOOL_CALL_END, LEN(TOOL_CALL_END)))
			p = after + LEN(TOOL_CALL_END);
	}
	ise_sb_puts(rest, p);
	return NULL;
}

/* ---- mistral: [TOOL_CALLS][{...}] or [TOOL_CALLS]N[ARGS]{...} ---- */

static const char *parse_mistral(const char *text, const cJSON *tools, cJSON *calls,
				 struct ise_strbuf *rest)
{
	const char *p = text, *mark, *end;

	while ((mark = strstr(p, MISTRAL))) {
		const char *q = skip_space(mark + LEN(MISTRAL));
		ise_sb_add(rest, p, (size_t)(mark - p));
		if (*q == '[') {
			cJSON *list = json_at(q, &end), *o;
			if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
				cJSON_Delete(list);
				return "[TOOL_CALLS] is not followed by a JSON array of calls";
			}
			cJSON_ArrayForEach(o, list) {
				if (json_call(calls, o, tools, 0)) {
					cJSON_Delete(list);
					return "a call after [TOOL_CALLS] is not a JSON object "
					       "with a "
					       "\"name\" and its \"arguments\"";
				}
			}
			cJSON_Delete(list);
		} else {
			const char *args = strstr(q, MISTRAL_ARGS);
			if (!args || memchr(q, '\n', (size_t)(args - q)))
				return "[TOOL_CALLS] is followed by neither a JSON array nor "
				       "NAME[ARGS]";
			char *name = ise_xstrtrim(q, (size_t)(args - q));
			cJSON *o = json_at(args + LEN(MISTRAL_ARGS), &end);
			if (!*name || !cJSON_IsObject(o)) {
				free(name);
				cJSON_Delete(o);
				return "the arguments after [ARGS] are not a JSON object";
			}
			add_call(calls, name, o);
			free(name);
			cJSON_Delete(o);
		}
		p = end;
	}
	ise_sb_puts(rest, p);
	return NULL;
}

/* ---- llama_json: the whole text is {"name", "parameters"}[; ...] ---- */

static const char *parse_json(const char *text, const cJSON *tools, cJSON *calls)
{
	const char *p = skip_space(text), *end;

	if (!strncmp(p, PYTHON_TAG, LEN(PYTHON_TAG)))
		p = skip_space(p + LEN(PYTHON_TAG));
	for (;;) {
		cJSON *o = *p == '{' ? json_at(p, &end) : NULL;
		int bad = json_call(calls, o, tools, 1);
		cJSON_Delete(o);
		if (bad)
			return "the reply is not JSON tool calls";
		p = skip_space(end);
		if (*p == ';')
			p = skip_space(p + 1);
		if (!*p)
			return NULL;
	}
}

const char *ise_text_calls_parse(const char *text, enum ise_text_calls format, const cJSON *tools,
				 cJSON **calls, char **rest)
{
	struct ise_strbuf left = {0};
	const char *why = "no tool-call markup";

	*calls = ise_json_checked(cJSON_CreateArray());
	*rest = NULL;
	ise_sb_add(&left, "", 0);
	switch (format) {
	case ISE_TEXT_CALLS_HERMES:
		why = parse_hermes(text, tools, *calls, &left);
		break;
	case ISE_TEXT_CALLS_XML:
		why = parse_xml(text, tools, *calls, &left);
		break;
	case ISE_TEXT_CALLS_MISTRAL:
		why = parse_mistral(text, tools, *calls, &left);
		break;
	case ISE_TEXT_CALLS_JSON:
		why = parse_json(text, tools, *calls);
		break;
	case ISE_TEXT_CALLS_NONE:
		break;
	}
	if (!why && !cJSON_GetArraySize(*calls))
		why = "no tool call in the markup";
	if (why) {
		cJSON_Delete(*calls);
		*calls = NULL;
		free(left.s);
		return why;
	}
	*rest = ise_xstrtrim(left.s, left.len);
	free(left.s);
	return NULL;
}

enum ise_text_calls ise_text_calls_find(const char *text, const cJSON *tools)
{
	if (!text)
		return ISE_TEXT_CALLS_NONE;
	if (strstr(text, FUNCTION))
		return ISE_TEXT_CALLS_XML;
	if (strstr(text, TOOL_CALL))
		return ISE_TEXT_CALLS_HERMES;
	if (strstr(text, MISTRAL))
		return ISE_TEXT_CALLS_MISTRAL;
	const char *p = skip_space(text);
	if (!strncmp(p, PYTHON_TAG, LEN(PYTHON_TAG)) || *p == '{') {
		cJSON *calls = ise_json_checked(cJSON_CreateArray());
		const char *why = parse_json(text, tools, calls);
		cJSON_Delete(calls);
		if (!why)
			return ISE_TEXT_CALLS_JSON;
	}
	return ISE_TEXT_CALLS_NONE;
}
