/*
 * web: the three network tools, web_fetch, web_search and http_request,
 * run with libcurl in this process (never in the sandbox).
 *
 * Every transfer speaks http and https only, on redirects too, follows at
 * most 5 redirects (web_fetch and web_search; http_request shows the agent
 * the 3xx as a REST client does), stops at the configured time and keeps at
 * most max_bytes of body after content decoding, so a gzip bomb is cut
 * like any big page.  A bigger body is truncated, not an error; the time
 * limit is an error.  CURLOPT_MAXFILESIZE is left unset on purpose: libcurl
 * 7.88 applies it to the announced Content-Length only and answers with an
 * error before the first byte, where truncating keeps the useful head.
 *
 * The guard: every socket libcurl opens goes through open_socket, which
 * refuses loopback, private, link-local, shared, unspecified, multicast and
 * reserved addresses (v4-mapped, v4-compatible, NAT64 and 6to4 forms
 * included; addrguard.c tells them apart) unless allow_private is set.
 * Checking the address being connected, not the name in the URL, covers
 * redirects, DNS names and DNS rebinding alike.  Proxies are never used (CURLOPT_PROXY ""),
 * whatever the environment says: through a proxy the guard would see only the proxy's address.  The
 * web_search endpoint is configuration, not agent input, so it is trusted and may be private (a
 * local SearXNG).
 *
 * web_fetch's details follow OpenClaw's: url, finalUrl, status,
 * contentType, title, extractMode, extractor, truncated, length (characters
 * returned), rawLength (characters extracted before the maxChars cap),
 * bytes (body bytes after decoding), fetchedAt, tookMs and warning.
 * HTML becomes markdown or plain text in html.c (ise_html_to_text), which
 * also honours Content-Type's charset (or a <meta> one): windows-1252 and
 * its aliases by a table, others through iconv, and whatever comes out is
 * made valid UTF-8.
 *
 * The result's content and details are the caller's (ise_tool_result_free).
 */
#include "exec/web.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "exec/addrguard_int.h"
#include "core/clock.h"
#include "core/diag.h"
#include "exec/html_int.h"
#include "core/jsondoc.h"
#include "core/strbuf.h"
#include "exec/result.h"
#include "core/utf8.h"
#include "core/xalloc.h"

#define MAX_REDIRECTS   5
#define MAX_HEADER_TEXT (64 * 1024) /* response headers kept for http_request */
#define MAX_ERROR_CHARS 4000        /* text of a 4xx/5xx page shown with the error */
#define MAX_SNIPPET     500         /* characters of one search snippet */

/* Code points of valid UTF-8 text. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* The byte length of the first max code points of valid UTF-8 text. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
	size_t i = 0, k = 0;

	for (; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && k++ == max)
			break;
	return i;
}

/* Now as ISO 8601 UTC with milliseconds, as JavaScript's toISOString. */
static void iso_now(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char day[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%.20s.%03dZ", day, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* ---- one transfer ---- */

struct transfer {
	CURL *h;
	const char *tool;
	int guard;                 /* refuse non-public addresses */
	int refuse_binary;         /* web_fetch: stop at the first byte of a binary type */
	int binary;                /* ... and it was one */
	int checked_type;          /* the type of the body was looked at */
	struct ise_strbuf body;    /* at most max bytes */
	size_t max;                /* body bytes kept */
	size_t received;           /* body bytes seen (max + 1 at most when cut) */
	int truncated;             /* the body went past max */
	struct ise_strbuf headers; /* the last response's header block */
	char blocked[INET6_ADDRSTRLEN + 160];
	char err[CURL_ERROR_SIZE];
	double timeout_s;
	struct curl_slist *request_headers;
	double started;
};

static curl_socket_t open_socket(void *data, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = data;
	const char *kind = NULL;
	char text[INET6_ADDRSTRLEN] = "?";

	(void)purpose;
	if (t->guard) {
		if (a->family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&a->addr;
			kind = ise_addr_blocked_v4(ntohl(in->sin_addr.s_addr));
			inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
		} else if (a->family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;
			kind = ise_addr_blocked_v6(in6->sin6_addr.s6_addr);
			inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
		} else {
			kind = "a non-IP";
		}
	}
	if (kind) {
		if (!t->blocked[0])
			snprintf(t->blocked, sizeof t->blocked,
				 "blocked: %s is %s address; %s may not reach loopback, private, "
				 "link-local or other non-public addresses",
				 text, kind, t->tool);
		return CURL_SOCKET_BAD;
	}
	/* close-on-exec: the sandbox's children must never inherit it */
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int binary_type(const char *type);

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct transfer *t = p;
	size_t len = size * n, room = t->max - t->body.len;

	if (!t->checked_type) {
		char *type = NULL;
		t->checked_type = 1;
		curl_easy_getinfo(t->h, CURLINFO_CONTENT_TYPE, &type);
		if (t->refuse_binary && binary_type(type)) {
			t->binary = 1;
			return 0;
		}
	}
	if (len > room) {
		ise_sb_add(&t->body, data, room);
		t->received += room + 1;
		t->truncated = 1;
		return room; /* short: libcurl stops with CURLE_WRITE_ERROR */
	}
	ise_sb_add(&t->body, data, len);
	t->received += len;
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct transfer *t = p;
	size_t len = size * n;

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) /* a new response: redirect, 100 */
		t->headers.len = 0;
	if (t->headers.len + len <= MAX_HEADER_TEXT)
		ise_sb_add(&t->headers, data, len);
	return len;
}

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		ise_fatal("cannot initialise libcurl");
}

