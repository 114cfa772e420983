#include "diversity/embed.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/hash.h"
#include "core/npy.h"
#include "llm/embeddings.h"
#include "llm/llm.h"
#include "core/rng.h"
#include "core/sumsq.h"
#include "core/xalloc.h"

enum source { SOURCE_HASH, SOURCE_FIELD, SOURCE_ENDPOINT, SOURCE_NPY };

/* The widest vector taken from an endpoint or a file. */
#define MAX_DIM 1000000

/* Texts per /v1/embeddings request: TEI's default max_client_batch_size is
 * 32, vLLM and OpenAI take more; 32 works everywhere. */
#define ENDPOINT_BATCH 32
#define NPY_BATCH      1024 /* .npy rows embedded at once (6 MB at 768 dimensions) */

/* One distinct feature of the text being embedded. */
struct feature {
	uint64_t key;
	uint32_t count;
	uint32_t used;
};

/* The hashed embedder's scratch for one thread: an open-addressing table of
 * the features of one text, the list of its slots in use, the normalised
 * text and the word and character halves of the vector. */
struct hasher {
	const struct ise_embedder *e;
	struct feature *table;
	size_t table_cap;
	uint32_t *slots;
	size_t nslots, slots_cap;
	unsigned char *norm;
	size_t norm_cap;
	double *part;
	/* a job: texts[first..last) into out */
	const char *const *texts;
	double *out;
	size_t first, last;
	long bad;
};

#define MAX_THREADS 16

struct ise_embedder {
	enum source source;
	char *name, *field;
	unsigned dim;
	long bad;
	char *npy_path, *save_path;
	struct ise_npy npy;
	struct ise_npy_writer save;
	int saving; /* save was created and not yet made or dropped */
	struct ise_llm *llm;
	struct ise_llm_config llm_cfg;
	struct hasher hashers[MAX_THREADS];
	unsigned nthreads;
	double tf_weight[256]; /* 1 + log(tf) for small tf */
};

struct ise_embedder *ise_embedder_new(const struct ise_embed_config *c,
				      const struct ise_llm_config *llm, char *err, size_t errlen)
{
	struct ise_embedder *e;
	char buf[512];

	if (c->field && c->url) {
		ise_errf(err, errlen, "--embedding-field and --embed-url name two sources");
		return NULL;
	}
	if (c->url && !*c->url) {
		ise_errf(err, errlen, "--embed-url is empty");
		return NULL;
	}
	if (c->field && !*c->field) {
		ise_errf(err, errlen, "--embedding-field is empty");
		return NULL;
	}
	if (c->npy && (c->field || c->url || c->dim)) {
		ise_errf(err, errlen, "--embeddings and --%s name two sources",
			 c->field ? "embedding-field"
			 : c->url ? "embed-url"
				  : "dim");
		return NULL;
	}
	if ((c->npy && !*c->npy) || (c->save && !*c->save)) {
		ise_errf(err, errlen, "--%s is empty",
			 c->npy && !*c->npy ? "embeddings" : "save-embeddings");
		return NULL;
	}
	e = ise_xcalloc(1, sizeof *e);
	e->bad = -1;
	e->save.fd = -1;
	if (c->save)
		e->save_path = ise_xstrdup(c->save);
	if (c->npy) {
		e->source = SOURCE_NPY;
		e->npy_path = ise_xstrdup(c->npy);
		snprintf(buf, sizeof buf, "npy:%s", c->npy);
	} else if (c->field) {
		e->source = SOURCE_FIELD;
		e->field = ise_xstrdup(c->field);
		snprintf(buf, sizeof buf, "field:%s", c->field);
	} else if (c->url) {
		const char *model = c->model ? c->model : llm ? llm->embed_model : NULL;
		e->source = SOURCE_ENDPOINT;
		if (llm)
			e->llm_cfg = *llm;
		else
			ise_llm_config_from_env(&e->llm_cfg, NULL);
		e->llm_cfg.base_url = c->url;
		e->llm_cfg.embed_model = model;
		e->llm_cfg.model = model;
		e->llm = ise_llm_new(&e->llm_cfg);
		snprintf(buf, sizeof buf, "openai:%s@%s", model ? model : "default", c->url);
	} else {
		e->source = SOURCE_HASH;
		e->dim = c->dim ? c->dim : ISE_EMBED_DIM_DEFAULT;
		snprintf(buf, sizeof buf, "hash-ngram-%u", e->dim);
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		e->nthreads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
		for (unsigned t = 0; t < e->nthreads; t++) {
			e->hashers[t].e = e;
			e->hashers[t].part = ise_xcalloc(2 * (size_t)e->dim, sizeof(double));
		}
		for (unsigned i = 1; i < 256; i++)
			e->tf_weight[i] = 1 + log((double)i);
	}
	e->name = ise_xstrdup(buf);
	return e;
}

