/*
 * ise-export: trajectories in, the files SFT trainers read out (OpenAI
 * fine-tuning, LLaMA-Factory's sharegpt, TRL/axolotl messages, Qwen3 text
 * with spans), with selection, stable splits, a dataset card and
 * LLaMA-Factory's dataset_info.json entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/cli.h"
#include "app/resume.h"
#include "core/diag.h"
#include "core/idset.h"
#include "core/jsondoc.h"
#include "core/jsonl.h"
#include "core/progress.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "export/card.h"
#include "export/datasetinfo.h"
#include "export/export.h"
#include "export/select.h"
#include "export/split.h"
#include "export/weights.h"

enum {
	OPT_FORMAT = 'f',
	OPT_THINK = 0x200,
	OPT_PER_TURN,
	OPT_ARGUMENTS,
	OPT_WEIGHT_ZERO,
	OPT_NO_ID,
	OPT_VERIFIED_ONLY,
	OPT_CLEAN_ONLY,
	OPT_SPLIT,
	OPT_DATASET_INFO,
	OPT_CARD,
	OPT_SUMMARY,
	OPT_LANGUAGE,
};

struct config {
	struct ise_export_config x;
	int format_given, arguments_given;
	unsigned selection;
	const char *split, *dataset_info, *card, *summary, *language;
};

static const struct option options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"think", required_argument, NULL, OPT_THINK},
    {"per-turn", no_argument, NULL, OPT_PER_TURN},
    {"arguments", required_argument, NULL, OPT_ARGUMENTS},
    {"weight-zero", required_argument, NULL, OPT_WEIGHT_ZERO},
    {"no-id", no_argument, NULL, OPT_NO_ID},
    {"verified-only", no_argument, NULL, OPT_VERIFIED_ONLY},
    {"clean-only", no_argument, NULL, OPT_CLEAN_ONLY},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"dataset-info", required_argument, NULL, OPT_DATASET_INFO},
    {"card", required_argument, NULL, OPT_CARD},
    {"summary", required_argument, NULL, OPT_SUMMARY},
    {"language", required_argument, NULL, OPT_LANGUAGE},
    {0},
};

static const struct ise_cli cli = {
    .synopsis =
	"--format openai|sharegpt|messages|qwen3 [--think keep|drop|last]\n"
	"       [--per-turn] [--arguments string|object] [--weight-zero CHECKS] [--no-id]\n"
	"       [--verified-only] [--clean-only] [--split NAME=F,...] [--dataset-info NAME]\n"
	"       [--card FILE [--summary FILE] [--language LIST]] [-s N]\n"
	"       [-o FILE|DIR [--resume]] [--strict] [--max-line SIZE] [--progress] [FILE...]",
    .about = "Write the trajectories of FILE... as the samples an SFT trainer reads, one a line.",
    .help = "  -f, --format=F      openai, sharegpt (LLaMA-Factory), messages (TRL, axolotl)\n"
	    "                      or qwen3 (text and spans)\n"
	    "      --think=MODE    reasoning: keep (default), drop, or last (only after the\n"
	    "                      last user request)\n"
	    "      --per-turn      one sample a user turn, the turns before it as history\n"
	    "      --arguments=A   messages, qwen3: calls' arguments as JSON text (string)\n"
	    "                      or objects (object)\n"
	    "      --weight-zero=CHECKS  openai, qwen3: do not train the turns these audit\n"
	    "                      checks flagged (role_drift,stagnation,integrity,secrets,\n"
	    "                      text_tool_calls,all)\n"
	    "      --no-id         write samples without their id\n"
	    "      --verified-only only trajectories whose tasks' checks passed\n"
	    "      --clean-only    only trajectories ise-audit flagged nothing in\n"
	    "      --split=SPEC    e.g. train=0.95,validation=0.05: -o names a folder, one\n"
	    "                      file a split, by a stable hash of each trajectory's id\n"
	    "      --dataset-info=NAME  sharegpt: add NAME to dataset_info.json beside the data\n"
	    "      --card=FILE     write a dataset card (README.md) for the data\n"
	    "      --summary=FILE  the ise-audit --summary output the card reports\n"
	    "      --language=LIST the card's languages (default en)\n",
    .options = options,
    .shortopts = "f:",
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_PROGRESS,
};

static int pick(const char *opt, const char *arg, const char *const *names, int n)
{
	for (int k = 0; k < n; k++)
		if (!strcmp(arg, names[k]))
			return k;
	ise_usage_error("invalid value for %s: '%s'", opt, arg);
}

static void handle(int opt, const char *arg, void *ctx)
{
	static const char *const formats[] = {"openai", "sharegpt", "messages", "qwen3"};
	static const char *const thinks[] = {"keep", "drop", "last"};
	static const char *const arguments[] = {"string", "object"};
	struct config *cf = ctx;

	switch (opt) {
	case OPT_FORMAT:
		cf->x.format = (enum ise_export_format)pick("--format", arg, formats, 4);
		cf->format_given = 1;
		break;
	case OPT_THINK:
		cf->x.think = (enum ise_export_think)pick("--think", arg, thinks, 3);
		break;
	case OPT_PER_TURN:
		cf->x.per_turn = 1;
		break;
	case OPT_ARGUMENTS:
		cf->x.arguments_object = pick("--arguments", arg, arguments, 2);
		cf->arguments_given = 1;
		break;
	case OPT_WEIGHT_ZERO:
		if (!(cf->x.weight_zero = ise_weights_parse_checks(arg)))
			ise_usage_error("invalid value for --weight-zero: '%s' (role_drift, "
					"stagnation, integrity, secrets, text_tool_calls or all, "
					"with commas)",
					arg);
		break;
	case OPT_NO_ID:
		cf->x.no_id = 1;
		break;
	case OPT_VERIFIED_ONLY:
		cf->selection |= ISE_SELECT_VERIFIED;
		break;
	case OPT_CLEAN_ONLY:
		cf->selection |= ISE_SELECT_CLEAN;
		break;
	case OPT_SPLIT:
		cf->split = arg;
		break;
	case OPT_DATASET_INFO:
		cf->dataset_info = ise_parse_field("--dataset-info", arg);
		break;
	case OPT_CARD:
		cf->card = ise_parse_field("--card", arg);
		break;
	case OPT_SUMMARY:
		cf->summary = ise_parse_field("--summary", arg);
		break;
	case OPT_LANGUAGE:
		if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789-,") != strlen(arg))
			ise_usage_error("invalid value for --language: '%s' (codes such as en "
					"or en,zh)",
					arg);
		cf->language = arg;
		break;
	}
}

static void check_options(struct config *cf, const struct ise_options *o)
{
	enum ise_export_format f = cf->x.format;
	int to_file = o->output && strcmp(o->output, "-");

	if (!cf->format_given)
		ise_usage_error("--format is needed (openai, sharegpt, messages or qwen3)");
	if (cf->arguments_given && f != ISE_EXPORT_MESSAGES && f != ISE_EXPORT_QWEN3)
		ise_usage_error("--arguments goes with --format messages or qwen3 (openai writes "
				"text, sharegpt objects)");
	if (!cf->arguments_given)
		cf->x.arguments_object = f == ISE_EXPORT_QWEN3;
	if (cf->x.weight_zero && f != ISE_EXPORT_OPENAI && f != ISE_EXPORT_QWEN3)
		ise_usage_error("--weight-zero goes with --format openai or qwen3");
	if (cf->dataset_info && f != ISE_EXPORT_SHAREGPT)
		ise_usage_error("--dataset-info goes with --format sharegpt");
	if ((cf->split || cf->dataset_info || cf->card) && !to_file)
		ise_usage_error("--%s needs -o", cf->split          ? "split"
						 : cf->dataset_info ? "dataset-info"
								    : "card");
	if ((cf->summary || cf->language) && !cf->card)
		ise_usage_error("--summary and --language go with --card");
	if (o->resume && cf->x.no_id)
		ise_usage_error("--resume finds what was written by its ids: not with --no-id");
	if (cf->card && cf->summary && !strcmp(cf->card, cf->summary))
		ise_usage_error("--card and --summary name the same file");
}

/* Where the samples go: one file, or one a split. */
struct outputs {
	struct ise_split split;
	size_t n;
	char *paths[ISE_SPLIT_MAX];
	struct ise_writer w[ISE_SPLIT_MAX];
	struct ise_idset done[ISE_SPLIT_MAX];
};

