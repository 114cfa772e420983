/*
 * batchrun: batches through the Batch API, with their state beside the
 * output (see batchrun.h).
 */
#include "app/batchrun.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/rng.h"
#include "core/xalloc.h"
#include "llm/batchapi.h"

static char *joined(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *s = ise_xmalloc(n);

	snprintf(s, n, "%s%s", a, b);
	return s;
}

static cJSON *batches(const struct ise_batchrun *b)
{
	return cJSON_GetObjectItemCaseSensitive(b->state, "batches");
}

void ise_batchrun_open(struct ise_batchrun *b, const char *output)
{
	memset(b, 0, sizeof *b);
	b->output = ise_xstrdup(output);
	b->state_path = joined(output, ".batch.json");
	b->max_requests = 50000;
	b->max_bytes = (size_t)200 << 20;
	b->poll = 30;
	if (access(b->state_path, F_OK) == 0) {
		size_t len;
		char *text = ise_read_file(b->state_path, &len);
		b->state = cJSON_Parse(text);
		free(text);
		if (!cJSON_IsArray(batches(b)))
			ise_die(ISE_EXIT_FATAL,
				"%s: not a batch state file (remove it to start over)",
				b->state_path);
		b->existed = 1;
	} else {
		b->state = cJSON_CreateObject();
		cJSON_AddArrayToObject(b->state, "batches");
	}
}

void ise_batchrun_release(struct ise_batchrun *b)
{
	cJSON_Delete(b->state);
	free(b->state_path);
	free(b->output);
	memset(b, 0, sizeof *b);
}

static int save(struct ise_batchrun *b, char *err, size_t errlen)
{
	char *text = cJSON_Print(b->state), *tmp = joined(b->state_path, ".tmp");
	FILE *f = fopen(tmp, "w");
	int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;

	if (f && (fflush(f) || fsync(fileno(f)) || fclose(f)))
		ok = 0;
	else if (!f)
		ok = 0;
	if (!ok || rename(tmp, b->state_path) < 0) {
		ise_errf(err, errlen, "cannot write '%s': %s", b->state_path, strerror(errno));
		unlink(tmp);
		ok = 0;
	}
	cJSON_free(text);
	free(tmp);
	return ok ? 0 : -1;
}

static int finished(const cJSON *batch)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(batch, "finished"));
}

int ise_batchrun_pending(const struct ise_batchrun *b)
{
	const cJSON *batch;

	cJSON_ArrayForEach(batch, batches(b))
		if (!finished(batch))
			return 1;
	return 0;
}

char *ise_batchrun_requests_path(const struct ise_batchrun *b)
{
	return joined(b->output, ".batch-next.requests.jsonl");
}

/* OUTPUT.batch-N.WHAT.jsonl for batch number n (1-based). */
static char *batch_file(const struct ise_batchrun *b, int n, const char *what)
{
	char tail[64];

	snprintf(tail, sizeof tail, ".batch-%d.%s.jsonl", n, what);
	return joined(b->output, tail);
}

int ise_batchrun_add(struct ise_batchrun *b, const char *path, char *err, size_t errlen)
{
	FILE *in = fopen(path, "r"), *out = NULL;
	char *line = NULL;
	size_t cap = 0, bytes = 0;
	unsigned long long count = 0;
	ssize_t len;
	int rc = 0;

	if (!in) {
		ise_errf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, in)) > 0) {
		if (out && (count >= b->max_requests || bytes + (size_t)len > b->max_bytes)) {
			rc |= fclose(out);
			out = NULL;
		}
		if (!out) {
			int n = cJSON_GetArraySize(batches(b)) + 1;
			char *name = batch_file(b, n, "requests");
			cJSON *batch = cJSON_CreateObject();
			cJSON_AddStringToObject(batch, "requests", name);
			cJSON_AddItemToArray(batches(b), batch);
			out = fopen(name, "w");
			free(name);
			if (!out)
				break;
			count = 0, bytes = 0;
		}
		rc |= fwrite(line, 1, (size_t)len, out) != (size_t)len;
		count++, bytes += (size_t)len;
	}
	free(line);
	fclose(in);
	if (!out && len > 0) {
		ise_errf(err, errlen, "cannot write the requests beside '%s': %s", b->output,
			 strerror(errno));
		return -1;
	}
	if ((out && fclose(out)) || rc) {
		ise_errf(err, errlen, "cannot write the requests beside '%s'", b->output);
		return -1;
	}
	unlink(path);
	return save(b, err, errlen);
}

static void set_string(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* A fresh key for a batch, 32 hex digits: unique, not secret. */
static void new_key(char hex[33])
{
	unsigned char bytes[16];
	FILE *f = fopen("/dev/urandom", "rb");
	int ok = f && fread(bytes, 1, sizeof bytes, f) == sizeof bytes;

	if (f)
		fclose(f);
	if (!ok) { /* no /dev/urandom (a chroot): the time and the process */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t a = ise_mix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec),
			 b = ise_mix64(a ^ (uint64_t)getpid());
		memcpy(bytes, &a, 8);
		memcpy(bytes + 8, &b, 8);
	}
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
}

/*
 * Upload and create what a killed run left undone.  The batch's key is
 * saved before the create: a run killed after the server made the batch
 * but before its id was saved finds it again by that key, and so never
 * pays for it twice.
 */
