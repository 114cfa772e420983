/*
 * pca: the recipe's 2-D projection of the intents (examples/Makefile), not
 * an ise program.  Each record's text is embedded as ise-vendi embeds it (the
 * built-in hashed embedder, through lib/embed; or its vector is read from
 * --embedding-field, as from a neural model), the vectors are centred, and
 * their two principal components come from GSL's symmetric eigensolver on the
 * smaller of the Gram matrix (n x n) and the covariance (d x d).  Writes one
 * TSV line a record, "pc1 pc2 label id", after a '#' line with the share of
 * the variance each component explains; gnuplot reads it as it is.  Holds
 * every vector (n x d doubles).
 */
#include <errno.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "core/diag.h"
#include "diversity/embed.h"
#include "core/jsonl.h"
#include "core/xalloc.h"

enum { OPT_FIELD = 0x200, OPT_EMBEDDING_FIELD, OPT_LABEL, OPT_DIM };

struct config {
	const char *field, *label;
	struct ise_embed_config embed;
};

static const struct option options[] = {
    {"field", required_argument, NULL, OPT_FIELD},
    {"embedding-field", required_argument, NULL, OPT_EMBEDDING_FIELD},
    {"label", required_argument, NULL, OPT_LABEL},
    {"dim", required_argument, NULL, OPT_DIM},
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--field NAME | --embedding-field NAME | --dim N] [--label NAME] [--strict]\n"
		"       [--max-line SIZE] [FILE...]",
    .about = "Project the records' embedded texts onto their first two principal components.",
    .help = "      --field=NAME    text to embed (default natural_language_intent)\n"
	    "      --embedding-field=NAME  use the vector already in field NAME\n"
	    "      --label=NAME    member that colours a point; of an array, the first\n"
	    "                      element (default domains)\n"
	    "      --dim=N         dimension of the built-in hashed embedder (default 768)\n",
    .options = options,
    .shortopts = "",
    .common = ISE_OPT_INPUT,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *c = ctx;

	if (opt == OPT_FIELD)
		c->field = arg;
	else if (opt == OPT_EMBEDDING_FIELD)
		c->embed.field = arg;
	else if (opt == OPT_LABEL)
		c->label = arg;
	else if (opt == OPT_DIM)
		c->embed.dim = (unsigned)ise_parse_uint("--dim", arg, 2, 1u << 16);
}

/* A string member, or the first element of an array member, made safe for TSV. */
static char *tsv_word(const cJSON *rec, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
	char *s, *p;

	if (cJSON_IsArray(v))
		v = v->child;
	s = ise_xstrdup(cJSON_IsString(v) && *v->valuestring ? v->valuestring : "-");
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ')
			*p = '_';
	return s;
}

/* Eigenvectors of the symmetric m x m matrix a, largest eigenvalue first. */
static void eigen(gsl_matrix *a, gsl_vector *eval, gsl_matrix *evec)
{
	gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(a->size1);

	if (!w || gsl_eigen_symmv(a, eval, evec, w) ||
	    gsl_eigen_symmv_sort(eval, evec, GSL_EIGEN_SORT_VAL_DESC))
		ise_fatal("the eigensolver failed");
	gsl_eigen_symmv_free(w);
}

/* The scores of the n centred rows of x (n x d) on the first two components
 * into pc (n x 2), and the share of the variance of each into share[2]. */
static void project(gsl_matrix *x, gsl_matrix *pc, double share[2])
{
	size_t n = x->size1, d = x->size2, m = n < d ? n : d;
	gsl_matrix *a = gsl_matrix_alloc(m, m), *evec = gsl_matrix_alloc(m, m);
	gsl_vector *eval = gsl_vector_alloc(m);
	double trace = 0;

	if (!a || !evec || !eval)
		ise_fatal("out of memory");
	/* Gram X X^T when n <= d (its eigenvectors are the scores, scaled),
	 * else the covariance X^T X (its eigenvectors are the components). */
	gsl_blas_dsyrk(CblasLower, n <= d ? CblasNoTrans : CblasTrans, 1, x, 0, a);
	for (size_t i = 0; i < m; i++)
		trace += gsl_matrix_get(a, i, i);
	eigen(a, eval, evec);
	for (size_t k = 0; k < 2; k++) {
		double lambda = k < m ? gsl_vector_get(eval, k) : 0, sign = 1, big = 0;
		lambda = lambda > 0 ? lambda : 0;
		share[k] = trace > 0 ? lambda / trace : 0;
		for (size_t i = 0; i < n; i++) {
			double s = 0;
			if (k < m && n <= d)
				s = gsl_matrix_get(evec, i, k) * sqrt(lambda);
			else if (k < m)
				for (size_t j = 0; j < d; j++)
					s += gsl_matrix_get(x, i, j) * gsl_matrix_get(evec, j, k);
			gsl_matrix_set(pc, i, k, s);
		}
		/* an eigenvector's sign is arbitrary: make the largest score positive */
		for (size_t i = 0; i < n; i++)
			if (fabs(gsl_matrix_get(pc, i, k)) > fabs(big))
				big = gsl_matrix_get(pc, i, k);
		sign = big < 0 ? -1 : 1;
		for (size_t i = 0; i < n; i++)
			gsl_matrix_set(pc, i, k, sign * gsl_matrix_get(pc, i, k));
	}
	gsl_matrix_free(a);
	gsl_matrix_free(evec);
	gsl_vector_free(eval);
}

