/*
 * llm: one client for the OpenAI-compatible Chat Completions and Embeddings
 * APIs that vLLM, llama.cpp's llama-server, Ollama, SGLang and hosted APIs
 * serve (libcurl + cJSON; non-streaming).
 *
 * One struct ise_llm is shared by every worker thread: the configuration,
 * the libcurl share (DNS, TLS sessions), the rate limits and
 * the pause after a 429, the cache and the usage totals.  Each thread keeps
 * its own easy handle, ended with the thread (or by ise_llm_thread_done).
 *
 * The jobs share one gate on the requests in flight: up to -j, fewer while
 * the server answers 429 or 503 for being busy (halved on a refusal,
 * raised one at a time on success), unless --fixed-jobs.  With the gate,
 * a 429 without Retry-After lowers the limit instead of pausing every job;
 * a Retry-After still pauses them all.
 *
 * Retries follow openai-python: connection errors, timeouts, 408, 409, 429
 * and 5xx are retried with exponential backoff and jitter, honouring
 * retry-after-ms / Retry-After (seconds or HTTP date) up to retry_after_cap;
 * 400, 401, 403, 404, 413, 422 and 429 insufficient_quota are not.  A server
 * that refuses connections or answers 503 is waited for (ready.h) up to
 * the wait, however many retries that takes.  Every error body shape
 * (OpenAI, vLLM old and new, llama.cpp, Ollama, TEI, TGI, HTML from a proxy,
 * a 200 carrying an error object) becomes one message, and an error that
 * every request would repeat (a server flag missing, an option the model
 * refuses, a model not served) is fatal at once, the message saying what
 * to change.  The API key is sent only in the Authorization header and is
 * masked in every message this module makes.
 */
#ifndef ISE_LLM_H
#define ISE_LLM_H

#include <cJSON.h>
#include <stddef.h>

enum ise_cache_mode { ISE_CACHE_OFF, ISE_CACHE_RO, ISE_CACHE_RW };

struct ise_llm_config {
	const char *base_url; /* includes /v1; NULL: no endpoint, offline engine */
	const char *api_key;  /* may be NULL */
	const char *model;
	const char *embed_model;
	double temperature, top_p; /* NAN: not sent (--temperature none) */
	long max_tokens;
	const char *max_tokens_field; /* "max_tokens" (default) or "max_completion_tokens" */
	double timeout;               /* seconds per request (default 120) */
	double connect_timeout;       /* seconds (default 10) */
	int retries;                  /* retries after the first try (default 4) */
	double retry_after_cap;       /* longest Retry-After honoured (default 120 s) */
	double rpm, tpm;              /* 0: no limit */
	unsigned jobs;  /* requests in flight at most (-j); 0: no limit (inflight_int.h) */
	int fixed_jobs; /* --fixed-jobs: always up to jobs, even when the server is busy */
	const char *cache_dir;
	enum ise_cache_mode cache_mode;
	double wait; /* seconds to wait for a server that is not ready (default 600) */
	const cJSON
	    *extra_body; /* fields sent with every chat request, replacing ise's own of
			    the same name; NULL: none.  Not copied: it must outlive the client */
};

/* Fill cfg from OPENAI_BASE_URL, OPENAI_API_KEY, ISE_MODEL; with role "USER"
 * or "AGENT", ISE_<ROLE>_BASE_URL, _API_KEY and _MODEL win over them. */
void ise_llm_config_from_env(struct ise_llm_config *cfg, const char *role);

enum ise_llm_status {
	ISE_LLM_OK = 0,
	ISE_LLM_REJECTED, /* this request failed (400, 422, cache miss, bad reply): the record fails
			   */
	ISE_LLM_FATAL,    /* every request will: auth, quota, not found, down after retries */
};

struct ise_llm_reply {
	char *content;   /* the answer, reasoning removed; "" when none */
	char *reasoning; /* reasoning_content, reasoning or inline <think>, once; NULL when none */
	/* [{id, type:"function", function:{name, arguments (string)}}] or NULL; id
	 * as the server gave it, absent when it gave none (the caller knows which
	 * ids its conversation has taken) */
	cJSON *tool_calls;
	char *finish_reason;
	long prompt_tokens, completion_tokens;
	int usage_estimated, cached;
	long http_status; /* of the last try; 0 when none was made */
	char request_hash[65];
	char *model; /* the model the reply says answered; NULL when it says none */
	/* why a REJECTED request failed, when the server said: */
	int format_refused;   /* the server refuses the response_format asked for */
	int context_exceeded; /* the prompt does not fit the model's context window */
	long context_window, context_prompt; /* the server's numbers for it; 0 when not given */
};

