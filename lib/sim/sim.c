/*
 * sim: the loop of one trajectory, the agent's tool calls run for real,
 * and the record it makes.
 */
#include "sim/sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/jsontext.h"
#include "core/rng.h"
#include "core/template.h"
#include "core/xalloc.h"
#include "llm/textcalls.h"
#include "sim/offline_agent.h"
#include "sim/offline_user.h"
#include "sim/script.h"
#include "sim/simprogress.h"
#include "sim/simuser.h"
#include "sim/verify.h"

/* ---- calls and turns ---- */

static void call_release(struct ise_call *c)
{
	free(c->name);
	free(c->args);
	free(c->content);
}

static void turn_release(struct ise_turn *t)
{
	for (size_t i = 0; i < t->ncalls; i++)
		call_release(&t->calls[i]);
	free(t->calls);
	free(t->query);
	free(t->reply);
}

/* ---- one trajectory ---- */

struct traj {
	const struct ise_sim_config *c;
	const cJSON *intent, *persona;
	const char *id, *text;
	uint64_t seed;
	struct ise_ws *ws;
	struct ise_script *script;
	struct ise_script *env; /* the tasks' environments: the script, or one of its own */
	cJSON *messages, *decisions;
	cJSON *verification;  /* what the checks found; NULL: none ran */
	struct ise_idset ids; /* the tool-call ids taken */
	struct ise_turn *turns;
	size_t nturns, cap;
	struct ise_role_usage user, agent;
	struct ise_context context, user_context;
	struct ise_simuser_fit user_fit;
	unsigned long calls, agent_requests;
	double start, deadline, t_user, t_agent, t_tools, t_checks;
	const char *failure;
	char error[512];
	int fatal, is_success;
};

static void fail(struct traj *t, const char *failure, const char *fmt, ...) ISE_PRINTF(3, 4);
static void fail(struct traj *t, const char *failure, const char *fmt, ...)
{
	va_list ap;

	t->failure = failure;
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof t->error, fmt, ap);
	va_end(ap);
}

static int out_of_time(struct traj *t)
{
	if (ise_now() < t->deadline)
		return 0;
	fail(t, "timeout", "the trajectory ran past its budget of %g seconds", t->c->budget);
	return 1;
}

static cJSON *message(const char *role, const char *content)
{
	cJSON *m = ise_json_checked(cJSON_CreateObject());

	ise_json_add(m, "role", cJSON_CreateString(role));
	ise_json_add(m, "content", cJSON_CreateString(content ? content : ""));
	return m;
}

static int tool_given(const cJSON *tools, const char *name)
{
	const cJSON *spec;

	cJSON_ArrayForEach(spec, tools) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(spec, "function");
		const char *n = ise_json_string(fn, "name");
		if (n && !strcmp(n, name))
			return 1;
	}
	return 0;
}

static char *tool_names(const cJSON *tools)
{
	const cJSON *spec;
	char *list = ise_xstrdup("");

	cJSON_ArrayForEach(spec, tools) {
		const char *n =
		    ise_json_string(cJSON_GetObjectItemCaseSensitive(spec, "function"), "name");
		char *more = ise_xasprintf("%s%s%s", list, *list ? ", " : "", n ? n : "?");
		free(list);
		list = more;
	}
	return list;
}

/* A command may not outlive the trajectory: cap its timeout to what is
 * left; 1 when it was capped. */
static int cap_timeout(struct traj *t, cJSON *args)
{
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(args, "timeout");
	double asked =
	    cJSON_IsNumber(to) && to->valuedouble > 0 ? to->valuedouble : t->c->exec_timeout;
	double left = floor((t->deadline - ise_now()) * 10) / 10;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "background")) || asked <= left)
		return 0;
	cJSON_DeleteItemFromObjectCaseSensitive(args, "timeout");
	ise_json_add(args, "timeout", cJSON_CreateNumber(left < 0.1 ? 0.1 : left));
	return 1;
}