int ise_embedder_open(struct ise_embedder *e, char *err, size_t errlen)
{
	char why[512];

	if (e->source == SOURCE_NPY && !e->npy.map) {
		if (ise_npy_open(&e->npy, e->npy_path, why, sizeof why)) {
			ise_errf(err, errlen, "%s: %s", e->npy_path, why);
			return -1;
		}
		if (e->npy.cols > MAX_DIM || (!e->npy.cols && e->npy.rows)) {
			ise_errf(err, errlen, "%s: rows of %zu numbers (a vector has 1 to %d)",
				 e->npy_path, e->npy.cols, MAX_DIM);
			ise_npy_close(&e->npy);
			return -1;
		}
		e->dim = (unsigned)e->npy.cols;
	}
	if (e->save_path && !e->saving) {
		if (ise_npy_create(&e->save, e->save_path, why, sizeof why)) {
			ise_errf(err, errlen, "%s: %s", e->save_path, why);
			return -1;
		}
		e->saving = 1;
	}
	return 0;
}

int ise_embedder_has_row(const struct ise_embedder *e, size_t index)
{
	return e->source != SOURCE_NPY || index < e->npy.rows;
}

int ise_embedder_check_count(const struct ise_embedder *e, size_t records, char *err, size_t errlen)
{
	if (e->source != SOURCE_NPY || records == e->npy.rows)
		return 0;
	ise_errf(err, errlen, "%s: %zu row%s, but the input has %zu record%s", e->npy_path,
		 e->npy.rows, e->npy.rows == 1 ? "" : "s", records, records == 1 ? "" : "s");
	return -1;
}

int ise_embedder_save(struct ise_embedder *e, size_t records, char *err, size_t errlen)
{
	char why[512];

	if (!e->saving)
		return 0;
	e->saving = 0;
	if (ise_npy_commit(&e->save, records, e->dim, why, sizeof why)) {
		ise_errf(err, errlen, "%s: %s", e->save_path, why);
		return -1;
	}
	return 0;
}

void ise_embedder_free(struct ise_embedder *e)
{
	if (!e)
		return;
	if (e->llm)
		ise_llm_free(e->llm);
	if (e->saving)
		ise_npy_abandon(&e->save);
	ise_npy_close(&e->npy);
	free(e->npy_path);
	free(e->save_path);
	free(e->name);
	free(e->field);
	for (unsigned t = 0; t < e->nthreads; t++) {
		free(e->hashers[t].table);
		free(e->hashers[t].slots);
		free(e->hashers[t].norm);
		free(e->hashers[t].part);
	}
	free(e);
}

const char *ise_embedder_name(const struct ise_embedder *e)
{
	return e->name;
}

unsigned ise_embedder_dim(const struct ise_embedder *e)
{
	return e->dim;
}

int ise_embedder_needs_text(const struct ise_embedder *e)
{
	return e->source == SOURCE_HASH || e->source == SOURCE_ENDPOINT;
}

int ise_embedder_needs_record(const struct ise_embedder *e)
{
	return e->source == SOURCE_FIELD;
}

size_t ise_embedder_batch(const struct ise_embedder *e)
{
	return e->source == SOURCE_ENDPOINT ? ENDPOINT_BATCH
	       : e->source == SOURCE_NPY    ? NPY_BATCH
					    : 1;
}

long ise_embedder_bad_record(const struct ise_embedder *e)
{
	return e->bad;
}

/* Whether v is all zeros: the test of a vector whose sum of squares is 0,
 * which small enough values also give. */
static int all_zero(const double *v, size_t d)
{
	for (size_t k = 0; k < d; k++)
		if (v[k] != 0)
			return 0;
	return 1;
}

