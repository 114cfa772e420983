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
#include "llm/batchfile.h"
#include "llm/llm.h"
#include "gen/persona.h"
#include "app/pool.h"
#include "gen/render.h"
#include "gen/render_check.h"
#include "gen/render_llm.h"
#include "gen/render_offline.h"
#include "app/batch_opts.h"
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
	struct ise_batch_opts batch;
	const char *emit_file; /* this pass writes requests here */
	const char **outputs;  /* the batch output files this pass reads */
	size_t noutputs;
	struct ise_batch_results results;
};

static const struct option options[] = {
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"prompt", required_argument, NULL, OPT_PROMPT},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"attempts", required_argument, NULL, OPT_ATTEMPTS},
    {"words", required_argument, NULL, OPT_WORDS},
    ISE_BATCH_FILE_OPTIONS,
    ISE_BATCH_API_OPTIONS,
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--catalog FILE] [--prompt FILE] [--rejects FILE] [--attempts N]\n"
		"       [--words A-B] [--emit-requests FILE] [--responses FILE]\n"
		"       [--batch [--batch-cancel] [--batch-poll SECS] [--batch-max-requests N]\n"
		"       [--batch-max-bytes SIZE]]\n"
		"       [-j N] [--unordered] [-s N] [-o FILE [--resume]]\n"
		"       [--strict] [--max-line SIZE] [--progress] [LLM options] [FILE...]",
    .about = "Add natural_language_intent to each tuple of FILE (or standard input): one\n"
	     "first-person request in the persona's voice that composes all its tasks.",
    .help = "      --catalog=FILE  task catalog (default: built in)\n"
	    "      --prompt=FILE   prompt template (default: share/ise/prompts/render.txt)\n"
	    "      --rejects=FILE  write tuples that still fail after --attempts here\n"
	    "      --attempts=N    tries per tuple, each with a new seed (default 4)\n"
	    "      --words=A-B     accepted length in words (default 90-160)\n" ISE_BATCH_FILE_HELP
		ISE_BATCH_API_HELP,
    .options = options,
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_JOBS | ISE_OPT_PROGRESS |
	      ISE_OPT_LLM,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	if (ise_batch_option(opt, arg, &cf->batch))
		return;
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

/* What the attempts at one record have come to so far. */
struct tally {
	long prompt, completion;
	int estimated;
	const char *why;
	char last[512], problem[600];
};

/* The request of attempt number attempt (0-based): a new seed each, since
 * an identical request would fail identically. */
static cJSON *attempt_request(const cJSON *messages, uint64_t record_seed, unsigned attempt)
{
	cJSON *request = cJSON_CreateObject();

	cJSON_AddItemToObject(request, "messages", cJSON_Duplicate(messages, 1));
	cJSON_AddNumberToObject(request, "seed", (double)((record_seed + attempt) & 0x7fffffff));
	return request;
}

/* Keep reply, the answer to attempt (0-based), as the record's intent: 1;
 * or say in t->why why not and keep its text in t->last: 0.  The one check
 * of a reply, whether the server sent it or a batch output file holds it. */
static int accept(struct config *cf, struct ise_job *job, const cJSON *params,
		  const struct ise_llm_reply *reply, uint64_t record_seed, unsigned attempt,
		  struct tally *t)
{
	t->prompt += reply->prompt_tokens, t->completion += reply->completion_tokens;
	t->estimated |= reply->usage_estimated;
	/* never an intent from a reply cut at the token limit, nor from
	 * reasoning when the reply has no text */
	t->why = ise_llm_reply_problem(cf->llm, reply, t->problem, sizeof t->problem);
	if (!t->why)
		t->why = ise_render_check(reply->content, cf->min_words, cf->max_words);
	if (t->why) {
		snprintf(t->last, sizeof t->last, "%s", reply->content);
		return 0;
	}
	cJSON *meta = cJSON_CreateObject();
	job->added = cJSON_CreateObject();
	cJSON_AddStringToObject(job->added, "natural_language_intent", reply->content);
	cJSON_AddItemToObject(job->added, "task_params", cJSON_Duplicate(params, 1));
	cJSON_AddStringToObject(job->added, "engine", "llm");
	/* the model the server says answered, whatever was asked */
	cJSON_AddStringToObject(meta, "model",
				reply->model       ? reply->model
				: cf->o->llm.model ? cf->o->llm.model
						   : "");
	cJSON_AddNumberToObject(meta, "seed", (double)((record_seed + attempt) & 0x7fffffff));
	cJSON_AddNumberToObject(meta, "attempts", attempt + 1);
	cJSON_AddStringToObject(meta, "finish_reason", reply->finish_reason);
	cJSON_AddStringToObject(meta, "request_hash", reply->request_hash);
	if (reply->reasoning)
		cJSON_AddStringToObject(meta, "reasoning", reply->reasoning);
	cJSON_AddItemToObject(meta, "usage", usage_object(t->prompt, t->completion, t->estimated));
	cJSON_AddItemToObject(job->added, "render", meta);
	return 1;
}

