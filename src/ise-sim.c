/*
 * ise-sim: play each intent as a conversation between a simulated user and
 * a tool-using agent whose tool calls run for real in a sandbox, with
 * models behind OpenAI-compatible endpoints or the offline engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/catalog.h"
#include "app/cli.h"
#include "core/diag.h"
#include "core/embedded.h"
#include "core/jsondoc.h"
#include "core/jsonl.h"
#include "exec/keep.h"
#include "core/lexicon.h"
#include "llm/llm.h"
#include "llm/ready.h"
#include "app/pool.h"
#include "app/resume.h"
#include "app/sandbox_opts.h"
#include "exec/sandbox.h"
#include "sim/sim.h"
#include "sim/simprogress.h"
#include "sim/simsetup.h"
#include "exec/tools.h"
#include "core/xalloc.h"

enum {
	OPT_USER_PROMPT = 0x200,
	OPT_AGENT_PROMPT,
	OPT_TOOLS,
	OPT_CATALOG,
	OPT_LEXICON,
	OPT_MAX_TURNS,
	OPT_MAX_STEPS,
	OPT_BUDGET,
	OPT_SIM_ATTEMPTS,
	OPT_DRIFT_RETRIES,
	OPT_REJECTS,
	OPT_THINK,
	OPT_TEXT_TOOL_CALLS,
	OPT_KEEP,
	OPT_NO_TIMINGS,
	OPT_USER_BASE_URL,
	OPT_USER_MODEL,
	OPT_AGENT_BASE_URL,
	OPT_AGENT_MODEL,
	OPT_VERIFY,
	OPT_TRIALS,
	OPT_CONTEXT,
	OPT_USER_CONTEXT,
	OPT_USER_EXTRA_BODY,
	OPT_AGENT_EXTRA_BODY,
};

struct role {
	const char *base_url, *model; /* from --user-* or --agent-* */
	const cJSON *extra_body;
};

struct config {
	const char *user_prompt_file, *agent_prompt_file, *tools_file, *catalog_file;
	const char *lexicon_file, *rejects_file;
	struct role user, agent;
	struct ise_sim_config sim;
	struct ise_sandbox_config sandbox;
	struct ise_tools_config tools;
	struct ise_sim_stats stats;
	unsigned trials;              /* --trials: plays of each intent */
	long context;                 /* --context: the agent's window; 0: ask the server */
	long user_context;            /* --user-context: the simulator's */
	const struct ise_idset *done; /* ids the output holds (--resume) */
};

