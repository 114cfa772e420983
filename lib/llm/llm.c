/* strptime and timegm, for Retry-After given as an HTTP date */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700

#include "llm/llm.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/sha256.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "llm/errclass_int.h"
#include "llm/llm_int.h"
#include "llm/ready.h"
#include "llm/reply.h"

static _Thread_local CURL *thread_handle;
/* Ends a thread's handle when the thread ends, whoever made the thread. */
static pthread_key_t handle_key;
static pthread_once_t handle_key_once = PTHREAD_ONCE_INIT;

double ise_llm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ise_llm_sleep_until(double t)
{
	double d = t - ise_llm_now();

	if (d > 0) {
		struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* ---- configuration ---- */

static const char *env(const char *role, const char *name, const char *fallback)
{
	char key[64];
	const char *v;

	if (role) {
		snprintf(key, sizeof key, "ISE_%s_%s", role, name);
		if ((v = getenv(key)) && *v)
			return v;
	}
	v = getenv(fallback);
	return v && *v ? v : NULL;
}

void ise_llm_config_from_env(struct ise_llm_config *cfg, const char *role)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->base_url = env(role, "BASE_URL", "OPENAI_BASE_URL");
	cfg->api_key = env(role, "API_KEY", "OPENAI_API_KEY");
	cfg->model = env(role, "MODEL", "ISE_MODEL");
	cfg->embed_model = env(NULL, "", "ISE_EMBED_MODEL");
	cfg->temperature = 0.7;
	cfg->top_p = 0.95;
	cfg->max_tokens = 2048;
	cfg->max_tokens_field = "max_tokens";
	cfg->timeout = 120;
	cfg->connect_timeout = 10;
	cfg->retries = 4;
	cfg->retry_after_cap = 120;
	cfg->wait = 600;
}

/* ---- the shared handle ---- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a, void *p)
{
	(void)h, (void)a;
	pthread_mutex_lock(&((struct ise_llm *)p)->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *p)
{
	(void)h;
	pthread_mutex_unlock(&((struct ise_llm *)p)->share_locks[data]);
}

struct ise_llm *ise_llm_new(const struct ise_llm_config *cfg)
{
	static int curl_ready;
	struct ise_llm *llm = ise_xcalloc(1, sizeof *llm);

	if (!curl_ready++ && curl_global_init(CURL_GLOBAL_DEFAULT))
		ise_fatal("cannot initialise libcurl");
	llm->cfg = *cfg;
	if (!llm->cfg.max_tokens_field)
		llm->cfg.max_tokens_field = "max_tokens";
	pthread_mutex_init(&llm->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&llm->share_locks[i], NULL);
	llm->share = curl_share_init();
	if (!llm->share)
		ise_fatal("out of memory");
	curl_share_setopt(llm->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(llm->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(llm->share, CURLSHOPT_USERDATA, llm);
	/* not CURL_LOCK_DATA_CONNECT: libcurl does not support a connection
	 * cache shared by concurrent threads (CURLSHOPT_SHARE(3)); each
	 * thread's handle keeps its own connections across resets */
	curl_share_setopt(llm->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(llm->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	llm->tokens = cfg->tpm;
	llm->tokens_at = ise_llm_now();
	ise_inflight_init(&llm->inflight, cfg->jobs, cfg->fixed_jobs);
	llm->gate = &llm->inflight;
	return llm;
}

static void handle_end(void *h)
{
	curl_easy_cleanup(h);
}

static void handle_key_make(void)
{
	if (pthread_key_create(&handle_key, handle_end))
		ise_fatal("cannot make a thread key");
}

void ise_llm_thread_done(void)
{
	if (thread_handle) {
		pthread_setspecific(handle_key, NULL);
		curl_easy_cleanup(thread_handle);
	}
	thread_handle = NULL;
}

void ise_llm_free(struct ise_llm *llm)
{
	if (!llm)
		return;
	ise_llm_thread_done();
	curl_share_cleanup(llm->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&llm->share_locks[i]);
	pthread_mutex_destroy(&llm->lock);
	ise_inflight_destroy(&llm->inflight);
	free(llm);
}

/* ---- messages without secrets ---- */

/* Copy src into dst, the API key (and any run starting with its first 8
 * characters, as servers echo masked keys) replaced, control characters out. */
static void scrub(const struct ise_llm *llm, char *dst, size_t size, const char *src)
{
	const char *key = llm->cfg.api_key;
	size_t klen = key ? strlen(key) : 0, n = 0;

	while (*src && n + 1 < size) {
		if (klen >= 8 && !strncmp(src, key, 8)) {
			const char *mark = "[api key]";
			for (; *mark && n + 1 < size; mark++)
				dst[n++] = *mark;
			while (*src && *src != ' ' && *src != '"' && *src != '\'' && *src != ',')
				src++;
			continue;
		}
		dst[n++] = (unsigned char)*src < 0x20 ? ' ' : *src;
		src++;
	}
	dst[n] = '\0';
}

char *ise_llm_scrub_body(const struct ise_llm *llm, char *body)
{
	const char *key = llm->cfg.api_key;
	if (!body || !key || strlen(key) < 8)
		return body;
	char prefix[9];
	memcpy(prefix, key, 8);
	prefix[8] = '\0';
	if (!strstr(body, prefix))
		return body;
	struct ise_strbuf out = {0};
	const char *p = body, *hit;
	while ((hit = strstr(p, prefix))) {
		ise_sb_add(&out, p, (size_t)(hit - p));
		ise_sb_puts(&out, "[api key]");
		p = hit +
		    strspn(hit,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");
	}
	ise_sb_puts(&out, p);
	free(body);
	return ise_sb_take(&out);
}

void ise_llm_fail(const struct ise_llm *llm, char *err, size_t errlen, const char *fmt, ...)
{
	char raw[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	scrub(llm, err, errlen, raw);
}

/* ---- retries ---- */

double ise_llm_retry_delay(const char *retry_after_ms, const char *retry_after, int retry,
			   double cap, double jitter)
{
	double v = NAN;
	char *end;

	if (retry_after_ms) {
		v = strtod(retry_after_ms, &end) / 1000;
		if (end == retry_after_ms)
			v = NAN;
	}
	if (isnan(v) && retry_after) {
		v = strtod(retry_after, &end);
		if (end == retry_after || *end) {
			struct tm tm = {0};
			const char *p = strptime(retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
			v = p ? (double)timegm(&tm) - ise_llm_now() : NAN;
		}
	}
	if (isfinite(v) && v > cap)
		return -1;
	if (isfinite(v) && v > 0)
		return v;
	double backoff = 0.5 * pow(2, retry < 8 ? retry : 8);
	return (backoff < 8 ? backoff : 8) * (1 - 0.25 * jitter);
}

struct response {
	char *body;
	size_t len, cap;
	char retry_after_ms[32], retry_after[64], should_retry[8];
};

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct response *r = p;

	ise_xgrow((void **)&r->body, &r->cap, r->len + size * n + 1, 1);
	memcpy(r->body + r->len, data, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	if (len <= nlen + 1 || strncasecmp(line, name, nlen) || line[nlen] != ':')
		return;
	const char *v = line + nlen + 1;
	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	size_t vlen = (size_t)(line + len - v);
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	snprintf(out, size, "%.*s", (int)vlen, v);
}

static size_t on_header(char *line, size_t size, size_t n, void *p)
{
	struct response *r = p;

	header_value(line, size * n, "retry-after-ms", r->retry_after_ms, sizeof r->retry_after_ms);
	header_value(line, size * n, "retry-after", r->retry_after, sizeof r->retry_after);
	header_value(line, size * n, "x-should-retry", r->should_retry, sizeof r->should_retry);
	return size * n;
}

/* ---- limits shared by all workers ---- */

static void wait_for_turn(struct ise_llm *llm, double tokens)
{
	for (;;) {
		pthread_mutex_lock(&llm->lock);
		double t = ise_llm_now(), ready = llm->paused_until;
		if (llm->cfg.rpm > 0 && llm->next_start > ready)
			ready = llm->next_start;
		if (llm->cfg.tpm > 0) {
			llm->tokens += (t - llm->tokens_at) * llm->cfg.tpm / 60;
			if (llm->tokens > llm->cfg.tpm)
				llm->tokens = llm->cfg.tpm;
			llm->tokens_at = t;
			double want = tokens < llm->cfg.tpm ? tokens : llm->cfg.tpm;
			if (llm->tokens < want &&
			    t + (want - llm->tokens) * 60 / llm->cfg.tpm > ready)
				ready = t + (want - llm->tokens) * 60 / llm->cfg.tpm;
		}
		if (ready <= t) {
			if (llm->cfg.rpm > 0)
				llm->next_start = t + 60 / llm->cfg.rpm;
			llm->tokens -= tokens;
			pthread_mutex_unlock(&llm->lock);
			return;
		}
		pthread_mutex_unlock(&llm->lock);
		ise_llm_sleep_until(ready);
	}
}

/* Tokens reserved for a request before its usage is known: the prompt at
 * four characters a token plus the longest reply allowed. */
static double reserve_estimate(const struct ise_llm *llm, size_t chars)
{
	return (double)chars / 4 + (double)(llm->cfg.max_tokens > 0 ? llm->cfg.max_tokens : 0);
}

static void pause_everyone(struct ise_llm *llm, double seconds)
{
	pthread_mutex_lock(&llm->lock);
	if (ise_llm_now() + seconds > llm->paused_until)
		llm->paused_until = ise_llm_now() + seconds;
	pthread_mutex_unlock(&llm->lock);
}

/* ---- the cache: one file per request hash, written atomically ---- */

static void cache_path(const struct ise_llm *llm, const char *hash, char *path, size_t size)
{
	snprintf(path, size, "%s/%.2s/%s.json", llm->cfg.cache_dir, hash, hash + 2);
}

static cJSON *cache_get(const struct ise_llm *llm, const char *hash)
{
	char path[4096];
	FILE *f;

	cache_path(llm, hash, path, sizeof path);
	if (!(f = fopen(path, "rb")))
		return NULL;
	char *text = NULL;
	size_t cap = 0, n = 0, got;
	do {
		ise_xgrow((void **)&text, &cap, n + 65536, 1);
		got = fread(text + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	text[n] = '\0';
	cJSON *response = cJSON_Parse(text);
	free(text);
	return response;
}

static void cache_put(const struct ise_llm *llm, const char *hash, const char *body)
{
	char path[4096], tmp[4200];
	int fd;

	cache_path(llm, hash, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s", path);
	*strrchr(tmp, '/') = '\0';
	mkdir(llm->cfg.cache_dir, 0777);
	mkdir(tmp, 0777);
	snprintf(tmp, sizeof tmp, "%s.%ld.%lx.tmp", path, (long)getpid(),
		 (unsigned long)pthread_self());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		ise_warn("cannot write cache file '%s': %s", tmp, strerror(errno));
		return;
	}
	size_t len = strlen(body);
	ssize_t w = write(fd, body, len);
	if (w != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		ise_warn("cannot write cache file '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* ---- one POST with retries ---- */

void ise_llm_url(const struct ise_llm *llm, const char *path, int root, char *url, size_t size)
{
	const char *base = llm->cfg.base_url;
	size_t blen = strlen(base);

	while (blen && base[blen - 1] == '/')
		blen--;
	if (root && blen >= 3 && !strncmp(base + blen - 3, "/v1", 3))
		blen -= 3;
	snprintf(url, size, "%.*s%s", (int)blen, base, path);
}

CURL *ise_llm_handle(struct ise_llm *llm)
{
	if (!thread_handle) {
		pthread_once(&handle_key_once, handle_key_make);
		thread_handle = curl_easy_init();
		if (!thread_handle || pthread_setspecific(handle_key, thread_handle))
			ise_fatal("out of memory");
	}
	curl_easy_reset(thread_handle);
	curl_easy_setopt(thread_handle, CURLOPT_SHARE, llm->share);
	return thread_handle;
}

static int by_key(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Sort object keys recursively, so equal requests hash equally.  Relinks
 * cJSON's list in place, keeping its invariant that child->prev is the tail. */
static void canonical(cJSON *node)
{
	cJSON *child, **items;
	size_t n = 0;

	cJSON_ArrayForEach(child, node) {
		canonical(child);
		n++;
	}
	if (!cJSON_IsObject(node) || n < 2)
		return;
	items = ise_xmalloc(n * sizeof *items);
	n = 0;
	cJSON_ArrayForEach(child, node)
		items[n++] = child;
	qsort(items, n, sizeof *items, by_key);
	for (size_t i = 0; i < n; i++) {
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
		items[i]->prev = i ? items[i - 1] : items[n - 1];
	}
	node->child = items[0];
	free(items);
}

static double jitter(void)
{
	static _Thread_local uint64_t state;

	if (!state)
		state = (uint64_t)ise_llm_now() * 1000003u ^ (uint64_t)pthread_self() ^
			0x9e3779b97f4a7c15u;
	state ^= state << 13, state ^= state >> 7, state ^= state << 17;
	return (double)(state >> 11) / 9007199254740992.0;
}

static int retryable_status(long status)
{
	return status == 408 || status == 409 || status == 429 || status >= 500;
}

/* A model the server does not serve: say which it does. */
static void model_fix(struct ise_llm *llm, char *err, size_t errlen, const char *url,
		      const char *message, const char *fix)
{
	char served[512];

	ise_llm_served_models(llm, served, sizeof served);
	ise_llm_fail(llm, err, errlen, "%s: %s; to fix: %s%s%s%s", url, message, fix,
		     *served ? " (it serves: " : "", served, *served ? ")" : "");
}

char *ise_llm_request_hash(const char *path, cJSON *body, char hex[65])
{
	canonical(body);
	char *text = cJSON_PrintUnformatted(body);
	if (!text)
		ise_fatal("out of memory");
	size_t len = strlen(text);
	char *keyed = ise_xmalloc(strlen(path) + len + 2);
	memcpy(keyed, path, strlen(path));
	keyed[strlen(path)] = '\n';
	memcpy(keyed + strlen(path) + 1, text, len + 1);
	ise_sha256_hex(keyed, strlen(keyed), hex);
	free(keyed);
	return text;
}

/*
 * POST body to base_url + path; *out is the parsed 200 reply.  The request
 * hash covers the path and the canonical body, not the host or the key.
 */
enum ise_llm_status ise_llm_post(struct ise_llm *llm, const char *path, cJSON *body, cJSON **out,
				 struct ise_llm_reply *meta, char *err, size_t errlen)
{
	char url[2048], errbuf[CURL_ERROR_SIZE], message[1024];
	struct curl_slist *headers = NULL;
	enum ise_llm_status result = ISE_LLM_FATAL;
	double wait_since = 0; /* when the server was first found starting or busy */

	*out = NULL;
	char *text = ise_llm_request_hash(path, body, meta->request_hash);
	size_t len = strlen(text);

	if (llm->cfg.cache_mode != ISE_CACHE_OFF && (*out = cache_get(llm, meta->request_hash))) {
		meta->cached = 1;
		pthread_mutex_lock(&llm->lock);
		llm->cached++;
		pthread_mutex_unlock(&llm->lock);
		cJSON_free(text);
		return ISE_LLM_OK;
	}
	if (llm->cfg.cache_mode == ISE_CACHE_RO) {
		ise_llm_fail(llm, err, errlen,
			     "request %.16s is not in the cache (--cache-mode ro)",
			     meta->request_hash);
		cJSON_free(text);
		return ISE_LLM_REJECTED;
	}
	ise_llm_url(llm, path, 0, url, sizeof url);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	if (llm->cfg.api_key && *llm->cfg.api_key) {
		char auth[1024];
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", llm->cfg.api_key);
		headers = curl_slist_append(headers, auth);
		memset(auth, 0, sizeof auth);
	}
	for (int retry = 0;; retry++) {
		struct response resp = {0};
		struct ise_inflight_ticket ticket;
		CURL *h = ise_llm_handle(llm);
		/* a place among the requests in flight first, then a start
		 * time: a start reserved while waiting for a place is wasted */
		ise_inflight_enter(llm->gate, &ticket, retry > 0);
		wait_for_turn(llm, reserve_estimate(llm, len));
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(llm->cfg.timeout * 1000));
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)(llm->cfg.connect_timeout * 1000));
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
		errbuf[0] = '\0';
		CURLcode rc = curl_easy_perform(h);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		meta->http_status = status;
		ise_inflight_leave(llm->gate, &ticket, rc == CURLE_OK && status == 200);
		pthread_mutex_lock(&llm->lock);
		llm->requests++;
		pthread_mutex_unlock(&llm->lock);

		int transient, waitable = 0;
		long in_200 = status == 200 && resp.body ? ise_llm_error_in_200(resp.body) : 0;
		struct ise_llm_errclass cls = {.kind = ISE_LLM_ERR_RECORD};
		if (rc != CURLE_OK) {
			transient = 1;
			/* nobody listening yet: vLLM before its model is loaded */
			waitable = rc == CURLE_COULDNT_CONNECT;
			snprintf(message, sizeof message, "%s",
				 *errbuf ? errbuf : curl_easy_strerror(rc));
		} else if (status == 200 && !in_200) {
			resp.body = ise_llm_scrub_body(llm, resp.body);
			*out = resp.body ? cJSON_Parse(resp.body) : NULL;
			if (*out && cJSON_IsObject(*out)) {
				const cJSON *total = cJSON_GetObjectItemCaseSensitive(
				    cJSON_GetObjectItemCaseSensitive(*out, "usage"),
				    "total_tokens");
				if (cJSON_IsNumber(
					total)) { /* give back what was reserved beyond use */
					pthread_mutex_lock(&llm->lock);
					llm->tokens +=
					    reserve_estimate(llm, len) - total->valuedouble;
					pthread_mutex_unlock(&llm->lock);
				}
				if (llm->cfg.cache_mode == ISE_CACHE_RW)
					cache_put(llm, meta->request_hash, resp.body);
				free(resp.body);
				result = ISE_LLM_OK;
				break;
			}
			cJSON_Delete(*out);
			*out = NULL;
			transient = 1;
			snprintf(message, sizeof message, "malformed reply body: %.120s",
				 resp.body ? resp.body : "(empty)");
		} else {
			/* a proxy's 200 with an error object stands for the status in it */
			long as = in_200 ? in_200 : status;
			char detail[900];
			ise_llm_error_message(resp.body ? resp.body : "", detail, sizeof detail);
			snprintf(message, sizeof message, "HTTP %ld%s: %s", status,
				 in_200 ? " carrying an error" : "", detail);
			ise_llm_classify(as, path, resp.body, &cls);
			if (cls.kind == ISE_LLM_ERR_CONTEXT && cls.n_ctx > 0 &&
			    llm->cfg.max_tokens >= cls.n_ctx) {
				/* no prompt fits: the reply alone may fill the window */
				cls.kind = ISE_LLM_ERR_CONFIG;
				cls.fix = "lower --max-tokens below the model's context window";
			}
			transient = retryable_status(as);
			if (!strcasecmp(resp.should_retry, "true"))
				transient = 1;
			if (!strcasecmp(resp.should_retry, "false"))
				transient = 0;
			if (resp.body && strstr(resp.body, "insufficient_quota"))
				transient = 0;
			if (cls.kind == ISE_LLM_ERR_CONFIG || cls.kind == ISE_LLM_ERR_MODEL)
				transient = 0;
			waitable = transient && as == 503;
			result = cls.kind == ISE_LLM_ERR_CONFIG || cls.kind == ISE_LLM_ERR_MODEL
				     ? ISE_LLM_FATAL
				 : as == 400 || as == 413 || as == 422 ||
					 cls.kind == ISE_LLM_ERR_FORMAT ||
					 cls.kind == ISE_LLM_ERR_CONTEXT
				     ? ISE_LLM_REJECTED
				     : ISE_LLM_FATAL;
			meta->format_refused = cls.kind == ISE_LLM_ERR_FORMAT;
			meta->context_exceeded = cls.kind == ISE_LLM_ERR_CONTEXT;
			meta->context_window = cls.n_ctx;
			meta->context_prompt = cls.n_prompt;
		}
		double delay = -1;
		int waited_out = 0, too_long = 0;
		/* refused for load: fewer at once from now on, before anything
		 * else, as each reply that comes meanwhile lets another one go */
		int lowered = transient && cls.kind == ISE_LLM_ERR_BUSY &&
			      ise_inflight_busy(llm->gate, &ticket);
		/* refused for load while the gate let more through than it does
		 * now: the gate holds the retry until there is room at the
		 * lower level, and a backoff besides would hold up the jobs that
		 * wait for this record to keep the output in order (a refusal at
		 * the lowest level, or a Retry-After, still waits) */
		int gate_holds = lowered && !*resp.retry_after_ms && !*resp.retry_after;
		if (gate_holds && retry < llm->cfg.retries) {
			delay = 0;
		} else if (waitable && llm->cfg.wait > 0) {
			/* starting or busy: wait for it, retries or not, up to --wait */
			if (!wait_since)
				wait_since = ise_now();
			int w = ise_llm_await(llm, wait_since, message);
			if (w > 0)
				delay = 0;
			else if (w == 0)
				too_long = (delay = ise_llm_retry_delay(
						*resp.retry_after_ms ? resp.retry_after_ms : NULL,
						*resp.retry_after ? resp.retry_after : NULL, retry,
						llm->cfg.retry_after_cap, jitter())) < 0;
			else
				waited_out = 1;
		} else if (transient && retry < llm->cfg.retries) {
			too_long = (delay = ise_llm_retry_delay(
					*resp.retry_after_ms ? resp.retry_after_ms : NULL,
					*resp.retry_after ? resp.retry_after : NULL, retry,
					llm->cfg.retry_after_cap, jitter())) < 0;
		}
		free(resp.body);
		if (delay < 0) {
			if (waited_out)
				ise_llm_fail(llm, err, errlen,
					     "%s: %s (not ready after --wait %g s)", url, message,
					     llm->cfg.wait);
			else if (too_long)
				ise_llm_fail(llm, err, errlen,
					     "%s: %s (asks to wait past --retry-after-cap)", url,
					     message);
			else if (transient)
				ise_llm_fail(llm, err, errlen, "%s: %s (after %d tries)", url,
					     message, retry + 1);
			else if (cls.kind == ISE_LLM_ERR_MODEL)
				model_fix(llm, err, errlen, url, message, cls.fix);
			else if (cls.fix)
				ise_llm_fail(llm, err, errlen, "%s: %s; to fix: %s", url, message,
					     cls.fix);
			else
				ise_llm_fail(llm, err, errlen, "%s: %s", url, message);
			if (transient)
				result = ISE_LLM_FATAL;
			break;
		}
		/* a 429 pauses every job for its delay; where the gate adapts,
		 * only when the server said how long: else the lower limit is the
		 * answer, and a pause would idle every job for one refusal */
		if (status == 429 &&
		    (!ise_inflight_adapts(llm->gate) || *resp.retry_after_ms || *resp.retry_after))
			pause_everyone(llm, delay);
		pthread_mutex_lock(&llm->lock);
		llm->retried++;
		pthread_mutex_unlock(&llm->lock);
		ise_llm_sleep_until(ise_llm_now() + delay);
	}
	curl_slist_free_all(headers);
	cJSON_free(text);
	return result;
}

/* ---- replies ---- */

static cJSON *normal_tool_calls(const cJSON *calls)
{
	const cJSON *call;
	cJSON *out = cJSON_CreateArray();

	cJSON_ArrayForEach(call, calls) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
		cJSON *c = cJSON_CreateObject(), *f = cJSON_CreateObject();
		/* no id is made up here: only the conversation knows which are taken */
		if (cJSON_IsString(id) && *id->valuestring)
			cJSON_AddStringToObject(c, "id", id->valuestring);
		cJSON_AddStringToObject(c, "type", "function");
		cJSON_AddStringToObject(f, "name", cJSON_IsString(name) ? name->valuestring : "");
		if (cJSON_IsString(args)) {
			cJSON_AddStringToObject(f, "arguments", args->valuestring);
		} else if (args) { /* an object (Ollama-shaped servers): the wire form is a string
				    */
			char *text = cJSON_PrintUnformatted(args);
			cJSON_AddStringToObject(f, "arguments", text ? text : "");
			cJSON_free(text);
		} else {
			cJSON_AddStringToObject(f, "arguments", "");
		}
		cJSON_AddItemToObject(c, "function", f);
		cJSON_AddItemToArray(out, c);
	}
	return out;
}

static int normalize(const cJSON *resp, struct ise_llm_reply *r, size_t request_chars)
{
	const cJSON *choice =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "choices"), 0);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	const cJSON *content, *part, *v;

	if (!cJSON_IsObject(msg))
		return -1;
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (cJSON_IsString(content)) {
		r->content = ise_xstrtrim(content->valuestring, strlen(content->valuestring));
	} else if (cJSON_IsArray(content)) { /* [{type:"text", text}] parts */
		size_t n = 0;
		r->content = ise_xstrdup("");
		cJSON_ArrayForEach(part, content) {
			const char *t =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "text"));
			if (!t)
				continue;
			r->content = ise_xrealloc(r->content, n + strlen(t) + 1);
			memcpy(r->content + n, t, strlen(t) + 1);
			n += strlen(t);
		}
	} else {
		r->content = ise_xstrdup("");
	}
	/* either field, or both (some vLLM versions fill both), kept once */
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(msg, "reasoning_content")))
		ise_reply_add_reasoning(&r->reasoning, v->valuestring);
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(msg, "reasoning")))
		ise_reply_add_reasoning(&r->reasoning, v->valuestring);
	ise_reply_split_think(&r->content, &r->reasoning);
	v = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) /* never trust finish_reason */
		r->tool_calls = normal_tool_calls(v);
	v = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
	r->finish_reason = ise_xstrdup(cJSON_IsString(v) ? v->valuestring : "");
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(resp, "usage");
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
	if (cJSON_IsNumber(pt) && cJSON_IsNumber(ct)) {
		r->prompt_tokens = (long)pt->valuedouble;
		r->completion_tokens = (long)ct->valuedouble;
	} else {
		r->usage_estimated = 1;
		r->prompt_tokens = (long)(request_chars / 4);
		r->completion_tokens =
		    (long)((strlen(r->content) + (r->reasoning ? strlen(r->reasoning) : 0)) / 4);
	}
	return 0;
}

