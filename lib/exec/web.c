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
 * included) unless allow_private is set.  Checking the address being
 * connected, not the name in the URL, covers redirects, DNS names and DNS
 * rebinding alike.  Proxies are never used (CURLOPT_PROXY ""), whatever the
 * environment says: through a proxy the guard would see only the proxy's
 * address.  The web_search endpoint is configuration, not agent input, so
 * it is trusted and may be private (a local SearXNG).
 *
 * web_fetch's details follow OpenClaw's: url, finalUrl, status,
 * contentType, title, extractMode, extractor, truncated, length (characters
 * returned), rawLength (characters extracted before the maxChars cap),
 * bytes (body bytes after decoding), fetchedAt, tookMs and warning.
 * HTML becomes markdown or plain text here (html_to_text); Content-Type's
 * charset (or a <meta> one) is honoured, windows-1252 and its aliases by a
 * table, others through iconv, and whatever comes out is made valid UTF-8.
 *
 * The result's content and details are the caller's (ise_tool_result_free).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <iconv.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/strbuf.h"
#include "exec/tools.h"
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

static double monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

/* ---- the address guard ---- */

/* What kind of non-public address a (host order) is, with its article;
 * NULL for a public one. */
static const char *blocked_v4(uint32_t a)
{
	if ((a >> 24) == 0)
		return "an unspecified (0.0.0.0/8)";
	if ((a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168))
		return "a private";
	if ((a >> 24) == 127)
		return "a loopback";
	if ((a >> 16) == ((169u << 8) | 254))
		return "a link-local";
	if ((a >> 22) == ((100u << 2) | 1))
		return "a shared (100.64.0.0/10)";
	if ((a >> 28) >= 14)
		return "a multicast or reserved";
	return NULL;
}

static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *blocked_v6(const unsigned char *a)
{
	static const unsigned char zero[12],
	    mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
	    translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
	    nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (!memcmp(a, zero, 12)) { /* ::, ::1 and v4-compatible ::a.b.c.d */
		uint32_t v = v4_at(a + 12);
		if (v == 0)
			return "an unspecified";
		if (v == 1)
			return "a loopback";
		return blocked_v4(v);
	}
	if (!memcmp(a, mapped, 12) || !memcmp(a, translated, 12) || !memcmp(a, nat64, 12))
		return blocked_v4(v4_at(a + 12));
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 2002:AABB:CCDD::/48 */
		return blocked_v4(v4_at(a + 2));
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "a link-local";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "a site-local";
	if ((a[0] & 0xfe) == 0xfc)
		return "a unique local";
	if (a[0] == 0xff)
		return "a multicast";
	return NULL;
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
			kind = blocked_v4(ntohl(in->sin_addr.s_addr));
			inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
		} else if (a->family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->addr;
			kind = blocked_v6(in6->sin6_addr.s6_addr);
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
	t->started = monotonic_ms();
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

/* The charset parameter of a Content-Type, or of a <meta> in the first
 * 1024 bytes of an HTML page; "" when none. */
static void charset_of(const char *type, const char *html, size_t n, char *out, size_t size)
{
	const char *p = NULL, *end = NULL;
	size_t k = 0;

	out[0] = '\0';
	for (const char *q = type; q && *q; q++)
		if (!strncasecmp(q, "charset=", 8)) {
			p = q + 8;
			end = p + strlen(p);
			break;
		}
	if (!p && html) {
		size_t lim = n < 1024 ? n : 1024;
		for (size_t i = 0; i + 5 < lim && !p; i++) {
			if (strncasecmp(html + i, "<meta", 5))
				continue;
			const char *close = memchr(html + i, '>', lim - i);
			end = close ? close : html + lim;
			for (const char *q = html + i; q + 8 <= end; q++)
				if (!strncasecmp(q, "charset=", 8)) {
					p = q + 8;
					break;
				}
		}
	}
	if (!p)
		return;
	while (p < end && (*p == '"' || *p == '\'' || *p == ' '))
		p++;
	while (p < end && k + 1 < size && (isalnum((unsigned char)*p) || strchr("-_.:", *p)))
		out[k++] = (char)tolower((unsigned char)*p++);
	out[k] = '\0';
}

/* windows-1252's 0x80-0x9f; the five it leaves undefined stay C1, as the
 * WHATWG encoding standard says. */
static const unsigned short cp1252_c1[32] = {
    0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
    0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178};

static int is_latin1(const char *cs)
{
	static const char *const names[] = {
	    "iso-8859-1", "iso8859-1",  "iso_8859-1",   "latin1",        "latin-1",  "l1",
	    "cp819",      "ibm819",     "windows-1252", "cp1252",        "x-cp1252", "us-ascii",
	    "ascii",      "iso-ir-100", "csisolatin1",  "ansi_x3.4-1968"};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(cs, names[i]))
			return 1;
	return 0;
}