static const struct option options[] = {
    {"user-prompt", required_argument, NULL, OPT_USER_PROMPT},
    {"agent-prompt", required_argument, NULL, OPT_AGENT_PROMPT},
    {"tools", required_argument, NULL, OPT_TOOLS},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"lexicon", required_argument, NULL, OPT_LEXICON},
    {"max-turns", required_argument, NULL, OPT_MAX_TURNS},
    {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"sim-attempts", required_argument, NULL, OPT_SIM_ATTEMPTS},
    {"drift-retries", required_argument, NULL, OPT_DRIFT_RETRIES},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"think", required_argument, NULL, OPT_THINK},
    {"text-tool-calls", required_argument, NULL, OPT_TEXT_TOOL_CALLS},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"no-timings", no_argument, NULL, OPT_NO_TIMINGS},
    {"user-base-url", required_argument, NULL, OPT_USER_BASE_URL},
    {"user-model", required_argument, NULL, OPT_USER_MODEL},
    {"agent-base-url", required_argument, NULL, OPT_AGENT_BASE_URL},
    {"agent-model", required_argument, NULL, OPT_AGENT_MODEL},
    {"verify", required_argument, NULL, OPT_VERIFY},
    {"trials", required_argument, NULL, OPT_TRIALS},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"user-context", required_argument, NULL, OPT_USER_CONTEXT},
    {"user-extra-body", required_argument, NULL, OPT_USER_EXTRA_BODY},
    {"agent-extra-body", required_argument, NULL, OPT_AGENT_EXTRA_BODY},
    ISE_SANDBOX_OPTIONS,
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--max-turns N] [--max-steps N] [--budget SECS] [--rejects FILE]\n"
		"       [--think inline|keep|drop] [--text-tool-calls parse|fail]\n"
		"       [--tools FILE] [--user-prompt FILE]\n"
		"       [--agent-prompt FILE] [--keep DIR] [--verify require|record|off]\n"
		"       [--trials K] [--context TOKENS] [--user-context TOKENS]\n"
		"       [sandbox options] [-j N]\n"
		"       [-o FILE [--resume]] [--progress] [LLM options] [FILE...]",
    .about = "Play each intent of FILE (or standard input) as a conversation: a simulated\n"
	     "user gives one instruction per turn to an agent whose tool calls run for real\n"
	     "in a sandboxed workspace; write the completed trajectories.",
    .help = "      --max-turns=N   user turns at most (default 20)\n"
	    "      --max-steps=N   agent messages per user turn at most (default 30)\n"
	    "      --budget=SECS   wall time of one trajectory at most (default 1800)\n"
	    "      --rejects=FILE  write the trajectories that fail here, with why\n"
	    "      --think=MODE    agent reasoning, sent back and stored: keep\n"
	    "                      (reasoning_content, default), inline (<think> in\n"
	    "                      content) or drop\n"
	    "      --text-tool-calls=MODE  tool calls the server left in the text: parse\n"
	    "                      them (default) or fail the trajectory\n"
	    "      --tools=FILE    the agent's tool specs (default: the catalog's 16)\n"
	    "      --catalog=FILE  task catalog, for the offline engine and the tools\n"
	    "      --user-prompt=FILE   simulator prompt (default: prompts/user.txt)\n"
	    "      --agent-prompt=FILE  agent system prompt (default: prompts/agent.txt)\n"
	    "      --lexicon=FILE  role-drift phrases a user turn may not hold\n"
	    "      --sim-attempts=N     simulator requests for a usable reply (default 3)\n"
	    "      --drift-retries=N    redrafts of a user turn that drifts (default 3)\n"
	    "      --keep=DIR      save each workspace's files under DIR/ID\n"
	    "      --verify=MODE   run the tasks' checks: require (default: a success\n"
	    "                      whose checks fail is rejected), record, or off\n"
	    "      --trials=K      play each intent K times (ids ID#1..ID#K), for pass@k\n"
	    "      --no-timings    leave timings out, so reruns give the same bytes\n"
	    "      --user-base-url=URL, --user-model=NAME    the simulator's endpoint\n"
	    "      --agent-base-url=URL, --agent-model=NAME  the agent's endpoint\n"
	    "      --user-extra-body=JSON, --agent-extra-body=JSON  a role's own --extra-body\n"
	    "      --context=TOKENS  the agent model's context window (default: what\n"
	    "                      the server reports; old tool outputs are cut to fit)\n"
	    "      --user-context=TOKENS  the simulator model's (default: likewise; the\n"
	    "                      oldest turns it is shown are shortened to fit)\n"
	    "\nthe sandbox, as in ise-exec:\n" ISE_SANDBOX_HELP "\n",
    .options = options,
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_JOBS | ISE_OPT_PROGRESS |
	      ISE_OPT_LLM,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	if (ise_sandbox_option(opt, arg, &cf->sandbox, &cf->tools))
		return;
	switch (opt) {
	case OPT_USER_PROMPT:
		cf->user_prompt_file = arg;
		break;
	case OPT_AGENT_PROMPT:
		cf->agent_prompt_file = arg;
		break;
	case OPT_TOOLS:
		cf->tools_file = arg;
		break;
	case OPT_CATALOG:
		cf->catalog_file = arg;
		break;
	case OPT_LEXICON:
		cf->lexicon_file = arg;
		break;
	case OPT_MAX_TURNS:
		cf->sim.max_turns = (unsigned)ise_parse_uint("--max-turns", arg, 1, 1000);
		break;
	case OPT_MAX_STEPS:
		cf->sim.max_steps = (unsigned)ise_parse_uint("--max-steps", arg, 1, 10000);
		break;
	case OPT_BUDGET:
		cf->sim.budget = ise_parse_double("--budget", arg, 0.001, 7 * 86400);
		break;
	case OPT_SIM_ATTEMPTS:
		cf->sim.sim_attempts = (unsigned)ise_parse_uint("--sim-attempts", arg, 1, 100);
		break;
	case OPT_DRIFT_RETRIES:
		cf->sim.drift_retries = (unsigned)ise_parse_uint("--drift-retries", arg, 0, 100);
		break;
	case OPT_REJECTS:
		cf->rejects_file = arg;
		break;
	case OPT_THINK:
		if (!strcmp(arg, "keep"))
			cf->sim.think = ISE_THINK_KEEP;
		else if (!strcmp(arg, "inline"))
			cf->sim.think = ISE_THINK_INLINE;
		else if (!strcmp(arg, "drop"))
			cf->sim.think = ISE_THINK_DROP;
		else
			ise_usage_error("invalid value for --think: '%s' (inline, keep or drop)",
					arg);
		break;
	case OPT_TEXT_TOOL_CALLS:
		if (!strcmp(arg, "parse"))
			cf->sim.text_calls = ISE_TEXTCALLS_PARSE;
		else if (!strcmp(arg, "fail"))
			cf->sim.text_calls = ISE_TEXTCALLS_FAIL;
		else
			ise_usage_error("invalid value for --text-tool-calls: '%s' (parse or fail)",
					arg);
		break;
	case OPT_KEEP:
		cf->sim.keep_dir = arg;
		break;
	case OPT_NO_TIMINGS:
		cf->sim.timings = 0;
		break;
	case OPT_USER_BASE_URL:
		cf->user.base_url = arg;
		break;
	case OPT_USER_MODEL:
		cf->user.model = arg;
		break;
	case OPT_AGENT_BASE_URL:
		cf->agent.base_url = arg;
		break;
	case OPT_AGENT_MODEL:
		cf->agent.model = arg;
		break;
	case OPT_VERIFY:
		if (!strcmp(arg, "require"))
			cf->sim.verify = ISE_VERIFY_REQUIRE;
		else if (!strcmp(arg, "record"))
			cf->sim.verify = ISE_VERIFY_RECORD;
		else if (!strcmp(arg, "off"))
			cf->sim.verify = ISE_VERIFY_OFF;
		else
			ise_usage_error("invalid value for --verify: '%s' (require, record or off)",
					arg);
		break;
	case OPT_TRIALS:
		cf->trials = (unsigned)ise_parse_uint("--trials", arg, 1, 1000);
		break;
	case OPT_CONTEXT:
		cf->context = (long)ise_parse_uint("--context", arg, 64, 1 << 30);
		break;
	case OPT_USER_CONTEXT:
		cf->user_context = (long)ise_parse_uint("--user-context", arg, 64, 1 << 30);
		break;
	case OPT_USER_EXTRA_BODY:
		cf->user.extra_body = ise_parse_extra_body("--user-extra-body", arg);
		break;
	case OPT_AGENT_EXTRA_BODY:
		cf->agent.extra_body = ise_parse_extra_body("--agent-extra-body", arg);
		break;
	}
}

