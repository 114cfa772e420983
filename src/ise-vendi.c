/*
 * ise-vendi: how diverse a pool of records is: the Vendi Score of their
 * embeddings (any order q, bootstrap, a scaling curve, per slice) and,
 * with --lexical, distinct-n and Self-BLEU of their texts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "core/diag.h"
#include "app/embed_opts.h"
#include "diversity/embed.h"
#include "core/jsonl.h"
#include "core/progress.h"
#include "diversity/vendi.h"
#include "core/xalloc.h"

enum {
	OPT_FIELD = 0x200,
	OPT_Q,
	OPT_SUBSAMPLE,
	OPT_BOOTSTRAP,
	OPT_REPLACE,
	OPT_CURVE,
	OPT_BY,
	OPT_LEXICAL,
	OPT_K,
	OPT_LEXICAL_SAMPLE,
};

#define MAX_LIST 64

struct config {
	struct ise_embed_config embed;
	const char *field, *by, *embed_cache;
	double q[MAX_LIST];
	size_t nq, subsample, draws, curve[MAX_LIST], ncurve, k, lexical_sample;
	int replace, curve_all, lexical;
};

static const struct option options[] = {
    {"field", required_argument, NULL, OPT_FIELD},
    ISE_EMBED_OPTIONS,
    {"q", required_argument, NULL, OPT_Q},
    {"subsample", required_argument, NULL, OPT_SUBSAMPLE},
    {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
    {"replace", no_argument, NULL, OPT_REPLACE},
    {"curve", required_argument, NULL, OPT_CURVE},
    {"by", required_argument, NULL, OPT_BY},
    {"lexical", no_argument, NULL, OPT_LEXICAL},
    {"k", required_argument, NULL, OPT_K},
    {"lexical-sample", required_argument, NULL, OPT_LEXICAL_SAMPLE},
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--field NAME] [--embedding-field NAME | --embeddings FILE.npy |\n"
		"       --embed-url URL [--embed-model M] [--embed-cache DIR] | --dim N]\n"
		"       [--save-embeddings FILE.npy] [--q LIST]\n"
		"       [--subsample N [--bootstrap B] [--replace]] [--curve LIST] [--by FIELD]\n"
		"       [--lexical [--k K] [--lexical-sample N]] [-s N] [-o FILE] [--strict]\n"
		"       [--max-line SIZE] [--progress] [FILE...]",
    .about = "Measure the diversity of the records in FILE...: the Vendi Score of their\n"
	     "embeddings (cosine kernel) and, with --lexical, distinct-n and Self-BLEU.",
    .help =
	"      --field=NAME    text to embed (default natural_language_intent)\n"
	"      --embedding-field=NAME  use the vector already in field NAME\n"
	"      --embed-url=URL OpenAI-compatible endpoint with /v1 for /embeddings\n" ISE_EMBED_HELP
	"      --q=LIST        orders, e.g. 0,0.5,1,2,inf (default 1)\n"
	"      --subsample=N   score random draws of N records\n"
	"      --bootstrap=B   how many draws (default 1 with --subsample)\n"
	"      --replace       draw with replacement (default without)\n"
	"      --curve=LIST    scores of nested prefixes of one permutation, e.g.\n"
	"                      200,500,1000,all\n"
	"      --by=FIELD      also one line per value of FIELD (a.b for nested)\n"
	"      --lexical       add distinct-1..4 and Self-BLEU-2..5\n"
	"      --k=K           tokens kept per text for distinct-n (default 20)\n"
	"      --lexical-sample=N  texts sampled for --lexical, 0 all (default 5000)\n",
    .options = options,
    .shortopts = "",
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_PROGRESS | ISE_OPT_NET,
};

/* Split a comma-separated list into buf's items; an empty item is an error. */
static size_t split_list(const char *opt, const char *arg, char *buf, size_t size, char **items)
{
	size_t n = 0, len = strlen(arg);

	if (len >= size)
		ise_usage_error("invalid value for %s: too long", opt);
	memcpy(buf, arg, len + 1);
	for (char *p = buf;; p++) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (!*p || n == MAX_LIST)
			ise_usage_error("invalid value for %s: '%s' (%s)", opt, arg,
					*p ? "too many items" : "an empty item");
		items[n++] = p;
		if (!comma)
			return n;
		p = comma;
	}
}