static struct outputs outs;

static void flush_all(void)
{
	for (size_t k = 0; k < outs.n; k++)
		ise_writer_flush(&outs.w[k]);
}

/* Whether the paths name one file (or one that would be made). */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!stat(a, &sa) && !stat(b, &sb))
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	return !strcmp(a, b);
}

/* The card and the summary are not one of the data files. */
static void check_files(const struct config *cf, const char *path)
{
	if (cf->card && same_file(cf->card, path))
		ise_usage_error("--card: %s is also a data file", cf->card);
	if (cf->summary && same_file(cf->summary, path))
		ise_usage_error("--summary: %s is also a data file: it would be lost", cf->summary);
}

static void open_outputs(const struct config *cf, const struct ise_options *o)
{
	char err[512];
	struct ise_options fo = *o;

	if (!cf->split) {
		outs.n = 1;
		outs.paths[0] = o->output && strcmp(o->output, "-") ? ise_xstrdup(o->output) : NULL;
		if (outs.paths[0])
			check_files(cf, outs.paths[0]);
		ise_output_open(o, &outs.w[0], 0, &outs.done[0]);
		return;
	}
	if (ise_split_parse(&outs.split, cf->split, err, sizeof err))
		ise_usage_error("invalid value for --split: %s", err);
	if (mkdir(o->output, 0777) && errno != EEXIST)
		ise_fatal("cannot make the folder '%s': %s", o->output, strerror(errno));
	for (size_t k = 0; k < outs.split.n; k++) {
		struct ise_strbuf path = {0};
		ise_sb_printf(&path, "%s/%s.jsonl", o->output, outs.split.names[k]);
		ise_output_check(o, "-o", path.s);
		check_files(cf, path.s);
		outs.paths[k] = path.s;
	}
	for (size_t k = 0; k < outs.split.n; k++) {
		fo.output = outs.paths[k];
		ise_output_open(&fo, &outs.w[k], 0, &outs.done[k]);
		outs.n++;
	}
	ise_on_fatal(flush_all);
}

