/*
 * ise-sample: draw structured intent tuples (persona, domains, tasks,
 * complexity) from a persona pool and the task catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/catalog.h"
#include "app/cli.h"
#include "core/diag.h"
#include "core/idset.h"
#include "core/jsonl.h"
#include "gen/persona.h"
#include "core/progress.h"
#include "app/resume.h"
#include "gen/sample.h"
#include "core/xalloc.h"

enum {
	OPT_START = 0x200,
	OPT_DOMAINS,
	OPT_TASKS,
	OPT_COMPLEXITY,
	OPT_CATALOG,
	OPT_SPACE,
};

struct config {
	uint64_t count, start;
	int count_given, space;
	const char *personas, *catalog, *domains, *tasks, *complexity;
};

static const struct option options[] = {
    {"personas", required_argument, NULL, 'p'},
    {"count", required_argument, NULL, 'n'},
    {"start", required_argument, NULL, OPT_START},
    {"domains", required_argument, NULL, OPT_DOMAINS},
    {"tasks", required_argument, NULL, OPT_TASKS},
    {"complexity", required_argument, NULL, OPT_COMPLEXITY},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"space", no_argument, NULL, OPT_SPACE},
    {0},
};

static const struct ise_cli cli = {
    .synopsis = "[-p FILE] -n N [--start K] [--domains A-B] [--tasks A-B]\n"
		"       [--complexity SPEC] [--catalog FILE] [-s N] [-o FILE [--resume]]\n"
		"       [--strict] [--max-line SIZE] [--progress] [FILE...]\n"
		"   or: ise-sample --space [-p FILE] [options] [FILE...]",
    .about = "Draw N intent tuples (persona, 2-3 domains, 3-6 tasks, complexity) from the\n"
	     "persona pool in FILE (-p, or the operands, or standard input) and the catalog.",
    .help = "  -p, --personas=FILE persona pool (JSON Lines, e.g. from ise-persona)\n"
	    "  -n, --count=N       tuples to draw\n"
	    "      --start=K       first record number (default 0): K..K+N-1 of one long run\n"
	    "      --domains=A-B   domains per tuple (default 2-3)\n"
	    "      --tasks=A-B     tasks per tuple, at least one per domain (default 3-6)\n"
	    "      --complexity=SPEC  prior (default simple=10,medium=40,complex=50)\n"
	    "      --catalog=FILE  task catalog (default: built in)\n"
	    "      --space         print the size of the sampling space and exit\n",
    .options = options,
    .shortopts = "p:n:",
    .common = ISE_OPT_INPUT | ISE_OPT_OUTPUT | ISE_OPT_SEED | ISE_OPT_PROGRESS,
};

static void handle(int opt, const char *arg, void *ctx)
{
	struct config *cf = ctx;

	switch (opt) {
	case 'p':
		cf->personas = arg;
		break;
	case 'n':
		cf->count = ise_parse_uint("--count", arg, 0, UINT64_C(1) << 32);
		cf->count_given = 1;
		break;
	case OPT_START:
		cf->start = ise_parse_uint("--start", arg, 0, UINT64_C(1) << 32);
		break;
	case OPT_DOMAINS:
		cf->domains = arg;
		break;
	case OPT_TASKS:
		cf->tasks = arg;
		break;
	case OPT_COMPLEXITY:
		cf->complexity = arg;
		break;
	case OPT_CATALOG:
		cf->catalog = arg;
		break;
	case OPT_SPACE:
		cf->space = 1;
		break;
	}
}

/* Read the pool; bad personas are reported and left out. */
static cJSON **read_pool(char **files, size_t nfiles, const struct ise_options *o, size_t *n)
{
	struct ise_reader in;
	struct ise_idset ids;
	cJSON **pool = NULL, *p;
	size_t cap = 0;

	*n = 0;
	ise_idset_init(&ids);
	ise_reader_init(&in, files, nfiles, o->max_line, o->strict ? ISE_READ_STRICT : 0);
	while ((p = ise_reader_next(&in))) {
		const char *why = ise_persona_check(p);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
		if (!why && cJSON_IsString(id) && !ise_idset_add(&ids, id->valuestring))
			why = "persona id appears twice in the pool";
		if (why) {
			ise_reader_error(&in, "%s", why);
			cJSON_Delete(p);
			continue;
		}
		ise_xgrow((void **)&pool, &cap, *n + 1, sizeof *pool);
		pool[(*n)++] = p;
	}
	ise_reader_release(&in);
	ise_idset_release(&ids);
	if (in.stopped || (o->strict && ise_status() != ISE_EXIT_OK))
		exit(ise_status());
	return pool;
}

static void configure(struct ise_sampler *s, const struct config *cf)
{
	const char *why;

	if (cf->domains)
		ise_parse_range("--domains", cf->domains, 1, 64, &s->domains_lo, &s->domains_hi);
	if (cf->tasks)
		ise_parse_range("--tasks", cf->tasks, 1, 64, &s->tasks_lo, &s->tasks_hi);
	if (cf->complexity && (why = ise_sampler_set_complexity(s, cf->complexity)))
		ise_usage_error("invalid value for --complexity: '%s': %s", cf->complexity, why);
	if ((why = ise_sampler_ready(s)))
		ise_usage_error("%s", why);
}

int main(int argc, char **argv)
{
	struct config cf = {0};
	struct ise_options o;
	struct ise_catalog catalog;
	struct ise_sampler s;
	struct ise_writer out;
	struct ise_idset done;
	struct ise_progress progress;

	ise_diag_init(argv[0]);
	ise_cli_parse(&cli, argc, argv, &o, handle, &cf);
	if (cf.personas && o.nfiles)
		ise_usage_error("give the persona pool either with -p or as operands, not both");
	if (!cf.count_given && !cf.space)
		ise_usage_error("-n N is required");
	if (cf.start + cf.count > UINT64_C(1) << 32)
		ise_usage_error("--start plus --count must stay below 2^32");

	ise_catalog_load(&catalog, cf.catalog);
	ise_sampler_init(&s, &catalog, o.seed);
	char *pool_file[] = {(char *)cf.personas};
	s.personas = cf.personas ? read_pool(pool_file, 1, &o, &s.npersonas)
				 : read_pool(o.files, o.nfiles, &o, &s.npersonas);
	configure(&s, &cf);

	if (cf.space) {
		ise_writer_open(&out, o.output, 0);
		cJSON *space = ise_sampler_space(&s);
		ise_writer_put(&out, space);
		cJSON_Delete(space);
		ise_writer_close(&out);
	} else {
		ise_output_open(&o, &out, 0, &done);
		ise_progress_init(&progress, o.progress, cf.count);
		for (uint64_t i = 0; i < cf.count; i++) {
			cJSON *t = ise_sampler_make(&s, cf.start + i);
			if (!ise_idset_has(&done,
					   cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring))
				ise_writer_put(&out, t);
			cJSON_Delete(t);
			ise_progress_update(&progress, i + 1, 0, -1);
		}
		ise_progress_end(&progress, cf.count, 0);
		ise_writer_close(&out);
		ise_idset_release(&done);
	}
	for (size_t i = 0; i < s.npersonas; i++)
		cJSON_Delete(s.personas[i]);
	free(s.personas);
	ise_sampler_release(&s);
	ise_catalog_release(&catalog);
	return ise_status();
}
