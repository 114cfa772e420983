/*
 * batch_opts: the batch options and the --batch run (see batch_opts.h).
 */
#include "app/batch_opts.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/batchrun.h"
#include "core/diag.h"
#include "core/progress.h"

int ise_batch_option(int opt, const char *arg, struct ise_batch_opts *b)
{
	switch (opt) {
	case ISE_BATOPT_EMIT:
		b->emit_file = arg;
		return 1;
	case ISE_BATOPT_RESPONSES:
		if (b->nresponses == ISE_BATCH_MAX_RESPONSES)
			ise_usage_error("--responses: at most %d files", ISE_BATCH_MAX_RESPONSES);
		b->responses[b->nresponses++] = arg;
		return 1;
	case ISE_BATOPT_BATCH:
		b->batch = 1;
		return 1;
	case ISE_BATOPT_BATCH_API:
		b->batch = 1;
		b->flag = "--batch-api";
		return 1;
	case ISE_BATOPT_CANCEL:
		b->batch = b->cancel = 1;
		return 1;
	case ISE_BATOPT_POLL:
		b->poll = ise_parse_double("--batch-poll", arg, 0.001, 86400);
		return 1;
	case ISE_BATOPT_MAX_REQUESTS:
		b->max_requests = ise_parse_uint("--batch-max-requests", arg, 1, 50000);
		return 1;
	case ISE_BATOPT_MAX_BYTES:
		b->max_bytes = ise_parse_size("--batch-max-bytes", arg);
		return 1;
	}
	return 0;
}

void ise_batch_check_options(struct ise_batch_opts *b, struct ise_options *o)
{
	const char *api = b->flag ? b->flag : "--batch";
	const char *what = b->batch ? api : b->emit_file ? "--emit-requests" : "--responses";

	if (!b->emit_file && !b->nresponses && !b->batch)
		return;
	if (b->batch && (b->emit_file || b->nresponses))
		ise_usage_error("%s writes and reads its own batch files: it does not go with "
				"--emit-requests or --responses",
				api);
	if (b->batch && (!o->output || !strcmp(o->output, "-")))
		ise_usage_error("%s needs -o FILE: its state is kept beside it", api);
	if (b->batch && !o->llm.base_url)
		ise_usage_error("%s needs an endpoint (OPENAI_BASE_URL or --base-url)", api);
	if (o->offline == ISE_OFFLINE_ASKED)
		ise_usage_error("--offline sends no requests: it does not go with %s", what);
	if (!o->llm.model)
		ise_usage_error("%s needs --model (or ISE_MODEL): each request names it", what);
	if (b->emit_file && o->output && !o->resume)
		ise_usage_error("--emit-requests writes no records: -o goes with --resume");
	if (b->emit_file)
		ise_output_check(o, "--emit-requests", b->emit_file);
	o->offline = 0;
	b->from_files = 1;
}

int ise_batch_run(const struct ise_batch_opts *opts, struct ise_options *o, struct ise_llm *llm,
		  ise_batch_pass_fn pass, void *ctx)
{
	struct ise_batchrun b;
	char err[1024];
	int status = 0;
	size_t n;
	const char **outputs;

	ise_batchrun_open(&b, o->output);
	if (opts->poll > 0)
		b.poll = opts->poll;
	if (opts->max_requests)
		b.max_requests = opts->max_requests;
	if (opts->max_bytes)
		b.max_bytes = opts->max_bytes;
	struct ise_progress shown; /* decides as every progress line does */
	ise_progress_init(&shown, o->progress, 0);
	b.progress = shown.enabled;
	o->resume |= b.existed;
	if (opts->cancel && !ise_batchrun_pending(&b))
		ise_warn("no batch in progress to cancel");
	else if (opts->cancel && ise_batchrun_cancel(&b, llm, err, sizeof err) < 0)
		ise_die(ISE_EXIT_FATAL, "%s", err);
	if (!ise_batchrun_pending(&b) && !opts->cancel) {
		char *path = ise_batchrun_requests_path(&b);
		unsigned long long emitted = 0;
		outputs = ise_batchrun_outputs(&b, &n);
		status = pass(ctx, path, outputs, n, &emitted);
		free(outputs);
		if (emitted && ise_batchrun_add(&b, path, err, sizeof err) < 0)
			ise_die(ISE_EXIT_FATAL, "%s", err);
		if (!emitted)
			unlink(path);
		free(path);
	}
	if (ise_batchrun_pending(&b) && ise_batchrun_wait(&b, llm, err, sizeof err) < 0)
		ise_die(ISE_EXIT_FATAL, "%s (rerun to go on with the batch)", err);
	outputs = ise_batchrun_outputs(&b, &n);
	int finished = pass(ctx, NULL, outputs, n, NULL);
	free(outputs);
	ise_batchrun_release(&b);
	return finished > status ? finished : status;
}