struct run {
	struct config cf;
	struct ise_options o;
	struct ise_exporter x;
	struct ise_card_counts engines;
	unsigned long long read, bad, unselected;
	unsigned has;   /* enum ise_select: the fields some record had */
	cJSON *summary; /* --summary */
};

/* Export one record; 0 when it is a bad record. */
static int export_record(struct run *r, struct ise_reader *in, const cJSON *rec)
{
	char err[1024];
	size_t len, k = 0;
	const char *id;

	r->read++;
	if (r->o.resume && !ise_conv_record_id(rec)) {
		ise_reader_error(in, "record without a string 'id' (--resume needs one)");
		return 0;
	}
	if (!ise_select_keeps(rec, r->cf.selection, &r->has)) {
		r->unselected++;
		return 1;
	}
	if (ise_exporter_run(&r->x, rec, err, sizeof err)) {
		ise_reader_error(in, "%s", err);
		return 0;
	}
	ise_card_counts_add(&r->engines,
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "engine")));
	if (r->cf.split) {
		const char *key = r->x.conv.id;
		key = key ? key : ise_reader_text(in, &len);
		k = ise_split_of(&outs.split, r->o.seed, key, r->x.conv.id ? strlen(key) : len);
	}
	for (size_t s = 0; s < r->x.nsamples; s++) {
		const char *line = ise_exporter_sample(&r->x, s, &len, &id);
		if (!(id && ise_idset_has(&outs.done[k], id)))
			ise_writer_put_text(&outs.w[k], line, len);
	}
	return 1;
}

/* The name of the data: the output's, without its folder and extension. */
static char *data_name(const char *output)
{
	char *name = ise_xstrdup(output);
	size_t n = strlen(name);

	while (n > 1 && name[n - 1] == '/') /* "dir/" */
		name[--n] = '\0';
	char *base = strrchr(name, '/');
	if (base && base[1])
		memmove(name, base + 1, strlen(base + 1) + 1);
	char *dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	return name;
}

static void write_dataset_info(const struct run *r)
{
	char err[1024];

	if (ise_dataset_info_write(r->cf.dataset_info,
				   r->cf.split ? (const char *const *)outs.split.names : NULL,
				   (const char *const *)outs.paths, outs.n, err, sizeof err))
		ise_fatal("%s", err);
}