void ise_llm_reply_release(struct ise_llm_reply *r)
{
	free(r->content);
	free(r->reasoning);
	free(r->finish_reason);
	free(r->model);
	cJSON_Delete(r->tool_calls);
	memset(r, 0, sizeof *r);
}

/* The model the reply names, for the record and for the client. */
void ise_llm_note_model(struct ise_llm *llm, const cJSON *resp, struct ise_llm_reply *reply)
{
	const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "model"));

	if (!model || !*model)
		return;
	reply->model = ise_xstrdup(model);
	pthread_mutex_lock(&llm->lock);
	snprintf(llm->served, sizeof llm->served, "%s", model);
	pthread_mutex_unlock(&llm->lock);
}

void ise_llm_served_model(struct ise_llm *llm, char *buf, size_t size)
{
	pthread_mutex_lock(&llm->lock);
	snprintf(buf, size, "%s", llm->served);
	pthread_mutex_unlock(&llm->lock);
}

static void add_default(cJSON *body, const char *key, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(body, key))
		cJSON_Delete(value);
	else
		cJSON_AddItemToObject(body, key, value);
}

cJSON *ise_llm_chat_body(const struct ise_llm *llm, const cJSON *request)
{
	cJSON *body = cJSON_Duplicate(request, 1);

	if (!body)
		ise_fatal("out of memory");
	if (llm->cfg.model)
		add_default(body, "model", cJSON_CreateString(llm->cfg.model));
	/* NAN: the model takes only its own (OpenAI's reasoning models) */
	if (!isnan(llm->cfg.temperature))
		add_default(body, "temperature", cJSON_CreateNumber(llm->cfg.temperature));
	if (!isnan(llm->cfg.top_p))
		add_default(body, "top_p", cJSON_CreateNumber(llm->cfg.top_p));
	if (llm->cfg.max_tokens > 0)
		add_default(body, llm->cfg.max_tokens_field,
			    cJSON_CreateNumber((double)llm->cfg.max_tokens));
	add_default(body, "stream", cJSON_CreateFalse());
	const cJSON *extra;
	cJSON_ArrayForEach(extra, llm->cfg.extra_body) {
		cJSON_DeleteItemFromObjectCaseSensitive(body, extra->string);
		cJSON_AddItemToObject(body, extra->string, cJSON_Duplicate(extra, 1));
	}
	return body;
}

