#include "diversity/vendi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/diag.h"
#include "core/rng.h"
#include "diversity/textstats.h"
#include "core/xalloc.h"

/* Rows a syrk call: big enough for BLAS to run at speed (as fast a row as
 * 4,096 on two cores), small enough that rows gathered for it stay in the
 * cache.  Every Gram matrix is summed in blocks of this many rows from the
 * first row given, so the same rows give the same sums to the last bit,
 * added at once or streamed in whole blocks. */
#define BLOCK_ROWS 1024

static int descending(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y) - (x > y);
}

/* LAPACK's dsyevd, from the BLAS library when it carries LAPACK, as
 * OpenBLAS does: a blocked tridiagonal reduction, 3 to 5 times faster than
 * GSL's unblocked one at these sizes.  The reference is weak, so a build
 * against a BLAS without LAPACK still links and uses GSL. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
		    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
		    int *info) __attribute__((weak));

static int use_gsl(void)
{
	const char *e = getenv("ISE_VENDI_EIGEN");

	return !dsyevd_ || (e && !strcmp(e, "gsl"));
}

const char *ise_vendi_eigensolver(void)
{
	return use_gsl() ? "gsl_eigen_symm" : "lapack dsyevd";
}

static int eigen_lapack(double *a, size_t m, double *w, char *err, size_t errlen)
{
	int n = (int)m, lwork = -1, liwork = -1, iwork1, info = 0;
	double work1;

	/* row-major lower is column-major upper */
	dsyevd_("N", "U", &n, a, &n, w, &work1, &lwork, &iwork1, &liwork, &info);
	if (info) {
		ise_errf(err, errlen, "eigensolver failed: dsyevd workspace query: %d", info);
		return -1;
	}
	lwork = (int)work1;
	liwork = iwork1;
	double *work = ise_xmalloc((size_t)lwork * sizeof *work);
	int *iwork = ise_xmalloc((size_t)liwork * sizeof *iwork);
	dsyevd_("N", "U", &n, a, &n, w, work, &lwork, iwork, &liwork, &info);
	free(work);
	free(iwork);
	if (info) {
		ise_errf(err, errlen, "eigensolver failed: dsyevd info %d", info);
		return -1;
	}
	return 0;
}

static int eigen_gsl(double *a, size_t m, double *w, char *err, size_t errlen)
{
	gsl_matrix_view view = gsl_matrix_view_array(a, m, m);
	gsl_vector_view eval = gsl_vector_view_array(w, m);
	gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(m);
	int rc;

	if (!ws)
		ise_fatal("out of memory");
	rc = gsl_eigen_symm(&view.matrix, &eval.vector, ws);
	gsl_eigen_symm_free(ws);
	if (rc) {
		ise_errf(err, errlen, "eigensolver failed: %s", gsl_strerror(rc));
		return -1;
	}
	return 0;
}

/* Eigenvalues of the symmetric m x m matrix whose lower triangle is in a
 * (destroyed), scaled by scale, clipped and sorted into s. */
static int eigen(double *a, size_t m, double scale, struct ise_spectrum *s, char *err,
		 size_t errlen)
{
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j <= i; j++)
			a[i * m + j] *= scale;
	s->lambda = ise_xmalloc(m * sizeof *s->lambda);
	if ((use_gsl() ? eigen_gsl : eigen_lapack)(a, m, s->lambda, err, errlen)) {
		free(s->lambda);
		s->lambda = NULL;
		return -1;
	}
	qsort(s->lambda, m, sizeof *s->lambda, descending);
	double floor = s->lambda[0] * ISE_VENDI_EPS;
	s->m = 0;
	s->trace = 0;
	while (s->m < m && s->lambda[s->m] > floor && s->lambda[s->m] > 0)
		s->trace += s->lambda[s->m++];
	return 0;
}

static void gather(double *dst, const double *x, size_t d, const size_t *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memcpy(dst + i * d, x + (rows ? rows[i] : i) * d, d * sizeof *dst);
}

void ise_gram_init(struct ise_gram *g, size_t d)
{
	g->d = d;
	g->n = 0;
	g->g = ise_xcalloc(d * d, sizeof *g->g);
	g->buf = NULL;
}