static size_t parse_q(const char *arg, double *q)
{
	char buf[1024], *items[MAX_LIST];
	size_t n = split_list("--q", arg, buf, sizeof buf, items);

	for (size_t i = 0; i < n; i++)
		q[i] =
		    !strcmp(items[i], "inf") ? INFINITY : ise_parse_double("--q", items[i], 0, 1e6);
	return n;
}

static size_t parse_curve(const char *arg, size_t *points, int *all)
{
	char buf[1024], *items[MAX_LIST];
	size_t n = split_list("--curve", arg, buf, sizeof buf, items), np = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(items[i], "all") && i == n - 1) {
			*all = 1;
			break;
		}
		if (!strcmp(items[i], "all"))
			ise_usage_error("invalid value for --curve: '%s' ('all' comes last)", arg);
		points[np] = (size_t)ise_parse_uint("--curve", items[i], 1, UINT64_C(1) << 40);
		if (np && points[np] <= points[np - 1])
			ise_usage_error("invalid value for --curve: '%s' (sizes must ascend)", arg);
		np++;
	}
	return np;
}

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	if (ise_embed_option(opt, arg, &cf->embed, &cf->embed_cache))
		return;
	switch (opt) {
	case OPT_FIELD:
		cf->field = ise_parse_field("--field", arg);
		break;
	case OPT_Q:
		cf->nq = parse_q(arg, cf->q);
		break;
	case OPT_SUBSAMPLE:
		cf->subsample = (size_t)ise_parse_uint("--subsample", arg, 1, UINT64_C(1) << 32);
		break;
	case OPT_BOOTSTRAP:
		cf->draws = (size_t)ise_parse_uint("--bootstrap", arg, 1, 100000);
		break;
	case OPT_REPLACE:
		cf->replace = 1;
		break;
	case OPT_CURVE:
		cf->ncurve = parse_curve(arg, cf->curve, &cf->curve_all);
		break;
	case OPT_BY:
		cf->by = arg;
		break;
	case OPT_LEXICAL:
		cf->lexical = 1;
		break;
	case OPT_K:
		cf->k = (size_t)ise_parse_uint("--k", arg, 4, 100000);
		break;
	case OPT_LEXICAL_SAMPLE:
		cf->lexical_sample = (size_t)ise_parse_uint("--lexical-sample", arg, 0, 1u << 31);
		break;
	}
}

static void check_options(struct config *cf, struct ise_options *o)
{
	if (o->resume)
		ise_usage_error(
		    "--resume: ise-vendi writes one summary, there is nothing to resume");
	if (cf->draws && !cf->subsample)
		ise_usage_error("--bootstrap needs --subsample=N");
	if (cf->replace && !cf->subsample)
		ise_usage_error("--replace needs --subsample=N");
	if ((cf->k || cf->lexical_sample != (size_t)-1) && !cf->lexical)
		ise_usage_error("--k and --lexical-sample need --lexical");
	ise_embed_check_options(&cf->embed, cf->embed_cache, o);
	if (!cf->nq)
		cf->q[cf->nq++] = 1;
	if (cf->subsample && !cf->draws)
		cf->draws = 1;
	if (!cf->k)
		cf->k = 20;
	if (cf->lexical_sample == (size_t)-1)
		cf->lexical_sample = 5000;
	if (!cf->field)
		cf->field = "natural_language_intent";
}

/* ---- reading ---- */

/* A record waiting for its text to be embedded with others. */
struct item {
	char *text, *keys;
	size_t nkeys;
	const char *file;
	unsigned long line;
	size_t index; /* its place among the records read */
};

