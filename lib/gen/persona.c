#include "gen/persona.h"

#include <ctype.h>
#include <gsl/gsl_randist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/embedded.h"
#include "core/jsondoc.h"
#include "gen/text.h"
#include "core/xalloc.h"

#define DOMAIN_TRIPLES 0x545249504cULL
#define DOMAIN_IDS     0x504944ULL

/* A non-empty array of non-empty strings, or refuse naming where. */
static const cJSON *strings(const struct ise_pools *p, const cJSON *obj, const char *key,
			    const char *where)
{
	const cJSON *a = ise_json_array(obj, key), *s;

	if (!cJSON_GetArraySize(a))
		ise_die_bad_data(p->source, NULL, "%s: missing or empty array '%s'", where, key);
	cJSON_ArrayForEach(s, a)
		if (!cJSON_IsString(s) || !*s->valuestring)
			ise_die_bad_data(p->source, NULL,
					 "%s: '%s' holds something other than a non-empty string",
					 where, key);
	return a;
}

static void load_regions(struct ise_pools *p)
{
	const cJSON *regions = ise_json_array(p->root, "regions"), *r;

	if (!cJSON_GetArraySize(regions))
		ise_die_bad_data(p->source, NULL, "missing or empty array 'regions'");
	p->regions = ise_xcalloc((size_t)cJSON_GetArraySize(regions), sizeof *p->regions);
	cJSON_ArrayForEach(r, regions) {
		struct ise_region *reg = &p->regions[p->nregions++];
		char where[128];
		snprintf(where, sizeof where, "regions[%zu]", p->nregions - 1);
		reg->name = ise_json_string(r, "region");
		if (!reg->name)
			ise_die_bad_data(p->source, NULL, "%s: missing string 'region'", where);
		reg->first = strings(p, r, "first_names", where);
		reg->last = strings(p, r, "last_names", where);
		reg->cities = strings(p, r, "cities", where);
		reg->names = (uint64_t)cJSON_GetArraySize(reg->first) *
			     (uint64_t)cJSON_GetArraySize(reg->last);
		p->names += reg->names;
	}
}

static void load_roles(struct ise_pools *p)
{
	const cJSON *families = cJSON_GetObjectItemCaseSensitive(p->root, "families");
	const cJSON *industries = ise_json_array(p->root, "industries"), *ind, *fam, *role;
	size_t cap = 0;

	if (!cJSON_IsObject(families) || !families->child)
		ise_die_bad_data(p->source, NULL, "missing or empty object 'families'");
	cJSON_ArrayForEach(fam, families) {
		char where[128];
		snprintf(where, sizeof where, "family '%s'", fam->string);
		strings(p, fam, "goals", where);
		strings(p, fam, "tools", where);
	}
	if (!cJSON_GetArraySize(industries))
		ise_die_bad_data(p->source, NULL, "missing or empty array 'industries'");
	cJSON_ArrayForEach(ind, industries) {
		char where[160];
		const char *name = ise_json_string(ind, "name");
		if (!name || !*name)
			ise_die_bad_data(p->source, NULL, "an industry has no 'name'");
		snprintf(where, sizeof where, "industry '%s'", name);
		const char *keys[] = {"orgs", "contexts", "goals", "expertise"};
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
			strings(p, ind, keys[i], where);
		if (cJSON_GetArraySize(ise_json_array(ind, "expertise")) < 3)
			ise_die_bad_data(p->source, NULL,
					 "%s: 'expertise' needs at least 3 phrases", where);
		if (!cJSON_GetArraySize(ise_json_array(ind, "roles")))
			ise_die_bad_data(p->source, NULL, "%s: missing or empty array 'roles'",
					 where);
		cJSON_ArrayForEach(role, ise_json_array(ind, "roles")) {
			const char *title = ise_json_string(role, "title");
			const char *family = ise_json_string(role, "family");
			if (!title || !*title || !family)
				ise_die_bad_data(p->source, NULL,
						 "%s: a role needs 'title' and 'family'", where);
			if (!cJSON_GetObjectItemCaseSensitive(families, family))
				ise_die_bad_data(p->source, NULL,
						 "%s: role '%s' is in unknown family '%s'", where,
						 title, family);
			for (size_t i = 0; i < p->nroles; i++)
				if (p->roles[i].industry == ind &&
				    !strcmp(p->roles[i].title, title))
					ise_die_bad_data(p->source, NULL,
							 "%s: role '%s' appears twice", where,
							 title);
			ise_xgrow((void **)&p->roles, &cap, p->nroles + 1, sizeof *p->roles);
			p->roles[p->nroles++] = (struct ise_role){
			    title, ind, cJSON_GetObjectItemCaseSensitive(families, family), family};
		}
	}
}

