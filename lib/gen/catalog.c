#include "gen/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/embedded.h"
#include "core/jsondoc.h"
#include "core/xalloc.h"

static const char *slot_types[] = {"int", "number", "enum", "name", "date", "time"};

static const char *need_string(const struct ise_catalog *c, const char *what, const cJSON *obj,
			       const char *key)
{
	const char *s = ise_json_string(obj, key);

	if (!s || !*s)
		ise_die_bad_data(c->source, what, "missing string '%s'", key);
	return s;
}

static size_t find_name(const char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return n;
}

static int valid_date(const char *s)
{
	int y, m, d, n = 0;

	return sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 && m >= 1 && m <= 12 &&
	       d >= 1 && d <= 31;
}

static int valid_time(const char *s)
{
	int h, m, n = 0;

	return sscanf(s, "%2d:%2d%n", &h, &m, &n) == 2 && n == 5 && h >= 0 && h < 24 && m >= 0 &&
	       m < 60;
}

static void check_slot(const struct ise_catalog *c, const char *what, const cJSON *slot)
{
	const char *type = ise_json_string(slot, "type");
	size_t t = 0, ntypes = sizeof slot_types / sizeof *slot_types;

	if (!type || (t = find_name(slot_types, ntypes, type)) == ntypes)
		ise_die_bad_data(
		    c->source, what,
		    "slot '%s' has no known type (int, number, enum, name, date, time)",
		    slot->string);
	const cJSON *lo = cJSON_GetObjectItemCaseSensitive(slot, t <= 1 ? "min" : "from");
	const cJSON *hi = cJSON_GetObjectItemCaseSensitive(slot, t <= 1 ? "max" : "to");
	if (t <= 1 &&
	    (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) || lo->valuedouble > hi->valuedouble))
		ise_die_bad_data(c->source, what, "slot '%s' needs numbers min <= max",
				 slot->string);
	if (t == 2) {
		const cJSON *values = ise_json_array(slot, "values"), *v;
		if (!cJSON_GetArraySize(values))
			ise_die_bad_data(c->source, what,
					 "slot '%s' needs a non-empty array 'values'",
					 slot->string);
		cJSON_ArrayForEach(v, values)
			if (!cJSON_IsString(v) || !*v->valuestring)
				ise_die_bad_data(c->source, what,
						 "slot '%s' has a value that is not a string",
						 slot->string);
	}
	if (t >= 4) {
		int (*valid)(const char *) = t == 4 ? valid_date : valid_time;
		if (!cJSON_IsString(lo) || !cJSON_IsString(hi) || !valid(lo->valuestring) ||
		    !valid(hi->valuestring) || strcmp(lo->valuestring, hi->valuestring) > 0)
			ise_die_bad_data(c->source, what, "slot '%s' needs from <= to as %s",
					 slot->string, t == 4 ? "YYYY-MM-DD" : "HH:MM");
	}
}

/* Every {{name}} in the strings under node must be a declared slot. */
static void check_placeholders(const struct ise_catalog *c, const char *what, const cJSON *node,
			       const cJSON *slots)
{
	if (cJSON_IsString(node)) {
		for (const char *p = node->valuestring; (p = strstr(p, "{{")); p += 2) {
			const char *end = strstr(p + 2, "}}");
			char name[64];
			size_t n = end ? (size_t)(end - p - 2) : sizeof name;
			if (n >= sizeof name)
				ise_die_bad_data(c->source, what,
						 "unterminated or overlong placeholder in '%.40s'",
						 p);
			memcpy(name, p + 2, n);
			name[n] = '\0';
			if (!cJSON_GetObjectItemCaseSensitive(slots, name))
				ise_die_bad_data(c->source, what,
						 "placeholder '{{%s}}' names no slot", name);
		}
	}
	const cJSON *child;
	cJSON_ArrayForEach(child, node)
		check_placeholders(c, what, child, slots);
}

/* A path of the workspace a task's state names: relative, never above it. */
static int workspace_path(const char *p)
{
	if (!p || !*p || *p == '/')
		return 0;
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (!s[2] || s[2] == '/'))
			return 0;
	return 1;
}

/* The state a task's request names, which its setup must make: an array of
 * {path, holds?: [string]} and {branch, repo}. */