struct run {
	struct config cf;
	struct ise_options o;
	struct ise_embedder *e;
	struct ise_vendi_pool pool;
	struct ise_vendi_request rq;
	struct item *pending;
	size_t npending, pending_cap;
	int stop; /* --strict and a record failed */
};

/* The member at a dotted path ("persona.experience_level"), or NULL. */
static const cJSON *lookup(const cJSON *rec, const char *path)
{
	char name[256];

	while (rec && *path) {
		size_t len = strcspn(path, ".");
		if (len >= sizeof name)
			return NULL;
		memcpy(name, path, len);
		name[len] = '\0';
		rec = cJSON_IsObject(rec) ? cJSON_GetObjectItemCaseSensitive(rec, name) : NULL;
		path += len + (path[len] == '.');
	}
	return rec;
}

/* The slice names of a --by value as "a\0b\0" (strings, numbers, booleans,
 * or an array of them); NULL with why when it is of another type. */
static char *slice_keys(const cJSON *v, size_t *nkeys, const char **why)
{
	char *buf = NULL, num[64];
	size_t len = 0, cap = 0;
	const cJSON *item;

	*nkeys = 0;
	for (item = cJSON_IsArray(v) ? v->child : v; item;
	     item = cJSON_IsArray(v) ? item->next : NULL) {
		const char *s = num;
		if (cJSON_IsString(item))
			s = item->valuestring;
		else if (cJSON_IsNumber(item))
			snprintf(num, sizeof num, "%.17g", item->valuedouble);
		else if (cJSON_IsBool(item))
			s = cJSON_IsTrue(item) ? "true" : "false";
		else {
			*why = "is not a string, number, boolean or an array of them";
			free(buf);
			return NULL;
		}
		ise_xgrow((void **)&buf, &cap, len + strlen(s) + 2, 1);
		memcpy(buf + len, s, strlen(s) + 1);
		len += strlen(s) + 1;
		(*nkeys)++;
		if (!cJSON_IsArray(v))
			break;
	}
	if (!buf)
		buf = ise_xcalloc(1, 1);
	return buf;
}

static void item_release(struct item *it)
{
	free(it->text);
	free(it->keys);
}

/* Add n vectors v of d numbers to the pool, those of items[0..n). */
static void pool_rows(struct run *r, const double *v, size_t n, unsigned d,
		      const struct item *items)
{
	const char **texts = ise_xmalloc(n * sizeof *texts), **keys = ise_xmalloc(n * sizeof *keys);
	size_t *nkeys = ise_xmalloc(n * sizeof *nkeys);

	for (size_t i = 0; i < n; i++) {
		texts[i] = r->cf.lexical ? items[i].text : NULL;
		keys[i] = items[i].keys;
		nkeys[i] = items[i].nkeys;
	}
	ise_vendi_pool_add(&r->pool, v, n, d, texts, keys, nkeys);
	free(texts);
	free(keys);
	free(nkeys);
}

/* Embed the pending records.  A record the embedder rejects is reported
 * and left out; an endpoint that is down for good is fatal. */