static char *from_cp1252(const char *s, size_t n, size_t *outlen)
{
	struct ise_strbuf b = {0};
	char u[4];

	ise_xgrow((void **)&b.s, &b.cap, n + n / 2 + 1, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp = c >= 0x80 && c < 0xa0 ? cp1252_c1[c - 0x80] : c;
		ise_sb_add(&b, u, ise_utf8_encode((uint32_t)cp, u));
	}
	*outlen = b.len;
	return ise_sb_take(&b);
}

/* Through iconv; NULL when it does not know the charset.  A byte it cannot
 * convert becomes U+FFFD. */
static char *from_iconv(const char *cs, const char *s, size_t n, size_t *outlen)
{
	iconv_t cd = iconv_open("UTF-8", cs);
	struct ise_strbuf b = {0};
	char *in = (char *)s; /* iconv's prototype is not const-correct */
	size_t left = n;

	if (cd == (iconv_t)-1)
		return NULL;
	ise_xgrow((void **)&b.s, &b.cap, 2 * n + 16, 1);
	while (left > 0) {
		char *out = b.s + b.len;
		size_t room = b.cap - b.len - 1, before = room;
		size_t rc = iconv(cd, &in, &left, &out, &room);
		b.len += before - room;
		if (rc != (size_t)-1) {
			iconv(cd, NULL, NULL, &out, &room); /* a stateful charset's final shift */
			b.len = (size_t)(out - b.s);
			break;
		}
		if (errno == E2BIG) {
			ise_xgrow((void **)&b.s, &b.cap, b.cap + n + 16, 1);
		} else { /* EILSEQ, or EINVAL at the end: one replacement, one byte */
			ise_sb_add(&b, "\xef\xbf\xbd", 3);
			in++;
			left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
		ise_xgrow((void **)&b.s, &b.cap, b.len + 16, 1);
	}
	iconv_close(cd);
	b.s[b.len] = '\0';
	*outlen = b.len;
	return ise_sb_take(&b);
}

/* The body as valid UTF-8 text. */
static char *to_utf8(const char *s, size_t n, const char *charset, size_t *outlen)
{
	char *conv = NULL, *clean;
	size_t len;

	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) { /* a BOM says more than the header */
		s += 3;
		n -= 3;
		charset = "utf-8";
	} else if (n >= 2 && (!memcmp(s, "\xff\xfe", 2) || !memcmp(s, "\xfe\xff", 2)))
		charset = "utf-16";
	if (*charset && strcmp(charset, "utf-8") && strcmp(charset, "utf8")) {
		if (is_latin1(charset))
			conv = from_cp1252(s, n, &len);
		else
			conv = from_iconv(charset, s, n, &len);
	}
	clean = conv ? ise_utf8_clean(conv, len, outlen) : ise_utf8_clean(s, n, outlen);
	free(conv);
	return clean;
}

/* ---- HTML to text ---- */

