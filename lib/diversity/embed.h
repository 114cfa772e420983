/*
 * embed: one vector per record, from one of four sources.
 *
 *  - a field of the record that already holds the vector (--embedding-field);
 *  - a NumPy .npy file of one row per record, in input order (--embeddings),
 *    mapped read-only through core/npy.h;
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
 *
 * With a save path (--save-embeddings) the vectors as the source gave them,
 * before they are normalised, also go to a .npy file as float64, a row per
 * record at the record's place in the input (a record never embedded has a
 * row of zeros, which reads back as no vector), so a run from that file
 * scores bit for bit as the run that wrote it.  The file appears, whole,
 * when ise_embedder_save is called; without that call it never does.
 *
 * A record's place (its index) counts every record the program read, from
 * 0, whether or not it was embedded.
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
	const char *npy;   /* --embeddings: a .npy file of the vectors, or NULL */
	const char *save;  /* --save-embeddings: a .npy file to write them to, or NULL */
};

/* NULL with err on a bad configuration.  llm (NULL: the environment's)
 * supplies the API key, timeouts, retries and cache of the endpoint source
 * (its base_url is not used). */
struct ise_embedder *ise_embedder_new(const struct ise_embed_config *c,
				      const struct ise_llm_config *llm, char *err, size_t errlen);
/* Open the files the configuration names: map and check the --embeddings
 * file, start the --save-embeddings one.  Call it before ise_embed.  0, or
 * -1 with err ("FILE: why"). */
int ise_embedder_open(struct ise_embedder *e, char *err, size_t errlen);
/* Drops a save that was not made. */
void ise_embedder_free(struct ise_embedder *e);

/* "hash-ngram-768", "field:emb", "npy:FILE" or "openai:MODEL@URL"; valid
 * until freed. */
const char *ise_embedder_name(const struct ise_embedder *e);
/* The dimension; 0 until the first vector is seen for field and endpoint. */
unsigned ise_embedder_dim(const struct ise_embedder *e);
/* Whether the source reads texts (hash, endpoint), or the records
 * themselves (field); the npy source reads neither, only their places. */
int ise_embedder_needs_text(const struct ise_embedder *e);
int ise_embedder_needs_record(const struct ise_embedder *e);
/* Whether the record at index has a vector to give: 0 past the last row of
 * an --embeddings file (skip such a record: ise_embedder_check_count then
 * says how many rows and records there were), else 1. */
int ise_embedder_has_row(const struct ise_embedder *e, size_t index);
/* Records worth embedding at once: the endpoint's batch, a batch of .npy
 * rows (read in runs); 1 for the other local sources. */
size_t ise_embedder_batch(const struct ise_embedder *e);

/* Embed n records: texts[i] is the record's text (may be NULL for the field
 * and npy sources), recs[i] the parsed record (may be NULL for the other
 * sources), index[i] its place in the input (may be NULL without npy and
 * save files).  Writes n rows of dim doubles, each L2-normalised, into a
 * malloc'd *out and sets *dim.  Returns 0; -1 when a record cannot be
 * embedded (err names it as "record I: ..." and ise_embedder_bad_record
 * gives I; nothing is written or saved); -2 when the source fails for good
 * (every later call will: auth, not found, down after retries; the save
 * file cannot be written). */
int ise_embed(struct ise_embedder *e, const char *const *texts, const cJSON *const *recs,
	      const size_t *index, size_t n, double **out, unsigned *dim, char *err, size_t errlen);
/* The index of the record that made the last ise_embed fail, or -1 when the
 * failure was the whole batch's (an endpoint error). */
long ise_embedder_bad_record(const struct ise_embedder *e);

/* Once the input is read to its end, records records in all: 0 when an
 * --embeddings file has a row for each (or there is no such file), else -1
 * with err ("FILE: N rows, but the input has M records"). */
int ise_embedder_check_count(const struct ise_embedder *e, size_t records, char *err,
			     size_t errlen);
/* Make the --save-embeddings file, records rows (nothing without one).
 * 0, or -1 with err ("FILE: why"); either way the save is over. */
int ise_embedder_save(struct ise_embedder *e, size_t records, char *err, size_t errlen);

#endif
