/*
 * llm_probe: one chat request through lib/llm, for the tests.  Reads the
 * request object on stdin; configuration from the environment as every
 * program has it (OPENAI_BASE_URL, ...), plus PROBE_JSON=1 for
 * ise_llm_chat_json and PROBE_RETRY_DELAY="ms|after|retry" for the delay
 * rule, PROBE_WAIT (seconds to wait for a server; 0 unless given),
 * PROBE_REPEAT=K (K requests on one client), PROBE_EXTRA_BODY=JSON and
 * PROBE_TEMPERATURE_NONE=1.  Prints {status, error, content, reasoning,
 * tool_calls, problem, ...}, a line a request.  With --text-calls, reads
 * a reply's text on stdin and prints {format, calls, rest, error} as
 * llm/textcalls.h finds and parses it (PROBE_TOOLS: the tool specs, a JSON
 * array).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "llm/embeddings.h"
#include "llm/llm.h"
#include "llm/textcalls.h"

static const char *arg(const char *s)
{
	return s && *s ? s : NULL;
}

static void print_reply(const struct ise_llm *llm, enum ise_llm_status st,
			const struct ise_llm_reply *reply, cJSON *json, const char *err)
{
	cJSON *out = cJSON_CreateObject();
	char problem[600];
	cJSON_AddStringToObject(out, "status",
				st == ISE_LLM_OK      ? "ok"
				: st == ISE_LLM_FATAL ? "fatal"
						      : "rejected");
	cJSON_AddStringToObject(out, "error", st == ISE_LLM_OK ? "" : err);
	if (reply->content)
		cJSON_AddStringToObject(out, "content", reply->content);
	if (reply->reasoning)
		cJSON_AddStringToObject(out, "reasoning", reply->reasoning);
	if (reply->tool_calls)
		cJSON_AddItemToObject(out, "tool_calls", cJSON_Duplicate(reply->tool_calls, 1));
	if (reply->finish_reason)
		cJSON_AddStringToObject(out, "finish_reason", reply->finish_reason);
	if (reply->model)
		cJSON_AddStringToObject(out, "model", reply->model);
	cJSON_AddNumberToObject(out, "prompt_tokens", (double)reply->prompt_tokens);
	cJSON_AddNumberToObject(out, "completion_tokens", (double)reply->completion_tokens);
	cJSON_AddBoolToObject(out, "usage_estimated", reply->usage_estimated);
	cJSON_AddBoolToObject(out, "cached", reply->cached);
	cJSON_AddNumberToObject(out, "http_status", (double)reply->http_status);
	cJSON_AddBoolToObject(out, "format_refused", reply->format_refused);
	cJSON_AddBoolToObject(out, "context_exceeded", reply->context_exceeded);
	cJSON_AddNumberToObject(out, "context_window", (double)reply->context_window);
	cJSON_AddNumberToObject(out, "context_prompt", (double)reply->context_prompt);
	if (st == ISE_LLM_OK && ise_llm_reply_problem(llm, reply, problem, sizeof problem))
		cJSON_AddStringToObject(out, "problem", problem);
	if (json)
		cJSON_AddItemToObject(out, "json", json);
	char *s = cJSON_PrintUnformatted(out);
	puts(s);
	free(s);
	cJSON_Delete(out);
}

static int text_calls(void)
{
	size_t len;
	char *text = ise_read_file("/dev/stdin", &len), *rest = NULL;
	cJSON *tools = getenv("PROBE_TOOLS") ? cJSON_Parse(getenv("PROBE_TOOLS")) : NULL;
	cJSON *out = cJSON_CreateObject(), *calls = NULL;
	enum ise_text_calls f = ise_text_calls_find(text, tools);

	cJSON_AddStringToObject(out, "format", ise_text_calls_name(f));
	if (f != ISE_TEXT_CALLS_NONE) {
		const char *why = ise_text_calls_parse(text, f, tools, &calls, &rest);
		cJSON_AddItemToObject(out, "calls", calls ? calls : cJSON_CreateNull());
		cJSON_AddItemToObject(out, "rest", rest ? cJSON_CreateString(rest) : cJSON_CreateNull());
		cJSON_AddItemToObject(out, "error", why ? cJSON_CreateString(why) : cJSON_CreateNull());
	}
	char *s = cJSON_PrintUnformatted(out);
	puts(s);
	cJSON_free(s);
	free(rest);
	free(text);
	cJSON_Delete(out);
	cJSON_Delete(tools);
	return 0;
}

int main(int argc, char **argv)
{
	struct ise_llm_config cfg;
	struct ise_llm_reply reply;
	char err[1024] = "", *text;
	size_t len;
	cJSON *json = NULL;

	ise_diag_init(argv[0]);
	if (argc == 4 && !strcmp(argv[1], "--delay")) { /* ms, after: '-' for none; retry 0 */
		printf("%.3f\n",
		       ise_llm_retry_delay(arg(strcmp(argv[2], "-") ? argv[2] : ""),
					   arg(strcmp(argv[3], "-") ? argv[3] : ""), 0, 120, 0));
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--text-calls"))
		return text_calls();
	ise_llm_config_from_env(&cfg, NULL);
	/* a test that waits for a server says how long */
	cfg.wait = getenv("PROBE_WAIT") ? atof(getenv("PROBE_WAIT")) : 0;
	if (argc == 2 && !strcmp(argv[1], "--embed")) { /* the operands of a JSON array on stdin */
		text = ise_read_file("/dev/stdin", &len);
		cJSON *texts = cJSON_Parse(text), *t;
		const char *v[64];
		size_t n = 0, dim;
		float *vec;
		cJSON_ArrayForEach(t, texts)
			if (n < 64)
				v[n++] = t->valuestring;
		struct ise_llm *e = ise_llm_new(&cfg);
		enum ise_llm_status st = ise_llm_embed(e, v, n, &vec, &dim, err, sizeof err);
		for (size_t i = 0; st == ISE_LLM_OK && i < n; i++)
			for (size_t k = 0; k < dim; k++)
				printf("%.6f%c", vec[i * dim + k], k + 1 < dim ? ' ' : '\n');
		if (st != ISE_LLM_OK)
			printf("error: %s\n", err);
		free(vec);
		free(text);
		cJSON_Delete(texts);
		ise_llm_free(e);
		return st == ISE_LLM_OK ? 0 : 1;
	}
	cfg.timeout = getenv("PROBE_TIMEOUT") ? atof(getenv("PROBE_TIMEOUT")) : 10;
	cfg.retries = getenv("PROBE_RETRIES") ? atoi(getenv("PROBE_RETRIES")) : 4;
	if (getenv("PROBE_CACHE")) {
		cfg.cache_dir = getenv("PROBE_CACHE");
		cfg.cache_mode = getenv("PROBE_CACHE_RO") ? ISE_CACHE_RO : ISE_CACHE_RW;
	}
	if (getenv("PROBE_TEMPERATURE_NONE"))
		cfg.temperature = cfg.top_p = NAN;
	cJSON *extra = getenv("PROBE_EXTRA_BODY") ? cJSON_Parse(getenv("PROBE_EXTRA_BODY")) : NULL;
	cfg.extra_body = extra;
	text = ise_read_file("/dev/stdin", &len);
	cJSON *request = cJSON_Parse(text);
	free(text);
	struct ise_llm *llm = ise_llm_new(&cfg);
	cJSON *schema = cJSON_Parse("{\"type\":\"object\"}");
	/* PROBE_REPEAT=K: K requests on one client, a line each */
	int repeat = getenv("PROBE_REPEAT") ? atoi(getenv("PROBE_REPEAT")) : 1;
	enum ise_llm_status st = ISE_LLM_OK;
	for (int k = 0; k < repeat; k++) {
		json = NULL;
		err[0] = '\0';
		st = getenv("PROBE_JSON") ? ise_llm_chat_json(llm, request, "probe", schema, &reply,
							      &json, err, sizeof err)
					  : ise_llm_chat(llm, request, &reply, err, sizeof err);
		print_reply(llm, st, &reply, json, err);
		ise_llm_reply_release(&reply);
	}
	char totals[256];
	ise_llm_totals(llm, totals, sizeof totals);
	ise_warn("%s", totals);
	cJSON_Delete(request);
	cJSON_Delete(schema);
	cJSON_Delete(extra);
	ise_llm_free(llm);
	return st == ISE_LLM_OK ? 0 : st == ISE_LLM_FATAL ? 3 : 1;
}
