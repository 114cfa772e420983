/*
 * batchfile: request lines out, output lines in (see batchfile.h).
 */
#include "llm/batchfile.h"

#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsonl.h"
#include "core/xalloc.h"
#include "llm/errclass_int.h"
#include "llm/llm_int.h"

cJSON *ise_batch_request(const struct ise_llm *llm, const char *custom_id, const cJSON *request)
{
	cJSON *line = cJSON_CreateObject();

	if (!line)
		ise_fatal("out of memory");
	cJSON_AddStringToObject(line, "custom_id", custom_id);
	cJSON_AddStringToObject(line, "method", "POST");
	cJSON_AddStringToObject(line, "url", ISE_BATCH_URL);
	cJSON_AddItemToObject(line, "body", ise_llm_chat_body(llm, request));
	return line;
}

void ise_batch_results_init(struct ise_batch_results *res)
{
	memset(res, 0, sizeof *res);
}

/* Why line is no output line, or NULL. */
static const char *malformed(const cJSON *line)
{
	const cJSON *response = cJSON_GetObjectItemCaseSensitive(line, "response");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(line, "error");

	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(line, "custom_id")))
		return "output line without a string 'custom_id'";
	if (!cJSON_IsNull(response) && response && !cJSON_IsObject(response))
		return "'response' is neither an object nor null";
	if (!cJSON_IsNull(error) && error && !cJSON_IsObject(error))
		return "'error' is neither an object nor null";
	if (!cJSON_IsObject(response) && !cJSON_IsObject(error))
		return "output line with neither a 'response' nor an 'error'";
	return NULL;
}

static int answered(const cJSON *line)
{
	const cJSON *response = cJSON_GetObjectItemCaseSensitive(line, "response");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(response, "status_code");

	return cJSON_IsObject(response) && cJSON_IsNumber(code) && code->valuedouble == 200 &&
	       cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(response, "body")) &&
	       !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(line, "error"));
}

static int by_id(const void *a, const void *b)
{
	const struct ise_batch_entry *x = a, *y = b;
	int c = strcmp(x->custom_id, y->custom_id);

	/* an answer sorts after a failure, so the last of a run is the one kept */
	return c ? c : x->answered - y->answered;
}

void ise_batch_results_load(struct ise_batch_results *res, const char *path)
{
	struct ise_reader r;
	char *files[] = {(char *)path};
	cJSON *line;

	ise_reader_init(&r, files, 1, ISE_MAX_LINE_DEFAULT, 0);
	while ((line = ise_reader_next(&r))) {
		const char *why = malformed(line);
		if (why) {
			ise_reader_error(&r, "%s", why);
			cJSON_Delete(line);
			continue;
		}
		if (res->n == res->cap) {
			res->cap = res->cap ? 2 * res->cap : 256;
			res->v = ise_xrealloc(res->v, res->cap * sizeof *res->v);
		}
		struct ise_batch_entry *e = &res->v[res->n++];
		e->line = line;
		e->custom_id = cJSON_GetObjectItemCaseSensitive(line, "custom_id")->valuestring;
		e->answered = answered(line);
	}
	ise_reader_release(&r);
	/* sorted here, not on first use: workers look up at once */
	if (res->n)
		qsort(res->v, res->n, sizeof *res->v, by_id);
	res->sorted = 1;
}

void ise_batch_results_release(struct ise_batch_results *res)
{
	for (size_t i = 0; i < res->n; i++)
		cJSON_Delete(res->v[i].line);
	free(res->v);
	memset(res, 0, sizeof *res);
}

static const struct ise_batch_entry *find(const struct ise_batch_results *res,
					  const char *custom_id)
{
	size_t lo = 0, hi = res->n;
	while (lo < hi) { /* the last entry whose id is custom_id */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(res->v[mid].custom_id, custom_id) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && !strcmp(res->v[lo - 1].custom_id, custom_id) ? &res->v[lo - 1] : NULL;
}

/* Why a line that is no answer failed: its error, or its response's. */
static void failure(const struct ise_llm *llm, const cJSON *line, char *err, size_t errlen)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(line, "error");
	const cJSON *response = cJSON_GetObjectItemCaseSensitive(line, "response");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(response, "status_code");
	char message[512] = "";

	if (cJSON_IsObject(error)) {
		char *text = cJSON_PrintUnformatted(line);
		ise_llm_error_message(text ? text : "", message, sizeof message);
		cJSON_free(text);
		ise_llm_fail(llm, err, errlen, "request failed: %s", message);
		return;
	}
	char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(response, "body"));
	if (text)
		ise_llm_error_message(text, message, sizeof message);
	cJSON_free(text);
	ise_llm_fail(llm, err, errlen, "HTTP %ld: %s",
		     cJSON_IsNumber(code) ? (long)code->valuedouble : 0L,
		     *message ? message : "no body");
}

enum ise_batch_outcome ise_batch_reply(struct ise_llm *llm, struct ise_batch_results *res,
				       const char *custom_id, const cJSON *request,
				       struct ise_llm_reply *reply, char *err, size_t errlen)
{
	const struct ise_batch_entry *e = find(res, custom_id);

	memset(reply, 0, sizeof *reply);
	if (!e) {
		ise_errf(err, errlen, "no reply in the output files");
		return ISE_BATCH_MISSING;
	}
	if (!e->answered) {
		failure(llm, e->line, err, errlen);
		return ISE_BATCH_FAILED;
	}
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(e->line, "response"), "body");
	char *text = cJSON_PrintUnformatted(resp);
	long in_200 = text ? ise_llm_error_in_200(text) : 0;
	cJSON_free(text);
	if (in_200) {
		failure(llm, e->line, err, errlen);
		return ISE_BATCH_FAILED;
	}
	cJSON *body = ise_llm_chat_body(llm, request);
	cJSON_free(ise_llm_request_hash("/chat/completions", body, reply->request_hash));
	reply->http_status = 200;
	enum ise_llm_status st = ise_llm_chat_reply(llm, body, resp, reply, err, errlen);
	cJSON_Delete(body);
	return st == ISE_LLM_OK ? ISE_BATCH_ANSWERED : ISE_BATCH_REJECTED;
}