enum ise_llm_status ise_llm_chat_reply(struct ise_llm *llm, const cJSON *body, const cJSON *resp,
				       struct ise_llm_reply *reply, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(body, "messages"));
	size_t chars = text ? strlen(text) : 0;

	cJSON_free(text);
	ise_llm_note_model(llm, resp, reply);
	if (normalize(resp, reply, chars) < 0) {
		ise_llm_fail(llm, err, errlen, "reply has no choices[0].message");
		return ISE_LLM_REJECTED;
	}
	pthread_mutex_lock(&llm->lock);
	llm->prompt_tokens += (unsigned long long)reply->prompt_tokens;
	llm->completion_tokens += (unsigned long long)reply->completion_tokens;
	pthread_mutex_unlock(&llm->lock);
	return ISE_LLM_OK;
}

enum ise_llm_status ise_llm_chat(struct ise_llm *llm, const cJSON *request,
				 struct ise_llm_reply *reply, char *err, size_t errlen)
{
	cJSON *body = ise_llm_chat_body(llm, request), *resp;

	memset(reply, 0, sizeof *reply);
	enum ise_llm_status status =
	    ise_llm_post(llm, "/chat/completions", body, &resp, reply, err, errlen);
	if (status == ISE_LLM_OK) {
		status = ise_llm_chat_reply(llm, body, resp, reply, err, errlen);
		cJSON_Delete(resp);
	}
	cJSON_Delete(body);
	return status;
}

