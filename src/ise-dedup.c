/*
 * ise-dedup: remove exact, normalised and near-duplicate texts (MinHash
 * with exact Jaccard verification), and optionally semantic duplicates
 * (embedding cosine), keeping the first record of each cluster.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli.h"
#include "core/clock.h"
#include "core/diag.h"
#include "app/embed_opts.h"
#include "diversity/embed.h"
#include "core/idset.h"
#include "core/jsonl.h"
#include "diversity/minhash.h"
#include "core/progress.h"
#include "app/resume.h"
#include "core/xalloc.h"

enum {
	OPT_FIELD = 0x200,
	OPT_THRESHOLD,
	OPT_NGRAM,
	OPT_PERM,
	OPT_DUPES,
	OPT_SUMMARY,
	OPT_SEMANTIC,
};

struct config {
	const char *field, *dupes, *summary, *embed_cache;
	struct ise_dedup_config dedup;
	int quiet, semantic;
	double cosine;
	struct ise_embed_config embed;
};

static const struct option options[] = {
    {"field", required_argument, NULL, OPT_FIELD},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"ngram", required_argument, NULL, OPT_NGRAM},
    {"perm", required_argument, NULL, OPT_PERM},
    {"dupes", required_argument, NULL, OPT_DUPES},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"quiet", no_argument, NULL, 'q'},
    {"semantic", required_argument, NULL, OPT_SEMANTIC},
    ISE_EMBED_OPTIONS,
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--field NAME] [--threshold T] [--ngram N] [--perm N] [--dupes FILE]\n"
		"       [--semantic COS [--embedding-field F | --embeddings FILE.npy |\n"
		"       --embed-url URL [--embed-model M] [--embed-cache DIR] | --dim N]\n"
		"       [--save-embeddings FILE.npy]] [--summary FILE] [-q] [-s N]\n"
		"       [-o FILE [--resume]] [--strict] [--max-line SIZE] [--progress] [FILE...]",
    .about = "Write the records of FILE... without duplicates of an earlier record's text:\n"
	     "exact and normalised copies, then near-duplicates (MinHash, exact Jaccard).",
    .help =
	"      --field=NAME    the text compared (default natural_language_intent)\n"
	"      --threshold=T   Jaccard of word-shingle sets that makes a near-duplicate\n"
	"                      (default 0.7)\n"
	"      --ngram=N       words per shingle (default 5)\n"
	"      --perm=N        MinHash permutations (default 128)\n"
	"      --dupes=FILE    write removed records there, with duplicate_of,\n"
	"                      similarity and rule\n"
	"      --semantic=COS  then also remove records whose embedding has a cosine\n"
	"                      above COS with an earlier record's\n"
	"      --embedding-field=F  vectors from field F of the records\n"
	"      --embed-url=URL vectors from an OpenAI-compatible /v1/embeddings\n" ISE_EMBED_HELP
	"      --summary=FILE  write the summary as a JSON object to FILE\n"
	"  -q, --quiet         no summary on standard error\n",
    .options = options,
    .shortopts = "q",
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_PROGRESS | ISE_OPT_NET,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	if (ise_embed_option(opt, arg, &cf->embed, &cf->embed_cache))
		return;
	switch (opt) {
	case OPT_FIELD:
		cf->field = ise_parse_field("--field", arg);
		break;
	case OPT_THRESHOLD:
		cf->dedup.threshold = ise_parse_double("--threshold", arg, 0, 1);
		if (cf->dedup.threshold <= 0)
			ise_usage_error("invalid value for --threshold: '%s' (above 0, at most 1)",
					arg);
		break;
	case OPT_NGRAM:
		cf->dedup.ngram = (unsigned)ise_parse_uint("--ngram", arg, 1, 64);
		break;
	case OPT_PERM:
		cf->dedup.perm = (unsigned)ise_parse_uint("--perm", arg, 1, 4096);
		break;
	case OPT_DUPES:
		cf->dupes = arg;
		break;
	case OPT_SUMMARY:
		cf->summary = arg;
		break;
	case 'q':
		cf->quiet = 1;
		break;
	case OPT_SEMANTIC:
		cf->cosine = ise_parse_double("--semantic", arg, -1, 1);
		cf->semantic = 1;
		break;
	}
}

static void check_options(const struct config *cf, struct ise_options *o)
{
	if (!cf->semantic && (cf->embed.field || cf->embed.url || cf->embed.model ||
			      cf->embed.dim || cf->embed_cache || cf->embed.npy || cf->embed.save))
		ise_usage_error("--embedding-field, --embeddings, --embed-url, --embed-model, "
				"--embed-cache, --dim and --save-embeddings need --semantic");
	ise_embed_check_options(&cf->embed, cf->embed_cache, o);
	const char *out = o->output && strcmp(o->output, "-") ? o->output : NULL;
	if (cf->dupes && out && !strcmp(cf->dupes, out))
		ise_usage_error("--dupes and --output name the same file");
	if (cf->summary && out && !strcmp(cf->summary, out))
		ise_usage_error("--summary and --output name the same file");
	if (cf->summary && cf->dupes && !strcmp(cf->summary, cf->dupes))
		ise_usage_error("--summary and --dupes name the same file");
}

/* The records as read: their lines, ids and places, for the output. */
struct record {
	size_t text, text_len; /* offset of the line in records.bytes, its length */
	size_t id;             /* offset of the NUL-terminated id, or SIZE_MAX */
	size_t index;          /* its place among every record read, rejected ones too */
	const char *file;
	unsigned long line;
};