static const struct {
	const char *name;
	unsigned short cp;
} entities[] = {
    {"quot", 34},     {"amp", 38},      {"apos", 39},     {"lt", 60},       {"gt", 62},
    {"OElig", 338},   {"oelig", 339},   {"Scaron", 352},  {"scaron", 353},  {"Yuml", 376},
    {"fnof", 402},    {"circ", 710},    {"tilde", 732},   {"ensp", 8194},   {"emsp", 8195},
    {"thinsp", 8201}, {"zwnj", 8204},   {"zwj", 8205},    {"lrm", 8206},    {"rlm", 8207},
    {"ndash", 8211},  {"mdash", 8212},  {"lsquo", 8216},  {"rsquo", 8217},  {"sbquo", 8218},
    {"ldquo", 8220},  {"rdquo", 8221},  {"bdquo", 8222},  {"dagger", 8224}, {"Dagger", 8225},
    {"bull", 8226},   {"hellip", 8230}, {"permil", 8240}, {"prime", 8242},  {"Prime", 8243},
    {"lsaquo", 8249}, {"rsaquo", 8250}, {"oline", 8254},  {"frasl", 8260},  {"euro", 8364},
    {"trade", 8482},  {"larr", 8592},   {"uarr", 8593},   {"rarr", 8594},   {"darr", 8595},
    {"harr", 8596},   {"rArr", 8658},   {"lArr", 8656},   {"hArr", 8660},   {"forall", 8704},
    {"part", 8706},   {"exist", 8707},  {"empty", 8709},  {"nabla", 8711},  {"isin", 8712},
    {"notin", 8713},  {"sum", 8721},    {"minus", 8722},  {"lowast", 8727}, {"radic", 8730},
    {"prop", 8733},   {"infin", 8734},  {"and", 8743},    {"or", 8744},     {"cap", 8745},
    {"cup", 8746},    {"int", 8747},    {"there4", 8756}, {"sim", 8764},    {"cong", 8773},
    {"asymp", 8776},  {"ne", 8800},     {"equiv", 8801},  {"le", 8804},     {"ge", 8805},
    {"sub", 8834},    {"sup", 8835},    {"sube", 8838},   {"supe", 8839},   {"oplus", 8853},
    {"otimes", 8855}, {"perp", 8869},   {"sdot", 8901},   {"loz", 9674},    {"spades", 9824},
    {"clubs", 9827},  {"hearts", 9829}, {"diams", 9830},  {"check", 10003}, {"nbsp", 160},
    {"Alpha", 913},   {"Beta", 914},    {"Gamma", 915},   {"Delta", 916},   {"Omega", 937},
    {"alpha", 945},   {"beta", 946},    {"gamma", 947},   {"delta", 948},   {"epsilon", 949},
    {"lambda", 955},  {"mu", 956},      {"pi", 960},      {"sigma", 963},   {"tau", 964},
    {"phi", 966},     {"omega", 969},   {"theta", 952},   {"Sigma", 931},   {"Pi", 928},
};

/* U+00A0..U+00FF, in order (HTML 4's Latin-1 set). */
static const char *const latin1_entities[96] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
    "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
    "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

static unsigned long entity_named(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof entities / sizeof *entities; i++)
		if (strlen(entities[i].name) == n && !memcmp(entities[i].name, name, n))
			return entities[i].cp;
	for (size_t i = 0; i < 96; i++)
		if (strlen(latin1_entities[i]) == n && !memcmp(latin1_entities[i], name, n))
			return 0xa0 + i;
	return 0;
}

/* The character reference at s ('&'), n bytes available: the bytes it
 * takes, 0 when it is not one.  Without the ';', only the common legacy
 * names count, and in attributes not before '=' or a letter (a query
 * string's &copy=1 stays as it is). */
