/*
 * render_llm: the LLM engine's request, the chat messages that ask a model
 * for a tuple's intent (see render_llm.h).
 */
#include "gen/render_llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "gen/register.h"
#include "gen/render_int.h"
#include "gen/slots.h"
#include "core/strbuf.h"
#include "core/template.h"
#include "core/xalloc.h"

/* ---- chat messages for the LLM renderer ---- */

static const char *const register_text[4] = {
    [ISE_JUNIOR] = "You are early in your career: give some context and the reason behind the "
		   "request, be polite, and spell out what you need without assuming the reader "
		   "shares your expertise.",
    [ISE_MID] = "Give enough context for a capable colleague, be courteous, and state the goal "
		"plainly.",
    [ISE_SENIOR] = "Be brief and direct: assume the reader knows the domain, skip background and "
		   "pleasantries, and state exactly what you need.",
    [ISE_EXEC] = "Lead with the outcome you need and why it matters, keep it brief, and leave the "
		 "technical steps implied but clear.",
};

static const char *const style_text[ISE_NFAMILIES] = {
    [ISE_ANALYTICAL] = "Analytical: precise and structured, numbers first, steps in a clear order.",
    [ISE_COLLABORATIVE] =
	"Collaborative: warm and inclusive, frames the work as shared (\"let's\", "
	"\"could we\").",
    [ISE_CREATIVE] = "Creative: lively and imaginative wording, but every figure stays exact.",
    [ISE_DIRECT] = "Direct: short sentences, imperatives, no filler.",
    [ISE_FORMAL] = "Formal: courteous, complete sentences, no contractions or slang.",
    [ISE_CASUAL] = "Casual: relaxed and friendly, contractions and informal connectives.",
};

static char *task_list(const struct scene *s, int checks)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(s->tuple, "tasks"), *task;
	struct ise_strbuf t = {0};
	int i = 0;

	cJSON_ArrayForEach(task, tasks) {
		const cJSON *ct = ise_render_catalog_task(s, task);
		const cJSON *values =
		    cJSON_GetObjectItemCaseSensitive(s->params, ise_render_str(task, "id"));
		const char *name = ise_render_str(task, "name") ? ise_render_str(task, "name")
								: ise_render_str(ct, "name");
		const char *desc = ise_render_str(task, "description")
				       ? ise_render_str(task, "description")
				       : ise_render_str(ct, "description");
		const char *clause_text =
		    ct ? ise_render_str(ct, checks ? "verify" : "request") : NULL;
		if (checks && !clause_text)
			continue;
		if (t.len)
			ise_sb_puts(&t, "\n");
		ise_sb_printf(&t, checks ? "- " : "%d. ", ++i);
		if (!checks) {
			ise_sb_puts(&t, name ? name : "Task");
			ise_sb_puts(&t, " \xe2\x80\x94 ");
			ise_sb_puts(&t, desc ? desc : "");
			if (clause_text)
				ise_sb_puts(&t, " \xe2\x80\x94 ");
		}
		if (clause_text) {
			char *filled = ise_slots_expand(clause_text, values);
			ise_sb_puts(&t, filled);
			free(filled);
		}
	}
	return ise_sb_take(&t);
}

static cJSON *message(const char *role, char *content)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !cJSON_AddStringToObject(m, "role", role) ||
	    !cJSON_AddStringToObject(m, "content", content))
		ise_fatal("out of memory");
	free(content);
	return m;
}

cJSON *ise_render_messages(const char *prompt_template, const cJSON *tuple,
			   const struct ise_catalog *c, const cJSON *params, unsigned min_words,
			   unsigned max_words)
{
	struct scene s = {.tuple = tuple,
			  .persona = cJSON_GetObjectItemCaseSensitive(tuple, "persona"),
			  .params = params,
			  .catalog = c};
	const cJSON *p = s.persona;
	cJSON *vars = cJSON_CreateObject(), *out = cJSON_CreateArray();
	char num[32];

	if (!vars || !out)
		ise_fatal("out of memory");
	s.level = ise_register_level(ise_render_str(p, "experience_level"));
	s.family = ise_register_family(p);
	ise_template_var(vars, "persona.name", ise_render_str(p, "name"), "unnamed");
	ise_template_var(vars, "persona.role", ise_render_str(p, "role"), "professional");
	ise_template_var(vars, "persona.industry", ise_render_str(p, "industry"), "unspecified");
	ise_template_var(vars, "persona.experience_level", ise_render_str(p, "experience_level"),
			 "Mid-level");
	ise_template_var(vars, "persona.communication_style",
			 ise_render_str(p, "communication_style"), ise_family_name(s.family));
	ise_template_var(vars, "persona.style_family", ise_family_name(s.family), "");
	ise_template_var(vars, "persona.work_context", ise_render_str(p, "work_context"),
			 "unspecified");
	char *list = ise_json_join(cJSON_GetObjectItemCaseSensitive(p, "expertise"), ", ");
	ise_template_var(vars, "persona.expertise", list, "unspecified");
	free(list);
	list = ise_json_join(cJSON_GetObjectItemCaseSensitive(p, "common_goals"), "; ");
	ise_template_var(vars, "persona.goals", list, "unspecified");
	free(list);
	ise_template_var(vars, "complexity", ise_render_str(tuple, "complexity"), "medium");
	snprintf(num, sizeof num, "%d",
		 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tuple, "tasks")));
	ise_template_var(vars, "ntasks", num, "0");
	list = task_list(&s, 0);
	ise_template_var(vars, "tasks", list, "");
	free(list);
	list = task_list(&s, 1);
	ise_template_var(vars, "checks", list, "");
	const char *cx =
	    ise_render_str(tuple, "complexity") ? ise_render_str(tuple, "complexity") : "medium";
	char *rule =
	    !strcmp(cx, "simple")
		? ise_xstrdup("Keep to the tasks and the deliverable; add no extra conditions.")
	    : !strcmp(cx, "complex")
		? ise_render_joined(
		      "Add one practical constraint, and at the end ask for one or two of "
		      "these checks in your own words:\n",
		      list, "")
		: ise_xstrdup("Add one practical constraint, such as checking each step "
			      "before the next, keeping the scripts, or using only the values "
			      "given.");
	ise_template_var(vars, "complexity_rule", rule, "");
	free(rule);
	free(list);
	ise_template_var(vars, "register", register_text[s.level], "");
	ise_template_var(vars, "style", style_text[s.family], "");
	snprintf(num, sizeof num, "%u", min_words);
	ise_template_var(vars, "min_words", num, "0");
	snprintf(num, sizeof num, "%u", max_words);
	ise_template_var(vars, "max_words", num, "0");

	char *system, *user;
	ise_template_split(prompt_template, vars, &system, &user);
	if (system)
		cJSON_AddItemToArray(out, message("system", system));
	cJSON_AddItemToArray(out, message("user", user));
	cJSON_Delete(vars);
	return out;
}