/* Wait for the servers, then learn the models' context windows: --context
 * and --user-context, else what each server reports (one client: one
 * window).  A read-only cache replays without a server: only the options
 * give it a window. */
static void windows(struct config *cf, struct ise_sim_config *s, const struct ise_llm_config *user,
		    const struct ise_llm_config *agent, int ro)
{
	char err[1024];

	s->agent_max_tokens = agent->max_tokens;
	s->user_max_tokens = user->max_tokens;
	if (!ro && (!cf->context || !cf->user_context) &&
	    (ise_llm_wait_ready(s->agent_llm, err, sizeof err) ||
	     (s->user_llm != s->agent_llm && ise_llm_wait_ready(s->user_llm, err, sizeof err))))
		ise_fatal("%s", err);
	if (cf->context) {
		s->context_window = cf->context;
		s->context_source = "--context";
	} else if (!ro) {
		s->context_window = ise_llm_context_window(s->agent_llm, &s->context_source);
	}
	if (cf->user_context) {
		s->user_context_window = cf->user_context;
		s->user_context_source = "--user-context";
	} else if (s->user_llm == s->agent_llm && !cf->context) {
		s->user_context_window = s->context_window;
		s->user_context_source = s->context_source;
	} else if (!ro) {
		s->user_context_window =
		    ise_llm_context_window(s->user_llm, &s->user_context_source);
	}
	if (s->context_window && s->context_window <= agent->max_tokens)
		ise_fatal(
		    "--max-tokens %ld leaves no room for a prompt in the agent model's context "
		    "window of %ld tokens (%s): lower --max-tokens",
		    agent->max_tokens, s->context_window, s->context_source);
	if (s->user_context_window && s->user_context_window <= user->max_tokens)
		ise_fatal("--max-tokens %ld leaves no room for a prompt in the simulator model's "
			  "context window of %ld tokens (%s): lower --max-tokens",
			  user->max_tokens, s->user_context_window, s->user_context_source);
}

static char *read_text(const char *path, const char *builtin)
{
	size_t len;

	return path ? ise_read_file(path, &len) : ise_xstrdup(builtin);
}

/* One play of the intent; with trial > 0 the record is a whole one of its
 * own (id ID#TRIAL, trial, intent_id), added to job->out or job->reject as
 * one of their elements.  0 when it was played. */
