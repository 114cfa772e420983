/*
 * ise-render: turn each intent tuple into a natural-language request in the
 * persona's voice, with a model behind an OpenAI-compatible endpoint or with
 * the built-in offline engine.
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
#include "llm/llm.h"
#include "gen/persona.h"
#include "app/pool.h"
#include "gen/render.h"
#include "gen/render_check.h"
#include "gen/render_llm.h"
#include "gen/render_offline.h"
#include "app/resume.h"
#include "core/rng.h"
#include "core/xalloc.h"

enum {
	OPT_CATALOG = 0x200,
	OPT_PROMPT,
	OPT_REJECTS,
	OPT_ATTEMPTS,
	OPT_WORDS,
};

struct config {
	const char *catalog_file, *prompt_file, *rejects_file, *words;
	unsigned attempts, min_words, max_words;
	struct ise_catalog catalog;
	char *prompt;
	struct ise_llm *llm;
	struct ise_options *o;
};

static const struct option options[] = {
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"prompt", required_argument, NULL, OPT_PROMPT},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"attempts", required_argument, NULL, OPT_ATTEMPTS},
    {"words", required_argument, NULL, OPT_WORDS},
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--catalog FILE] [--prompt FILE] [--rejects FILE] [--attempts N]\n"
		"       [--words A-B] [-j N] [--unordered] [-s N] [-o FILE [--resume]]\n"
		"       [--strict] [--max-line SIZE] [--progress] [LLM options] [FILE...]",
    .about = "Add natural_language_intent to each tuple of FILE (or standard input): one\n"
	     "first-person request in the persona's voice that composes all its tasks.",
    .help = "      --catalog=FILE  task catalog (default: built in)\n"
	    "      --prompt=FILE   prompt template (default: share/ise/prompts/render.txt)\n"
	    "      --rejects=FILE  write tuples that still fail after --attempts here\n"
	    "      --attempts=N    tries per tuple, each with a new seed (default 4)\n"
	    "      --words=A-B     accepted length in words (default 90-160)\n",
    .options = options,
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_JOBS | ISE_OPT_PROGRESS |
	      ISE_OPT_LLM,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	switch (opt) {
	case OPT_CATALOG:
		cf->catalog_file = arg;
		break;
	case OPT_PROMPT:
		cf->prompt_file = arg;
		break;
	case OPT_REJECTS:
		cf->rejects_file = arg;
		break;
	case OPT_ATTEMPTS:
		cf->attempts = (unsigned)ise_parse_uint("--attempts", arg, 1, 100);
		break;
	case OPT_WORDS:
		ise_parse_range("--words", arg, 1, 10000, &cf->min_words, &cf->max_words);
		break;
	}
}

/* A tuple this program can render, or why not. */
static const char *check_tuple(const cJSON *t)
{
	const cJSON *persona = cJSON_GetObjectItemCaseSensitive(t, "persona");
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(t, "tasks"), *task;

	if (!cJSON_IsObject(persona))
		return "tuple without a 'persona' object";
	const char *why = ise_persona_check(persona);
	if (why)
		return why;
	if (!cJSON_IsArray(tasks) || !cJSON_GetArraySize(tasks))
		return "tuple without a non-empty 'tasks' array";
	cJSON_ArrayForEach(task, tasks)
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(task, "id")))
			return "a task without a string 'id'";
	return NULL;
}

static cJSON *usage_object(long prompt, long completion, int estimated)
{
	cJSON *u = cJSON_CreateObject();

	cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt);
	cJSON_AddNumberToObject(u, "completion_tokens", (double)completion);
	if (estimated)
		cJSON_AddTrueToObject(u, "estimated");
	return u;
}

