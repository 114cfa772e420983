#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "diag.h"
#include "jsonl.h"
#include "rng.h"

enum {
	OPT_HELP = 'h',
	OPT_OUTPUT = 'o',
	OPT_SEED = 's',
	OPT_JOBS = 'j',
	OPT_VERSION = 0x100,
	OPT_RESUME,
	OPT_STRICT,
	OPT_MAX_LINE,
	OPT_UNORDERED,
	OPT_PROGRESS,
};

struct common_option {
	int flag; /* enum ise_common_options, 0 = always */
	struct option opt;
	const char *help;
};

static const struct common_option common[] = {
    {ISE_OPT_OUTPUT,
     {"output", required_argument, NULL, OPT_OUTPUT},
     "  -o, --output=FILE   write to FILE instead of standard output"},
    {ISE_OPT_OUTPUT,
     {"resume", no_argument, NULL, OPT_RESUME},
     "      --resume        keep the records already in FILE, skip their ids, append"},
    {ISE_OPT_INPUT,
     {"strict", no_argument, NULL, OPT_STRICT},
     "      --strict        stop at the first bad input record"},
    {ISE_OPT_INPUT,
     {"max-line", required_argument, NULL, OPT_MAX_LINE},
     "      --max-line=SIZE longest input line accepted (default 64M)"},
    {ISE_OPT_SEED,
     {"seed", required_argument, NULL, OPT_SEED},
     "  -s, --seed=N        seed of every random choice (default 1)"},
    {ISE_OPT_JOBS,
     {"jobs", required_argument, NULL, OPT_JOBS},
     "  -j, --jobs=N        records worked on at once (default 1)"},
    {ISE_OPT_JOBS,
     {"unordered", no_argument, NULL, OPT_UNORDERED},
     "      --unordered     write records as they finish, not in input order"},
    {ISE_OPT_PROGRESS,
     {"progress", no_argument, NULL, OPT_PROGRESS},
     "      --progress      show a progress line on standard error"},
    {0, {"help", no_argument, NULL, OPT_HELP}, "  -h, --help          show this help and exit"},
    {0,
     {"version", no_argument, NULL, OPT_VERSION},
     "      --version       show the version and exit"},
};

#define NCOMMON (sizeof common / sizeof common[0])

static void help(const struct ise_cli *cli)
{
	printf("usage: %s %s\n%s\n\n%s", ise_progname(), cli->synopsis, cli->about,
	       cli->help ? cli->help : "");
	for (size_t i = 0; i < NCOMMON; i++)
		if (!common[i].flag || (cli->common & common[i].flag))
			printf("%s\n", common[i].help);
	printf("\nSee %s(1) and ise(7).\n", ise_progname());
}

void ise_cli_parse(const struct ise_cli *cli, int argc, char **argv, struct ise_options *o,
		   ise_option_handler handle, void *ctx)
{
	size_t nown = 0, n = 0, ns = 1;
	char shortopts[128] = ":";

	/* GSL's default handler aborts; every caller checks return codes instead */
	gsl_set_error_handler_off();
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->jobs = 1;
	o->max_line = ISE_MAX_LINE_DEFAULT;
	while (cli->options && cli->options[nown].name)
		nown++;
	struct option all[64] = {{0}}; /* not on the heap: help and errors exit from the loop */
	if (nown + NCOMMON >= sizeof all / sizeof *all)
		ise_fatal("too many options");
	memcpy(all, cli->options, nown * sizeof *all);
	n = nown;
	for (const char *p = cli->shortopts; p && *p && ns < 100; p++)
		shortopts[ns++] = *p;
	for (size_t i = 0; i < NCOMMON; i++) {
		if (common[i].flag && !(cli->common & common[i].flag))
			continue;
		all[n++] = common[i].opt;
		int c = common[i].opt.val;
		if (c < 0x100) {
			shortopts[ns++] = (char)c;
			if (common[i].opt.has_arg)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	opterr = 0;
	int c, index;
	while ((c = getopt_long(argc, argv, shortopts, all, &index)) != -1) {
		switch (c) {
		case OPT_HELP:
			help(cli);
			if (fflush(stdout) || ferror(stdout))
				ise_fatal("write error on standard output");
			exit(ISE_EXIT_OK);
		case OPT_VERSION:
			printf("%s (ise) %s\n", ise_progname(), ISE_VERSION);
			if (fflush(stdout) || ferror(stdout))
				ise_fatal("write error on standard output");
			exit(ISE_EXIT_OK);
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_RESUME:
			o->resume = 1;
			break;
		case OPT_STRICT:
			o->strict = 1;
			break;
		case OPT_MAX_LINE:
			o->max_line = ise_parse_size("--max-line", optarg);
			break;
		case OPT_SEED:
			if (ise_parse_seed(optarg, &o->seed))
				ise_usage_error("invalid value for --seed: '%s' (an integer, "
						"decimal or 0x hex)",
						optarg);
			break;
		case OPT_JOBS:
			o->jobs = (unsigned)ise_parse_uint("--jobs", optarg, 1, 1024);
			break;
		case OPT_UNORDERED:
			o->unordered = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case ':':
			ise_usage_error("option '%s' needs a value", argv[optind - 1]);
		case '?':
			if (optopt)
				ise_usage_error("unknown option '-%c'", optopt);
			ise_usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			handle(c, optarg, ctx);
		}
	}
	if (o->resume && (!o->output || !strcmp(o->output, "-")))
		ise_usage_error("--resume needs --output=FILE");
	o->files = argv + optind;
	o->nfiles = (size_t)(argc - optind);
}

uint64_t ise_parse_uint(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!*arg || *arg == '-' || *arg == '+' || *arg == ' ' || errno || *end || v < min ||
	    v > max)
		ise_usage_error("invalid value for %s: '%s' (an integer from %llu to %llu)", opt,
				arg, (unsigned long long)min, (unsigned long long)max);
	return v;
}

void ise_parse_range(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *lo,
		     unsigned *hi)
{
	const char *dash = strchr(arg, '-');
	char first[32];

	if (!dash) {
		*lo = *hi = (unsigned)ise_parse_uint(opt, arg, min, max);
		return;
	}
	if ((size_t)(dash - arg) >= sizeof first)
		ise_usage_error("invalid range for %s: '%s'", opt, arg);
	memcpy(first, arg, (size_t)(dash - arg));
	first[dash - arg] = '\0';
	*lo = (unsigned)ise_parse_uint(opt, first, min, max);
	*hi = (unsigned)ise_parse_uint(opt, dash + 1, min, max);
	if (*lo > *hi)
		ise_usage_error("invalid range for %s: '%s' (low end above high end)", opt, arg);
}

size_t ise_parse_size(const char *opt, const char *arg)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (!*arg || *arg == '-' || errno || *end || !v || v > (SIZE_MAX >> 1 >> shift))
		ise_usage_error("invalid value for %s: '%s' (a size such as 65536, 64K or 64M)",
				opt, arg);
	return (size_t)(v << shift);
}