void ise_gram_add(struct ise_gram *g, const double *x, const size_t *rows, size_t n)
{
	size_t d = g->d;

	if (rows && !g->buf)
		g->buf = ise_xmalloc(BLOCK_ROWS * d * sizeof *g->buf);
	for (size_t first = 0; first < n; first += BLOCK_ROWS) {
		size_t k = n - first < BLOCK_ROWS ? n - first : BLOCK_ROWS;
		const double *a = x + first * d;
		if (rows) {
			gather(g->buf, x, d, rows + first, k);
			a = g->buf;
		}
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)k, 1.0, a, (int)d,
			    1.0, g->g, (int)d);
	}
	g->n += n;
}

int ise_gram_spectrum(const struct ise_gram *g, struct ise_spectrum *s, char *err, size_t errlen)
{
	size_t d = g->d;
	double *a;
	int rc;

	memset(s, 0, sizeof *s);
	if (!g->n) {
		ise_errf(err, errlen, "no vectors");
		return -1;
	}
	a = ise_xmalloc(d * d * sizeof *a);
	memcpy(a, g->g, d * d * sizeof *a);
	rc = eigen(a, d, 1.0 / (double)g->n, s, err, errlen);
	free(a);
	s->n = g->n;
	s->d = d;
	s->dual = 1;
	return rc;
}

void ise_gram_release(struct ise_gram *g)
{
	free(g->g);
	free(g->buf);
	g->g = g->buf = NULL;
}

int ise_vendi_spectrum(const double *x, size_t d, const size_t *rows, size_t n,
		       struct ise_spectrum *s, char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof *s);
	if (!n || !d) {
		ise_errf(err, errlen, "no vectors");
		return -1;
	}
	if (n > d) {
		struct ise_gram g;
		ise_gram_init(&g, d);
		ise_gram_add(&g, x, rows, n);
		rc = ise_gram_spectrum(&g, s, err, errlen);
		ise_gram_release(&g);
		return rc;
	}
	/* primal: K = X X^T / n, n x n */
	double *k = ise_xmalloc(n * n * sizeof *k), *xs = NULL;
	const double *src = x;
	if (rows) {
		xs = ise_xmalloc(n * d * sizeof *xs);
		gather(xs, x, d, rows, n);
		src = xs;
	}
	cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)d, 1.0, src, (int)d, 0.0,
		    k, (int)n);
	free(xs);
	rc = eigen(k, n, 1.0 / (double)n, s, err, errlen);
	free(k);
	s->n = n;
	s->d = d;
	s->dual = 0;
	return rc;
}

double ise_vendi_score(const struct ise_spectrum *s, double q)
{
	double sum = 0;

	if (!s->m)
		return NAN;
	if (q == 0)
		return (double)s->m;
	if (isinf(q))
		return 1 / s->lambda[0];
	if (q == 1) {
		for (size_t i = 0; i < s->m; i++)
			sum -= s->lambda[i] * log(s->lambda[i]);
		return exp(sum);
	}
	for (size_t i = 0; i < s->m; i++)
		sum += pow(s->lambda[i], q);
	return exp(log(sum) / (1 - q));
}

void ise_spectrum_release(struct ise_spectrum *s)
{
	free(s->lambda);
	s->lambda = NULL;
	s->m = 0;
}

static int scores(const double *x, size_t d, const size_t *rows, size_t n, const double *q,
		  size_t nq, double *out, char *err, size_t errlen)
{
	struct ise_spectrum s;

	if (ise_vendi_spectrum(x, d, rows, n, &s, err, errlen))
		return -1;
	for (size_t j = 0; j < nq; j++)
		out[j] = ise_vendi_score(&s, q[j]);
	ise_spectrum_release(&s);
	return 0;
}

static size_t *index_array(const size_t *rows, size_t n)
{
	size_t *all = ise_xmalloc((n ? n : 1) * sizeof *all);

	for (size_t i = 0; i < n; i++)
		all[i] = rows ? rows[i] : i;
	return all;
}