struct ise_llm;

/* Call from the main thread before any worker starts (it initialises libcurl). */
struct ise_llm *ise_llm_new(const struct ise_llm_config *cfg);
void ise_llm_free(struct ise_llm *llm);
void ise_llm_thread_done(void);

/* request: an object with messages and optionally tools, tool_choice,
 * response_format, seed, stop; model and sampling fields are added from the
 * configuration where the request has none.  err gets a one-line reason. */
enum ise_llm_status ise_llm_chat(struct ise_llm *llm, const cJSON *request,
				 struct ise_llm_reply *reply, char *err, size_t errlen);
/* The same for a reply that must be a JSON object: tries response_format
 * json_schema, then json_object, then plain text (remembering what the
 * server accepts), and extracts the object from fences or prose, never
 * from reasoning; a reply cut at the token limit or with reasoning only is
 * rejected, with what to change in err.  *json is the caller's. */
enum ise_llm_status ise_llm_chat_json(struct ise_llm *llm, const cJSON *request,
				      const char *schema_name, const cJSON *schema,
				      struct ise_llm_reply *reply, cJSON **json, char *err,
				      size_t errlen);
void ise_llm_reply_release(struct ise_llm_reply *reply);

/* The body ise_llm_chat sends for request: the request with the model and
 * the sampling fields of the configuration where it has none, stream
 * false, and --extra-body's fields over all.  One function, so that a
 * request written to a batch file is the request the client would send.
 * The body is the caller's (cJSON_Delete). */
cJSON *ise_llm_chat_body(const struct ise_llm *llm, const cJSON *request);
/* Read resp, a chat.completion object answering body (from the server or
 * from a batch output file), into reply as ise_llm_chat does, counting its
 * tokens in the totals.  REJECTED when it has no message. */
enum ise_llm_status ise_llm_chat_reply(struct ise_llm *llm, const cJSON *body, const cJSON *resp,
				       struct ise_llm_reply *reply, char *err, size_t errlen);
/* The request ise_llm_chat_json sends now: request with the response_format
 * the endpoint is known to accept (json_schema until it refused one);
 * *level_asked (if not NULL) says which.  The caller's. */
cJSON *ise_llm_json_request(struct ise_llm *llm, const cJSON *request, const char *schema_name,
			    const cJSON *schema, int *level_asked);
/* The object a reply answers with, checked as ise_llm_chat_json checks it. */
enum ise_llm_status ise_llm_json_answer(const struct ise_llm *llm,
					const struct ise_llm_reply *reply, cJSON **json, char *err,
					size_t errlen);

/* The model name the server reported last ("" before any reply). */
void ise_llm_served_model(struct ise_llm *llm, char *buf, size_t size);

/* NULL when reply is an answer a program may keep (text or tool calls, not
 * cut at the token limit), else one line into buf saying what happened and
 * what to change: cut at --max-tokens, reasoning and no answer, empty.  The
 * rules are those of llm/reply.h; ise_llm_chat_json applies them itself. */
const char *ise_llm_reply_problem(const struct ise_llm *llm, const struct ise_llm_reply *reply,
				  char *buf, size_t size);

/* "N requests (C cached, R retried), P prompt + Q completion tokens" */
void ise_llm_totals(struct ise_llm *llm, char *buf, size_t size);

/* Send llm's requests through the gate of with, for two clients of one
 * server that differ in what they ask (ise-sim's roles with models of
 * their own): its slots are shared, and so is the limit on requests in
 * flight.  Before either sends; with must outlive llm. */
void ise_llm_share_jobs(struct ise_llm *llm, struct ise_llm *with);

/* For a progress line: ", jobs limited to L of N" (", WHO jobs ..." with
 * who) while the client sends fewer than -j requests at once, as it does
 * to a busy server, else "". */
void ise_llm_jobs_note(struct ise_llm *llm, const char *who, char *buf, size_t size);
/* The same, without who, as a progress line's note (struct ise_progress:
 * note = ise_llm_progress_note, note_ctx = the client). */
void ise_llm_progress_note(void *llm, char *buf, size_t size);

/* The first JSON object in text: after <think>...</think>, inside ``` fences
 * or surrounded by prose, never inside reasoning (an unclosed <think> runs
 * to the end).  NULL when there is none. */
cJSON *ise_llm_extract_json(const char *text);

/* Seconds to wait before retry number `retry` (0-based) given the reply's
 * retry-after-ms and Retry-After headers (NULL when absent); < 0 when the
 * server asks for longer than cap (give up).  Exposed for the tests. */
double ise_llm_retry_delay(const char *retry_after_ms, const char *retry_after, int retry,
			   double cap, double jitter);

#endif
