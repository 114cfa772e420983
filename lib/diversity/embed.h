/*
 * embed: one vector per record, from one of three sources.
 *
 *  - a field of the record that already holds the vector (--embedding-field);
 *  - an OpenAI-compatible /v1/embeddings endpoint (--embed-url, --embed-model),
 *    through llm/llm.h, so requests are batched, retried and cached like every
 *    other model call;
 *  - the built-in hashed embedder, the offline default: word unigrams and
 *    bigrams and character 3- to 5-grams of the lowercased text, sublinear
 *    term weights (1 + log tf), signed feature hashing into dim buckets, the
 *    word and character parts L2-normalised and given equal weight.  It is
 *    deterministic and needs no model, but it measures surface form, not
 *    meaning: its scores are comparable only with its own.
 *
 * Every vector returned is L2-normalised (the cosine kernel).  The embedder's
 * name says which source made the vectors, so outputs say what they measured.
 * ise_embed's *out belongs to the caller (free it).
 */
#ifndef ISE_EMBED_H
#define ISE_EMBED_H

#include <cJSON.h>
#include <stddef.h>

#include "llm/llm.h"

#define ISE_EMBED_DIM_DEFAULT 768

struct ise_embedder;

struct ise_embed_config {
	const char *field; /* --embedding-field: vectors already in records, or NULL */
	const char *url;   /* --embed-url: OpenAI-compatible /v1/embeddings base URL, or NULL */
	const char *model; /* --embed-model (NULL: ISE_EMBED_MODEL, then none sent) */
	unsigned dim;      /* built-in hashed embedder dimension, default 768 (0 = default) */
};

/* NULL with err on a bad configuration.  llm (NULL: the environment's)
 * supplies the API key, timeouts, retries and cache of the endpoint source
 * (its base_url is not used). */
struct ise_embedder *ise_embedder_new(const struct ise_embed_config *c,
				      const struct ise_llm_config *llm, char *err, size_t errlen);
void ise_embedder_free(struct ise_embedder *e);

/* "hash-ngram-768", "field:emb" or "openai:MODEL@URL"; valid until freed. */
const char *ise_embedder_name(const struct ise_embedder *e);
/* The dimension; 0 until the first vector is seen for field and endpoint. */
unsigned ise_embedder_dim(const struct ise_embedder *e);
/* Whether the source reads texts (hash, endpoint) or records (field). */
int ise_embedder_needs_text(const struct ise_embedder *e);
/* Texts worth sending at once (the endpoint's batch); 1 for local sources. */
size_t ise_embedder_batch(const struct ise_embedder *e);

/* Embed n records: texts[i] is the record's text (may be NULL for the field
 * source), recs[i] the parsed record (may be NULL for the other sources).
 * Writes n rows of dim doubles, each L2-normalised, into a malloc'd *out and
 * sets *dim.  Returns 0; -1 when a record cannot be embedded (err names it
 * as "record I: ..." and ise_embedder_bad_record gives I; nothing is
 * written); -2 when the endpoint fails for good (every later call will: auth,
 * not found, down after retries). */
int ise_embed(struct ise_embedder *e, const char *const *texts, const cJSON *const *recs, size_t n,
	      double **out, unsigned *dim, char *err, size_t errlen);
/* The index of the record that made the last ise_embed fail, or -1 when the
 * failure was the whole batch's (an endpoint error). */
long ise_embedder_bad_record(const struct ise_embedder *e);

#endif