/* The record for --rejects: the tuple, why, and the last reply refused. */
static void reject(struct ise_job *job, const char *why, const char *last, const char *custom_id)
{
	job->reject = cJSON_Duplicate(job->in, 1);
	cJSON_AddStringToObject(job->reject, "render_error", why);
	cJSON_AddStringToObject(job->reject, "last_reply", last);
	if (custom_id)
		cJSON_AddStringToObject(job->reject, "custom_id", custom_id);
}

/* Ask the model until a reply passes the checks or the attempts run out. */
static void render_online(struct config *cf, struct ise_job *job, const cJSON *messages,
			  const cJSON *params, uint64_t record_seed)
{
	struct tally t = {.why = "no attempt made"};

	for (unsigned attempt = 0; attempt < cf->attempts; attempt++) {
		struct ise_llm_reply reply;
		cJSON *request = attempt_request(messages, record_seed, attempt);
		enum ise_llm_status st =
		    ise_llm_chat(cf->llm, request, &reply, job->error, sizeof job->error);
		cJSON_Delete(request);
		int kept =
		    st == ISE_LLM_OK && accept(cf, job, params, &reply, record_seed, attempt, &t);
		ise_llm_reply_release(&reply);
		if (st != ISE_LLM_OK)
			job->fatal = st == ISE_LLM_FATAL;
		if (st != ISE_LLM_OK || kept)
			return;
	}
	snprintf(job->error, sizeof job->error, "no acceptable intent after %u attempts: %s",
		 cf->attempts, t.why);
	reject(job, t.why, t.last, NULL);
}

/*
 * The batch paths.  Attempt n (1-based) of record ID is the request with
 * custom_id "ID#n", so the replies of any output file find their record and
 * their seed.  The replies read go through the checks above in attempt
 * order; the first attempt without a reply is the one to send (written to
 * the request file with --emit-requests), a failed request is sent again
 * as it was (as the client retries one), a reply the checks refuse moves
 * on to the next attempt's seed (as the client does).
 */
static void render_batch(struct config *cf, struct ise_job *job, const cJSON *messages,
			 const cJSON *params, uint64_t record_seed, const char *id)
{
	struct tally t = {.why = "no attempt made"};
	char custom_id[600], err[700];

	for (unsigned attempt = 0; attempt < cf->attempts; attempt++) {
		struct ise_llm_reply reply;
		cJSON *request = attempt_request(messages, record_seed, attempt);
		snprintf(custom_id, sizeof custom_id, "%.500s#%u", id, attempt + 1);
		enum ise_batch_outcome got = ise_batch_reply(cf->llm, &cf->results, custom_id,
							     request, &reply, err, sizeof err);
		int kept = got == ISE_BATCH_ANSWERED &&
			   accept(cf, job, params, &reply, record_seed, attempt, &t);
		if (got == ISE_BATCH_REJECTED) {
			t.why = err;
			snprintf(t.last, sizeof t.last, "%s", reply.content ? reply.content : "");
		}
		ise_llm_reply_release(&reply);
		if (got == ISE_BATCH_ANSWERED && !kept)
			got = ISE_BATCH_REJECTED;
		if (got == ISE_BATCH_REJECTED) { /* on to the next attempt's seed */
			if (!cf->emit_file)
				ise_warn("%s: reply refused: %s", custom_id, t.why);
			cJSON_Delete(request);
			continue;
		}
		if (kept && cf->emit_file) { /* finished: the --responses run writes it */
			cJSON_Delete(job->added);
			job->added = NULL;
		} else if (!kept && cf->emit_file) {
			job->out = ise_batch_request(cf->llm, custom_id, request);
		} else if (!kept) {
			snprintf(job->error, sizeof job->error, "%.300s: %s", custom_id, err);
			reject(job, err, t.last, custom_id);
		}
		cJSON_Delete(request);
		return;
	}
	if (cf->emit_file)
		return; /* the --responses run that found this wrote the reject */
	snprintf(job->error, sizeof job->error,
		 "%.300s: no acceptable intent after %u attempts: %s", custom_id, cf->attempts,
		 t.why);
	reject(job, t.why, t.last, custom_id);
}

