/*
 * ise-audit: flag role drift, stagnation, broken tool calls, secrets and
 * tool calls left as text in trajectories, and sum up a corpus (the
 * paper's Table 3, tool structure, flag rates).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "app/cli.h"
#include "audit/corpus.h"
#include "audit/passk.h"
#include "core/diag.h"
#include "core/idset.h"
#include "core/jsondoc.h"
#include "core/jsonl.h"
#include "core/lexicon.h"
#include "core/progress.h"
#include "app/resume.h"

enum {
	OPT_STAGNATION = 0x200,
	OPT_REDACT,
	OPT_DROP_FLAGGED,
	OPT_FLAGGED,
	OPT_SUMMARY,
	OPT_REJECTS,
	OPT_MATRIX,
	OPT_LEXICON,
};

struct config {
	size_t stagnation;
	int redact, drop_flagged, summary;
	const char *flagged, *rejects, *matrix, *lexicon;
};

static const struct option options[] = {
    {"stagnation", required_argument, NULL, OPT_STAGNATION},
    {"redact", no_argument, NULL, OPT_REDACT},
    {"drop-flagged", no_argument, NULL, OPT_DROP_FLAGGED},
    {"flagged", required_argument, NULL, OPT_FLAGGED},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"matrix", required_argument, NULL, OPT_MATRIX},
    {"lexicon", required_argument, NULL, OPT_LEXICON},
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[--stagnation N] [--lexicon FILE] [--redact] [--drop-flagged]\n"
		"       [--flagged FILE] [--matrix FILE] [-o FILE [--resume]] [--strict]\n"
		"       [--max-line SIZE] [--progress] [-s N] [FILE...]\n"
		"   or: ise-audit --summary [--rejects FILE] [--matrix FILE] [--stagnation N]\n"
		"       [--lexicon FILE] [-o FILE] [options] [FILE...]",
    .about = "Add an 'audit' object to each trajectory in FILE... (role drift, stagnation,\n"
	     "tool-call integrity, secrets, tool calls left as text), or with --summary\n"
	     "write corpus statistics.",
    .help = "      --stagnation=N  identical consecutive calls that flag (default 3)\n"
	    "      --lexicon=FILE  role-drift phrases (default: built in)\n"
	    "      --redact        replace each secret by [REDACTED:KIND] in the output\n"
	    "      --drop-flagged  write only clean trajectories\n"
	    "      --flagged=FILE  also write flagged trajectories to FILE\n"
	    "      --summary       write one JSON object of corpus statistics instead\n"
	    "      --rejects=FILE  rejected trajectories, for the completion rate\n"
	    "      --matrix=FILE   write the tool co-occurrence matrix to FILE as TSV\n",
    .options = options,
    .shortopts = "",
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_PROGRESS,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	switch (opt) {
	case OPT_STAGNATION:
		cf->stagnation = (size_t)ise_parse_uint("--stagnation", arg, 2, 1000000);
		break;
	case OPT_REDACT:
		cf->redact = 1;
		break;
	case OPT_DROP_FLAGGED:
		cf->drop_flagged = 1;
		break;
	case OPT_FLAGGED:
		cf->flagged = arg;
		break;
	case OPT_SUMMARY:
		cf->summary = 1;
		break;
	case OPT_REJECTS:
		cf->rejects = arg;
		break;
	case OPT_MATRIX:
		cf->matrix = arg;
		break;
	case OPT_LEXICON:
		cf->lexicon = arg;
		break;
	}
}

static void check_options(const struct config *cf, const struct ise_options *o)
{
	if (cf->summary && (cf->redact || cf->drop_flagged || cf->flagged || o->resume))
		ise_usage_error("--summary writes no records: it cannot be combined with "
				"--redact, --drop-flagged, --flagged or --resume");
	if (cf->rejects && !cf->summary)
		ise_usage_error("--rejects needs --summary");
	if (cf->flagged && o->output && !strcmp(cf->flagged, o->output))
		ise_usage_error("--flagged and --output name the same file");
}

/* Records in the rejects file, for the completion rate; their
 * verifications are trials too. */
