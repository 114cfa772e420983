#include "sim/simuser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "gen/register.h"
#include "core/strbuf.h"
#include "core/template.h"
#include "core/xalloc.h"

/* How much of the conversation the simulator is shown, per turn. */
#define REPLY_CHARS    2000
#define DIGEST_CALLS   12
#define FEEDBACK_CHARS 1500
/* ... and of a turn shown briefly to fit the context window (context.h). */
#define BRIEF_CHARS 300
#define BRIEF_CALLS 0
/* Room kept in the window for a repair request's bad reply and feedback. */
#define FIT_SLACK (FEEDBACK_CHARS + 1024 + 64)

/* At most max bytes of s, cut at a UTF-8 boundary, with a note when cut. */
static void add_capped(struct ise_strbuf *t, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max) {
		ise_sb_add(t, s, n);
		return;
	}
	while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	ise_sb_add(t, s, max);
	ise_sb_puts(t, " [...]");
}

static char *transcript(const struct ise_turn *turns, size_t nturns, size_t brief, size_t omitted)
{
	struct ise_strbuf t = {0};

	if (!nturns)
		ise_sb_puts(&t, "(nothing yet: this is your first message)");
	if (omitted)
		ise_sb_printf(&t, "[1-%zu] (left out: the conversation is too long to show whole)",
			      omitted);
	for (size_t i = omitted; i < nturns; i++) {
		const struct ise_turn *turn = &turns[i];
		size_t failed = 0, shown = i < brief ? BRIEF_CALLS : DIGEST_CALLS;
		if (i)
			ise_sb_puts(&t, "\n\n");
		ise_sb_printf(&t, "[%zu] You: ", i + 1);
		add_capped(&t, turn->query, i < brief ? BRIEF_CHARS : (size_t)-1);
		ise_sb_printf(&t, "\n[%zu] Assistant: ", i + 1);
		add_capped(&t, *turn->reply ? turn->reply : "(no text reply)",
			   i < brief ? BRIEF_CHARS : REPLY_CHARS);
		ise_sb_printf(&t, "\n[%zu] What actually ran: ", i + 1);
		if (!turn->ncalls)
			ise_sb_puts(&t, "no tool calls");
		for (size_t k = 0; k < turn->ncalls; k++)
			failed += ise_call_failed(&turn->calls[k]) != 0;
		if (turn->ncalls)
			ise_sb_printf(&t, "%zu tool call%s, %zu failed", turn->ncalls,
				      turn->ncalls == 1 ? "" : "s", failed);
		for (size_t k = 0; k < turn->ncalls && k < shown; k++) {
			char *line = ise_call_digest(&turn->calls[k]);
			ise_sb_puts(&t, "\n  - ");
			ise_sb_puts(&t, line);
			free(line);
		}
		if (turn->ncalls > shown && shown)
			ise_sb_printf(&t, "\n  - ... and %zu more", turn->ncalls - shown);
		if (turn->step_capped)
			ise_sb_puts(&t,
				    "\n  (the assistant hit its step limit before a final answer)");
	}
	return ise_sb_take(&t);
}

