#include "audit/corpus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/xalloc.h"

#define NAMES     (ISE_CORPUS_MAX_TOOLS + 1)
#define NAME_SLOT (2 * NAMES)

void ise_corpus_init(struct ise_corpus *c)
{
	memset(c, 0, sizeof *c);
	c->cooccur = ise_xcalloc((size_t)NAMES * NAMES, sizeof *c->cooccur);
	c->trigrams_cap = 1024;
	c->trigrams = ise_xcalloc(c->trigrams_cap, sizeof *c->trigrams);
}

void ise_corpus_release(struct ise_corpus *c)
{
	for (size_t i = 0; i < c->ntools; i++)
		free(c->names[i]);
	free(c->turns);
	free(c->cooccur);
	free(c->trigrams);
	memset(c, 0, sizeof *c);
}

void ise_corpus_set_rejects(struct ise_corpus *c, uint64_t rejects)
{
	c->have_rejects = 1;
	c->rejects = rejects;
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The index of a tool name, adding it while there is room. */
static size_t tool_index(struct ise_corpus *c, const char *name)
{
	size_t i = (size_t)(hash_name(name) % NAME_SLOT);

	for (; c->name_slot[i]; i = (i + 1) % NAME_SLOT)
		if (!strcmp(c->names[c->name_slot[i] - 1], name))
			return (size_t)c->name_slot[i] - 1;
	if (c->ntools < ISE_CORPUS_MAX_TOOLS) {
		c->names[c->ntools] = ise_xstrdup(name);
		c->name_slot[i] = (int16_t)++c->ntools;
		return c->ntools - 1;
	}
	if (c->ntools == ISE_CORPUS_MAX_TOOLS)
		c->names[c->ntools++] = ise_xstrdup(ISE_CORPUS_OTHER);
	return ISE_CORPUS_MAX_TOOLS;
}

static size_t trigram_slot(const struct ise_corpus_trigram *table, size_t cap, const uint16_t t[3])
{
	uint64_t h = ((uint64_t)t[0] * 0x9E3779B97F4A7C15u) ^
		     ((uint64_t)t[1] * 0xC2B2AE3D27D4EB4Fu) ^
		     ((uint64_t)t[2] * 0x165667B19E3779F9u);
	size_t i = (size_t)(h ^ (h >> 29)) & (cap - 1);

	while (table[i].count && memcmp(table[i].tool, t, sizeof table[i].tool))
		i = (i + 1) & (cap - 1);
	return i;
}

static void trigram_add(struct ise_corpus *c, const uint16_t t[3])
{
	size_t i = trigram_slot(c->trigrams, c->trigrams_cap, t);

	c->trigram_total++;
	if (c->trigrams[i].count) {
		c->trigrams[i].count++;
		return;
	}
	if (c->ntrigrams == ISE_CORPUS_MAX_TRIGRAMS) {
		c->trigram_overflow++;
		return;
	}
	if (2 * (c->ntrigrams + 1) > c->trigrams_cap) {
		size_t cap = 2 * c->trigrams_cap;
		struct ise_corpus_trigram *grown = ise_xcalloc(cap, sizeof *grown);
		for (size_t k = 0; k < c->trigrams_cap; k++)
			if (c->trigrams[k].count)
				grown[trigram_slot(grown, cap, c->trigrams[k].tool)] =
				    c->trigrams[k];
		free(c->trigrams);
		c->trigrams = grown;
		c->trigrams_cap = cap;
		i = trigram_slot(c->trigrams, cap, t);
	}
	memcpy(c->trigrams[i].tool, t, sizeof c->trigrams[i].tool);
	c->trigrams[i].count = 1;
	c->ntrigrams++;
}

static void raise_max(uint64_t *max, uint64_t v)
{
	if (v > *max)
		*max = v;
}

void ise_corpus_add(struct ise_corpus *c, const struct ise_audit_facts *f)
{
	unsigned char present[NAMES] = {0};
	uint16_t used[NAMES], window[3];
	size_t nused = 0, nwindow = 0;
	uint64_t tokens = (f->text_bytes + 3) / 4;

	c->trajectories++;
	size_t had = c->turns_cap;
	ise_xgrow((void **)&c->turns, &c->turns_cap, f->user_turns + 1, sizeof *c->turns);
	memset(c->turns + had, 0, (c->turns_cap - had) * sizeof *c->turns);
	c->turns[f->user_turns]++;
	c->user_turns += f->user_turns;
	c->dialogue_turns += f->dialogue_turns;
	c->calls += f->calls;
	c->intact_calls += f->intact_calls;
	c->reasoning += f->reasoning_blocks;
	c->tokens += tokens;
	c->drift_turns += f->drift_turns;
	c->secrets += f->secrets;
	raise_max(&c->max_user_turns, f->user_turns);
	raise_max(&c->max_dialogue_turns, f->dialogue_turns);
	raise_max(&c->max_calls, f->calls);
	raise_max(&c->max_tokens, tokens);
	if (f->has_usage) {
		c->usage_trajectories++;
		c->usage_tokens += f->usage_tokens;
	}
	for (int k = 0; k < ISE_AUDIT_FLAGS; k++)
		if (f->flags & (1u << k))
			c->flagged[k]++;
	c->clean += !f->flags;
	c->no_drift_or_stagnation += !(f->flags & (ISE_AUDIT_ROLE_DRIFT | ISE_AUDIT_STAGNATION));

	for (size_t k = 0; k < f->calls; k++) {
		if (!f->tools[k])
			continue; /* a call without a name is no tool */
		size_t t = tool_index(c, f->tools[k]);
		c->tool_calls[t]++;
		if (!present[t]) {
			present[t] = 1;
			used[nused++] = (uint16_t)t;
		}
		if (nwindow == 3)
			window[0] = window[1], window[1] = window[2], nwindow = 2;
		window[nwindow++] = (uint16_t)t;
		if (nwindow == 3)
			trigram_add(c, window);
	}
	c->unique_tools += nused;
	raise_max(&c->max_unique_tools, nused);
	for (size_t i = 0; i < nused; i++)
		for (size_t j = 0; j < nused; j++)
			c->cooccur[(size_t)used[i] * NAMES + used[j]]++;
}

/* Shares and means are rounded to 6 decimals; counts are exact to 2^53. */
static cJSON *number(double x)
{
	return cJSON_CreateNumber(round(x * 1e6) / 1e6);
}

static cJSON *count(uint64_t n)
{
	return cJSON_CreateNumber((double)n);
}

static cJSON *ratio(double a, uint64_t b)
{
	return b ? number(a / (double)b) : cJSON_CreateNull();
}

static cJSON *object(void)
{
	return ise_json_checked(cJSON_CreateObject());
}

/* The value of rank r (1-based) in the histogram of n values. */
static size_t rank(const struct ise_corpus *c, uint64_t r)
{
	uint64_t seen = 0;

	for (size_t v = 0; v <= c->max_user_turns; v++)
		if ((seen += c->turns[v]) >= r)
			return v;
	return c->max_user_turns;
}

static cJSON *user_turns(const struct ise_corpus *c)
{
	cJSON *o = object();
	uint64_t n = c->trajectories, six_to_ten = 0;

	for (size_t v = 6; v <= 10 && v <= c->max_user_turns && n; v++)
		six_to_ten += c->turns[v];
	ise_json_add(o, "total", count(c->user_turns));
	ise_json_add(o, "mean", ratio((double)c->user_turns, n));
	if (n)
		ise_json_add(
		    o, "median",
		    number(n % 2 ? (double)rank(c, (n + 1) / 2)
				 : ((double)rank(c, n / 2) + (double)rank(c, n / 2 + 1)) / 2));
	else
		ise_json_add(o, "median", cJSON_CreateNull());
	ise_json_add(o, "max", count(c->max_user_turns));
	ise_json_add(o, "share_6_10", ratio((double)six_to_ten, n));
	return o;
}

static cJSON *total_mean_max(uint64_t total, uint64_t n, uint64_t max)
{
	cJSON *o = object();

	ise_json_add(o, "total", count(total));
	ise_json_add(o, "mean", ratio((double)total, n));
	ise_json_add(o, "max", count(max));
	return o;
}

static cJSON *flag(uint64_t trajectories, uint64_t n)
{
	cJSON *o = object();

	ise_json_add(o, "trajectories", count(trajectories));
	ise_json_add(o, "share", ratio((double)trajectories, n));
	return o;
}

static const struct ise_corpus *sorting; /* qsort has no context argument in C11 */

static int by_calls(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	uint64_t ca = sorting->tool_calls[a], cb = sorting->tool_calls[b];

	if (ca != cb)
		return ca > cb ? -1 : 1;
	return strcmp(sorting->names[a], sorting->names[b]);
}

static int by_count(const void *x, const void *y)
{
	const struct ise_corpus_trigram *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	for (int k = 0; k < 3; k++) {
		int d = strcmp(sorting->names[a->tool[k]], sorting->names[b->tool[k]]);
		if (d)
			return d;
	}
	return 0;
}

/* Tool indices by calls, most called first, ties by name. */
static size_t *tool_order(const struct ise_corpus *c)
{
	size_t *order = ise_xcalloc(c->ntools, sizeof *order);

	for (size_t i = 0; i < c->ntools; i++)
		order[i] = i;
	sorting = c;
	qsort(order, c->ntools, sizeof *order, by_calls);
	return order;
}

static cJSON *tools(const struct ise_corpus *c, const size_t *order)
{
	cJSON *list = ise_json_checked(cJSON_CreateArray());

	for (size_t i = 0; i < c->ntools; i++) {
		cJSON *t = object();
		ise_json_add(t, "tool", cJSON_CreateString(c->names[order[i]]));
		ise_json_add(t, "calls", count(c->tool_calls[order[i]]));
		ise_json_add(t, "share", ratio((double)c->tool_calls[order[i]], c->calls));
		ise_json_add(list, NULL, t);
	}
	return list;
}

static cJSON *trigrams(const struct ise_corpus *c)
{
	struct ise_corpus_trigram *all = ise_xcalloc(c->ntrigrams, sizeof *all);
	cJSON *o = object(), *top = ise_json_checked(cJSON_CreateArray());
	size_t n = 0;

	for (size_t i = 0; i < c->trigrams_cap; i++)
		if (c->trigrams[i].count)
			all[n++] = c->trigrams[i];
	sorting = c;
	qsort(all, n, sizeof *all, by_count);
	for (size_t i = 0; i < n && i < 20; i++) {
		cJSON *t = object(), *names = ise_json_checked(cJSON_CreateArray());
		for (int k = 0; k < 3; k++)
			ise_json_add(names, NULL, cJSON_CreateString(c->names[all[i].tool[k]]));
		ise_json_add(t, "tools", names);
		ise_json_add(t, "count", count(all[i].count));
		ise_json_add(t, "share", ratio((double)all[i].count, c->trigram_total));
		ise_json_add(top, NULL, t);
	}
	free(all);
	ise_json_add(o, "total", count(c->trigram_total));
	ise_json_add(o, "distinct", count(c->ntrigrams));
	ise_json_add(o, "overflow", count(c->trigram_overflow));
	ise_json_add(o, "top", top);
	return o;
}

static cJSON *cooccurrence(const struct ise_corpus *c, const size_t *order)
{
	cJSON *o = object(), *names = ise_json_checked(cJSON_CreateArray());
	cJSON *rows = ise_json_checked(cJSON_CreateArray());

	for (size_t i = 0; i < c->ntools; i++) {
		cJSON *row = ise_json_checked(cJSON_CreateArray());
		ise_json_add(names, NULL, cJSON_CreateString(c->names[order[i]]));
		for (size_t j = 0; j < c->ntools; j++)
			ise_json_add(row, NULL, count(c->cooccur[order[i] * NAMES + order[j]]));
		ise_json_add(rows, NULL, row);
	}
	ise_json_add(o, "tools", names);
	ise_json_add(o, "trajectories", rows);
	return o;
}

static cJSON *flags(const struct ise_corpus *c)
{
	uint64_t n = c->trajectories;
	cJSON *o = object(), *drift = flag(c->flagged[0], n), *integrity = object();
	cJSON *secrets = flag(c->flagged[3], n);

	ise_json_add(drift, "turns", count(c->drift_turns));
	ise_json_add(drift, "turn_share", ratio((double)c->drift_turns, c->user_turns));
	ise_json_add(o, "role_drift", drift);
	ise_json_add(o, "stagnation", flag(c->flagged[1], n));
	ise_json_add(integrity, "calls", count(c->calls));
	ise_json_add(integrity, "intact_calls", count(c->intact_calls));
	ise_json_add(integrity, "intact_share", ratio((double)c->intact_calls, c->calls));
	ise_json_add(integrity, "trajectories", count(c->flagged[2]));
	ise_json_add(integrity, "share", ratio((double)c->flagged[2], n));
	ise_json_add(o, "integrity", integrity);
	ise_json_add(secrets, "found", count(c->secrets));
	ise_json_add(o, "secrets", secrets);
	ise_json_add(o, "text_tool_calls", flag(c->flagged[4], n));
	ise_json_add(o, "clean", flag(c->clean, n));
	ise_json_add(o, "no_drift_or_stagnation", flag(c->no_drift_or_stagnation, n));
	return o;
}

cJSON *ise_corpus_summary(const struct ise_corpus *c)
{
	uint64_t n = c->trajectories;
	cJSON *s = object(), *o;
	size_t *order = tool_order(c);

	ise_json_add(s, "trajectories", count(n));
	ise_json_add(s, "user_turns", user_turns(c));
	ise_json_add(s, "dialogue_turns",
		     total_mean_max(c->dialogue_turns, n, c->max_dialogue_turns));
	ise_json_add(s, "tool_calls", total_mean_max(c->calls, n, c->max_calls));
	o = object();
	ise_json_add(o, "mean", ratio((double)c->unique_tools, n));
	ise_json_add(o, "max", count(c->max_unique_tools));
	ise_json_add(s, "unique_tools", o);
	o = object();
	ise_json_add(o, "total", count(c->reasoning));
	ise_json_add(o, "mean", ratio((double)c->reasoning, n));
	ise_json_add(s, "reasoning_blocks", o);
	ise_json_add(s, "tokens", total_mean_max(c->tokens, n, c->max_tokens));
	o = object();
	ise_json_add(o, "trajectories", count(c->usage_trajectories));
	ise_json_add(o, "mean", ratio(c->usage_tokens, c->usage_trajectories));
	ise_json_add(s, "usage_tokens", o);
	if (c->have_rejects) {
		o = object();
		ise_json_add(o, "completed", count(n));
		ise_json_add(o, "rejected", count(c->rejects));
		ise_json_add(o, "rate", ratio((double)n, n + c->rejects));
		ise_json_add(s, "completion", o);
	} else {
		ise_json_add(s, "completion", cJSON_CreateNull());
	}
	ise_json_add(s, "tools", tools(c, order));
	ise_json_add(s, "trigrams", trigrams(c));
	ise_json_add(s, "cooccurrence", cooccurrence(c, order));
	ise_json_add(s, "flags", flags(c));
	free(order);
	return s;
}

/* A name as a TSV cell: tabs and line ends would break the table. */
static void cell(const char *name, FILE *f)
{
	for (; *name; name++)
		fputc(*name == '\t' || *name == '\n' || *name == '\r' ? ' ' : *name, f);
}

int ise_corpus_write_matrix(const struct ise_corpus *c, FILE *f)
{
	size_t *order = tool_order(c);

	fputs("tool", f);
	for (size_t j = 0; j < c->ntools; j++) {
		fputc('\t', f);
		cell(c->names[order[j]], f);
	}
	fputc('\n', f);
	for (size_t i = 0; i < c->ntools; i++) {
		cell(c->names[order[i]], f);
		for (size_t j = 0; j < c->ntools; j++)
			fprintf(f, "\t%llu",
				(unsigned long long)c->cooccur[order[i] * NAMES + order[j]]);
		fputc('\n', f);
	}
	free(order);
	return ferror(f) ? -1 : 0;
}
