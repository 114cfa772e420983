/*
 * persona: the offline persona engine and the persona record contract.
 *
 * Pools (share/ise/personas.json, built in; --pools FILE replaces them) hold
 * names and cities by world region, industries with their organisations,
 * contexts, goals, expertise and roles, each role in a job family with its
 * own goals and tools, the experience levels and the six style families
 * with their surface variants.  Persona i of a seed is a pure function of
 * (seed, i): a keyed bijection maps i to a distinct (name, role, industry)
 * triple, so any n personas up to the pools' capacity are distinct by
 * construction, and a resumed or partial run makes the same ones.
 */
#ifndef ISE_PERSONA_H
#define ISE_PERSONA_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "core/rng.h"

struct ise_region {
	const char *name;
	const cJSON *first, *last, *cities;
	uint64_t names; /* first x last */
};

struct ise_role {
	const char *title;
	const cJSON *industry; /* the industry object */
	const cJSON *family;   /* the family object: goals, tools */
	const char *family_name;
};

struct ise_pools {
	const char *source;
	cJSON *root;
	const cJSON *levels, *styles;
	struct ise_region *regions;
	size_t nregions;
	struct ise_role *roles;
	size_t nroles;
	uint64_t names;    /* distinct names over all regions */
	uint64_t capacity; /* distinct (name, role, industry) triples */
};

/* path NULL loads the built-in pools.  Exits 2 on invalid pools. */
void ise_pools_load(struct ise_pools *p, const char *path);
void ise_pools_release(struct ise_pools *p);

struct ise_persona_engine {
	const struct ise_pools *pools;
	uint64_t seed;
	struct ise_perm triples, ids;
	gsl_rng *rng;
};

void ise_persona_engine_init(struct ise_persona_engine *e, const struct ise_pools *p,
			     uint64_t seed);
/* Persona number index (0-based) of the engine's seed; the caller owns it. */
cJSON *ise_persona_make(struct ise_persona_engine *e, uint64_t index);
void ise_persona_engine_release(struct ise_persona_engine *e);

/* NULL if p is a usable persona record, else what is wrong with it. */
const char *ise_persona_check(const cJSON *p);

#endif