/* A handle with everything every tool wants; timeout_s > 0. */
static void transfer_start(struct transfer *t, const struct ise_web_config *c, const char *tool,
			   const char *url, double timeout_s, int guard)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	long ms = (long)(timeout_s * 1000);

	pthread_once(&once, curl_init_once);
	memset(t, 0, sizeof *t);
	t->tool = tool;
	t->guard = guard && !c->allow_private;
	t->max = c->max_bytes ? c->max_bytes : 2 * 1024 * 1024;
	t->timeout_s = timeout_s;
	if (!(t->h = curl_easy_init()))
		ise_fatal("out of memory");
	if (ms < 1)
		ms = 1;
	curl_easy_setopt(t->h, CURLOPT_URL, url);
	curl_easy_setopt(t->h, CURLOPT_ERRORBUFFER, t->err);
	curl_easy_setopt(t->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->h, CURLOPT_PROXY, "");
	curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->h, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT_MS, ms < 10000 ? ms : 10000L);
	curl_easy_setopt(t->h, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	curl_easy_setopt(t->h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(t->h, CURLOPT_USERAGENT,
			 c->user_agent && *c->user_agent ? c->user_agent : "ise/" ISE_VERSION);
	curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(t->h, CURLOPT_OPENSOCKETDATA, t);
	t->started = ise_now_ms();
}

static void transfer_end(struct transfer *t)
{
	curl_easy_cleanup(t->h);
	curl_slist_free_all(t->request_headers);
	free(t->body.s);
	free(t->headers.s);
}

/* Run the transfer.  0: a response came (maybe truncated); -1: msg says
 * what the agent is told. */
static int transfer_run(struct transfer *t, char *msg, size_t size)
{
	CURLcode rc = curl_easy_perform(t->h);
	const char *url = NULL;
	long redirects = 0;

	if (rc == CURLE_WRITE_ERROR && (t->truncated || t->binary))
		rc = CURLE_OK;
	if (rc == CURLE_OK)
		return 0;
	curl_easy_getinfo(t->h, CURLINFO_EFFECTIVE_URL, &url);
	curl_easy_getinfo(t->h, CURLINFO_REDIRECT_COUNT, &redirects);
	if (t->blocked[0])
		snprintf(msg, size, "%s%s%s%s", t->blocked,
			 redirects ? " (after a redirect to " : "", redirects && url ? url : "",
			 redirects ? ")" : "");
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(msg, size, "%s: timed out after %g s (%zu bytes of body received)",
			 t->tool, t->timeout_s, t->received);
	else if (rc == CURLE_TOO_MANY_REDIRECTS)
		snprintf(msg, size, "%s: too many redirects (more than %d)", t->tool,
			 MAX_REDIRECTS);
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		snprintf(msg, size, "%s: %s%s refused: only http and https URLs can be fetched",
			 t->tool, redirects ? "a redirect to " : "", url ? url : "the URL");
	else
		snprintf(msg, size, "%s: %s", t->tool, t->err[0] ? t->err : curl_easy_strerror(rc));
	return -1;
}

/* ---- arguments ---- */

static int check_url(const char *tool, const cJSON *args, const char **url, char *msg, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, "url");
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL;
	int ok = 0;

	if (!cJSON_IsString(v) || !*v->valuestring) {
		snprintf(msg, size, "%s: url is required (an absolute http or https URL)", tool);
		return -1;
	}
	*url = v->valuestring;
	if (!(u = curl_url()))
		ise_fatal("out of memory");
	uc = curl_url_set(u, CURLUPART_URL, *url, CURLU_NON_SUPPORT_SCHEME);
	if (uc == CURLUE_OUT_OF_MEMORY)
		ise_fatal("out of memory");
	if (uc)
		snprintf(msg, size,
			 "%s: invalid URL '%.300s': %s (give an absolute http or https URL)", tool,
			 *url, curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || !scheme)
		snprintf(msg, size, "%s: invalid URL '%.300s'", tool, *url);
	else if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		snprintf(
		    msg, size,
		    "%s: unsupported URL scheme '%.40s': only http and https URLs can be fetched",
		    tool, scheme);
	else
		ok = 1;
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

/* An optional positive integer argument: 0 absent, -1 invalid.  Models
 * often send numbers as strings, which are taken too. */
static int int_arg(const cJSON *args, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);
	char *end;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v))
		*out = v->valuedouble;
	else if (cJSON_IsString(v)) {
		*out = strtod(v->valuestring, &end);
		if (end == v->valuestring || *end)
			return -1;
	} else
		return -1;
	return *out >= 1 && *out < 1e15 ? 1 : -1;
}

