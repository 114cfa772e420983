/*
 * batchapi: the Files and Batches endpoints (see batchapi.h).
 */
#include "llm/batchapi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "llm/errclass_int.h"
#include "llm/llm_int.h"

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	ise_sb_add(p, data, size * n);
	return size * n;
}

/* What call() returns when it gave up on a failure that a later try might
 * not have (no answer, 408, 409, 429, 5xx): the server may have acted on
 * the request all the same. */
#define TRANSIENT (-2)

/*
 * method path (under base_url) with a JSON body or a file upload (form:
 * NULL for none); the 200 reply's body into *reply (ise_sb, the caller's),
 * the API key taken out.  retries < 0: as many as the client's.  0, -1, or
 * TRANSIENT.
 */
static int call(struct ise_llm *llm, const char *method, const char *path, const cJSON *json,
		const char *upload, int retries, struct ise_strbuf *reply, char *err, size_t errlen)
{
	char url[2048], errbuf[CURL_ERROR_SIZE], auth[1024], detail[600];
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;
	int result = -1;

	if (retries < 0)
		retries = llm->cfg.retries > 0 ? llm->cfg.retries : 0;

	ise_llm_url(llm, path, 0, url, sizeof url);
	for (int attempt = 0;; attempt++) {
		CURL *h = ise_llm_handle(llm);
		struct curl_slist *headers = NULL;
		curl_mime *mime = NULL;
		long status = 0;

		reply->len = 0;
		if (reply->s)
			reply->s[0] = '\0';
		if (llm->cfg.api_key && *llm->cfg.api_key) {
			snprintf(auth, sizeof auth, "Authorization: Bearer %s", llm->cfg.api_key);
			headers = curl_slist_append(headers, auth);
		}
		if (upload) {
			mime = curl_mime_init(h);
			curl_mimepart *part = curl_mime_addpart(mime);
			curl_mime_name(part, "purpose");
			curl_mime_data(part, "batch", CURL_ZERO_TERMINATED);
			part = curl_mime_addpart(mime);
			curl_mime_name(part, "file");
			if (curl_mime_filedata(part, upload) != CURLE_OK) {
				ise_llm_fail(llm, err, errlen, "cannot read '%s'", upload);
				curl_mime_free(mime);
				curl_slist_free_all(headers);
				break;
			}
			curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
		} else if (text) {
			headers = curl_slist_append(headers, "Content-Type: application/json");
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		} else if (!strcmp(method, "POST")) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		}
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
		/* a download may be large: the request timeout bounds only
		 * the wait for its start */
		curl_easy_setopt(
		    h, CURLOPT_TIMEOUT_MS,
		    upload || strstr(path, "/content") ? 0L : (long)(llm->cfg.timeout * 1000));
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)(llm->cfg.connect_timeout * 1000));
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		errbuf[0] = '\0';
		CURLcode rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_mime_free(mime);
		curl_slist_free_all(headers);
		if (rc == CURLE_OK && status == 200) {
			/* a server may echo the key: what is kept of a reply
			 * (records, downloaded files, the state) never holds it */
			reply->s = ise_llm_scrub_body(llm, reply->s);
			reply->len = reply->s ? strlen(reply->s) : 0;
			reply->cap = reply->s ? reply->len + 1 : 0;
			result = 0;
			break;
		}
		int transient = rc != CURLE_OK || status == 408 || status == 409 || status == 429 ||
				status >= 500;
		if (rc != CURLE_OK) {
			snprintf(detail, sizeof detail, "%s",
				 *errbuf ? errbuf : curl_easy_strerror(rc));
		} else {
			ise_llm_error_message(reply->s ? reply->s : "", detail, sizeof detail);
		}
		if (!transient || attempt >= retries) {
			result = transient ? TRANSIENT : -1;
			if (rc != CURLE_OK)
				ise_llm_fail(llm, err, errlen, "%s %s: %s", method, url, detail);
			else
				ise_llm_fail(llm, err, errlen, "%s %s: HTTP %ld: %s", method, url,
					     status, detail);
			break;
		}
		double delay =
		    ise_llm_retry_delay(NULL, NULL, attempt, llm->cfg.retry_after_cap, 1);
		ise_llm_sleep_until(ise_llm_now() + (delay > 0 ? delay : 1));
	}
	cJSON_free(text);
	return result;
}

