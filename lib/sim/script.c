/*
 * script: the offline engine's script for one trajectory: the intent's
 * tasks with their requests and plans filled from the slot values, and the
 * place the user and the agent have reached in it.
 */
#include "sim/script.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsondoc.h"
#include "core/rng.h"
#include "core/xalloc.h"
#include "gen/brief.h"
#include "gen/slots.h"
#include "sim/turn.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int ise_script_network_tool(const char *name)
{
	return !strcmp(name, "web_fetch") || !strcmp(name, "web_search") ||
	       !strcmp(name, "http_request");
}

/* ---- the script: tasks with filled requests and plans ---- */

static const struct ise_task *by_name(const struct ise_catalog *c, const char *name)
{
	for (size_t i = 0; name && i < c->ntasks; i++)
		if (!strcasecmp(c->tasks[i].name, name))
			return &c->tasks[i];
	return NULL;
}

static char *lower_first(const char *s)
{
	char *d = ise_xstrdup(s);

	if (d[0] >= 'A' && d[0] <= 'Z' && !(d[1] >= 'A' && d[1] <= 'Z'))
		d[0] = (char)(d[0] - 'A' + 'a');
	size_t n = strlen(d);
	while (n && (d[n - 1] == '.' || isspace((unsigned char)d[n - 1])))
		d[--n] = '\0';
	return d;
}

static void add_task(struct ise_script *o, const struct ise_task *ct, const char *name,
		     const char *description, const cJSON *task_params, gsl_rng *r)
{
	struct ise_offline_task *t = &o->tasks[o->ntasks++];

	memset(t, 0, sizeof *t);
	if (!ct) { /* not in the catalog: asked for by its description */
		t->name = name ? name : "the task";
		t->request = lower_first(description ? description : t->name);
		t->brief = ise_xstrdup(t->request);
		return;
	}
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(task_params, ct->id);
	cJSON *values =
	    cJSON_IsObject(given) ? cJSON_Duplicate(given, 1) : ise_slots_fill(ct->json, r);
	const char *setup = ise_json_string(ct->json, "setup");
	t->id = ct->id;
	t->given = cJSON_IsObject(given);
	t->setup = setup ? ise_slots_expand(setup, values) : NULL;
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(ct->json, "state");
	t->state = state ? ise_slots_expand_json(state, values) : NULL;
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(ct->json, "checks");
	t->checks = checks ? ise_slots_expand_json(checks, values) : NULL;
	const char *brief = ise_task_brief(ct->json);
	const char *verify = ise_json_string(ct->json, "verify");
	t->name = ct->name;
	t->request =
	    ise_slots_expand(ise_json_string_or(ct->json, "request", ct->description), values);
	t->brief = ise_slots_expand(
	    brief ? brief : ise_json_string_or(ct->json, "request", ct->description), values);
	t->verify = verify ? ise_slots_expand(verify, values) : NULL;
	t->plan = ise_slots_expand_json(cJSON_GetObjectItemCaseSensitive(ct->json, "plan"), values);
	cJSON_Delete(values);
}

/* The reference pipeline's intents name their tasks in metadata.domains. */
static size_t reference_tasks(const cJSON *intent, const cJSON **out, size_t max)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(intent, "metadata");
	const cJSON *domain, *task;
	size_t n = 0;

	cJSON_ArrayForEach(domain, cJSON_GetObjectItemCaseSensitive(meta, "domains"))
		cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(domain, "selected_tasks"))
			if (n < max && cJSON_IsObject(task))
				out[n++] = task;
	return n;
}

struct ise_script *ise_script_new(const cJSON *intent, const struct ise_catalog *c, uint64_t seed,
				  const char **why)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(intent, "tasks"), *task;
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(intent, "task_params");
	const cJSON *persona = ise_sim_persona(intent);
	const cJSON *refs[64];
	size_t nrefs = reference_tasks(intent, refs, COUNT(refs));
	size_t ntasks = (size_t)cJSON_GetArraySize(tasks), known = 0;

	cJSON_ArrayForEach(task, tasks) {
		const char *id =
		    cJSON_IsString(task) ? task->valuestring : ise_json_string(task, "id");
		known += id && ise_catalog_task(c, id);
	}
	if (!ntasks && !nrefs) {
		*why = "the offline engine needs tasks: no 'tasks' array and no metadata.domains "
		       "with selected_tasks";
		return NULL;
	}
	struct ise_script *o = ise_xcalloc(1, sizeof *o);
	o->rng = ise_rng_new();
	ise_rng_seed_key(o->rng, seed, ise_json_string_or(intent, "id", ""));
	/* ids we do not know (the reference pipeline's UUIDs): use the names */
	int use_refs = known < ntasks && nrefs;
	o->tasks = ise_xcalloc(use_refs ? nrefs : ntasks, sizeof *o->tasks);
	if (use_refs) {
		for (size_t i = 0; i < nrefs; i++) {
			const char *name = ise_json_string(refs[i], "name");
			add_task(o, by_name(c, name), name, ise_json_string(refs[i], "description"),
				 params, o->rng);
		}
	} else {
		cJSON_ArrayForEach(task, tasks) {
			const char *id =
			    cJSON_IsString(task) ? task->valuestring : ise_json_string(task, "id");
			const struct ise_task *ct = id ? ise_catalog_task(c, id) : NULL;
			const char *name = ise_json_string(task, "name");
			add_task(o, ct ? ct : by_name(c, name), name ? name : id,
				 ise_json_string(task, "description"), params, o->rng);
		}
	}
	o->level = ise_register_level(ise_json_string(persona, "experience_level"));
	o->family = ise_register_family(persona);
	const char *full = ise_json_string_or(persona, "name", "Alex");
	size_t n = strcspn(full, " ");
	o->first_name = ise_xmalloc(n + 1);
	memcpy(o->first_name, full, n);
	o->first_name[n] = '\0';
	o->role = ise_xstrdup(ise_json_string_or(persona, "role", "analyst"));
	o->written = ise_json_checked(cJSON_CreateArray());
	return o;
}

void ise_script_free(struct ise_script *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->ntasks; i++) {
		free(o->tasks[i].request);
		free(o->tasks[i].brief);
		free(o->tasks[i].verify);
		free(o->tasks[i].problem);
		free(o->tasks[i].setup);
		cJSON_Delete(o->tasks[i].plan);
		cJSON_Delete(o->tasks[i].checks);
		cJSON_Delete(o->tasks[i].state);
	}
	free(o->tasks);
	free(o->first_name);
	free(o->role);
	cJSON_Delete(o->steps);
	cJSON_Delete(o->retry);
	cJSON_Delete(o->written);
	gsl_rng_free(o->rng);
	free(o);
}