int ise_vendi_bootstrap(const double *x, size_t d, const size_t *rows, size_t n, size_t size,
			size_t draws, int replace, gsl_rng *r, const double *q, size_t nq,
			double *values, char *err, size_t errlen)
{
	size_t *all, *pick;
	int rc = 0;

	if (!size || (!replace && size > n) || !n) {
		ise_errf(err, errlen, "cannot draw %zu of %zu vectors %s replacement", size, n,
			 replace ? "with" : "without");
		return -1;
	}
	all = index_array(rows, n);
	pick = ise_xmalloc(size * sizeof *pick);
	for (size_t b = 0; b < draws && !rc; b++) {
		if (replace)
			gsl_ran_sample(r, pick, size, all, n, sizeof *all);
		else
			gsl_ran_choose(r, pick, size, all, n, sizeof *all);
		rc = scores(x, d, pick, size, q, nq, values + b * nq, err, errlen);
	}
	free(pick);
	free(all);
	return rc;
}

int ise_vendi_curve(const double *x, size_t d, const size_t *rows, size_t n, const size_t *points,
		    size_t npoints, gsl_rng *r, const double *q, size_t nq, double *values,
		    char *err, size_t errlen)
{
	size_t *perm = index_array(rows, n);
	struct ise_gram g;
	int rc = 0;

	gsl_ran_shuffle(r, perm, n, sizeof *perm);
	ise_gram_init(&g, d);
	for (size_t i = 0; i < npoints && !rc; i++) {
		size_t p = points[i];
		if (!p || p > n || (i && p < points[i - 1])) {
			ise_errf(err, errlen, "curve point %zu is not in 1..%zu or not ascending",
				 p, n);
			rc = -1;
		} else if (p <= d) {
			rc = scores(x, d, perm, p, q, nq, values + i * nq, err, errlen);
		} else {
			struct ise_spectrum s;
			ise_gram_add(&g, x, perm + g.n, p - g.n);
			if (!(rc = ise_gram_spectrum(&g, &s, err, errlen))) {
				for (size_t j = 0; j < nq; j++)
					values[i * nq + j] = ise_vendi_score(&s, q[j]);
				ise_spectrum_release(&s);
			}
		}
	}
	ise_gram_release(&g);
	free(perm);
	return rc;
}

/* ---- a pool, measured whole and by slice ---- */

static struct ise_vendi_slice *find_slice(struct ise_vendi_pool *p, const char *name)
{
	/* slices are few (domains, levels, complexities): a linear search
	 * from the most recent is fast enough and keeps first-seen order */
	for (size_t i = p->nslices; i-- > 0;)
		if (!strcmp(p->slices[i].name, name))
			return &p->slices[i];
	ise_xgrow((void **)&p->slices, &p->slices_cap, p->nslices + 1, sizeof *p->slices);
	struct ise_vendi_slice *s = &p->slices[p->nslices++];
	memset(s, 0, sizeof *s);
	s->name = ise_xstrdup(name);
	return s;
}

/* Rows are streamed into the Gram matrix in blocks when they need not be
 * kept; the first block is held back until the pool is larger than d, since
 * a pool of d or fewer is scored from its n x n matrix. */
void ise_vendi_pool_init(struct ise_vendi_pool *p, int keep, int sliced)
{
	memset(p, 0, sizeof *p);
	p->keep = keep;
	p->sliced = sliced;
	ise_textset_init(&p->texts);
}

/* Row p->n's text and slices. */
static void label_row(struct ise_vendi_pool *p, const char *text, const char *keys, size_t nkeys)
{
	if (text)
		ise_textset_add(&p->texts, text);
	if (!nkeys && p->sliced)
		p->unsliced++;
	for (size_t k = 0; k < nkeys; k++, keys += strlen(keys) + 1) {
		struct ise_vendi_slice *s = find_slice(p, keys);
		if (s->n && s->rows[s->n - 1] == p->n)
			continue; /* the same value twice in one record */
		ise_xgrow((void **)&s->rows, &s->cap, s->n + 1, sizeof *s->rows);
		s->rows[s->n++] = p->n;
	}
}