/* The JSON object of a 200 reply; returns as call() does. */
static int call_json(struct ise_llm *llm, const char *method, const char *path, const cJSON *json,
		     const char *upload, int retries, cJSON **out, char *err, size_t errlen)
{
	struct ise_strbuf reply = {0};

	*out = NULL;
	int rc = call(llm, method, path, json, upload, retries, &reply, err, errlen);
	if (rc < 0) {
		free(reply.s);
		return rc;
	}
	*out = reply.s ? cJSON_Parse(reply.s) : NULL;
	if (!cJSON_IsObject(*out)) {
		ise_llm_fail(llm, err, errlen, "%s %s: the reply is no JSON object: %.120s", method,
			     path, reply.s ? reply.s : "");
		cJSON_Delete(*out);
		*out = NULL;
	}
	free(reply.s);
	return *out ? 0 : -1;
}

int ise_batchapi_upload(struct ise_llm *llm, const char *path, char *id, size_t size, char *err,
			size_t errlen)
{
	cJSON *file;

	if (call_json(llm, "POST", "/files", NULL, path, -1, &file, err, errlen) < 0)
		return -1;
	const char *got = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "id"));
	if (got)
		snprintf(id, size, "%s", got);
	else
		ise_llm_fail(llm, err, errlen, "POST /files: the reply has no file id");
	cJSON_Delete(file);
	return got ? 0 : -1;
}

/* The batch of input_file_id whose metadata holds key, if it is one of
 * list's. */
static cJSON *match(cJSON *list, const char *input_file_id, const char *key)
{
	cJSON *batch;

	cJSON_ArrayForEach(batch, cJSON_GetObjectItemCaseSensitive(list, "data")) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(batch, "metadata");
		const char *got =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, ISE_BATCHAPI_KEY));
		const char *file =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(batch, "input_file_id"));
		if (got && !strcmp(got, key) && file && !strcmp(file, input_file_id))
			return batch;
	}
	return NULL;
}

/* When the server made input_file_id (its created_at), or 0 when it does
 * not say: a batch of the file is no older. */
static double file_made(struct ise_llm *llm, const char *input_file_id)
{
	char path[512], err[64];
	cJSON *file;

	snprintf(path, sizeof path, "/files/%.400s", input_file_id);
	if (call_json(llm, "GET", path, NULL, NULL, -1, &file, err, sizeof err) < 0)
		return 0;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(file, "created_at");
	double made = cJSON_IsNumber(t) ? t->valuedouble : 0;
	cJSON_Delete(file);
	return made;
}

/* Whether list, a page of batches newest first as every page before it
 * (*newest, the created_at of the oldest seen so far), reaches a batch
 * older than made: the pages after it hold none of that file's. */
static int reaches_older(const cJSON *list, double made, double *newest)
{
	const cJSON *batch;
	int older = 0;

	cJSON_ArrayForEach(batch, cJSON_GetObjectItemCaseSensitive(list, "data")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(batch, "created_at");
		if (!cJSON_IsNumber(t) || t->valuedouble > *newest) {
			*newest = -1; /* not in that order: no page can be skipped */
			return 0;
		}
		*newest = t->valuedouble;
		older |= t->valuedouble < made;
	}
	return older;
}

