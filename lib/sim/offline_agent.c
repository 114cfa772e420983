/*
 * offline_agent: the agent's side of the offline engine's script.
 */
#include "sim/offline_agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#define BATCH     4   /* writes sent together in one message at most */
#define QUOTE_MAX 160 /* bytes of output quoted per call in the report */

static cJSON *step(const char *tool, cJSON *args)
{
	cJSON *s = ise_json_checked(cJSON_CreateObject());

	ise_json_add(s, "tool", cJSON_CreateString(tool));
	ise_json_add(s, "args", args);
	return s;
}

static cJSON *args1(const char *key, const char *value)
{
	cJSON *a = ise_json_checked(cJSON_CreateObject());

	ise_json_add(a, key, cJSON_CreateString(value));
	return a;
}

/* A task the catalog does not know: note it down, honestly. */
static cJSON *notes_plan(const struct ise_offline_task *t, size_t index)
{
	cJSON *plan = ise_json_checked(cJSON_CreateArray());
	char *path = ise_xasprintf("notes/task-%zu.md", index + 1);
	char *text = ise_xasprintf("# %s\n\nRequest: %s\n\nStatus: not done; this workspace has "
				   "no way to carry it out.\n",
				   t->name, t->request);
	cJSON *w = ise_json_checked(cJSON_CreateObject());
	ise_json_add(w, "path", cJSON_CreateString(path));
	ise_json_add(w, "content", cJSON_CreateString(text));
	ise_json_add(plan, NULL, step("write", w));
	char *cmd = ise_xasprintf("wc -l %s", path);
	ise_json_add(plan, NULL, step("exec", args1("command", cmd)));
	free(cmd);
	free(path);
	free(text);
	return plan;
}

static cJSON *check_plan(const struct ise_script *o)
{
	cJSON *plan = ise_json_checked(cJSON_CreateArray());
	int n = cJSON_GetArraySize(o->written);

	ise_json_add(
	    plan, NULL,
	    step("exec", args1("command", "find . -type f ! -path '*/.*' | sort | head -n 40")));
	if (n) {
		cJSON *a = args1("path", cJSON_GetArrayItem(o->written, n - 1)->valuestring);
		ise_json_add(a, "limit", cJSON_CreateNumber(20));
		ise_json_add(plan, NULL, step("read", a));
	}
	return plan;
}

static void prepare(struct ise_script *o)
{
	const struct ise_offline_task *t = &o->tasks[o->task];

	cJSON_Delete(o->steps);
	if (o->ask == ISE_ASK_CHECK)
		o->steps = check_plan(o);
	else if (o->ask == ISE_ASK_REPAIR && cJSON_GetArraySize(o->retry))
		o->steps = cJSON_Duplicate(o->retry, 1);
	else if (t->plan)
		o->steps = cJSON_Duplicate(t->plan, 1);
	else
		o->steps = notes_plan(t, o->task);
	ise_json_checked(o->steps);
	o->next = 0;
}

static cJSON *call(struct ise_script *o, const cJSON *s)
{
	cJSON *c = ise_json_checked(cJSON_CreateObject()),
	      *f = ise_json_checked(cJSON_CreateObject());
	char id[48];
	char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(s, "args"));

	snprintf(id, sizeof id, "call_%u_%u", o->turn, ++o->ncall);
	ise_json_add(c, "id", cJSON_CreateString(id));
	ise_json_add(c, "type", cJSON_CreateString("function"));
	ise_json_add(f, "name", cJSON_CreateString(ise_json_string_or(s, "tool", "")));
	ise_json_add(f, "arguments", cJSON_CreateString(args ? args : "{}"));
	ise_json_add(c, "function", f);
	cJSON_free(args);
	return c;
}

/* The output a report quotes: the line that says most. */
static void quote(struct ise_strbuf *t, const struct ise_call *c)
{
	const char *best;
	size_t best_n;

	ise_call_key_line(c, &best, &best_n);
	if (!best)
		return;
	if (best_n > QUOTE_MAX) {
		best_n = QUOTE_MAX;
		while (best_n && ((unsigned char)best[best_n] & 0xC0) == 0x80)
			best_n--;
	}
	ise_sb_printf(t, ": %.*s", (int)best_n, best);
}

