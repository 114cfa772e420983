/*
 * cli: the command line every ise program shares.
 *
 * A program describes its own options; ise_cli_parse adds the common ones it
 * asks for (-o, --resume, --strict, --max-line, --seed, --jobs, --unordered,
 * --progress), handles --help and --version, and turns every mistake into a
 * usage error (one line, "Try ... --help", exit 2).  Number parsers here are
 * the only ones programs use, so every option rejects junk the same way.
 */
#ifndef ISE_CLI_H
#define ISE_CLI_H

#include <cJSON.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "llm/llm.h"

enum ise_common_options {
	ISE_OPT_INPUT = 1 << 0,    /* --strict, --max-line */
	ISE_OPT_OUTPUT = 1 << 1,   /* -o, --resume */
	ISE_OPT_SEED = 1 << 2,     /* -s, --seed */
	ISE_OPT_JOBS = 1 << 3,     /* -j, --jobs, --unordered */
	ISE_OPT_PROGRESS = 1 << 4, /* --progress */
	ISE_OPT_LLM = 1 << 5, /* --base-url, --model, sampling, retries, limits, cache, --offline */
	ISE_OPT_NO_STDIN = 1 << 6, /* without operands the program reads no standard input */
	ISE_OPT_NET = 1 << 7,      /* --timeout, --retries, --retry-after-cap, --wait, --rpm alone:
				      a server used for something other than chat (embeddings) */
};

struct ise_cli {
	const char *synopsis;         /* e.g. "[options] [FILE...]" */
	const char *about;            /* one line on what the program does */
	const char *help;             /* the program's own options, one per line */
	const struct option *options; /* its own long options, {0}-terminated */
	const char *shortopts;        /* its own short options */
	int common;                   /* enum ise_common_options */
};

enum ise_offline {
	ISE_OFFLINE_ASKED = 1,       /* --offline */
	ISE_OFFLINE_NO_ENDPOINT = 2, /* nothing configured: programs say so once */
};

struct ise_options {
	const char *output;
	uint64_t seed;
	unsigned jobs;
	int resume, strict, progress, unordered;
	size_t max_line;
	struct ise_llm_config llm; /* from the environment, then the options */
	int offline;               /* enum ise_offline: --offline, or no endpoint */
	char **files;              /* the operands */
	int reads_stdin;           /* an operand is "-", or none and the program reads it */
	size_t nfiles;
};

/* Called for each option that is the program's own; returns nothing, calls
 * ise_usage_error on a bad value. */
typedef void (*ise_option_handler)(int opt, const char *arg, void *ctx);

void ise_cli_parse(const struct ise_cli *cli, int argc, char **argv, struct ise_options *o,
		   ise_option_handler handle, void *ctx);

/* A usage error when an output (path; "-": standard output; NULL: none) is
 * the same regular file as an input (an operand, or standard input when
 * the program reads it): writing would lose the input.  what names the
 * option ("-o", "--rejects").  ise_cli_parse checks -o itself. */
void ise_output_check(const struct ise_options *o, const char *what, const char *path);

/* The reader flags for a program's input: --strict, and repeated ids
 * reported. */
int ise_read_flags(const struct ise_options *o);

/* Say once on stderr that the offline engine runs because no endpoint was
 * configured (nothing when --offline asked for it). */
void ise_cli_note_offline(const struct ise_options *o);

/* Checked conversions; a bad value is a usage error naming the option. */
uint64_t ise_parse_uint(const char *opt, const char *arg, uint64_t min, uint64_t max);
/* "A-B" or "A", with min <= A <= B <= max. */
void ise_parse_range(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *lo,
		     unsigned *hi);
double ise_parse_double(const char *opt, const char *arg, double min, double max);
/* A JSON object of request fields (--extra-body); messages, stream and n
 * are refused.  It lives until the process ends. */
const cJSON *ise_parse_extra_body(const char *opt, const char *arg);
/* The name of a record field (--field and the like): not empty. */
const char *ise_parse_field(const char *opt, const char *arg);
/* A byte count with an optional K, M or G suffix. */
size_t ise_parse_size(const char *opt, const char *arg);

#endif
