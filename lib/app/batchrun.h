/*
 * batchrun: a program's requests sent through the Batch API (llm/batchapi.h)
 * and the state that lets a killed run find its batches again.
 *
 * The state lives beside the output, in OUTPUT.batch.json, rewritten whole
 * and renamed into place at every step: {"batches": [{requests,
 * input_file_id, key, id, status, output, errors, finished}]}.  A batch is
 * written there before it is uploaded, with its file id once uploaded, with
 * a random key (sent as the batch's metadata) before it is created and with
 * its batch id once created, so a rerun uploads or creates only what a
 * killed run had not, finds by its key a batch created just before the
 * kill, and never pays for a batch twice.  Each finished batch's output
 * and error files are downloaded beside the output too
 * (OUTPUT.batch-N.output.jsonl, .errors.jsonl); together they are the
 * replies a program reads as batch output files (llm/batchfile.h).
 * Fatal errors are returned, never exited on.  One thread.
 */
#ifndef ISE_BATCHRUN_H
#define ISE_BATCHRUN_H

#include <cJSON.h>
#include <stddef.h>

#include "llm/llm.h"

struct ise_batchrun {
	char *state_path, *output;
	cJSON *state;
	int existed;                     /* the state file was there when opened */
	unsigned long long max_requests; /* per batch (default 50,000) */
	size_t max_bytes;                /* per input file (default 200 MB) */
	double poll;                     /* seconds between looks (default 30) */
	int progress;                    /* say each change of a batch's status and counts */
};

/* Read the state of the run whose output is output, if it has one. */
void ise_batchrun_open(struct ise_batchrun *b, const char *output);
void ise_batchrun_release(struct ise_batchrun *b);
/* 1 when a batch is not finished and downloaded yet. */
int ise_batchrun_pending(const struct ise_batchrun *b);
/* The file a program writes the next requests to (the caller frees it). */
char *ise_batchrun_requests_path(const struct ise_batchrun *b);
/* Split the request file at path into batches under the limits, each a
 * file of its own, recorded as pending; path is removed.  -1 and err when
 * it cannot. */
int ise_batchrun_add(struct ise_batchrun *b, const char *path, char *err, size_t errlen);
/* Upload, create (or find again), then look at every pending batch until
 * it ends, and download its files.  Each batch's id is said on standard
 * error when it is created or reattached; with progress, each change of its
 * status and counts too. */
int ise_batchrun_wait(struct ise_batchrun *b, struct ise_llm *llm, char *err, size_t errlen);
/* Ask the server to cancel every pending batch that it has. */
int ise_batchrun_cancel(struct ise_batchrun *b, struct ise_llm *llm, char *err, size_t errlen);
/* The downloaded output and error files so far, in order; *n of them.
 * The array is the caller's (free), the strings b's. */
const char **ise_batchrun_outputs(const struct ise_batchrun *b, size_t *n);

#endif