cJSON *ise_llm_extract_json(const char *text)
{
	/* never from reasoning, closed or not: a draft there is no answer */
	char *answer = ise_xstrdup(text), *reasoning = NULL;
	const char *p;
	cJSON *found = NULL;

	ise_reply_split_think(&answer, &reasoning);
	free(reasoning);
	for (p = answer; !found && (p = strchr(p, '{')); p++) {
		const char *end = NULL;
		found = cJSON_ParseWithOpts(p, &end, 0);
		if (!cJSON_IsObject(found)) {
			cJSON_Delete(found);
			found = NULL;
		}
	}
	free(answer);
	return found;
}

const char *ise_llm_reply_problem(const struct ise_llm *llm, const struct ise_llm_reply *reply,
				  char *buf, size_t size)
{
	enum ise_reply_kind kind = ise_reply_kind(reply->content, reply->reasoning,
						  reply->tool_calls != NULL, reply->finish_reason);

	if (kind == ISE_REPLY_USABLE)
		return NULL;
	ise_reply_explain(kind, reply->content, reply->reasoning, llm->cfg.max_tokens, buf, size);
	return buf;
}

cJSON *ise_llm_json_request(struct ise_llm *llm, const cJSON *request, const char *schema_name,
			    const cJSON *schema, int *level_asked)
{
	pthread_mutex_lock(&llm->lock);
	int level = llm->json_level;
	pthread_mutex_unlock(&llm->lock);
	cJSON *req = cJSON_Duplicate(request, 1), *format = NULL;
	if (level == 0) {
		format = cJSON_CreateObject();
		cJSON_AddStringToObject(format, "type", "json_schema");
		cJSON *js = cJSON_AddObjectToObject(format, "json_schema");
		cJSON_AddStringToObject(js, "name", schema_name);
		cJSON_AddItemToObject(js, "schema", cJSON_Duplicate(schema, 1));
		cJSON_AddTrueToObject(js, "strict");
	} else if (level == 1) {
		format = cJSON_CreateObject();
		cJSON_AddStringToObject(format, "type", "json_object");
	}
	if (format)
		cJSON_AddItemToObject(req, "response_format", format);
	if (level_asked)
		*level_asked = level;
	return req;
}

