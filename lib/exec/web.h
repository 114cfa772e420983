/*
 * web: the three network tools, web_fetch, web_search and http_request,
 * run with libcurl in this process (never in the sandbox), and their
 * configuration.
 *
 * Only http and https URLs are fetched, redirects are followed at most 5
 * times, every transfer has a time limit and a cap on the body, and
 * loopback, private and other non-public addresses are refused unless
 * allow_private is set.  A result's content and details are the caller's
 * (ise_tool_result_free).
 */
#ifndef ISE_WEB_H
#define ISE_WEB_H

#include <stddef.h>

#include <cJSON.h>

struct ise_tool_result;

struct ise_web_config {
	double timeout_s;       /* whole transfer, default 30 */
	size_t max_bytes;       /* body bytes read at most (after decoding), default 2 MiB */
	size_t max_chars;       /* text given to the agent by default, default 50,000 */
	int allow_private;      /* 1: loopback, private and link-local addresses allowed */
	const char *search_url; /* web_search endpoint (SearXNG JSON API), NULL: none */
	const char *user_agent; /* default "ise/VERSION" */
};

/* web_fetch web_search http_request.  Returns 0 when name is not one of these. */
int ise_web_tool(const struct ise_web_config *c, const char *name, const cJSON *args,
		 struct ise_tool_result *r);

#endif
