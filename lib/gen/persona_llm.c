#include "gen/persona_llm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/xalloc.h"
#include "llm/batchfile.h"

#define DOMAIN_LLM_IDS 0x4c4c4d4944ULL

static const char *schema_text =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"personas\"],"
    "\"properties\":{\"personas\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"additionalProperties\":false,\"required\":[\"name\",\"role\",\"industry\",\"expertise\","
    "\"experience_level\",\"communication_style\",\"work_context\",\"common_goals\","
    "\"tools_preference\"],\"properties\":{\"name\":{\"type\":\"string\"},\"role\":{\"type\":"
    "\"string\"},\"industry\":{\"type\":\"string\"},\"expertise\":{\"type\":\"array\",\"items\":{"
    "\"type\":\"string\"}},\"experience_level\":{\"type\":\"string\",\"enum\":[\"Junior\","
    "\"Mid-level\",\"Senior\",\"Lead\",\"Expert\",\"Executive\"]},\"communication_style\":{"
    "\"type\":\"string\"},\"work_context\":{\"type\":\"string\"},\"common_goals\":{\"type\":"
    "\"array\",\"items\":{\"type\":\"string\"}},\"tools_preference\":{\"type\":\"array\","
    "\"items\":{\"type\":\"string\"}}}}}}}";

void ise_persona_identity(const cJSON *p, char *buf, size_t size)
{
	const char *keys[] = {"name", "role", "industry"};
	size_t n = 0;

	for (size_t k = 0; k < 3; k++) {
		const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, keys[k]));
		for (; s && *s && n + 2 < size; s++)
			buf[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
		buf[n++] = '\x1f';
	}
	buf[n ? n - 1 : 0] = '\0';
}

/* The request for batch number b: steer it to a few industries and regions. */
static cJSON *request_for(const struct ise_persona_llm_run *run, gsl_rng *r, unsigned long long b)
{
	const cJSON *industries = cJSON_GetObjectItemCaseSensitive(run->pools->root, "industries");
	char steer[1024] = "", prompt[2048];
	size_t n = 0;

	ise_rng_seed_index(r, run->seed ^ 0x504552534f4e41ULL, b);
	for (int i = 0; i < 3; i++) {
		const cJSON *ind = cJSON_GetArrayItem(
		    industries,
		    (int)gsl_rng_uniform_int(r, (unsigned long)cJSON_GetArraySize(industries)));
		const struct ise_region *reg =
		    &run->pools->regions[gsl_rng_uniform_int(r, run->pools->nregions)];
		n += (size_t)snprintf(
		    steer + n, sizeof steer - n, "%s- %s, working in %s\n", i ? "" : "",
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ind, "name")), reg->name);
		if (n >= sizeof steer)
			break;
	}
	snprintf(
	    prompt, sizeof prompt,
	    "Create %u realistic, internally consistent professional personas of different "
	    "people from around the world. Draw them mostly from these industries and regions:\n%s"
	    "Vary roles, seniority (experience_level one of Junior, Mid-level, Senior, Lead, "
	    "Expert, Executive), gender and culture; names fit the region. expertise: exactly 3 "
	    "short noun phrases. communication_style: a short phrase such as \"Analytical and "
	    "precise\". work_context: one sentence naming a city and the kind of organisation. "
	    "common_goals: 2-3 short phrases. tools_preference: 3-4 tools or software they use. "
	    "Answer with a JSON object {\"personas\": [...]} and nothing else.",
	    run->batch, steer);
	cJSON *req = cJSON_CreateObject();
	cJSON *messages = cJSON_AddArrayToObject(req, "messages");
	cJSON *sys = cJSON_CreateObject(), *user = cJSON_CreateObject();
	cJSON_AddStringToObject(sys, "role", "system");
	cJSON_AddStringToObject(sys, "content",
				"You write data sets of professional personas as JSON.");
	cJSON_AddStringToObject(user, "role", "user");
	cJSON_AddStringToObject(user, "content", prompt);
	cJSON_AddItemToArray(messages, sys);
	cJSON_AddItemToArray(messages, user);
	cJSON_AddNumberToObject(req, "seed", (double)((run->seed + b) & 0x7fffffff));
	return req;
}

static int string_list(const cJSON *a)
{
	const cJSON *s;

	if (!cJSON_IsArray(a))
		return 0;
	cJSON_ArrayForEach(s, a)
		if (!cJSON_IsString(s) || !*s->valuestring)
			return 0;
	return 1;
}

struct shared {
	struct ise_persona_llm_run *run;
	pthread_mutex_t lock;
	unsigned long long next_batch, accepted, failed; /* failed: requests */
	struct ise_progress progress;
	struct ise_perm ids;
	cJSON *schema;
};