/* The LLM engine, online or through batch files. */
static void render_llm(struct config *cf, struct ise_job *job, const cJSON *params, const char *id)
{
	cJSON *messages = ise_render_messages(cf->prompt, job->in, &cf->catalog, params,
					      cf->min_words, cf->max_words);
	uint64_t record_seed = ise_hash_str(id, cf->o->seed);

	if (cf->batch.from_files)
		render_batch(cf, job, messages, params, record_seed, id);
	else
		render_online(cf, job, messages, params, record_seed);
	cJSON_Delete(messages);
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
	if (cf->o->offline) {
		job->added = cJSON_CreateObject();
		char *text = ise_render_offline(job->in, &cf->catalog, params, rng);
		cJSON_AddStringToObject(job->added, "natural_language_intent", text);
		cJSON_AddItemToObject(job->added, "task_params", params);
		cJSON_AddStringToObject(job->added, "engine", "offline");
		free(text);
	} else {
		render_llm(cf, job, params, id);
		cJSON_Delete(params);
	}
	gsl_rng_free(rng);
}

static char *read_prompt(const char *path)
{
	size_t len;

	return path ? ise_read_file(path, &len) : ise_xstrdup(ise_data_render);
}

/* One pass over the input: the records (or with --emit-requests the
 * requests), from the server or from the output files read. */
static int pass(void *ctx, const char *emit_file, const char **outputs, size_t noutputs,
		unsigned long long *emitted)
{
	struct config *cf = ctx;
	struct ise_options *o = cf->o;
	struct ise_reader in;
	struct ise_writer out, rejects;
	struct ise_idset done;
	int rejects_open = 0;

	cf->emit_file = emit_file, cf->outputs = outputs, cf->noutputs = noutputs;
	ise_batch_results_release(&cf->results);
	for (size_t i = 0; i < cf->noutputs; i++)
		ise_batch_results_load(&cf->results, cf->outputs[i]);
	if (cf->emit_file) { /* the requests are the output; -o only says what is done */
		ise_output_done(o, &done);
		ise_writer_open(&out, cf->emit_file, 0);
	} else {
		ise_output_open(o, &out, cf->llm ? ISE_WRITE_UNBUFFERED : 0, &done);
		if ((rejects_open = cf->rejects_file != NULL))
			/* rewritten every run: a resumed run retries every reject */
			ise_writer_open(&rejects, cf->rejects_file, ISE_WRITE_UNBUFFERED);
	}
	ise_reader_init(&in, o->files, o->nfiles, o->max_line, ise_read_flags(o));
	struct ise_pool_io io = {.in = &in,
				 .out = &out,
				 .rejects = rejects_open ? &rejects : NULL,
				 .done = &done,
				 .options = o,
				 .llm = cf->llm};
	int status = ise_pool_run(&io, work, cf);
	if (cf->emit_file) {
		ise_warn("%llu requests written to '%s'", io.written, cf->emit_file);
		if (emitted)
			*emitted = io.written;
	} else if (cf->llm && !cf->batch.from_files) {
		char totals[256];
		ise_llm_totals(cf->llm, totals, sizeof totals);
		ise_warn("%s", totals);
	}
	ise_writer_close(&out);
	if (rejects_open)
		ise_writer_close(&rejects);
	ise_reader_release(&in);
	ise_idset_release(&done);
	return status;
}

int main(int argc, char **argv)
{
	struct config cf = {.attempts = 4, .min_words = 90, .max_words = 160};
	struct ise_options o;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	ise_output_check(&o, "--rejects", cf.rejects_file);
	cf.o = &o;
	ise_batch_check_options(&cf.batch, &o);
	ise_catalog_load(&cf.catalog, cf.catalog_file);
	cf.prompt = read_prompt(cf.prompt_file);
	ise_cli_note_offline(&o);
	if (!o.offline)
		cf.llm = ise_llm_new(&o.llm);
	ise_batch_results_init(&cf.results);
	int status = cf.batch.batch ? ise_batch_run(&cf.batch, &o, cf.llm, pass, &cf)
				    : pass(&cf, cf.batch.emit_file, cf.batch.responses,
					   cf.batch.nresponses, NULL);
	ise_llm_free(cf.llm);
	ise_batch_results_release(&cf.results);
	ise_catalog_release(&cf.catalog);
	free(cf.prompt);
	return status;
}