/* ---- content types and character sets ---- */

/* The media type, lower case, without parameters. */
static void media_type(const char *type, char *out, size_t size)
{
	size_t n = 0;

	while (type && (*type == ' ' || *type == '\t'))
		type++;
	for (; type && *type && *type != ';' && *type != ' ' && n + 1 < size; type++)
		out[n++] = (char)tolower((unsigned char)*type);
	out[n] = '\0';
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

enum kind { KIND_HTML, KIND_TEXT, KIND_JSON, KIND_BINARY, KIND_UNKNOWN };

static enum kind type_kind(const char *type)
{
	static const char *const text_apps[] = {"application/xml",
						"application/javascript",
						"application/ecmascript",
						"application/x-javascript",
						"application/x-sh",
						"application/x-shellscript",
						"application/sql",
						"application/yaml",
						"application/x-yaml",
						"application/toml",
						"application/x-www-form-urlencoded",
						"application/graphql",
						"application/x-tex",
						"application/x-httpd-php",
						"application/csv",
						"application/x-ndjson",
						"application/jsonl",
						"application/x-perl",
						"application/x-python",
						"application/x-ruby",
						"application/rtf"};
	char m[128];

	media_type(type, m, sizeof m);
	if (!*m || !strcmp(m, "application/octet-stream") || !strcmp(m, "binary/octet-stream"))
		return KIND_UNKNOWN;
	if (!strcmp(m, "text/html") || !strcmp(m, "application/xhtml+xml"))
		return KIND_HTML;
	if (!strcmp(m, "application/json") || ends_with(m, "+json"))
		return KIND_JSON;
	if (!strncmp(m, "text/", 5) || ends_with(m, "+xml"))
		return KIND_TEXT;
	for (size_t i = 0; i < sizeof text_apps / sizeof *text_apps; i++)
		if (!strcmp(m, text_apps[i]))
			return KIND_TEXT;
	return KIND_BINARY;
}

static int binary_type(const char *type)
{
	return type_kind(type) == KIND_BINARY;
}

/* Untyped bytes: binary when the start holds NUL or many control bytes. */
static enum kind sniff(const char *s, size_t n)
{
	size_t ctl = 0, i, k = n < 4096 ? n : 4096;

	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0)
			return KIND_BINARY;
		ctl += c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f';
	}
	if (ctl * 10 > k)
		return KIND_BINARY;
	for (i = 0; i < k && isspace((unsigned char)s[i]); i++)
		;
	if ((k - i >= 14 && !strncasecmp(s + i, "<!doctype html", 14)) ||
	    (k - i >= 5 && !strncasecmp(s + i, "<html", 5)))
		return KIND_HTML;
	return KIND_TEXT;
}

/* Text with CRLF made LF. */
static void plain_lines(char *s, size_t *n)
{
	size_t o = 0;

	for (size_t i = 0; i < *n; i++)
		if (!(s[i] == '\r' && i + 1 < *n && s[i + 1] == '\n'))
			s[o++] = s[i];
	s[o] = '\0';
	*n = o;
}

/* A JSON document with two-space indents, as JSON.stringify(v, null, 2)
 * writes it (cJSON_Print uses tabs and odd spacing). */
static char *json_pretty(const cJSON *doc)
{
	char *flat = cJSON_PrintUnformatted(doc);
	struct ise_strbuf b = {0};
	int depth = 0, in_string = 0;

	if (!flat)
		ise_fatal("out of memory");
	ise_sb_add(&b, "", 0);
	for (const char *p = flat; *p; p++) {
		char c = *p;
		if (in_string) {
			ise_sb_add(&b, p, 1);
			if (c == '\\' && p[1])
				ise_sb_add(&b, ++p, 1);
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			ise_sb_add(&b, p, 1);
			in_string = 1;
		} else if ((c == '{' || c == '[') && (p[1] == '}' || p[1] == ']')) {
			ise_sb_add(&b, p++, 2); /* {} and [] stay on one line */
		} else if (c == '{' || c == '[') {
			ise_sb_printf(&b, "%c\n%*s", c, 2 * ++depth, "");
		} else if (c == '}' || c == ']') {
			depth = depth > 0 ? depth - 1 : 0;
			ise_sb_printf(&b, "\n%*s%c", 2 * depth, "", c);
		} else if (c == ',') {
			ise_sb_printf(&b, ",\n%*s", 2 * depth, "");
		} else if (c == ':') {
			ise_sb_add(&b, ": ", 2);
		} else {
			ise_sb_add(&b, p, 1);
		}
	}
	if (b.len > 8 * strlen(flat) + 4096) { /* deep nesting: indents would swamp it */
		free(b.s);
		b.s = ise_xstrdup(flat);
	}
	cJSON_free(flat);
	return ise_sb_take(&b);
}

