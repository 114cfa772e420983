/*
 * minhash: the duplicate finder behind ise-dedup.
 *
 * Texts are added in input order; ise_dedup_run (passes 1 and 2) and
 * ise_dedup_semantic (pass 3) then find which of them are duplicates of an
 * earlier one:
 *
 *  1. exact: texts equal after normalisation (ise_text_normalize), found by
 *     a hash table of the normalised texts, confirmed by comparing them whole;
 *  2. minhash: word n-gram shingle sets, MinHash signatures with seeded
 *     permutations, banded LSH for candidate pairs, and every candidate pair
 *     verified by the exact Jaccard similarity of the two shingle sets;
 *  3. semantic (optional, ise_dedup_semantic): cosine of embedding vectors
 *     over the records that survived 1 and 2, all pairs, by blocked matrix
 *     products.
 *
 * The pairs found join clusters (union-find); the first text of a cluster in
 * input order is kept, and every other one is a duplicate of it.  Memory is
 * the texts, their shingle sets and signatures (and the survivors' vectors),
 * never a pair table: pairs are joined as they are found.
 *
 * Normalising, shingling and signing run on cf.jobs threads; the result does
 * not depend on their number.  The dedup owns copies of the texts it was
 * given; what it returns points into it and is valid until
 * ise_dedup_release, except what is said to be malloc'd or new.
 */
#ifndef ISE_MINHASH_H
#define ISE_MINHASH_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* The normalised form of text[0..len): compatibility forms folded (see
 * minhash.c and ise-dedup(1) for the list), case folded, white space
 * collapsed to one space and trimmed.  Writes a malloc'd, NUL-terminated
 * string to *out and returns its length. */
size_t ise_text_normalize(const char *text, size_t len, char **out);

/* The 64-bit hashes of the word n-grams of a normalised text, in text order
 * and with repeats (a text of fewer than n words, but at least one, gives one
 * shingle of all its words).  Writes a malloc'd array to *out and returns the
 * count (0 for a text without a word; *out is then NULL). */
size_t ise_shingles(const char *norm, size_t len, unsigned n, uint64_t **out);

/* Sort a shingle array and drop repeats, giving a set; returns its size. */
size_t ise_shingle_set(uint64_t *h, size_t n);

/* |A n B| / |A u B| of two sets from ise_shingle_set; 0 when both are empty. */
double ise_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/* The LSH banding for perm rows of signature and Jaccard threshold t: rows
 * per band r and bands b = perm / r, r the largest for which a pair at
 * exactly t fails to become a candidate with probability (1 - t^r)^b at most
 * ISE_LSH_MISS (or the smallest such probability when none reaches it).
 * Returns that probability. */
#define ISE_LSH_MISS 1e-3
double ise_lsh_banding(unsigned perm, double t, unsigned *bands, unsigned *rows);

enum ise_dedup_rule {
	ISE_DEDUP_KEPT,
	ISE_DEDUP_EXACT,      /* same text, byte for byte */
	ISE_DEDUP_NORMALIZED, /* same text after normalisation */
	ISE_DEDUP_MINHASH,    /* shingle sets with Jaccard >= threshold */
	ISE_DEDUP_SEMANTIC,   /* embeddings with cosine > the --semantic value */
	ISE_DEDUP_NRULES,
};

/* "kept", "exact", "normalized", "minhash", "semantic". */
const char *ise_dedup_rule_name(enum ise_dedup_rule rule);

struct ise_dedup_config {
	unsigned ngram;   /* words per shingle */
	unsigned perm;    /* MinHash permutations (signature rows) */
	double threshold; /* Jaccard, in (0, 1] */
	uint64_t seed;    /* of the permutations */
	unsigned jobs;    /* threads for normalising, shingling and signing */
};

struct ise_dedup_doc;

struct ise_dedup {
	struct ise_dedup_config cf;
	unsigned bands, rows; /* the LSH banding used */
	double miss;          /* its miss probability at the threshold */
	size_t n, cap;
	struct ise_dedup_doc *docs;
	uint32_t *sig;     /* n * perm signature values */
	uint32_t *exact;   /* the first text with the same normalised text */
	uint32_t *near;    /* cluster root after the MinHash pass */
	uint32_t *root;    /* final cluster root (union-find parents) */
	double *vectors;   /* semantic pass: a row per survivor of the MinHash pass */
	uint32_t *vec_row; /* row of a survivor in vectors, UINT32_MAX for others */
	unsigned dim;
	double cosine;
	size_t compared;      /* survivors the semantic pass compared */
	const char *embedder; /* set by the caller, for the summary */
	double seconds;       /* set by the caller, for the summary */
	/* what the passes did, for the summary */
	unsigned long long candidates; /* LSH candidate pairs verified */
	unsigned long long near_pairs; /* of those, at or above the threshold */
	unsigned long long semantic_pairs;
	size_t counts[ISE_DEDUP_NRULES];
};

void ise_dedup_init(struct ise_dedup *d, const struct ise_dedup_config *cf);
/* Add the next text (copied); returns its index. */
size_t ise_dedup_add(struct ise_dedup *d, const char *text, size_t len);
/* The copy of text i, NUL-terminated. */
const char *ise_dedup_text(const struct ise_dedup *d, size_t i);
/* The exact and MinHash passes. */
void ise_dedup_run(struct ise_dedup *d);
/* After ise_dedup_run: the indexes of the texts kept so far, ascending, in a
 * malloc'd array; returns their count. */
size_t ise_dedup_survivors(const struct ise_dedup *d, size_t **idx);
/* The semantic pass over the m survivors idx[] (from ise_dedup_survivors),
 * whose L2-normalised vectors are the rows of x (m * dim, taken over: the
 * dedup frees it): pairs with cosine above cosine join a cluster. */
void ise_dedup_semantic(struct ise_dedup *d, const size_t *idx, size_t m, double *x, unsigned dim,
			double cosine);
/* Fill counts[]; call once, after the last pass. */
void ise_dedup_finish(struct ise_dedup *d);

/* Results, after the last pass: the text kept for text i (i itself when it
 * is kept), the rule that ties i to it, and their similarity (1 for exact and
 * normalised copies, the Jaccard of the two texts' shingle sets for minhash,
 * the cosine of their clusters' first vectors for semantic). */
size_t ise_dedup_kept(const struct ise_dedup *d, size_t i);
enum ise_dedup_rule ise_dedup_rule(const struct ise_dedup *d, size_t i);
double ise_dedup_similarity(struct ise_dedup *d, size_t i);

/* The summary, after ise_dedup_finish: the counts per rule and what each
 * pass did, as a JSON object (the caller deletes it) or as one line. */
cJSON *ise_dedup_summary(const struct ise_dedup *d);
void ise_dedup_summary_line(const struct ise_dedup *d, char *buf, size_t size);

void ise_dedup_release(struct ise_dedup *d);

#endif