void ise_pools_load(struct ise_pools *p, const char *path)
{
	const cJSON *style;

	memset(p, 0, sizeof *p);
	p->source = path ? path : "built-in persona pools";
	p->root = ise_jsondoc_load(path, ise_data_personas, ise_data_personas_len, p->source);
	p->levels = strings(p, p->root, "levels", "top level");
	p->styles = cJSON_GetObjectItemCaseSensitive(p->root, "styles");
	if (!cJSON_IsObject(p->styles) || !p->styles->child)
		ise_die_bad_data(p->source, NULL, "missing or empty object 'styles'");
	cJSON_ArrayForEach(style, p->styles)
		strings(p, p->styles, style->string, "styles");
	load_regions(p);
	load_roles(p);
	p->capacity = p->names * (uint64_t)p->nroles;
	if (p->names && p->capacity / p->names != (uint64_t)p->nroles)
		p->capacity = UINT64_MAX;
}

void ise_pools_release(struct ise_pools *p)
{
	free(p->regions);
	free(p->roles);
	cJSON_Delete(p->root);
	memset(p, 0, sizeof *p);
}

void ise_persona_engine_init(struct ise_persona_engine *e, const struct ise_pools *p, uint64_t seed)
{
	e->pools = p;
	e->seed = seed;
	ise_perm_init(&e->triples, p->capacity, seed, DOMAIN_TRIPLES);
	ise_perm_init(&e->ids, UINT64_C(1) << 32, seed, DOMAIN_IDS);
	e->rng = ise_rng_new();
}

void ise_persona_engine_release(struct ise_persona_engine *e)
{
	gsl_rng_free(e->rng);
}

static const char *pick(gsl_rng *r, const cJSON *array)
{
	int n = cJSON_GetArraySize(array);

	return cJSON_GetArrayItem(array, (int)gsl_rng_uniform_int(r, (unsigned long)n))
	    ->valuestring;
}

/* k (at most 8) distinct strings of array, in random order, appended to out
 * unless out has them already (industry and family goals may overlap). */
static void pick_distinct(gsl_rng *r, const cJSON *array, size_t k, cJSON *out)
{
	unsigned long n = (unsigned long)cJSON_GetArraySize(array), chosen[8];
	size_t got = 0;

	if (k > n)
		k = n;
	if (k > 8)
		k = 8;
	while (got < k) {
		unsigned long u = gsl_rng_uniform_int(r, n);
		size_t i = 0;
		while (i < got && chosen[i] != u)
			i++;
		if (i == got)
			chosen[got++] = u;
	}
	for (size_t i = 0; i < k; i++) {
		const char *s = cJSON_GetArrayItem(array, (int)chosen[i])->valuestring;
		int dup = 0;
		const cJSON *have;
		cJSON_ArrayForEach(have, out)
			dup |= !strcmp(have->valuestring, s);
		if (!dup)
			cJSON_AddItemToArray(out, cJSON_CreateString(s));
	}
}

/*
 * An experience level that fits the title.  With the paper's six levels
 * (Junior, Mid-level, Senior, Lead, Expert, Executive) a title word bounds the
 * range and a prior spreads people inside it; other level lists are uniform.
 */
static const char *level_for(gsl_rng *r, const struct ise_pools *p, const struct ise_role *role)
{
	static const double prior[] = {18, 28, 28, 14, 12, 8};
	static const struct {
		const char *word;
		int lo, hi;
	} bounds[] = {
	    {"Chief ", 5, 5},  {"President", 5, 5}, {"Head of", 3, 5},    {"Director", 3, 5},
	    {"VP ", 4, 5},     {"Principal", 2, 4}, {"Senior", 2, 4},     {"Lead", 2, 4},
	    {"Manager", 1, 4}, {"Junior", 0, 1},    {"Assistant", 0, 1},  {"Associate", 0, 1},
	    {"Intern", 0, 0},  {"Trainee", 0, 0},   {"Apprentice", 0, 0},
	};
	int lo = 0, hi = 4;

	if (cJSON_GetArraySize(p->levels) != 6)
		return pick(r, p->levels);
	if (!strcmp(role->family_name, "executive"))
		lo = 4, hi = 5;
	for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++)
		if (strstr(role->title, bounds[i].word)) {
			lo = bounds[i].lo, hi = bounds[i].hi;
			break;
		}
	double total = 0, acc = 0;
	for (int i = lo; i <= hi; i++)
		total += prior[i];
	double u = gsl_rng_uniform(r) * total;
	int level = hi;
	for (int i = lo; i <= hi; i++)
		if (u < (acc += prior[i])) {
			level = i;
			break;
		}
	return cJSON_GetArrayItem(p->levels, level)->valuestring;
}

