/*
 * fuzz_records: the record validators and what runs on a record they pass.
 *
 * The input is one JSON document.  As a persona it goes through
 * ise_persona_check; as a tuple through the checks ise-render makes
 * (src/ise-render.c check_tuple, mirrored here), then ise_render_params,
 * the offline renderer and the prompt builder on the built-in catalog; as a
 * catalog (it has "tools") or persona pools (it has "regions") it is loaded
 * from a file, where a refusal must be an exit 2 that names the file, and
 * pools that load must make personas that ise_persona_check accepts.  The
 * raw bytes also go through ise_render_check, the check of an LLM's intent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen/catalog.h"
#include "core/embedded.h"
#include "harness.h"
#include "gen/persona.h"
#include "gen/render.h"
#include "gen/render_check.h"
#include "gen/render_llm.h"
#include "gen/render_offline.h"
#include "core/rng.h"

static struct ise_catalog builtin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup("fuzz_records");
	ise_catalog_load(&builtin, NULL);
	return 0;
}

static void check_persona(const cJSON *p)
{
	const char *why = ise_persona_check(p);

	if (why && !*why)
		fuzz_fail("fuzz_records: ise_persona_check gave an empty reason");
	if (!why)
		for (const char *const *k = (const char *const[]){"name", "role", "industry", NULL};
		     *k; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, *k);
			if (!cJSON_IsString(v) || !*v->valuestring)
				fuzz_fail("fuzz_records: a persona without '%s' passed", *k);
		}
}

/* src/ise-render.c check_tuple: what ise-render asks of a record first. */
static int renderable(const cJSON *t)
{
	const cJSON *persona = cJSON_GetObjectItemCaseSensitive(t, "persona");
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(t, "tasks"), *task;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");

	if (!cJSON_IsString(id) || !cJSON_IsObject(persona) || ise_persona_check(persona))
		return 0;
	if (!cJSON_IsArray(tasks) || !cJSON_GetArraySize(tasks))
		return 0;
	cJSON_ArrayForEach(task, tasks)
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(task, "id")))
			return 0;
	return 1;
}

static void render(const cJSON *tuple, uint64_t seed)
{
	const char *why = NULL;
	gsl_rng *rng = ise_rng_new();

	ise_rng_seed_key(rng, seed, cJSON_GetObjectItemCaseSensitive(tuple, "id")->valuestring);
	cJSON *params = ise_render_params(tuple, &builtin, rng, &why);
	if (!params) {
		if (!why || !*why)
			fuzz_fail("fuzz_records: ise_render_params refused without a reason");
		gsl_rng_free(rng);
		return;
	}
	char *text = ise_render_offline(tuple, &builtin, params, rng);
	if (!text)
		fuzz_fail("fuzz_records: ise_render_offline gave nothing");
	ise_render_check(text, ISE_RENDER_MIN_WORDS, ISE_RENDER_MAX_WORDS);
	cJSON *messages = ise_render_messages(ise_data_render, tuple, &builtin, params,
					      ISE_RENDER_MIN_WORDS, ISE_RENDER_MAX_WORDS);
	if (!cJSON_IsArray(messages) || !cJSON_GetArraySize(messages))
		fuzz_fail("fuzz_records: ise_render_messages made no messages");
	cJSON_Delete(messages);
	free(text);
	cJSON_Delete(params);
	gsl_rng_free(rng);
}

/* A refusal must say which file it refused. */
static void check_refusal(const char *messages, const char *path)
{
	if (!strstr(messages, path))
		fuzz_fail("fuzz_records: a refusal that does not name '%s': %.300s", path,
			  messages);
}

static void load_catalog(const uint8_t *data, size_t size)
{
	static struct ise_catalog c; /* static: it must survive the longjmp */
	char path[64];
	int fd = fuzz_memfile(data, size, path, sizeof path);

	fuzz_quiet_begin();
	if (!setjmp(*fuzz_exit_point()))
		ise_catalog_load(&c, path);
	int refused = fuzz_exited();
	char *messages = fuzz_quiet_end(1, NULL);
	if (refused) {
		check_refusal(messages, path);
		/* the task being loaded when it refused is not counted yet */
		int ntasks = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c.root, "tasks"));
		if (c.tasks && c.ntasks < (size_t)ntasks)
			free(c.tasks[c.ntasks].tools);
	} else {
		for (size_t i = 0; i < c.ntasks; i++)
			if (ise_catalog_task(&c, c.tasks[i].id) != &c.tasks[i] ||
			    !c.domains[c.tasks[i].domain].ntasks)
				fuzz_fail("fuzz_records: task %zu of a loaded catalog is lost", i);
	}
	ise_catalog_release(&c);
	free(messages);
	close(fd);
}

static void load_pools(const uint8_t *data, size_t size, uint64_t h)
{
	static struct ise_pools p;
	char path[64];
	int fd = fuzz_memfile(data, size, path, sizeof path);

	fuzz_quiet_begin();
	if (!setjmp(*fuzz_exit_point()))
		ise_pools_load(&p, path);
	int refused = fuzz_exited();
	char *messages = fuzz_quiet_end(1, NULL);
	if (refused) {
		check_refusal(messages, path);
	} else if (p.capacity) {
		struct ise_persona_engine e;
		ise_persona_engine_init(&e, &p, h);
		for (uint64_t i = 0; i < 4; i++) {
			cJSON *persona = ise_persona_make(&e, ((h >> 8) + i) % p.capacity);
			const char *why = ise_persona_check(persona);
			if (why)
				fuzz_fail("fuzz_records: a persona made from pools that loaded: %s",
					  why);
			cJSON_Delete(persona);
		}
		ise_persona_engine_release(&e);
	}
	ise_pools_release(&p);
	free(messages);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz_hash(data, size);
	char *text = malloc(size + 1);
	cJSON *json = cJSON_ParseWithLength((const char *)data, size);

	fuzz_setup("fuzz_records");
	if (!text)
		fuzz_fail("fuzz_records: out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	ise_render_check(text, (unsigned)(h % 8), (unsigned)(h >> 8) % 200);
	ise_render_check(text, ISE_RENDER_MIN_WORDS, ISE_RENDER_MAX_WORDS);
	free(text);
	if (cJSON_IsObject(json)) {
		check_persona(json);
		const cJSON *persona = cJSON_GetObjectItemCaseSensitive(json, "persona");
		if (persona)
			check_persona(persona);
		if (renderable(json))
			render(json, h);
		if (cJSON_GetObjectItemCaseSensitive(json, "tools"))
			load_catalog(data, size);
		if (cJSON_GetObjectItemCaseSensitive(json, "regions"))
			load_pools(data, size, h);
	}
	cJSON_Delete(json);
	return 0;
}