static size_t entity(const char *s, size_t n, int in_attr, unsigned long *cp)
{
	static const char *const legacy[] = {"amp", "lt", "gt", "quot", "nbsp", "copy", "reg"};
	size_t i = 1, k;

	if (n > 2 && s[1] == '#') {
		int hex = n > 3 && (s[2] == 'x' || s[2] == 'X');
		unsigned long v = 0;
		for (i = hex ? 3 : 2, k = i;
		     i < n && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]));
		     i++)
			if (v <= 0x10ffff)
				v = v * (hex ? 16 : 10) +
				    (unsigned long)(isdigit((unsigned char)s[i])
							? s[i] - '0'
							: tolower((unsigned char)s[i]) - 'a' + 10);
		if (i == k)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			v = 0xfffd;
		else if (v >= 0x80 && v < 0xa0)
			v = cp1252_c1[v - 0x80];
		*cp = v;
		return i;
	}
	while (i < n && i < 33 && isalnum((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == ';' && (*cp = entity_named(s + 1, i - 1)))
		return i + 1;
	for (k = 0; k < sizeof legacy / sizeof *legacy; k++) {
		size_t len = strlen(legacy[k]);
		if (len + 1 <= i && !memcmp(s + 1, legacy[k], len)) {
			char next = len + 1 < n ? s[len + 1] : '\0';
			if (in_attr && (next == '=' || isalnum((unsigned char)next)))
				return 0;
			*cp = entity_named(legacy[k], len);
			return len + 1;
		}
	}
	return 0;
}

/* s[0..n) with character references decoded, whitespace collapsed and
 * trimmed. */
static char *decode_text(const char *s, size_t n, int in_attr)
{
	struct ise_strbuf b = {0};
	int space = 0;
	char u[4];

	ise_sb_add(&b, "", 0);
	for (size_t i = 0; i < n;) {
		unsigned long cp = (unsigned char)s[i];
		size_t k = s[i] == '&' ? entity(s + i, n - i, in_attr, &cp) : 0;
		i += k ? k : 1;
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' ||
		    cp == 0xa0) {
			space = b.len > 0;
			continue;
		}
		if (space)
			ise_sb_add(&b, " ", 1);
		space = 0;
		if (k)
			ise_sb_add(&b, u, ise_utf8_encode((uint32_t)cp, u));
		else
			ise_sb_add(&b, s + i - 1, 1);
	}
	return ise_sb_take(&b);
}

struct html {
	struct ise_strbuf out;
	int markdown;
	int nl;    /* newlines owed before the next text (1 or 2) */
	int space; /* a space owed */
	int pre;   /* inside <pre>: whitespace kept */
	int pre_start;
	int lists, items[16]; /* open lists; items[i] < 0: unordered */
	int cells;            /* cells so far in this table row */
	size_t link_at;       /* where the open link's text starts */
	size_t limit;         /* past this much output, no more marks or links */
	char *href;           /* the open link's target (markdown) */
	char *title;
	CURLU *base;
};

static void html_block(struct html *h, int lines)
{
	if (lines > h->nl)
		h->nl = lines;
	h->space = 0;
}

/* Pay what is owed before text or an opening mark. */
static void html_flush(struct html *h)
{
	struct ise_strbuf *o = &h->out;

	if (o->len == 0) {
		h->nl = h->space = 0;
		return;
	}
	if (h->nl) {
		int have = 0;
		while (o->len > 0 && o->s[o->len - 1] == ' ')
			o->s[--o->len] = '\0';
		for (size_t i = o->len; i > 0 && o->s[i - 1] == '\n'; i--)
			have++;
		for (; have < h->nl; have++)
			ise_sb_add(o, "\n", 1);
	} else if (h->space && o->s[o->len - 1] != ' ' && o->s[o->len - 1] != '\n')
		ise_sb_add(o, " ", 1);
	h->nl = h->space = 0;
}

/* Markup that only dresses text; left out once the output is far bigger
 * than the page (thousands of deep list items), so that it stays bounded. */
static void html_mark(struct html *h, const char *mark)
{
	html_flush(h);
	if (h->out.len <= h->limit)
		ise_sb_puts(&h->out, mark);
}

static void html_char(struct html *h, unsigned long cp)
{
	char u[4];

	if (h->pre) {
		if (cp == '\r')
			return;
		if (h->pre_start && cp == '\n') { /* HTML drops <pre>'s first newline */
			h->pre_start = 0;
			return;
		}
		h->pre_start = 0;
		if (h->nl || h->space)
			html_flush(h);
		ise_sb_add(&h->out, u, ise_utf8_encode((uint32_t)cp, u));
		return;
	}
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == 0xa0) {
		h->space = 1;
		return;
	}
	if (h->nl || h->space || h->out.len == 0)
		html_flush(h);
	ise_sb_add(&h->out, u, ise_utf8_encode((uint32_t)cp, u));
}

