/*
 * ise-persona: make a frozen pool of distinct professional personas with the
 * offline engine, or check, complete and deduplicate an existing pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/batch_opts.h"
#include "app/cli.h"
#include "core/diag.h"
#include "core/idset.h"
#include "core/jsondoc.h"
#include "core/jsonl.h"
#include "gen/persona.h"
#include "gen/persona_llm.h"
#include "core/progress.h"
#include "app/resume.h"
#include "core/rng.h"

enum { OPT_POOLS = 0x200, OPT_BATCH, OPT_BUDGET };

struct config {
	uint64_t count, budget;
	unsigned batch;
	int count_given;
	const char *pools;
	struct ise_batch_opts files; /* --emit-requests, --responses, --batch-api */
	struct ise_options *o;
	struct ise_llm *llm;
};

static const struct option options[] = {
    {"count", required_argument, NULL, 'n'},
    {"pools", required_argument, NULL, OPT_POOLS},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"budget", required_argument, NULL, OPT_BUDGET},
    ISE_BATCH_FILE_OPTIONS,
    ISE_BATCH_API_OPTIONS_NAMED_API,
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[-n N] [--pools FILE] [-s N] [-o FILE [--resume]] [--progress]\n"
		"       [--batch N] [--budget N] [--emit-requests FILE] [--responses FILE]\n"
		"       [--batch-api [--batch-cancel] [--batch-poll SECS]\n"
		"       [--batch-max-requests N] [--batch-max-bytes SIZE]]\n"
		"   or: ise-persona [--strict] [--max-line SIZE] [-o FILE [--resume]] FILE...",
    .about = "Write N distinct personas (offline engine), or check, complete and\n"
	     "deduplicate the persona pool in FILE... (\"-\" is standard input).",
    .help = "  -n, --count=N       personas to make (default 1000)\n"
	    "      --pools=FILE    name, role and industry pools (default: built in)\n"
	    "      --batch=N       with a model: personas asked for per request (default 10)\n"
	    "      --budget=N      with a model: requests at most (default 3 x N / "
	    "batch)\n" ISE_BATCH_FILE_HELP ISE_BATCH_API_HELP_NAMED_API,
    .options = options,
    .shortopts = "n:",
    .common = ISE_OPT_NO_STDIN | ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_JOBS |
	      ISE_OPT_PROGRESS | ISE_OPT_LLM,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	if (ise_batch_option(opt, arg, &cf->files))
		return;
	if (opt == 'n') {
		cf->count = ise_parse_uint("--count", arg, 0, UINT64_MAX);
		cf->count_given = 1;
	} else if (opt == OPT_POOLS) {
		cf->pools = arg;
	} else if (opt == OPT_BATCH) {
		cf->batch = (unsigned)ise_parse_uint("--batch", arg, 1, 1000);
	} else if (opt == OPT_BUDGET) {
		cf->budget = ise_parse_uint("--budget", arg, 1, UINT64_MAX);
	}
}

static void generate(const struct config *cf, const struct ise_options *o)
{
	struct ise_pools pools;
	struct ise_persona_engine engine;
	struct ise_writer out;
	struct ise_idset done;
	struct ise_progress progress;

	ise_pools_load(&pools, cf->pools);
	if (cf->count > pools.capacity)
		ise_die(ISE_EXIT_USAGE,
			"cannot make %llu distinct personas: the pools give at most %llu distinct "
			"(name, role, industry) triples",
			(unsigned long long)cf->count, (unsigned long long)pools.capacity);
	ise_cli_note_offline(o);
	ise_persona_engine_init(&engine, &pools, o->seed);
	ise_output_open(o, &out, 0, &done);
	ise_progress_init(&progress, o->progress, cf->count);
	for (uint64_t i = 0; i < cf->count; i++) {
		cJSON *p = ise_persona_make(&engine, i);
		if (!ise_idset_has(&done, cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring))
			ise_writer_put(&out, p);
		cJSON_Delete(p);
		ise_progress_update(&progress, i + 1, 0, -1);
	}
	ise_progress_end(&progress, cf->count, 0);
	ise_writer_close(&out);
	ise_idset_release(&done);
	ise_persona_engine_release(&engine);
	ise_pools_release(&pools);
}

/* The identities already in the output being resumed. */
static unsigned long long load_identities(const char *path, struct ise_idset *seen)
{
	struct ise_reader in;
	char *files[] = {(char *)path}, key[1024];
	unsigned long long n = 0;
	cJSON *p;

	if (access(path, F_OK) < 0)
		return 0;
	ise_reader_init(&in, files, 1, ISE_MAX_LINE_DEFAULT, 0);
	while ((p = ise_reader_next(&in))) {
		ise_persona_identity(p, key, sizeof key);
		n += ise_idset_add(seen, key);
		cJSON_Delete(p);
	}
	ise_reader_release(&in);
	return n;
}

/* With a model: online, or through batch files (with emit_file, the
 * requests and no personas; -o then only says, with --resume, how many
 * exist; *emitted how many were written); the personas from the output
 * files read, or from the server. */