static int start(struct ise_batchrun *b, struct ise_llm *llm, cJSON *batch, char *err,
		 size_t errlen)
{
	const char *requests = ise_json_string(batch, "requests");
	char id[512];

	if (!ise_json_string(batch, "input_file_id")) {
		if (ise_batchapi_upload(llm, requests, id, sizeof id, err, errlen) < 0)
			return -1;
		set_string(batch, "input_file_id", id);
		if (save(b, err, errlen) < 0)
			return -1;
	}
	if (ise_json_string(batch, "id")) {
		ise_warn("batch %s reattached for '%s'", ise_json_string(batch, "id"), requests);
		return 0;
	}
	const char *file = ise_json_string(batch, "input_file_id");
	cJSON *made = NULL;
	int found = 0;
	if (ise_json_string(batch, "key")) {
		if (ise_batchapi_find(llm, file, ise_json_string(batch, "key"), &made, err,
				      errlen) < 0)
			return -1;
		found = made != NULL;
	} else {
		char key[33];
		new_key(key);
		set_string(batch, "key", key);
		if (save(b, err, errlen) < 0)
			return -1;
	}
	if (!made &&
	    ise_batchapi_create(llm, file, ise_json_string(batch, "key"), &made, err, errlen) < 0)
		return -1;
	set_string(batch, "id", ise_json_string(made, "id"));
	set_string(batch, "status", ise_json_string(made, "status"));
	cJSON_Delete(made);
	if (save(b, err, errlen) < 0)
		return -1;
	/* always said: the id is how a user finds the batch at the provider */
	ise_warn("batch %s %s for '%s'", ise_json_string(batch, "id"),
		 found ? "reattached" : "created", requests);
	return 0;
}

static double count(const cJSON *counts, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(counts, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Look at batch once: 1 when it has ended and its files are here. */
static int look(struct ise_batchrun *b, struct ise_llm *llm, cJSON *batch, int n, char *err,
		size_t errlen)
{
	cJSON *now;
	const char *id = ise_json_string(batch, "id");

	if (ise_batchapi_get(llm, id, &now, err, errlen) < 0)
		return -1;
	const char *status = ise_json_string_or(now, "status", "");
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(now, "request_counts");
	char line[600];
	snprintf(line, sizeof line, "batch %s: %s, %.0f completed, %.0f failed of %.0f", id, status,
		 count(counts, "completed"), count(counts, "failed"), count(counts, "total"));
	const char *said = ise_json_string_or(batch, "said", "");
	if (strcmp(said, line)) { /* a line when something changed */
		if (b->progress)
			ise_warn("%s", line);
		set_string(batch, "said", line);
	}
	set_string(batch, "status", status);
	int ended = ise_batchapi_final(status);
	const char *kinds[2][2] = {{"output_file_id", "output"}, {"error_file_id", "errors"}};
	for (int k = 0; ended && k < 2; k++) {
		const char *file_id = ise_json_string(now, kinds[k][0]);
		char *path = batch_file(b, n, kinds[k][1]);
		if (file_id && ise_batchapi_download(llm, file_id, path, err, errlen) < 0)
			ended = -1;
		set_string(batch, kinds[k][1], file_id && ended > 0 ? path : NULL);
		free(path);
	}
	if (ended > 0) {
		cJSON_AddTrueToObject(batch, "finished");
		if (!strcmp(status, "failed")) {
			char *why =
			    cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(now, "errors"));
			ise_warn("batch %s failed: %.300s", id, why ? why : "no reason given");
			cJSON_free(why);
		}
	}
	cJSON_Delete(now);
	if (ended < 0 || save(b, err, errlen) < 0)
		return -1;
	return ended;
}

int ise_batchrun_wait(struct ise_batchrun *b, struct ise_llm *llm, char *err, size_t errlen)
{
	cJSON *batch;

	cJSON_ArrayForEach(batch, batches(b))
		if (!finished(batch) && start(b, llm, batch, err, errlen) < 0)
			return -1;
	for (;;) {
		int n = 0, left = 0;
		cJSON_ArrayForEach(batch, batches(b)) {
			n++;
			if (finished(batch))
				continue;
			int ended = look(b, llm, batch, n, err, errlen);
			if (ended < 0)
				return -1;
			left += !ended;
		}
		if (!left)
			return 0;
		struct timespec ts = {(time_t)b->poll,
				      (long)((b->poll - (double)(time_t)b->poll) * 1e9)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

int ise_batchrun_cancel(struct ise_batchrun *b, struct ise_llm *llm, char *err, size_t errlen)
{
	cJSON *batch, *now;

	cJSON_ArrayForEach(batch, batches(b)) {
		const char *id = ise_json_string(batch, "id");
		if (finished(batch) || !id)
			continue;
		if (ise_batchapi_cancel(llm, id, &now, err, errlen) < 0)
			return -1;
		ise_warn("batch %s: cancel asked (%s)", id, ise_json_string_or(now, "status", "?"));
		cJSON_Delete(now);
	}
	return 0;
}

const char **ise_batchrun_outputs(const struct ise_batchrun *b, size_t *n)
{
	const cJSON *batch;
	const char **paths =
	    ise_xcalloc(2 * (size_t)cJSON_GetArraySize(batches(b)) + 1, sizeof *paths);

	*n = 0;
	cJSON_ArrayForEach(batch, batches(b)) {
		const char *out = ise_json_string(batch, "output"),
			   *errs = ise_json_string(batch, "errors");
		if (out)
			paths[(*n)++] = out;
		if (errs)
			paths[(*n)++] = errs;
	}
	return paths;
}
