#include "gen/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsontext.h"
#include "core/xalloc.h"

#define DOMAIN_INTENT_IDS 0x494e54454e54ULL
#define MAX_PICK          64

const char *const ise_complexity_names[ISE_COMPLEXITIES] = {"simple", "medium", "complex"};

void ise_sampler_init(struct ise_sampler *s, const struct ise_catalog *c, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->catalog = c;
	s->seed = seed;
	s->domains_lo = 2, s->domains_hi = 3;
	s->tasks_lo = 3, s->tasks_hi = 6;
	s->weights[0] = 10, s->weights[1] = 40, s->weights[2] = 50;
	s->rng = ise_rng_new();
	ise_perm_init(&s->ids, UINT64_C(1) << 32, seed, DOMAIN_INTENT_IDS);
}

void ise_sampler_release(struct ise_sampler *s)
{
	for (size_t i = 0; s->persona_text && i < s->npersonas; i++)
		free(s->persona_text[i]);
	for (size_t i = 0; s->task_text && i < s->catalog->ntasks; i++)
		free(s->task_text[i]);
	free(s->persona_text);
	free(s->task_text);
	free(s->all_domains);
	free(s->pool);
	free(s->tools);
	if (s->complexity)
		gsl_ran_discrete_free(s->complexity);
	gsl_rng_free(s->rng);
}

const char *ise_sampler_set_complexity(struct ise_sampler *s, const char *spec)
{
	double w[ISE_COMPLEXITIES] = {0};
	int seen[ISE_COMPLEXITIES] = {0};
	const char *p = spec;

	while (*p) {
		const char *eq = strchr(p, '=');
		size_t n = eq ? (size_t)(eq - p) : 0;
		int k = 0;
		while (k < ISE_COMPLEXITIES && (strlen(ise_complexity_names[k]) != n ||
						strncmp(p, ise_complexity_names[k], n)))
			k++;
		if (!eq || k == ISE_COMPLEXITIES)
			return "expected NAME=WEIGHT pairs with NAME simple, medium or complex";
		if (seen[k]++)
			return "a complexity is given twice";
		char *end;
		w[k] = strtod(eq + 1, &end);
		if (end == eq + 1 || (*end && *end != ',') || !(w[k] >= 0) || !isfinite(w[k]))
			return "weights must be non-negative numbers";
		p = *end ? end + 1 : end;
	}
	if (w[0] + w[1] + w[2] <= 0)
		return "at least one weight must be above 0";
	memcpy(s->weights, w, sizeof w);
	return NULL;
}

static void add_strings(cJSON *array, const char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(v[i]));
}

static char *print(cJSON *json)
{
	char *text = ise_json_print(json);

	cJSON_Delete(json);
	return text;
}

/* The tuple's view of a task, as JSON text. */
static char *task_json(const struct ise_catalog *c, const struct ise_task *t)
{
	cJSON *task = cJSON_CreateObject();

	cJSON_AddStringToObject(task, "id", t->id);
	cJSON_AddStringToObject(task, "name", t->name);
	cJSON_AddStringToObject(task, "domain", c->domains[t->domain].id);
	cJSON_AddStringToObject(task, "description", t->description);
	add_strings(cJSON_AddArrayToObject(task, "tools"), t->tools, t->ntools);
	return print(task);
}

