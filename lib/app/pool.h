/*
 * pool: run a filter's records on N worker threads and write the results
 * in input order (or as they finish with --unordered), with at most a
 * bounded window of records in memory whatever the input size.
 *
 * The main thread reads and skips ids already done (--resume); workers call
 * the program's work function, and the worker that finishes a record writes
 * every record now ready (the oldest ones in order, or any with
 * --unordered) and hands them to write(2) at once, so a finished record
 * never waits for input.  The work function fills the job's output
 * record (written to stdout), optional reject record (written to
 * --rejects), a message for a failed record, or sets fatal (an endpoint that
 * stays down): then no new record starts, the ones in flight finish, every
 * finished record is written, and ise_pool_run returns ISE_EXIT_FATAL.
 */
#ifndef ISE_POOL_H
#define ISE_POOL_H

#include <cJSON.h>

#include "app/cli.h"
#include "core/idset.h"
#include "core/jsonl.h"

struct ise_job {
	unsigned long long seq;
	const char *file; /* input position, for messages */
	unsigned long line;
	cJSON *in;  /* the input record, owned by the pool */
	char *text; /* its text, for ise_writer_put_extended */
	size_t len;
	cJSON *added;     /* fields to add to the input record (output = input + added) */
	cJSON *out;       /* or a whole output record instead, or an array of them */
	cJSON *reject;    /* a record for --rejects, or an array of them */
	char error[1024]; /* why the record failed, reported as FILE:LINE */
	int fatal;
	int done;
	void *data; /* the program's own, from admit to work */
	unsigned long long ticket;
};

typedef void (*ise_work_fn)(void *ctx, struct ise_job *job);

struct ise_pool_io {
	struct ise_reader *in;
	struct ise_writer *out, *rejects; /* rejects may be NULL */
	const struct ise_idset *done;     /* ids to skip */
	const struct ise_options *options;
	unsigned long long written, failed, skipped;
	/* optional: called on the reading thread for each record, in input
	 * order, before any worker sees it (e.g. to take a ticket) */
	ise_work_fn admit;
	void *admit_ctx;
	/* optional: the client the work sends to, whose limit on requests in
	 * flight the progress line shows while a busy server keeps it below -j */
	struct ise_llm *llm;
};

/* Returns the worst status it saw (it reports bad records itself). */
int ise_pool_run(struct ise_pool_io *io, ise_work_fn work, void *ctx);

#endif