/* ---- results ---- */

/* The URL and what came back may be any bytes: keep the details valid UTF-8. */
static void add_string(cJSON *o, const char *key, const char *v)
{
	size_t n;
	char *clean = ise_utf8_clean(v ? v : "", v ? strlen(v) : 0, &n);

	ise_json_add(o, key, cJSON_CreateString(clean));
	free(clean);
}

static void add_number(cJSON *o, const char *key, double v)
{
	ise_json_add(o, key, cJSON_CreateNumber(v));
}

static void add_bool(cJSON *o, const char *key, int v)
{
	ise_json_add(o, key, cJSON_CreateBool(v));
}

static void succeed(struct ise_tool_result *r, char *content)
{
	free(r->content);
	r->content = content;
	r->ok = 1;
}

/* ---- web_fetch ---- */

static void web_fetch(const struct ise_web_config *c, const cJSON *args, struct ise_tool_result *r)
{
	const char *url, *mode = "markdown", *extractor = "raw", *ctype = NULL, *final = NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(args, "extractMode");
	size_t max_chars = c->max_chars ? c->max_chars : 50000, len, cut, chars;
	struct transfer t;
	char msg[2048], charset[64], fetched[40], *body, *text, *title = NULL;
	double v;
	long status = 0;
	enum kind kind;
	struct ise_strbuf out = {0};

	if (check_url("web_fetch", args, &url, msg, sizeof msg)) {
		ise_tool_fail(r, "%s", msg);
		return;
	}
	if (m && !cJSON_IsNull(m)) {
		if (!cJSON_IsString(m) ||
		    (strcmp(m->valuestring, "markdown") && strcmp(m->valuestring, "text"))) {
			ise_tool_fail(r, "web_fetch: extractMode must be \"markdown\" or \"text\"");
			return;
		}
		mode = m->valuestring;
	}
	switch (int_arg(args, "maxChars", &v)) {
	case -1:
		ise_tool_fail(r, "web_fetch: maxChars must be a positive integer");
		return;
	case 1:
		if (v < (double)max_chars)
			max_chars = (size_t)v;
	}

	iso_now(fetched, sizeof fetched);
	transfer_start(&t, c, "web_fetch", url, c->timeout_s > 0 ? c->timeout_s : 30, 1);
	t.refuse_binary = 1;
	t.request_headers =
	    curl_slist_append(NULL, "Accept: text/markdown, text/html;q=0.9, */*;q=0.1");
	t.request_headers = curl_slist_append(t.request_headers, "Accept-Language: en-US,en;q=0.9");
	if (!t.request_headers)
		ise_fatal("out of memory");
	curl_easy_setopt(t.h, CURLOPT_HTTPHEADER, t.request_headers);
	curl_easy_setopt(t.h, CURLOPT_FOLLOWLOCATION, 1L);
	int failed = transfer_run(&t, msg, sizeof msg);
	double took = ise_now_ms() - t.started;
	curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t.h, CURLINFO_CONTENT_TYPE, &ctype);
	curl_easy_getinfo(t.h, CURLINFO_EFFECTIVE_URL, &final);
	cJSON_Delete(r->details);
	r->details = ise_json_checked(cJSON_CreateObject());
	add_string(r->details, "url", url);
	add_string(r->details, "finalUrl", final ? final : url);
	r->duration_ms = took;
	if (failed) {
		add_number(r->details, "tookMs", (double)(long)took);
		ise_tool_fail(r, "%s", msg);
		transfer_end(&t);
		return;
	}
	add_number(r->details, "status", (double)status);
	char mt[128];
	media_type(ctype, mt, sizeof mt);
	add_string(r->details, "contentType", *mt ? mt : "application/octet-stream");
	kind = type_kind(ctype);
	if (kind == KIND_UNKNOWN)
		kind = sniff(t.body.s ? t.body.s : "", t.body.len);
	if (t.binary || kind == KIND_BINARY) {
		add_number(r->details, "tookMs", (double)(long)took);
		ise_tool_fail(r,
			      "web_fetch: %s is binary content (%s), not fetched: web_fetch reads "
			      "HTML and text pages only",
			      final ? final : url, *mt ? mt : "unknown type");
		add_number(r->details, "httpStatus", (double)status);
		transfer_end(&t);
		return;
	}
	ise_html_charset_of(ctype, kind == KIND_HTML ? t.body.s : NULL, t.body.len, charset,
			    sizeof charset);
	body = ise_html_to_utf8(t.body.s ? t.body.s : "", t.body.len, charset, &len);
	if (kind == KIND_HTML) {
		text = ise_html_to_text(body, len, !strcmp(mode, "markdown"), final ? final : url,
					&title);
		extractor = "html";
		free(body);
	} else if (kind == KIND_JSON) {
		cJSON *doc = t.truncated ? NULL : cJSON_ParseWithLength(body, len);
		if (doc) {
			text = json_pretty(doc);
			extractor = "json";
			free(body);
		} else {
			text = body;
			plain_lines(text, &len);
		}
		cJSON_Delete(doc);
	} else {
		text = body;
		plain_lines(text, &len);
	}
	len = strlen(text);
	chars = utf8_chars(text, len);
	cut = utf8_prefix(text, len, max_chars);

	if (title)
		add_string(r->details, "title", title);
	add_string(r->details, "extractMode", mode);
	add_string(r->details, "extractor", extractor);
	add_bool(r->details, "truncated", cut < len || t.truncated);
	add_number(r->details, "length", (double)utf8_chars(text, cut));
	add_number(r->details, "rawLength", (double)chars);
	add_number(r->details, "bytes", (double)t.body.len);
	add_string(r->details, "fetchedAt", fetched);
	add_number(r->details, "tookMs", (double)(long)took);
	if (t.truncated) {
		char w[96];
		snprintf(w, sizeof w, "Response body truncated after %zu bytes.", t.max);
		add_string(r->details, "warning", w);
	}
	r->truncated = cut < len || t.truncated;

	if (status >= 400) {
		size_t k = utf8_prefix(text, len, MAX_ERROR_CHARS);
		ise_tool_fail(r, "web_fetch failed (%ld)%s%.*s", status, k ? ": " : "", (int)k,
			      text);
		/* ise_tool_fail made status "error": the HTTP one stays here */
		add_number(r->details, "httpStatus", (double)status);
	} else {
		if (title && !(strstr(text, title) == text ||
			       (text[0] == '#' && strstr(text, title) == text + 2)))
			ise_sb_printf(&out, "%s%s\n\n", !strcmp(mode, "markdown") ? "# " : "",
				      title);
		ise_sb_add(&out, text, cut);
		if (cut < len)
			ise_sb_printf(&out, "\n\n[... truncated at %zu of %zu characters ...]",
				      max_chars, chars);
		if (t.truncated)
			ise_sb_printf(&out, "\n\n[... response body truncated after %zu bytes ...]",
				      t.max);
		succeed(r, ise_sb_take(&out));
	}
	free(text);
	free(title);
	transfer_end(&t);
}

