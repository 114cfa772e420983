/*
 * catalog: the domains, tasks and agent tools every intent is built from.
 *
 * The default is share/ise/catalog.json, built into the binaries; --catalog
 * FILE replaces it.  Loading validates the whole file and refuses (exit 2,
 * with the task or domain named) a catalog with an unknown tool, a repeated
 * id, an empty domain, a task in no known domain, a malformed parameter slot
 * or a plan that uses a tool or slot its task does not declare.  The strings
 * and JSON nodes in the structs point into the catalog's own tree and live
 * until ise_catalog_release.
 */
#ifndef ISE_CATALOG_H
#define ISE_CATALOG_H

#include <cJSON.h>
#include <stddef.h>

struct ise_domain {
	const char *id, *name, *description;
	size_t *tasks; /* indexes into catalog.tasks */
	size_t ntasks;
};

struct ise_task {
	const char *id, *name, *description;
	size_t domain;      /* index into catalog.domains */
	const char **tools; /* tool names, in the task's order */
	size_t ntools;
	const cJSON *json; /* the whole task: slots, request, verify, plan */
};

struct ise_catalog {
	const char *source; /* file name, or "built-in catalog" */
	cJSON *root;
	struct ise_domain *domains;
	size_t ndomains;
	struct ise_task *tasks;
	size_t ntasks;
	const cJSON **tools; /* OpenAI function specs */
	const char **tool_names;
	size_t ntools;
};

/* path NULL loads the built-in catalog.  Exits 2 on an invalid catalog. */
void ise_catalog_load(struct ise_catalog *c, const char *path);
void ise_catalog_release(struct ise_catalog *c);

const struct ise_task *ise_catalog_task(const struct ise_catalog *c, const char *id);
const struct ise_domain *ise_catalog_domain(const struct ise_catalog *c, const char *id);

#endif
