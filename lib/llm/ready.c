/*
 * ready: waiting for a server, and the models and context window it
 * reports (see ready.h).
 */
#include "llm/ready.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/strbuf.h"
#include "llm/errclass_int.h"
#include "llm/llm_int.h"

/* Seconds between two looks at a server that is loading, and between two
 * lines that say so. */
#define POLL_S 1.0
#define SAY_S  10.0

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	ise_sb_add(p, data, size * n);
	return size * n;
}

/* GET base_url + path (root: at the server's root); the status, 0 when no
 * answer came (what says why), and the body in *body (the caller's). */
static long get(struct ise_llm *llm, const char *path, int root, char **body, char *what,
		size_t size)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	struct ise_strbuf b = {0};
	struct curl_slist *headers = NULL;
	CURL *h = ise_llm_handle(llm);
	long status = 0;

	ise_llm_url(llm, path, root, url, sizeof url);
	if (llm->cfg.api_key && *llm->cfg.api_key) {
		char auth[1024];
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", llm->cfg.api_key);
		headers = curl_slist_append(headers, auth);
		memset(auth, 0, sizeof auth);
	}
	double limit = llm->cfg.timeout > 0 && llm->cfg.timeout < 10 ? llm->cfg.timeout : 10;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(limit * 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(llm->cfg.connect_timeout * 1000));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else if (what)
		snprintf(what, size, "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	if (status && what) {
		char detail[400];
		ise_llm_error_message(b.s ? b.s : "", detail, sizeof detail);
		snprintf(what, size, "HTTP %ld: %s", status, detail);
	}
	curl_slist_free_all(headers);
	*body = ise_sb_take(&b);
	return status;
}

enum probe { READY, LOADING, UNKNOWN };

/* Whether the server is ready: /health, then /models. */
static enum probe probe(struct ise_llm *llm, char *what, size_t size)
{
	char *body;
	long status = get(llm, "/health", 1, &body, what, size);

	free(body);
	if (status == 200)
		return READY;
	if (!status || status == 503)
		return LOADING;
	/* no /health here (Ollama, hosted APIs): the models list will say */
	status = get(llm, "/models", 0, &body, what, size);
	free(body);
	if (status == 200)
		return READY;
	return !status || status == 503 ? LOADING : UNKNOWN;
}

/* A line on standard error: "URL: text".  A "waiting" line (ready 0)
 * at most every SAY_S seconds for all the threads of a client; a "ready"
 * line once, after a waiting line. */
static void say(struct ise_llm *llm, int ready, const char *fmt, ...) ISE_PRINTF(3, 4);
static void say(struct ise_llm *llm, int ready, const char *fmt, ...)
{
	char line[1024], out[1200], url[2048];
	va_list ap;
	int now;

	pthread_mutex_lock(&llm->lock);
	if (ready) {
		now = llm->said_waiting > 0;
		llm->said_waiting = 0;
	} else if ((now = !llm->said_waiting || ise_now() - llm->said_waiting >= SAY_S)) {
		llm->said_waiting = ise_now();
	}
	pthread_mutex_unlock(&llm->lock);
	if (!now)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ise_llm_url(llm, "", 1, url, sizeof url);
	ise_llm_fail(llm, out, sizeof out, "%s: %s", url, line);
	ise_warn("%s", out);
}

/* Look every POLL_S seconds while the server is loading, until since +
 * the wait.  1 it was loading and is ready, 0 it was never loading, -1
 * the wait is over (what says what it answered last). */
static int wait_loop(struct ise_llm *llm, double since, const char *why, char *what, size_t size)
{
	double deadline = since + llm->cfg.wait;
	int waited = 0;

	snprintf(what, size, "%s", why ? why : "");
	for (;;) {
		enum probe p = probe(llm, what, size);
		if (p != LOADING) {
			if (waited)
				say(llm, 1, "ready after %.0f s", ise_now() - since);
			return waited;
		}
		double left = deadline - ise_now();
		if (left <= 0)
			return -1;
		say(llm, 0, "waiting for the server: %s (%.0f s of --wait %g)", what,
		    ise_now() - since, llm->cfg.wait);
		waited = 1;
		ise_llm_sleep_until(ise_llm_now() + (left < POLL_S ? left : POLL_S));
	}
}

int ise_llm_await(struct ise_llm *llm, double since, const char *why)
{
	char what[512];

	return wait_loop(llm, since, why, what, sizeof what);
}

int ise_llm_wait_ready(struct ise_llm *llm, char *err, size_t errlen)
{
	char what[512];

	if (wait_loop(llm, ise_now(), NULL, what, sizeof what) >= 0)
		return 0;
	char url[2048];
	ise_llm_url(llm, "", 1, url, sizeof url);
	ise_llm_fail(llm, err, errlen, "%s: not ready after --wait %g s: %s", url, llm->cfg.wait,
		     what);
	return -1;
}

/* GET /models, parsed; NULL when it does not answer a JSON object. */
static cJSON *models(struct ise_llm *llm)
{
	char *body;
	long status = get(llm, "/models", 0, &body, NULL, 0);
	cJSON *j = status == 200 && body ? cJSON_Parse(body) : NULL;

	free(body);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

long ise_llm_context_window(struct ise_llm *llm, const char **source)
{
	cJSON *list = models(llm), *m;
	long window = 0, agreed = 0;
	int disagree = 0;
	char *body;

	*source = NULL;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(list, "data")) {
		const cJSON *len = cJSON_GetObjectItemCaseSensitive(m, "max_model_len");
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id"));
		if (!cJSON_IsNumber(len) || len->valuedouble < 1)
			continue;
		if (llm->cfg.model && id && !strcmp(id, llm->cfg.model)) {
			window = (long)len->valuedouble;
			break;
		}
		if (agreed && agreed != (long)len->valuedouble)
			disagree = 1;
		agreed = (long)len->valuedouble;
	}
	cJSON_Delete(list);
	if (!window && agreed && !disagree)
		window = agreed; /* the model has another name, or none was given */
	if (window) {
		*source = "max_model_len";
		return window;
	}
	/* llama-server: the window of one slot (the -c total over --parallel) */
	long status = get(llm, "/props", 1, &body, NULL, 0);
	cJSON *props = status == 200 && body ? cJSON_Parse(body) : NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(props, "default_generation_settings"), "n_ctx");
	if (cJSON_IsNumber(n) && n->valuedouble >= 1) {
		window = (long)n->valuedouble;
		*source = "n_ctx";
	}
	cJSON_Delete(props);
	free(body);
	return window;
}

void ise_llm_served_models(struct ise_llm *llm, char *buf, size_t size)
{
	cJSON *list = models(llm), *m;
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(list, "data")) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id"));
		if (id && n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", id);
	}
	cJSON_Delete(list);
}