struct records {
	char *bytes; /* every line and id, one after the other */
	size_t len, cap;
	struct record *recs;
	size_t n, recs_cap;
};

static size_t keep_bytes(struct records *rs, const char *s, size_t n)
{
	size_t at = rs->len;

	ise_xgrow((void **)&rs->bytes, &rs->cap, rs->len + n + 1, 1);
	memcpy(rs->bytes + at, s, n);
	rs->bytes[at + n] = '\0';
	rs->len += n + 1;
	return at;
}

static const char *record_id(const struct records *rs, size_t i)
{
	return rs->recs[i].id == SIZE_MAX ? NULL : rs->bytes + rs->recs[i].id;
}

static cJSON *parse_record(const struct records *rs, size_t i)
{
	cJSON *rec = cJSON_ParseWithLength(rs->bytes + rs->recs[i].text, rs->recs[i].text_len);

	if (!rec)
		ise_fatal("out of memory");
	return rec;
}

/* Read every record; a bad one is reported and left out.  Returns how many
 * were read, the bad ones too. */
static size_t read_all(struct records *rs, struct ise_dedup *d, const struct config *cf,
		       const struct ise_options *o, struct ise_embedder *validate)
{
	struct ise_reader in;
	struct ise_progress progress;
	unsigned long long n = 0, failed = 0;
	cJSON *rec;

	ise_reader_init(&in, o->files, o->nfiles, o->max_line,
			ise_read_flags(o) | ISE_READ_NO_ECHO);
	ise_progress_init(&progress, o->progress, 0);
	while ((rec = ise_reader_next(&in))) {
		const cJSON *idv = cJSON_GetObjectItemCaseSensitive(rec, "id");
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(rec, cf->field);
		const char *id = cJSON_IsString(idv) ? idv->valuestring : NULL;
		char err[512];
		double *v;
		unsigned dim;
		size_t len;
		const char *line = ise_reader_text(&in, &len);
		size_t index = (size_t)n;
		int rc = 0;

		if (!cJSON_IsString(text)) {
			ise_reader_error(&in, "record without a string '%s'", cf->field);
			failed++;
		} else if (o->resume && !id) {
			ise_reader_error(&in, "record without a string 'id' (--resume needs one)");
			failed++;
		} else if (validate && (rc = ise_embed(validate, NULL, (const cJSON *const *)&rec,
						       &index, 1, &v, &dim, err, sizeof err))) {
			const char *why = strstr(err, ": ");
			if (rc == -2)
				ise_fatal("embedding: %s", err);
			ise_reader_error(&in, "%s",
					 why && !strncmp(err, "record ", 7) ? why + 2 : err);
			failed++;
		} else {
			if (validate)
				free(v);
			ise_xgrow((void **)&rs->recs, &rs->recs_cap, rs->n + 1, sizeof *rs->recs);
			struct record *r = &rs->recs[rs->n++];
			r->text = keep_bytes(rs, line, len);
			r->text_len = len;
			r->id = id ? keep_bytes(rs, id, strlen(id)) : SIZE_MAX;
			r->index = index;
			r->file = in.name;
			r->line = in.line;
			ise_dedup_add(d, text->valuestring, strlen(text->valuestring));
		}
		cJSON_Delete(rec);
		ise_progress_update(&progress, ++n, failed,
				    in.bytes_total ? (double)in.bytes_read / (double)in.bytes_total
						   : -1);
	}
	ise_progress_end(&progress, n, failed);
	int stopped = in.stopped; /* --strict: no output */
	ise_reader_release(&in);
	if (stopped)
		exit(ise_status());
	return (size_t)n;
}