/* A plain byte of text (part of a UTF-8 sequence when >= 0x80). */
static void html_byte(struct html *h, char c)
{
	if ((unsigned char)c >= 0x80) {
		if (h->nl || h->space)
			html_flush(h);
		ise_sb_add(&h->out, &c, 1);
		return;
	}
	html_char(h, (unsigned char)c);
}

static int name_is(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(name, *set))
			return 1;
	return 0;
}

static const char *const paragraph_tags[] = {
    "p",      "ul",     "ol",       "dl",      "table",   "blockquote", "hr",
    "figure", "form",   "fieldset", "address", "details", "section",    "article",
    "header", "footer", "nav",      "aside",   "main",    NULL};
static const char *const line_tags[] = {
    "div",     "li",     "tr",     "dt",     "dd",    "br",    "caption", "figcaption",
    "summary", "option", "legend", "center", "tbody", "thead", "tfoot",   NULL};
/* Their content is not text: skipped whole (title is kept apart). */
static const char *const skipped_tags[] = {"script", "style",    "noscript", "template", "svg",
					   "math",   "iframe",   "object",   "noembed",  "noframes",
					   "canvas", "textarea", "select",   NULL};

static void link_target(struct html *h, const char *href)
{
	char *abs = NULL;
	CURLU *u;

	free(h->href);
	h->href = NULL;
	if (!href || !*href || *href == '#' || !strncasecmp(href, "javascript:", 11) ||
	    strlen(href) > 2048 || h->out.len > h->limit)
		return;
	if (h->base && (u = curl_url_dup(h->base))) {
		if (!curl_url_set(u, CURLUPART_URL, href, CURLU_NON_SUPPORT_SCHEME) &&
		    !curl_url_get(u, CURLUPART_URL, &abs, 0) && strlen(abs) <= 4096)
			h->href = ise_xstrdup(abs);
		curl_free(abs);
		curl_url_cleanup(u);
	}
	if (!h->href)
		h->href = ise_xstrdup(href);
}

static void html_open(struct html *h, const char *name, const char *href)
{
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
		html_block(h, 2);
		if (h->markdown) {
			char mark[8] = "######";
			mark[name[1] - '0'] = '\0';
			html_mark(h, mark);
			h->space = 1;
		}
	} else if (!strcmp(name, "ul") || !strcmp(name, "ol")) {
		html_block(h, h->lists ? 1 : 2);
		if (h->lists < 16)
			h->items[h->lists] = name[0] == 'o' ? 0 : -1;
		h->lists++;
	} else if (!strcmp(name, "li")) {
		html_block(h, 1);
		if (h->markdown) {
			int depth = h->lists > 16 ? 16 : h->lists;
			char mark[64] = "";
			size_t k = 0;
			for (int i = 1; i < depth && k + 2 < 40; i++)
				k += (size_t)snprintf(mark + k, sizeof mark - k, "  ");
			if (depth > 0 && h->items[depth - 1] >= 0)
				snprintf(mark + k, sizeof mark - k, "%d. ", ++h->items[depth - 1]);
			else
				snprintf(mark + k, sizeof mark - k, "- ");
			html_mark(h, mark);
		}
	} else if (!strcmp(name, "a")) {
		if (h->markdown) {
			link_target(h, href);
			if (h->href) { /* not html_mark: the "[" must be there for "](" */
				html_flush(h);
				ise_sb_puts(&h->out, "[");
				h->link_at = h->out.len;
			}
		}
	} else if (!strcmp(name, "pre")) {
		html_block(h, 2);
		if (h->markdown) {
			html_mark(h, "```");
			h->nl = 1;
		}
		h->pre++;
		h->pre_start = 1;
	} else if (!strcmp(name, "code") && !h->pre) {
		if (h->markdown)
			html_mark(h, "`");
	} else if (!strcmp(name, "td") || !strcmp(name, "th")) {
		if (h->cells++ > 0 && !h->nl) {
			h->space = 0;
			ise_sb_puts(&h->out, " | ");
		}
	} else if (!strcmp(name, "tr")) {
		html_block(h, 1);
		h->cells = 0;
	} else if (!strcmp(name, "hr")) {
		html_block(h, 2);
		if (h->markdown) {
			html_mark(h, "---");
			html_block(h, 2);
		}
	} else if (name_is(name, paragraph_tags)) {
		html_block(h, 2);
	} else if (name_is(name, line_tags)) {
		html_block(h, 1);
	}
}

