/*
 * simsetup: what ise-sim settles before the first trajectory: each role's
 * endpoint and the tools the agent gets.
 */
#include "sim/simsetup.h"

#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"

struct ise_llm_config ise_sim_role(const struct ise_llm_config *common, const char *role,
				   const char *base_url, const char *model)
{
	struct ise_llm_config own, plain, c = *common;

	ise_llm_config_from_env(&own, role);
	ise_llm_config_from_env(&plain, NULL);
	/* getenv hands out the same pointer for the same variable: a different
	 * one means the role's own variable is set */
	if (own.base_url != plain.base_url)
		c.base_url = own.base_url;
	if (own.api_key != plain.api_key)
		c.api_key = own.api_key;
	if (own.model != plain.model)
		c.model = own.model;
	if (base_url)
		c.base_url = base_url;
	if (model)
		c.model = model;
	return c;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int ise_sim_same_endpoint(const struct ise_llm_config *a, const struct ise_llm_config *b)
{
	return same(a->base_url, b->base_url) && same(a->api_key, b->api_key) &&
	       same(a->model, b->model) && a->extra_body == b->extra_body;
}

int ise_sim_same_server(const struct ise_llm_config *a, const struct ise_llm_config *b)
{
	return a->base_url && b->base_url && !strcmp(a->base_url, b->base_url);
}

cJSON *ise_sim_tools(const char *path, const struct ise_catalog *catalog)
{
	cJSON *tools = ise_json_checked(cJSON_CreateArray()), *spec;
	size_t len;

	if (!path) {
		for (size_t i = 0; i < catalog->ntools; i++)
			ise_json_add(tools, NULL, cJSON_Duplicate(catalog->tools[i], 1));
		return tools;
	}
	char *text = ise_read_file(path, &len);
	cJSON *doc = cJSON_ParseWithLength(text, len);
	free(text);
	if (!doc)
		ise_die(ISE_EXIT_USAGE, "%s: not valid JSON", path);
	const cJSON *list = cJSON_IsArray(doc) ? doc : ise_json_array(doc, "tools");
	if (!cJSON_GetArraySize(list))
		ise_die(ISE_EXIT_USAGE, "%s: no tool specs (an array, or an object with 'tools')",
			path);
	cJSON_ArrayForEach(spec, list) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(spec, "function");
		if (strcmp(ise_json_string_or(spec, "type", ""), "function") ||
		    !ise_json_string(fn, "name") ||
		    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(fn, "parameters")))
			ise_die(ISE_EXIT_USAGE,
				"%s: a tool spec must be {type: \"function\", function: {name, "
				"description, parameters}}",
				path);
		ise_json_add(tools, NULL, cJSON_Duplicate(spec, 1));
	}
	cJSON_Delete(doc);
	return tools;
}
