/*
 * sample: the 4-D structured sampler (persona, domains, tasks, complexity).
 *
 * Record i of a seed is a pure function of (seed, i, catalog, pool): its own
 * generator is seeded from (seed, i), so --start K reproduces records K..
 * of a longer run byte for byte and shards can run anywhere.  The sampler
 * holds the persona pool (the caller's) and nothing that grows with N.
 */
#ifndef ISE_SAMPLE_H
#define ISE_SAMPLE_H

#include <cJSON.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "gen/catalog.h"
#include "core/rng.h"

#define ISE_COMPLEXITIES 3

struct ise_sampler {
	const struct ise_catalog *catalog;
	cJSON **personas; /* borrowed */
	size_t npersonas;
	unsigned domains_lo, domains_hi, tasks_lo, tasks_hi;
	double weights[ISE_COMPLEXITIES]; /* simple, medium, complex */
	uint64_t seed;
	gsl_ran_discrete_t *complexity;
	char **persona_text, **task_text; /* each serialised once, not per record */
	size_t *all_domains, *pool;       /* scratch sized by the catalog */
	const char **tools;
	gsl_rng *rng;
	struct ise_perm ids;
};

extern const char *const ise_complexity_names[ISE_COMPLEXITIES];

/* Defaults: 2-3 domains, 3-6 tasks, simple=10,medium=40,complex=50. */
void ise_sampler_init(struct ise_sampler *s, const struct ise_catalog *c, uint64_t seed);
/* Parse "simple=10,medium=40,complex=50" (any subset, others 0); NULL or why not. */
const char *ise_sampler_set_complexity(struct ise_sampler *s, const char *spec);
/* Check the ranges against the catalog once everything is set; NULL or why not. */
const char *ise_sampler_ready(struct ise_sampler *s);
/* Record index; the caller owns it. */
cJSON *ise_sampler_make(struct ise_sampler *s, uint64_t index);
/* The sampling space as a JSON object (persona x task sets x complexity). */
cJSON *ise_sampler_space(const struct ise_sampler *s);
void ise_sampler_release(struct ise_sampler *s);

#endif