/* The semantic pass: embed the survivors a batch at a time.  A survivor that
 * cannot be embedded is reported, stays kept and is left out of the pass
 * (with --strict, the run stops there, before any output). */
#define EMBED_BATCH 4096

static void semantic_pass(struct ise_dedup *d, const struct records *rs, struct ise_embedder *e,
			  const struct config *cf, const struct ise_options *o)
{
	size_t *idx, m = ise_dedup_survivors(d, &idx), first = 0;
	double *x = NULL;
	unsigned dim = 0;
	int needs_text = ise_embedder_needs_text(e), needs_record = ise_embedder_needs_record(e);

	while (first < m) {
		size_t n = m - first < EMBED_BATCH ? m - first : EMBED_BATCH;
		const char **texts = ise_xcalloc(n, sizeof *texts);
		cJSON **recs = ise_xcalloc(n, sizeof *recs);
		size_t *index = ise_xcalloc(n, sizeof *index);
		double *v;
		unsigned vdim;
		char err[1024];

		for (size_t k = 0; k < n; k++) {
			if (needs_text)
				texts[k] = ise_dedup_text(d, idx[first + k]);
			if (needs_record)
				recs[k] = parse_record(rs, idx[first + k]);
			index[k] = rs->recs[idx[first + k]].index;
		}
		int rc = ise_embed(e, texts, (const cJSON *const *)recs, index, n, &v, &vdim, err,
				   sizeof err);
		for (size_t k = 0; k < n; k++)
			cJSON_Delete(recs[k]);
		free(texts);
		free(recs);
		free(index);
		if (rc == -2)
			ise_fatal("embedding: %s", err);
		if (!rc) {
			if (!x) {
				dim = vdim;
				x = ise_xmalloc(m * (size_t)dim * sizeof *x);
			}
			memcpy(x + first * dim, v, n * (size_t)dim * sizeof *x);
			free(v);
			first += n;
			continue;
		}
		/* report the record (or the batch) the embedder rejected, take it
		 * out and embed the rest again */
		long bad = ise_embedder_bad_record(e);
		size_t from = bad >= 0 ? first + (size_t)bad : first,
		       to = bad >= 0 ? from + 1 : first + n;
		const char *why = bad >= 0 && strstr(err, ": ") ? strstr(err, ": ") + 2 : err;
		for (size_t k = from; k < to; k++) {
			const struct record *r = &rs->recs[idx[k]];
			ise_record_error(r->file, r->line, 0, "no vector for --semantic (%s), kept",
					 why);
		}
		if (o->strict)
			exit(ise_status());
		memmove(idx + from, idx + to, (m - to) * sizeof *idx);
		m -= to - from;
	}
	ise_dedup_semantic(d, idx, m, x, dim, cf->cosine);
	free(idx);
}

struct outputs {
	struct ise_writer out, dupes;
	struct ise_idset done, done_dupes;
	int has_dupes;
};

