/*
 * batchfile: the OpenAI batch file format, which `vllm run-batch` and the
 * Batch API read and write, for programs that write their requests to a
 * file instead of sending them and finish their records from the replies.
 *
 * A request line is {custom_id, method: "POST", url: "/v1/chat/completions",
 * body}, body made by ise_llm_chat_body, so it is the request the client
 * would have sent.  An output line is {id, custom_id, response: {status_code,
 * request_id, body}, error: null | {code, message}}, in any order; a
 * request may have no line (not run, or run in a batch that expired).  The
 * results of several output files load into one table; where a custom_id
 * has a reply in one file and a failure in another, the reply counts.
 * Memory: the table holds every line it loaded until it is released.
 * Load from one thread; then any number of threads may look up replies.
 */
#ifndef ISE_BATCHFILE_H
#define ISE_BATCHFILE_H

#include <cJSON.h>
#include <stddef.h>

#include "llm/llm.h"

#define ISE_BATCH_URL "/v1/chat/completions"

/* The request line for request (as ise_llm_chat would send it); the caller's. */
cJSON *ise_batch_request(const struct ise_llm *llm, const char *custom_id, const cJSON *request);

struct ise_batch_entry {
	char *custom_id;
	cJSON *line;
	int answered; /* a 200 response with a body */
};

struct ise_batch_results {
	struct ise_batch_entry *v;
	size_t n, cap;
	int sorted;
};

void ise_batch_results_init(struct ise_batch_results *res);
/* Add the lines of the output file at path.  A line that is no output line
 * is reported as FILE:LINE and skipped (the exit status becomes 1); a file
 * that cannot be read is fatal. */
void ise_batch_results_load(struct ise_batch_results *res, const char *path);
void ise_batch_results_release(struct ise_batch_results *res);

enum ise_batch_outcome {
	ISE_BATCH_MISSING,  /* no line for the custom_id */
	ISE_BATCH_FAILED,   /* a line that says the request failed: err says why */
	ISE_BATCH_ANSWERED, /* a reply, in *reply as ise_llm_chat gives it */
	ISE_BATCH_REJECTED, /* a reply that is no chat completion: err says why */
};

/* The reply to the request with custom_id, read as ise_llm_chat reads the
 * server's (request as given to ise_batch_request: it makes the request
 * hash and the usage estimate).  reply is released by the caller whatever
 * the outcome. */
enum ise_batch_outcome ise_batch_reply(struct ise_llm *llm, struct ise_batch_results *res,
				       const char *custom_id, const cJSON *request,
				       struct ise_llm_reply *reply, char *err, size_t errlen);

#endif