/* Ask the model until a reply passes the checks or the attempts run out. */
static void render_llm(struct config *cf, struct ise_job *job, const cJSON *params,
		       uint64_t record_seed)
{
	cJSON *messages = ise_render_messages(cf->prompt, job->in, &cf->catalog, params,
					      cf->min_words, cf->max_words);
	const char *why = "no attempt made";
	long prompt = 0, completion = 0;
	int estimated = 0;
	char last[512] = "", problem[600];

	for (unsigned attempt = 0; attempt < cf->attempts; attempt++) {
		struct ise_llm_reply reply;
		cJSON *request = cJSON_CreateObject();
		cJSON_AddItemToObject(request, "messages", cJSON_Duplicate(messages, 1));
		/* a new seed per attempt: an identical request would fail identically */
		cJSON_AddNumberToObject(request, "seed",
					(double)((record_seed + attempt) & 0x7fffffff));
		enum ise_llm_status st =
		    ise_llm_chat(cf->llm, request, &reply, job->error, sizeof job->error);
		cJSON_Delete(request);
		if (st != ISE_LLM_OK) {
			job->fatal = st == ISE_LLM_FATAL;
			ise_llm_reply_release(&reply);
			cJSON_Delete(messages);
			return;
		}
		prompt += reply.prompt_tokens, completion += reply.completion_tokens;
		estimated |= reply.usage_estimated;
		/* never an intent from a reply cut at the token limit, nor from
		 * reasoning when the reply has no text */
		why = ise_llm_reply_problem(cf->llm, &reply, problem, sizeof problem);
		if (!why)
			why = ise_render_check(reply.content, cf->min_words, cf->max_words);
		if (!why) {
			cJSON *meta = cJSON_CreateObject();
			cJSON_AddStringToObject(job->added, "natural_language_intent",
						reply.content);
			cJSON_AddItemToObject(job->added, "task_params",
					      cJSON_Duplicate(params, 1));
			cJSON_AddStringToObject(job->added, "engine", "llm");
			/* the model the server says answered, whatever was asked */
			cJSON_AddStringToObject(meta, "model",
						reply.model        ? reply.model
						: cf->o->llm.model ? cf->o->llm.model
								   : "");
			cJSON_AddNumberToObject(meta, "seed",
						(double)((record_seed + attempt) & 0x7fffffff));
			cJSON_AddNumberToObject(meta, "attempts", attempt + 1);
			cJSON_AddStringToObject(meta, "finish_reason", reply.finish_reason);
			cJSON_AddStringToObject(meta, "request_hash", reply.request_hash);
			if (reply.reasoning)
				cJSON_AddStringToObject(meta, "reasoning", reply.reasoning);
			cJSON_AddItemToObject(meta, "usage",
					      usage_object(prompt, completion, estimated));
			cJSON_AddItemToObject(job->added, "render", meta);
			ise_llm_reply_release(&reply);
			cJSON_Delete(messages);
			return;
		}
		snprintf(last, sizeof last, "%s", reply.content);
		ise_llm_reply_release(&reply);
	}
	cJSON_Delete(messages);
	snprintf(job->error, sizeof job->error, "no acceptable intent after %u attempts: %s",
		 cf->attempts, why);
	job->reject = cJSON_Duplicate(job->in, 1);
	cJSON_AddStringToObject(job->reject, "render_error", why);
	cJSON_AddStringToObject(job->reject, "last_reply", last);
	cJSON_Delete(job->added);
	job->added = NULL;
}

static void work(void *ctx, struct ise_job *job)
{
	struct config *cf = ctx;
	const char *why = check_tuple(job->in);
	const char *id = cJSON_GetObjectItemCaseSensitive(job->in, "id")->valuestring;

	if (why) {
		snprintf(job->error, sizeof job->error, "%s", why);
		return;
	}
	gsl_rng *rng = ise_rng_new(); /* taus2: a few words, cheap per record */
	ise_rng_seed_key(rng, cf->o->seed, id);
	cJSON *params = ise_render_params(job->in, &cf->catalog, rng, &why);
	if (!params) {
		snprintf(job->error, sizeof job->error, "%s", why);
		gsl_rng_free(rng);
		return;
	}
	job->added = cJSON_CreateObject();
	if (cf->o->offline) {
		char *text = ise_render_offline(job->in, &cf->catalog, params, rng);
		cJSON_AddStringToObject(job->added, "natural_language_intent", text);
		cJSON_AddItemToObject(job->added, "task_params", params);
		cJSON_AddStringToObject(job->added, "engine", "offline");
		free(text);
	} else {
		render_llm(cf, job, params, ise_hash_str(id, cf->o->seed));
		cJSON_Delete(params);
	}
	gsl_rng_free(rng);
}

static char *read_prompt(const char *path)
{
	size_t len;

	return path ? ise_read_file(path, &len) : ise_xstrdup(ise_data_render);
}

int main(int argc, char **argv)
{
	struct config cf = {.attempts = 4, .min_words = 90, .max_words = 160};
	struct ise_options o;
	struct ise_reader in;
	struct ise_writer out, rejects;
	struct ise_idset done;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	ise_output_check(&o, "--rejects", cf.rejects_file);
	cf.o = &o;
	ise_catalog_load(&cf.catalog, cf.catalog_file);
	cf.prompt = read_prompt(cf.prompt_file);
	ise_cli_note_offline(&o);
	if (!o.offline)
		cf.llm = ise_llm_new(&o.llm);
	ise_output_open(&o, &out, cf.llm ? ISE_WRITE_UNBUFFERED : 0, &done);
	if (cf.rejects_file)
		/* rewritten every run: a resumed run retries every reject */
		ise_writer_open(&rejects, cf.rejects_file, ISE_WRITE_UNBUFFERED);
	ise_reader_init(&in, o.files, o.nfiles, o.max_line, ise_read_flags(&o));
	struct ise_pool_io io = {.in = &in,
				 .out = &out,
				 .rejects = cf.rejects_file ? &rejects : NULL,
				 .done = &done,
				 .options = &o,
				 .llm = cf.llm};
	int status = ise_pool_run(&io, work, &cf);
	if (cf.llm) {
		char totals[256];
		ise_llm_totals(cf.llm, totals, sizeof totals);
		ise_warn("%s", totals);
	}
	ise_writer_close(&out);
	if (cf.rejects_file)
		ise_writer_close(&rejects);
	ise_reader_release(&in);
	ise_idset_release(&done);
	ise_llm_free(cf.llm);
	ise_catalog_release(&cf.catalog);
	free(cf.prompt);
	return status;
}