static void write_card(const struct run *r, int argc, char **argv)
{
	struct ise_card_split splits[ISE_SPLIT_MAX];
	const char *languages[64];
	struct ise_strbuf command = {0};
	char *langs = ise_xstrdup(r->cf.language ? r->cf.language : "en"), err[1024];
	char *title = r->cf.dataset_info ? ise_xstrdup(r->cf.dataset_info) : data_name(r->o.output);
	struct ise_card card = {
	    .title = title,
	    .cf = &r->x.cf,
	    .languages = languages,
	    .splits = splits,
	    .nsplits = outs.n,
	    .summary = r->summary,
	    .stats = r->x.stats,
	    .read = r->read,
	    .bad = r->bad,
	    .unselected = r->unselected,
	    .engines = &r->engines,
	};

	for (char *l = langs; *l && card.nlanguages < 64;) {
		size_t len = strcspn(l, ",");
		if (len)
			languages[card.nlanguages++] = l;
		l += len;
		if (*l)
			*l++ = '\0';
	}
	for (size_t k = 0; k < outs.n; k++) {
		splits[k].name = r->cf.split ? outs.split.names[k] : "train";
		splits[k].path = outs.paths[k];
		if (ise_card_measure(outs.paths[k], &splits[k], err, sizeof err))
			ise_fatal("%s", err);
	}
	for (int k = 0; k < argc; k++)
		ise_sb_printf(&command, "%s%s", k ? " " : "", argv[k]);
	card.command = command.s;
	if (ise_card_write(r->cf.card, &card, err, sizeof err))
		ise_fatal("%s", err);
	free(command.s);
	free(langs);
	free(title);
}

static void warn_empty_selection(const struct run *r)
{
	if ((r->cf.selection & ISE_SELECT_VERIFIED) && !(r->has & ISE_SELECT_VERIFIED) && r->read)
		ise_warn("--verified-only: no record has a 'verification' (ise-sim --verify), so "
			 "none was kept");
	if ((r->cf.selection & ISE_SELECT_CLEAN) && !(r->has & ISE_SELECT_CLEAN) && r->read)
		ise_warn("--clean-only: no record has an 'audit' (ise-audit), so none was kept");
	if (r->x.stats.no_audit)
		ise_warn("--weight-zero: %llu records have no 'audit' (ise-audit): all their turns "
			 "are trained",
			 r->x.stats.no_audit);
}

int main(int argc, char **argv)
{
	static struct run r;
	struct ise_reader in;
	struct ise_progress progress;
	unsigned long long n = 0, failed = 0;
	cJSON *rec;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &r.o, handle, &r.cf);
	check_options(&r.cf, &r.o);
	ise_output_check(&r.o, "--card", r.cf.card);
	if (r.cf.summary) { /* read first: a file that will not do stops the run before it begins */
		r.summary = ise_jsondoc_load(r.cf.summary, NULL, 0, NULL);
		if (!cJSON_IsObject(r.summary))
			ise_usage_error(
			    "--summary: %s is not the object ise-audit --summary writes",
			    r.cf.summary);
	}

	ise_exporter_init(&r.x, &r.cf.x);
	open_outputs(&r.cf, &r.o);
	ise_reader_init(&in, r.o.files, r.o.nfiles, r.o.max_line, ise_read_flags(&r.o));
	if (outs.n == 1)
		ise_reader_flush_on_wait(&in, &outs.w[0]);
	ise_progress_init(&progress, r.o.progress, 0);
	while ((rec = ise_reader_next(&in))) {
		failed += !export_record(&r, &in, rec);
		cJSON_Delete(rec);
		ise_progress_update(&progress, ++n, failed,
				    in.bytes_total ? (double)in.bytes_read / (double)in.bytes_total
						   : -1);
	}
	ise_progress_end(&progress, n, failed);
	ise_reader_release(&in);
	r.bad = failed;
	for (size_t k = 0; k < outs.n; k++) {
		ise_writer_close(&outs.w[k]);
		ise_idset_release(&outs.done[k]);
	}
	ise_on_fatal(NULL);
	warn_empty_selection(&r);
	if (r.cf.dataset_info)
		write_dataset_info(&r);
	if (r.cf.card)
		write_card(&r, argc, argv);
	for (size_t k = 0; k < outs.n; k++)
		free(outs.paths[k]);
	ise_card_counts_release(&r.engines);
	ise_split_release(&outs.split);
	ise_exporter_release(&r.x);
	cJSON_Delete(r.summary);
	return ise_status();
}
