/*
 * ise-render: turn each intent tuple into a natural-language request in the
 * persona's voice, with a model behind an OpenAI-compatible endpoint or with
 * the built-in offline engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#include "app/batchrun.h"
#include "app/resume.h"
#include "core/rng.h"
#include "core/xalloc.h"

enum {
	OPT_CATALOG = 0x200,
	OPT_PROMPT,
	OPT_REJECTS,
	OPT_ATTEMPTS,
	OPT_WORDS,
	OPT_EMIT,
	OPT_RESPONSES,
	OPT_BATCH,
	OPT_BATCH_CANCEL,
	OPT_BATCH_POLL,
	OPT_BATCH_MAX_REQUESTS,
	OPT_BATCH_MAX_BYTES,
};

#define MAX_RESPONSES 64

struct config {
	const char *catalog_file, *prompt_file, *rejects_file, *words;
	unsigned attempts, min_words, max_words;
	struct ise_catalog catalog;
	char *prompt;
	struct ise_llm *llm;
	struct ise_options *o;
	const char *emit_file;                /* --emit-requests */
	const char *responses[MAX_RESPONSES]; /* --responses, each */
	unsigned nresponses;
	int from_files;       /* the replies come from files, not from a server */
	const char **outputs; /* the files read: --responses, or the batches' */
	size_t noutputs;
	int batch, batch_cancel; /* --batch, --batch-cancel */
	double batch_poll;
	unsigned long long batch_max_requests;
	size_t batch_max_bytes;
	unsigned long long emitted; /* requests the last --emit-requests pass wrote */
	struct ise_batch_results results;
};

static const struct option options[] = {
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"prompt", required_argument, NULL, OPT_PROMPT},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"attempts", required_argument, NULL, OPT_ATTEMPTS},
    {"words", required_argument, NULL, OPT_WORDS},
    {"emit-requests", required_argument, NULL, OPT_EMIT},
    {"responses", required_argument, NULL, OPT_RESPONSES},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"batch-cancel", no_argument, NULL, OPT_BATCH_CANCEL},
    {"batch-poll", required_argument, NULL, OPT_BATCH_POLL},
    {"batch-max-requests", required_argument, NULL, OPT_BATCH_MAX_REQUESTS},
    {"batch-max-bytes", required_argument, NULL, OPT_BATCH_MAX_BYTES},
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
	    "      --words=A-B     accepted length in words (default 90-160)\n"
	    "      --emit-requests=FILE  write the requests to FILE in the OpenAI batch\n"
	    "                      format (vllm run-batch, the Batch API), send none\n"
	    "      --responses=FILE  finish the tuples from the batch output FILE\n"
	    "                      (repeatable); with --emit-requests, request only what\n"
	    "                      they leave missing, at each tuple's next attempt\n"
	    "      --batch         send the requests through the Batch API (needs -o FILE;\n"
	    "                      its state is kept in FILE.batch.json)\n"
	    "      --batch-cancel  cancel the batch in progress, finish what it did\n"
	    "      --batch-poll=SECS  seconds between looks at a batch (default 30)\n"
	    "      --batch-max-requests=N  requests per batch at most (default 50000)\n"
	    "      --batch-max-bytes=SIZE  bytes per batch file at most (default 200M)\n",
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
	case OPT_EMIT:
		cf->emit_file = arg;
		break;
	case OPT_RESPONSES:
		if (cf->nresponses == MAX_RESPONSES)
			ise_usage_error("--responses: at most %d files", MAX_RESPONSES);
		cf->responses[cf->nresponses++] = arg;
		break;
	case OPT_BATCH:
		cf->batch = 1;
		break;
	case OPT_BATCH_CANCEL:
		cf->batch = cf->batch_cancel = 1;
		break;
	case OPT_BATCH_POLL:
		cf->batch_poll = ise_parse_double("--batch-poll", arg, 0.001, 86400);
		break;
	case OPT_BATCH_MAX_REQUESTS:
		cf->batch_max_requests = ise_parse_uint("--batch-max-requests", arg, 1, 50000);
		break;
	case OPT_BATCH_MAX_BYTES:
		cf->batch_max_bytes = ise_parse_size("--batch-max-bytes", arg);
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

	if (cf->from_files)
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

/* --emit-requests, --responses and --batch: the requests carry the model
 * and the options of the online path. */