/* Keep the good, new personas of one reply (model: the model the server
 * says answered, or NULL); under the lock. */
static void accept(struct shared *sh, const cJSON *reply, const char *model)
{
	struct ise_persona_llm_run *run = sh->run;
	const cJSON *p;
	char key[1024], id[32];

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "personas")) {
		if (run->have + sh->accepted >= run->want)
			return;
		if (!cJSON_IsObject(p) || ise_persona_check(p) ||
		    !string_list(cJSON_GetObjectItemCaseSensitive(p, "expertise"))) {
			run->rejected_records++;
			continue;
		}
		ise_persona_identity(p, key, sizeof key);
		if (!ise_idset_add(run->seen, key)) {
			run->duplicates++;
			continue;
		}
		cJSON *o = cJSON_CreateObject(), *f;
		snprintf(id, sizeof id, "persona_%08llx",
			 (unsigned long long)ise_perm_apply(&sh->ids, (run->have + sh->accepted) &
									  0xffffffffULL));
		cJSON_AddStringToObject(o, "id", id);
		cJSON_ArrayForEach(f, p)
			if (strcmp(f->string, "id"))
				cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
		cJSON_AddStringToObject(o, "engine", "llm");
		if (model || run->model)
			cJSON_AddStringToObject(o, "model", model ? model : run->model);
		ise_writer_put(run->out, o);
		cJSON_Delete(o);
		sh->accepted++;
	}
}

static void *worker(void *arg)
{
	struct shared *sh = arg;
	struct ise_persona_llm_run *run = sh->run;
	gsl_rng *r = ise_rng_new();

	for (;;) {
		pthread_mutex_lock(&sh->lock);
		int stop = run->fatal || run->have + sh->accepted >= run->want ||
			   sh->next_batch >= run->budget;
		unsigned long long b = sh->next_batch++;
		pthread_mutex_unlock(&sh->lock);
		if (stop)
			break;
		cJSON *req = request_for(run, r, b), *json = NULL;
		struct ise_llm_reply reply;
		char err[1024];
		enum ise_llm_status st = ise_llm_chat_json(run->llm, req, "personas", sh->schema,
							   &reply, &json, err, sizeof err);
		cJSON_Delete(req);
		pthread_mutex_lock(&sh->lock);
		run->requests++;
		if (st == ISE_LLM_OK)
			accept(sh, json, reply.model);
		else if (st == ISE_LLM_FATAL && !run->fatal)
			run->fatal = 1, ise_warn("%s", err);
		else if (st == ISE_LLM_REJECTED)
			ise_warn("batch %llu: %s", b + 1, err);
		sh->failed += st != ISE_LLM_OK;
		ise_progress_update(&sh->progress, sh->accepted, sh->failed, -1);
		pthread_mutex_unlock(&sh->lock);
		cJSON_Delete(json);
		ise_llm_reply_release(&reply);
	}
	gsl_rng_free(r);
	return NULL;
}

static void shared_init(struct shared *sh, struct ise_persona_llm_run *run)
{
	memset(sh, 0, sizeof *sh);
	sh->run = run;
	pthread_mutex_init(&sh->lock, NULL);
	ise_perm_init(&sh->ids, UINT64_C(1) << 32, run->seed, DOMAIN_LLM_IDS);
	sh->schema = cJSON_Parse(schema_text);
}

/* The exit status, with the counts said. */
static int shared_end(struct shared *sh, const char *raise)
{
	struct ise_persona_llm_run *run = sh->run;

	cJSON_Delete(sh->schema);
	pthread_mutex_destroy(&sh->lock);
	if (run->duplicates || run->rejected_records)
		ise_warn("dropped %llu duplicate and %llu malformed personas from the model",
			 run->duplicates, run->rejected_records);
	if (run->fatal)
		return ISE_EXIT_FATAL;
	if (run->have + sh->accepted < run->want) {
		ise_warn("only %llu of %llu distinct personas after %llu requests (%s)",
			 run->have + sh->accepted, run->want, run->requests, raise);
		return ISE_EXIT_DATA;
	}
	return ISE_EXIT_OK;
}