static void write_outputs(struct ise_dedup *d, const struct records *rs, const struct config *cf,
			  const struct ise_options *o)
{
	struct outputs w = {0};
	cJSON *empty = cJSON_CreateObject();

	if (!empty)
		ise_fatal("out of memory");
	/* the dupes file is unbuffered, so the fatal hook, which flushes the
	 * last writer opened, covers both */
	ise_idset_init(&w.done_dupes);
	if (cf->dupes) {
		struct ise_options fo = *o;
		fo.output = cf->dupes;
		ise_idset_release(&w.done_dupes);
		ise_output_open(&fo, &w.dupes, ISE_WRITE_UNBUFFERED, &w.done_dupes);
		w.has_dupes = 1;
	}
	ise_output_open(o, &w.out, 0, &w.done);
	for (size_t i = 0; i < rs->n; i++) {
		const struct record *r = &rs->recs[i];
		const char *id = record_id(rs, i), *text = rs->bytes + r->text;
		size_t k = ise_dedup_kept(d, i);
		if (k == i) {
			/* nothing added: the line goes out as it came in */
			if (!(id && ise_idset_has(&w.done, id)))
				ise_writer_put_extended(&w.out, text, r->text_len, empty, empty);
			continue;
		}
		if (!w.has_dupes || (id && ise_idset_has(&w.done_dupes, id)))
			continue;
		cJSON *rec = parse_record(rs, i), *added = cJSON_CreateObject();
		const char *kid = record_id(rs, k);
		if (!added ||
		    !(kid ? cJSON_AddStringToObject(added, "duplicate_of", kid)
			  : cJSON_AddNullToObject(added, "duplicate_of")) ||
		    !cJSON_AddNumberToObject(added, "similarity", ise_dedup_similarity(d, i)) ||
		    !cJSON_AddStringToObject(added, "rule",
					     ise_dedup_rule_name(ise_dedup_rule(d, i))))
			ise_fatal("out of memory");
		ise_writer_put_extended(&w.dupes, text, r->text_len, rec, added);
		cJSON_Delete(added);
		cJSON_Delete(rec);
	}
	ise_writer_close(&w.out);
	if (w.has_dupes)
		ise_writer_close(&w.dupes);
	ise_idset_release(&w.done);
	ise_idset_release(&w.done_dupes);
	cJSON_Delete(empty);
}

static void write_summary(const char *path, const cJSON *s)
{
	char *text = cJSON_PrintUnformatted(s);
	FILE *f = fopen(path, "w");

	if (!text)
		ise_fatal("out of memory");
	if (!f)
		ise_fatal("cannot open '%s' for writing: %s", path, strerror(errno));
	if (fprintf(f, "%s\n", text) < 0 || fclose(f))
		ise_fatal("write error on %s: %s", path, strerror(errno));
	cJSON_free(text);
}

int main(int argc, char **argv)
{
	static struct config cf = {
	    .field = "natural_language_intent",
	    .dedup = {.ngram = 5, .perm = 128, .threshold = 0.7},
	};
	struct ise_options o;
	struct ise_dedup d;
	struct records rs = {0};
	struct ise_embedder *e = NULL;
	double start = ise_now();
	char line[1024], err[1024];

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	ise_output_check(&o, "--dupes", cf.dupes);
	ise_output_check(&o, "--summary", cf.summary);
	check_options(&cf, &o);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN); /* the result does not depend on it */
	cf.dedup.jobs = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
	cf.dedup.seed = o.seed;
	if (cf.semantic)
		e = ise_embed_start(&cf.embed, &o);

	ise_dedup_init(&d, &cf.dedup);
	size_t nread = read_all(&rs, &d, &cf, &o, e && ise_embedder_needs_record(e) ? e : NULL);
	if (e && ise_embedder_check_count(e, nread, err, sizeof err))
		ise_fatal("%s", err);
	ise_dedup_run(&d);
	if (cf.semantic) {
		semantic_pass(&d, &rs, e, &cf, &o);
		if (ise_embedder_save(e, nread, err, sizeof err))
			ise_fatal("%s", err);
		d.embedder = ise_embedder_name(e);
	}
	ise_dedup_finish(&d);
	write_outputs(&d, &rs, &cf, &o);
	d.seconds = ise_now() - start;
	if (cf.summary) {
		cJSON *s = ise_dedup_summary(&d);
		cJSON_AddStringToObject(s, "field", cf.field);
		write_summary(cf.summary, s);
		cJSON_Delete(s);
	}
	if (!cf.quiet) {
		ise_dedup_summary_line(&d, line, sizeof line);
		ise_warn("%s", line);
	}
	ise_embedder_free(e);
	ise_dedup_release(&d);
	free(rs.bytes);
	free(rs.recs);
	return ise_status();
}