/* ---- web_search ---- */

/* The string member, whitespace collapsed, at most max characters. */
static char *result_field(const cJSON *o, const char *key, size_t max)
{
	const char *v = ise_json_string(o, key);
	char *clean, *text;
	size_t n, k;

	if (!v)
		return ise_xstrdup("");
	clean = ise_utf8_clean(v, strlen(v), &n);
	text = ise_html_decode_text(clean, n, 1);
	free(clean);
	n = strlen(text);
	k = utf8_prefix(text, n, max);
	if (k < n) {
		struct ise_strbuf b = {0};
		ise_sb_add(&b, text, k);
		ise_sb_puts(&b, "...");
		free(text);
		text = ise_sb_take(&b);
	}
	return text;
}

static void web_search(const struct ise_web_config *c, const cJSON *args, struct ise_tool_result *r)
{
	const char *query = ise_json_string(args, "query");
	struct transfer t;
	char msg[2048], *esc, *url;
	double v = 5;
	long status = 0;
	size_t count = 5, shown = 0;
	struct ise_strbuf b = {0}, out = {0};

	if (!c->search_url || !*c->search_url) {
		ise_tool_fail(r, "web_search is not configured: give ise-exec --search-url URL (a "
				 "SearXNG JSON endpoint such as http://localhost:8888/search)");
		return;
	}
	while (query && isspace((unsigned char)*query))
		query++;
	if (!query || !*query) {
		ise_tool_fail(r, "web_search: query is required (a non-empty string)");
		return;
	}
	if (int_arg(args, "count", &v) < 0) {
		ise_tool_fail(r, "web_search: count must be an integer from 1 to 10");
		return;
	}
	count = v > 10 ? 10 : (size_t)v;

	transfer_start(&t, c, "web_search", "", c->timeout_s > 0 ? c->timeout_s : 30, 0);
	if (!(esc = curl_easy_escape(t.h, query, 0)))
		ise_fatal("out of memory");
	ise_sb_printf(&b, "%s%sq=%s&format=json", c->search_url,
		      strchr(c->search_url, '?') ? "&" : "?", esc);
	curl_free(esc);
	url = ise_sb_take(&b);
	curl_easy_setopt(t.h, CURLOPT_URL, url);
	curl_easy_setopt(t.h, CURLOPT_FOLLOWLOCATION, 1L);
	t.request_headers = curl_slist_append(NULL, "Accept: application/json");
	if (!t.request_headers)
		ise_fatal("out of memory");
	curl_easy_setopt(t.h, CURLOPT_HTTPHEADER, t.request_headers);
	int failed = transfer_run(&t, msg, sizeof msg);
	r->duration_ms = ise_now_ms() - t.started;
	curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &status);
	cJSON_Delete(r->details);
	r->details = ise_json_checked(cJSON_CreateObject());
	add_string(r->details, "query", query);
	add_number(r->details, "count", (double)count);
	add_string(r->details, "provider", "searxng");
	add_number(r->details, "tookMs", (double)(long)r->duration_ms);
	if (status)
		add_number(r->details, "httpStatus", (double)status);
	cJSON *doc = NULL, *results = ise_json_checked(cJSON_CreateArray());
	ise_json_add(r->details, "results", results);
	if (failed) {
		ise_tool_fail(r, "%s", msg);
	} else if (status != 200) {
		ise_tool_fail(r, "web_search failed: the search endpoint answered HTTP %ld%s",
			      status,
			      status == 403 ? " (does SearXNG's settings.yml list json under "
					      "search.formats?)"
					    : "");
	} else if (t.truncated ||
		   !(doc = cJSON_ParseWithLength(t.body.s ? t.body.s : "", t.body.len)) ||
		   !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "results"))) {
		ise_tool_fail(r, "web_search failed: the search endpoint's answer is not SearXNG "
				 "JSON (an object with a results array)");
	} else {
		const cJSON *item;
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
			char *title, *link, *snippet;
			if (shown == count || !cJSON_IsObject(item) ||
			    !ise_json_string(item, "url"))
				continue;
			title = result_field(item, "title", 300);
			link = result_field(item, "url", 2000);
			snippet = result_field(item, "content", MAX_SNIPPET);
			ise_sb_printf(&out, "%s%zu. %s\n   %s", shown ? "\n\n" : "", shown + 1,
				      *title ? title : link, link);
			if (*snippet)
				ise_sb_printf(&out, "\n   %s", snippet);
			cJSON *o = ise_json_checked(cJSON_CreateObject());
			add_string(o, "title", title);
			add_string(o, "url", link);
			add_string(o, "snippet", snippet);
			ise_json_add(results, NULL, o);
			free(title);
			free(link);
			free(snippet);
			shown++;
		}
		if (!shown)
			ise_sb_printf(&out, "No results for \"%s\".", query);
		succeed(r, ise_sb_take(&out));
	}
	cJSON_Delete(doc);
	free(url);
	transfer_end(&t);
}

