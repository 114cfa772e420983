/*
 * offline_user: the scripted user of the offline engine.
 */
#include "sim/offline_user.h"

#include <stdlib.h>
#include <string.h>

#include "core/jsondoc.h"
#include "core/rng.h"
#include "core/xalloc.h"
#include "gen/text.h"

/* ---- the user's words ---- */

static const char *pick2(struct ise_script *o, const char *const pair[2])
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

/* The clause for the task asked for: terse for senior people. */
static const char *clause(const struct ise_script *o, const struct ise_offline_task *t)
{
	return o->level >= ISE_SENIOR ? t->brief : t->request;
}

static char *opening(struct ise_script *o, const struct ise_offline_task *t)
{
	char *ask = phrase(pick2(o, opens[o->family]), clause(o, t), NULL);
	const char *greet = greetings[o->family];
	char *intro = o->level == ISE_JUNIOR
			  ? ise_xasprintf("I'm %s, %s %s, and I'm still new to this kind of work. ",
					  o->first_name, ise_article(o->role), o->role)
		      : o->level == ISE_MID ? ise_xasprintf("I'm %s, %s %s. ", o->first_name,
							    ise_article(o->role), o->role)
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
		if (!ise_call_failed(c) || ise_script_network_tool(c->name))
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
		    ise_script_network_tool(turn->calls[i].name))
			return 1;
	return 0;
}

/* Set up the agent's work for what the user asks next. */
static void hand_over(struct ise_script *o, enum ise_offline_ask ask, size_t task);

static char *ask_task(struct ise_script *o, const char *ack)
{
	char *next = phrase(pick2(o, nexts[o->family]), clause(o, &o->tasks[o->task]), NULL);
	char *q = ise_xasprintf("%s%s", ack, next);
	free(next);
	hand_over(o, ISE_ASK_TASK, o->task);
	return q;
}

static char *ask_check(struct ise_script *o, const char *ack)
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

static void finish(struct ise_script *o, struct ise_decision *d)
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

void ise_offline_user(struct ise_script *o, const struct ise_turn *turns, size_t nturns,
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

static void hand_over(struct ise_script *o, enum ise_offline_ask ask, size_t task)
{
	o->ask = ask;
	o->task = task;
	o->turn++;
	o->ncall = 0;
	o->next = 0;
	cJSON_Delete(o->steps);
	o->steps = NULL;
}