/* Scale v, whose sum of squares is s, to length 1; 0 when it is all zero
 * (left as is).  Where the squares overflowed, or fell out of the normal
 * doubles, v is first divided by its largest magnitude, then measured
 * again: a vector of 1e200s or of 1e-200s is a direction all the same. */
static int to_unit(double *v, size_t d, double s)
{
	if (!(s >= DBL_MIN && s <= DBL_MAX)) {
		double m = 0;
		for (size_t k = 0; k < d; k++)
			m = fmax(m, fabs(v[k]));
		if (m == 0)
			return 0;
		for (size_t k = 0; k < d; k++)
			v[k] /= m;
		s = ise_sum_squares(v, d);
	}
	double scale = 1 / sqrt(s);
	for (size_t k = 0; k < d; k++)
		v[k] *= scale;
	return 1;
}

/* L2-normalise v in place; 0 when it is all zero (left as is). */
static int normalise(double *v, size_t d)
{
	return to_unit(v, d, ise_sum_squares(v, d));
}

/* ---- the hashed embedder ---- */

#define SEED_WORD 0x9e3779b97f4a7c15ULL
#define SEED_CHAR 0xbf58476d1ce4e5b9ULL

static void table_reserve(struct hasher *hs, size_t features)
{
	size_t cap = 64;

	while (cap < 2 * features)
		cap <<= 1;
	if (cap > hs->table_cap) {
		free(hs->table);
		hs->table = ise_xcalloc(cap, sizeof *hs->table);
		hs->table_cap = cap;
	}
	ise_xgrow((void **)&hs->slots, &hs->slots_cap, features + 1, sizeof *hs->slots);
	hs->nslots = 0;
}

static void count(struct hasher *hs, uint64_t key)
{
	size_t mask = hs->table_cap - 1, i = (size_t)(key ^ key >> 29) & mask;

	for (;;) {
		struct feature *f = &hs->table[i];
		if (!f->used) {
			f->used = 1;
			f->key = key;
			f->count = 1;
			hs->slots[hs->nslots++] = (uint32_t)i;
			return;
		}
		if (f->key == key) {
			f->count++;
			return;
		}
		i = (i + 1) & mask;
	}
}

/* Add the counted features with sublinear weights to part (one bucket and
 * sign each) and empty the table; part must hold hs->e->dim zeros. */
static void flush_features(struct hasher *hs, double *part, uint64_t seed)
{
	for (size_t s = 0; s < hs->nslots; s++) {
		struct feature *f = &hs->table[hs->slots[s]];
		uint64_t h = ise_mix64_final(f->key ^ seed);
		size_t bucket = (size_t)(((h >> 32) * (uint64_t)hs->e->dim) >> 32);
		double w = f->count < 256 ? hs->e->tf_weight[f->count] : 1 + log((double)f->count);
		part[bucket] += (h & 1) ? -w : w;
		f->used = 0;
	}
	hs->nslots = 0;
}

static int is_word_byte(unsigned char b)
{
	return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '_' || b >= 0x80;
}

/* The text lowercased (ASCII), whitespace runs folded to one space, with a
 * space at each end so that n-grams see word boundaries.  Returns its length. */
static size_t normalise_text(struct hasher *hs, const char *text)
{
	size_t len = strlen(text), n = 0;
	int space = 1;

	ise_xgrow((void **)&hs->norm, &hs->norm_cap, len + 3, 1);
	hs->norm[n++] = ' ';
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		unsigned char b = *p;
		if (b == ' ' || (b >= '\t' && b <= '\r')) {
			if (!space)
				hs->norm[n++] = ' ';
			space = 1;
			continue;
		}
		hs->norm[n++] = (b >= 'A' && b <= 'Z') ? (unsigned char)(b + 32) : b;
		space = 0;
	}
	if (!space)
		hs->norm[n++] = ' ';
	return n;
}

static void hash_words(struct hasher *hs, size_t n, double *part)
{
	const unsigned char *t = hs->norm;
	uint64_t prev = 0;
	int have_prev = 0;

	table_reserve(hs, n);
	for (size_t i = 0; i < n;) {
		if (!is_word_byte(t[i])) {
			/* punctuation ends a word but keeps the bigram chain;
			 * it is seen by the character n-grams */
			i++;
			continue;
		}
		uint64_t h = ISE_FNV_OFFSET;
		while (i < n && is_word_byte(t[i]))
			h = ise_fnv_step(h, t[i++]);
		count(hs, h);
		if (have_prev)
			count(hs, ise_mix64_final(prev) * 31 + h + 1);
		prev = h;
		have_prev = 1;
	}
	flush_features(hs, part, SEED_WORD);
}