static void report_call(struct ise_strbuf *t, const struct ise_call *c)
{
	char *digest = ise_call_digest(c);
	ise_sb_puts(t, "\n- ");
	ise_sb_puts(t, digest);
	free(digest);
	if (!strcmp(c->name, "exec") && !ise_call_failed(c) && strcmp(c->content, "(no output)"))
		quote(t, c);
}

/* Remember what this turn wrote (for the check) and what failed (for a repair). */
static void take_stock(struct ise_script *o, const struct ise_turn *turn, int *hard, int *network)
{
	*hard = *network = 0;
	cJSON_Delete(o->retry);
	o->retry = ise_json_checked(cJSON_CreateArray());
	for (size_t i = 0; i < turn->ncalls; i++) {
		const struct ise_call *c = &turn->calls[i];
		cJSON *args = cJSON_Parse(c->args);
		const char *path = ise_json_string(args, "path");
		if (ise_call_failed(c)) {
			if (ise_script_network_tool(c->name)) {
				(*network)++;
				cJSON_Delete(args);
				continue;
			}
			(*hard)++;
			ise_json_add(
			    o->retry, NULL,
			    step(c->name, args ? args : ise_json_checked(cJSON_CreateObject())));
			continue;
		}
		if (path && (!strcmp(c->name, "write") || !strcmp(c->name, "edit"))) {
			const cJSON *p;
			int seen = 0;
			cJSON_ArrayForEach(p, o->written)
				seen |= !strcmp(p->valuestring, path);
			if (!seen)
				ise_json_add(o->written, NULL, cJSON_CreateString(path));
		}
		cJSON_Delete(args);
	}
}

static char *report(struct ise_script *o, const struct ise_turn *turn)
{
	const struct ise_offline_task *t = &o->tasks[o->task];
	struct ise_strbuf r = {0};
	int hard, network;

	take_stock(o, turn, &hard, &network);
	char *head =
	    o->ask == ISE_ASK_CHECK ? ise_xstrdup("Here is the check of the workspace:")
	    : !t->plan ? ise_xasprintf("I have no way to do \"%s\" in this workspace, so I "
				       "wrote the request down instead:",
				       t->name)
	    : hard ? ise_xasprintf("\"%s\": %d of %zu steps failed.", t->name, hard, turn->ncalls)
	    : o->ask == ISE_ASK_REPAIR
		? ise_xasprintf("I ran the failed steps of \"%s\" again:", t->name)
		: ise_xasprintf("Done: \"%s\".", t->name);
	ise_sb_puts(&r, head);
	free(head);
	for (size_t i = 0; i < turn->ncalls; i++)
		report_call(&r, &turn->calls[i]);
	if (hard)
		ise_sb_puts(&r, "\nThe failed steps need a fix before this part is complete.");
	else if (network)
		ise_sb_puts(
		    &r, "\nThe network is not reachable from this workspace, so I used the values "
			"you gave instead.");
	return ise_sb_take(&r);
}

void ise_offline_agent(struct ise_script *o, const struct ise_turn *turn, char **content,
		       cJSON **tool_calls)
{
	*content = NULL;
	*tool_calls = NULL;
	if (!o->steps)
		prepare(o);
	int n = cJSON_GetArraySize(o->steps);
	if (o->next >= n) {
		*content = report(o, turn);
		return;
	}
	cJSON *calls = ise_json_checked(cJSON_CreateArray());
	const cJSON *s = cJSON_GetArrayItem(o->steps, o->next++);
	ise_json_add(calls, NULL, call(o, s));
	/* consecutive writes do not depend on each other: send them together */
	while (!strcmp(ise_json_string_or(s, "tool", ""), "write") && o->next < n &&
	       cJSON_GetArraySize(calls) < BATCH) {
		const cJSON *more = cJSON_GetArrayItem(o->steps, o->next);
		if (strcmp(ise_json_string_or(more, "tool", ""), "write"))
			break;
		ise_json_add(calls, NULL, call(o, more));
		o->next++;
	}
	*tool_calls = calls;
}
