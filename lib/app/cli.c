#include "app/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "core/diag.h"
#include "core/jsonl.h"
#include "core/rng.h"

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
	OPT_FIXED_JOBS,
	OPT_PROGRESS,
	OPT_BASE_URL,
	OPT_MODEL,
	OPT_TEMPERATURE,
	OPT_TOP_P,
	OPT_MAX_TOKENS,
	OPT_MAX_TOKENS_FIELD,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_RETRY_AFTER_CAP,
	OPT_RPM,
	OPT_TPM,
	OPT_CACHE,
	OPT_CACHE_MODE,
	OPT_OFFLINE,
	OPT_WAIT,
	OPT_EXTRA_BODY,
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
    {ISE_OPT_LLM,
     {"fixed-jobs", no_argument, NULL, OPT_FIXED_JOBS},
     "      --fixed-jobs    send -j requests at once even while the server is busy"},
    {ISE_OPT_PROGRESS,
     {"progress", no_argument, NULL, OPT_PROGRESS},
     "      --progress      show a progress line on standard error"},
    {ISE_OPT_LLM,
     {"base-url", required_argument, NULL, OPT_BASE_URL},
     "      --base-url=URL  OpenAI-compatible endpoint, with /v1 (env OPENAI_BASE_URL)"},
    {ISE_OPT_LLM,
     {"model", required_argument, NULL, OPT_MODEL},
     "      --model=NAME    model (env ISE_MODEL); the key comes from OPENAI_API_KEY only"},
    {ISE_OPT_LLM,
     {"temperature", required_argument, NULL, OPT_TEMPERATURE},
     "      --temperature=T sampling temperature (default 0.7); none: not sent"},
    {ISE_OPT_LLM,
     {"top-p", required_argument, NULL, OPT_TOP_P},
     "      --top-p=P       nucleus sampling (default 0.95); none: not sent"},
    {ISE_OPT_LLM,
     {"max-tokens", required_argument, NULL, OPT_MAX_TOKENS},
     "      --max-tokens=N  longest reply (default 2048)"},
    {ISE_OPT_LLM,
     {"max-tokens-field", required_argument, NULL, OPT_MAX_TOKENS_FIELD},
     "      --max-tokens-field=NAME  max_tokens (default) or max_completion_tokens"},
    {ISE_OPT_LLM | ISE_OPT_NET,
     {"timeout", required_argument, NULL, OPT_TIMEOUT},
     "      --timeout=S     seconds per request (default 120)"},
    {ISE_OPT_LLM | ISE_OPT_NET,
     {"retries", required_argument, NULL, OPT_RETRIES},
     "      --retries=N     retries of a transient failure (default 4)"},
    {ISE_OPT_LLM | ISE_OPT_NET,
     {"retry-after-cap", required_argument, NULL, OPT_RETRY_AFTER_CAP},
     "      --retry-after-cap=S  longest Retry-After honoured (default 120)"},
    {ISE_OPT_LLM | ISE_OPT_NET,
     {"wait", required_argument, NULL, OPT_WAIT},
     "      --wait=SECS     wait for a server that is starting or busy (default 600)"},
    {ISE_OPT_LLM,
     {"extra-body", required_argument, NULL, OPT_EXTRA_BODY},
     "      --extra-body=JSON  fields added to every chat request, e.g.\n"
     "                      '{\"chat_template_kwargs\":{\"enable_thinking\":false}}'"},
    {ISE_OPT_LLM | ISE_OPT_NET,
     {"rpm", required_argument, NULL, OPT_RPM},
     "      --rpm=N         requests per minute, shared by all jobs"},
    {ISE_OPT_LLM,
     {"tpm", required_argument, NULL, OPT_TPM},
     "      --tpm=N         tokens per minute, shared by all jobs"},
    {ISE_OPT_LLM,
     {"cache", required_argument, NULL, OPT_CACHE},
     "      --cache=DIR     reuse replies stored in DIR (keyed by the request)"},
    {ISE_OPT_LLM,
     {"cache-mode", required_argument, NULL, OPT_CACHE_MODE},
     "      --cache-mode=M  rw (default with --cache), ro (a miss fails), off"},
    {ISE_OPT_LLM,
     {"offline", no_argument, NULL, OPT_OFFLINE},
     "      --offline       use the built-in offline engine even with an endpoint"},
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
	ise_llm_config_from_env(&o->llm, NULL);
	while (cli->options && cli->options[nown].name)
		nown++;
	struct option all[128] = {{0}}; /* not on the heap: help and errors exit from the loop */
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
		case OPT_FIXED_JOBS:
			o->llm.fixed_jobs = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_BASE_URL:
			o->llm.base_url = optarg;
			break;
		case OPT_MODEL:
			o->llm.model = optarg;
			break;
		case OPT_TEMPERATURE:
			o->llm.temperature = strcmp(optarg, "none")
						 ? ise_parse_double("--temperature", optarg, 0, 2)
						 : NAN;
			break;
		case OPT_TOP_P:
			o->llm.top_p = strcmp(optarg, "none")
					   ? ise_parse_double("--top-p", optarg, 0, 1)
					   : NAN;
			break;
		case OPT_WAIT:
			o->llm.wait = ise_parse_double("--wait", optarg, 0, 7 * 86400);
			break;
		case OPT_EXTRA_BODY:
			o->llm.extra_body = ise_parse_extra_body("--extra-body", optarg);
			break;
		case OPT_MAX_TOKENS:
			o->llm.max_tokens =
			    (long)ise_parse_uint("--max-tokens", optarg, 1, 1 << 24);
			break;
		case OPT_MAX_TOKENS_FIELD:
			if (strcmp(optarg, "max_tokens") && strcmp(optarg, "max_completion_tokens"))
				ise_usage_error(
				    "invalid value for --max-tokens-field: '%s' (max_tokens or "
				    "max_completion_tokens)",
				    optarg);
			o->llm.max_tokens_field = optarg;
			break;
		case OPT_TIMEOUT:
			o->llm.timeout = ise_parse_double("--timeout", optarg, 0.001, 86400);
			break;
		case OPT_RETRIES:
			o->llm.retries = (int)ise_parse_uint("--retries", optarg, 0, 100);
			break;
		case OPT_RETRY_AFTER_CAP:
			o->llm.retry_after_cap =
			    ise_parse_double("--retry-after-cap", optarg, 0, 86400);
			break;
		case OPT_RPM:
			o->llm.rpm = ise_parse_double("--rpm", optarg, 0, 1e9);
			break;
		case OPT_TPM:
			o->llm.tpm = ise_parse_double("--tpm", optarg, 0, 1e12);
			break;
		case OPT_CACHE:
			o->llm.cache_dir = optarg;
			if (o->llm.cache_mode == ISE_CACHE_OFF)
				o->llm.cache_mode = ISE_CACHE_RW;
			break;
		case OPT_CACHE_MODE:
			if (!strcmp(optarg, "rw"))
				o->llm.cache_mode = ISE_CACHE_RW;
			else if (!strcmp(optarg, "ro"))
				o->llm.cache_mode = ISE_CACHE_RO;
			else if (!strcmp(optarg, "off"))
				o->llm.cache_mode = ISE_CACHE_OFF;
			else
				ise_usage_error(
				    "invalid value for --cache-mode: '%s' (rw, ro or off)", optarg);
			break;
		case OPT_OFFLINE:
			o->offline = ISE_OFFLINE_ASKED;
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
	if (o->llm.cache_mode != ISE_CACHE_OFF && !o->llm.cache_dir)
		ise_usage_error("--cache-mode needs --cache=DIR");
	if (cli->common & ISE_OPT_LLM)
		o->llm.jobs = o->jobs; /* the most requests in flight, lowered when busy */
	if (!o->offline && !o->llm.base_url && o->llm.cache_mode != ISE_CACHE_RO)
		o->offline = ISE_OFFLINE_NO_ENDPOINT; /* a ro cache can replay without one */
	o->files = argv + optind;
	o->nfiles = (size_t)(argc - optind);
	o->reads_stdin = !o->nfiles && !(cli->common & ISE_OPT_NO_STDIN);
	for (size_t i = 0; i < o->nfiles; i++)
		o->reads_stdin |= !strcmp(o->files[i], "-");
	if (cli->common & ISE_OPT_OUTPUT)
		ise_output_check(o, "-o", o->output ? o->output : "-");
}