/* ---- http_request ---- */

static int token_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Add the agent's headers; -1 with msg on a bad one. */
static int request_headers(struct transfer *t, const cJSON *headers, int *has_type, char *msg,
			   size_t size)
{
	const cJSON *hd;
	struct ise_strbuf line = {0};
	int count = 0;

	if (!headers || cJSON_IsNull(headers))
		return 0;
	if (!cJSON_IsObject(headers)) {
		snprintf(msg, size, "http_request: headers must be an object of name-value pairs");
		return -1;
	}
	cJSON_ArrayForEach(hd, headers) {
		const char *name = hd->string, *value;
		char num[64];
		if (++count > 100) {
			snprintf(msg, size, "http_request: too many headers (100 at most)");
			goto bad;
		}
		for (const char *p = name; *p; p++)
			if (!token_char((unsigned char)*p)) {
				snprintf(msg, size,
					 "http_request: invalid header name '%.100s': names are "
					 "tokens without spaces, colons, CR or LF",
					 name);
				goto bad;
			}
		if (!*name || strlen(name) > 256) {
			snprintf(msg, size, "http_request: invalid header name '%.100s'", name);
			goto bad;
		}
		if (!strcasecmp(name, "Content-Length") || !strcasecmp(name, "Transfer-Encoding")) {
			snprintf(msg, size, "http_request: %s is set from the body; leave it out",
				 name);
			goto bad;
		}
		if (cJSON_IsString(hd))
			value = hd->valuestring;
		else if (cJSON_IsNumber(hd)) {
			snprintf(num, sizeof num, "%.17g", hd->valuedouble);
			value = num;
		} else if (cJSON_IsBool(hd)) {
			value = cJSON_IsTrue(hd) ? "true" : "false";
		} else {
			snprintf(msg, size,
				 "http_request: the value of header %.100s must be a string", name);
			goto bad;
		}
		for (const char *p = value; *p; p++)
			if (*p == '\r' || *p == '\n' || ((unsigned char)*p < 0x20 && *p != '\t') ||
			    *p == 0x7f) {
				snprintf(msg, size,
					 "http_request: the value of header %.100s contains %s, "
					 "which header values may not",
					 name,
					 *p == '\r' || *p == '\n' ? "CR or LF"
								  : "a control character");
				goto bad;
			}
		if (!strcasecmp(name, "Content-Type"))
			*has_type = 1;
		line.len = 0;
		/* "Name;" is libcurl's way to send an empty value ("Name:" drops it) */
		ise_sb_printf(&line, *value ? "%s: %s" : "%s;", name, value);
		struct curl_slist *l = curl_slist_append(t->request_headers, line.s);
		if (!l)
			ise_fatal("out of memory");
		t->request_headers = l;
	}
	free(line.s);
	return 0;
bad:
	free(line.s);
	return -1;
}

