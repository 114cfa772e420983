/*
 * simsetup: what ise-sim settles before the first trajectory: each role's
 * endpoint and the tools the agent gets.
 */
#ifndef ISE_SIMSETUP_H
#define ISE_SIMSETUP_H

#include <cJSON.h>

#include "gen/catalog.h"
#include "llm/llm.h"

/* A role's endpoint (role "USER" or "AGENT"): the first set of base_url
 * and model (the role's options; may be NULL), ISE_<ROLE>_BASE_URL,
 * _API_KEY and _MODEL, and common (the common options over OPENAI_BASE_URL,
 * OPENAI_API_KEY and ISE_MODEL). */
struct ise_llm_config ise_sim_role(const struct ise_llm_config *common, const char *role,
				   const char *base_url, const char *model);
/* 1 when both roles can share one client: same URL, key, model and extra
 * body. */
int ise_sim_same_endpoint(const struct ise_llm_config *a, const struct ise_llm_config *b);
/* 1 when both roles send to one server (the same URL), whatever they ask
 * of it: they share its slots. */
int ise_sim_same_server(const struct ise_llm_config *a, const struct ise_llm_config *b);
/* The agent's tool specs: the catalog's, or those of path (a JSON array of
 * OpenAI function specs, or an object with one under "tools"); a bad file
 * is a usage error.  The caller owns the array. */
cJSON *ise_sim_tools(const char *path, const struct ise_catalog *catalog);

#endif