int main(int argc, char **argv)
{
	struct config c = {.field = "natural_language_intent", .label = "domains"};
	struct ise_options o;
	struct ise_reader in;
	struct ise_embedder *e;
	double *rows = NULL, share[2];
	char **labels = NULL, **ids = NULL, err[512];
	size_t n = 0, cap = 0, lcap = 0, icap = 0;
	unsigned d = 0, dim = 0;
	cJSON *rec;

	ise_diag_init(argv[0]);
	gsl_set_error_handler_off();
	ise_cli_parse(&cli, argc, argv, &o, handle, &c);
	if (!(e = ise_embedder_new(&c.embed, &o.llm, err, sizeof err)))
		ise_usage_error("%s", err);
	ise_reader_init(&in, o.files, o.nfiles, o.max_line, o.strict ? ISE_READ_STRICT : 0);
	while ((rec = ise_reader_next(&in))) {
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(rec, c.field);
		const char *t = cJSON_IsString(text) ? text->valuestring : NULL;
		const cJSON *one = rec;
		double *v;

		if (ise_embedder_needs_text(e) && (!t || !*t))
			ise_reader_error(&in, "record without a non-empty string '%s'", c.field);
		else if (ise_embed(e, &t, &one, NULL, 1, &v, &d, err, sizeof err))
			ise_reader_error(&in, "%s", err);
		else if (n && d != dim) {
			ise_reader_error(&in, "a vector of %u numbers, not %u", d, dim);
			free(v);
		} else {
			dim = d;
			ise_xgrow((void **)&rows, &cap, (n + 1) * d, sizeof *rows);
			memcpy(rows + n * d, v, d * sizeof *v);
			free(v);
			ise_xgrow((void **)&labels, &lcap, n + 1, sizeof *labels);
			ise_xgrow((void **)&ids, &icap, n + 1, sizeof *ids);
			labels[n] = tsv_word(rec, c.label);
			ids[n++] = tsv_word(rec, "id");
		}
		cJSON_Delete(rec);
		if (in.stopped)
			break;
	}
	ise_reader_release(&in);
	if (n == 0)
		ise_die(ISE_EXIT_DATA, "no record to project");

	gsl_matrix_view x = gsl_matrix_view_array(rows, n, dim);
	gsl_matrix *pc = gsl_matrix_alloc(n, 2);
	if (!pc)
		ise_fatal("out of memory");
	for (size_t j = 0; j < dim; j++) {
		gsl_vector_view col = gsl_matrix_column(&x.matrix, j);
		double mean = 0;
		for (size_t i = 0; i < n; i++)
			mean += gsl_vector_get(&col.vector, i);
		gsl_vector_add_constant(&col.vector, -mean / (double)n);
	}
	project(&x.matrix, pc, share);
	printf("# %s, %zu records, explained %.6f %.6f\n", ise_embedder_name(e), n, share[0],
	       share[1]);
	for (size_t i = 0; i < n; i++) {
		printf("%.6g\t%.6g\t%s\t%s\n", gsl_matrix_get(pc, i, 0), gsl_matrix_get(pc, i, 1),
		       labels[i], ids[i]);
		free(labels[i]);
		free(ids[i]);
	}
	if (fflush(stdout) || ferror(stdout) || fclose(stdout))
		ise_fatal("write error '<stdout>': %s", strerror(errno));
	gsl_matrix_free(pc);
	free(rows);
	free(labels);
	free(ids);
	ise_embedder_free(e);
	return ise_status();
}