static void html_close(struct html *h, const char *name)
{
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
		html_block(h, 2);
	} else if (!strcmp(name, "ul") || !strcmp(name, "ol")) {
		if (h->lists > 0)
			h->lists--;
		html_block(h, h->lists ? 1 : 2);
	} else if (!strcmp(name, "a")) {
		if (h->href) {
			if (h->out.len == h->link_at) /* no text: no link */
				h->out.s[h->out.len = h->link_at - 1] = '\0';
			else {
				ise_sb_puts(&h->out, "](");
				ise_sb_puts(&h->out, h->href);
				ise_sb_puts(&h->out, ")");
			}
			free(h->href);
			h->href = NULL;
		}
	} else if (!strcmp(name, "pre")) {
		if (h->pre > 0)
			h->pre--;
		if (h->markdown) {
			if (h->out.len && h->out.s[h->out.len - 1] != '\n')
				ise_sb_add(&h->out, "\n", 1);
			ise_sb_puts(&h->out, "```");
		}
		html_block(h, 2);
	} else if (!strcmp(name, "code") && !h->pre) {
		if (h->markdown)
			ise_sb_puts(&h->out, "`");
	} else if (!strcmp(name, "li") || !strcmp(name, "tr") || name_is(name, line_tags)) {
		html_block(h, 1);
	} else if (name_is(name, paragraph_tags)) {
		html_block(h, 2);
	}
}

/* Where "</name" (any case) next starts at or after i, or n. */
static size_t find_close(const char *s, size_t n, size_t i, const char *name)
{
	size_t k = strlen(name);

	for (; i + 2 + k <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' && !strncasecmp(s + i + 2, name, k) &&
		    (i + 2 + k == n || !isalnum((unsigned char)s[i + 2 + k])))
			return i;
	return n;
}

/* The markup at s[i] == '<': the index after it, or 0 when the '<' is text. */
static size_t html_markup(struct html *h, const char *s, size_t n, size_t i)
{
	char name[16], attr[16];
	size_t k = 0, j = i + 1, vstart = 0, vend = 0, hstart = 0, hend = 0;
	int closing = 0;
	const char *p;

	if (n - i >= 4 && !memcmp(s + i, "<!--", 4)) {
		for (j = i + 4; j + 3 <= n && memcmp(s + j, "-->", 3); j++)
			;
		return j + 3 <= n ? j + 3 : n;
	}
	if (j < n && (s[j] == '!' || s[j] == '?')) {
		p = memchr(s + j, '>', n - j);
		return p ? (size_t)(p - s) + 1 : n;
	}
	if (j < n && s[j] == '/') {
		closing = 1;
		j++;
	}
	if (j >= n || !isalpha((unsigned char)s[j]))
		return 0;
	for (; j < n && (isalnum((unsigned char)s[j]) || s[j] == '-' || s[j] == ':'); j++)
		if (k + 1 < sizeof name)
			name[k++] = (char)tolower((unsigned char)s[j]);
	name[k] = '\0';
	/* attributes: only href matters, but quotes must be skipped whole */
	while (j < n && s[j] != '>') {
		if (isspace((unsigned char)s[j]) || s[j] == '/') {
			j++;
			continue;
		}
		k = 0;
		for (; j < n && !isspace((unsigned char)s[j]) && s[j] != '=' && s[j] != '>' &&
		       s[j] != '/';
		     j++)
			if (k + 1 < sizeof attr)
				attr[k++] = (char)tolower((unsigned char)s[j]);
		attr[k] = '\0';
		if (!k) { /* a stray '=' or the like */
			j++;
			continue;
		}
		while (j < n && isspace((unsigned char)s[j]))
			j++;
		if (j >= n || s[j] != '=')
			continue;
		for (j++; j < n && isspace((unsigned char)s[j]); j++)
			;
		if (j < n && (s[j] == '"' || s[j] == '\'')) {
			char q = s[j];
			vstart = ++j;
			while (j < n && s[j] != q)
				j++;
			vend = j;
			if (j < n)
				j++;
		} else {
			vstart = j;
			while (j < n && !isspace((unsigned char)s[j]) && s[j] != '>')
				j++;
			vend = j;
		}
		if (!strcmp(attr, "href")) {
			hstart = vstart;
			hend = vend;
		}
	}
	int self_closing = j < n && s[j - 1] == '/';
	j = j < n ? j + 1 : n;
	if (closing) {
		html_close(h, name);
		return j;
	}
	if (!strcmp(name, "title")) {
		size_t end = find_close(s, n, j, "title");
		if (!h->title)
			h->title = decode_text(s + j, end - j, 0);
		p = end < n ? memchr(s + end, '>', n - end) : NULL;
		return p ? (size_t)(p - s) + 1 : n;
	}
	if (name_is(name, skipped_tags) &&
	    !(self_closing && (!strcmp(name, "svg") || !strcmp(name, "math")))) {
		size_t end = find_close(s, n, j, name);
		p = end < n ? memchr(s + end, '>', n - end) : NULL;
		return p ? (size_t)(p - s) + 1 : n;
	}
	if (!strcmp(name, "br")) {
		if (h->pre)
			html_char(h, '\n');
		else
			html_block(h, 1);
		return j;
	}
	char *href = hend > hstart ? decode_text(s + hstart, hend - hstart, 1) : NULL;
	html_open(h, name, href);
	free(href);
	return j;
}