/* Run one tool call for real and add its tool message. */
static void run_call(struct traj *t, struct ise_turn *turn, const cJSON *tool_call)
{
	const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tool_call, "function");
	const char *name = ise_json_string_or(fn, "name", "");
	const char *args = ise_json_string_or(fn, "arguments", "");
	struct ise_tool_result r;
	double t0 = ise_now();
	int capped = 0;

	memset(&r, 0, sizeof r);
	if (!tool_given(t->c->tools, name)) {
		char *names = tool_names(t->c->tools);
		ise_tool_fail(&r, "unknown tool '%s': the tools are %s", name, names);
		r.exit_code = -1;
		free(names);
	} else {
		cJSON *parsed = ise_json_parse(args, strlen(args)); /* NULs noted */
		cJSON *given = cJSON_IsObject(parsed) ? parsed : cJSON_CreateString(args);
		if (cJSON_IsObject(parsed) && !strcmp(name, "exec"))
			capped = cap_timeout(t, parsed);
		if (given != parsed)
			cJSON_Delete(parsed);
		ise_json_checked(given);
		ise_ws_lock(t->ws);
		ise_tool_call(t->ws, t->c->tools_config, name, given, &r);
		ise_ws_unlock(t->ws);
		cJSON_Delete(given);
		if (capped && r.timed_out)
			t->deadline = ise_now(); /* it ran to the end of the budget */
	}
	t->t_tools += ise_now() - t0;
	cJSON *m = message("tool", r.content);
	ise_json_add(m, "tool_call_id",
		     cJSON_CreateString(ise_json_string_or(tool_call, "id", "")));
	ise_json_add(t->messages, NULL, m);
	ise_xgrow((void **)&turn->calls, &turn->cap, turn->ncalls + 1, sizeof *turn->calls);
	turn->calls[turn->ncalls++] = (struct ise_call){
	    .name = ise_xstrdup(name),
	    .args = ise_xstrdup(args),
	    .ok = r.ok,
	    .exit_code = r.exit_code,
	    .signal = r.signal,
	    .timed_out = r.timed_out,
	    .content = ise_xstrdup(r.content ? r.content : ""),
	};
	t->calls++;
	ise_tool_result_free(&r);
}

/* The conversation as the agent model is sent it: as it is stored, with
 * the reasoning --think placed (a Qwen3 template renders it for the turns
 * of the current tool loop); only old tool outputs may be cut from it, to
 * fit the context window (context.h). */
static cJSON *agent_request(struct traj *t)
{
	cJSON *req = ise_json_checked(cJSON_CreateObject());

	ise_json_add(req, "messages", ise_agent_wire(t->messages));
	ise_json_add(req, "tools", cJSON_Duplicate(t->c->tools, 1));
	uint64_t seed = ise_mix64(t->seed ^ 0xa9e7) + t->agent_requests;
	ise_json_add(req, "seed", cJSON_CreateNumber((double)(seed & 0x7fffffff)));
	return req;
}

/* Tool calls the agent wrote as text, which the server did not parse:
 * with --text-tool-calls parse they become the reply's calls (*format says
 * from what).  0 to go on, 1 when the markup does not parse (why says so),
 * -1 when the trajectory fails. */
static int text_calls(struct traj *t, struct ise_llm_reply *r, const char **format, char *why,
		      size_t size)
{
	enum ise_text_calls f =
	    r->tool_calls ? ISE_TEXT_CALLS_NONE : ise_text_calls_find(r->content, t->c->tools);
	const char *name = ise_text_calls_name(f), *bad;
	cJSON *calls;
	char *rest;

	if (f == ISE_TEXT_CALLS_NONE)
		return 0;
	if (t->c->text_calls == ISE_TEXTCALLS_FAIL) {
		fail(t, "agent_error",
		     "the agent's tool calls came back as text (%s markup): the server parsed "
		     "none; start it with a tool parser (%s), or run with --text-tool-calls parse",
		     name, ise_text_calls_fix(f));
		return -1;
	}
	if ((bad = ise_text_calls_parse(r->content, f, t->c->tools, &calls, &rest))) {
		snprintf(why, size,
			 "its tool calls came back as text (%s markup) that does not parse (%s); "
			 "the server needs a tool parser (%s)",
			 name, bad, ise_text_calls_fix(f));
		return 1;
	}
	free(r->content);
	r->content = rest;
	r->tool_calls = calls;
	*format = name;
	return 0;
}

/* The agent model's next message; 0 with content/reasoning/calls (and
 * *format when the calls were parsed from text), or -1. */
