/*
 * turn: the vocabulary of a trajectory that the loop, the simulated users
 * and the offline agent share: what a call did, a user turn, a decision,
 * a role's token usage, and an intent's persona.
 */
#include "sim/turn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/xalloc.h"

int ise_call_failed(const struct ise_call *c)
{
	return !c->ok || c->timed_out || c->signal ||
	       (!strcmp(c->name, "exec") && c->exit_code > 0);
}

/* What a call was about, in a few words: the command, the path, the URL. */
static char *gist(const struct ise_call *c)
{
	static const char *const keys[] = {"command", "path",   "url", "query",
					   "pattern", "action", "name"};
	cJSON *args = cJSON_Parse(c->args);
	const char *v = NULL;
	char *out;

	for (size_t i = 0; !v && cJSON_IsObject(args) && i < sizeof keys / sizeof *keys; i++)
		v = ise_json_string(args, keys[i]);
	if (!cJSON_IsObject(args)) {
		out = ise_xasprintf("%s (malformed arguments)", c->name);
	} else if (!v) {
		out = ise_xstrdup(c->name);
	} else {
		size_t n = strcspn(v, "\n");
		int cut = n > 80 || v[n];
		out = ise_xasprintf(!strcmp(c->name, "exec") ? "%s `%.*s%s`" : "%s %.*s%s", c->name,
				    (int)(n > 80 ? 80 : n), v, cut ? " ..." : "");
	}
	cJSON_Delete(args);
	return out;
}

void ise_call_key_line(const struct ise_call *c, const char **s, size_t *len)
{
	const char *line = c->content;

	*s = NULL, *len = 0;
	while (line && *line) {
		size_t n = strcspn(line, "\n"), lead = strspn(line, " \t");
		if (n > lead && strncmp(line + lead, "(Command", 8)) {
			*s = line + lead, *len = n - lead;
			if (!c->ok)
				return;
		}
		line = line[n] ? line + n + 1 : NULL;
	}
}

char *ise_call_digest(const struct ise_call *c)
{
	char *what = gist(c), *out, result[64];
	const char *line;
	size_t n;

	if (!c->ok)
		snprintf(result, sizeof result, "failed");
	else if (c->timed_out)
		snprintf(result, sizeof result, "timed out");
	else if (!strcmp(c->name, "exec") && c->exit_code >= 0)
		snprintf(result, sizeof result, "exit %d", c->exit_code);
	else if (!strcmp(c->name, "exec") && c->signal)
		snprintf(result, sizeof result, "killed");
	else if (!strcmp(c->name, "exec"))
		snprintf(result, sizeof result, "running in the background");
	else
		snprintf(result, sizeof result, "ok");
	ise_call_key_line(c, &line, &n);
	if (ise_call_failed(c) && line) {
		if (n > 120)
			n = 120;
		while (n && ((unsigned char)line[n] & 0xC0) == 0x80)
			n--;
		out = ise_xasprintf("%s -> %s: %.*s", what, result, (int)n, line);
	} else {
		out = ise_xasprintf("%s -> %s", what, result);
	}
	free(what);
	return out;
}

void ise_decision_release(struct ise_decision *d)
{
	free(d->query);
	free(d->reason);
	d->query = d->reason = NULL;
}

void ise_role_usage_add(struct ise_role_usage *u, const struct ise_llm_reply *r)
{
	u->requests++;
	u->prompt_tokens += r->prompt_tokens;
	u->completion_tokens += r->completion_tokens;
	u->estimated |= r->usage_estimated;
	if (!*u->model && r->model)
		snprintf(u->model, sizeof u->model, "%s", r->model);
}

const cJSON *ise_sim_persona(const cJSON *intent)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(intent, "persona");

	if (cJSON_IsObject(p))
		return p;
	p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(intent, "metadata"),
					     "persona");
	return cJSON_IsObject(p) ? p : NULL;
}