static void check_state(const struct ise_catalog *c, const char *what, const char *id,
			const cJSON *state)
{
	const cJSON *e, *h;

	if (!cJSON_IsArray(state))
		ise_die_bad_data(c->source, what, "task '%s': 'state' is not an array", id);
	cJSON_ArrayForEach(e, state) {
		const char *path = ise_json_string(e, "path"),
			   *branch = ise_json_string(e, "branch"),
			   *repo = ise_json_string(e, "repo");
		const cJSON *holds = cJSON_GetObjectItemCaseSensitive(e, "holds");
		int ok = path ? workspace_path(path) && !branch && !repo
			      : branch && *branch && workspace_path(repo) && !holds;
		if (holds && !cJSON_IsArray(holds))
			ok = 0;
		cJSON_ArrayForEach(h, holds)
			ok &= cJSON_IsString(h) && *h->valuestring;
		if (!ok)
			ise_die_bad_data(
			    c->source, what,
			    "task '%s': a 'state' entry is {path, holds?: [strings]} or "
			    "{branch, repo}, paths relative to the workspace",
			    id);
	}
}

/* The task environment: setup, a shell script (or absent), the state it
 * makes, and checks, an array of {what, command, timeout?}. */
static void check_environment(const struct ise_catalog *c, const char *what, const char *id,
			      const cJSON *t)
{
	const cJSON *setup = cJSON_GetObjectItemCaseSensitive(t, "setup");
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(t, "checks"), *check;

	if (setup && !cJSON_IsString(setup))
		ise_die_bad_data(c->source, what, "task '%s': 'setup' is not a string", id);
	if (cJSON_GetObjectItemCaseSensitive(t, "state"))
		check_state(c, what, id, cJSON_GetObjectItemCaseSensitive(t, "state"));
	if (checks && !cJSON_IsArray(checks))
		ise_die_bad_data(c->source, what, "task '%s': 'checks' is not an array", id);
	cJSON_ArrayForEach(check, checks) {
		const char *w = ise_json_string(check, "what"),
			   *cmd = ise_json_string(check, "command");
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(check, "timeout");
		if (!w || !*w || !cmd || !*cmd)
			ise_die_bad_data(c->source, what,
					 "task '%s': a check needs strings 'what' and 'command'",
					 id);
		if (to && (!cJSON_IsNumber(to) || !(to->valuedouble > 0 && to->valuedouble <= 600)))
			ise_die_bad_data(
			    c->source, what,
			    "task '%s': a check's 'timeout' is seconds, above 0, at most 600", id);
	}
}

static void load_tools(struct ise_catalog *c)
{
	const cJSON *tools = ise_json_array(c->root, "tools"), *spec;

	if (!cJSON_GetArraySize(tools))
		ise_die_bad_data(c->source, "tools", "missing or empty array");
	c->ntools = 0;
	c->tools = ise_xcalloc((size_t)cJSON_GetArraySize(tools), sizeof *c->tools);
	c->tool_names = ise_xcalloc((size_t)cJSON_GetArraySize(tools), sizeof *c->tool_names);
	cJSON_ArrayForEach(spec, tools) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(spec, "function");
		char what[64];
		snprintf(what, sizeof what, "tools[%zu]", c->ntools);
		const char *name = need_string(c, what, fn, "name");
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(fn, "parameters")))
			ise_die_bad_data(c->source, what, "tool '%s' has no 'parameters' object",
					 name);
		if (find_name(c->tool_names, c->ntools, name) < c->ntools)
			ise_die_bad_data(c->source, what, "duplicate tool '%s'", name);
		c->tools[c->ntools] = spec;
		c->tool_names[c->ntools++] = name;
	}
}

static void load_domains(struct ise_catalog *c)
{
	const cJSON *domains = ise_json_array(c->root, "domains"), *d;

	if (!cJSON_GetArraySize(domains))
		ise_die_bad_data(c->source, "domains", "missing or empty array");
	c->domains = ise_xcalloc((size_t)cJSON_GetArraySize(domains), sizeof *c->domains);
	cJSON_ArrayForEach(d, domains) {
		struct ise_domain *dom = &c->domains[c->ndomains];
		char what[64];
		snprintf(what, sizeof what, "domains[%zu]", c->ndomains);
		dom->id = need_string(c, what, d, "id");
		dom->name = need_string(c, what, d, "name");
		dom->description = need_string(c, what, d, "description");
		if (ise_catalog_domain(c, dom->id))
			ise_die_bad_data(c->source, what, "duplicate domain id '%s'", dom->id);
		c->ndomains++;
	}
}