static int agent_llm(struct traj *t, char **content, char **reasoning, cJSON **calls,
		     const char **format)
{
	int refits = 0, unusable = 0;

	for (;;) {
		struct ise_llm_reply reply;
		char err[600] = "";
		cJSON *req = agent_request(t);
		size_t chars;
		if (ise_context_fit(&t->context, cJSON_GetObjectItemCaseSensitive(req, "messages"),
				    t->c->tools, t->agent_requests + 1, &chars, err, sizeof err)) {
			cJSON_Delete(req);
			fail(t, "context_exceeded", "%s", err);
			return -1;
		}
		double t0 = ise_now();
		t->agent_requests++;
		enum ise_llm_status st =
		    ise_llm_chat(t->c->agent_llm, req, &reply, err, sizeof err);
		t->t_agent += ise_now() - t0;
		cJSON_Delete(req);
		if (st == ISE_LLM_REJECTED && reply.context_exceeded) {
			/* the estimate was short: learn from what the server said, once */
			int again =
			    !refits++ && ise_context_refused(&t->context, reply.context_window,
							     reply.context_prompt, chars);
			ise_llm_reply_release(&reply);
			if (again)
				continue;
			fail(t, "context_exceeded", "agent request failed: %s", err);
			return -1;
		}
		if (st != ISE_LLM_OK) {
			fail(t, "agent_error", "agent request failed: %s", err);
			t->fatal = st == ISE_LLM_FATAL;
			ise_llm_reply_release(&reply);
			return -1;
		}
		ise_role_usage_add(&t->agent, &reply);
		if (!reply.usage_estimated)
			ise_context_learn(&t->context, reply.prompt_tokens, chars);
		char why[800];
		int tc = text_calls(t, &reply, format, why, sizeof why);
		if (tc < 0) {
			ise_llm_reply_release(&reply);
			return -1;
		}
		/* never an answer from reasoning, from a reply cut at the token
		 * limit or from calls left in the text */
		if (tc > 0 || ise_llm_reply_problem(t->c->agent_llm, &reply, why, sizeof why)) {
			/* once more, with another seed */
			ise_llm_reply_release(&reply);
			*format = NULL;
			if (unusable++) {
				fail(t, "agent_error", "the agent's reply was unusable twice: %s",
				     why);
				return -1;
			}
			continue;
		}
		*content = reply.content, reply.content = NULL;
		*reasoning = reply.reasoning, reply.reasoning = NULL;
		*calls = reply.tool_calls, reply.tool_calls = NULL;
		ise_llm_reply_release(&reply);
		return 0;
	}
}

/* The agent works on the last query until it answers without tool calls,
 * or --max-steps messages. */
static int agent_turn(struct traj *t, struct ise_turn *turn)
{
	for (unsigned step = 0; step < t->c->max_steps; step++) {
		char *content = NULL, *reasoning = NULL;
		const char *format = NULL;
		cJSON *calls = NULL, *call;
		if (out_of_time(t))
			return -1;
		if (t->script)
			ise_offline_agent(t->script, turn, &content, &calls);
		else if (agent_llm(t, &content, &reasoning, &calls, &format) < 0)
			return -1;
		ise_json_add(t->messages, NULL,
			     ise_agent_message(content, reasoning, calls, format, t->c->think,
					       &t->ids, (unsigned)t->nturns, turn->ncalls));
		free(reasoning);
		if (!calls) {
			turn->reply = content;
			return 0;
		}
		free(content);
		cJSON_ArrayForEach(call, calls)
			run_call(t, turn, call);
	}
	turn->step_capped = 1;
	turn->reply = ise_xstrdup("");
	return 0;
}

static void add_decision(struct traj *t, const struct ise_decision *d)
{
	cJSON *o = ise_json_checked(cJSON_CreateObject());

	ise_json_add(o, "turn", cJSON_CreateNumber((double)t->nturns + 1));
	ise_json_add(o, "completed", cJSON_CreateBool(d->completed));
	if (!d->completed)
		ise_json_add(o, "query", cJSON_CreateString(d->query));
	ise_json_add(o, "reason", cJSON_CreateString(d->reason ? d->reason : ""));
	if (d->is_success >= 0)
		ise_json_add(o, "is_success", cJSON_CreateBool(d->is_success));
	ise_json_add(o, "attempts", cJSON_CreateNumber(d->attempts));
	if (d->redrafts)
		ise_json_add(o, "redrafts", cJSON_CreateNumber(d->redrafts));
	ise_json_add(t->decisions, NULL, o);
}