static int generate_llm(void *ctx, const char *emit_file, const char **outputs, size_t noutputs,
			unsigned long long *emitted)
{
	const struct config *cf = ctx;
	struct ise_options *o = cf->o;
	struct ise_pools pools;
	struct ise_writer out;
	struct ise_idset done, seen;
	struct ise_batch_results results;
	unsigned batch = cf->batch ? cf->batch : 10;

	ise_pools_load(&pools, cf->pools); /* steers batches to industries and regions */
	ise_batch_results_init(&results);
	for (size_t i = 0; i < noutputs; i++)
		ise_batch_results_load(&results, outputs[i]);
	if (emit_file)
		ise_writer_open(&out, emit_file, 0), ise_idset_init(&done);
	else
		ise_output_open(o, &out, ISE_WRITE_UNBUFFERED, &done);
	ise_idset_init(&seen);
	struct ise_persona_llm_run run = {
	    .llm = cf->llm,
	    .pools = &pools,
	    .seed = o->seed,
	    .want = cf->count,
	    .have = o->resume ? load_identities(o->output, &seen) : 0,
	    .batch = batch,
	    .budget = cf->budget ? cf->budget : 3 * ((cf->count + batch - 1) / batch),
	    .jobs = o->jobs,
	    .progress = o->progress,
	    .out = &out,
	    .seen = &seen,
	    .model = o->llm.model,
	};
	int status = emit_file  ? ise_persona_batch_emit(&run, &results, &out)
		     : noutputs ? ise_persona_batch_finish(&run, &results)
				: ise_persona_llm(&run);
	if (emit_file && emitted)
		*emitted = run.requests;
	if (!emit_file && !cf->files.from_files) {
		char totals[256];
		ise_llm_totals(run.llm, totals, sizeof totals);
		ise_warn("%s", totals);
	}
	ise_writer_close(&out);
	ise_batch_results_release(&results);
	ise_idset_release(&seen);
	ise_idset_release(&done);
	ise_pools_release(&pools);
	return status;
}

static void check(const struct ise_options *o)
{
	struct ise_reader in;
	struct ise_writer out;
	struct ise_idset done, seen, ids; /* ids: those written, or kept */
	struct ise_progress progress;
	unsigned long long count = 0, dropped = 0;
	cJSON *p;

	ise_output_open(o, &out, 0, &done);
	ise_idset_init(&seen);
	ise_idset_init(&ids);
	ise_reader_init(&in, o->files, o->nfiles, o->max_line, o->strict ? ISE_READ_STRICT : 0);
	ise_reader_flush_on_wait(&in, &out);
	ise_progress_init(&progress, o->progress, 0);
	while ((p = ise_reader_next(&in))) {
		const char *why = ise_persona_check(p);
		char key[1024], id[32];
		if (why) {
			ise_reader_error(&in, "%s", why);
			cJSON_Delete(p);
			continue;
		}
		ise_persona_identity(p, key, sizeof key);
		const char *have =
		    ise_json_string_or(p, "id", ise_json_string_or(p, "persona_id", NULL));
		cJSON *added = cJSON_CreateObject();
		int fresh = ise_idset_add(&seen, key);
		if (fresh && have && ise_idset_has(&ids, have)) {
			ise_warn("%s:%lu: id '%.200s' is an earlier persona's: this one gets its "
				 "own",
				 in.name, in.line, have);
			have = NULL;
		}
		if (!have) { /* stable across runs: derived from the identity */
			snprintf(id, sizeof id, "persona_%016llx",
				 (unsigned long long)ise_hash_str(key, 0));
			cJSON_AddStringToObject(added, "id", have = id);
		} else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "id"))) {
			cJSON_AddStringToObject(added, "id", have);
		}
		if (fresh)
			ise_idset_add(&ids, have);
		if (!fresh) {
			ise_warn("%s:%lu: duplicate persona '%s, %s, %s' dropped", in.name, in.line,
				 ise_json_string_or(p, "name", ""),
				 ise_json_string_or(p, "role", ""),
				 ise_json_string_or(p, "industry", ""));
			dropped++;
		} else if (!ise_idset_has(&done, have)) {
			size_t len;
			const char *text = ise_reader_text(&in, &len);
			ise_writer_put_extended(&out, text, len, p, added);
		}
		cJSON_Delete(added);
		cJSON_Delete(p);
		ise_progress_update(&progress, ++count, dropped,
				    in.bytes_total ? (double)in.bytes_read / (double)in.bytes_total
						   : -1);
	}
	ise_progress_end(&progress, count, dropped);
	if (dropped)
		ise_warn("duplicates dropped: %llu", dropped);
	ise_reader_release(&in);
	ise_writer_close(&out);
	ise_idset_release(&seen);
	ise_idset_release(&ids);
	ise_idset_release(&done);
}

int main(int argc, char **argv)
{
	struct config cf = {.count = 1000};
	struct ise_options o;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	if (o.nfiles && (cf.count_given || cf.pools))
		ise_usage_error("-n and --pools make personas; they do not go with input files");
	if (o.nfiles && (cf.files.emit_file || cf.files.nresponses))
		ise_usage_error("%s makes personas; it does not go with input files",
				cf.files.emit_file ? "--emit-requests" : "--responses");
	ise_batch_check_options(&cf.files, &o);
	if (o.nfiles)
		check(&o);
	else if (!o.offline) {
		cf.o = &o;
		cf.llm = ise_llm_new(&o.llm);
		int status = cf.files.batch
				 ? ise_batch_run(&cf.files, &o, cf.llm, generate_llm, &cf)
				 : generate_llm(&cf, cf.files.emit_file, cf.files.responses,
						cf.files.nresponses, NULL);
		ise_llm_free(cf.llm);
		return status;
	} else
		generate(&cf, &o);
	return ise_status();
}
