/*
 * batchapi: the OpenAI Files and Batches endpoints, for sending a batch
 * file (batchfile.h) to a server that runs it within 24 hours at a lower
 * price: upload (POST /files, purpose=batch), create (POST /batches),
 * find (GET /batches, every page), look (GET /batches/ID), cancel
 * (POST /batches/ID/cancel) and download (GET /files/ID/content).
 *
 * Each call is one request with the client's configuration (base URL, key,
 * timeouts), retried as the client retries a chat request: connection
 * errors, 408, 409, 429 and 5xx, with backoff; a create, which the server
 * may have carried out though no answer came, is looked for (find) before
 * it is tried again.  What a reply brings back, a downloaded file too, has
 * the API key taken out, as a chat reply has.  Every function returns 0,
 * or -1 with one line in err (the key masked).  Call from one thread.
 */
#ifndef ISE_BATCHAPI_H
#define ISE_BATCHAPI_H

#include <cJSON.h>
#include <stddef.h>

#include "llm/llm.h"

/* Upload the file at path; its id into id. */
int ise_batchapi_upload(struct ise_llm *llm, const char *path, char *id, size_t size, char *err,
			size_t errlen);

/* The metadata key under which a batch carries the key its creator gave it. */
#define ISE_BATCHAPI_KEY "ise_key"

/* Create a batch of the uploaded file input_file_id for /v1/chat/completions
 * within 24h, key (a random string the caller saved first) in its metadata,
 * so that ise_batchapi_find can tell it from every other; *batch is the
 * batch object the server returns (the caller's). */
int ise_batchapi_create(struct ise_llm *llm, const char *input_file_id, const char *key,
			cJSON **batch, char *err, size_t errlen);
/* The batch that ise_batchapi_create made with key for input_file_id, looked
 * for in the pages of GET /batches, newest first, down to the first batch
 * older than the file (GET /files/ID's created_at; every page when the
 * server does not say, or lists in another order): *batch is it (the
 * caller's), or NULL when the server has none. */
int ise_batchapi_find(struct ise_llm *llm, const char *input_file_id, const char *key,
		      cJSON **batch, char *err, size_t errlen);
/* The batch object now (status, request_counts, output_file_id, ...). */
int ise_batchapi_get(struct ise_llm *llm, const char *batch_id, cJSON **batch, char *err,
		     size_t errlen);
int ise_batchapi_cancel(struct ise_llm *llm, const char *batch_id, cJSON **batch, char *err,
			size_t errlen);
/* The content of file_id into the file at path (written whole, then renamed
 * into place, so a killed run leaves no half file). */
int ise_batchapi_download(struct ise_llm *llm, const char *file_id, const char *path, char *err,
			  size_t errlen);

/* A batch status after which nothing more will run: completed, failed,
 * expired, cancelled. */
int ise_batchapi_final(const char *status);

#endif