static void load_task(struct ise_catalog *c, const cJSON *t, const char *what)
{
	struct ise_task *task = &c->tasks[c->ntasks];
	const cJSON *tools, *tool, *slots, *slot, *plan, *step;

	task->json = t;
	task->id = need_string(c, what, t, "id");
	task->name = need_string(c, what, t, "name");
	task->description = need_string(c, what, t, "description");
	need_string(c, what, t, "request");
	if (ise_catalog_task(c, task->id))
		ise_die_bad_data(c->source, what, "duplicate task id '%s'", task->id);
	const char *domain = need_string(c, what, t, "domain");
	const struct ise_domain *dom = ise_catalog_domain(c, domain);
	if (!dom)
		ise_die_bad_data(c->source, what, "task '%s' is in unknown domain '%s'", task->id,
				 domain);
	task->domain = (size_t)(dom - c->domains);
	if (!cJSON_GetArraySize(tools = ise_json_array(t, "tools")))
		ise_die_bad_data(c->source, what, "task '%s' names no tools", task->id);
	task->tools = ise_xcalloc((size_t)cJSON_GetArraySize(tools), sizeof *task->tools);
	cJSON_ArrayForEach(tool, tools) {
		if (!cJSON_IsString(tool) ||
		    find_name(c->tool_names, c->ntools, tool->valuestring) == c->ntools)
			ise_die_bad_data(
			    c->source, what, "task '%s' names unknown tool '%s'", task->id,
			    cJSON_IsString(tool) ? tool->valuestring : "(not a string)");
		if (find_name(task->tools, task->ntools, tool->valuestring) < task->ntools)
			ise_die_bad_data(c->source, what, "task '%s' names tool '%s' twice",
					 task->id, tool->valuestring);
		task->tools[task->ntools++] = tool->valuestring;
	}
	slots = cJSON_GetObjectItemCaseSensitive(t, "slots");
	if (slots && !cJSON_IsObject(slots))
		ise_die_bad_data(c->source, what, "task '%s': 'slots' is not an object", task->id);
	cJSON_ArrayForEach(slot, slots)
		check_slot(c, what, slot);
	plan = cJSON_GetObjectItemCaseSensitive(t, "plan");
	if (!cJSON_GetArraySize(plan) || !cJSON_IsArray(plan))
		ise_die_bad_data(c->source, what, "task '%s' has no plan", task->id);
	cJSON_ArrayForEach(step, plan) {
		const char *name = ise_json_string(step, "tool");
		if (!name || find_name(task->tools, task->ntools, name) == task->ntools)
			ise_die_bad_data(
			    c->source, what,
			    "task '%s': plan step uses tool '%s' the task does not name", task->id,
			    name ? name : "(none)");
		if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(step, "args")))
			ise_die_bad_data(c->source, what,
					 "task '%s': plan step has no 'args' object", task->id);
	}
	check_environment(c, what, task->id, t);
	check_placeholders(c, what, t, slots);
	c->ntasks++;
}

void ise_catalog_load(struct ise_catalog *c, const char *path)
{
	const cJSON *tasks, *t;

	memset(c, 0, sizeof *c);
	c->source = path ? path : "built-in catalog";
	c->root = ise_jsondoc_load(path, ise_data_catalog, ise_data_catalog_len, c->source);
	load_tools(c);
	load_domains(c);
	if (!cJSON_GetArraySize(tasks = ise_json_array(c->root, "tasks")))
		ise_die_bad_data(c->source, "tasks", "missing or empty array");
	c->tasks = ise_xcalloc((size_t)cJSON_GetArraySize(tasks), sizeof *c->tasks);
	cJSON_ArrayForEach(t, tasks) {
		char what[64];
		snprintf(what, sizeof what, "tasks[%zu]", c->ntasks);
		load_task(c, t, what);
	}
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ise_domain *d = &c->domains[c->tasks[i].domain];
		d->tasks = ise_xrealloc(d->tasks, (d->ntasks + 1) * sizeof *d->tasks);
		d->tasks[d->ntasks++] = i;
	}
	for (size_t i = 0; i < c->ndomains; i++)
		if (!c->domains[i].ntasks)
			ise_die_bad_data(c->source, "domains", "domain '%s' has no tasks",
					 c->domains[i].id);
}

void ise_catalog_release(struct ise_catalog *c)
{
	for (size_t i = 0; i < c->ndomains; i++)
		free(c->domains[i].tasks);
	for (size_t i = 0; i < c->ntasks; i++)
		free(c->tasks[i].tools);
	free(c->domains);
	free(c->tasks);
	free(c->tools);
	free(c->tool_names);
	cJSON_Delete(c->root);
	memset(c, 0, sizeof *c);
}

const struct ise_task *ise_catalog_task(const struct ise_catalog *c, const char *id)
{
	for (size_t i = 0; i < c->ntasks; i++)
		if (!strcmp(c->tasks[i].id, id))
			return &c->tasks[i];
	return NULL;
}

const struct ise_domain *ise_catalog_domain(const struct ise_catalog *c, const char *id)
{
	for (size_t i = 0; i < c->ndomains; i++)
		if (!strcmp(c->domains[i].id, id))
			return &c->domains[i];
	return NULL;
}