enum ise_llm_status ise_llm_json_answer(const struct ise_llm *llm,
					const struct ise_llm_reply *reply, cJSON **json, char *err,
					size_t errlen)
{
	char problem[600];

	*json = NULL;
	/* a reply cut at the token limit is no answer, even where the object
	 * in it happens to parse; nor is reasoning without one */
	if (ise_llm_reply_problem(llm, reply, problem, sizeof problem)) {
		ise_llm_fail(llm, err, errlen, "%s", problem);
		return ISE_LLM_REJECTED;
	}
	if (!(*json = ise_llm_extract_json(reply->content))) {
		ise_llm_fail(llm, err, errlen, "the reply holds no JSON object: '%.80s'",
			     reply->content);
		return ISE_LLM_REJECTED;
	}
	return ISE_LLM_OK;
}

enum ise_llm_status ise_llm_chat_json(struct ise_llm *llm, const cJSON *request,
				      const char *schema_name, const cJSON *schema,
				      struct ise_llm_reply *reply, cJSON **json, char *err,
				      size_t errlen)
{
	enum ise_llm_status status;

	*json = NULL;
	for (;;) {
		int level;
		cJSON *req = ise_llm_json_request(llm, request, schema_name, schema, &level);
		status = ise_llm_chat(llm, req, reply, err, errlen);
		cJSON_Delete(req);
		if (status == ISE_LLM_REJECTED && level < 2 && reply->format_refused) {
			/* the server refuses this response_format: step down, for every
			 * later request to this endpoint; any other error (a prompt too
			 * long, a bad value) is this request's alone */
			pthread_mutex_lock(&llm->lock);
			if (llm->json_level == level)
				llm->json_level = level + 1;
			pthread_mutex_unlock(&llm->lock);
			ise_llm_reply_release(reply);
			continue;
		}
		break;
	}
	if (status != ISE_LLM_OK)
		return status;
	return ise_llm_json_answer(llm, reply, json, err, errlen);
}

void ise_llm_share_jobs(struct ise_llm *llm, struct ise_llm *with)
{
	llm->gate = with->gate;
}

void ise_llm_jobs_note(struct ise_llm *llm, const char *who, char *buf, size_t size)
{
	unsigned jobs, limit = ise_inflight_limit(llm->gate, &jobs);

	if (limit < jobs)
		snprintf(buf, size, ", %s%sjobs limited to %u of %u", who ? who : "",
			 who ? " " : "", limit, jobs);
	else if (size)
		buf[0] = '\0';
}

void ise_llm_progress_note(void *llm, char *buf, size_t size)
{
	ise_llm_jobs_note(llm, NULL, buf, size);
}

void ise_llm_totals(struct ise_llm *llm, char *buf, size_t size)
{
	pthread_mutex_lock(&llm->lock);
	snprintf(buf, size,
		 "%llu requests (%llu cached, %llu retried), %llu prompt + %llu completion tokens",
		 llm->requests + llm->cached, llm->cached, llm->retried, llm->prompt_tokens,
		 llm->completion_tokens);
	pthread_mutex_unlock(&llm->lock);
}