/* fd or path (when fd < 0) as a regular file's identity; 0 when it is none. */
static int regular_file(int fd, const char *path, struct stat *st)
{
	int rc = fd >= 0 ? fstat(fd, st) : stat(path, st);
	return !rc && S_ISREG(st->st_mode);
}

void ise_output_check(const struct ise_options *o, const char *what, const char *path)
{
	struct stat out, in;
	int to_stdout = path && !strcmp(path, "-");

	if (!path || !regular_file(to_stdout ? STDOUT_FILENO : -1, path, &out))
		return;
	const char *name = to_stdout ? "standard output" : path;
	if (o->reads_stdin && regular_file(STDIN_FILENO, NULL, &in) && in.st_dev == out.st_dev &&
	    in.st_ino == out.st_ino)
		ise_usage_error("%s: %s is also the input (standard input): it would be lost; "
				"write elsewhere, then rename",
				what, name);
	for (size_t i = 0; i < o->nfiles; i++)
		if (strcmp(o->files[i], "-") && regular_file(-1, o->files[i], &in) &&
		    in.st_dev == out.st_dev && in.st_ino == out.st_ino)
			ise_usage_error("%s: %s is also the input '%s': it would be lost; write "
					"elsewhere, then rename",
					what, name, o->files[i]);
}

int ise_read_flags(const struct ise_options *o)
{
	return ISE_READ_IDS | (o->strict ? ISE_READ_STRICT : 0);
}

void ise_cli_note_offline(const struct ise_options *o)
{
	if (o->offline == ISE_OFFLINE_NO_ENDPOINT)
		ise_warn("no endpoint configured (OPENAI_BASE_URL or --base-url): offline engine");
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

double ise_parse_double(const char *opt, const char *arg, double min, double max)
{
	char *end;

	errno = 0;
	double v = strtod(arg, &end);
	if (!*arg || errno || *end || !(v >= min && v <= max))
		ise_usage_error("invalid value for %s: '%s' (a number from %g to %g)", opt, arg,
				min, max);
	return v;
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

const cJSON *ise_parse_extra_body(const char *opt, const char *arg)
{
	static const char *const reserved[] = {"messages", "stream", "n"};
	/* every body parsed, so they stay reachable until the process ends */
	static cJSON *kept;
	cJSON *j = cJSON_Parse(arg);

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		ise_usage_error("invalid value for %s: '%s' (a JSON object)", opt, arg);
	}
	for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
		if (cJSON_GetObjectItemCaseSensitive(j, reserved[i])) {
			cJSON_Delete(j);
			ise_usage_error("%s: '%s' is ise's to set", opt, reserved[i]);
		}
	if (!kept && !(kept = cJSON_CreateArray()))
		ise_fatal("out of memory");
	cJSON_AddItemToArray(kept, j);
	return j;
}

const char *ise_parse_field(const char *opt, const char *arg)
{
	if (!*arg)
		ise_usage_error("%s is empty", opt);
	return arg;
}