static void flush_pending(struct run *r)
{
	size_t step = ise_embedder_batch(r->e) > 1 ? ise_embedder_batch(r->e) : r->npending;
	const char **texts = ise_xmalloc((r->npending + 1) * sizeof *texts);
	size_t first = 0, *index = ise_xmalloc((r->npending + 1) * sizeof *index);
	char err[1024];

	for (size_t i = 0; i < r->npending; i++) {
		texts[i] = r->pending[i].text;
		index[i] = r->pending[i].index;
	}
	while (first < r->npending) {
		size_t n = r->npending - first < step ? r->npending - first : step;
		double *v;
		unsigned d;
		int rc =
		    ise_embed(r->e, texts + first, NULL, index + first, n, &v, &d, err, sizeof err);
		if (rc == -2)
			ise_fatal("embedding: %s", err);
		if (!rc) {
			pool_rows(r, v, n, d, r->pending + first);
			free(v);
			first += n;
			continue;
		}
		long bad = ise_embedder_bad_record(r->e);
		size_t from = bad >= 0 ? first + (size_t)bad : first,
		       to = bad >= 0 ? from + 1 : first + n;
		const char *why = bad >= 0 && strchr(err, ':') ? strchr(err, ':') + 2 : err;
		for (size_t i = from; i < to; i++)
			ise_record_error(r->pending[i].file, r->pending[i].line, 0, "%s%s",
					 bad >= 0 ? "" : "embedding failed: ", why);
		if (r->o.strict) {
			/* keep what came before the bad record only */
			to = r->npending;
			r->stop = 1;
		}
		/* take the rejected records out and embed the batch again */
		for (size_t i = from; i < to; i++)
			item_release(&r->pending[i]);
		memmove(r->pending + from, r->pending + to,
			(r->npending - to) * sizeof *r->pending);
		memmove(texts + from, texts + to, (r->npending - to) * sizeof *texts);
		memmove(index + from, index + to, (r->npending - to) * sizeof *index);
		r->npending -= to - from;
	}
	for (size_t i = 0; i < r->npending; i++)
		item_release(&r->pending[i]);
	r->npending = 0;
	free(texts);
	free(index);
}

/* One input record, the index-th read: its text and slices, then its
 * vector now (from the record or a file) or with the next batch (from the
 * text). */
static void read_record(struct run *r, cJSON *rec, struct ise_reader *in, size_t index)
{
	const char *text = NULL, *why = NULL;
	char *keys = NULL, err[1024];
	size_t nkeys = 0;

	if (ise_embedder_needs_text(r->e) || r->cf.lexical) {
		const cJSON *t = lookup(rec, r->cf.field);
		if (!cJSON_IsString(t)) {
			ise_reader_error(in, "no string '%s' to measure", r->cf.field);
			return;
		}
		text = t->valuestring;
		if (!text[strspn(text, " \t\n\v\f\r")]) {
			ise_reader_error(in, "'%s' is empty", r->cf.field);
			return;
		}
	}
	if (r->cf.by) {
		const cJSON *v = lookup(rec, r->cf.by);
		if (v && !cJSON_IsNull(v) && !(keys = slice_keys(v, &nkeys, &why))) {
			ise_reader_error(in, "'%s' %s", r->cf.by, why);
			return;
		}
	}
	if (!ise_embedder_has_row(r->e, index)) {
		free(keys); /* more records than vectors: fatal at the end */
		return;
	}
	if (!ise_embedder_needs_text(r->e) && ise_embedder_batch(r->e) == 1) {
		const cJSON *one = rec;
		double *v;
		unsigned d;
		int rc = ise_embed(r->e, NULL, &one, &index, 1, &v, &d, err, sizeof err);
		if (rc == -2)
			ise_fatal("embedding: %s", err);
		if (rc) {
			const char *colon = strchr(err, ':');
			ise_reader_error(in, "%s", colon ? colon + 2 : err);
		} else {
			const char *k = keys;
			ise_vendi_pool_add(&r->pool, v, 1, d, r->cf.lexical ? &text : NULL, &k,
					   &nkeys);
			free(v);
		}
		free(keys);
		return;
	}
	ise_xgrow((void **)&r->pending, &r->pending_cap, r->npending + 1, sizeof *r->pending);
	r->pending[r->npending++] =
	    (struct item){text ? ise_xstrdup(text) : NULL, keys, nkeys, in->name, in->line, index};
	if (r->npending >= (ise_embedder_batch(r->e) > 1 ? 4 * ise_embedder_batch(r->e) : 4096))
		flush_pending(r);
}

