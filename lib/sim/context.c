/*
 * context: the agent's requests kept inside the context window by cutting
 * the oldest tool outputs (see context.h).
 */
#include "sim/context.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/xalloc.h"

/* Characters a token takes before the server has counted any: English
 * prose takes about 4, JSON and code fewer; too few overestimates, which
 * cuts early rather than overflow. */
#define FIRST_CHARS_PER_TOKEN 3.0
/* Tokens the chat template adds around each message. */
#define TOKENS_PER_MESSAGE 4
/* A cut frees the window down to this share of it. */
#define LOW_WATER 0.75

void ise_context_init(struct ise_context *c, long window, const char *source, long reserve)
{
	memset(c, 0, sizeof *c);
	c->window = window > 0 ? window : 0;
	c->source = window > 0 ? source : NULL;
	c->reserve = reserve > 0 ? reserve : 0;
	c->chars_per_token = FIRST_CHARS_PER_TOKEN;
	c->elided = ise_json_checked(cJSON_CreateArray());
}

void ise_context_release(struct ise_context *c)
{
	free(c->cut);
	cJSON_Delete(c->elided);
	memset(c, 0, sizeof *c);
}

static size_t json_chars(const cJSON *j)
{
	char *text = j ? cJSON_PrintUnformatted(j) : NULL;
	size_t n = text ? strlen(text) : 0;

	cJSON_free(text);
	return n;
}

static long tokens(const struct ise_context *c, size_t chars, int nmessages)
{
	return (long)ceil((double)chars / c->chars_per_token) + TOKENS_PER_MESSAGE * nmessages +
	       c->reserve;
}

static size_t lines_of(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p; p++)
		n += *p == '\n';
	return n + (*s && s[strlen(s) - 1] != '\n');
}

/* Replace message m's content by the marker that says what was there. */
static void cut_one(cJSON *m, size_t *chars, size_t *lines)
{
	const char *content = ise_json_string_or(m, "content", "");
	char marker[256];

	*chars = strlen(content);
	*lines = lines_of(content);
	snprintf(marker, sizeof marker,
		 "[ise: this tool output (%zu characters, %zu lines) was cut to fit the model's "
		 "context window]",
		 *chars, *lines);
	cJSON_ReplaceItemInObjectCaseSensitive(m, "content",
					       ise_json_checked(cJSON_CreateString(marker)));
}

static int is_tool(const cJSON *m)
{
	return !strcmp(ise_json_string_or(m, "role", ""), "tool");
}

/* The first message of the last ISE_CONTEXT_KEEP_TURNS user turns: what
 * comes from it on is never cut. */
static int protected_from(const cJSON *messages)
{
	int n = cJSON_GetArraySize(messages), users = 0;

	for (int i = n - 1; i >= 0; i--)
		if (!strcmp(ise_json_string_or(cJSON_GetArrayItem(messages, i), "role", ""),
			    "user") &&
		    ++users == ISE_CONTEXT_KEEP_TURNS)
			return i;
	return 0;
}

static void mark_cut(struct ise_context *c, size_t i)
{
	size_t old = c->ncut;

	if (i >= c->ncut) {
		ise_xgrow((void **)&c->cut, &c->ncut, i + 1, 1);
		memset(c->cut + old, 0, c->ncut - old);
	}
	c->cut[i] = 1;
}

int ise_context_fit(struct ise_context *c, cJSON *messages, const cJSON *tools,
		    unsigned long request, size_t *chars, char *err, size_t errlen)
{
	int n = cJSON_GetArraySize(messages), i = 0;
	cJSON *m;
	size_t bytes, lines;

	cJSON_ArrayForEach(m, messages) {
		if ((size_t)i < c->ncut && c->cut[i])
			cut_one(m, &bytes, &lines);
		i++;
	}
	size_t tools_chars = json_chars(tools);
	*chars = json_chars(messages) + tools_chars;
	if (!c->window || tokens(c, *chars, n) <= c->window)
		return 0;
	/* cut the oldest outputs outside the last turns, to the low water */
	int keep = protected_from(messages), changed = 0;
	double target = LOW_WATER * (double)c->window;
	i = 0;
	cJSON_ArrayForEach(m, messages) {
		if (i >= keep || (double)tokens(c, *chars, n) <= target)
			break;
		if (is_tool(m) && !((size_t)i < c->ncut && c->cut[i])) {
			cut_one(m, &bytes, &lines);
			mark_cut(c, (size_t)i);
			changed = 1;
			cJSON *e = ise_json_checked(cJSON_CreateObject());
			ise_json_add(e, "message", cJSON_CreateNumber(i));
			ise_json_add(e, "chars", cJSON_CreateNumber((double)bytes));
			ise_json_add(e, "lines", cJSON_CreateNumber((double)lines));
			ise_json_add(e, "request", cJSON_CreateNumber((double)request));
			ise_json_add(c->elided, NULL, e);
			*chars = json_chars(messages) + tools_chars;
		}
		i++;
	}
	c->prefix_changes += (unsigned long)changed;
	long need = tokens(c, *chars, n);
	if (need <= c->window)
		return 0;
	ise_errf(err, errlen,
		 "the agent's request needs about %ld tokens (%ld of them for the reply) with "
		 "every older tool output cut, over the context window of %ld (%s)",
		 need, c->reserve, c->window, c->source ? c->source : "?");
	return -1;
}

int ise_context_over(const struct ise_context *c, const cJSON *messages, size_t extra, int low,
		     size_t *chars)
{
	*chars = json_chars(messages);
	return c->window && (double)tokens(c, *chars + extra, cJSON_GetArraySize(messages) + 2) >
				(low ? LOW_WATER : 1.0) * (double)c->window;
}

void ise_context_learn(struct ise_context *c, long prompt_tokens, size_t chars)
{
	if (prompt_tokens <= 0 || !chars)
		return;
	double cpt = (double)chars / (double)prompt_tokens;
	c->chars_per_token = cpt < 1 ? 1 : cpt > 8 ? 8 : cpt;
}

int ise_context_refused(struct ise_context *c, long window, long prompt, size_t chars)
{
	int learnt = 0;

	if (window > 0 && (!c->window || window < c->window)) {
		c->window = window;
		c->source = "the server's error";
		learnt = 1;
	}
	if (prompt > 0 && chars) {
		double cpt = (double)chars / (double)prompt;
		if (cpt < c->chars_per_token) {
			c->chars_per_token = cpt < 1 ? 1 : cpt;
			learnt = 1;
		}
	}
	return learnt && c->window > 0;
}

cJSON *ise_context_record(const struct ise_context *c)
{
	cJSON *o = ise_json_checked(cJSON_CreateObject());

	ise_json_add(o, "window",
		     c->window ? cJSON_CreateNumber((double)c->window) : cJSON_CreateNull());
	ise_json_add(o, "source", c->source ? cJSON_CreateString(c->source) : cJSON_CreateNull());
	ise_json_add(o, "elided", cJSON_Duplicate(c->elided, 1));
	ise_json_add(o, "prefix_changes", cJSON_CreateNumber((double)c->prefix_changes));
	return o;
}
