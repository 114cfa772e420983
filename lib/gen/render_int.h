/*
 * render_int: what the render files (render.c, render_offline.c,
 * render_llm.c, render_check.c) share: the scene a tuple is rendered in
 * and the small helpers render.c defines for the others.
 */
#ifndef ISE_RENDER_INT_H
#define ISE_RENDER_INT_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>

#include "gen/catalog.h"
#include "gen/register.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* A tuple being rendered: its persona and parameters, the catalog, the
 * persona's register and, for the offline engine, the variables of the
 * phrase banks and the generator. */
struct scene {
	const cJSON *tuple, *persona, *params;
	const struct ise_catalog *catalog;
	enum ise_level level;
	enum ise_family family;
	cJSON *vars; /* persona and scenario variables for the banks */
	gsl_rng *r;
};

/* a, b and c joined, malloc'd. */
char *ise_render_joined(const char *a, const char *b, const char *c);
/* obj's member key when it is a non-empty string, else NULL. */
const char *ise_render_str(const cJSON *obj, const char *key);
/* The catalog's entry for a tuple's task (by its id), or NULL. */
const cJSON *ise_render_catalog_task(const struct scene *s, const cJSON *task);

#endif