static void batch_setup(struct config *cf, struct ise_options *o)
{
	const char *what = cf->batch       ? "--batch"
			   : cf->emit_file ? "--emit-requests"
					   : "--responses";

	if (!cf->emit_file && !cf->nresponses && !cf->batch)
		return;
	if (cf->batch && (cf->emit_file || cf->nresponses))
		ise_usage_error("--batch writes and reads its own batch files: it does not go with "
				"--emit-requests or --responses");
	if (cf->batch && (!o->output || !strcmp(o->output, "-")))
		ise_usage_error("--batch needs -o FILE: its state is kept beside it");
	if (cf->batch && !o->llm.base_url)
		ise_usage_error("--batch needs an endpoint (OPENAI_BASE_URL or --base-url)");
	if (o->offline == ISE_OFFLINE_ASKED)
		ise_usage_error("--offline sends no requests: it does not go with %s", what);
	if (!o->llm.model)
		ise_usage_error("%s needs --model (or ISE_MODEL): each request names it", what);
	if (cf->emit_file && o->output && !o->resume)
		ise_usage_error("--emit-requests writes no records: -o goes with --resume");
	if (cf->emit_file)
		ise_output_check(o, "--emit-requests", cf->emit_file);
	o->offline = 0;
	cf->from_files = 1;
	cf->outputs = cf->responses, cf->noutputs = cf->nresponses;
}

/* One pass over the input: the records (or with --emit-requests the
 * requests), from the server or from the output files read. */
static int pass(struct config *cf, struct ise_options *o)
{
	struct ise_reader in;
	struct ise_writer out, rejects;
	struct ise_idset done;
	int rejects_open = 0;

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
	struct ise_pool_io io = {&in,  &out, rejects_open ? &rejects : NULL, &done, o, 0, 0, 0,
				 NULL, NULL};
	int status = ise_pool_run(&io, work, cf);
	if (cf->emit_file) {
		ise_warn("%llu requests written to '%s'", io.written, cf->emit_file);
		cf->emitted = io.written;
	} else if (cf->llm && !cf->from_files) {
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

/*
 * --batch: the requests still missing go out as batches (none while a
 * batch of an earlier run is pending: that one is waited for instead),
 * then the records are finished from every batch's output and error files.
 * A run whose state file exists goes on from it, so -o is then appended to
 * as with --resume.
 */
static int batch_run(struct config *cf, struct ise_options *o)
{
	struct ise_batchrun b;
	char err[1024];
	int status = 0;

	ise_batchrun_open(&b, o->output);
	if (cf->batch_poll > 0)
		b.poll = cf->batch_poll;
	if (cf->batch_max_requests)
		b.max_requests = cf->batch_max_requests;
	if (cf->batch_max_bytes)
		b.max_bytes = cf->batch_max_bytes;
	o->resume |= b.existed;
	if (cf->batch_cancel && !ise_batchrun_pending(&b))
		ise_warn("no batch in progress to cancel");
	else if (cf->batch_cancel && ise_batchrun_cancel(&b, cf->llm, err, sizeof err) < 0)
		ise_die(ISE_EXIT_FATAL, "%s", err);
	if (!ise_batchrun_pending(&b) && !cf->batch_cancel) {
		char *path = ise_batchrun_requests_path(&b);
		free(cf->outputs == cf->responses ? NULL : cf->outputs);
		cf->outputs = ise_batchrun_outputs(&b, &cf->noutputs);
		cf->emit_file = path;
		status = pass(cf, o);
		cf->emit_file = NULL;
		if (cf->emitted && ise_batchrun_add(&b, path, err, sizeof err) < 0)
			ise_die(ISE_EXIT_FATAL, "%s", err);
		if (!cf->emitted)
			unlink(path);
		free(path);
	}
	if (ise_batchrun_pending(&b) && ise_batchrun_wait(&b, cf->llm, err, sizeof err) < 0) {
		ise_batchrun_release(&b);
		ise_die(ISE_EXIT_FATAL, "%s (rerun to go on with the batch)", err);
	}
	free(cf->outputs == cf->responses ? NULL : cf->outputs);
	cf->outputs = ise_batchrun_outputs(&b, &cf->noutputs);
	int finished = pass(cf, o);
	ise_batchrun_release(&b);
	return finished > status ? finished : status;
}

int main(int argc, char **argv)
{
	struct config cf = {.attempts = 4, .min_words = 90, .max_words = 160};
	struct ise_options o;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	ise_output_check(&o, "--rejects", cf.rejects_file);
	cf.o = &o;
	batch_setup(&cf, &o);
	ise_catalog_load(&cf.catalog, cf.catalog_file);
	cf.prompt = read_prompt(cf.prompt_file);
	ise_cli_note_offline(&o);
	if (!o.offline)
		cf.llm = ise_llm_new(&o.llm);
	ise_batch_results_init(&cf.results);
	int status = cf.batch ? batch_run(&cf, &o) : pass(&cf, &o);
	if (cf.outputs != cf.responses)
		free(cf.outputs);
	ise_llm_free(cf.llm);
	ise_batch_results_release(&cf.results);
	ise_catalog_release(&cf.catalog);
	free(cf.prompt);
	return status;
}