/* Everything asked for, of rows[0..m) (rows NULL: the whole pool). */
static cJSON *measure(struct run *r, const size_t *rows, size_t m, const char *key)
{
	cJSON *out = cJSON_CreateObject();

	if (!out)
		ise_fatal("out of memory");
	if (r->cf.by) {
		cJSON_AddStringToObject(out, "by", r->cf.by);
		if (rows)
			cJSON_AddStringToObject(out, "slice", key);
		else
			cJSON_AddNullToObject(out, "slice");
	}
	cJSON_AddNumberToObject(out, "n", (double)m);
	cJSON_AddStringToObject(out, "embedder", ise_embedder_name(r->e));
	if (ise_embedder_needs_text(r->e) || r->cf.lexical)
		cJSON_AddStringToObject(out, "field", r->cf.field);
	cJSON_AddNumberToObject(out, "dim", r->pool.d);
	cJSON_AddNumberToObject(out, "seed", (double)r->o.seed);
	if (!rows && r->cf.by)
		cJSON_AddNumberToObject(out, "unsliced", (double)r->pool.unsliced);
	ise_vendi_report(&r->pool, &r->rq, rows, m, key, out);
	return out;
}

int main(int argc, char **argv)
{
	static struct run r = {.cf = {.lexical_sample = (size_t)-1}};
	struct ise_reader in;
	struct ise_writer out;
	struct ise_progress progress;
	unsigned long long n = 0;
	char err[1024];
	cJSON *rec;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &r.o, handle, &r.cf);
	check_options(&r.cf, &r.o);
	r.e = ise_embed_start(&r.cf.embed, &r.o);
	ise_vendi_pool_init(&r.pool, r.cf.subsample || r.cf.ncurve || r.cf.curve_all || r.cf.by,
			    r.cf.by != NULL);
	r.rq = (struct ise_vendi_request){
	    .q = r.cf.q,
	    .nq = r.cf.nq,
	    .subsample = r.cf.subsample,
	    .draws = r.cf.draws,
	    .replace = r.cf.replace,
	    .curve = r.cf.curve,
	    .ncurve = r.cf.ncurve,
	    .curve_all = r.cf.curve_all,
	    .lexical = r.cf.lexical,
	    .k = r.cf.k,
	    .lexical_sample = r.cf.lexical_sample,
	    .seed = r.o.seed,
	};

	ise_writer_open(&out, r.o.output, 0);
	ise_reader_init(&in, r.o.files, r.o.nfiles, r.o.max_line,
			ise_read_flags(&r.o) | ISE_READ_NO_ECHO);
	ise_progress_init(&progress, r.o.progress, 0);
	while (!r.stop && (rec = ise_reader_next(&in))) {
		read_record(&r, rec, &in, (size_t)n);
		cJSON_Delete(rec);
		ise_progress_update(&progress, ++n, 0,
				    in.bytes_total ? (double)in.bytes_read / (double)in.bytes_total
						   : -1);
	}
	flush_pending(&r);
	ise_progress_end(&progress, n, n - r.pool.n);
	/* a run stopped by --strict read part of the input: nothing to check or save */
	if (!r.stop && !in.stopped &&
	    (ise_embedder_check_count(r.e, (size_t)n, err, sizeof err) ||
	     ise_embedder_save(r.e, (size_t)n, err, sizeof err)))
		ise_fatal("%s", err);
	ise_reader_release(&in);

	cJSON *whole = measure(&r, NULL, r.pool.n, "");
	ise_writer_put(&out, whole);
	cJSON_Delete(whole);
	ise_vendi_pool_sort(&r.pool);
	for (size_t i = 0; i < r.pool.nslices; i++) {
		struct ise_vendi_slice *s = &r.pool.slices[i];
		cJSON *line = measure(&r, s->rows, s->n, s->name);
		ise_writer_put(&out, line);
		cJSON_Delete(line);
	}
	ise_writer_close(&out);
	ise_vendi_pool_release(&r.pool);
	free(r.pending);
	ise_embedder_free(r.e);
	return ise_status();
}