int ise_batchapi_find(struct ise_llm *llm, const char *input_file_id, const char *key,
		      cJSON **batch, char *err, size_t errlen)
{
	char path[512], after[400] = "";
	/* OpenAI lists newest first: a batch made before the file was cannot
	 * be the one looked for, nor any after it (with no file time, or a
	 * list in another order, every page is read) */
	double made = file_made(llm, input_file_id), newest = 1e300;

	*batch = NULL;
	for (;;) {
		cJSON *list;
		snprintf(path, sizeof path, "/batches?limit=100%s%s", *after ? "&after=" : "",
			 after);
		if (call_json(llm, "GET", path, NULL, NULL, -1, &list, err, errlen) < 0)
			return -1;
		cJSON *found = match(list, input_file_id, key);
		if (found) {
			*batch = cJSON_DetachItemViaPointer(
			    cJSON_GetObjectItemCaseSensitive(list, "data"), found);
			cJSON_Delete(list);
			return 0;
		}
		if (made > 0 && newest >= 0 && reaches_older(list, made, &newest)) {
			cJSON_Delete(list);
			return 0;
		}
		const char *last =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(list, "last_id"));
		/* the page's last id, not the server's word alone, says there is
		 * more: a server that repeats a page would keep us here forever */
		int more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(list, "has_more")) &&
			   last && *last && strlen(last) < sizeof after && strcmp(last, after);
		if (more)
			snprintf(after, sizeof after, "%s", last);
		cJSON_Delete(list);
		if (!more)
			return 0;
	}
}

int ise_batchapi_create(struct ise_llm *llm, const char *input_file_id, const char *key,
			cJSON **batch, char *err, size_t errlen)
{
	cJSON *body = cJSON_CreateObject(), *meta;
	int retries = llm->cfg.retries > 0 ? llm->cfg.retries : 0, rc;

	cJSON_AddStringToObject(body, "input_file_id", input_file_id);
	cJSON_AddStringToObject(body, "endpoint", "/v1/chat/completions");
	cJSON_AddStringToObject(body, "completion_window", "24h");
	meta = cJSON_AddObjectToObject(body, "metadata");
	cJSON_AddStringToObject(meta, ISE_BATCHAPI_KEY, key);
	/* Tried one at a time: a create that timed out or got a 5xx may have
	 * made the batch all the same, so before each new try look for it. */
	for (int attempt = 0;; attempt++) {
		if (attempt > 0) {
			rc = ise_batchapi_find(llm, input_file_id, key, batch, err, errlen);
			if (rc < 0 || *batch)
				break;
		}
		rc = call_json(llm, "POST", "/batches", body, NULL, 0, batch, err, errlen);
		if (rc != TRANSIENT || attempt >= retries)
			break;
		double delay =
		    ise_llm_retry_delay(NULL, NULL, attempt, llm->cfg.retry_after_cap, 1);
		ise_llm_sleep_until(ise_llm_now() + (delay > 0 ? delay : 1));
	}
	cJSON_Delete(body);
	if (rc < 0)
		return -1;
	if (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*batch, "id"))) {
		ise_llm_fail(llm, err, errlen, "POST /batches: the reply has no batch id");
		cJSON_Delete(*batch);
		*batch = NULL;
		return -1;
	}
	return 0;
}

int ise_batchapi_get(struct ise_llm *llm, const char *batch_id, cJSON **batch, char *err,
		     size_t errlen)
{
	char path[512];

	snprintf(path, sizeof path, "/batches/%.400s", batch_id);
	return call_json(llm, "GET", path, NULL, NULL, -1, batch, err, errlen);
}

int ise_batchapi_cancel(struct ise_llm *llm, const char *batch_id, cJSON **batch, char *err,
			size_t errlen)
{
	char path[512];

	snprintf(path, sizeof path, "/batches/%.400s/cancel", batch_id);
	return call_json(llm, "POST", path, NULL, NULL, -1, batch, err, errlen);
}

int ise_batchapi_download(struct ise_llm *llm, const char *file_id, const char *path, char *err,
			  size_t errlen)
{
	char url_path[512], tmp[4096];
	struct ise_strbuf reply = {0};

	snprintf(url_path, sizeof url_path, "/files/%.400s/content", file_id);
	if (call(llm, "GET", url_path, NULL, NULL, -1, &reply, err, errlen) < 0) {
		free(reply.s);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int ok = f && fwrite(reply.s ? reply.s : "", 1, reply.len, f) == reply.len;
	if (f && fclose(f))
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		ise_errf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(reply.s);
		return -1;
	}
	free(reply.s);
	return 0;
}

int ise_batchapi_final(const char *status)
{
	return status && (!strcmp(status, "completed") || !strcmp(status, "failed") ||
			  !strcmp(status, "expired") || !strcmp(status, "cancelled"));
}
