/*
 * batch_opts: the options of the programs that can write their requests to
 * a batch file, read the replies from batch output files, or send them
 * through the Batch API (llm/batchfile.h, app/batchrun.h), and the run
 * that ties those together.
 *
 * Put ISE_BATCH_FILE_OPTIONS (--emit-requests, --responses) and, where the
 * Batch API is offered, ISE_BATCH_API_OPTIONS (--batch, --batch-cancel,
 * --batch-poll, --batch-max-requests, --batch-max-bytes; or
 * ISE_BATCH_API_OPTIONS_NAMED_API, --batch-api for --batch, in a program
 * whose --batch means something else) in the program's option table, the
 * matching _HELP in its help, pass every option to
 * ise_batch_option first (1: it was one of these) and call
 * ise_batch_check_options once they are read.
 */
#ifndef ISE_BATCH_OPTS_H
#define ISE_BATCH_OPTS_H

#include <getopt.h>
#include <stddef.h>

#include "app/cli.h"

enum {
	ISE_BATOPT_EMIT = 0x600,
	ISE_BATOPT_RESPONSES,
	ISE_BATOPT_BATCH,
	ISE_BATOPT_CANCEL,
	ISE_BATOPT_POLL,
	ISE_BATOPT_MAX_REQUESTS,
	ISE_BATOPT_MAX_BYTES,
	ISE_BATOPT_BATCH_API, /* --batch-api: --batch where --batch means another thing */
};

#define ISE_BATCH_MAX_RESPONSES 64

struct ise_batch_opts {
	const char *emit_file;                          /* --emit-requests */
	const char *responses[ISE_BATCH_MAX_RESPONSES]; /* --responses, each */
	size_t nresponses;
	int batch, cancel; /* --batch (or --batch-api), --batch-cancel */
	const char *flag;  /* which of the two; NULL: --batch */
	double poll;       /* 0: the default */
	unsigned long long max_requests;
	size_t max_bytes;
	int from_files; /* set by the check: the replies come from files */
};

#define ISE_BATCH_FILE_OPTIONS                                                                     \
	{"emit-requests", required_argument, NULL, ISE_BATOPT_EMIT},                               \
	{                                                                                          \
		"responses", required_argument, NULL, ISE_BATOPT_RESPONSES                         \
	}
#define ISE_BATCH_API_OPTIONS {"batch", no_argument, NULL, ISE_BATOPT_BATCH}, ISE_BATCH_API_MORE
/* ise-persona, whose --batch N is the personas a request asks for */
#define ISE_BATCH_API_OPTIONS_NAMED_API                                                            \
	{"batch-api", no_argument, NULL, ISE_BATOPT_BATCH_API}, ISE_BATCH_API_MORE
#define ISE_BATCH_API_MORE                                                                         \
	{"batch-cancel", no_argument, NULL, ISE_BATOPT_CANCEL},                                    \
	    {"batch-poll", required_argument, NULL, ISE_BATOPT_POLL},                              \
	    {"batch-max-requests", required_argument, NULL, ISE_BATOPT_MAX_REQUESTS},              \
	{                                                                                          \
		"batch-max-bytes", required_argument, NULL, ISE_BATOPT_MAX_BYTES                   \
	}
#define ISE_BATCH_FILE_HELP                                                                        \
	"      --emit-requests=FILE  write the requests to FILE in the OpenAI batch\n"             \
	"                      format (vllm run-batch, the Batch API), send none\n"                \
	"      --responses=FILE  finish from the batch output FILE (repeatable); with\n"           \
	"                      --emit-requests, request only what they leave missing\n"
#define ISE_BATCH_API_HELP                                                                         \
	"      --batch         send the requests through the Batch API (needs -o FILE;\n"          \
	"                      its state is kept in FILE.batch.json)\n" ISE_BATCH_API_MORE_HELP
#define ISE_BATCH_API_HELP_NAMED_API                                                               \
	"      --batch-api     send the requests through the Batch API (needs -o FILE;\n"          \
	"                      its state is kept in FILE.batch.json)\n" ISE_BATCH_API_MORE_HELP
#define ISE_BATCH_API_MORE_HELP                                                                    \
	"      --batch-cancel  cancel the batch in progress, finish what it did\n"                 \
	"      --batch-poll=SECS  seconds between looks at a batch (default 30)\n"                 \
	"      --batch-max-requests=N  requests per batch at most (default 50000)\n"               \
	"      --batch-max-bytes=SIZE  bytes per batch file at most (default 200M)\n"

int ise_batch_option(int opt, const char *arg, struct ise_batch_opts *b);
/* Usage errors for what does not go together (--offline, no --model, -o
 * without --resume for --emit-requests, --batch without -o FILE or an
 * endpoint); with any of these options the run needs no endpoint and is
 * not offline.  Sets from_files. */
void ise_batch_check_options(struct ise_batch_opts *b, struct ise_options *o);

/*
 * One pass of a program over its input: with emit_file, the requests
 * still missing written there (*emitted of them); else the records
 * finished from the output files (and written to -o).  The exit status.
 */
typedef int (*ise_batch_pass_fn)(void *ctx, const char *emit_file, const char **outputs,
				 size_t noutputs, unsigned long long *emitted);

/*
 * --batch: cancel first with --batch-cancel; when no batch of an earlier
 * run is pending, the requests still missing go out as new batches; then
 * wait for them and finish the records from every batch's files.  Once the
 * state file exists -o is appended to (o->resume is set).  A fatal error
 * (the endpoint down after retries) exits 3, the state kept.
 */
int ise_batch_run(const struct ise_batch_opts *b, struct ise_options *o, struct ise_llm *llm,
		  ise_batch_pass_fn pass, void *ctx);

#endif