cJSON *ise_simuser_messages(const char *prompt, const cJSON *persona, const char *intent,
			    const struct ise_turn *turns, size_t nturns, unsigned max_turns,
			    size_t brief, size_t omitted)
{
	cJSON *vars = ise_json_checked(cJSON_CreateObject());
	enum ise_level level = ise_register_level(ise_json_string(persona, "experience_level"));
	enum ise_family family = ise_register_family(persona);
	char num[32], rule[160], style[256];

	ise_template_var(vars, "persona.name", ise_json_string(persona, "name"), "the user");
	ise_template_var(vars, "persona.role", ise_json_string(persona, "role"), "professional");
	ise_template_var(vars, "persona.industry", ise_json_string(persona, "industry"),
			 "technology");
	ise_template_var(vars, "persona.experience_level",
			 ise_json_string(persona, "experience_level"), "Mid-level");
	ise_template_var(vars, "persona.communication_style",
			 ise_json_string(persona, "communication_style"), ise_family_name(family));
	ise_template_var(vars, "persona.work_context", ise_json_string(persona, "work_context"),
			 "a standard professional environment");
	char *expertise =
	    ise_json_join(cJSON_GetObjectItemCaseSensitive(persona, "expertise"), ", ");
	ise_template_var(vars, "persona.expertise", expertise, "general professional skills");
	free(expertise);
	ise_template_var(vars, "register", ise_register_instruction(level), "");
	snprintf(style, sizeof style, "%s: %s", ise_family_name(family),
		 ise_style_instruction(family));
	ise_template_var(vars, "style", style, "");
	ise_template_var(vars, "intent", intent, "");
	char *t = transcript(turns, nturns, brief, omitted);
	ise_template_var(vars, "transcript", t, "");
	free(t);
	snprintf(num, sizeof num, "%zu", nturns + 1);
	ise_template_var(vars, "turn", num, "1");
	snprintf(num, sizeof num, "%u", max_turns);
	ise_template_var(vars, "max_turns", num, "1");
	if (nturns >= max_turns)
		snprintf(rule, sizeof rule,
			 "You have no messages left: finish now with completed true, and "
			 "is_success saying whether your goal was reached.");
	else if (!nturns)
		snprintf(rule, sizeof rule, "Start with the first small step of your goal only.");
	else
		snprintf(rule, sizeof rule, "After this one you have %zu more.",
			 (size_t)max_turns - nturns - 1);
	ise_template_var(vars, "turn_rule", rule, "");

	char *system, *user;
	ise_template_split(prompt, vars, &system, &user);
	cJSON_Delete(vars);
	cJSON *messages = ise_json_checked(cJSON_CreateArray());
	if (system) {
		cJSON *m = ise_json_checked(cJSON_CreateObject());
		ise_json_add(m, "role", cJSON_CreateString("system"));
		ise_json_add(m, "content", cJSON_CreateString(system));
		ise_json_add(messages, NULL, m);
	}
	cJSON *m = ise_json_checked(cJSON_CreateObject());
	ise_json_add(m, "role", cJSON_CreateString("user"));
	ise_json_add(m, "content", cJSON_CreateString(user));
	ise_json_add(messages, NULL, m);
	free(system);
	free(user);
	return messages;
}

static int blank(const char *s)
{
	return !s[strspn(s, " \t\r\n")];
}

const char *ise_decision_parse(const cJSON *json, struct ise_decision *d)
{
	const cJSON *completed = cJSON_GetObjectItemCaseSensitive(json, "completed");
	const cJSON *query = cJSON_GetObjectItemCaseSensitive(json, "query");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(json, "reason");
	const cJSON *success = cJSON_GetObjectItemCaseSensitive(json, "is_success");

	memset(d, 0, sizeof *d);
	if (!cJSON_IsObject(json))
		return "the reply is not a JSON object";
	if (!cJSON_IsBool(completed))
		return "\"completed\" must be the JSON boolean true or false";
	if (query && !cJSON_IsNull(query) && !cJSON_IsString(query))
		return "\"query\" must be a string";
	if (reason && !cJSON_IsNull(reason) && !cJSON_IsString(reason))
		return "\"reason\" must be a string";
	if (success && !cJSON_IsNull(success) && !cJSON_IsBool(success))
		return "\"is_success\" must be the JSON boolean true or false";
	if (cJSON_IsFalse(completed) && (!cJSON_IsString(query) || blank(query->valuestring)))
		return "\"query\" is empty, but \"completed\" is false: the next message is "
		       "missing";
	d->completed = cJSON_IsTrue(completed);
	d->is_success = cJSON_IsBool(success) ? cJSON_IsTrue(success) : -1;
	const char *q = cJSON_IsString(query) ? query->valuestring : "";
	q += strspn(q, " \t\r\n");
	d->query = ise_xstrdup(q);
	size_t n = strlen(d->query);
	while (n && strchr(" \t\r\n", d->query[n - 1]))
		d->query[--n] = '\0';
	d->reason = ise_xstrdup(cJSON_IsString(reason) ? reason->valuestring : "");
	return NULL;
}

static cJSON *decision_schema(void)
{
	static const char text[] =
	    "{\"type\":\"object\",\"properties\":{\"completed\":{\"type\":\"boolean\"},"
	    "\"query\":{\"type\":\"string\"},\"reason\":{\"type\":\"string\"},"
	    "\"is_success\":{\"type\":\"boolean\"}},"
	    "\"required\":[\"completed\",\"query\",\"reason\",\"is_success\"],"
	    "\"additionalProperties\":false}";
	return ise_json_checked(cJSON_Parse(text));
}

