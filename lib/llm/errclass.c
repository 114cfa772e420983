/*
 * errclass: error bodies of every shape read as one message, and sorted
 * into what they mean for the run (see errclass_int.h).
 */
#include "llm/errclass_int.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The error object's fields, whatever the shape: {"error": {message, type,
 * code, param}} (OpenAI, vLLM, llama-server, Ollama /v1), {"object":
 * "error", message, type, code} (old vLLM), {message, code, type} (TEI),
 * {"error": "text", "error_type"} (Ollama native, TGI). */
struct fields {
	const cJSON *msg, *type, *code, *param;
	const cJSON *n_ctx, *n_prompt; /* llama-server's exceed_context_size_error */
};

static cJSON *fields_of(const char *body, struct fields *f)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	memset(f, 0, sizeof *f);
	if (cJSON_IsObject(e)) {
		f->msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		f->type = cJSON_GetObjectItemCaseSensitive(e, "type");
		f->code = cJSON_GetObjectItemCaseSensitive(e, "code");
		f->param = cJSON_GetObjectItemCaseSensitive(e, "param");
		f->n_ctx = cJSON_GetObjectItemCaseSensitive(e, "n_ctx");
		f->n_prompt = cJSON_GetObjectItemCaseSensitive(e, "n_prompt_tokens");
	} else if (cJSON_IsString(e)) {
		f->msg = e;
		f->type = cJSON_GetObjectItemCaseSensitive(j, "error_type");
	} else if (cJSON_IsObject(j)) {
		f->msg = cJSON_GetObjectItemCaseSensitive(j, "message");
		f->type = cJSON_GetObjectItemCaseSensitive(j, "type");
		f->code = cJSON_GetObjectItemCaseSensitive(j, "code");
		f->param = cJSON_GetObjectItemCaseSensitive(j, "param");
	}
	if (!cJSON_IsString(f->msg))
		f->msg = NULL;
	return j;
}

void ise_llm_error_message(const char *body, char *out, size_t size)
{
	struct fields f;
	cJSON *j = fields_of(body, &f);

	if (f.msg) {
		char detail[256] = "";
		int type = cJSON_IsString(f.type), code = cJSON_IsString(f.code);
		if (type || code)
			snprintf(detail, sizeof detail, " (%s%s%s)",
				 type ? f.type->valuestring : "", type && code ? ", " : "",
				 code ? f.code->valuestring : "");
		snprintf(out, size, "%s%s", f.msg->valuestring, detail);
	} else { /* HTML or text from a proxy: its title, or its start */
		const char *t = strstr(body, "<title>");
		const char *end = t ? strstr(t, "</title>") : NULL;
		if (t && end)
			snprintf(out, size, "%.*s", (int)(end - t - 7), t + 7);
		else
			snprintf(out, size, "%.200s", *body ? body : "(empty body)");
	}
	cJSON_Delete(j);
}

long ise_llm_error_in_200(const char *body)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	long status = 0;

	/* a reply that has its payload is no error, whatever else it holds */
	if ((cJSON_IsObject(e) || cJSON_IsString(e)) &&
	    !cJSON_GetObjectItemCaseSensitive(j, "choices") &&
	    !cJSON_GetObjectItemCaseSensitive(j, "data")) {
		const cJSON *code =
		    cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "code") : NULL;
		status = cJSON_IsNumber(code) && code->valuedouble >= 400 && code->valuedouble < 600
			     ? (long)code->valuedouble
			     : 500;
	}
	cJSON_Delete(j);
	return status;
}

/* ---- the rules ---- */

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The number that follows the first of the phrases found in s, or 0. */
static long number_after(const char *s, const char *const *phrases)
{
	for (; *phrases; phrases++) {
		const char *p = strstr(s, *phrases);
		if (!p)
			continue;
		p += strlen(*phrases);
		while (*p && !isdigit((unsigned char)*p) && strchr(" (:=<`'", *p))
			p++;
		if (isdigit((unsigned char)*p))
			return strtol(p, NULL, 10);
	}
	return 0;
}

struct rule {
	const char *words[3]; /* all must be in the lowercased message */
	const char *fix;
};

/* Mistakes that every request repeats.  Checked first: a fix beats a
 * step-down.  (A context error that --max-tokens alone causes is one too;
 * the caller, who knows --max-tokens, tells it from a long prompt.) */