/* HTML (valid UTF-8) as markdown or plain text; *title gets the page's
 * <title> or NULL.  Both malloc'd. */
static char *html_to_text(const char *s, size_t n, int markdown, const char *base_url, char **title)
{
	struct html h = {.markdown = markdown, .limit = 4 * n + 65536};
	char *text;

	h.base = curl_url();
	if (h.base && curl_url_set(h.base, CURLUPART_URL, base_url, 0)) {
		curl_url_cleanup(h.base);
		h.base = NULL;
	}
	ise_sb_add(&h.out, "", 0);
	for (size_t i = 0; i < n;) {
		size_t k;
		unsigned long cp;
		if (s[i] == '<' && (k = html_markup(&h, s, n, i))) {
			i = k;
		} else if (s[i] == '\xc2' && i + 1 < n && s[i + 1] == '\xa0') { /* U+00A0 */
			html_char(&h, 0xa0);
			i += 2;
		} else if (s[i] == '&' && (k = entity(s + i, n - i, 0, &cp))) {
			html_char(&h, cp);
			i += k;
		} else {
			html_byte(&h, s[i]);
			i++;
		}
	}
	while (h.out.len > 0 && isspace((unsigned char)h.out.s[h.out.len - 1]))
		h.out.s[--h.out.len] = '\0';
	text = ise_sb_take(&h.out);
	free(h.href);
	curl_url_cleanup(h.base);
	if (h.title && !*h.title) {
		free(h.title);
		h.title = NULL;
	}
	*title = h.title;
	return text;
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
	double took = monotonic_ms() - t.started;
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
	charset_of(ctype, kind == KIND_HTML ? t.body.s : NULL, t.body.len, charset, sizeof charset);
	body = to_utf8(t.body.s ? t.body.s : "", t.body.len, charset, &len);
	if (kind == KIND_HTML) {
		text =
		    html_to_text(body, len, !strcmp(mode, "markdown"), final ? final : url, &title);
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
	text = decode_text(clean, n, 1);
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
	r->duration_ms = monotonic_ms() - t.started;
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
	if (!name_is(method, methods) || mv->valuestring[k]) {
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
	r->duration_ms = monotonic_ms() - t.started;
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
		charset_of(ctype, kind == KIND_HTML ? t.body.s : NULL, t.body.len, charset,
			   sizeof charset);
		char *text = to_utf8(t.body.s, t.body.len, charset, &len);
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