int ise_persona_llm(struct ise_persona_llm_run *run)
{
	struct shared sh;
	unsigned jobs = run->jobs ? run->jobs : 1;
	pthread_t *threads = ise_xcalloc(jobs, sizeof *threads);

	shared_init(&sh, run);
	ise_progress_init(&sh.progress, run->progress,
			  run->want > run->have ? run->want - run->have : 0);
	sh.progress.note = ise_llm_progress_note;
	sh.progress.note_ctx = run->llm;
	for (unsigned i = 0; i < jobs; i++)
		if (pthread_create(&threads[i], NULL, worker, &sh))
			ise_fatal("cannot start a worker thread");
	for (unsigned i = 0; i < jobs; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	ise_progress_end(&sh.progress, sh.accepted, sh.failed);
	return shared_end(&sh, "raise --budget");
}

/* ---- batch files ---- */

/* The request of batch b as ise_llm_chat_json would send it first. */
static cJSON *batch_request(struct shared *sh, gsl_rng *r, unsigned long long b)
{
	cJSON *req = request_for(sh->run, r, b);
	cJSON *json_req = ise_llm_json_request(sh->run->llm, req, "personas", sh->schema, NULL);

	cJSON_Delete(req);
	return json_req;
}

static void batch_id(char *buf, size_t size, unsigned long long b)
{
	snprintf(buf, size, "personas-%llu", b + 1);
}

/* One past the highest batch the output files hold. */
static unsigned long long batches_seen(const struct ise_batch_results *res)
{
	unsigned long long end = 0, n;
	char tail;

	for (size_t i = 0; i < res->n; i++)
		if (sscanf(res->v[i].custom_id, "personas-%llu%c", &n, &tail) == 1 && n > end)
			end = n;
	return end;
}

int ise_persona_batch_finish(struct ise_persona_llm_run *run, struct ise_batch_results *res)
{
	struct shared sh;
	gsl_rng *r = ise_rng_new();
	unsigned long long end = batches_seen(res);

	shared_init(&sh, run);
	/* in batch order, so the records are those of a run with -j 1 */
	for (unsigned long long b = 0; b < end && run->have + sh.accepted < run->want; b++) {
		struct ise_llm_reply reply;
		char id[64], err[1024];
		cJSON *req = batch_request(&sh, r, b), *json = NULL;
		batch_id(id, sizeof id, b);
		enum ise_batch_outcome got =
		    ise_batch_reply(run->llm, res, id, req, &reply, err, sizeof err);
		cJSON_Delete(req);
		if (got == ISE_BATCH_ANSWERED &&
		    ise_llm_json_answer(run->llm, &reply, &json, err, sizeof err) == ISE_LLM_OK) {
			run->requests++;
			accept(&sh, json, reply.model);
		} else {
			run->requests += got != ISE_BATCH_MISSING;
			ise_warn("%s: %s%s", id, got == ISE_BATCH_ANSWERED ? "reply refused: " : "",
				 err);
		}
		cJSON_Delete(json);
		ise_llm_reply_release(&reply);
	}
	gsl_rng_free(r);
	return shared_end(&sh,
			  "write the next requests with --emit-requests and these --responses");
}

int ise_persona_batch_emit(struct ise_persona_llm_run *run, struct ise_batch_results *res,
			   struct ise_writer *requests)
{
	struct shared sh;
	gsl_rng *r = ise_rng_new();
	unsigned long long end = batches_seen(res), sent = 0, b;
	unsigned long long need = run->have < run->want ? run->want - run->have : 0;

	shared_init(&sh, run);
	/* a batch asked and lost, or failed, is asked again as it was (as the
	 * client retries a request); then new batches, each with its own seed,
	 * until enough personas are asked for or the budget is spent */
	for (b = 0; b < end + (need + run->batch - 1) / run->batch && b < run->budget; b++) {
		struct ise_llm_reply reply;
		char id[64], err[1024];
		cJSON *req = batch_request(&sh, r, b);
		batch_id(id, sizeof id, b);
		enum ise_batch_outcome got =
		    b < end ? ise_batch_reply(run->llm, res, id, req, &reply, err, sizeof err)
			    : ISE_BATCH_MISSING;
		if (b < end)
			ise_llm_reply_release(&reply);
		if (got == ISE_BATCH_MISSING || got == ISE_BATCH_FAILED) {
			cJSON *line = ise_batch_request(run->llm, id, req);
			ise_writer_put(requests, line);
			cJSON_Delete(line);
			sent++;
		}
		cJSON_Delete(req);
	}
	gsl_rng_free(r);
	cJSON_Delete(sh.schema);
	pthread_mutex_destroy(&sh.lock);
	run->requests = sent;
	ise_warn("%llu requests written to '%s'", sent, requests->name);
	if (b >= run->budget && need && b < end + (need + run->batch - 1) / run->batch) {
		ise_warn("the budget of %llu requests is spent (raise --budget)", run->budget);
		return ISE_EXIT_DATA;
	}
	return ISE_EXIT_OK;
}