static unsigned long long count_rejects(const char *path, const struct ise_options *o,
					struct ise_passk *passk)
{
	char *files[] = {(char *)path};
	struct ise_reader in;
	unsigned long long n = 0;
	cJSON *rec;

	ise_reader_init(&in, files, 1, o->max_line, o->strict ? ISE_READ_STRICT : 0);
	while ((rec = ise_reader_next(&in))) {
		n++;
		ise_passk_add(passk, rec);
		cJSON_Delete(rec);
	}
	ise_reader_release(&in);
	return n;
}

static void write_matrix(const char *path, const struct ise_corpus *corpus)
{
	FILE *f = fopen(path, "w");

	if (!f)
		ise_fatal("cannot open '%s' for writing: %s", path, strerror(errno));
	if (ise_corpus_write_matrix(corpus, f) || fclose(f))
		ise_fatal("write error on %s: %s", path, strerror(errno));
}

struct outputs {
	struct ise_writer out, flagged;
	struct ise_idset done, done_flagged;
	int has_flagged;
};

static void open_outputs(struct outputs *w, const struct config *cf, const struct ise_options *o)
{
	/* the flagged file is unbuffered (flagged records are few), so the
	 * fatal hook, which flushes the last writer opened, covers both */
	memset(w, 0, sizeof *w);
	ise_idset_init(&w->done_flagged);
	if (cf->flagged) {
		struct ise_options fo = *o;
		fo.output = cf->flagged;
		ise_idset_release(&w->done_flagged);
		ise_output_open(&fo, &w->flagged, ISE_WRITE_UNBUFFERED, &w->done_flagged);
		w->has_flagged = 1;
	}
	ise_output_open(o, &w->out, 0, &w->done);
}

static void close_outputs(struct outputs *w)
{
	ise_writer_close(&w->out);
	if (w->has_flagged)
		ise_writer_close(&w->flagged);
	ise_idset_release(&w->done);
	ise_idset_release(&w->done_flagged);
}

struct run {
	struct config cf;
	struct ise_options o;
	struct ise_auditor auditor;
	struct ise_corpus corpus;
	struct ise_passk *passk; /* --summary: the trials' verifications */
	struct outputs w;
	int stats;
	char *text; /* a record's text without its old audit */
	size_t text_cap;
};

/* Already written by an earlier run (--resume)?  A record counts as done
 * when it is in every file it could go to. */
static int done_before(const struct run *r, const char *id)
{
	int in_out = ise_idset_has(&r->w.done, id);
	int in_flagged = r->w.has_flagged && ise_idset_has(&r->w.done_flagged, id);

	return (in_out && (!r->w.has_flagged || in_flagged)) || (r->cf.drop_flagged && in_flagged);
}

/* Write the record with its audit to each file it belongs in (and is not in
 * yet): the input's bytes with "audit" added, or, when --redact changed the
 * record, the record re-serialised. */
static void write_record(struct run *r, cJSON *rec, cJSON *audit, const char *text, size_t len,
			 const char *id)
{
	int flagged = r->auditor.facts.flags != 0;
	int redacted = r->cf.redact && r->auditor.facts.secrets && ise_audit_redact(rec) > 0;
	int to_flagged =
	    flagged && r->w.has_flagged && !(id && ise_idset_has(&r->w.done_flagged, id));
	int to_out = !(flagged && r->cf.drop_flagged) && !(id && ise_idset_has(&r->w.done, id));
	cJSON *added = cJSON_CreateObject();

	if (!added)
		ise_fatal("out of memory");
	if (!redacted && cJSON_GetObjectItemCaseSensitive(rec, "audit")) {
		/* audited before: drop the old audit from the text, keep the rest */
		size_t n = ise_audit_text_without(text, len, "audit", &r->text, &r->text_cap);
		if (n) {
			text = r->text;
			len = n;
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "audit");
		}
	}
	if (redacted) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "audit");
		cJSON_AddItemToObject(rec, "audit", audit);
	} else {
		cJSON_AddItemToObject(added, "audit", audit);
	}
	if (to_flagged && redacted)
		ise_writer_put(&r->w.flagged, rec);
	else if (to_flagged)
		ise_writer_put_extended(&r->w.flagged, text, len, rec, added);
	if (to_out && redacted)
		ise_writer_put(&r->w.out, rec);
	else if (to_out)
		ise_writer_put_extended(&r->w.out, text, len, rec, added);
	cJSON_Delete(added);
}