/* Rows not kept go into the Gram matrix in whole blocks (BLOCK_ROWS), in
 * the order they came, however they came (one by one, or a thousand at a
 * time): copied into the buffer until it holds a block, or, when a caller
 * hands over whole blocks with the buffer empty, taken where they are.
 * Until the pool has more than d rows the buffer keeps growing instead,
 * since a pool of d or fewer is scored from its n x n matrix. */
static void stream_rows(struct ise_vendi_pool *p, const double *rows, size_t n)
{
	size_t d = p->d, seen = p->n; /* rows streamed before these */

	while (n) {
		size_t k = BLOCK_ROWS - p->buffered % BLOCK_ROWS;
		if (!p->buffered && p->have_gram && n >= BLOCK_ROWS) {
			k = n - n % BLOCK_ROWS;
			ise_gram_add(&p->gram, rows, NULL, k);
		} else {
			k = k < n ? k : n;
			ise_xgrow((void **)&p->x, &p->cap, (p->buffered + k) * d, sizeof *p->x);
			memcpy(p->x + p->buffered * d, rows, k * d * sizeof *rows);
			p->buffered += k;
		}
		rows += k * d;
		n -= k;
		seen += k;
		if (p->buffered && p->buffered % BLOCK_ROWS == 0 && seen > d) {
			if (!p->have_gram)
				ise_gram_init(&p->gram, d), p->have_gram = 1;
			ise_gram_add(&p->gram, p->x, NULL, p->buffered);
			p->buffered = 0;
		}
	}
}

void ise_vendi_pool_add(struct ise_vendi_pool *p, const double *rows, size_t n, unsigned d,
			const char *const *texts, const char *const *keys, const size_t *nkeys)
{
	if (!p->d)
		p->d = d;
	if (p->keep) {
		ise_xgrow((void **)&p->x, &p->cap, (p->buffered + n) * d, sizeof *p->x);
		memcpy(p->x + p->buffered * d, rows, n * d * sizeof *rows);
		p->buffered += n;
	} else {
		stream_rows(p, rows, n);
	}
	for (size_t i = 0; i < n; i++, p->n++)
		label_row(p, texts ? texts[i] : NULL, keys ? keys[i] : NULL, nkeys ? nkeys[i] : 0);
}

void ise_vendi_pool_release(struct ise_vendi_pool *p)
{
	for (size_t i = 0; i < p->nslices; i++) {
		free(p->slices[i].name);
		free(p->slices[i].rows);
	}
	free(p->slices);
	free(p->x);
	if (p->have_gram)
		ise_gram_release(&p->gram);
	ise_textset_release(&p->texts);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ise_vendi_slice *)a)->name,
		      ((const struct ise_vendi_slice *)b)->name);
}

void ise_vendi_pool_sort(struct ise_vendi_pool *p)
{
	if (p->nslices)
		qsort(p->slices, p->nslices, sizeof *p->slices, by_name);
}

/* ---- scoring ---- */

static const char *q_name(double q, char *buf, size_t size)
{
	if (isinf(q))
		return "inf";
	snprintf(buf, size, "%g", q);
	return buf;
}

static cJSON *by_order(const struct ise_vendi_request *rq, const double *values, size_t stride)
{
	cJSON *o = cJSON_CreateObject();
	char name[32];

	for (size_t j = 0; j < rq->nq; j++)
		cJSON_AddNumberToObject(o, q_name(rq->q[j], name, sizeof name), values[j * stride]);
	return o;
}

/* A generator for one path (bootstrap, curve, lexical sample) of one slice,
 * so each is reproducible whatever else is asked for. */
static gsl_rng *rng_for(const struct ise_vendi_request *rq, const char *key, uint64_t path)
{
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);

	if (!g)
		ise_fatal("out of memory");
	gsl_rng_set(g, (unsigned long)(ise_hash_str(key, rq->seed ^ ise_mix64(path)) >> 32));
	return g;
}

static const char *slice_label(const char *key)
{
	return *key ? key : "the whole pool";
}