/* The user's next decision; 1 to go on, 0 when it completed, -1 on failure. */
static int user_turn(struct traj *t)
{
	struct ise_decision d;
	double t0 = ise_now();

	if (out_of_time(t))
		return -1;
	if (t->script) {
		ise_offline_user(t->script, t->turns, t->nturns, &d);
	} else {
		struct ise_simuser u = {t->c->user_llm, t->c->user_prompt, t->c->drift,
					t->c->sim_attempts, t->c->drift_retries};
		uint64_t seed = ise_mix64(t->seed ^ 0x5e77) + ((uint64_t)t->nturns << 8);
		enum ise_simuser_status st = ise_simuser_decide(
		    &u, t->persona, t->text, t->turns, t->nturns, t->c->max_turns, seed,
		    &t->user_fit, &d, &t->user, t->error, sizeof t->error);
		t->t_user += ise_now() - t0;
		if (st != ISE_SIMUSER_OK) {
			t->failure = st == ISE_SIMUSER_DRIFT     ? "role_drift"
				     : st == ISE_SIMUSER_CONTEXT ? "context_exceeded"
								 : "simulator_error";
			t->fatal = st == ISE_SIMUSER_FATAL;
			return -1;
		}
	}
	add_decision(t, &d);
	if (d.completed) {
		t->is_success = d.is_success != 0;
		if (!t->is_success)
			fail(t, "not_success", "the user ended without success: %s", d.reason);
		ise_decision_release(&d);
		return 0;
	}
	if (t->nturns >= t->c->max_turns) {
		fail(t, "max_turns", "no completion after %u user turns", t->c->max_turns);
		ise_decision_release(&d);
		return -1;
	}
	ise_xgrow((void **)&t->turns, &t->cap, t->nturns + 1, sizeof *t->turns);
	struct ise_turn *turn = &t->turns[t->nturns++];
	memset(turn, 0, sizeof *turn);
	turn->query = d.query, d.query = NULL;
	ise_decision_release(&d);
	ise_json_add(t->messages, NULL, message("user", turn->query));
	return agent_turn(t, turn) < 0 ? -1 : 1;
}

static char *agent_system(const struct traj *t)
{
	cJSON *vars = ise_json_checked(cJSON_CreateObject());
	char *names = tool_names(t->c->tools);

	ise_template_var(vars, "workspace", "/workspace", "");
	ise_template_var(vars, "tools", names, "none");
	ise_template_var(vars, "network",
			 t->c->net ? "Shell commands have network access."
				   : "Shell commands have no network access; downloads and package "
				     "installs will fail, so work with what the user gives you.",
			 "");
	char *text = ise_template_fill(t->c->agent_prompt, strlen(t->c->agent_prompt), vars);
	free(names);
	cJSON_Delete(vars);
	return text;
}

static cJSON *role_usage(const struct ise_role_usage *u)
{
	cJSON *o = ise_json_checked(cJSON_CreateObject());

	ise_json_add(o, "requests", cJSON_CreateNumber((double)u->requests));
	ise_json_add(o, "prompt_tokens", cJSON_CreateNumber((double)u->prompt_tokens));
	ise_json_add(o, "completion_tokens", cJSON_CreateNumber((double)u->completion_tokens));
	if (u->estimated)
		ise_json_add(o, "estimated", cJSON_CreateTrue());
	return o;
}

/* A role's model: the one its server said answered, else the one asked
 * for, else null. */
static cJSON *model_of(const struct ise_role_usage *u, const char *asked)
{
	const char *name = *u->model ? u->model : asked;

	return name ? cJSON_CreateString(name) : cJSON_CreateNull();
}

/* {window, source, shortened, left_out, prefix_changes}: how the
 * simulator's last request was fitted to its window (simuser.h). */