static void http_request(const struct ise_web_config *c, const cJSON *args,
			 struct ise_tool_result *r)
{
	static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
					      "DELETE", "HEAD", "OPTIONS", NULL};
	const cJSON *mv = cJSON_GetObjectItemCaseSensitive(args, "method");
	const cJSON *bv = cJSON_GetObjectItemCaseSensitive(args, "body");
	const char *url, *body = NULL, *ctype = NULL;
	char method[16] = "", msg[2048], charset[64], mt[128];
	double timeout = c->timeout_s > 0 ? c->timeout_s : 30, v;
	int has_type = 0;
	long status = 0;
	size_t k;
	struct transfer t;
	struct ise_strbuf out = {0};

	if (!cJSON_IsString(mv)) {
		ise_tool_fail(r, "http_request: method is required (GET, POST, PUT, PATCH, DELETE, "
				 "HEAD or OPTIONS)");
		return;
	}
	for (k = 0; mv->valuestring[k] && k + 1 < sizeof method; k++)
		method[k] = (char)toupper((unsigned char)mv->valuestring[k]);
	method[k] = '\0';
	if (!ise_name_in(method, methods) || mv->valuestring[k]) {
		ise_tool_fail(
		    r,
		    "http_request: unsupported method '%.40s': use GET, POST, PUT, PATCH, "
		    "DELETE, HEAD or OPTIONS",
		    mv->valuestring);
		return;
	}
	if (check_url("http_request", args, &url, msg, sizeof msg)) {
		ise_tool_fail(r, "%s", msg);
		return;
	}
	if (bv && !cJSON_IsNull(bv)) {
		if (!cJSON_IsString(bv)) {
			ise_tool_fail(r, "http_request: body must be a string (serialise JSON "
					 "documents first)");
			return;
		}
		body = bv->valuestring;
		if (!strcmp(method, "HEAD") && *body) {
			ise_tool_fail(r, "http_request: a HEAD request has no body");
			return;
		}
	}
	switch (int_arg(args, "timeout", &v)) {
	case -1:
		ise_tool_fail(r, "http_request: timeout must be a positive number of seconds");
		return;
	case 1:
		if (v < timeout) /* the agent may shorten the limit, never lengthen it */
			timeout = v;
	}

	transfer_start(&t, c, "http_request", url, timeout, 1);
	if (request_headers(&t, cJSON_GetObjectItemCaseSensitive(args, "headers"), &has_type, msg,
			    sizeof msg)) {
		ise_tool_fail(r, "%s", msg);
		transfer_end(&t);
		return;
	}
	if (body && *body && !has_type) { /* a JSON document is sent as one */
		cJSON *doc = cJSON_Parse(body);
		if (cJSON_IsObject(doc) || cJSON_IsArray(doc)) {
			t.request_headers =
			    curl_slist_append(t.request_headers, "Content-Type: application/json");
			if (!t.request_headers)
				ise_fatal("out of memory");
		}
		cJSON_Delete(doc);
	}
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(t.h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET") && !body) {
		curl_easy_setopt(t.h, CURLOPT_HTTPGET, 1L);
	} else {
		if (!body && strcmp(method, "POST") && strcmp(method, "PUT") &&
		    strcmp(method, "PATCH")) {
			curl_easy_setopt(t.h, CURLOPT_CUSTOMREQUEST, method);
		} else {
			curl_easy_setopt(t.h, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)(body ? strlen(body) : 0));
			curl_easy_setopt(t.h, CURLOPT_COPYPOSTFIELDS, body ? body : "");
			if (strcmp(method, "POST"))
				curl_easy_setopt(t.h, CURLOPT_CUSTOMREQUEST, method);
			if ((!body || !*body) && !has_type) /* no form type for no body */
				t.request_headers =
				    curl_slist_append(t.request_headers, "Content-Type:");
		}
	}
	curl_easy_setopt(t.h, CURLOPT_HTTPHEADER, t.request_headers);
	int failed = transfer_run(&t, msg, sizeof msg);
	r->duration_ms = ise_now_ms() - t.started;
	curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t.h, CURLINFO_CONTENT_TYPE, &ctype);
	media_type(ctype, mt, sizeof mt);
	cJSON_Delete(r->details);
	r->details = ise_json_checked(cJSON_CreateObject());
	add_string(r->details, "method", method);
	add_string(r->details, "url", url);
	add_number(r->details, "tookMs", (double)(long)r->duration_ms);
	if (failed) {
		ise_tool_fail(r, "%s", msg);
		transfer_end(&t);
		return;
	}

	add_number(r->details, "status", (double)status);
	if (*mt)
		add_string(r->details, "contentType", mt);
	/* the status line and headers as received, CR dropped */
	cJSON *hdrs = ise_json_checked(cJSON_CreateObject());
	ise_json_add(r->details, "headers", hdrs);
	char *head = ise_utf8_clean(t.headers.s ? t.headers.s : "", t.headers.len, &k);
	for (char *line = head, *next; line && *line; line = next) {
		size_t n = strcspn(line, "\r\n");
		next = line + n;
		next += strspn(next, "\r\n") ? (next[0] == '\r' && next[1] == '\n' ? 2 : 1) : 0;
		if (!n)
			continue;
		ise_sb_add(&out, line, n);
		ise_sb_add(&out, "\n", 1);
		char *colon = memchr(line, ':', n);
		if (colon && line != head) {
			char name[128], *val = colon + 1;
			size_t nl = (size_t)(colon - line) < sizeof name - 1
					? (size_t)(colon - line)
					: sizeof name - 1;
			for (size_t i = 0; i < nl; i++)
				name[i] = (char)tolower((unsigned char)line[i]);
			name[nl] = '\0';
			while (val < line + n && (*val == ' ' || *val == '\t'))
				val++;
			struct ise_strbuf value = {0};
			const char *old = ise_json_string(hdrs, name);
			if (old)
				ise_sb_printf(&value, "%s, ", old);
			ise_sb_add(&value, val, (size_t)(line + n - val));
			cJSON_DeleteItemFromObjectCaseSensitive(hdrs, name);
			add_string(hdrs, name, value.s);
			free(value.s);
		}
	}
	free(head);
	if (t.body.len)
		ise_sb_add(&out, "\n", 1);

	enum kind kind = type_kind(ctype);
	if (kind == KIND_UNKNOWN)
		kind = sniff(t.body.s ? t.body.s : "", t.body.len);
	if (t.body.len && kind == KIND_BINARY) {
		ise_sb_printf(&out, "[binary body: %zu bytes of %s, not shown]", t.body.len,
			      *mt ? mt : "unknown type");
	} else if (t.body.len) {
		size_t len, chars, max = c->max_chars ? c->max_chars : 50000;
		ise_html_charset_of(ctype, kind == KIND_HTML ? t.body.s : NULL, t.body.len, charset,
				    sizeof charset);
		char *text = ise_html_to_utf8(t.body.s, t.body.len, charset, &len);
		chars = utf8_chars(text, len);
		k = utf8_prefix(text, len, max);
		ise_sb_add(&out, text, k);
		if (k < len) {
			ise_sb_printf(&out, "\n\n[... truncated at %zu of %zu characters ...]", max,
				      chars);
			r->truncated = 1;
		}
		free(text);
	}
	if (t.truncated) {
		ise_sb_printf(&out, "\n\n[... response body truncated after %zu bytes ...]", t.max);
		r->truncated = 1;
	}
	add_number(r->details, "bytes", (double)t.body.len);
	add_bool(r->details, "truncated", r->truncated);
	succeed(r, ise_sb_take(&out));
	transfer_end(&t);
}

int ise_web_tool(const struct ise_web_config *c, const char *name, const cJSON *args,
		 struct ise_tool_result *r)
{
	void (*tool)(const struct ise_web_config *, const cJSON *, struct ise_tool_result *);
	cJSON *empty = NULL;

	if (!strcmp(name, "web_fetch"))
		tool = web_fetch;
	else if (!strcmp(name, "web_search"))
		tool = web_search;
	else if (!strcmp(name, "http_request"))
		tool = http_request;
	else
		return 0;
	r->ok = 0;
	r->exit_code = -1;
	r->truncated = 0;
	if (!args || cJSON_IsNull(args))
		args = empty = ise_json_checked(cJSON_CreateObject());
	if (!cJSON_IsObject(args))
		ise_tool_fail(r, "%s: arguments must be a JSON object", name);
	else
		tool(c, args, r);
	cJSON_Delete(empty);
	return 1;
}