static void hash_chars(struct hasher *hs, size_t n, double *part)
{
	const unsigned char *t = hs->norm;

	table_reserve(hs, 3 * n);
	for (size_t i = 0; i + 3 <= n; i++) {
		uint64_t h = ise_fnv(t + i, 3, ISE_FNV_OFFSET);
		count(hs, h ^ 3);
		if (i + 4 <= n) {
			h = ise_fnv_step(h, t[i + 3]);
			count(hs, h ^ 4);
		}
		if (i + 5 <= n) {
			h = ise_fnv_step(h, t[i + 4]);
			count(hs, h ^ 5);
		}
	}
	flush_features(hs, part, SEED_CHAR);
}

/* One text into v[0..dim), its word and character halves each of length 1
 * (ise_embed scales the sum); 0 when the text has no features. */
static int hash_text(struct hasher *hs, const char *text, double *v)
{
	size_t d = hs->e->dim, n = normalise_text(hs, text);
	double *words = hs->part, *chars = hs->part + d;
	int have = 0;

	memset(hs->part, 0, 2 * d * sizeof *hs->part);
	hash_words(hs, n, words);
	hash_chars(hs, n, chars);
	have += normalise(words, d);
	have += normalise(chars, d);
	for (size_t k = 0; k < d; k++)
		v[k] = words[k] + chars[k];
	return have;
}

static void *hash_job(void *arg)
{
	struct hasher *hs = arg;
	size_t d = hs->e->dim;

	hs->bad = -1;
	for (size_t i = hs->first; i < hs->last; i++)
		if (!hs->texts[i] || !hash_text(hs, hs->texts[i], hs->out + i * d)) {
			hs->bad = (long)i;
			break;
		}
	return NULL;
}

/* Texts are independent: split them over the threads in contiguous runs
 * (the result does not depend on how many). */
static long hash_texts(struct ise_embedder *e, const char *const *texts, size_t n, double *out)
{
	unsigned nt = n < 512 ? 1 : e->nthreads;
	pthread_t tid[MAX_THREADS];
	unsigned started = 0;
	long bad = -1;

	for (unsigned t = 0; t < nt; t++) {
		struct hasher *hs = &e->hashers[t];
		hs->texts = texts;
		hs->out = out;
		hs->first = n * t / nt;
		hs->last = n * (t + 1) / nt;
		if (t > 0 && !pthread_create(&tid[t], NULL, hash_job, hs))
			started |= 1u << t;
	}
	hash_job(&e->hashers[0]);
	for (unsigned t = 1; t < nt; t++) {
		if (started & 1u << t)
			pthread_join(tid[t], NULL);
		else
			hash_job(&e->hashers[t]); /* no thread to be had: do it here */
	}
	for (unsigned t = 0; t < nt && bad < 0; t++)
		bad = e->hashers[t].bad;
	return bad;
}

/* ---- vectors from the records ---- */

static int field_vector(struct ise_embedder *e, const cJSON *rec, size_t i, double **out,
			size_t *cap, size_t n, char *err, size_t errlen)
{
	const cJSON *vec = rec ? cJSON_GetObjectItemCaseSensitive(rec, e->field) : NULL, *x;
	int len = cJSON_GetArraySize(vec);
	size_t k = 0;

	if (!cJSON_IsArray(vec) || len <= 0) {
		ise_errf(err, errlen, "record %zu: '%s' is not a non-empty array of numbers", i,
			 e->field);
		return -1;
	}
	if (!e->dim)
		e->dim = (unsigned)len;
	if ((unsigned)len != e->dim) {
		ise_errf(err, errlen, "record %zu: '%s' has %d numbers, earlier vectors %u", i,
			 e->field, len, e->dim);
		return -1;
	}
	if (!*out) {
		*out = ise_xmalloc(n * e->dim * sizeof **out);
		*cap = n;
	}
	double *row = *out + i * e->dim;
	cJSON_ArrayForEach(x, vec) {
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
			ise_errf(err, errlen, "record %zu: '%s'[%zu] is not a finite number", i,
				 e->field, k);
			return -1;
		}
		row[k++] = x->valuedouble;
	}
	return 0;
}

