/*
 * llm_int: what the parts of the client share (llm.c: requests, replies and
 * the cache; ready.c: waiting for a server and what it says of itself;
 * errclass.c: what an error reply means).  Private to lib/llm/.
 */
#ifndef ISE_LLM_INT_H
#define ISE_LLM_INT_H

#include <cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>

#include "core/diag.h"
#include "llm/inflight_int.h"
#include "llm/llm.h"

struct ise_llm {
	struct ise_llm_config cfg;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	/* the requests in flight: up to -j, fewer while the server is busy;
	 * gate is this one, or that of another client of the same server */
	struct ise_inflight inflight, *gate;
	pthread_mutex_t lock;     /* everything below */
	double next_start;        /* --rpm: earliest start of the next request */
	double tokens, tokens_at; /* --tpm bucket */
	double paused_until;      /* after a 429, everyone waits */
	int json_level;           /* 0 json_schema, 1 json_object, 2 plain text */
	unsigned long long requests, cached, retried, prompt_tokens, completion_tokens;
	double said_waiting; /* when the last "waiting" line was written; 0: none since ready */
	char served[256];    /* the model name the server last reported */
};

/* The seconds of the wall clock (Retry-After dates are wall-clock times). */
double ise_llm_now(void);
void ise_llm_sleep_until(double t);

/* The calling thread's easy handle, reset (its connections kept), sharing
 * llm's DNS cache and TLS sessions. */
CURL *ise_llm_handle(struct ise_llm *llm);

/* printf into err with the API key and control characters taken out. */
void ise_llm_fail(const struct ise_llm *llm, char *err, size_t errlen, const char *fmt, ...)
    ISE_PRINTF(4, 5);

/* A reply body with the API key (any run starting with its first 8
 * characters) replaced by "[api key]": a server may echo the request, and
 * a body goes into records, --rejects, the cache and the files of a batch.
 * Only key characters are replaced, so JSON text stays valid.  Takes body
 * (malloc'd) and returns the body to use; NULL stays NULL. */
char *ise_llm_scrub_body(const struct ise_llm *llm, char *body);

/* base_url + path, without doubled slashes; root: the URL without a
 * trailing /v1 (where /health and /props live). */
void ise_llm_url(const struct ise_llm *llm, const char *path, int root, char *url, size_t size);

/* Put body in canonical form (keys sorted) and hash the path with it into
 * hex; returns the body's text (cJSON_free). */
char *ise_llm_request_hash(const char *path, cJSON *body, char hex[65]);

/* POST body (put in canonical form) to base_url + path, with the cache,
 * the limits, the retries and the waiting; *out is the parsed 200 reply,
 * the caller's.  meta gets the request hash, the HTTP status and why a
 * REJECTED request failed. */
enum ise_llm_status ise_llm_post(struct ise_llm *llm, const char *path, cJSON *body, cJSON **out,
				 struct ise_llm_reply *meta, char *err, size_t errlen);

/* Keep the model a reply names in reply->model and as the client's last. */
void ise_llm_note_model(struct ise_llm *llm, const cJSON *resp, struct ise_llm_reply *reply);

/* A request found the server refusing connections or answering 503 (why:
 * what it answered), the first time at since (ise_now()): wait while the
 * server is loading, up to since + the wait (ready.c).  1: it was loading
 * and is ready now (send again at once); 0: it answers, so it is busy, not
 * loading (back off as usual); -1: the wait is over. */
int ise_llm_await(struct ise_llm *llm, double since, const char *why);

#endif
