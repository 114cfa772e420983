/*
 * textstats: lexical diversity of a set of texts, exactly.
 *
 * Texts are tokenised the way the ISE paper's lexical protocol does, and
 * as Python's text.lower().split() does it: Unicode lowercase (the C
 * library's C.UTF-8 tables plus str.lower()'s special cases), split at
 * Unicode whitespace.  Tokens and n-grams
 * are interned (an n-gram's id is the pair (its (n-1)-gram prefix's id, its
 * last token)), so counts are exact, never hashed.
 *
 *  - distinct-n: distinct n-grams over all n-grams of the documents, each
 *    cut to its first k tokens (the pooled form; with the paper's protocol
 *    every document has k tokens, so it is unique / (m (k - n + 1))).
 *  - Self-BLEU as Texygen's SelfBleu.get_bleu_parallel computes it: every
 *    document in turn is the hypothesis and all the others its references,
 *    NLTK's sentence_bleu with weights (1/g, ..., 1/g), SmoothingFunction
 *    method1 (epsilon 0.1) and the closest reference length (ties to the
 *    shorter), then the plain mean.  NLTK does this in O(m^2 len); here each
 *    n-gram keeps its largest count, the document holding it and the second
 *    largest count, which give every hypothesis's clipped counts against all
 *    the others at once, in O(m len log len).  Floating point follows NLTK
 *    step for step (exact fractions, math.fsum), so the result is the same
 *    double.
 */
#ifndef ISE_TEXTSTATS_H
#define ISE_TEXTSTATS_H

#include <stddef.h>
#include <stdint.h>

#define ISE_TEXTSTATS_MAX_N 5

/* Documents as token ids, one after another. */
struct ise_textset {
	uint32_t *tokens;
	size_t ntokens, tokens_cap;
	size_t *start; /* document i is tokens[start[i] .. start[i + 1]) */
	size_t ndocs, start_cap;
	struct ise_intern *vocab;
	char *word; /* scratch */
	size_t word_cap;
};

void ise_textset_init(struct ise_textset *t);
/* Add one document, tokenised as above. */
void ise_textset_add(struct ise_textset *t, const char *text);
size_t ise_textset_length(const struct ise_textset *t, size_t doc);
void ise_textset_release(struct ise_textset *t);

/* For n = 1..max_n (at most ISE_TEXTSTATS_MAX_N): the distinct n-grams
 * unique[n-1] and all n-grams total[n-1] of documents docs[0..m) (NULL:
 * every document), each cut to its first k tokens (k 0: whole). */
void ise_distinct(const struct ise_textset *t, const size_t *docs, size_t m, size_t k,
		  unsigned max_n, size_t *unique, size_t *total);

/* Self-BLEU-g for g = 1..max_n of documents docs[0..m) (NULL: every one):
 * bleu[g-1].  Needs m >= 2; returns -1 otherwise. */
int ise_self_bleu(const struct ise_textset *t, const size_t *docs, size_t m, unsigned max_n,
		  double *bleu);

/* Python's math.fsum: the correctly rounded sum of x[0..n). */
double ise_fsum(const double *x, size_t n);

#endif