static int play(struct config *cf, struct ise_job *job, const cJSON *intent, unsigned trial)
{
	struct ise_sim_outcome out;

	ise_sim_run(&cf->sim, intent, &out);
	if (!out.added) { /* not an intent it can play */
		snprintf(job->error, sizeof job->error, "%s", out.error);
		return -1;
	}
	atomic_fetch_add(&cf->stats.done, 1);
	if (out.fatal) { /* left for --resume: neither kept nor rejected */
		snprintf(job->error, sizeof job->error, "%s", out.error);
		job->fatal = 1;
		cJSON_Delete(out.added);
		return -1;
	}
	cJSON *record = trial || out.failure ? ise_json_checked(cJSON_Duplicate(intent, 1)) : NULL;
	cJSON *item;
	if (record) {
		cJSON_ArrayForEach(item, out.added) {
			cJSON_DeleteItemFromObjectCaseSensitive(record, item->string);
		}
		while ((item = out.added->child)) {
			cJSON_DetachItemViaPointer(out.added, item);
			cJSON_AddItemToObject(record, item->string, item);
		}
		cJSON_Delete(out.added);
		out.added = NULL;
	}
	if (!out.failure) {
		atomic_fetch_add(&cf->stats.kept, 1);
		if (!trial)
			job->added = out.added;
		else
			ise_json_add(job->out ? job->out : (job->out = cJSON_CreateArray()), NULL,
				     record);
		return 0;
	}
	atomic_fetch_add(&cf->stats.rejected, 1);
	if (!trial) {
		snprintf(job->error, sizeof job->error, "trajectory rejected (%s): %s", out.failure,
			 out.error);
		job->reject = record;
		return 0;
	}
	ise_record_error(job->file, job->line, 0, "trajectory %s rejected (%s): %s",
			 ise_json_string_or(record, "id", ""), out.failure, out.error);
	ise_json_add(job->reject ? job->reject : (job->reject = cJSON_CreateArray()), NULL, record);
	return 0;
}

static void work(void *ctx, struct ise_job *job)
{
	struct config *cf = ctx;

	if (cf->trials <= 1) {
		play(cf, job, job->in, 0);
		return;
	}
	const char *id = ise_json_string_or(job->in, "id", "");
	for (unsigned t = 1; t <= cf->trials && !job->fatal; t++) {
		char *tid = ise_xasprintf("%s#%u", id, t);
		if (cf->done && ise_idset_has(cf->done, tid)) { /* --resume */
			free(tid);
			continue;
		}
		cJSON *intent = ise_json_checked(cJSON_Duplicate(job->in, 1));
		cJSON_DeleteItemFromObjectCaseSensitive(intent, "id");
		ise_json_add(intent, "id", cJSON_CreateString(tid));
		ise_json_add(intent, "intent_id", cJSON_CreateString(id));
		ise_json_add(intent, "trial", cJSON_CreateNumber(t));
		free(tid);
		int rc = play(cf, job, intent, t);
		cJSON_Delete(intent);
		if (rc)
			break;
	}
}