/* Audit one record; 0 when it is a bad record. */
static int audit_record(struct run *r, cJSON *rec, struct ise_reader *in)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(rec, "id");
	const char *id = cJSON_IsString(idv) ? idv->valuestring : NULL, *why = NULL;
	size_t len;
	const char *text = ise_reader_text(in, &len);

	if (r->o.resume && !id) {
		ise_reader_error(in, "record without a string 'id' (--resume needs one)");
		return 0;
	}
	if (!r->cf.summary && id && done_before(r, id))
		return 1;
	cJSON *audit = ise_audit(&r->auditor, rec, &why);
	if (!audit) {
		ise_reader_error(in, "%s", why);
		return 0;
	}
	if (r->stats)
		ise_corpus_add(&r->corpus, &r->auditor.facts);
	if (r->passk)
		ise_passk_add(r->passk, rec);
	if (r->cf.summary)
		cJSON_Delete(audit);
	else
		write_record(r, rec, audit, text, len, id);
	return 1;
}

int main(int argc, char **argv)
{
	static struct run r = {.cf = {.stagnation = 3}};
	struct ise_lexicon lexicon;
	struct ise_reader in;
	struct ise_progress progress;
	unsigned long long n = 0, failed = 0;
	cJSON *rec;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &r.o, handle, &r.cf);
	ise_output_check(&r.o, "--flagged", r.cf.flagged);
	ise_output_check(&r.o, "--matrix", r.cf.matrix);
	check_options(&r.cf, &r.o);
	r.stats = r.cf.summary || r.cf.matrix;

	ise_lexicon_load(&lexicon, r.cf.lexicon);
	ise_auditor_init(&r.auditor, &lexicon, r.cf.stagnation);
	if (r.stats)
		ise_corpus_init(&r.corpus);
	if (r.cf.summary)
		r.passk = ise_passk_new();
	if (!r.cf.summary)
		open_outputs(&r.w, &r.cf, &r.o);
	ise_reader_init(&in, r.o.files, r.o.nfiles, r.o.max_line, ise_read_flags(&r.o));
	if (!r.cf.summary)
		ise_reader_flush_on_wait(&in, &r.w.out);
	ise_progress_init(&progress, r.o.progress, 0);
	while ((rec = ise_reader_next(&in))) {
		failed += !audit_record(&r, rec, &in);
		cJSON_Delete(rec);
		ise_progress_update(&progress, ++n, failed,
				    in.bytes_total ? (double)in.bytes_read / (double)in.bytes_total
						   : -1);
	}
	ise_progress_end(&progress, n, failed);
	ise_reader_release(&in);

	if (r.cf.summary) {
		struct ise_writer out;
		if (r.cf.rejects)
			ise_corpus_set_rejects(&r.corpus,
					       count_rejects(r.cf.rejects, &r.o, r.passk));
		cJSON *summary = ise_corpus_summary(&r.corpus);
		cJSON *v = ise_passk_summary(r.passk);
		ise_json_add(summary, "verification", v ? v : cJSON_CreateNull());
		ise_passk_free(r.passk);
		ise_writer_open(&out, r.o.output, 0);
		ise_writer_put(&out, summary);
		ise_writer_close(&out);
		cJSON_Delete(summary);
	} else {
		close_outputs(&r.w);
	}
	if (r.cf.matrix)
		write_matrix(r.cf.matrix, &r.corpus);
	if (r.stats)
		ise_corpus_release(&r.corpus);
	ise_auditor_release(&r.auditor);
	ise_lexicon_release(&lexicon);
	free(r.text);
	return ise_status();
}