static const struct rule config_rules[] = {
    {{"auto\" tool choice", "--enable-auto-tool-choice"},
     "start vLLM with --enable-auto-tool-choice --tool-call-parser NAME (hermes for Qwen models)"},
    {{"--tool-call-parser"},
     "start the server with --tool-call-parser NAME (vLLM: with --enable-auto-tool-choice)"},
    {{"requires --jinja"}, "start llama-server with --jinja"},
    {{"'temperature'", "unsupported"}, "give --temperature none (the model takes only its own)"},
    {{"'temperature'", "not support"}, "give --temperature none (the model takes only its own)"},
    {{"'top_p'", "unsupported"}, "give --top-p none (the model takes only its own)"},
    {{"'top_p'", "not support"}, "give --top-p none (the model takes only its own)"},
    {{"'max_tokens' is not supported"}, "give --max-tokens-field max_completion_tokens"},
    {{"'max_completion_tokens' is not supported"}, "give --max-tokens-field max_tokens"},
    {{"does not support tools"},
     "choose a model that supports tool calls (for Ollama: one with the tools capability)"},
    {{"unrecognized request argument"}, "leave that field out of --extra-body"},
    {{"extra inputs are not permitted"}, "leave that field out of --extra-body"},
    {{"chat template", "no longer allowed"},
     "start vLLM with --chat-template FILE: the tokenizer has none"},
    {{"does not support embeddings"},
     "start llama-server with --embeddings (vLLM: serve an embedding model)"},
    {{"does not support the embeddings api"}, "serve an embedding model for --embed-url"},
    {{"embeddings api", "not supported"}, "serve an embedding model for --embed-url"},
};

static const char *const model_words[] = {
    "model_not_found", "does not exist", "not found", "not a valid model",
    "invalid model",   "unknown model",  NULL,
};

static const char *const context_words[] = {
    "exceed_context_size_error",
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context size",
    "context window",
    "maximum model length",
    "max_model_len",
    "max_new_tokens` must be <=",
    "prompt is too long",
    "too many tokens",
    NULL,
};

static const char *const format_words[] = {
    "response_format", "json_schema", "json_object", "structured output",
    "guided_",         "grammar",     NULL,
};

static const char *const window_phrases[] = {
    "maximum context length is",
    "maximum model length of",
    "maximum model length is",
    "context length (",
    "context size (",
    "must be <=",
    NULL,
};

static const char *const prompt_phrases[] = {
    "prompt contains at least",
    "your messages resulted in",
    "your request has",
    "prompt (length",
    "the input (",
    "given:",
    "tokens (",
    NULL,
};

static int any(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (has(s, *words))
			return 1;
	return 0;
}

void ise_llm_classify(long status, const char *path, const char *body, struct ise_llm_errclass *c)
{
	struct fields f;
	cJSON *j = fields_of(body ? body : "", &f);
	char text[2048];

	memset(c, 0, sizeof *c);
	/* what is matched: message, type, code and param, lowercased */
	snprintf(text, sizeof text, "%s %s %s %s",
		 f.msg  ? f.msg->valuestring
		 : body ? body
			: "",
		 cJSON_IsString(f.type) ? f.type->valuestring : "",
		 cJSON_IsString(f.code) ? f.code->valuestring : "",
		 cJSON_IsString(f.param) ? f.param->valuestring : "");
	for (char *p = text; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	int embeddings = path && !strcmp(path, "/embeddings");

	for (size_t i = 0; i < sizeof config_rules / sizeof *config_rules; i++) {
		const struct rule *r = &config_rules[i];
		if (has(text, r->words[0]) && (!r->words[1] || has(text, r->words[1]))) {
			c->kind = ISE_LLM_ERR_CONFIG;
			c->fix = r->fix;
			goto done;
		}
	}
	if (status == 501) { /* not implemented: asking again will not help */
		c->kind = ISE_LLM_ERR_CONFIG;
		c->fix = embeddings ? "start llama-server with --embeddings (vLLM: serve an "
				      "embedding model)"
				    : "the server does not implement this request";
		goto done;
	}
	if (status == 401 || status == 403) {
		c->kind = ISE_LLM_ERR_CONFIG;
		c->fix = "check the API key (OPENAI_API_KEY, or the role's ISE_USER_API_KEY or "
			 "ISE_AGENT_API_KEY)";
		goto done;
	}
	if (any(text, context_words) && status >= 400 && status < 500 && status != 404) {
		c->kind = ISE_LLM_ERR_CONTEXT;
		c->n_ctx = cJSON_IsNumber(f.n_ctx) ? (long)f.n_ctx->valuedouble
						   : number_after(text, window_phrases);
		c->n_prompt = cJSON_IsNumber(f.n_prompt) ? (long)f.n_prompt->valuedouble
							 : number_after(text, prompt_phrases);
		goto done;
	}
	if (has(text, "model") && any(text, model_words) && (status == 404 || status == 400)) {
		c->kind = ISE_LLM_ERR_MODEL;
		c->fix = embeddings ? "give --embed-model one of the models the server serves"
				    : "give --model one of the models the server serves";
		goto done;
	}
	if (status == 404) { /* no such path: the URL is wrong, not the record */
		c->kind = ISE_LLM_ERR_CONFIG;
		c->fix = "check the base URL: the API's root, with its /v1";
		goto done;
	}
	/* TGI wants its own response_format shape and answers 422 to OpenAI's */
	if ((status == 400 || status == 422 || status == 500) && any(text, format_words))
		c->kind = ISE_LLM_ERR_FORMAT;
	/* too much at once, but not an exhausted quota (no retry helps) nor
	 * llama-server's "Loading model" (it will take them all once loaded) */
	else if ((status == 429 && !has(text, "insufficient_quota")) ||
		 (status == 503 && !has(text, "loading model")))
		c->kind = ISE_LLM_ERR_BUSY;
done:
	cJSON_Delete(j);
}