static void add_spectrum(struct ise_vendi_pool *p, const struct ise_vendi_request *rq, cJSON *out,
			 const size_t *rows, size_t m)
{
	struct ise_spectrum s;
	double *values = ise_xmalloc(rq->nq * sizeof *values);
	char err[512];
	int rc;

	if (!rows && !p->keep && p->have_gram) {
		ise_gram_add(&p->gram, p->x, NULL, p->buffered);
		p->buffered = 0;
		rc = ise_gram_spectrum(&p->gram, &s, err, sizeof err);
	} else {
		rc = ise_vendi_spectrum(p->x, p->d, rows, m, &s, err, sizeof err);
	}
	if (rc)
		ise_fatal("%s", err);
	for (size_t j = 0; j < rq->nq; j++)
		values[j] = ise_vendi_score(&s, rq->q[j]);
	cJSON_AddStringToObject(out, "method", s.dual ? "dual" : "primal");
	cJSON_AddStringToObject(out, "eigensolver", ise_vendi_eigensolver());
	cJSON_AddNumberToObject(out, "rank", (double)s.m);
	cJSON_AddNumberToObject(out, "trace", s.trace);
	cJSON_AddItemToObject(out, "vendi", by_order(rq, values, 1));
	ise_spectrum_release(&s);
	free(values);
}

static void add_bootstrap(struct ise_vendi_pool *p, const struct ise_vendi_request *rq, cJSON *out,
			  const size_t *rows, size_t m, const char *key)
{
	size_t nq = rq->nq, draws = rq->draws;
	double *v, *mean, *sd;
	char err[512], name[32];

	if (!rq->replace && rq->subsample > m) {
		ise_warn("%s has %zu records, fewer than a draw of %zu without replacement: no "
			 "bootstrap",
			 slice_label(key), m, rq->subsample);
		cJSON_AddNullToObject(out, "bootstrap");
		return;
	}
	gsl_rng *g = rng_for(rq, key, 1);
	v = ise_xmalloc(draws * nq * sizeof *v);
	mean = ise_xmalloc(2 * nq * sizeof *mean);
	sd = mean + nq;
	if (ise_vendi_bootstrap(p->x, p->d, rows, m, rq->subsample, draws, rq->replace, g, rq->q,
				nq, v, err, sizeof err))
		ise_fatal("%s", err);
	gsl_rng_free(g);
	cJSON *b = cJSON_AddObjectToObject(out, "bootstrap");
	cJSON_AddNumberToObject(b, "size", (double)rq->subsample);
	cJSON_AddNumberToObject(b, "draws", (double)draws);
	cJSON_AddBoolToObject(b, "replacement", rq->replace);
	for (size_t j = 0; j < nq; j++) {
		double s = 0, ss = 0;
		for (size_t i = 0; i < draws; i++)
			s += v[i * nq + j];
		mean[j] = s / (double)draws;
		for (size_t i = 0; i < draws; i++)
			ss += (v[i * nq + j] - mean[j]) * (v[i * nq + j] - mean[j]);
		sd[j] = draws > 1 ? sqrt(ss / (double)(draws - 1)) : NAN;
	}
	cJSON_AddItemToObject(b, "mean", by_order(rq, mean, 1));
	if (draws > 1)
		cJSON_AddItemToObject(b, "sd", by_order(rq, sd, 1));
	else
		cJSON_AddNullToObject(b, "sd");
	cJSON *values = cJSON_AddObjectToObject(b, "values");
	for (size_t j = 0; j < nq; j++) {
		cJSON *a = cJSON_AddArrayToObject(values, q_name(rq->q[j], name, sizeof name));
		for (size_t i = 0; i < draws; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i * nq + j]));
	}
	free(mean);
	free(v);
}