int main(int argc, char **argv)
{
	struct config cf = {.sim = {.max_turns = 20,
				    .max_steps = 30,
				    .budget = 1800,
				    .sim_attempts = 3,
				    .drift_retries = 3,
				    .timings = 1}};
	struct ise_options o;
	struct ise_catalog catalog;
	struct ise_lexicon drift;
	struct ise_reader in;
	struct ise_writer out, rejects;
	struct ise_idset done;
	char err[512] = "";

	ise_diag_init(argv[0]);
	ise_sandbox_config_default(&cf.sandbox);
	ise_tools_config_default(&cf.tools);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	ise_output_check(&o, "--rejects", cf.rejects_file);

	struct ise_llm_config user = ise_sim_role(&o.llm, "USER", cf.user.base_url, cf.user.model);
	struct ise_llm_config agent =
	    ise_sim_role(&o.llm, "AGENT", cf.agent.base_url, cf.agent.model);
	if (cf.user.extra_body)
		user.extra_body = cf.user.extra_body;
	if (cf.agent.extra_body)
		agent.extra_body = cf.agent.extra_body;
	int ro = o.llm.cache_mode == ISE_CACHE_RO;
	if (o.offline == ISE_OFFLINE_NO_ENDPOINT && (user.base_url || agent.base_url))
		o.offline = 0; /* the roles have endpoints of their own */
	if (!o.offline && !ro && (!user.base_url || !agent.base_url))
		ise_usage_error("no endpoint for the %s (ISE_%s_BASE_URL, --%s-base-url or "
				"OPENAI_BASE_URL)",
				user.base_url ? "agent" : "simulated user",
				user.base_url ? "AGENT" : "USER", user.base_url ? "agent" : "user");

	if (cf.sim.keep_dir && ise_keep_dir_check(cf.sim.keep_dir, err, sizeof err))
		ise_die(ISE_EXIT_USAGE, "--keep: %s", err);
	ise_catalog_load(&catalog, cf.catalog_file);
	ise_lexicon_load(&drift, cf.lexicon_file);
	cJSON *tools = ise_sim_tools(cf.tools_file, &catalog);
	char *user_prompt = read_text(cf.user_prompt_file, ise_data_user);
	char *agent_prompt = read_text(cf.agent_prompt_file, ise_data_agent);

	/* before any thread: it moves the process into a mount namespace */
	struct ise_sandbox *sandbox = ise_sandbox_new(&cf.sandbox, err, sizeof err);
	if (!sandbox)
		ise_fatal("sandbox: %s", err);
	cJSON *described = ise_sandbox_describe(sandbox);

	ise_cli_note_offline(&o);
	struct ise_sim_config *s = &cf.sim;
	struct ise_llm *agent_gate = NULL; /* the agent's client, when its limit is its own */
	if (!o.offline) {
		s->user_llm = ise_llm_new(&user);
		s->agent_llm =
		    ise_sim_same_endpoint(&user, &agent) ? s->user_llm : ise_llm_new(&agent);
		/* two models of one server: one limit on the requests in flight */
		if (s->agent_llm != s->user_llm && ise_sim_same_server(&user, &agent))
			ise_llm_share_jobs(s->agent_llm, s->user_llm);
		else if (s->agent_llm != s->user_llm)
			agent_gate = s->agent_llm; /* a limit of its own, shown apart */
		s->user_model = user.model;
		s->agent_model = agent.model;
		windows(&cf, s, &user, &agent, ro);
	}
	s->user_prompt = user_prompt;
	s->agent_prompt = agent_prompt;
	s->catalog = &catalog;
	s->drift = &drift;
	s->tools = tools;
	s->sandbox = sandbox;
	s->tools_config = &cf.tools;
	s->template_name = cf.sandbox.template_dir ? cf.sandbox.template_dir : "built-in";
	s->exec_timeout = cf.sandbox.timeout_s;
	s->net = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(described, "network"));
	s->seed = o.seed;
	s->stats = &cf.stats;
	cJSON_Delete(described);

	ise_output_open(&o, &out, ISE_WRITE_UNBUFFERED, &done);
	cf.done = &done;
	if (cf.rejects_file)
		/* rewritten every run: a resumed run plays every reject again */
		ise_writer_open(&rejects, cf.rejects_file, ISE_WRITE_UNBUFFERED);
	ise_reader_init(&in, o.files, o.nfiles, o.max_line, ise_read_flags(&o));
	struct ise_options pool_options = o;
	pool_options.progress = 0; /* ise-sim draws its own line */
	struct ise_pool_io io = {.in = &in,
				 .out = &out,
				 .rejects = cf.rejects_file ? &rejects : NULL,
				 .done = &done,
				 .options = &pool_options};
	struct ise_sim_progress *progress =
	    ise_sim_progress_start(&cf.stats, o.progress, s->user_llm, agent_gate);
	int status = ise_pool_run(&io, work, &cf);
	ise_sim_progress_stop(progress);
	if (s->user_llm) {
		char totals[256];
		ise_llm_totals(s->user_llm, totals, sizeof totals);
		ise_warn("%s: %s", s->agent_llm == s->user_llm ? "models" : "simulated user",
			 totals);
		if (s->agent_llm != s->user_llm) {
			ise_llm_totals(s->agent_llm, totals, sizeof totals);
			ise_warn("agent: %s", totals);
		}
	}
	ise_writer_close(&out);
	if (cf.rejects_file)
		ise_writer_close(&rejects);
	ise_reader_release(&in);
	ise_idset_release(&done);
	if (s->agent_llm != s->user_llm)
		ise_llm_free(s->agent_llm);
	ise_llm_free(s->user_llm);
	ise_sandbox_free(sandbox);
	cJSON_Delete(tools);
	free(user_prompt);
	free(agent_prompt);
	ise_lexicon_release(&drift);
	ise_catalog_release(&catalog);
	return status;
}