/* Embed texts[first, first + m) into rows of *out (n rows in all).  A
 * request the server refuses (a text too long: TEI answers 413 or 422,
 * vLLM 400; a batch too large) is split in halves until the one text it
 * refuses is found.  0; -1 with e->bad that record; -2 fatal. */
static int embed_range(struct ise_embedder *e, const char *const *texts, size_t n, size_t first,
		       size_t m, double **out, char *err, size_t errlen)
{
	float *vectors;
	size_t d;
	char why[512];
	enum ise_llm_status st =
	    ise_llm_embed(e->llm, texts + first, m, &vectors, &d, why, sizeof why);

	if (st == ISE_LLM_FATAL) {
		ise_errf(err, errlen, "records %zu-%zu: %s", first, first + m - 1, why);
		return -2;
	}
	if (st == ISE_LLM_REJECTED && m == 1) {
		e->bad = (long)first;
		ise_errf(err, errlen, "record %zu: %s", first, why);
		return -1;
	}
	if (st == ISE_LLM_REJECTED) {
		int rc = embed_range(e, texts, n, first, m / 2, out, err, errlen);
		return rc ? rc
			  : embed_range(e, texts, n, first + m / 2, m - m / 2, out, err, errlen);
	}
	if (d > MAX_DIM || (e->dim && d != e->dim)) {
		free(vectors);
		ise_errf(err, errlen,
			 "records %zu-%zu: the endpoint returned %zu dimensions, earlier %u", first,
			 first + m - 1, d, e->dim);
		return -1;
	}
	e->dim = (unsigned)d;
	if (!*out)
		*out = ise_xmalloc(n * d * sizeof **out);
	for (size_t i = 0; i < m; i++) {
		double *row = *out + (first + i) * d;
		for (size_t k = 0; k < d; k++)
			row[k] = vectors[i * d + k];
	}
	free(vectors);
	return 0;
}

/* The name says the model the server says it ran, once it has said. */
static void name_served(struct ise_embedder *e)
{
	char served[256], buf[1024];

	ise_llm_served_model(e->llm, served, sizeof served);
	if (!*served)
		return;
	snprintf(buf, sizeof buf, "openai:%s@%s", served, e->llm_cfg.base_url);
	if (strcmp(buf, e->name)) {
		free(e->name);
		e->name = ise_xstrdup(buf);
	}
}

static int endpoint_vectors(struct ise_embedder *e, const char *const *texts, size_t n,
			    double **out, char *err, size_t errlen)
{
	for (size_t first = 0; first < n; first += ENDPOINT_BATCH) {
		size_t m = n - first < ENDPOINT_BATCH ? n - first : ENDPOINT_BATCH;

		for (size_t i = first; i < first + m; i++)
			if (!texts[i] || !*texts[i]) {
				e->bad = (long)i;
				ise_errf(err, errlen, "record %zu: no text to embed", i);
				return -1;
			}
		int rc = embed_range(e, texts, n, first, m, out, err, errlen);
		if (rc)
			return rc;
		name_served(e);
	}
	return 0;
}

/* Why a raw vector of record i cannot be used: it is all zero. */
static void zero_vector(const struct ise_embedder *e, size_t i, const size_t *index, char *err,
			size_t errlen)
{
	switch (e->source) {
	case SOURCE_HASH:
		ise_errf(err, errlen, "record %zu: no text to embed", i);
		break;
	case SOURCE_FIELD:
		ise_errf(err, errlen, "record %zu: '%s' is the zero vector", i, e->field);
		break;
	case SOURCE_ENDPOINT:
		ise_errf(err, errlen, "record %zu: the endpoint returned the zero vector", i);
		break;
	case SOURCE_NPY:
		ise_errf(err, errlen, "record %zu: row %zu of %s is the zero vector", i, index[i],
			 e->npy_path);
		break;
	}
}

/* ---- vectors from a .npy file ---- */

/* Rows read at once: 384 KB at 768 dimensions, still in the cache when
 * they are scaled. */
#define NPY_RUN 64

/* The rows, checked; unless they are to be saved as they are, also
 * scaled to length 1 while they are in the cache (*scaled set), which
 * spares finish_rows two more passes over a matrix larger than the cache.
 * Rows that follow each other in the file are read together. */
