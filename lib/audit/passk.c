/*
 * passk: pass@1, pass@k and pass^k of verified trials (see passk.h).
 */
#include "audit/passk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/jsondoc.h"
#include "core/xalloc.h"

struct intent {
	char *id;
	char **domains;
	size_t ndomains;
	char *complexity;
	unsigned long n, c; /* trials, verified */
};

struct ise_passk {
	struct intent *intents;
	size_t nintents, cap;
	size_t *slots; /* hash of id -> index + 1 */
	size_t nslots;
	unsigned long trajectories, verified;
	unsigned long both, simulator_only, checks_only, neither;
};

struct ise_passk *ise_passk_new(void)
{
	return ise_xcalloc(1, sizeof(struct ise_passk));
}

static void rehash(struct ise_passk *p)
{
	size_t n = p->nslots ? 2 * p->nslots : 256;
	free(p->slots);
	p->slots = ise_xcalloc(n, sizeof *p->slots);
	p->nslots = n;
	for (size_t i = 0; i < p->nintents; i++) {
		const char *id = p->intents[i].id;
		size_t j = ise_fnv(id, strlen(id), ISE_FNV_OFFSET) & (n - 1);
		while (p->slots[j])
			j = (j + 1) & (n - 1);
		p->slots[j] = i + 1;
	}
}

static struct intent *intent_of(struct ise_passk *p, const char *id, const cJSON *record)
{
	if (2 * (p->nintents + 1) > p->nslots)
		rehash(p);
	size_t j = ise_fnv(id, strlen(id), ISE_FNV_OFFSET) & (p->nslots - 1);
	for (; p->slots[j]; j = (j + 1) & (p->nslots - 1))
		if (!strcmp(p->intents[p->slots[j] - 1].id, id))
			return &p->intents[p->slots[j] - 1];
	ise_xgrow((void **)&p->intents, &p->cap, p->nintents + 1, sizeof *p->intents);
	struct intent *it = &p->intents[p->nintents];
	memset(it, 0, sizeof *it);
	it->id = ise_xstrdup(id);
	const cJSON *d, *domains = cJSON_GetObjectItemCaseSensitive(record, "domains");
	it->domains = ise_xcalloc((size_t)cJSON_GetArraySize(domains) + 1, sizeof *it->domains);
	cJSON_ArrayForEach(d, domains)
		if (cJSON_IsString(d))
			it->domains[it->ndomains++] = ise_xstrdup(d->valuestring);
	const char *complexity = ise_json_string(record, "complexity");
	it->complexity = complexity ? ise_xstrdup(complexity) : NULL;
	p->slots[j] = ++p->nintents;
	return it;
}

void ise_passk_add(struct ise_passk *p, const cJSON *record)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(record, "verification");
	if (!cJSON_IsObject(v))
		return;
	int verified = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "verified"));
	int says = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(record, "is_success"));
	const char *id = ise_json_string(record, "intent_id");
	if (!id)
		id = ise_json_string_or(record, "id", "");
	struct intent *it = intent_of(p, id, record);
	it->n++;
	it->c += verified;
	p->trajectories++;
	p->verified += verified;
	p->both += says && verified;
	p->simulator_only += says && !verified;
	p->checks_only += !says && verified;
	p->neither += !says && !verified;
}

/* 1 - C(n-c, k) / C(n, k), as a product that stays in range. */
static double pass_at(unsigned long n, unsigned long c, unsigned long k)
{
	if (n - c < k)
		return 1;
	double miss = 1;
	for (unsigned long i = n - c + 1; i <= n; i++)
		miss *= 1 - (double)k / (double)i;
	return 1 - miss;
}

struct sums {
	const char *name;
	unsigned long intents;
	double at1, atk, allk;
};

static void sum(struct sums *s, const struct intent *it, unsigned long k)
{
	s->intents++;
	s->at1 += (double)it->c / (double)it->n;
	s->atk += pass_at(it->n, it->c, k);
	s->allk += pow((double)it->c / (double)it->n, (double)k);
}