const char *ise_sampler_ready(struct ise_sampler *s)
{
	const struct ise_catalog *c = s->catalog;

	if (s->domains_hi > c->ndomains)
		return "--domains asks for more domains than the catalog has";
	if (s->tasks_hi < s->domains_hi)
		return "the high end of --tasks must reach the high end of --domains (every domain "
		       "gives a task)";
	if (s->tasks_hi > MAX_PICK || s->domains_hi > MAX_PICK)
		return "--domains and --tasks are limited to 64";
	if (!s->npersonas)
		return "the persona pool is empty";
	if (s->complexity)
		gsl_ran_discrete_free(s->complexity);
	s->complexity = gsl_ran_discrete_preproc(ISE_COMPLEXITIES, s->weights);
	if (!s->complexity)
		ise_fatal("out of memory");
	if (!s->persona_text) {
		s->persona_text = ise_xcalloc(s->npersonas, sizeof *s->persona_text);
		for (size_t i = 0; i < s->npersonas; i++)
			s->persona_text[i] = print(cJSON_Duplicate(s->personas[i], 1));
		s->task_text = ise_xcalloc(c->ntasks, sizeof *s->task_text);
		for (size_t i = 0; i < c->ntasks; i++)
			s->task_text[i] = task_json(c, &c->tasks[i]);
		s->all_domains = ise_xcalloc(c->ndomains, sizeof *s->all_domains);
		for (size_t i = 0; i < c->ndomains; i++)
			s->all_domains[i] = i;
		s->pool = ise_xcalloc(c->ntasks, sizeof *s->pool);
		s->tools = ise_xcalloc(c->ntools, sizeof *s->tools);
	}
	return NULL;
}

cJSON *ise_sampler_make(struct ise_sampler *s, uint64_t index)
{
	const struct ise_catalog *c = s->catalog;
	gsl_rng *r = s->rng;
	size_t domains[MAX_PICK], tasks[MAX_PICK], *pool = s->pool;
	size_t nd, nt, npool = 0;
	char id[32];

	ise_rng_seed_index(r, s->seed, index);
	size_t persona = gsl_rng_uniform_int(r, s->npersonas);

	/* 1. a set of domains, in the order drawn */
	nd = s->domains_lo + gsl_rng_uniform_int(r, s->domains_hi - s->domains_lo + 1);
	gsl_ran_choose(r, domains, nd, s->all_domains, c->ndomains, sizeof *domains);
	gsl_ran_shuffle(r, domains, nd, sizeof *domains);

	/* 2. one task from each domain, the rest from all their other tasks */
	unsigned lo = s->tasks_lo > nd ? s->tasks_lo : (unsigned)nd;
	nt = lo + gsl_rng_uniform_int(r, s->tasks_hi - lo + 1);
	for (size_t i = 0; i < nd; i++) {
		const struct ise_domain *d = &c->domains[domains[i]];
		size_t first = gsl_rng_uniform_int(r, d->ntasks);
		tasks[i] = d->tasks[first];
		for (size_t j = 0; j < d->ntasks; j++)
			if (j != first)
				pool[npool++] = d->tasks[j];
	}
	if (nt - nd > npool)
		nt = nd + npool; /* a small custom catalog cannot give more */
	if (nt > nd)
		gsl_ran_choose(r, tasks + nd, nt - nd, pool, npool, sizeof *pool);
	gsl_ran_shuffle(r, tasks, nt, sizeof *tasks);

	/* 3. a complexity from the prior */
	size_t level = gsl_ran_discrete(r, s->complexity);

	/* the id: the index's image under the seed's bijection (distinct within
	 * a seed), then a hash of what the tuple holds, so that runs over other
	 * pools or catalogs with the same seed do not share ids */
	uint64_t h = ise_hash_str(s->persona_text[persona], s->seed);
	for (size_t i = 0; i < nt; i++)
		h = ise_hash_str(c->tasks[tasks[i]].id, h);
	h = ise_hash_str(ise_complexity_names[level], h);
	cJSON *o = cJSON_CreateObject();
	snprintf(id, sizeof id, "intent_%08llx%08llx",
		 (unsigned long long)ise_perm_apply(&s->ids, index & 0xffffffffULL),
		 (unsigned long long)(h & 0xffffffffULL));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddItemToObject(o, "persona", cJSON_CreateRaw(s->persona_text[persona]));
	cJSON *jd = cJSON_AddArrayToObject(o, "domains");
	for (size_t i = 0; i < nd; i++)
		cJSON_AddItemToArray(jd, cJSON_CreateString(c->domains[domains[i]].id));
	cJSON *jt = cJSON_AddArrayToObject(o, "tasks");
	const char **tools = s->tools;
	size_t ntools = 0;
	for (size_t i = 0; i < nt; i++) {
		const struct ise_task *t = &c->tasks[tasks[i]];
		cJSON_AddItemToArray(jt, cJSON_CreateRaw(s->task_text[tasks[i]]));
		for (size_t k = 0; k < t->ntools; k++) {
			size_t j = 0;
			while (j < ntools && strcmp(tools[j], t->tools[k]))
				j++;
			if (j == ntools)
				tools[ntools++] = t->tools[k];
		}
	}
	add_strings(cJSON_AddArrayToObject(o, "tools"), tools, ntools);
	cJSON_AddStringToObject(o, "complexity", ise_complexity_names[level]);
	return o;
}