static void add_curve(struct ise_vendi_pool *p, const struct ise_vendi_request *rq, cJSON *out,
		      const size_t *rows, size_t m, const char *key)
{
	size_t *points = ise_xmalloc((rq->ncurve + 1) * sizeof *points), n = 0;
	int whole = rq->curve_all;
	char err[512];

	/* a size above the set stands for the whole set */
	for (size_t i = 0; i < rq->ncurve; i++) {
		if (rq->curve[i] < m) {
			points[n++] = rq->curve[i];
			continue;
		}
		if (rq->curve[i] > m)
			ise_warn("%s has %zu records: curve point %zu is the whole of it",
				 slice_label(key), m, rq->curve[i]);
		whole = 1;
	}
	if (whole)
		points[n++] = m;
	double *v = ise_xmalloc((n ? n : 1) * rq->nq * sizeof *v);
	gsl_rng *g = rng_for(rq, key, 2);
	if (n &&
	    ise_vendi_curve(p->x, p->d, rows, m, points, n, g, rq->q, rq->nq, v, err, sizeof err))
		ise_fatal("%s", err);
	gsl_rng_free(g);
	cJSON *a = cJSON_AddArrayToObject(out, "curve");
	for (size_t i = 0; i < n; i++) {
		cJSON *pt = cJSON_CreateObject();
		cJSON_AddNumberToObject(pt, "n", (double)points[i]);
		cJSON_AddItemToObject(pt, "vendi", by_order(rq, v + i * rq->nq, 1));
		cJSON_AddItemToArray(a, pt);
	}
	free(points);
	free(v);
}

static void add_lexical(struct ise_vendi_pool *p, const struct ise_vendi_request *rq, cJSON *out,
			const size_t *rows, size_t m, const char *key)
{
	const struct ise_textset *t = &p->texts;
	size_t *eligible = ise_xmalloc((m ? m : 1) * sizeof *eligible), ne = 0, want;
	size_t unique[ISE_TEXTSTATS_MAX_N], total[ISE_TEXTSTATS_MAX_N];
	double bleu[ISE_TEXTSTATS_MAX_N];
	char name[8];

	for (size_t i = 0; i < m; i++) {
		size_t doc = rows ? rows[i] : i;
		if (ise_textset_length(t, doc) >= rq->k)
			eligible[ne++] = doc;
	}
	want = rq->lexical_sample && rq->lexical_sample < ne ? rq->lexical_sample : ne;
	size_t *pick = ise_xmalloc((want ? want : 1) * sizeof *pick);
	if (want < ne) {
		gsl_rng *g = rng_for(rq, key, 3);
		gsl_ran_choose(g, pick, want, eligible, ne, sizeof *pick);
		gsl_rng_free(g);
	} else {
		memcpy(pick, eligible, ne * sizeof *pick);
	}
	cJSON *lex = cJSON_AddObjectToObject(out, "lexical");
	cJSON_AddStringToObject(lex, "tokens", "lowercase, whitespace");
	cJSON_AddNumberToObject(lex, "k", (double)rq->k);
	cJSON_AddNumberToObject(lex, "eligible", (double)ne);
	cJSON_AddNumberToObject(lex, "texts", (double)want);
	cJSON *dist = cJSON_AddObjectToObject(lex, "distinct");
	ise_distinct(t, pick, want, rq->k, 4, unique, total);
	for (unsigned n = 1; n <= 4; n++) {
		snprintf(name, sizeof name, "%u", n);
		if (total[n - 1])
			cJSON_AddNumberToObject(dist, name,
						(double)unique[n - 1] / (double)total[n - 1]);
		else
			cJSON_AddNullToObject(dist, name);
	}
	if (!ise_self_bleu(t, pick, want, 5, bleu)) {
		cJSON *sb = cJSON_AddObjectToObject(lex, "self_bleu");
		for (unsigned n = 2; n <= 5; n++) {
			snprintf(name, sizeof name, "%u", n);
			cJSON_AddNumberToObject(sb, name, bleu[n - 1]);
		}
	} else {
		cJSON_AddNullToObject(lex, "self_bleu");
	}
	free(pick);
	free(eligible);
}

void ise_vendi_report(struct ise_vendi_pool *p, const struct ise_vendi_request *rq,
		      const size_t *rows, size_t m, const char *key, cJSON *out)
{
	cJSON_AddStringToObject(out, "kernel", "cosine");
	cJSON_AddNumberToObject(out, "eps", ISE_VENDI_EPS);
	if (!m) {
		cJSON_AddNullToObject(out, "vendi");
		return;
	}
	add_spectrum(p, rq, out, rows, m);
	if (rq->subsample)
		add_bootstrap(p, rq, out, rows, m, key);
	if (rq->ncurve || rq->curve_all)
		add_curve(p, rq, out, rows, m, key);
	if (rq->lexical)
		add_lexical(p, rq, out, rows, m, key);
}