static cJSON *rounded(double x)
{
	return cJSON_CreateNumber(round(x * 1e6) / 1e6);
}

static cJSON *scores(const struct sums *s, unsigned long k)
{
	char key[32];
	cJSON *o = ise_json_checked(cJSON_CreateObject());
	double n = s->intents ? (double)s->intents : 1;
	ise_json_add(o, "intents", cJSON_CreateNumber((double)s->intents));
	ise_json_add(o, "pass@1", rounded(s->at1 / n));
	snprintf(key, sizeof key, "pass@%lu", k);
	if (k > 1)
		ise_json_add(o, key, rounded(s->atk / n));
	snprintf(key, sizeof key, "pass^%lu", k);
	ise_json_add(o, key, rounded(s->allk / n));
	return o;
}

/* Scores by a key of the intents (a domain, a complexity), in first-seen order. */
static cJSON *grouped(const struct ise_passk *p, unsigned long k, int by_domain)
{
	struct sums *g = NULL;
	size_t ng = 0, cap = 0;
	for (size_t i = 0; i < p->nintents; i++) {
		const struct intent *it = &p->intents[i];
		size_t nkeys = by_domain ? it->ndomains : it->complexity != NULL;
		for (size_t d = 0; d < nkeys; d++) {
			const char *key = by_domain ? it->domains[d] : it->complexity;
			size_t j = 0;
			while (j < ng && strcmp(g[j].name, key))
				j++;
			if (j == ng) {
				ise_xgrow((void **)&g, &cap, ng + 1, sizeof *g);
				g[ng++] = (struct sums){.name = key};
			}
			sum(&g[j], it, k);
		}
	}
	cJSON *o = ise_json_checked(cJSON_CreateObject());
	for (size_t j = 0; j < ng; j++)
		ise_json_add(o, g[j].name, scores(&g[j], k));
	free(g);
	return o;
}

cJSON *ise_passk_summary(const struct ise_passk *p)
{
	if (!p->trajectories)
		return NULL;
	unsigned long k = 0;
	for (size_t i = 0; i < p->nintents; i++)
		if (!k || p->intents[i].n < k)
			k = p->intents[i].n;
	struct sums all = {0};
	for (size_t i = 0; i < p->nintents; i++)
		sum(&all, &p->intents[i], k);
	cJSON *o = ise_json_checked(cJSON_CreateObject());
	ise_json_add(o, "trajectories", cJSON_CreateNumber((double)p->trajectories));
	ise_json_add(o, "verified", cJSON_CreateNumber((double)p->verified));
	ise_json_add(o, "verified_rate", rounded((double)p->verified / (double)p->trajectories));
	cJSON *a = ise_json_checked(cJSON_CreateObject());
	ise_json_add(a, "both", cJSON_CreateNumber((double)p->both));
	ise_json_add(a, "simulator_only", cJSON_CreateNumber((double)p->simulator_only));
	ise_json_add(a, "checks_only", cJSON_CreateNumber((double)p->checks_only));
	ise_json_add(a, "neither", cJSON_CreateNumber((double)p->neither));
	ise_json_add(o, "agreement", a);
	ise_json_add(o, "k", cJSON_CreateNumber((double)k));
	cJSON *s = scores(&all, k), *item;
	while ((item = s->child)) {
		cJSON_DetachItemViaPointer(s, item);
		cJSON_AddItemToObject(o, item->string, item);
	}
	cJSON_Delete(s);
	ise_json_add(o, "by_domain", grouped(p, k, 1));
	ise_json_add(o, "by_complexity", grouped(p, k, 0));
	return o;
}

void ise_passk_free(struct ise_passk *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nintents; i++) {
		for (size_t d = 0; d < p->intents[i].ndomains; d++)
			free(p->intents[i].domains[d]);
		free(p->intents[i].domains);
		free(p->intents[i].complexity);
		free(p->intents[i].id);
	}
	free(p->intents);
	free(p->slots);
	free(p);
}