static long double choose(unsigned n, unsigned k)
{
	long double v = 1;

	if (k > n)
		return 0;
	for (unsigned i = 1; i <= k; i++)
		v = v * (long double)(n - k + i) / (long double)i;
	return roundl(v);
}

/*
 * Task sets that take at least one task from every domain of one domain set,
 * by inclusion-exclusion over the subsets of that set.
 */
static long double covering_sets(const struct ise_catalog *c, const size_t *dom, unsigned nd,
				 unsigned t)
{
	long double total = 0;

	for (unsigned mask = 0; mask < (1u << nd); mask++) {
		unsigned n = 0, bits = 0;
		for (unsigned i = 0; i < nd; i++)
			if (mask & (1u << i))
				n += (unsigned)c->domains[dom[i]].ntasks, bits++;
		long double term = choose(n, t);
		total += (nd - bits) % 2 ? -term : term;
	}
	return total;
}

/* Sum covering_sets over every domain subset of size nd (in dom[0..depth)). */
static long double over_subsets(const struct ise_sampler *s, size_t *dom, unsigned depth,
				unsigned nd, size_t next)
{
	const struct ise_catalog *c = s->catalog;
	long double total = 0;

	if (depth == nd) {
		unsigned lo = s->tasks_lo > nd ? s->tasks_lo : nd;
		for (unsigned t = lo; t <= s->tasks_hi; t++)
			total += covering_sets(c, dom, nd, t);
		return total;
	}
	for (size_t d = next; d < c->ndomains; d++) {
		dom[depth] = d;
		total += over_subsets(s, dom, depth + 1, nd, d + 1);
	}
	return total;
}

cJSON *ise_sampler_space(const struct ise_sampler *s)
{
	const struct ise_catalog *c = s->catalog;
	size_t dom[MAX_PICK];
	long double domain_sets = 0, task_sets = 0;
	int levels = 0;

	for (unsigned nd = s->domains_lo; nd <= s->domains_hi; nd++) {
		domain_sets += choose((unsigned)c->ndomains, nd);
		task_sets += over_subsets(s, dom, 0, nd, 0);
	}
	for (int i = 0; i < ISE_COMPLEXITIES; i++)
		levels += s->weights[i] > 0;
	long double total = (long double)s->npersonas * task_sets * levels;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "personas", (double)s->npersonas);
	cJSON_AddNumberToObject(o, "domains", (double)c->ndomains);
	cJSON_AddNumberToObject(o, "tasks", (double)c->ntasks);
	cJSON_AddNumberToObject(o, "domain_sets", (double)domain_sets);
	cJSON_AddNumberToObject(o, "task_sets", (double)task_sets);
	cJSON_AddNumberToObject(o, "complexities", levels);
	cJSON_AddNumberToObject(o, "total", (double)total);
	cJSON_AddNumberToObject(o, "log10_total", round((double)log10l(total) * 1000) / 1000);
	return o;
}