static cJSON *user_context(const struct traj *t)
{
	const struct ise_context *c = &t->user_context;
	cJSON *o = ise_json_checked(cJSON_CreateObject());

	ise_json_add(o, "window",
		     c->window ? cJSON_CreateNumber((double)c->window) : cJSON_CreateNull());
	ise_json_add(o, "source", c->source ? cJSON_CreateString(c->source) : cJSON_CreateNull());
	ise_json_add(o, "shortened", cJSON_CreateNumber((double)t->user_fit.brief));
	ise_json_add(o, "left_out", cJSON_CreateNumber((double)t->user_fit.omitted));
	ise_json_add(o, "prefix_changes", cJSON_CreateNumber((double)t->user_fit.changes));
	return o;
}

static cJSON *models(const struct traj *t)
{
	cJSON *o = ise_json_checked(cJSON_CreateObject());

	ise_json_add(o, "user", model_of(&t->user, t->c->user_model));
	ise_json_add(o, "agent", model_of(&t->agent, t->c->agent_model));
	return o;
}

static double ms(double s)
{
	return floor(s * 1e3 + 0.5);
}

static cJSON *record_fields(struct traj *t)
{
	const struct ise_sim_config *c = t->c;
	cJSON *a = ise_json_checked(cJSON_CreateObject());

	int unverified = t->failure && !strcmp(t->failure, "unverified");
	ise_json_add(a, "status", cJSON_CreateString(t->failure ? "failed" : "completed"));
	/* the simulated user's verdict, which the checks may contradict */
	ise_json_add(a, "is_success", cJSON_CreateBool(!t->failure || unverified));
	ise_json_add(a, "failure",
		     t->failure ? cJSON_CreateString(t->failure) : cJSON_CreateNull());
	if (t->failure)
		ise_json_add(a, "error", cJSON_CreateString(t->error));
	ise_json_add(a, "messages", t->messages);
	t->messages = NULL;
	ise_json_add(a, "tools", cJSON_Duplicate(c->tools, 1));
	ise_json_add(a, "user_turns", cJSON_CreateNumber((double)t->nturns));
	ise_json_add(a, "total_steps", cJSON_CreateNumber((double)t->calls));
	ise_json_add(a, "simulator", t->decisions);
	t->decisions = NULL;
	cJSON *usage = ise_json_checked(cJSON_CreateObject());
	long in = t->user.prompt_tokens + t->agent.prompt_tokens;
	long out = t->user.completion_tokens + t->agent.completion_tokens;
	ise_json_add(usage, "prompt_tokens", cJSON_CreateNumber((double)in));
	ise_json_add(usage, "completion_tokens", cJSON_CreateNumber((double)out));
	ise_json_add(usage, "total_tokens", cJSON_CreateNumber((double)(in + out)));
	ise_json_add(usage, "user", role_usage(&t->user));
	ise_json_add(usage, "agent", role_usage(&t->agent));
	ise_json_add(a, "usage", usage);
	ise_json_add(a, "engine", cJSON_CreateString(t->script ? "offline" : "llm"));
	if (c->verify != ISE_VERIFY_OFF) {
		ise_json_add(a, "verification",
			     t->verification ? t->verification : cJSON_CreateNull());
		t->verification = NULL;
	}
	if (!t->script) {
		ise_json_add(a, "models", models(t));
		ise_json_add(a, "context", ise_context_record(&t->context));
		ise_json_add(a, "user_context", user_context(t));
	}
	ise_json_add(a, "workspace", cJSON_CreateString(t->id));
	ise_json_add(a, "isolation",
		     cJSON_CreateString(ise_isolation_name(ise_sandbox_level(c->sandbox))));
	ise_json_add(a, "template", cJSON_CreateString(c->template_name));
	if (c->timings) {
		cJSON *tm = ise_json_checked(cJSON_CreateObject());
		ise_json_add(tm, "total_ms", cJSON_CreateNumber(ms(ise_now() - t->start)));
		ise_json_add(tm, "user_ms", cJSON_CreateNumber(ms(t->t_user)));
		ise_json_add(tm, "agent_ms", cJSON_CreateNumber(ms(t->t_agent)));
		ise_json_add(tm, "tools_ms", cJSON_CreateNumber(ms(t->t_tools)));
		if (c->verify != ISE_VERIFY_OFF)
			ise_json_add(tm, "checks_ms", cJSON_CreateNumber(ms(t->t_checks)));
		ise_json_add(a, "timings", tm);
	}
	return a;
}