static int npy_vectors(struct ise_embedder *e, const size_t *index, size_t n, double *out,
		       int *scaled, char *err, size_t errlen)
{
	size_t d = e->dim, run;
	double sumsq[NPY_RUN];

	*scaled = !e->saving;
	for (size_t i = 0; i < n; i += run) {
		char why[300];
		size_t row, col;
		/* at least index[i] itself, checked first */
		for (run = 0; run < NPY_RUN && i + run < n && index[i + run] == index[i] + run;
		     run++)
			if (!ise_embedder_has_row(e, index[i + run])) {
				e->bad = (long)(i + run);
				ise_errf(err, errlen, "record %zu: %s has no row %zu (%zu rows)",
					 i + run, e->npy_path, index[i + run], e->npy.rows);
				return -1;
			}
		if (ise_npy_rows(&e->npy, index[i], run, out + i * d, sumsq, &row, &col, why,
				 sizeof why)) {
			ise_errf(err, errlen, "%s: %s", e->npy_path, why);
			return -2;
		}
		for (size_t k = i; *scaled && k < i + run; k++)
			if (!to_unit(out + k * d, d, sumsq[k - i])) {
				e->bad = (long)k;
				zero_vector(e, k, index, err, errlen);
				return -1;
			}
	}
	return 0;
}

/* ---- every source ---- */

/* The raw rows v[0..n) checked, saved as they are, then scaled to length
 * 1: 0, -1 (a zero vector, e->bad) or -2 (the save file). */
static int finish_rows(struct ise_embedder *e, double *v, const size_t *index, size_t n, char *err,
		       size_t errlen)
{
	size_t d = e->dim;
	double *sumsq = ise_xmalloc((n ? n : 1) * sizeof *sumsq);
	char why[512];

	for (size_t i = 0; i < n; i++)
		if (!(sumsq[i] = ise_sum_squares(v + i * d, d)) && all_zero(v + i * d, d)) {
			e->bad = (long)i;
			zero_vector(e, i, index, err, errlen);
			free(sumsq);
			return -1;
		}
	for (size_t i = 0; e->saving && i < n; i++)
		if (ise_npy_put(&e->save, index[i], v + i * d, d, why, sizeof why)) {
			ise_errf(err, errlen, "%s: %s", e->save_path, why);
			free(sumsq);
			return -2;
		}
	for (size_t i = 0; i < n; i++)
		to_unit(v + i * d, d, sumsq[i]);
	free(sumsq);
	return 0;
}

int ise_embed(struct ise_embedder *e, const char *const *texts, const cJSON *const *recs,
	      const size_t *index, size_t n, double **out, unsigned *dim, char *err, size_t errlen)
{
	double *v = NULL;
	size_t cap = 0;
	int rc = 0, scaled = 0;

	*out = NULL;
	e->bad = -1;
	if (!n) {
		*dim = e->dim;
		return 0;
	}
	if (!index && (e->source == SOURCE_NPY || e->saving)) {
		ise_errf(err, errlen, "records without their places in the input");
		return -2;
	}
	if (e->source == SOURCE_NPY && !e->npy.map) {
		ise_errf(err, errlen, "%s is not open", e->npy_path);
		return -2;
	}
	switch (e->source) {
	case SOURCE_HASH:
		v = ise_xmalloc(n * e->dim * sizeof *v);
		if ((e->bad = hash_texts(e, texts, n, v)) >= 0) {
			ise_errf(err, errlen, "record %ld: no text to embed", e->bad);
			rc = -1;
		}
		break;
	case SOURCE_FIELD:
		for (size_t i = 0; i < n && !rc; i++)
			if (field_vector(e, recs ? recs[i] : NULL, i, &v, &cap, n, err, errlen)) {
				e->bad = (long)i;
				rc = -1;
			}
		break;
	case SOURCE_ENDPOINT:
		rc = endpoint_vectors(e, texts, n, &v, err, errlen);
		break;
	case SOURCE_NPY:
		v = ise_xmalloc(n * e->dim * sizeof *v);
		rc = npy_vectors(e, index, n, v, &scaled, err, errlen);
		break;
	}
	if (!rc && !scaled)
		rc = finish_rows(e, v, index, n, err, errlen);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*dim = e->dim;
	return 0;
}
