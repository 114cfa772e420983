/*
 * embed_opts: the command-line options ise-dedup and ise-vendi share for
 * their embedder (diversity/embed.h): put ISE_EMBED_OPTIONS in the
 * program's struct option table, ISE_EMBED_HELP in its help after its own
 * --embedding-field and --embed-url lines, pass every option to
 * ise_embed_option first (1: it was one of these; --embed-cache's DIR goes
 * to *cache), call ise_embed_check_options once they are read, and make the
 * embedder with ise_embed_start.
 */
#ifndef ISE_EMBED_OPTS_H
#define ISE_EMBED_OPTS_H

#include <getopt.h>

#include "app/cli.h"
#include "diversity/embed.h"

enum {
	ISE_EMBOPT_FIELD = 0x500,
	ISE_EMBOPT_URL,
	ISE_EMBOPT_MODEL,
	ISE_EMBOPT_CACHE,
	ISE_EMBOPT_DIM,
	ISE_EMBOPT_NPY,
	ISE_EMBOPT_SAVE,
};

#define ISE_EMBED_OPTIONS                                                                          \
	{"embedding-field", required_argument, NULL, ISE_EMBOPT_FIELD},                            \
	    {"embed-url", required_argument, NULL, ISE_EMBOPT_URL},                                \
	    {"embed-model", required_argument, NULL, ISE_EMBOPT_MODEL},                            \
	    {"embed-cache", required_argument, NULL, ISE_EMBOPT_CACHE},                            \
	    {"dim", required_argument, NULL, ISE_EMBOPT_DIM},                                      \
	    {"embeddings", required_argument, NULL, ISE_EMBOPT_NPY},                               \
	{                                                                                          \
		"save-embeddings", required_argument, NULL, ISE_EMBOPT_SAVE                        \
	}
#define ISE_EMBED_HELP                                                                             \
	"      --embed-model=M model for --embed-url (env ISE_EMBED_MODEL)\n"                      \
	"      --embed-cache=DIR  reuse embeddings stored in DIR\n"                                \
	"      --dim=N         dimension of the built-in hashed embedder (default 768)\n"          \
	"      --embeddings=FILE  vectors from a .npy file (float32 or float64, one row\n"         \
	"                      per record, in input order)\n"                                      \
	"      --save-embeddings=FILE  also write the vectors to FILE as .npy (float64)\n"

int ise_embed_option(int opt, const char *arg, struct ise_embed_config *c, const char **cache);
/* Usage errors for options that need another (--embed-model and
 * --embed-cache need --embed-url) or exclude one (--dim and a source, two
 * sources), and for a --save-embeddings file that is an input or the
 * output; a cache becomes o's read-write LLM cache. */
void ise_embed_check_options(const struct ise_embed_config *c, const char *cache,
			     struct ise_options *o);
/* The embedder the options chose, its files open: a bad combination is a
 * usage error, an --embeddings file that cannot be used or a
 * --save-embeddings file that cannot be made is fatal. */
struct ise_embedder *ise_embed_start(const struct ise_embed_config *c, const struct ise_options *o);

#endif