/* Run the tasks' checks on the final workspace; a trajectory the user
 * calls a success whose checks fail is unverified. */
static void verify(struct traj *t, int given_only)
{
	double t0 = ise_now();
	t->verification = ise_env_verify(t->ws, t->c->tools_config, t->env, given_only, t->messages,
					 t->c->timings);
	t->t_checks += ise_now() - t0;
	if (!t->verification || t->failure || t->c->verify != ISE_VERIFY_REQUIRE ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->verification, "verified")))
		return;
	const cJSON *passed = cJSON_GetObjectItemCaseSensitive(t->verification, "passed");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(t->verification, "total");
	fail(t, "unverified", "the user said the work was done, but %g of %g checks failed",
	     total->valuedouble - passed->valuedouble, total->valuedouble);
}

void ise_sim_run(const struct ise_sim_config *c, const cJSON *intent, struct ise_sim_outcome *out)
{
	struct traj t = {.c = c, .intent = intent};
	const char *why = NULL;

	memset(out, 0, sizeof *out);
	t.id = ise_json_string_or(intent, "id", "");
	t.persona = ise_sim_persona(intent);
	t.text = ise_json_string(intent, "natural_language_intent");
	t.seed = ise_hash_str(t.id, c->seed);
	if (!c->user_llm) {
		t.script = ise_script_new(intent, c->catalog, c->seed, &why);
		if (!t.script) {
			snprintf(out->error, sizeof out->error, "%s", why);
			return;
		}
	} else if (!t.text || !*t.text) {
		snprintf(out->error, sizeof out->error,
			 "record without a non-empty string 'natural_language_intent'");
		return;
	}
	t.start = ise_now();
	t.deadline = t.start + c->budget;
	ise_context_init(&t.context, c->context_window, c->context_source, c->agent_max_tokens);
	ise_context_init(&t.user_context, c->user_context_window, c->user_context_source,
			 c->user_max_tokens);
	t.user_fit.context = &t.user_context;
	t.messages = ise_json_checked(cJSON_CreateArray());
	ise_idset_init(&t.ids);
	t.decisions = ise_json_checked(cJSON_CreateArray());
	char *system = agent_system(&t);
	ise_json_add(t.messages, NULL, message("system", system));
	free(system);
	char err[512] = "";
	/* an LLM run's checks need the slot values its request was written
	 * from (task_params); the offline engine draws and uses its own */
	int given_only = c->user_llm != NULL;
	t.env = t.script;
	if (!t.env && c->catalog)
		t.env = ise_script_new(intent, c->catalog, c->seed, &why);
	t.ws = ise_ws_open(c->sandbox, t.id, NULL, err, sizeof err);
	if (!t.ws)
		fail(&t, "workspace_error", "%s", err);
	else if (t.env && ise_env_setup(t.ws, t.env, given_only, err, sizeof err))
		fail(&t, "setup_error", "%s", err);
	while (t.ws && !t.failure && user_turn(&t) > 0)
		;
	if (t.ws && !t.fatal && t.env && c->verify != ISE_VERIFY_OFF)
		verify(&t, given_only);
	if (t.ws && c->keep_dir && ise_ws_keep(t.ws, c->keep_dir, NULL, err, sizeof err))
		ise_warn("%s: cannot keep the workspace in '%s': %s", t.id, c->keep_dir, err);
	if (t.ws)
		ise_ws_close(t.ws);
	if (c->stats) {
		atomic_fetch_add(&c->stats->turns, t.nturns);
		atomic_fetch_add(&c->stats->calls, t.calls);
		atomic_fetch_add(
		    &c->stats->tokens,
		    (unsigned long long)(t.user.prompt_tokens + t.user.completion_tokens +
					 t.agent.prompt_tokens + t.agent.completion_tokens));
	}
	out->fatal = t.fatal;
	out->failure = t.failure;
	snprintf(out->error, sizeof out->error, "%s", t.error);
	out->added = record_fields(&t);
	for (size_t i = 0; i < t.nturns; i++)
		turn_release(&t.turns[i]);
	free(t.turns);
	if (t.env != t.script)
		ise_script_free(t.env);
	ise_script_free(t.script);
	cJSON_Delete(t.verification);
	ise_context_release(&t.context);
	ise_context_release(&t.user_context);
	ise_idset_release(&t.ids);
}