static void add_message(cJSON *messages, const char *role, const char *content)
{
	cJSON *m = ise_json_checked(cJSON_CreateObject());

	ise_json_add(m, "role", cJSON_CreateString(role));
	ise_json_add(m, "content", cJSON_CreateString(content));
	ise_json_add(messages, NULL, m);
}

/* The request: the turn's messages, then (after a bad reply) that reply and
 * why it cannot be used, so that the model repairs it rather than repeat it. */
static cJSON *request(const cJSON *messages, const char *bad_reply, const char *feedback,
		      uint64_t seed)
{
	cJSON *req = ise_json_checked(cJSON_CreateObject());
	cJSON *m = ise_json_checked(cJSON_Duplicate(messages, 1));

	if (feedback) {
		struct ise_strbuf t = {0};
		add_capped(&t, bad_reply, FEEDBACK_CHARS);
		add_message(m, "assistant", t.s);
		add_message(m, "user", feedback);
		free(t.s);
	}
	ise_json_add(req, "messages", m);
	ise_json_add(req, "seed", cJSON_CreateNumber((double)(seed & 0x7fffffff)));
	return req;
}

/* The conversation shown at shortening step j from where f stands: first
 * more of the oldest turns shown briefly, then more of them left out. */
static void step(const struct ise_simuser_fit *f, size_t old, size_t j, size_t *brief,
		 size_t *omitted)
{
	size_t more_brief = old - f->brief;
	*brief = j <= more_brief ? f->brief + j : old;
	*omitted = j <= more_brief ? f->omitted : f->omitted + (j - more_brief);
}

/* The turn's messages, shortened no more than they must be to fit the
 * simulator's window (a shortening, once made, stays, so the prompt's
 * prefix changes only then); NULL when even the last turns alone are too
 * long, err saying so. */
static cJSON *fitted(const struct ise_simuser *u, const cJSON *persona, const char *intent,
		     const struct ise_turn *turns, size_t nturns, unsigned max_turns,
		     struct ise_simuser_fit *f, char *err, size_t errlen)
{
	size_t old = nturns > ISE_CONTEXT_KEEP_TURNS ? nturns - ISE_CONTEXT_KEEP_TURNS : 0;
	size_t steps = (old - f->brief) + (old - f->omitted), chars, b, o, found = 0;
	cJSON *m = ise_simuser_messages(u->prompt, persona, intent, turns, nturns, max_turns,
					f->brief, f->omitted);

	if (!f->context || !ise_context_over(f->context, m, FIT_SLACK, 0, &chars))
		return m;
	cJSON_Delete(m);
	/* the least shortening that frees the window down to its low water */
	for (size_t lo = 1, hi = steps; lo <= hi;) {
		size_t mid = lo + (hi - lo) / 2;
		step(f, old, mid, &b, &o);
		m = ise_simuser_messages(u->prompt, persona, intent, turns, nturns, max_turns, b,
					 o);
		int over = ise_context_over(f->context, m, FIT_SLACK, 1, &chars);
		cJSON_Delete(m);
		if (over) {
			lo = mid + 1;
		} else {
			found = mid;
			hi = mid - 1;
		}
	}
	step(f, old, found ? found : steps, &b, &o);
	m = ise_simuser_messages(u->prompt, persona, intent, turns, nturns, max_turns, b, o);
	if (!found && ise_context_over(f->context, m, FIT_SLACK, 0, &chars)) {
		ise_errf(err, errlen,
			 "the simulated user's request needs about %zu characters with all but "
			 "the last %d turns left out, over the context window of %ld tokens (%s)",
			 chars, ISE_CONTEXT_KEEP_TURNS, f->context->window,
			 f->context->source ? f->context->source : "?");
		cJSON_Delete(m);
		return NULL;
	}
	f->changes += b != f->brief || o != f->omitted;
	f->brief = b;
	f->omitted = o;
	return m;
}

enum ise_simuser_status ise_simuser_decide(const struct ise_simuser *u, const cJSON *persona,
					   const char *intent, const struct ise_turn *turns,
					   size_t nturns, unsigned max_turns, uint64_t seed,
					   struct ise_simuser_fit *fit, struct ise_decision *d,
					   struct ise_role_usage *usage, char *err, size_t errlen)
{
	cJSON *messages = fitted(u, persona, intent, turns, nturns, max_turns, fit, err, errlen);
	cJSON *schema = decision_schema();
	char *bad_reply = NULL, feedback[1024] = "";
	unsigned failures = 0, drifts = 0, refits = 0;
	enum ise_simuser_status status = ISE_SIMUSER_CONTEXT;