static cJSON *work_context(gsl_rng *r, const struct ise_region *reg, const struct ise_role *role)
{
	const char *org = pick(r, ise_json_array(role->industry, "orgs"));
	const char *city = pick(r, reg->cities);
	const char *tail = pick(r, ise_json_array(role->industry, "contexts"));
	char text[512];

	switch (gsl_rng_uniform_int(r, 4)) {
	case 0:
		snprintf(text, sizeof text, "Works at %s %s in %s, %s.", ise_article(org), org,
			 city, tail);
		break;
	case 1:
		snprintf(text, sizeof text, "Based in %s with %s %s, %s.", city, ise_article(org),
			 org, tail);
		break;
	case 2:
		snprintf(text, sizeof text, "Part of %s %s in %s, %s.", ise_article(org), org, city,
			 tail);
		break;
	default:
		snprintf(text, sizeof text, "Runs day-to-day work for %s %s in %s, %s.",
			 ise_article(org), org, city, tail);
	}
	return cJSON_CreateString(text);
}

cJSON *ise_persona_make(struct ise_persona_engine *e, uint64_t index)
{
	const struct ise_pools *p = e->pools;
	uint64_t triple = ise_perm_apply(&e->triples, index);
	const struct ise_role *role = &p->roles[triple % p->nroles];
	uint64_t name = triple / p->nroles;
	const struct ise_region *reg = p->regions;
	char buf[256];

	while (name >= reg->names)
		name -= reg->names, reg++;
	int nlast = cJSON_GetArraySize(reg->last);
	snprintf(buf, sizeof buf, "%s %s",
		 cJSON_GetArrayItem(reg->first, (int)(name / (uint64_t)nlast))->valuestring,
		 cJSON_GetArrayItem(reg->last, (int)(name % (uint64_t)nlast))->valuestring);

	gsl_rng *r = e->rng;
	ise_rng_seed_index(r, e->seed, index);
	cJSON *o = cJSON_CreateObject();
	char id[32];
	snprintf(id, sizeof id, "persona_%08llx",
		 (unsigned long long)ise_perm_apply(&e->ids, index & 0xffffffffULL));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "name", buf);
	cJSON_AddStringToObject(o, "role", role->title);
	cJSON_AddStringToObject(o, "industry", ise_json_string(role->industry, "name"));
	pick_distinct(r, ise_json_array(role->industry, "expertise"), 3,
		      cJSON_AddArrayToObject(o, "expertise"));
	cJSON_AddStringToObject(o, "experience_level", level_for(r, p, role));
	const cJSON *family = cJSON_GetArrayItem(
	    p->styles, (int)gsl_rng_uniform_int(r, (unsigned long)cJSON_GetArraySize(p->styles)));
	cJSON_AddStringToObject(o, "communication_style", pick(r, family));
	cJSON_AddStringToObject(o, "style_family", family->string);
	cJSON_AddItemToObject(o, "work_context", work_context(r, reg, role));
	cJSON *goals = cJSON_AddArrayToObject(o, "common_goals");
	pick_distinct(r, ise_json_array(role->industry, "goals"), 1 + gsl_rng_uniform_int(r, 2),
		      goals);
	pick_distinct(r, ise_json_array(role->family, "goals"), 1 + gsl_rng_uniform_int(r, 2),
		      goals);
	pick_distinct(r, ise_json_array(role->family, "tools"), 3 + gsl_rng_uniform_int(r, 2),
		      cJSON_AddArrayToObject(o, "tools_preference"));
	cJSON_AddStringToObject(o, "region", reg->name);
	cJSON_AddStringToObject(o, "engine", "offline");
	return o;
}

const char *ise_persona_check(const cJSON *p)
{
	static const struct {
		const char *key, *why;
		int required;
	} fields[] = {
	    {"name", "persona without a string 'name'", 1},
	    {"role", "persona without a string 'role'", 1},
	    {"industry", "persona without a string 'industry'", 1},
	    {"experience_level", "persona field 'experience_level' is not a string", 0},
	    {"communication_style", "persona field 'communication_style' is not a string", 0},
	    {"work_context", "persona field 'work_context' is not a string", 0},
	};

	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, fields[i].key);
		if (fields[i].required ? !cJSON_IsString(v) || !*v->valuestring
				       : v && !cJSON_IsString(v))
			return fields[i].why;
	}
	const cJSON *expertise = cJSON_GetObjectItemCaseSensitive(p, "expertise");
	if (expertise && !cJSON_IsArray(expertise))
		return "persona field 'expertise' is not an array";
	return NULL;
}
