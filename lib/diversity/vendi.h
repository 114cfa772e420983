/*
 * vendi: the Vendi Score (Friedman and Dieng 2023) of a set of unit vectors
 * with the cosine kernel, exactly as vertaix/Vendi-Score's score_dual and
 * score_K compute it, with the round-off eigenvalues clipped.
 *
 * For n unit rows X (n x d) the similarity matrix K = X X^T / n has the
 * same non-zero eigenvalues as X^T X / n, so the spectrum comes from the
 * smaller of the two: the d x d matrix when n > d (built with BLAS syrk, in
 * blocks, so rows can be added as they arrive), else the n x n one.
 * Eigenvalues come from LAPACK's dsyevd in the BLAS library (OpenBLAS
 * carries it), else from GSL's symmetric solver (also when the environment
 * has ISE_VENDI_EIGEN=gsl); those below ISE_VENDI_EPS
 * times the largest are round-off (a rank-deficient side has ~1e-18 noise
 * of either sign) and are dropped.  VS_q = exp(H_q) of the eigenvalues:
 * q = 0 the numerical rank, q = 1 exp of the Shannon entropy, q = inf
 * 1 / lambda_max, otherwise (sum lambda^q)^(1 / (1 - q)).
 *
 * Rows must be L2-normalised (lib/embed returns them so).  Spectra own their
 * eigenvalue array: release them.
 */
#ifndef ISE_VENDI_H
#define ISE_VENDI_H

#include <cJSON.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#include "diversity/textstats.h"

#define ISE_VENDI_EPS 1e-12

struct ise_spectrum {
	double *lambda; /* eigenvalues kept, largest first */
	size_t m;       /* how many were kept */
	size_t n, d;    /* rows and dimension they came from */
	int dual;       /* 1: from X^T X / n (d x d); 0: from X X^T / n (n x n) */
	double trace;   /* their sum: 1 for unit rows, up to round-off */
};

/* The spectrum of rows rows[0..n) of x (row-major, d columns; rows NULL:
 * the first n).  0, or -1 with err (n = 0, or the solver failed). */
int ise_vendi_spectrum(const double *x, size_t d, const size_t *rows, size_t n,
		       struct ise_spectrum *s, char *err, size_t errlen);
/* "lapack dsyevd" or "gsl_eigen_symm": the solver spectra come from. */
const char *ise_vendi_eigensolver(void);
/* VS_q of a spectrum; q = INFINITY for q = inf. */
double ise_vendi_score(const struct ise_spectrum *s, double q);
void ise_spectrum_release(struct ise_spectrum *s);

/* X^T X accumulated over rows added in any number of steps: the dual side
 * for a set that grows (a stream, nested prefixes).  Memory d x d. */
struct ise_gram {
	size_t d, n;
	double *g;   /* d x d, lower triangle, unscaled */
	double *buf; /* gathered rows */
};

void ise_gram_init(struct ise_gram *g, size_t d);
/* Add rows rows[0..n) of x (rows NULL: the first n rows of x). */
void ise_gram_add(struct ise_gram *g, const double *x, const size_t *rows, size_t n);
/* The spectrum of what was added so far (needs at least one row). */
int ise_gram_spectrum(const struct ise_gram *g, struct ise_spectrum *s, char *err, size_t errlen);
void ise_gram_release(struct ise_gram *g);

/* Draws of size rows each from rows[0..n) (rows NULL: 0..n-1), with or
 * without replacement, and VS_q for each order q[0..nq) of each draw:
 * values[draw * nq + j].  The draws come from r in order.  0, or -1 with
 * err (size > n without replacement, a solver failure). */
int ise_vendi_bootstrap(const double *x, size_t d, const size_t *rows, size_t n, size_t size,
			size_t draws, int replace, gsl_rng *r, const double *q, size_t nq,
			double *values, char *err, size_t errlen);

/* VS_q over nested prefixes of one random permutation of rows[0..n): for
 * each points[i] (ascending, at most n) values[i * nq + j]; the dual Gram
 * is built once and grown from one point to the next. */
int ise_vendi_curve(const double *x, size_t d, const size_t *rows, size_t n, const size_t *points,
		    size_t npoints, gsl_rng *r, const double *q, size_t nq, double *values,
		    char *err, size_t errlen);

/* ---- a pool of vectors, measured whole and by slice, as JSON ---- */

struct ise_vendi_slice {
	char *name;
	size_t *rows, n, cap; /* the pool's rows with this value */
};

/* Unit vectors, optionally their texts, and the slices they are in.  When
 * rows need not be kept (no draws, curve or slices) they stream into the
 * d x d Gram matrix in blocks, and memory does not grow with n. */
struct ise_vendi_pool {
	unsigned d;
	size_t n;
	double *x; /* every row (keep), or the rows not yet in gram */
	size_t buffered, cap;
	int keep, sliced;
	struct ise_gram gram; /* the whole pool's X^T X when rows are not kept */
	int have_gram;
	struct ise_textset texts; /* one document per row, when texts are given */
	struct ise_vendi_slice *slices;
	size_t nslices, slices_cap, unsliced;
};

void ise_vendi_pool_init(struct ise_vendi_pool *p, int keep, int sliced);
/* Add n unit rows of d numbers, row after row in rows, and for each row i
 * its text texts[i] and the names of its slices, nkeys[i] of them one
 * after another in keys[i] ("a\0b\0").  texts, keys and nkeys may be NULL
 * (no texts, no slices), and so may texts[i] and keys[i]. */
void ise_vendi_pool_add(struct ise_vendi_pool *p, const double *rows, size_t n, unsigned d,
			const char *const *texts, const char *const *keys, const size_t *nkeys);
/* Put the slices in byte order of their names. */
void ise_vendi_pool_sort(struct ise_vendi_pool *p);
void ise_vendi_pool_release(struct ise_vendi_pool *p);

/* What to measure: orders, draws, a curve, lexical diversity. */
struct ise_vendi_request {
	const double *q; /* INFINITY for inf */
	size_t nq;
	size_t subsample, draws; /* 0: no draws */
	int replace;
	const size_t *curve; /* ascending sizes */
	size_t ncurve;
	int curve_all; /* and the whole set */
	int lexical;
	size_t k, lexical_sample; /* 0: every text of at least k tokens */
	uint64_t seed;
};

/* Add to out the measures of rows[0..m) of the pool (rows NULL: all of
 * it): kernel, eps, method, eigensolver, rank, trace, vendi {q: VS_q}, and
 * as asked bootstrap, curve and lexical.  key names the slice ("" for the
 * whole pool): each random path (draws, curve, text sample) gets its own
 * mt19937 seeded from (seed, path, key).  A draw or a curve point that
 * cannot be made is left out with a warning on stderr. */
void ise_vendi_report(struct ise_vendi_pool *p, const struct ise_vendi_request *rq,
		      const size_t *rows, size_t m, const char *key, cJSON *out);

#endif
