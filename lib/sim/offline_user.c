/*
 * offline_user: the script of the offline engine, and its user's side.
 */
#include "sim/offline.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gen/brief.h"
#include "core/jsondoc.h"
#include "core/rng.h"
#include "gen/slots.h"
#include "core/xalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int ise_offline_network_tool(const char *name)
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

static void add_task(struct ise_offline *o, const struct ise_task *ct, const char *name,
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

struct ise_offline *ise_offline_new(const cJSON *intent, const struct ise_catalog *c, uint64_t seed,
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
	struct ise_offline *o = ise_xcalloc(1, sizeof *o);
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

void ise_offline_free(struct ise_offline *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->ntasks; i++) {
		free(o->tasks[i].request);
		free(o->tasks[i].brief);
		free(o->tasks[i].verify);
		free(o->tasks[i].problem);
		cJSON_Delete(o->tasks[i].plan);
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

/* ---- the user's words ---- */

static const char *pick2(struct ise_offline *o, const char *const pair[2])
{
	return pair[gsl_rng_uniform_int(o->rng, 2)];
}

static const char *const greetings[ISE_NFAMILIES] = {"", "Hi! ",           "Hello! ",
						     "", "Good morning. ", "Hey! "};
static const char *const opens[ISE_NFAMILIES][2] = {
    {"Step one: %s.", "Let's go in order. First, %s."},
    {"Let's start with the first piece: could you %s?", "Could we begin with this: %s?"},
    {"First up: %s.", "Let's kick things off: %s."},
    {"%s.", "First, %s."},
    {"To begin, please %s.", "Please begin with the following: %s."},
    {"Can you %s for me?", "First thing, could you %s?"},
};
static const char *const acks[ISE_NFAMILIES][2] = {
    {"Noted. ", "Good, that is in place. "},          {"Great, thanks! ", "Nice work, thank you! "},
    {"Lovely. ", "Wonderful, that's done. "},         {"Good. ", "Done, good. "},
    {"Thank you. ", "Thank you, that is in order. "}, {"Nice, thanks! ", "Cool, thanks! "},
};
static const char *const nexts[ISE_NFAMILIES][2] = {
    {"Next step: %s.", "Now, %s."},
    {"Now could you %s?", "Next, let's have you %s."},
    {"Next, %s.", "Now for the next bit: %s."},
    {"Next: %s.", "Now %s."},
    {"Next, please %s.", "Please now %s."},
    {"Now can you %s?", "Next up, %s."},
};
static const char *const repairs[ISE_NFAMILIES][2] = {
    {"That step failed (%s). Find the cause, fix it, and %s.",
     "The output shows an error: %s. Correct it, then %s."},
    {"Looks like we hit a problem: %s. Could you fix that and %s?",
     "Hmm, something went wrong there: %s. Let's fix it; please %s."},
    {"Oops, a snag: %s. Please patch it up and %s.",
     "That one tripped over something: %s. Fix it and %s."},
    {"That failed: %s. Fix it and %s.", "Error: %s. Fix that, then %s."},
    {"Unfortunately that did not work: %s. Please correct it and %s.",
     "I see an error: %s. Kindly resolve it and %s."},
    {"Hmm, that broke: %s. Can you fix it and %s?", "Ah, that errored out: %s. Fix it and %s?"},
};
static const char *const checks[ISE_NFAMILIES][2] = {
    {"Last step before I sign off: %s.", "To confirm the results: %s."},
    {"Before we wrap up, could you %s?", "One last thing together: %s."},
    {"One last look: %s, please.", "Before the curtain falls: %s."},
    {"Final check: %s.", "Last: %s."},
    {"Before we conclude, please %s.", "As a final verification, please %s."},
    {"Last thing, can you %s?", "Oh, and before we stop: %s."},
};
static const char *const check_questions[ISE_NFAMILIES] = {
    "Last check: ",  "Before we wrap up: ",  "One last look: ",
    "Final check: ", "Before we conclude: ", "Last thing: ",
};

/* pattern with its first "%s" replaced by a and its second by b (not a
 * printf format: the phrase tables are data) */
static char *phrase(const char *pattern, const char *a, const char *b)
{
	const char *one = strstr(pattern, "%s"), *two = one ? strstr(one + 2, "%s") : NULL;

	if (!one)
		return ise_xstrdup(pattern);
	if (!two)
		return ise_xasprintf("%.*s%s%s", (int)(one - pattern), pattern, a, one + 2);
	return ise_xasprintf("%.*s%s%.*s%s%s", (int)(one - pattern), pattern, a,
			     (int)(two - one - 2), one + 2, b ? b : "", two + 2);
}

static char *capitalised(char *s)
{
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 'a' + 'A');
	return s;
}

static const char *article(const char *w)
{
	return strchr("aeiouAEIOU", w[0]) ? "an" : "a";
}

/* The clause for the task asked for: terse for senior people. */
static const char *clause(const struct ise_offline *o, const struct ise_offline_task *t)
{
	return o->level >= ISE_SENIOR ? t->brief : t->request;
}

static char *opening(struct ise_offline *o, const struct ise_offline_task *t)
{
	char *ask = phrase(pick2(o, opens[o->family]), clause(o, t), NULL);
	const char *greet = greetings[o->family];
	char *intro = o->level == ISE_JUNIOR
			  ? ise_xasprintf("I'm %s, %s %s, and I'm still new to this kind of work. ",
					  o->first_name, article(o->role), o->role)
		      : o->level == ISE_MID ? ise_xasprintf("I'm %s, %s %s. ", o->first_name,
							    article(o->role), o->role)
					    : ise_xstrdup("");
	if (!*greet && !*intro)
		capitalised(ask);
	char *q = ise_xasprintf(
	    "%s%s%s%s", greet, intro, ask,
	    o->level == ISE_JUNIOR ? " Please tell me what you did, step by step." : "");
	free(ask);
	free(intro);
	return q;
}

/* The first failure of a turn but the network's, in a few words. */
static char *problem_of(const struct ise_turn *turn)
{
	for (size_t i = 0; i < turn->ncalls; i++) {
		const struct ise_call *c = &turn->calls[i];
		if (!ise_call_failed(c) || ise_offline_network_tool(c->name))
			continue;
		const char *best;
		size_t best_n;
		ise_call_key_line(c, &best, &best_n);
		if (!best || best_n < 3)
			return ise_xasprintf("%s %s", c->name,
					     c->timed_out ? "timed out" : "failed with no message");
		if (best_n > 120) {
			best_n = 120;
			while (best_n && ((unsigned char)best[best_n] & 0xC0) == 0x80)
				best_n--;
		}
		while (best_n && strchr(" .:", best[best_n - 1]))
			best_n--;
		return ise_xasprintf("%.*s", (int)best_n, best);
	}
	return turn->step_capped ? ise_xstrdup("it stopped before finishing") : NULL;
}

static int network_failed(const struct ise_turn *turn)
{
	for (size_t i = 0; i < turn->ncalls; i++)
		if (ise_call_failed(&turn->calls[i]) &&
		    ise_offline_network_tool(turn->calls[i].name))
			return 1;
	return 0;
}

/* Set up the agent's work for what the user asks next. */
static void hand_over(struct ise_offline *o, enum ise_offline_ask ask, size_t task);

static char *ask_task(struct ise_offline *o, const char *ack)
{
	char *next = phrase(pick2(o, nexts[o->family]), clause(o, &o->tasks[o->task]), NULL);
	char *q = ise_xasprintf("%s%s", ack, next);
	free(next);
	hand_over(o, ISE_ASK_TASK, o->task);
	return q;
}

static char *ask_check(struct ise_offline *o, const char *ack)
{
	const char *verify = NULL;
	for (size_t i = o->ntasks; i-- > 0 && !verify;)
		if (o->tasks[i].done && o->tasks[i].verify)
			verify = o->tasks[i].verify;
	if (!verify)
		verify = "list the files you created and show me the main one";
	size_t n = strlen(verify);
	char *check;
	if (n && verify[n - 1] == '?') {
		char *v = capitalised(ise_xstrdup(verify));
		check = ise_xasprintf("%s%s", check_questions[o->family], v);
		free(v);
	} else {
		check = phrase(pick2(o, checks[o->family]), verify, NULL);
	}
	char *q = ise_xasprintf("%s%s", ack, check);
	free(check);
	hand_over(o, ISE_ASK_CHECK, o->task);
	return q;
}

static void finish(struct ise_offline *o, struct ise_decision *d)
{
	size_t done = 0, first_failed = o->ntasks;

	for (size_t i = 0; i < o->ntasks; i++) {
		done += o->tasks[i].done;
		if (!o->tasks[i].done && first_failed == o->ntasks)
			first_failed = i;
	}
	d->completed = 1;
	d->is_success = done == o->ntasks;
	d->query = ise_xstrdup("");
	if (d->is_success)
		d->reason = ise_xasprintf("all %zu task%s done and the results checked", o->ntasks,
					  o->ntasks == 1 ? "" : "s");
	else
		d->reason = ise_xasprintf("%zu of %zu tasks done; '%s' could not be done here: %s",
					  done, o->ntasks, o->tasks[first_failed].name,
					  o->tasks[first_failed].problem
					      ? o->tasks[first_failed].problem
					      : "no way to do it in this workspace");
	o->ask = ISE_ASK_DONE;
}

void ise_offline_user(struct ise_offline *o, const struct ise_turn *turns, size_t nturns,
		      struct ise_decision *d)
{
	memset(d, 0, sizeof *d);
	d->attempts = 1;
	d->is_success = -1;
	if (!nturns) {
		o->task = 0;
		d->query = opening(o, &o->tasks[0]);
		d->reason = ise_xasprintf("start with the first of %zu tasks", o->ntasks);
		hand_over(o, ISE_ASK_TASK, 0);
		return;
	}
	const struct ise_turn *last = &turns[nturns - 1];
	if (o->ask == ISE_ASK_CHECK || o->ask == ISE_ASK_DONE) {
		finish(o, d);
		return;
	}
	struct ise_offline_task *t = &o->tasks[o->task];
	char *problem = problem_of(last);
	if (!t->plan && !problem) /* the agent could only take notes */
		problem = ise_xstrdup("no way to do it in this workspace");
	if (problem && o->ask == ISE_ASK_TASK && t->plan) {
		d->query = phrase(pick2(o, repairs[o->family]), problem, t->brief);
		d->reason = ise_xasprintf("'%s' failed: %s; ask for a fix", t->name, problem);
		free(t->problem);
		t->problem = problem;
		hand_over(o, ISE_ASK_REPAIR, o->task);
		return;
	}
	/* this task is as done as it gets: on to the next one, or the check */
	t->done = !problem;
	free(t->problem);
	t->problem = problem;
	char *ack =
	    !t->plan ? ise_xstrdup("Understood, that cannot be done here, so leave it. ")
	    : problem
		? ise_xasprintf("That still does not work (%s), so leave it for now. ", problem)
	    : network_failed(last)
		? ise_xstrdup(o->family == ISE_FORMAL
				  ? "Understood; without network access, the values I "
				    "provided will do. "
				  : "OK, no network there, so the values I gave will do. ")
		: ise_xstrdup(pick2(o, acks[o->family]));
	if (++o->task < o->ntasks) {
		d->query = ask_task(o, ack);
		d->reason = ise_xasprintf(
		    "'%s' %s; next task %zu of %zu", o->tasks[o->task - 1].name,
		    problem ? "cannot be done here" : "is done", o->task + 1, o->ntasks);
	} else {
		o->task = o->ntasks - 1;
		d->query = ask_check(o, ack);
		d->reason = ise_xstrdup("every task was tried; ask once for a check");
	}
	free(ack);
}

static void hand_over(struct ise_offline *o, enum ise_offline_ask ask, size_t task)
{
	o->ask = ask;
	o->task = task;
	o->turn++;
	o->ncall = 0;
	o->next = 0;
	cJSON_Delete(o->steps);
	o->steps = NULL;
}