	memset(d, 0, sizeof *d);
	for (unsigned attempt = 0; messages; attempt++) {
		struct ise_llm_reply reply;
		cJSON *json = NULL;
		char why[512] = "";
		size_t chars = 0;
		status = ISE_SIMUSER_ERROR;
		cJSON *req =
		    request(messages, bad_reply, *feedback ? feedback : NULL, seed + attempt);
		if (fit->context)
			ise_context_over(fit->context,
					 cJSON_GetObjectItemCaseSensitive(req, "messages"), 0, 0,
					 &chars);
		enum ise_llm_status st = ise_llm_chat_json(u->llm, req, "user_turn", schema, &reply,
							   &json, why, sizeof why);
		cJSON_Delete(req);
		if (reply.content)
			ise_role_usage_add(usage, &reply);
		if (st == ISE_LLM_REJECTED && reply.context_exceeded && fit->context) {
			/* the estimate was short: learn from what the server said, once */
			int again =
			    !refits++ && ise_context_refused(fit->context, reply.context_window,
							     reply.context_prompt, chars);
			ise_llm_reply_release(&reply);
			cJSON_Delete(json);
			attempt--;
			cJSON_Delete(messages);
			messages = again ? fitted(u, persona, intent, turns, nturns, max_turns, fit,
						  err, errlen)
					 : NULL;
			if (!again)
				snprintf(err, errlen, "simulator request failed: %s", why);
			status = ISE_SIMUSER_CONTEXT;
			continue;
		}
		if (st == ISE_LLM_OK && fit->context && !reply.usage_estimated)
			ise_context_learn(fit->context, reply.prompt_tokens, chars);
		if (st == ISE_LLM_FATAL || (st == ISE_LLM_REJECTED && !reply.content)) {
			/* the request itself failed: asking again will not help */
			snprintf(err, errlen, "simulator request failed: %s", why);
			status = st == ISE_LLM_FATAL ? ISE_SIMUSER_FATAL : ISE_SIMUSER_ERROR;
			ise_llm_reply_release(&reply);
			break;
		}
		struct ise_decision got;
		const char *bad = st == ISE_LLM_OK ? ise_decision_parse(json, &got) : why;
		cJSON_Delete(json);
		free(bad_reply);
		bad_reply = ise_xstrdup(reply.content);
		/* the model is told what to do differently; err tells the person
		 * running the program what to change (--max-tokens, the server) */
		int cut = !strcmp(reply.finish_reason, "length");
		int thought_only = !cut && !*reply.content && reply.reasoning;
		ise_llm_reply_release(&reply);
		if (bad) {
			if (++failures >= u->attempts) {
				snprintf(err, errlen,
					 "no usable simulator reply after %u tries: %s", failures,
					 bad);
				break;
			}
			snprintf(feedback, sizeof feedback,
				 "That reply cannot be used: %s. Answer again with only the JSON "
				 "object {\"completed\": true or false, \"query\": \"...\", "
				 "\"reason\": \"...\", \"is_success\": true or false}.",
				 cut ? "it was cut off before it was complete: keep your "
				       "thinking, query and reason short"
				 : thought_only
				     ? "it held only your reasoning and no answer: write "
				       "the JSON object as your answer"
				     : bad);
			continue;
		}
		struct ise_lexicon_hit hit;
		if (!got.completed && u->drift &&
		    ise_lexicon_next(u->drift, got.query, strlen(got.query), 0, &hit)) {
			const char *phrase = u->drift->phrases[hit.phrase];
			ise_decision_release(&got);
			if (drifts++ >= u->drift_retries) {
				snprintf(
				    err, errlen,
				    "the simulated user kept writing as the assistant ('%s') after "
				    "%u redrafts",
				    phrase, u->drift_retries);
				status = ISE_SIMUSER_DRIFT;
				break;
			}
			snprintf(
			    feedback, sizeof feedback,
			    "Your query says '%s', which is what the assistant would say. You "
			    "are the user: give the assistant an instruction or information in "
			    "your own voice, never an offer of help. Answer again with only the "
			    "JSON object.",
			    phrase);
			continue;
		}
		*d = got;
		d->attempts = attempt + 1;
		d->redrafts = drifts;
		status = ISE_SIMUSER_OK;
		break;
	}
	free(bad_reply);
	cJSON_Delete(schema);
	cJSON_Delete(messages);
	return status;
}
